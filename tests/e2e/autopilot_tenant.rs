//! The Autopilot tenant facts against the mock Graph: `audit --save-snapshot` captures
//! identities, profiles, the ESP, corporate identifiers and deployment events in Graph's shapes
//! and request shapes (beta, `$select`, `$expand`, paging); a missing permission is a typed
//! missing reason, not the end of the run; Graph's 500 to `$select` and its 400 to some serial
//! filters are worked around; targeted and bulk look-ups find the same records.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use enroll_doctor::config::{AuthMethod, FlagOverrides, Settings};
use enroll_doctor::graph::GraphClient;
use enroll_doctor::tenant::autopilot::{self, CorporateIdentifierMatch, UserlessEnrollment};
use enroll_doctor::tenant::collect::{CollectOptions, UserSelection};
use enroll_doctor::tenant::device_records::{self, DeviceLookup, FleetStrategy};
use enroll_doctor::tenant::{MissingReason, TenantSnapshot};
use mock_graph::{BlockingMockGraph, Fault};
use serde_json::Value;

use super::tenant::{Auth, fixture, run};

fn save(mock: &BlockingMockGraph, auth: Auth, path: &Path) -> (i32, String, String) {
    run(
        mock,
        auth,
        &[
            "audit",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--save-snapshot",
            path.to_str().unwrap_or_default(),
        ],
    )
}

fn source<'a>(snap: &'a Value, name: &str) -> &'a Value {
    &snap["sources"][name]
}

