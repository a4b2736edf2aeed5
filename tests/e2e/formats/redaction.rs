//! Redaction in every format: a redacted snapshot (saved by `check --redact` against the mock
//! contoso, and the correlation fixture redacted with the library under a key file) evaluated
//! by `check` over every user and by `diagnose` over a fleet of device folders and collector
//! bundles redacted with the same key. No format may name a user, device, serial, tenant or
//! group the fixtures hold — the identifiers are read from the unredacted fixtures, not listed
//! by hand — and the verdicts are those of the unredacted run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use enroll_doctor::redact::Redactor;
use enroll_doctor::tenant::TenantSnapshot;
use serde_json::Value;

use super::super::tenant::{Auth, fixture, run};
use super::{offline, root, snapshot};

const FORMATS: [&str; 8] = [
    "table", "json", "jsonl", "csv", "markdown", "html", "junit", "sarif",
];

/// Identifiers of a snapshot: tenant id, organisation, domains, users, groups, devices.
fn snapshot_secrets(snap: &Value, out: &mut BTreeSet<String>) {
    let s = &snap["sources"];
    out.extend(snap["tenant_id"].as_str().map(str::to_string));
    let data = |name: &str| s[name]["data"].clone();
    let org = data("organization");
    out.extend(org["displayName"].as_str().map(str::to_string));
    for d in org["verifiedDomains"].as_array().into_iter().flatten() {
        out.extend(d["name"].as_str().map(str::to_string));
    }
    for u in data("users").as_array().into_iter().flatten() {
        for k in ["id", "userPrincipalName", "displayName"] {
            out.extend(u[k].as_str().map(str::to_string));
        }
    }
    if let Some(groups) = data("group_memberships")["groups"].as_object() {
        for g in groups.values() {
            out.extend(g["id"].as_str().map(str::to_string));
            out.extend(g["displayName"].as_str().map(str::to_string));
        }
    }
    for d in data("entra_devices").as_array().into_iter().flatten() {
        for k in ["id", "deviceId", "displayName"] {
            out.extend(d[k].as_str().map(str::to_string));
        }
    }
    for d in data("managed_devices").as_array().into_iter().flatten() {
        for k in [
            "id",
            "azureADDeviceId",
            "deviceName",
            "serialNumber",
            "userId",
        ] {
            out.extend(d[k].as_str().map(str::to_string));
        }
    }
    for d in data("autopilot_devices").as_array().into_iter().flatten() {
        for k in ["id", "serialNumber", "azureActiveDirectoryDeviceId"] {
            out.extend(d[k].as_str().map(str::to_string));
        }
    }
}

/// Identifiers the device samples hold: dsregcmd's device and tenant ids and host names, the
/// Autopilot sample's serial, product id and host, the bundle's host name and serial.
fn device_secrets(bundles: &[PathBuf], out: &mut BTreeSet<String>) {
    for dir in std::fs::read_dir(root().join("mocks/devices"))
        .into_iter()
        .flatten()
    {
        let Ok(dir) = dir else { continue };
        let text = std::fs::read_to_string(dir.path().join("dsregcmd.txt")).unwrap_or_default();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once(" : ") {
                let v = v.trim();
                match k.trim() {
                    "DeviceId" | "TenantId" | "TenantName" => out.insert(v.to_string()),
                    "Device Name" => out.insert(v.split('.').next().unwrap_or(v).to_string()),
                    _ => false,
                };
            }
        }
    }
    out.extend(["CZC4417AP1", "00330-80000-00000-AA417", "DESKTOP-AP4417"].map(str::to_string));
    for b in bundles {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(b).unwrap_or_default())
            .unwrap_or_default();
        out.extend(v["collector"]["hostName"].as_str().map(str::to_string));
        out.extend(v["hardware"]["serialNumber"].as_str().map(str::to_string));
    }
}

