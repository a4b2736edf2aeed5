//! `diagnose` with a tenant: the shared sample devices against the contoso mock (over HTTP),
//! and correlation edge cases against a snapshot fixture.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mock_graph::{BlockingMockGraph, MockConfig, MockGraph};
use serde_json::Value;

use super::common::bin;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices")
}

fn snapshot_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/correlate/contoso-snapshot.json")
}

fn mock() -> BlockingMockGraph {
    MockGraph::spawn_blocking(MockConfig::fixture("contoso"))
        .unwrap_or_else(|e| panic!("mock Graph did not start: {e}"))
}

enum Auth {
    App(&'static str),
    Delegated(&'static str),
}

fn clean_cmd() -> assert_cmd::Command {
    let mut cmd = bin();
    cmd.env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("ENROLL_DOCTOR_ACCESS_TOKEN")
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .env(
            "ENROLL_DOCTOR_TOKEN_CACHE",
            std::env::temp_dir().join("enroll-doctor-e2e-correlate-no-cache"),
        )
        .timeout(Duration::from_secs(120));
    cmd
}

fn json(out: std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `diagnose -f json` of `devices` against the mock.
fn diagnose_mock(m: &BlockingMockGraph, auth: Auth, devices: &[&Path], extra: &[&str]) -> Value {
    diagnose_mock_env(m, auth, devices, extra, &[])
}

fn diagnose_mock_env(
    m: &BlockingMockGraph,
    auth: Auth,
    devices: &[&Path],
    extra: &[&str],
    env: &[(&str, &str)],
) -> Value {
    let base = m.base_url();
    let mut cmd = clean_cmd();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(["diagnose", "-f", "json", "--as-of", "2026-11-26T12:00:00Z"]);
    for d in devices {
        cmd.arg("--device-report").arg(d);
    }
    cmd.args(extra).args([
        "--cloud",
        "custom",
        "--graph-url",
        &base,
        "--login-url",
        &base,
        "--tenant",
        &m.tenant_id(),
    ]);
    match auth {
        Auth::App(name) => {
            let app = m.app(name).unwrap_or_else(|| panic!("no app {name}"));
            cmd.args(["--client-id", &app.client_id, "--auth", "client-secret"])
                .env("AZURE_CLIENT_SECRET", &app.client_secret);
        }
        Auth::Delegated(name) => {
            let token = m.token_for(name).unwrap_or_else(|| panic!("no app {name}"));
            cmd.args(["--auth", "access-token"])
                .env("ENROLL_DOCTOR_ACCESS_TOKEN", token);
        }
    }
    json(cmd.output().expect("run diagnose"))
}

fn diagnose_snapshot(devices: &[&Path], extra: &[&str]) -> Value {
    let mut cmd = clean_cmd();
    cmd.args([
        "diagnose",
        "-f",
        "json",
        "--as-of",
        "2026-11-26T12:00:00Z",
        "--snapshot",
    ])
    .arg(snapshot_fixture());
    for d in devices {
        cmd.arg("--device-report").arg(d);
    }
    cmd.args(extra);
    json(cmd.output().expect("run diagnose"))
}

fn diagnosis<'a>(r: &'a Value, device: &str) -> &'a Value {
    r["diagnoses"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["device"] == device))
        .unwrap_or_else(|| panic!("no diagnosis for {device} in {r}"))
}

fn first_cause(d: &Value) -> &str {
    d["causes"]
        .as_array()
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn finding<'a>(r: &'a Value, check: &str, subject: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|f| f["check"] == check && f["subject"]["id"] == subject)
        })
        .unwrap_or_else(|| panic!("no {check} for {subject}"))
}

fn evidence(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| format!("{} | {} | {}", e["source"], e["detail"], e["location"]))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// A device scenario of tests/fixtures/correlate (a sample with a few values changed).
fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/correlate")
        .join(name)
}