#[test]
fn audit_save_snapshot_captures_the_autopilot_facts() {
    let mock = fixture("fabrikam");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("snap.json");
    let (code, out, err) = save(&mock, Auth::App("auditor"), &p);
    assert_eq!(code, 0, "{out}\n{err}");
    let text = std::fs::read_to_string(&p).unwrap();
    let snap: Value = serde_json::from_str(&text).unwrap();

    let devices = source(&snap, "autopilot_devices");
    assert_eq!(devices["status"], "collected", "{devices}");
    let endpoint = devices["endpoint"].as_str().unwrap_or_default();
    assert!(
        endpoint.starts_with(
            "GET /beta/deviceManagement/windowsAutopilotDeviceIdentities?$select=id,serialNumber"
        ),
        "{endpoint}"
    );
    assert_eq!(devices["data"].as_array().map(Vec::len), Some(5));
    assert!(!text.contains("deviceAccountPassword") && !text.contains("productKey"));

    let profiles = source(&snap, "autopilot_profiles");
    assert_eq!(
        profiles["endpoint"],
        "GET /beta/deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments"
    );
    let pages = source(&snap, "enrollment_status_pages");
    assert_eq!(pages["status"], "collected");
    assert_eq!(
        source(&snap, "imported_device_identities")["data"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(
        source(&snap, "autopilot_events")["data"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // The facts read back typed from the file, and the look-ups answer over them.
    let loaded = TenantSnapshot::load(&p).unwrap();
    let s = &loaded.sources;
    let ids = s.autopilot_devices.data().unwrap();
    let blocked = autopilot::find_identity(ids, "fabap0203", Some("HP")).unwrap();
    assert_eq!(blocked.userless_enrollment(), UserlessEnrollment::Blocked);
    let hybrid_user = autopilot::find_identity(ids, "FABAP0204", None).unwrap();
    assert_eq!(
        hybrid_user.assigned_user(),
        Some("ivan.petrov@fabrikam.com")
    );
    let profiles = s.autopilot_profiles.data().unwrap();
    let sales = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c01".to_string();
    let kiosk = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c02".to_string();
    let both = autopilot::resolve_profile(profiles, &[sales, kiosk].into());
    assert!(both.is_conflict());
    assert_eq!(both.applied.map(|p| p.name()), Some("Kiosk self-deploying"));
    let kiosk_team: BTreeSet<String> = ["3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b3".to_string()].into();
    let esp =
        autopilot::esp::resolve_esp(s.enrollment_status_pages.data().unwrap(), &kiosk_team, None)
            .unwrap();
    assert_eq!(
        (esp.page.name(), esp.page.timeout_minutes()),
        ("Kiosk ESP", 15)
    );
    assert_eq!(esp.page.blocking_apps().len(), 2);
    let imported = s.imported_device_identities.data().unwrap();
    assert!(matches!(
        autopilot::corporate_identifier(imported, "HP", "HP EliteBook 840 G10", "5CG4101ABC"),
        CorporateIdentifierMatch::Listed(_)
    ));
    assert_eq!(
        autopilot::corporate_identifier(imported, "HP", "HP ProBook 450 G10", "FAB-AP-0201"),
        CorporateIdentifierMatch::NotListed
    );
    let failed = autopilot::events_for_serial(s.autopilot_events.data().unwrap(), "FABAP0203");
    assert_eq!(
        failed
            .first()
            .and_then(|e| e.enrollment_failure_details.as_deref()),
        Some("0x81036502")
    );

    // The request shapes: every Autopilot read is beta, `$select`ed where the type is not
    // polymorphic, and the ESP came with the restrictions (no extra request).
    let log = mock.handle().requests();
    let autopilot_reads: Vec<&str> = log
        .iter()
        .map(|r| r.path_and_query.as_str())
        .filter(|p| {
            [
                "windowsAutopilot",
                "importedDeviceIdentities",
                "autopilotEvents",
            ]
            .iter()
            .any(|k| p.contains(k))
        })
        .collect();
    assert_eq!(autopilot_reads.len(), 4, "{autopilot_reads:?}");
    for r in &autopilot_reads {
        assert!(r.starts_with("/beta/deviceManagement/"), "{r}");
        assert!(
            r.contains("%24select=") || r.contains("$select=") || r.contains("expand=assignments"),
            "{r}"
        );
    }
    assert_eq!(
        log.iter()
            .filter(|r| r.path_and_query.contains("deviceEnrollmentConfigurations"))
            .count(),
        1
    );
}

#[test]
fn the_contoso_demo_tenant_has_an_autopilot_device_without_a_profile() {
    let mock = fixture("contoso");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("snap.json");
    let (code, out, err) = save(&mock, Auth::App("auditor"), &p);
    assert_eq!(code, 0, "{out}\n{err}");
    let snap = TenantSnapshot::load(&p).unwrap();
    let ids = snap.sources.autopilot_devices.data().unwrap();
    let d = autopilot::find_identity(ids, "CZC4417AP1", None).unwrap();
    assert!(!d.profile_status().is_assigned());
    // Not in the profile's group: no profile reaches it.
    let r = autopilot::resolve_profile(
        snap.sources.autopilot_profiles.data().unwrap(),
        &BTreeSet::new(),
    );
    assert_eq!(r.applied, None);
}

#[test]
fn a_missing_permission_is_a_typed_reason_not_a_failed_run() {
    let mock = fixture("fabrikam");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("snap.json");
    let (code, out, err) = save(&mock, Auth::App("limited"), &p);
    assert_ne!(code, 2, "the run must not fail: {out}\n{err}");
    let snap = TenantSnapshot::load(&p).unwrap();
    let s = &snap.sources;
    let needed = |r: Option<&MissingReason>| match r {
        Some(MissingReason::InsufficientPermission { needed }) => needed.clone(),
        other => panic!("expected a permission skip, got {other:?}"),
    };
    for src in [
        s.autopilot_devices.get().err(),
        s.imported_device_identities.get().err(),
    ] {
        assert_eq!(needed(src), ["DeviceManagementServiceConfig.Read.All"]);
    }
    assert_eq!(
        needed(s.autopilot_profiles.get().err()),
        ["DeviceManagementServiceConfig.Read.All"]
    );
    assert_eq!(
        needed(s.enrollment_status_pages.get().err()),
        ["DeviceManagementServiceConfig.Read.All"]
    );
    assert_eq!(
        needed(s.autopilot_events.get().err()),
        [
            "DeviceManagementManagedDevices.Read.All",
            "DeviceManagementConfiguration.Read.All"
        ]
    );
    // The directory sources the app may read are still there.
    assert!(s.users.data().is_some());
}

#[test]
fn a_500_to_select_on_the_identities_is_read_again_without_it() {
    let mock = fixture("fabrikam");
    mock.handle().inject(
        Fault::ServerError {
            status: 500,
            retry_after: None,
        }
        .on("/beta/deviceManagement/windowsAutopilotDeviceIdentities")
        .times(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("snap.json");
    let (code, out, err) = save(&mock, Auth::App("auditor"), &p);
    assert_eq!(code, 0, "{out}\n{err}");
    let snap = TenantSnapshot::load(&p).unwrap();
    let (data, endpoint) = snap.sources.autopilot_devices.get().unwrap();
    assert_eq!(data.len(), 5);
    assert!(endpoint.contains("read without it"), "{endpoint}");
}

fn fleet_settings(mock: &BlockingMockGraph) -> Settings {
    let token = mock.handle().token_for("auditor").unwrap();
    let env: HashMap<String, String> = [
        ("AZURE_TENANT_ID".to_string(), mock.tenant_id()),
        ("ENROLL_DOCTOR_ACCESS_TOKEN".to_string(), token),
    ]
    .into_iter()
    .collect();
    let flags = FlagOverrides {
        graph_url: Some(mock.base_url()),
        login_url: Some(mock.base_url()),
        auth: Some(AuthMethod::AccessToken),
        ..Default::default()
    };
    Settings::from_map(None, &env, &flags).unwrap()
}

#[test]
fn targeted_and_bulk_autopilot_lookups_find_the_same_records() {
    let mock = fixture("fabrikam");
    let settings = fleet_settings(&mock);
    let lookup = DeviceLookup {
        // One plain serial, one Graph refuses in `contains` (hyphen), one not registered.
        serial_numbers: ["5CG4101ABC", "FAB-AP-0201", "NOTREGISTERED1"]
            .map(String::from)
            .into(),
        ..Default::default()
    };
    let opts = CollectOptions {
        users: UserSelection::None,
        ..CollectOptions::tenant_only("custom")
    };
    // The collection's futures are deep in a debug build: run them on a thread with the
    // stack the binary's main thread has.
    let snap = |strategy| {
        let (settings, opts, lookup) = (settings.clone(), opts.clone(), lookup.clone());
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(move || {
                let rt = tokio::runtime::Runtime::new().unwrap();
                let client = GraphClient::from_settings(&settings).unwrap();
                rt.block_on(device_records::collect_fleet(
                    &client,
                    &opts,
                    &lookup,
                    strategy,
                    chrono::Utc::now(),
                ))
                .unwrap()
            })
            .unwrap()
            .join()
            .unwrap()
    };
    mock.handle().clear_requests();
    let targeted = snap(FleetStrategy::Targeted);
    let log = mock.handle().requests();
    let lookups: Vec<&str> = log
        .iter()
        .filter(|r| {
            r.in_batch
                && r.path_and_query
                    .contains("windowsAutopilotDeviceIdentities")
        })
        .map(|r| r.path_and_query.as_str())
        .collect();
    assert_eq!(lookups.len(), 3, "{lookups:?}");
    assert!(
        lookups.iter().all(|p| p.contains("contains(serialNumber")),
        "{lookups:?}"
    );
    let bulk = snap(FleetStrategy::Bulk);
    let ids = |s: &TenantSnapshot| {
        s.sources
            .autopilot_devices
            .data()
            .map(|l| l.iter().map(|d| d.id.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(ids(&targeted).len(), 2);
    assert_eq!(ids(&targeted), ids(&bulk));
    assert!(
        targeted
            .sources
            .autopilot_devices
            .endpoint()
            .is_some_and(|e| e.contains("for the serials the filter refused")),
        "the hyphenated serial was read through the listing"
    );
    assert_eq!(
        targeted.sources.imported_device_identities.data(),
        bulk.sources.imported_device_identities.data()
    );
}