/// The fleet: the sample folders, and a folder of two collector bundles under the names the
/// collector gives them (`<host>-enroll-doctor.json`; the second bundle gets a host of its
/// own). Returns the `-d` arguments and the bundles written.
fn fleet(dir: &Path) -> (Vec<String>, Vec<PathBuf>) {
    let bundles_dir = dir.join("bundles");
    std::fs::create_dir_all(&bundles_dir).unwrap_or_else(|e| panic!("{e}"));
    let mut written = Vec::new();
    for (b, host) in [
        ("system-probes.json", None),
        ("tls-inspection.json", Some("PC0313")),
    ] {
        let from = root().join("tests/fixtures/collector").join(b);
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(&from).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{b}: {e}"));
        if let Some(h) = host {
            v["collector"]["hostName"] = Value::String(h.into());
        }
        let name = v["collector"]["hostName"]
            .as_str()
            .unwrap_or("host")
            .to_string();
        let to = bundles_dir.join(format!("{name}-enroll-doctor.json"));
        std::fs::write(&to, v.to_string()).unwrap_or_else(|e| panic!("{e}"));
        written.push(to);
    }
    (
        vec![
            "-d".into(),
            "mocks/devices".into(),
            "-d".into(),
            bundles_dir.display().to_string(),
        ],
        written,
    )
}

/// Where SECRET occurs in OUT, with some context, or `None`. Matched without case; the check
/// reference's own examples (`proxy.contoso.com`, `joe@contoso.onmicrosoft.com`, the same in
/// every report) are not the tenant's.
fn leak(out: &str, secret: &str) -> Option<String> {
    let text = out
        .to_lowercase()
        .replace("proxy.contoso.com", "")
        .replace("joe@contoso.onmicrosoft.com", "")
        .replace("joe@contoso.local", "");
    let at = text.find(&secret.to_lowercase())?;
    let mut lo = at.saturating_sub(160);
    while !text.is_char_boundary(lo) {
        lo -= 1;
    }
    let mut hi = (at + 80).min(text.len());
    while !text.is_char_boundary(hi) {
        hi += 1;
    }
    Some(text[lo..hi].to_string())
}

/// Each device's verdict and causes, by the folder it was read from (the rows are ordered by
/// name, and the names are pseudonyms).
fn verdicts(json: &str) -> BTreeSet<(String, String, String)> {
    let v: Value = serde_json::from_str(json).unwrap_or_default();
    v["diagnoses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["inputs"][0].to_string(),
                d["verdict"].to_string(),
                d["causes"].to_string(),
            )
        })
        .collect()
}