#[test]
fn shared_samples_get_their_expected_root_causes_from_the_mock_tenant() {
    let m = mock();
    let names = [
        "hybrid-enrolled",
        "failed-8018002b",
        "never-triggered",
        "stale-enrollment",
        "not-hybrid-joined",
        "demo-blocked-restriction",
    ];
    let dirs: Vec<PathBuf> = names.iter().map(|n| samples().join(n)).collect();
    let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let r = diagnose_mock(&m, Auth::App("auditor"), &refs, &[]);

    let enrolled = diagnosis(&r, "PC0042.corp.contoso.com");
    assert_eq!(enrolled["verdict"], "enrolled");
    assert_eq!(
        finding(&r, "COR004", "PC0042.corp.contoso.com")["status"],
        "pass"
    );
    let never = diagnosis(&r, "PC0103.corp.contoso.com");
    assert_eq!(first_cause(never), "DEV005", "{never}");
    assert_eq!(
        finding(&r, "COR002", "PC0103.corp.contoso.com")["status"],
        "pass"
    );
    let stale = diagnosis(&r, "PC0117.corp.contoso.com");
    assert_eq!(first_cause(stale), "DEV009", "{stale}");
    let not_joined = diagnosis(&r, "PC0150.corp.contoso.com");
    assert_eq!(first_cause(not_joined), "DEV001", "{not_joined}");
    let cor002 = finding(&r, "COR002", "PC0150.corp.contoso.com");
    assert_eq!(cor002["status"], "fail", "no device record: {cor002}");
    // App-only: the scope is unreadable, the other causes of 0x8018002B are ruled out by the
    // tenant facts, and Intune's own event agrees.
    let out_of_scope = diagnosis(&r, "PC0077.corp.contoso.com");
    assert_eq!(out_of_scope["verdict"], "failed");
    assert_eq!(first_cause(out_of_scope), "COR005", "{out_of_scope}");
    let cor005 = finding(&r, "COR005", "PC0077.corp.contoso.com");
    assert!(
        cor005["summary"]
            .as_str()
            .is_some_and(|s| s.contains("outside the MDM user scope")),
        "{cor005}"
    );
    assert!(
        evidence(cor005).contains("UPN suffix ruled out by USR008"),
        "{cor005}"
    );
    assert_eq!(
        finding(&r, "COR007", "PC0077.corp.contoso.com")["status"],
        "fail"
    );
    let blocked = diagnosis(&r, "PC0200.corp.contoso.com");
    assert_eq!(blocked["verdict"], "failed");
    assert_eq!(first_cause(blocked), "USR005", "{blocked}");
    let usr005 = evidence(finding(&r, "USR005", "tlee@contoso.com"));
    assert!(
        usr005.contains("Pilot Windows block") && usr005.contains("event 76"),
        "{usr005}"
    );
    // Tenant facts collected once: one diagnosis per device plus a summary note, and every
    // per-user and per-device lookup rode in a `$batch` (no request per device).
    assert_eq!(r["diagnoses"].as_array().map(Vec::len), Some(names.len()));
    let direct_device_lookups: Vec<String> = m
        .requests()
        .into_iter()
        .filter(|q| !q.in_batch)
        .map(|q| q.path_and_query)
        .filter(|p| {
            p.contains("/devices?") || p.contains("managedDevices?") || p.contains("/users/")
        })
        .collect();
    assert!(
        direct_device_lookups.is_empty(),
        "{direct_device_lookups:?}"
    );
    let stats = m.stats();
    assert!(stats.token_requests <= 2, "{stats:?}");
    assert!(stats.requests <= 16, "{stats:?}");
    let notes = r["notes"].to_string();
    assert!(notes.contains("6 devices"), "{notes}");
    assert!(notes.contains("app-only"), "{notes}");
}

/// Evidence locations that name the Graph request a fact came from: they differ by strategy
/// (`$batch` lookups versus one listing) while the facts do not.
fn without_request_locations(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(loc)) = o.get("location")
                    && (loc.contains("($batch)") || loc.contains("(listed once"))
                {
                    o.insert("location".into(), Value::String("<graph request>".into()));
                }
                o.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// The contoso fixture with the records a bulk match could lose: mgarcia's second laptop,
