use std::collections::BTreeSet;

use proptest::prelude::*;

use super::esp::{EnrollmentStatusPage, EspTarget, resolve_esp};
use super::*;

fn groups(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_beta_identity_parses_with_its_beta_only_fields() {
    let d: AutopilotDeviceIdentity = serde_json::from_str(
        r##"{"@odata.type":"#microsoft.graph.windowsAutopilotDeviceIdentity","id":"a1",
            "serialNumber":"5CG3042XYZ","manufacturer":"HP","model":"EliteBook 840 G9",
            "groupTag":"","enrollmentState":"notContacted","azureActiveDirectoryDeviceId":
            "00000000-0000-0000-0000-000000000000","azureAdDeviceId":"3F2B8C1E-5A47-4D0B-9E61-2C7D9A0B4E15",
            "userPrincipalName":"","deploymentProfileAssignmentStatus":"assignedUnkownSyncState",
            "userlessEnrollmentStatus":"blocked","remediationState":"noRemediationRequired",
            "deviceAccountPassword":"must-not-be-kept","productKey":"XXXXX"}"##,
    )
    .unwrap();
    assert_eq!(d.group_tag, None);
    assert_eq!(d.assigned_user(), None);
    assert_eq!(
        d.entra_device_id(),
        Some("3F2B8C1E-5A47-4D0B-9E61-2C7D9A0B4E15")
    );
    assert_eq!(
        d.profile_status(),
        ProfileAssignmentStatus::AssignedUnknownSyncState
    );
    assert!(d.profile_status().is_assigned());
    assert_eq!(d.userless_enrollment(), UserlessEnrollment::Blocked);
    let saved = serde_json::to_string(&d).unwrap();
    assert!(!saved.contains("must-not-be-kept") && !saved.contains("XXXXX"));
}

#[test]
fn a_v1_identity_without_the_beta_fields_reads_as_unknown() {
    let d: AutopilotDeviceIdentity = serde_json::from_str(
        r#"{"id":"a2","serialNumber":"PF3AP0N1","azureActiveDirectoryDeviceId":"d-1",
            "enrollmentState":7,"userPrincipalName":"kwong@contoso.com"}"#,
    )
    .unwrap();
    assert_eq!(d.profile_status(), ProfileAssignmentStatus::Unknown);
    assert_eq!(d.userless_enrollment(), UserlessEnrollment::Unknown);
    assert_eq!(
        d.enrollment_state, None,
        "a number is not an enrollment state"
    );
    assert_eq!(d.entra_device_id(), Some("d-1"));
    assert_eq!(d.assigned_user(), Some("kwong@contoso.com"));
    // Absent beta-only fields are not written back as nulls.
    let saved = serde_json::to_string(&d).unwrap();
    assert!(!saved.contains("userlessEnrollmentStatus"), "{saved}");
}

#[test]
fn identities_are_found_by_serial_and_manufacturer() {
    let id = |i: &str, s: &str, m: &str| AutopilotDeviceIdentity {
        id: i.into(),
        serial_number: Some(s.into()),
        manufacturer: Some(m.into()),
        azure_ad_device_id: Some(format!("dev-{i}")),
        ..Default::default()
    };
    let list = vec![
        id("1", "ABC123", "HP"),
        id("2", "abc123 ", "Lenovo"),
        id("3", "X9", "HP"),
    ];
    assert_eq!(identities_by_serial(&list, " ABC123").len(), 2);
    assert_eq!(
        find_identity(&list, "abc123", Some("lenovo")).map(|d| d.id.as_str()),
        Some("2")
    );
    assert_eq!(
        find_identity(&list, "abc123", None).map(|d| d.id.as_str()),
        Some("1")
    );
    assert_eq!(find_identity(&list, "nope", Some("HP")), None);
    assert_eq!(find_identity(&list, "", None), None);
    assert_eq!(
        identity_by_entra_device_id(&list, "DEV-3").map(|d| d.id.as_str()),
        Some("3")
    );
}

#[test]
fn placeholder_serials_are_not_looked_up() {
    for s in [
        "To be filled by O.E.M.",
        "Default string",
        "0000000",
        "abc",
        " ",
        "N/A",
    ] {
        assert!(!is_lookup_serial(s), "{s}");
    }
    for s in ["5CG3042XYZ", "VMware-56 4d 12 ab", "PF-3AP0N1"] {
        assert!(is_lookup_serial(s), "{s}");
    }
}

fn profile(json: &str) -> AutopilotProfile {
    serde_json::from_str(json).unwrap()
}