fn assert_no_leak(runs: &[(String, Vec<String>)], secrets: &BTreeSet<String>) {
    let mut leaks = Vec::new();
    for (what, args) in runs {
        for format in FORMATS {
            let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
            a.extend(["-f", format, "--fail-on", "never"]);
            let (code, out, err) = offline(&a);
            assert_eq!(code, 0, "{what} -f {format}: {err}");
            assert!(out.len() > 200, "{what} -f {format}: {out}{err}");
            for secret in secrets {
                if let Some(at) = leak(&out, secret) {
                    leaks.push(format!("{what} -f {format} names {secret}: …{at}…"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n\n"));
}

/// Names of configuration objects (restrictions, Conditional Access policies, Autopilot
/// profiles): redaction keeps them, as the admin center shows them.
fn config_names(snap: &Value, out: &mut BTreeSet<String>) {
    let s = &snap["sources"];
    for source in [
        "enrollment_configurations",
        "conditional_access_policies",
        "autopilot_profiles",
        "enrollment_status_pages",
    ] {
        for c in s[source]["data"].as_array().into_iter().flatten() {
            out.extend(c["displayName"].as_str().map(str::to_string));
        }
    }
}

#[test]
fn no_format_names_an_identifier_of_a_redacted_tenant_or_fleet() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let key = dir.path().join("key.hex");
    let live = dir.path().join("live.json");
    let red_live = dir.path().join("red-live.json");
    let mock = fixture("contoso");
    for (file, redact) in [(&live, false), (&red_live, true)] {
        let file_arg = file.display().to_string();
        let key_arg = key.display().to_string();
        let mut args = vec![
            "check",
            "--all-users",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--save-snapshot",
            &file_arg,
        ];
        if redact {
            args.extend(["--redact", "--redact-key-file", &key_arg]);
        }
        let (_, _, err) = run(&mock, Auth::Delegated("cli"), &args);
        assert!(file.exists(), "{err}");
    }
    // The correlation fixture (Entra and Intune device records, events), redacted under the
    // same key by the library, as `--redact` saves it.
    let red_fixture = dir.path().join("red-fixture.json");
    let r = Redactor::from_key_file(&key).unwrap_or_else(|e| panic!("{e}"));
    let mut snap = TenantSnapshot::load(&snapshot()).unwrap_or_else(|e| panic!("{e}"));
    r.snapshot(&mut snap);
    snap.save(&red_fixture).unwrap_or_else(|e| panic!("{e}"));

    let mut secrets = BTreeSet::new();
    let mut kept = BTreeSet::new();
    for file in [live.clone(), snapshot()] {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        snapshot_secrets(&v, &mut secrets);
        config_names(&v, &mut kept);
    }
    let (fleet, bundles) = fleet(dir.path());
    device_secrets(&bundles, &mut secrets);
    // Short or generic values would match words of the report itself; a group named like a
    // restriction ("Pilot", "Pilot Windows block") is the restriction's kept name.
    secrets.retain(|s| s.len() >= 5 && !kept.iter().any(|k| k.contains(s.as_str())));
    for s in [
        "jdoe@contoso.com",
        "PC0042",
        "PC0313",
        "CZC4417AP1",
        "7XK2QH3",
        "Intune Users",
    ] {
        assert!(
            secrets.contains(s),
            "{s} is among the fixture's identifiers"
        );
    }

    let key_arg = key.display().to_string();
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    for snap in [&red_live, &red_fixture] {
        let snap_arg = snap.display().to_string();
        runs.push((
            format!("check --all-users --snapshot {}", snap.display()),
            vec![
                "check".into(),
                "--all-users".into(),
                "--snapshot".into(),
                snap_arg.clone(),
            ],
        ));
        let mut diagnose: Vec<String> = vec!["diagnose".into()];
        diagnose.extend(fleet.iter().cloned());
        diagnose.extend([
            "--snapshot".into(),
            snap_arg,
            "--redact-key-file".into(),
            key_arg.clone(),
        ]);
        runs.push((
            format!("diagnose (fleet) --snapshot {}", snap.display()),
            diagnose,
        ));
    }
    assert_no_leak(&runs, &secrets);

    // The pseudonyms still join: the fleet's verdicts and causes are those of the real data.
    let mut real: Vec<String> = vec!["diagnose".into()];
    real.extend(fleet.iter().cloned());
    real.extend([
        "--snapshot".into(),
        snapshot().display().to_string(),
        "-f".into(),
        "json".into(),
    ]);
    let mut redacted: Vec<String> = vec!["diagnose".into()];
    redacted.extend(fleet.iter().cloned());
    redacted.extend([
        "--snapshot".into(),
        red_fixture.display().to_string(),
        "--redact-key-file".into(),
        key_arg,
        "-f".into(),
        "json".into(),
    ]);
    let (_, real_out, err) = offline(&real.iter().map(String::as_str).collect::<Vec<_>>());
    let (_, red_out, err2) = offline(&redacted.iter().map(String::as_str).collect::<Vec<_>>());
    let (real_v, red_v) = (verdicts(&real_out), verdicts(&red_out));
    assert!(real_v.len() >= 7, "{err}");
    assert_eq!(real_v, red_v, "{err2}");
}