/// whose Intune record still carries her UPN from before a rename (matched only by her user
/// id), and a record of jdoe's with his UPN in other case and a device id in upper case.
fn contoso_with_renamed_records(dir: &Path) -> BlockingMockGraph {
    let from = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/tenants/contoso");
    for f in std::fs::read_dir(&from).into_iter().flatten().flatten() {
        std::fs::copy(f.path(), dir.join(f.file_name())).unwrap_or_else(|e| panic!("{e}"));
    }
    let path = dir.join("managedDevices.json");
    let mut list: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    let template = list[0].clone();
    let mut renamed = template.clone();
    for (k, v) in [
        ("id", "c4f8e2b0-6d3a-4e9f-8b7c-1a2b3c4d5e6f"),
        ("userId", "2a7d4e19-8c3b-4f56-b0e1-6d9a2c5f8e02"),
        ("deviceName", "PC0911"),
        ("userPrincipalName", "maria.garcia@contoso.com"),
        ("emailAddress", "maria.garcia@contoso.com"),
        ("azureADDeviceId", "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"),
        (
            "azureActiveDirectoryDeviceId",
            "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
        ),
        ("serialNumber", "5CG3911ABC"),
    ] {
        renamed[k] = Value::String(v.into());
    }
    let mut cased = template;
    for (k, v) in [
        ("id", "d5a9f3c1-7e4b-4fa0-9c8d-2b3c4d5e6f70"),
        ("deviceName", "PC0912"),
        ("userPrincipalName", "JDoe@Contoso.COM"),
        ("azureADDeviceId", "7B6C5D4E-3F2A-4B1C-8D9E-0F1A2B3C4D5E"),
        ("serialNumber", "5CG3912ABC"),
    ] {
        cased[k] = Value::String(v.into());
    }
    list.extend([renamed, cased]);
    std::fs::write(&path, Value::Array(list).to_string()).unwrap_or_else(|e| panic!("{e}"));
    MockGraph::spawn_blocking(MockConfig::dir(dir))
        .unwrap_or_else(|e| panic!("mock Graph did not start: {e}"))
}

/// A fleet read with per-device `$batch` lookups and the same fleet read with bulk listings
/// (forced through the internal threshold) get the same findings and diagnoses: against the
/// contoso fixture, and against one with Intune records a match by UPN alone would drop.
#[test]
fn targeted_and_bulk_fleet_collection_find_the_same() {
    let edited = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    for (tenant, m) in [
        ("contoso", mock()),
        ("renamed", contoso_with_renamed_records(edited.path())),
    ] {
        same_by_strategy(tenant, &m);
    }
}

fn same_by_strategy(tenant: &str, m: &BlockingMockGraph) {
    let dirs: Vec<PathBuf> = [
        "hybrid-enrolled",
        "failed-8018002b",
        "never-triggered",
        "stale-enrollment",
        "not-hybrid-joined",
        "demo-blocked-restriction",
    ]
    .iter()
    .map(|n| samples().join(n))
    .collect();
    let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    for auth in ["cli", "auditor"] {
        let run = |threshold: &str| {
            let a = if auth == "cli" {
                Auth::Delegated("cli")
            } else {
                Auth::App("auditor")
            };
            m.clear_requests();
            let r = diagnose_mock_env(
                m,
                a,
                &refs,
                &[],
                &[("ENROLL_DOCTOR_FLEET_BULK_THRESHOLD", threshold)],
            );
            (r, m.requests())
        };
        let (targeted, t_log) = run("1000000");
        let (bulk, b_log) = run("0");
        // Each strategy did what it says: item lookups in $batch, or listings without filters.
        assert!(
            t_log
                .iter()
                .any(|r| r.in_batch && r.path_and_query.contains("deviceId")),
            "{auth}: targeted looks devices up by deviceId"
        );
        // Only a user whose Intune record names another UPN is looked up by id: without it,
        // mgarcia's record would be missing from the bulk snapshot (no finding of these GPO
        // devices shows it, so the requests tell).
        let batched: Vec<&str> = b_log
            .iter()
            .filter(|r| r.in_batch)
            .map(|r| r.path_and_query.as_str())
            .collect();
        if tenant == "contoso" {
            assert!(
                batched.is_empty(),
                "{auth}: bulk sends no $batch: {b_log:#?}"
            );
        } else {
            assert!(
                !batched.is_empty()
                    && batched.iter().all(|p| p.starts_with(
                        "/v1.0/users/2a7d4e19-8c3b-4f56-b0e1-6d9a2c5f8e02/managedDevices"
                    )),
                "{auth}: bulk looks up only the renamed user's devices: {batched:#?}"
            );
        }
        assert!(
            b_log
                .iter()
                .any(|r| r.path_and_query.starts_with("/v1.0/devices?")
                    && !r.path_and_query.contains("filter")),
            "{auth}: bulk lists /devices"
        );
        let findings = targeted["findings"].as_array().map_or(0, Vec::len);
        assert!(findings > 50, "{auth}: {findings} findings");
        assert!(
            targeted["findings"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["check"] == "COR004")),
            "{auth}: the devices were correlated"
        );
        for key in ["findings", "diagnoses", "summary"] {
            assert_eq!(
                without_request_locations(targeted[key].clone()),
                without_request_locations(bulk[key].clone()),
                "{tenant}, {auth}: {key} differ between targeted and bulk collection"
            );
        }
    }
}

