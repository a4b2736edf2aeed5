use super::*;
use crate::checks::tenant::tests::base;
use crate::tenant::snapshot::Source;

#[test]
fn the_key_file_is_read_only_from_a_small_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k");
    let r = Redactor::random();
    std::fs::write(&p, format!("{}\n", r.key_hex())).unwrap();
    assert_eq!(Redactor::from_key_file(&p).unwrap().id("x"), r.id("x"));
    std::fs::write(&p, "abc").unwrap();
    let e = Redactor::from_key_file(&p).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("redaction key file {}: ", p.display())),
        "{e}"
    );
    std::fs::write(&p, "0".repeat(5000)).unwrap();
    let e = Redactor::from_key_file(&p).unwrap_err().to_string();
    assert!(e.contains("is larger than 4 KiB"), "{e}");
    assert!(!e.contains("0000"), "{e}");
}

#[test]
fn pseudonyms_are_keyed_stable_and_case_insensitive() {
    let a = Redactor::from_hex(&"ab".repeat(32)).unwrap_or_else(|_| Redactor::random());
    let b = Redactor::from_hex(&"cd".repeat(32)).unwrap_or_else(|_| Redactor::random());
    assert_eq!(a.upn("JDoe@Contoso.com"), a.upn("jdoe@contoso.com"));
    assert_ne!(a.upn("jdoe@contoso.com"), b.upn("jdoe@contoso.com"));
    assert!(
        a.upn("jdoe@contoso.com")
            .ends_with(&a.domain("contoso.com"))
    );
    assert!(!a.upn("jdoe@contoso.com").contains("jdoe"));
    assert!(a.domain("corp.contoso.local").ends_with(".local"));
    // The initial domain keeps its cloud's suffix (TEN004 reads the cloud from it).
    for (initial, cloud) in [
        ("contoso.onmicrosoft.com", "global"),
        ("tailspin.onmicrosoft.us", "usgov"),
        ("fourth.partner.onmschina.cn", "china"),
    ] {
        let red = a.domain(initial);
        assert!(!red.contains(initial.split('.').next().unwrap_or("")));
        assert_eq!(
            crate::catalog::well_known::cloud_of_initial_domain(&red),
            Some(cloud),
            "{red}"
        );
    }
    let id = a.id("3F2B8C1E-5A47-4D0B-9E61-2C7D9A0B4E15");
    assert_eq!(id, a.id("3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15"));
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(
        a.id("0000000a-0000-0000-c000-000000000000"),
        "0000000a-0000-0000-c000-000000000000"
    );
    assert_eq!(
        Redactor::from_hex(&a.key_hex()).map(|r| r.id("x")).ok(),
        Some(a.id("x"))
    );
    assert!(Redactor::from_hex("abc").is_err());
    assert!(!format!("{a:?}").contains(&a.key_hex()));
}

