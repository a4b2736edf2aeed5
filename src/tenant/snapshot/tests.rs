use super::super::snapshot_io::found_schema;
use super::*;
use crate::fsio::FileKind;

fn sample() -> TenantSnapshot {
    let mut s = TenantSnapshot::new(
        "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13",
        "global",
        "https://graph.microsoft.com",
        TokenKind::AppOnly,
        DateTime::parse_from_rfc3339("2026-11-27T03:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default(),
    );
    let configs: Vec<EnrollmentConfiguration> = serde_json::from_str(
        r##"[
        {"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration",
         "id":"x_DefaultLimit","priority":0,"limit":15,"assignments":[], "roleScopeTagIds":[]},
        {"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
         "id":"x_DefaultPlatformRestrictions","priority":0,"displayName":"All users and all devices",
         "windowsRestriction":{"platformBlocked":false,"personalDeviceEnrollmentBlocked":false,
           "osMinimumVersion":"","osMaximumVersion":null,"blockedManufacturers":[],"blockedSkus":null},
         "assignments":null}
    ]"##,
    )
    .unwrap_or_default();
    s.sources.enrollment_configurations = Source::collected(
        "GET /beta/deviceManagement/deviceEnrollmentConfigurations",
        configs,
    );
    s.sources.mdm_policies = Source::Missing {
        reason: MissingReason::AppOnlyUnsupported,
    };
    s
}

#[test]
fn each_names_every_source_field() {
    // The serialised form has one key per field: each() must list them all.
    let v = serde_json::to_value(Sources::default()).unwrap();
    let fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut named: Vec<&str> = Sources::default().each().iter().map(|(n, _)| *n).collect();
    let mut sorted_fields = fields.clone();
    sorted_fields.sort_unstable();
    named.sort_unstable();
    assert_eq!(named, sorted_fields);
    assert!(
        Sources::default()
            .each()
            .iter()
            .all(|(_, m)| *m == Some(&MissingReason::NotCollected))
    );
}

#[test]
fn describe_is_the_evidence_wording() {
    let e = MissingReason::GraphError {
        status: Some(503),
        code: Some("serviceNotAvailable".into()),
        request_id: Some("r-1".into()),
        message: "try later".into(),
    };
    assert_eq!(
        e.describe(),
        "Graph 503 serviceNotAvailable: try later (request-id r-1)"
    );
    let quoted = MissingReason::GraphError {
        status: None,
        code: None,
        request_id: Some("r-2".into()),
        message: "failed (request-id r-2)".into(),
    };
    assert_eq!(quoted.describe(), "Graph: failed (request-id r-2)");
}