#[test]
fn out_of_scope_user_names_the_scope_groups_with_a_delegated_token() {
    let m = mock();
    let dir = samples().join("failed-8018002b");
    let r = diagnose_mock(&m, Auth::Delegated("cli"), &[dir.as_path()], &[]);
    let d = diagnosis(&r, "PC0077.corp.contoso.com");
    assert_eq!(d["verdict"], "failed");
    assert_eq!(first_cause(d), "USR003", "{d}");
    let usr003 = finding(&r, "USR003", "mgarcia@contoso.com");
    assert_eq!(usr003["status"], "fail");
    let ev = evidence(usr003);
    assert!(ev.contains("Intune Users"), "scope group named: {ev}");
    assert!(ev.contains("dmedp-admin.xml"), "device side: {ev}");
    assert!(
        d["fix"]
            .as_str()
            .is_some_and(|f| f.contains("MDM user scope")),
        "{d}"
    );
    let cor007 = finding(&r, "COR007", "PC0077.corp.contoso.com");
    assert_eq!(cor007["status"], "fail");
    assert!(evidence(cor007).contains("0x8018002B"));
}

#[test]
fn user_flag_checks_the_named_user_against_the_tenant() {
    let m = mock();
    let dir = samples().join("never-triggered");
    let r = diagnose_mock(
        &m,
        Auth::App("auditor"),
        &[dir.as_path()],
        &["--user", "intern@contoso.com"],
    );
    assert_eq!(
        finding(&r, "USR002", "intern@contoso.com")["status"],
        "fail"
    );
    let d = diagnosis(&r, "PC0103.corp.contoso.com");
    assert!(
        d["causes"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x == "USR002")),
        "{d}"
    );
}

#[test]
fn device_from_another_tenant_is_cor001() {
    let dir = scenario("cor001-other-tenant");
    let r = diagnose_snapshot(&[dir.as_path()], &[]);
    let f = finding(&r, "COR001", "PC0042.corp.contoso.com");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(evidence(f).contains("0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9"));
    assert!(evidence(f).contains("GET /v1.0/organization"));
}

#[test]
fn device_missing_in_entra_is_cor002_and_leads() {
    let dir = scenario("cor002-missing-in-entra");
    let r = diagnose_snapshot(&[dir.as_path()], &[]);
    let f = finding(&r, "COR002", "PC0077.corp.contoso.com");
    assert_eq!(f["status"], "fail", "{f}");
    assert_eq!(
        first_cause(diagnosis(&r, "PC0077.corp.contoso.com")),
        "COR002"
    );
}

#[test]
fn disabled_device_object_and_workplace_registered_hybrid_device_are_cor003() {
    let disabled = scenario("cor003-disabled-object");
    let workplace = scenario("cor003-workplace-object-enrolled");
    let r = diagnose_snapshot(&[disabled.as_path(), workplace.as_path()], &[]);
    let f = finding(&r, "COR003", "PC0300.corp.contoso.com");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(
        f["summary"]
            .as_str()
            .is_some_and(|s| s.contains("disabled")),
        "{f}"
    );
    let f = finding(&r, "COR003", "PC0301.corp.contoso.com");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(
        f["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Workplace")),
        "{f}"
    );
    let ev = evidence(f);
    assert!(
        ev.contains("dsregcmd") && ev.contains("GET /v1.0/devices/"),
        "{ev}"
    );
}

#[test]
fn without_a_tenant_diagnose_stays_device_only_and_says_what_it_would_add() {
    let dir = samples().join("failed-8018002b");
    let out = clean_cmd()
        .args(["diagnose", "-f", "json", "--device-report"])
        .arg(&dir)
        .output()
        .expect("run");
    let r = json(out);
    assert!(
        r["notes"].to_string().contains("would also check"),
        "{}",
        r["notes"]
    );
    assert!(r["findings"].as_array().is_some_and(|a| {
        a.iter()
            .all(|f| f["check"].as_str().is_some_and(|c| c.starts_with("DEV")))
    }));
}