fn sample_profiles() -> Vec<AutopilotProfile> {
    vec![
        profile(
            r##"{"@odata.type":"#microsoft.graph.azureADWindowsAutopilotDeploymentProfile","id":"p-new",
                "displayName":"Sales user-driven","createdDateTime":"2025-06-01T00:00:00Z",
                "outOfBoxExperienceSetting":{"deviceUsageType":"singleUser","userType":"standard"},
                "assignments":[{"id":"a","target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"G-SALES"}}]}"##,
        ),
        profile(
            r##"{"@odata.type":"#microsoft.graph.azureADWindowsAutopilotDeploymentProfile","id":"p-old",
                "displayName":"Kiosk self-deploying","createdDateTime":"2024-01-01T00:00:00Z",
                "outOfBoxExperienceSettings":{"deviceUsageType":"shared","hideEULA":true},
                "assignments":[{"id":"b","target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"g-kiosk"}},
                               {"id":"c","target":{"@odata.type":"#microsoft.graph.exclusionGroupAssignmentTarget","groupId":"g-lab"}}]}"##,
        ),
        profile(
            r##"{"@odata.type":"#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile","id":"p-all",
                "displayName":"Hybrid default","createdDateTime":"2023-01-01T00:00:00Z",
                "hybridAzureADJoinSkipConnectivityCheck":true,"enableWhiteGlove":true,
                "outOfBoxExperienceSetting":{"deviceUsageType":"singleUser"},
                "assignments":[{"id":"d","target":{"@odata.type":"#microsoft.graph.allDevicesAssignmentTarget"}}]}"##,
        ),
    ]
}

#[test]
fn profiles_parse_their_join_and_mode_from_either_settings_name() {
    let p = sample_profiles();
    assert_eq!(p[0].join(), ProfileJoin::EntraJoin);
    assert_eq!(p[0].mode(), DeploymentMode::UserDriven);
    assert_eq!(p[1].mode(), DeploymentMode::SelfDeploying);
    assert_eq!(p[2].join(), ProfileJoin::HybridJoin);
    assert_eq!(
        p[2].hybrid_azure_ad_join_skip_connectivity_check,
        Some(true)
    );
    assert!(p[2].allows_preprovisioning() && !p[0].allows_preprovisioning());
    assert_eq!(AutopilotProfile::default().mode(), DeploymentMode::Unknown);
    assert_eq!(AutopilotProfile::default().join(), ProfileJoin::Unknown);
    assert_eq!(
        profile_named(&p, " kiosk SELF-deploying").map(|p| p.id.as_str()),
        Some("p-old")
    );
}

#[test]
fn the_oldest_group_targeted_profile_applies_and_two_are_a_conflict() {
    let p = sample_profiles();
    // In both groups: two group-targeted profiles, the older one applies.
    let r = resolve_profile(&p, &groups(&["g-sales", "g-kiosk"]));
    assert_eq!(r.applied.map(|p| p.id.as_str()), Some("p-old"));
    assert!(r.is_conflict());
    assert_eq!(r.all_devices.len(), 1);
    // An excluded group removes that profile: the sales one alone.
    let r = resolve_profile(&p, &groups(&["g-sales", "g-kiosk", "g-lab"]));
    assert_eq!(r.applied.map(|p| p.id.as_str()), Some("p-new"));
    assert!(!r.is_conflict());
    // No group of a profile: the all-devices profile.
    let r = resolve_profile(&p, &groups(&["g-other"]));
    assert_eq!(r.applied.map(|p| p.id.as_str()), Some("p-all"));
    assert!(r.group_targeted.is_empty());
    // No all-devices profile either: none.
    let r = resolve_profile(&p[..2], &groups(&[]));
    assert_eq!(r.applied, None);
    assert_eq!(
        p[1].reach(&groups(&["g-kiosk", "g-lab"])),
        ProfileReach::Excluded
    );
}

fn page(json: &str) -> EnrollmentStatusPage {
    serde_json::from_str(json).unwrap()
}

fn sample_pages() -> Vec<EnrollmentStatusPage> {
    vec![
        page(
            r##"{"@odata.type":"#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
                "id":"t_DefaultWindows10EnrollmentCompletionPageConfiguration","priority":0,
                "showInstallationProgress":true,"assignments":[{"id":"x","target":{"@odata.type":"#microsoft.graph.allLicensedUsersAssignmentTarget"}}]}"##,
        ),
        page(
            r##"{"id":"user-page","priority":1,"installProgressTimeoutInMinutes":30,
                "assignments":[{"id":"u","target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"g-users"}}]}"##,
        ),
        page(
            r##"{"id":"device-page","priority":2,"installProgressTimeoutInMinutes":"15",
                "blockDeviceSetupRetryByUser":true,"selectedMobileAppIds":["app-1","app-2"],
                "assignments":[{"id":"d","target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"g-devices"}}]}"##,
        ),
        page(
            r##"{"id":"device-page-low","priority":5,
                "assignments":[{"id":"d2","target":{"@odata.type":"#microsoft.graph.allDevicesAssignmentTarget"}},
                               {"id":"d3","target":{"@odata.type":"#microsoft.graph.exclusionGroupAssignmentTarget","groupId":"g-excluded"}}]}"##,
        ),
    ]
}

#[test]
fn the_esp_is_chosen_device_first_then_user_then_default() {
    let pages = sample_pages();
    let users = groups(&["g-users"]);
    // A device page wins over a user page of higher priority.
    let r = resolve_esp(&pages, &groups(&["g-devices"]), Some(&users)).unwrap();
    assert_eq!(
        (r.page.id.as_str(), r.target),
        ("device-page", EspTarget::Device)
    );
    assert_eq!(r.page.blocking_apps().len(), 2);
    assert_eq!(
        r.page.install_progress_timeout_in_minutes, None,
        "a string is not a number of minutes"
    );
    // Only the all-devices page, excluded: then the user's page.
    let r = resolve_esp(&pages, &groups(&["g-excluded"]), Some(&users)).unwrap();
    assert_eq!(
        (r.page.id.as_str(), r.target),
        ("user-page", EspTarget::User)
    );
    assert_eq!(r.page.timeout_minutes(), 30);
    // Self-deploying (no user): the user's page does not count; the default applies.
    let r = resolve_esp(&pages, &groups(&["g-excluded"]), None).unwrap();
    assert_eq!(r.target, EspTarget::Default);
    assert!(r.page.is_default() && r.page.shows_progress());
    // Nothing assigned but all devices: the all-devices page.
    let r = resolve_esp(&pages, &groups(&[]), None).unwrap();
    assert_eq!(r.page.id, "device-page-low");
    assert_eq!(resolve_esp(&[], &groups(&[]), None), None);
}

fn imported(identifier: &str, kind: &str) -> ImportedDeviceIdentity {
    ImportedDeviceIdentity {
        id: identifier.into(),
        imported_device_identifier: Some(identifier.into()),
        imported_device_identity_type: Some(kind.into()),
        ..Default::default()
    }
}

#[test]
fn corporate_identifiers_match_all_three_parts() {
    let list = vec![
        imported(
            "Dell, Inc.,Latitude 7440,ABC.123",
            "manufacturerModelSerial",
        ),
        imported("352099001761481", "imei"),
    ];
    assert!(matches!(
        corporate_identifier(&list, "dell, inc.", "LATITUDE 7440", "abc123"),
        CorporateIdentifierMatch::Listed(_)
    ));
    assert_eq!(
        corporate_identifier(&list, "Dell, Inc.", "Latitude 5440", "ABC123"),
        CorporateIdentifierMatch::NotListed
    );
    assert_eq!(
        corporate_identifier(&list[1..], "HP", "x", "y"),
        CorporateIdentifierMatch::NoneUploaded
    );
    assert_eq!(list[1].windows_parts(), None);
    assert_eq!(
        imported("only,two", "manufacturerModelSerial").windows_parts(),
        None
    );
}

#[test]
fn deployments_of_a_serial_come_newest_first() {
    let e = |id: &str, s: &str, at: &str, state: &str| AutopilotEvent {
        id: id.into(),
        device_serial_number: Some(s.into()),
        event_date_time: Some(at.into()),
        deployment_state: Some(state.into()),
        ..Default::default()
    };
    let list = vec![
        e("1", "S1", "2026-11-01T00:00:00Z", "success"),
        e("2", "s1", "2026-11-20T00:00:00Z", "failure"),
        e("3", "S2", "2026-11-21T00:00:00Z", "failure"),
    ];
    let got = events_for_serial(&list, "S1");
    assert_eq!(
        got.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["2", "1"]
    );
    assert!(got[0].failed() && !got[1].failed());
}

#[test]
fn an_older_snapshot_without_the_autopilot_sources_still_loads() {
    let text = format!(
        r#"{{"schema":"{}","collected_at":"2026-11-27T03:00:00Z","tenant_id":"t","cloud":"global",
            "graph_base":"https://graph.microsoft.com","token_kind":"app-only","sources":{{
            "organization":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "subscribed_skus":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "mdm_policies":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "mam_policies":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "enrollment_configurations":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "device_registration_policy":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "users":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "group_memberships":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "entra_devices":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "managed_devices":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "troubleshooting_events":{{"status":"missing","reason":{{"kind":"not-collected"}}}},
            "conditional_access_policies":{{"status":"missing","reason":{{"kind":"not-collected"}}}}}}}}"#,
        crate::tenant::snapshot::TENANT_SNAPSHOT_SCHEMA
    );
    let snap = crate::tenant::TenantSnapshot::from_json(&text, "old.json").unwrap();
    assert_eq!(
        snap.sources.autopilot_devices.get().err(),
        Some(&crate::tenant::MissingReason::NotCollected)
    );
    assert!(snap.sources.enrollment_status_pages.data().is_none());
}

#[test]
fn autopilot_sources_round_trip_through_a_saved_snapshot() {
    let mut snap = crate::tenant::TenantSnapshot::new(
        "t",
        "global",
        "https://graph.microsoft.com",
        crate::tenant::snapshot::TokenKind::AppOnly,
        chrono::DateTime::parse_from_rfc3339("2026-11-27T03:00:00Z")
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap(),
    );
    snap.sources.autopilot_profiles = crate::tenant::Source::collected("GET p", sample_profiles());
    snap.sources.enrollment_status_pages =
        crate::tenant::Source::collected("GET e", sample_pages());
    snap.sources.imported_device_identities = crate::tenant::Source::collected(
        "GET i",
        vec![imported("HP,EliteBook,5CG1", "manufacturerModelSerial")],
    );
    let json = snap.to_json().unwrap();
    let back = crate::tenant::TenantSnapshot::from_json(&json, "mem").unwrap();
    assert_eq!(back.to_json().unwrap(), json);
    let profiles = back.sources.autopilot_profiles.data().unwrap();
    assert_eq!(
        profiles.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["p-all", "p-new", "p-old"]
    );
    assert_eq!(profiles[0].join(), ProfileJoin::HybridJoin);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Hostile JSON for each Autopilot type never panics, and the accessors take what parses.
    #[test]
    fn autopilot_parsers_never_panic(text in ".{0,400}", serial in ".{0,40}") {
        let d: Result<AutopilotDeviceIdentity, _> = serde_json::from_str(&text);
        if let Ok(d) = d {
            let _ = (d.profile_status(), d.userless_enrollment(), d.entra_device_id());
        }
        if let Ok(p) = serde_json::from_str::<AutopilotProfile>(&text) {
            let _ = (p.join(), p.mode(), p.reach(&BTreeSet::new()));
        }
        if let Ok(i) = serde_json::from_str::<ImportedDeviceIdentity>(&text) {
            let _ = i.windows_parts();
            let _ = corporate_identifier(std::slice::from_ref(&i), &serial, &serial, &serial);
        }
        if let Ok(e) = serde_json::from_str::<EnrollmentStatusPage>(&text) {
            let _ = resolve_esp(std::slice::from_ref(&e), &BTreeSet::new(), None);
        }
        let _ = serde_json::from_str::<AutopilotEvent>(&text);
        let _ = is_lookup_serial(&serial);
    }

    /// Structured but odd values (wrong types, nulls) in known fields never panic either.
    #[test]
    fn odd_values_in_known_fields_never_panic(
        status in prop_oneof![Just("null".to_string()), Just("7".to_string()), Just("[]".to_string()), "\"[a-zA-Z]{0,20}\""],
        minutes in prop_oneof![Just("null".to_string()), Just("\"x\"".to_string()), Just("1e400".to_string()), Just("-5".to_string())],
    ) {
        let text = format!(
            r#"{{"id":"x","deploymentProfileAssignmentStatus":{status},"userlessEnrollmentStatus":{status},
                "installProgressTimeoutInMinutes":{minutes},"priority":{minutes},
                "outOfBoxExperienceSetting":{{"deviceUsageType":{status}}}}}"#
        );
        if let Ok(d) = serde_json::from_str::<AutopilotDeviceIdentity>(&text) {
            let _ = d.profile_status();
        }
        if let Ok(p) = serde_json::from_str::<EnrollmentStatusPage>(&text) {
            let _ = p.timeout_minutes();
        }
        if let Ok(p) = serde_json::from_str::<AutopilotProfile>(&text) {
            let _ = p.mode();
        }
    }
}