#[test]
fn scalars_of_the_wrong_shape_are_skipped_whole() {
    let c: Vec<EnrollmentConfiguration> = serde_json::from_str(
        r##"[{"id":"a","priority":{"deep":[[1,{"x":[2]}]]},"limit":18446744073709551615,
              "platformType":["windows"],"deviceEnrollmentConfigurationType":{"a":1}},
             {"id":"b","priority":2.5,"limit":7,"platformType":" "},
             {"id":"c","priority":18446744073709551615,"limit":1.0}]"##,
    )
    .unwrap_or_default();
    assert_eq!(c.len(), 3);
    assert_eq!((c[0].priority, c[0].limit), (i64::MAX, None));
    assert_eq!(c[0].platform_type, None);
    assert_eq!(c[0].device_enrollment_configuration_type, None);
    assert_eq!((c[1].priority, c[1].limit), (i64::MAX, Some(7)));
    assert_eq!(c[1].platform_type, None);
    assert_eq!((c[2].priority, c[2].limit), (i64::MAX, None));
    // The schema tag alone: a string, or nothing for any other value.
    let tag = |t: &str| found_schema(serde_json::from_str(t));
    assert_eq!(tag(r#"{"x":[1],"schema":"other@1"}"#), "other@1");
    assert_eq!(tag(r#"{"schema":{"nested":["a"]}}"#), "");
    assert_eq!(tag(r#"{"schema":null}"#), "");
    assert_eq!(tag("7"), "");
}

#[test]
fn odd_configuration_items_do_not_sink_the_list() {
    let configs: Vec<EnrollmentConfiguration> = match serde_json::from_str(
        r##"[
        {"@odata.type":"#microsoft.graph.deviceEnrollmentQuantumConfiguration","id":"q",
         "priority":null,"limit":"many","platformType":7,"platformRestriction":"n/a",
         "deviceEnrollmentConfigurationType":"unknownFutureValue","assignments":null},
        {"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
         "id":"w_SinglePlatformRestriction","priority":"3","platformType":"windows",
         "platformRestriction":{"platformBlocked":true},"assignments":[]}
    ]"##,
    ) {
        Ok(v) => v,
        Err(e) => panic!("an unknown item failed the list: {e}"),
    };
    assert_eq!(configs[0].priority, i64::MAX);
    assert!(!configs[0].is_default());
    assert_eq!(configs[0].limit, None);
    assert_eq!(configs[0].platform_type, None);
    assert_eq!(configs[0].platform_restriction, None);
    assert_eq!(configs[1].priority, 3);
    assert_eq!(
        configs[1].family(),
        ConfigurationFamily::SinglePlatform("windows".into())
    );
    assert!(configs[1].windows().is_some());
    let all: EnrollmentConfiguration = serde_json::from_str(
        r##"{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
            "id":"a","priority":4,"platformType":"allPlatforms","platformRestriction":{"platformBlocked":true}}"##,
    )
    .unwrap_or_default();
    assert!(
        all.windows()
            .is_some_and(|r| r.platform_blocked == Some(true))
    );
    let phone: EnrollmentConfiguration = serde_json::from_str(
        r##"{"@odata.type":"#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
            "id":"p","priority":4,"platformType":"windowsPhone","platformRestriction":{"platformBlocked":true}}"##,
    )
    .unwrap_or_default();
    assert!(phone.windows().is_none());
    assert_eq!(
        configs[1]
            .platform_restriction
            .as_ref()
            .and_then(|r| r.platform_blocked),
        Some(true)
    );
}

#[test]
fn messy_values_are_tolerated_and_normalised() {
    let s = sample();
    let configs = s
        .sources
        .enrollment_configurations
        .data()
        .cloned()
        .unwrap_or_default();
    assert_eq!(configs.len(), 2);
    let platform = configs
        .iter()
        .find(|c| c.family() == ConfigurationFamily::PlatformRestrictions);
    let win = platform.and_then(|c| c.windows());
    assert_eq!(win.and_then(|w| w.os_minimum_version.clone()), None);
    assert_eq!(win.map(|w| w.blocked_skus.len()), Some(0));
    assert!(configs.iter().all(|c| c.is_default()));
}

#[test]
fn round_trip_is_byte_identical_and_sorted() {
    let s = sample();
    let json = s.to_json().unwrap_or_default();
    let back = TenantSnapshot::from_json(&json, "mem").map_err(|e| e.to_string());
    assert_eq!(
        back.as_ref().map(|b| b.to_json().unwrap_or_default()),
        Ok(json.clone())
    );
    // Sorted by id: DefaultLimit before DefaultPlatformRestrictions.
    let a = json.find("x_DefaultLimit");
    let b = json.find("x_DefaultPlatformRestrictions");
    assert!(a < b && a.is_some());
    assert!(json.contains(r#""status": "missing""#));
    assert!(json.contains(r#""kind": "app-only-unsupported""#));
}

#[test]
fn wrong_schema_is_a_clear_error() {
    let err = TenantSnapshot::from_json(r#"{"schema":"other@1"}"#, "snap.json")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("snap.json") && err.contains("other@1"),
        "{err}"
    );
}

#[test]
fn a_snapshot_file_is_read_as_a_stream_and_its_errors_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    let mut saved = sample();
    saved.save(&p).unwrap();
    let back = TenantSnapshot::load(&p).unwrap();
    let mut expected = sample();
    expected.normalize();
    assert_eq!(back.to_json().unwrap(), expected.to_json().unwrap());
    // Saved as a stream: the same text as to_json.
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        expected.to_json().unwrap()
    );
    let err = |text: &str| {
        std::fs::write(&p, text).unwrap();
        TenantSnapshot::load(&p).unwrap_err().to_string()
    };
    assert!(err(r#"{"schema":"other@1","sources":7}"#).contains("\"other@1\""));
    for not_an_object in [
        "7",
        "[1,2]",
        "{\"a\":1}",
        "[\"enroll-doctor/tenant-snapshot@1\"]",
    ] {
        let e = err(not_an_object);
        assert!(
            e.contains("is not an enroll-doctor tenant snapshot: it has no field `schema`"),
            "{not_an_object}: {e}"
        );
    }
    let e = err(r#"{"schema":"enroll-doctor/tenant-snapshot@9"}"#);
    assert!(
        e.contains("\"enroll-doctor/tenant-snapshot@9\", a snapshot version this enroll-doctor does not read"),
        "{e}"
    );
    assert!(
        err("").ends_with("s.json is empty: EOF while parsing a value at line 1 column 0"),
        "{}",
        err("")
    );
    let typed = format!("{{\"schema\":\"{TENANT_SNAPSHOT_SCHEMA}\",\n\"collected_at\":7}}");
    let e = err(&typed);
    assert!(
        e.contains(&format!(
            "does not match {TENANT_SNAPSHOT_SCHEMA}: invalid type: integer `7`"
        )) && e.contains("line 2"),
        "{e}"
    );
    let broken = format!("{{\"schema\":\"{TENANT_SNAPSHOT_SCHEMA}\",\"sources\":");
    assert!(err(&broken).contains("is not valid JSON"));
    let e = TenantSnapshot::load_within(&p, FileKind::fixed("snapshot", 8))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is larger than 8 bytes, the limit for a snapshot"),
        "{e}"
    );
}

#[test]
fn trust_type_is_case_insensitive() {
    let d: EntraDevice = serde_json::from_str(r#"{"id":"1","trustType":"serverAd","deviceId":""}"#)
        .unwrap_or_default();
    assert_eq!(d.trust(), TrustType::ServerAd);
    assert_eq!(d.device_id, None);
}

#[test]
fn membership_semantics() {
    let mut m = GroupMemberships {
        all_users_resolved: true,
        relevant_groups: vec!["g1".into(), "g2".into()],
        ..Default::default()
    };
    m.members.insert("u1".into(), ["g1".to_string()].into());
    assert_eq!(m.is_member("u1", "g1"), Membership::Member);
    assert_eq!(m.is_member("u1", "g2"), Membership::NotMember);
    assert_eq!(m.is_member("u2", "g1"), Membership::NotMember);
    // A group the per-group collection did not list is unknown, even for a listed user.
    assert_eq!(m.is_member("u1", "g9"), Membership::Unknown);
    m.all_users_resolved = false;
    assert_eq!(m.is_member("u2", "g1"), Membership::Unknown);
}