/// The sample devices re-homed into tenants they were not written for (the `tailspin-*` and
/// `woodgrove-*` scenario folders carry those tenants' ids and users): GCC High-style tailspin
/// (out-of-scope user) and woodgrove (duplicate names, dual state, disabled and stale objects,
/// another MDM in Entra, a healthy enrolled device).
#[test]
fn sample_devices_in_other_tenants() {
    let tailspin = MockGraph::spawn_blocking(MockConfig::dir(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/tenants/tailspin"),
    ))
    .unwrap_or_else(|e| panic!("mock: {e}"));
    // The scenario folders were written for these tenant ids.
    assert_eq!(tailspin.tenant_id(), "7c3e9a1d-2b4f-4e6a-9d8c-1f0e2d3c4b5a");
    let d = scenario("tailspin-pc0077");
    let r = diagnose_mock(&tailspin, Auth::Delegated("cli"), &[&d], &[]);
    let dev = "PC0077.corp.contoso.com";
    let diag = diagnosis(&r, dev);
    assert_eq!(diag["verdict"], "failed", "{diag:#}");
    assert_eq!(first_cause(diag), "USR003", "{diag:#}");
    assert_eq!(finding(&r, "COR001", dev)["status"], "pass");
    assert_eq!(finding(&r, "COR007", dev)["status"], "fail");
    drop(tailspin);

    let wg = MockGraph::spawn_blocking(MockConfig::dir(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/tenants/woodgrove"),
    ))
    .unwrap_or_else(|e| panic!("mock: {e}"));
    assert_eq!(wg.tenant_id(), "4d9b2e7f-6a1c-4f3e-b8d5-0c2a9e7f1b36");
    let enrolled = scenario("woodgrove-pc0042");
    // never-triggered (PC0103) stands in for several woodgrove hosts.
    let host = |name: &str| scenario(&format!("woodgrove-{}", name.to_ascii_lowercase()));
    let dup = host("WG-PC-0001");
    let disabled = host("WG-PC-0002");
    let dual = host("WG-PC-0003");
    let stale = host("WG-LT-0004");
    let other_mdm = host("WG-PC-0005");
    let r = diagnose_mock(
        &wg,
        Auth::Delegated("cli"),
        &[&enrolled, &dup, &disabled, &dual, &stale, &other_mdm],
        &[],
    );
    assert_eq!(
        diagnosis(&r, "PC0042.corp.contoso.com")["verdict"],
        "enrolled"
    );
    assert_eq!(
        finding(&r, "COR004", "PC0042.corp.contoso.com")["status"],
        "pass"
    );
    let status = |check: &str, dev: &str| {
        finding(&r, check, &format!("{dev}.corp.contoso.com"))["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let summary = |check: &str, dev: &str| {
        finding(&r, check, &format!("{dev}.corp.contoso.com"))["summary"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(status("COR003", "WG-PC-0001"), "warn");
    assert!(summary("COR003", "WG-PC-0001").contains("share the name"));
    assert_eq!(status("COR003", "WG-PC-0002"), "fail");
    assert!(summary("COR003", "WG-PC-0002").contains("disabled"));
    assert_eq!(status("COR003", "WG-PC-0003"), "warn");
    assert!(summary("COR003", "WG-PC-0003").contains("Dual state"));
    assert_eq!(status("COR003", "WG-LT-0004"), "fail");
    assert!(summary("COR003", "WG-LT-0004").contains("no sign-in for"));
    assert_eq!(status("COR004", "WG-PC-0005"), "warn");
    assert!(summary("COR004", "WG-PC-0005").contains("another MDM"));
    // The kiosk user's Windows block comes through even from the weakest user hint.
    assert!(
        summary("COR005", "WG-PC-0002").contains("Windows block - kiosk"),
        "{}",
        summary("COR005", "WG-PC-0002")
    );

    // Without DeviceManagementManagedDevices.Read.All the Intune-record checks skip and say
    // what to grant; the Entra side still runs.
    let r = diagnose_mock(&wg, Auth::App("no-managed-devices"), &[&dual], &[]);
    let dev = "WG-PC-0003.corp.contoso.com";
    for id in ["COR004", "COR007"] {
        let f = finding(&r, id, dev);
        assert_eq!(f["status"], "skip", "{f:#}");
        assert!(
            f["skip_reason"]["needed"]
                .to_string()
                .contains("DeviceManagementManagedDevices.Read.All"),
            "{f:#}"
        );
    }
    assert_eq!(finding(&r, "COR003", dev)["status"], "warn");
    assert_eq!(finding(&r, "COR002", dev)["status"], "pass");
}

/// A synced hybrid object that never completed registration (Microsoft's pending-devices query:
/// trustType ServerAd, profileType not RegisteredDevice, no alternativeSecurityIds) fails
/// COR003, although the device itself says it is hybrid joined.
#[test]
fn pending_hybrid_object_is_cor003() {
    let fabrikam = MockGraph::spawn_blocking(MockConfig::dir(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/tenants/fabrikam"),
    ))
    .unwrap_or_else(|e| panic!("mock: {e}"));
    assert_eq!(fabrikam.tenant_id(), "8e4d2c1b-7a3f-4b6e-9d5c-2f1e0a9b8c74");
    let d = scenario("fabrikam-pc-0412-pending");
    let r = diagnose_mock(&fabrikam, Auth::Delegated("cli"), &[&d], &[]);
    let dev = "FAB-PC-0412.corp.fabrikam.com";
    let f = finding(&r, "COR003", dev);
    assert_eq!(f["status"], "fail", "{f:#}");
    let text = format!("{} {}", f["summary"], evidence(f));
    assert!(text.contains("pending"), "{text}");
    assert!(text.contains("alternativeSecurityIds"), "{text}");
    // The object exists: not COR002's missing record, and the tenant is the device's own.
    assert_eq!(finding(&r, "COR002", dev)["status"], "pass");
    assert_eq!(finding(&r, "COR001", dev)["status"], "pass");
}

/// Graph fails on the Entra devices (every retry): the device-record checks error, the rest of
/// the correlation and the device's own analysis still run, and the exit code says incomplete.
#[test]
fn failing_device_source_errors_only_its_checks() {
    let m = mock();
    m.inject(
        mock_graph::Fault::ServerError {
            status: 500,
            retry_after: None,
        }
        .on("/v1.0/devices"),
    );
    let base = m.base_url();
    let mut cmd = clean_cmd();
    cmd.args(["diagnose", "-f", "json", "--as-of", "2026-11-26T12:00:00Z"])
        .arg("--device-report")
        .arg(samples().join("failed-8018002b"))
        .args([
            "--cloud",
            "custom",
            "--graph-url",
            &base,
            "--login-url",
            &base,
        ])
        .args(["--tenant", &m.tenant_id(), "--auth", "access-token"])
        .env(
            "ENROLL_DOCTOR_ACCESS_TOKEN",
            m.token_for("cli").unwrap_or_else(|| panic!("no cli app")),
        );
    let out = cmd.output().expect("run diagnose");
    assert_eq!(out.status.code(), Some(2), "an error finding exits 2");
    let r = json(out);
    let dev = "PC0077.corp.contoso.com";
    for id in ["COR002", "COR003"] {
        assert_eq!(finding(&r, id, dev)["status"], "error", "{id}");
        assert!(
            finding(&r, id, dev)["error"]
                .as_str()
                .is_some_and(|e| e.contains("500")),
            "{}",
            finding(&r, id, dev)
        );
    }
    assert_eq!(finding(&r, "COR001", dev)["status"], "pass");
    assert_eq!(finding(&r, "COR005", dev)["status"], "fail");
    assert_eq!(finding(&r, "COR007", dev)["status"], "fail");
    // The out-of-scope user is still found as the cause.
    assert_eq!(first_cause(diagnosis(&r, dev)), "USR003");
}

/// `diagnose` of one correlation fixture folder against the contoso snapshot, as JSON.
fn diagnose_fixture(name: &str, extra: &[&str]) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/correlate")
        .join(name);
    let out = clean_cmd()
        .args(["diagnose", "-d"])
        .arg(&dir)
        .args(extra)
        .args(["--as-of", "2026-11-26", "-f", "json", "--snapshot"])
        .arg(snapshot_fixture())
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    json(out)
}

/// The first finding of `check` in a report.
fn first_finding(r: &Value, check: &str) -> Value {
    r["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["check"] == check)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn configmgr_client_with_co_management_off_is_the_gpo_path() {
    let r = diagnose_fixture("configmgr-client-gpo", &[]);
    let d = &r["diagnoses"][0];
    // CoManagementFlags = 0 and a user-credential GPO: not co-management.
    assert_eq!(d["path"], "gpo-hybrid", "{d}");
    assert_eq!(d["verdict"], "failed", "{d}");
}

#[test]
fn co_managed_device_is_held_to_the_default_restriction_only() {
    let r = diagnose_fixture("comanaged-pilot-user", &[]);
    assert_eq!(r["diagnoses"][0]["path"], "co-management");
    let usr005 = first_finding(&r, "USR005");
    // tlee's Pilot group restriction blocks Windows, but a device-credential enrollment gets
    // only the default restriction, which allows it.
    assert_eq!(usr005["status"], "pass", "{usr005}");
    assert!(
        usr005
            .to_string()
            .contains("device credential (co-management)"),
        "{usr005}"
    );
    let causes = r["diagnoses"][0]["causes"].to_string();
    assert!(!causes.contains("USR005"), "{causes}");
}

#[test]
fn the_upn_the_device_presents_is_tested_not_only_the_cloud_upn() {
    let r = diagnose_fixture("upn-local-suffix", &["--user", "jdoe@contoso.com"]);
    let usr008 = first_finding(&r, "USR008");
    // jdoe@contoso.com is verified, but the device signs in as jdoe@contoso.local.
    assert_eq!(usr008["status"], "fail", "{usr008}");
    let text = usr008.to_string();
    assert!(text.contains("jdoe@contoso.local"), "{text}");
    assert!(text.contains("event 91"), "device evidence named: {text}");
    assert_eq!(
        r["diagnoses"][0]["causes"][0], "USR008",
        "{}",
        r["diagnoses"]
    );
}

/// The `filters` tenant (contoso with two Windows restrictions assigned to all users through
/// assignment filters: "Dell: Windows 11 24H2 or later" with the include filter "Dell devices",
/// "Windows 11 only (LTSC exempt)" with the exclude filter "LTSC editions"): each device's
/// report decides the filters it can, so the winning restriction is computed for the device,
/// and only a filter the report cannot decide leaves the verdict open.
#[test]
fn assignment_filters_are_decided_by_the_device_report() {
    let m = MockGraph::spawn_blocking(MockConfig::dir(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/tenants/filters"),
    ))
    .unwrap_or_else(|e| panic!("mock: {e}"));
    let dev = "PC0200.corp.contoso.com";
    let mut record = String::new();
    for (name, cor006, verdict) in [
        // Dell on 22631.4460: the include filter matches; its minimum 26100 excludes the build.
        ("filters-dell-23h2", "fail", "failed"),
        // HP on 22631.4460: neither filter selects the Dell restriction; the exclude filter does
        // not match an Enterprise device, so "Windows 11 only" wins and allows the build.
        ("filters-hp-23h2", "pass", "failed"),
        // LTSC 2021 (19044): the exclude filter matches (EnterpriseS); the manufacturer is not
        // evaluated at enrollment before 22621.3374, so the Dell restriction stays open.
        ("filters-ltsc-2021", "warn", "failed"),
    ] {
        let d = scenario(name);
        let r = diagnose_mock(&m, Auth::Delegated("cli"), &[&d], &[]);
        let f = finding(&r, "COR006", dev);
        assert_eq!(f["status"], cor006, "{name}: {f:#}");
        let diag = diagnosis(&r, dev);
        assert_eq!(diag["verdict"], verdict, "{name}: {diag:#}");
        if cor006 == "fail" {
            assert_eq!(first_cause(diag), "COR006", "{name}: {diag:#}");
        }
        let usr005 = finding(&r, "USR005", "tlee@contoso.com");
        record.push_str(&format!(
            "## {name}\nverdict {} (causes {})\nCOR006 {}: {}\n{}\nUSR005 {}: {}\n\n",
            diag["verdict"],
            diag["causes"],
            f["status"],
            f["summary"],
            evidence(f),
            usr005["status"],
            usr005["summary"],
        ));
    }
    insta::assert_snapshot!("assignment_filters_decided_by_the_device", record);
}
