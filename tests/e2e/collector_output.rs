//! The collector's output contract: fixtures in the shapes Windows PowerShell 5.1 and
//! PowerShell 7 write (`tests/fixtures/collector/`, see its README). Each sample scenario's
//! output gives the same verdict as the sample's loose files, and the machine evidence the
//! collector adds (hardware, TPM, WinHTTP proxy, probes, clock, AAD / device registration
//! events, TenantInfo, CCM) arrives as facts.

use std::path::{Path, PathBuf};

use enroll_doctor::device::load_path;
use enroll_doctor::device::report::{DeviceReport, RegData};
use serde_json::Value;

use super::common::bin;

const AS_OF: &str = "2026-11-26";
const SAMPLES: [&str; 5] = [
    "hybrid-enrolled",
    "failed-8018002b",
    "never-triggered",
    "not-hybrid-joined",
    "stale-enrollment",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/collector").join(name)
}

fn verdicts(path: &Path) -> Vec<(String, String)> {
    let out = bin()
        .args(["diagnose", "-d"])
        .arg(path)
        .args(["--as-of", AS_OF, "--format", "json", "--offline"])
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .output()
        .expect("enroll-doctor runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["diagnoses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["verdict"].as_str().unwrap_or("").to_string(),
                d["path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn load(name: &str) -> DeviceReport {
    let mut reports = load_path(&fixture(name)).expect("fixture loads");
    assert_eq!(reports.len(), 1, "{name}: one device");
    reports.remove(0)
}

/// Every input of the fixture was understood (apart from the notes the fixture carries).
fn assert_clean(name: &str, r: &DeviceReport) {
    for i in &r.inputs {
        let problem = i.problem.as_deref().unwrap_or("");
        assert!(
            problem.is_empty() || problem == "scheduled tasks: not collected in this sample",
            "{name}: {problem}"
        );
        assert!(i.records > 0, "{name}: nothing read");
    }
}

#[test]
fn sample_outputs_round_trip_with_the_loose_files_verdict() {
    for s in SAMPLES {
        let loose = verdicts(&root().join("mocks/devices").join(s));
        let bundle = verdicts(&fixture(&format!("samples/{s}.json")));
        assert!(!loose.is_empty(), "{s}: no diagnosis");
        assert_eq!(bundle, loose, "{s}: collector output vs loose files");
        let r = load(&format!("samples/{s}.json"));
        assert_clean(s, &r);
        // Collector 2's explicit CurrentVersion values still give the OS facts.
        if s != "not-hybrid-joined" {
            assert!(
                r.os.as_ref().and_then(|o| o.build).is_some(),
                "{s}: no OS build"
            );
        }
    }
}

#[test]
fn ps51_shapes_are_read() {
    // hybrid-enrolled is written as 5.1 does: BOM, CRLF, \/Date(ms)\/, one-item arrays bare.
    let bytes = std::fs::read(fixture("samples/hybrid-enrolled.json")).expect("fixture");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("\\/Date("));
    assert!(
        text.contains("\"keys\":  {"),
        "a one-key snapshot is a bare object"
    );
    assert!(
        text.contains("\"tasks\":  {"),
        "a one-task list is a bare object"
    );
    let r = load("samples/hybrid-enrolled.json");
    assert!(
        r.events
            .iter()
            .any(|e| e.event_id == 75 && e.time.is_some())
    );
    let tasks = r.scheduled_tasks.as_ref().expect("tasks");
    assert_eq!(tasks.len(), 1);
    let reg = r.registry.as_ref().expect("registry");
    let mdm = reg
        .key(r"HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\MDM")
        .expect("MDM key");
    assert_eq!(
        mdm.value("AutoEnrollMDM").map(|v| v.data.clone()),
        Some(RegData::Dword(1))
    );
}

#[test]
fn machine_facts_are_parsed() {
    let r = load("samples/hybrid-enrolled.json");
    let hw = r.hardware.as_ref().expect("hardware");
    assert_eq!(hw.serial_number.as_deref(), Some("7XK2QH3"));
    assert_eq!(hw.manufacturer.as_deref(), Some("Dell Inc."));
    let tpm = r.tpm.as_ref().expect("tpm");
    assert_eq!(tpm.major_version(), Some("2.0"));
    assert_eq!((tpm.ready, tpm.attestation_ready), (Some(true), Some(true)));
    let net = r.network.as_ref().expect("network");
    assert!(net.winhttp_proxy.as_ref().expect("winhttp").direct);
    assert_eq!(net.probes.len(), 4);
    assert!(net.probes.iter().all(|p| p.tls == Some(true)));
    let clock = r.clock.as_ref().expect("clock");
    assert_eq!(clock.source.as_deref(), Some("DC01.corp.contoso.com"));
    // 9:05:12 AM at UTC+1.
    assert_eq!(
        clock.last_sync.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-26T08:05:12+00:00")
    );
}

#[test]
fn tls_inspection_issuer_is_kept() {
    let r = load("tls-inspection.json");
    assert_clean("tls-inspection", &r);
    let net = r.network.expect("network");
    assert!(net.probes.iter().all(|p| {
        p.certificate_issuer
            .as_deref()
            .is_some_and(|i| i.contains("Contoso TLS Inspection CA"))
    }));
}

#[test]
fn winhttp_proxy_and_machine_proxy() {
    let r = load("winhttp-proxy.json");
    assert_clean("winhttp-proxy", &r);
    let net = r.network.expect("network");
    let w = net.winhttp_proxy.expect("winhttp");
    assert!(!w.direct);
    assert_eq!(
        w.proxy_server.as_deref(),
        Some("proxy.corp.contoso.com:8080")
    );
    assert_eq!(w.bypass_list.as_deref(), Some("*.corp.contoso.com;<local>"));
    let m = net.machine_proxy.expect("machine proxy");
    assert_eq!(m.per_user, Some(false));
    assert_eq!(
        m.proxy_server.as_deref(),
        Some("proxy.corp.contoso.com:8080")
    );
    assert!(
        net.probes
            .iter()
            .all(|p| p.via_proxy.as_deref() == Some("http://proxy.corp.contoso.com:8080"))
    );
}

#[test]
fn unreachable_endpoints_are_classified() {
    let r = load("unreachable-endpoint.json");
    assert_clean("unreachable-endpoint", &r);
    let net = r.network.expect("network");
    let enroll = &net.probes[0];
    assert_eq!(enroll.role.as_deref(), Some("enrollment"));
    assert_eq!(
        (enroll.dns, enroll.tcp, enroll.http_status),
        (Some(true), Some(false), None)
    );
    assert_eq!(enroll.error_status.as_deref(), Some("ConnectFailure"));
    let reg = &net.probes[1];
    assert_eq!(reg.dns, Some(false));
}

#[test]
fn clock_skew_and_unsynced_clock() {
    let r = load("clock-skew.json");
    assert_clean("clock-skew", &r);
    let clock = r.clock.expect("clock");
    assert_eq!(clock.source.as_deref(), Some("Local CMOS Clock"));
    assert_eq!(clock.leap_indicator, Some(3));
    assert_eq!(clock.last_sync, None);
    assert_eq!(clock.last_sync_text.as_deref(), Some("unspecified"));
    let p = &r.network.expect("network").probes[0];
    let skew = p.local_time.expect("local") - p.server_date.expect("server date");
    assert_eq!(skew.num_minutes(), 17);
}

#[test]
fn aad_and_device_registration_events() {
    let r = load("aad-prt-udr-failures.json");
    assert_clean("aad-prt-udr-failures", &r);
    let aad: Vec<u32> = r
        .events
        .iter()
        .filter(|e| e.is_aad())
        .map(|e| e.event_id)
        .collect();
    assert_eq!(aad, vec![1098, 1104], "oldest first");
    assert!(
        r.events
            .iter()
            .filter(|e| e.is_aad())
            .all(|e| e.data.first().is_some_and(|d| d.value.starts_with("0xCAA")))
    );
    let udr: Vec<u32> = r
        .events
        .iter()
        .filter(|e| e.is_device_registration())
        .map(|e| e.event_id)
        .collect();
    assert_eq!(udr, vec![304, 305]);
    assert!(
        r.event_logs
            .iter()
            .any(|l| l.name == "Microsoft-Windows-AAD/Operational" && l.record_count == Some(2))
    );
}

#[test]
fn tenant_info_of_another_tenant() {
    let r = load("tenantinfo-other-tenant.json");
    assert_clean("tenantinfo-other-tenant", &r);
    let reg = r.registry.expect("registry");
    let tenants: Vec<&str> = reg
        .subkeys(r"HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\TenantInfo")
        .map(|k| k.leaf())
        .collect();
    assert_eq!(tenants, vec!["0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a"]);
    let cdj = reg
        .key(r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\CDJ\AAD")
        .expect("CDJ\\AAD");
    assert_eq!(
        cdj.value("TenantId").map(|v| v.data.as_text()).as_deref(),
        Some("5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13")
    );
}

#[test]
fn ccm_with_and_without_comanagement_flags() {
    let set = load("comanagement-flags-set.json");
    assert_clean("comanagement-flags-set", &set);
    let ccm = set
        .registry
        .as_ref()
        .and_then(|r| r.key(r"HKLM\SOFTWARE\Microsoft\CCM").cloned())
        .expect("CCM key");
    assert_eq!(
        ccm.value("CoManagementFlags").map(|v| v.data.clone()),
        Some(RegData::Dword(8193))
    );
    let without = load("ccm-without-comanagement-flags.json");
    let reg = without.registry.expect("registry");
    let ccm = reg
        .key(r"HKLM\SOFTWARE\Microsoft\CCM")
        .expect("CCM key exists");
    assert!(ccm.value("CoManagementFlags").is_none());
    // Looked for and absent elsewhere: covered, no key.
    assert!(reg.covers(r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot"));
    assert!(
        reg.key(r"HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot")
            .is_none()
    );
}

#[test]
fn loose_proxy_and_clock_files_in_a_device_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = root().join("mocks/devices/hybrid-enrolled");
    for e in std::fs::read_dir(&src).expect("sample") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, dir.path().join(p.file_name().expect("name"))).expect("copy");
    }
    // As `netsh winhttp show proxy > proxy.txt` writes it in Windows PowerShell: UTF-16LE, CRLF.
    let netsh = "\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Proxy Server(s) :  10.0.0.5:3128\r\n    Bypass List     :  (none)\r\n\r\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(netsh.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(dir.path().join("proxy.txt"), utf16).expect("write");
    std::fs::write(
        dir.path().join("w32tm.txt"),
        "Leap Indicator: 0(no warning)\r\nStratum: 3 (secondary reference - syncd by (S)NTP)\r\nLast Successful Sync Time: 11/26/2026 9:05:12 AM\r\nSource: time.windows.com,0x9\r\n",
    )
    .expect("write");
    let r = load_path(dir.path()).expect("folder").remove(0);
    let w = r.network.and_then(|n| n.winhttp_proxy).expect("proxy read");
    assert_eq!(w.proxy_server.as_deref(), Some("10.0.0.5:3128"));
    let c = r.clock.expect("clock read");
    assert_eq!(c.source.as_deref(), Some("time.windows.com,0x9"));
    // No UTC offset in a loose file: the time stays text.
    assert_eq!(c.last_sync, None);
    assert_eq!(c.last_sync_text.as_deref(), Some("11/26/2026 9:05:12 AM"));
    for n in ["proxy.txt", "w32tm.txt"] {
        let i = r.inputs.iter().find(|i| i.name == n).expect("input");
        assert_eq!((i.records, i.problem.as_deref()), (1, None), "{n}");
    }
}