/// The same key redacts a device report and a snapshot into matching join keys.
#[test]
fn device_report_and_snapshot_redact_to_the_same_keys() {
    use crate::checks::correlate::keys::device_keys;
    use crate::checks::device::analyse;
    use crate::tenant::snapshot::{EntraDevice, User};

    for sample in [
        "hybrid-enrolled",
        "failed-8018002b",
        "stale-enrollment",
        "demo-blocked-restriction",
    ] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("mocks/devices")
            .join(sample);
        let Some(report) = crate::device::sources::load_path(&dir)
            .ok()
            .and_then(|v| v.into_iter().next())
        else {
            panic!("cannot load {sample}");
        };
        let as_of = chrono::Utc::now();
        let before = analyse(&report, as_of);
        let keys = device_keys(&report, &before, None);

        // A snapshot holding the same tenant, user and device.
        let mut snap = base();
        let tenant = keys
            .tenant_id
            .as_ref()
            .map(|(t, _)| t.clone())
            .unwrap_or_default();
        snap.tenant_id = tenant.clone();
        let upn = keys
            .user
            .as_ref()
            .map(|u| u.upn.clone())
            .unwrap_or_default();
        snap.sources.users = Source::collected(
            "GET /v1.0/users",
            vec![User {
                id: "aaaaaaaa-0000-0000-0000-000000000001".into(),
                user_principal_name: upn.clone(),
                ..Default::default()
            }],
        );
        snap.sources.entra_devices = Source::collected(
            "GET /v1.0/devices",
            vec![EntraDevice {
                id: "bbbbbbbb-0000-0000-0000-000000000002".into(),
                device_id: keys.device_id.clone(),
                display_name: keys.short_name.clone(),
                ..Default::default()
            }],
        );

        assert!(
            !tenant.is_empty() && !upn.is_empty() && keys.device_id.is_some(),
            "{sample}: the sample names its tenant, user and device"
        );
        let r = Redactor::from_hex(&"5a".repeat(32)).unwrap_or_else(|_| Redactor::random());
        let mut red_report = report.clone();
        assert!(r.device_report(&mut red_report).is_ok());
        r.snapshot(&mut snap);
        let after = analyse(&red_report, as_of);
        let red_keys = device_keys(&red_report, &after, None);

        assert_eq!(
            red_keys.tenant_id.map(|(t, _)| t),
            (!tenant.is_empty()).then(|| snap.tenant_id.clone()),
            "{sample}: tenant id"
        );
        let device = snap
            .sources
            .entra_devices
            .data()
            .and_then(|d| d.first().cloned())
            .unwrap_or_default();
        assert_eq!(red_keys.device_id, device.device_id, "{sample}: device id");
        assert_eq!(
            red_keys.short_name.map(|n| n.to_lowercase()),
            device.display_name.map(|n| n.to_lowercase()),
            "{sample}: host name"
        );
        if !upn.is_empty() {
            let red_upn = red_keys.user.map(|u| u.upn).unwrap_or_default();
            assert!(snap.user(&red_upn).is_some(), "{sample}: {red_upn}");
        }
        // The device checks read the redacted report exactly as the original.
        let statuses = |a: &crate::checks::device::DeviceAnalysis| {
            a.findings
                .iter()
                .map(|f| (f.check.clone(), f.status.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(statuses(&before), statuses(&after), "{sample}");
        assert_eq!(before.path, after.path, "{sample}");

        let json = serde_json::to_string(&red_report).unwrap_or_default();
        let mut secrets = vec![tenant.clone()];
        secrets.extend(keys.device_id.clone());
        secrets.extend(keys.short_name.clone());
        if let Some((local, domain)) = upn.split_once('@') {
            secrets.push(format!("{local}@"));
            secrets.push(domain.to_string());
        }
        for secret in secrets.iter().filter(|s| s.len() > 3) {
            assert!(
                !json.to_lowercase().contains(&secret.to_lowercase()),
                "{sample}: {secret} survives redaction"
            );
        }
    }
}

/// The Autopilot sample: its serial, product id, the host its device hash file is named
/// after and the path it was read from get pseudonyms, and the serial the same as the
/// snapshot's Autopilot record, so the look-up still finds it.
#[test]
fn autopilot_serials_and_input_paths_are_redacted_and_still_join() {
    use crate::tenant::autopilot::{AutopilotDeviceIdentity, identities_by_serial};

    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks/devices/autopilot-no-profile");
    let Some(report) = crate::device::sources::load_path(&dir)
        .ok()
        .and_then(|v| v.into_iter().next())
    else {
        panic!("cannot load the Autopilot sample");
    };
    assert_eq!(report.lookup_serial(), Some("CZC4417AP1"));
    let mut snap = base();
    snap.sources.autopilot_devices = Source::collected(
        "GET /beta/deviceManagement/windowsAutopilotDeviceIdentities",
        vec![AutopilotDeviceIdentity {
            id: "cccccccc-0000-0000-0000-000000000003".into(),
            serial_number: Some("czc4417ap1".into()),
            ..Default::default()
        }],
    );
    let r = Redactor::from_hex(&"77".repeat(32)).unwrap_or_else(|_| Redactor::random());
    let mut red = report.clone();
    let input = std::path::Path::new("fleet/DESKTOP-AP4417-enroll-doctor.json");
    let shown = r
        .device_report_from(&mut red, input)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    r.snapshot(&mut snap);

    let serial = red.lookup_serial().unwrap_or_default().to_string();
    assert_eq!(serial, r.serial("CZC4417AP1"));
    let records = snap
        .sources
        .autopilot_devices
        .data()
        .map_or(&[][..], Vec::as_slice);
    assert_eq!(identities_by_serial(records, &serial).len(), 1, "{serial}");
    assert_eq!(
        shown,
        format!(
            "fleet/{}-enroll-doctor.json",
            r.name("device", "DESKTOP-AP4417")
        )
    );
    let json = serde_json::to_string(&red).unwrap_or_default();
    for secret in ["CZC4417AP1", "DESKTOP-AP4417", "00330-80000-00000-AA417"] {
        assert!(
            !json.contains(secret),
            "{secret} survives redaction:\n{json}"
        );
    }
    assert!(json.contains(&format!(
        "DeviceHash_{}.csv",
        r.name("device", "DESKTOP-AP4417")
    )));
    // A path that names nothing known is kept exactly.
    let plain = std::path::Path::new("fleet/box-7");
    assert_eq!(
        r.device_report_from(&mut report.clone(), plain)
            .ok()
            .as_deref(),
        Some(plain)
    );
    // Serials compare without their periods, as corporate identifiers are uploaded.
    assert_eq!(r.serial("AB.12"), r.serial("ab12"));
}

#[test]
fn text_redaction_handles_sids_guids_and_words() {
    let r = Redactor::from_hex(&"11".repeat(32)).unwrap_or_else(|_| Redactor::random());
    let names = vec![("PC0042".to_string(), r.name("device", "PC0042"))];
    let t = r.text(
        "HKU\\S-1-5-21-1004336348-1177238915-682003330-1107\\x PC0042 PC00421 \
         {FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF} 3F2B8C1E-5A47-4D0B-9E61-2C7D9A0B4E15 Jane.Doe@Contoso.com.",
        &names,
    );
    assert!(!t.contains("1004336348") && t.contains("-1107\\x"), "{t}");
    assert!(
        t.contains(&r.name("device", "PC0042")) && t.contains("PC00421"),
        "{t}"
    );
    assert!(t.contains("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"), "{t}");
    assert!(
        t.contains(&r.id("3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15")),
        "{t}"
    );
    assert!(
        t.contains(&r.upn("jane.doe@contoso.com")) && t.ends_with('.'),
        "{t}"
    );
    // `_` ends a word (DeviceHash_<host>.csv); a letter or digit does not.
    let t = r.text("DeviceHash_PC0042.csv xPC0042 PC0042y", &names);
    assert_eq!(
        t,
        format!(
            "DeviceHash_{}.csv xPC0042 PC0042y",
            r.name("device", "PC0042")
        )
    );
}

#[test]
fn snapshot_redaction_keeps_checks_working() {
    let r = Redactor::random();
    let mut s = base();
    s.sources.users = Source::collected(
        "GET /v1.0/users",
        crate::checks::tenant::tests::json(
            r#"[{"id":"aaaaaaaa-0000-0000-0000-000000000001","userPrincipalName":"jdoe@contoso.com","displayName":"Jane Doe"}]"#,
        ),
    );
    s.sources.organization = Source::collected(
        "GET /v1.0/organization",
        crate::checks::tenant::tests::json(
            r#"{"id":"5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13","displayName":"Contoso","verifiedDomains":[{"name":"contoso.com"}]}"#,
        ),
    );
    r.snapshot(&mut s);
    let json = s.to_json().unwrap_or_default();
    for secret in ["jdoe", "contoso", "Jane", "5b7c1e2a", "aaaaaaaa-0000"] {
        assert!(
            !json.to_lowercase().contains(&secret.to_lowercase()),
            "{secret} leaked:\n{json}"
        );
    }
    let upn = r.upn("jdoe@contoso.com");
    let f = crate::checks::user::usr008_upn_suffix(
        &s,
        s.user(&upn).unwrap_or(&Default::default()),
        &Default::default(),
    );
    assert_eq!(
        f.status,
        crate::model::Status::Pass,
        "redacted domains still match"
    );
}
