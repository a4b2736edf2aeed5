//! AP001–AP008 through `diagnose` against the mock Graph: each check passes, fails and is left
//! open (device data missing, or a permission missing, named) for device folders made of the
//! Autopilot fixtures (`tests/fixtures/autopilot/`, `mocks/devices/autopilot-no-profile`) and a
//! copy of the Contoso tenant with the Autopilot records each case needs.

use std::path::{Path, PathBuf};

use mock_graph::MockConfig;
use serde_json::{Value, json};

use super::tenant::{Auth, json_of, run, start};

const CONTOSO: &str = "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13";
/// The group the "Contoso user-driven" profile targets.
const AUTOPILOT_GROUP: &str = "c0c0c0c0-1111-4222-8333-444455556601";
/// The group the self-deploying profile targets.
const KIOSK_GROUP: &str = "c0c0c0c0-1111-4222-8333-444455556602";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn autopilot_fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/autopilot").join(name)
}

/// A device folder: the files of `from` (all but `drop`), plus `extra` files.
fn device(from: &Path, drop: &[&str], extra: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if drop.contains(&name.as_str()) || name == "EXPECTED.md" {
            continue;
        }
        std::fs::copy(e.path(), dir.path().join(&name)).unwrap();
    }
    for (name, text) in extra {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// MdmDiagnosticsTool's device hash file naming `serial`.
fn device_hash(serial: &str) -> (&'static str, String) {
    (
        "DeviceHash_PC-AP.csv",
        format!(
            "Device Serial Number,Windows Product ID,Hardware Hash\r\n{serial},00330-80000-00000-AA001,T0FBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==\r\n"
        ),
    )
}

/// The collector bundle's hardware section alone.
fn hardware(manufacturer: &str, model: &str, serial: &str) -> (&'static str, String) {
    (
        "PC-AP-enroll-doctor.json",
        json!({
            "schema": "enroll-doctor/device-report@1",
            "collector": {"version": "2", "hostName": "PC-AP", "elevated": true, "isSystem": false,
                          "collectedAt": "2026-11-25T10:00:00Z", "notes": []},
            "hardware": {"manufacturer": manufacturer, "model": model, "serialNumber": serial,
                         "error": null}
        })
        .to_string(),
    )
}

fn identity(n: u32, serial: &str, status: &str, userless: &str, entra: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.windowsAutopilotDeviceIdentity",
        "id": format!("e7f8a9b0-00{n:02}-4c1d-8e2f-3a4b5c6d7e01"),
        "serialNumber": serial, "manufacturer": "HP", "model": "HP EliteBook 860 G10",
        "groupTag": "", "enrollmentState": "notContacted",
        "lastContactedDateTime": "0001-01-01T00:00:00Z",
        "azureActiveDirectoryDeviceId": entra, "azureAdDeviceId": entra,
        "managedDeviceId": "00000000-0000-0000-0000-000000000000",
        "userPrincipalName": "", "addressableUserName": "", "displayName": "",
        "deploymentProfileAssignmentStatus": status,
        "deploymentProfileAssignmentDetailedStatus": "none",
        "userlessEnrollmentStatus": userless, "remediationState": "noRemediationRequired"
    })
}

fn entra_device(n: u32, device_id: &str, serial: &str) -> Value {
    json!({
        "id": format!("0a44{n:02}b2-d3e4-4f5a-9b0c-1d2e3f4a4417"), "deviceId": device_id,
        "displayName": serial, "accountEnabled": true, "operatingSystem": "Windows",
        "operatingSystemVersion": "10.0.0.0", "trustType": "AzureAd",
        "profileType": "RegisteredDevice", "registrationDateTime": "2026-11-18T14:02:11Z",
        "isManaged": false, "deviceOwnership": "Company", "physicalIds": [],
        "alternativeSecurityIds": [], "systemLabels": []
    })
}

fn read(dir: &Path, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap_or_else(|_| "[]".into()))
        .unwrap()
}

fn write(dir: &Path, file: &str, v: &Value) {
    std::fs::write(dir.join(file), serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn push(dir: &Path, file: &str, items: Vec<Value>) {
    let mut v = read(dir, file);
    if let Some(a) = v.as_array_mut() {
        a.extend(items);
    }
    write(dir, file, &v);
}

/// Contoso with two more Autopilot devices: PF3ABC12 (user-driven, in "Autopilot devices",
/// profile assigned) and CZC4417AP2 (in "Kiosk devices", whose self-deploying profile it has,
/// blocked from another userless run); `change` edits the copy further.
fn tenant(change: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("mocks/tenants/contoso");
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let d = dir.path();
    let user_driven = "aaaa0001-c2d3-4e5f-8a9b-0c1d2e3f0001";
    let kiosk = "aaaa0002-c2d3-4e5f-8a9b-0c1d2e3f0002";
    push(
        d,
        "windowsAutopilotDeviceIdentities.json",
        vec![
            identity(2, "PF3ABC12", "assignedInSync", "allowed", user_driven),
            identity(3, "CZC4417AP2", "assignedInSync", "blocked", kiosk),
        ],
    );
    push(
        d,
        "devices.json",
        vec![
            entra_device(1, user_driven, "PF3ABC12"),
            entra_device(2, kiosk, "CZC4417AP2"),
        ],
    );
    let mut groups = read(d, "groups.json");
    for g in groups.as_array_mut().into_iter().flatten() {
        if g["id"] == AUTOPILOT_GROUP {
            g["members"] = json!(["0a4401b2-d3e4-4f5a-9b0c-1d2e3f4a4417"]);
        }
    }
    groups.as_array_mut().unwrap().push(json!({
        "id": KIOSK_GROUP, "displayName": "Kiosk devices", "mailEnabled": false,
        "mailNickname": "KioskDevices", "securityEnabled": true, "groupTypes": [],
        "createdDateTime": "2025-01-15T09:00:00Z",
        "members": ["0a4402b2-d3e4-4f5a-9b0c-1d2e3f4a4417"]
    }));
    write(d, "groups.json", &groups);
    let mut profiles = read(d, "windowsAutopilotDeploymentProfiles.json");
    let mut kiosk_profile = profiles[0].clone();
    kiosk_profile["id"] = json!("c1d2e3f4-0002-4a5b-8c6d-7e8f9a0b1c02");
    kiosk_profile["displayName"] = json!("Contoso kiosk self-deploying");
    kiosk_profile["createdDateTime"] = json!("2025-02-01T09:00:00Z");
    kiosk_profile["outOfBoxExperienceSetting"]["deviceUsageType"] = json!("shared");
    kiosk_profile["outOfBoxExperienceSettings"]["deviceUsageType"] = json!("shared");
    kiosk_profile["assignments"][0]["id"] = json!(format!(
        "c1d2e3f4-0002-4a5b-8c6d-7e8f9a0b1c02_{KIOSK_GROUP}"
    ));
    kiosk_profile["assignments"][0]["sourceId"] = json!("c1d2e3f4-0002-4a5b-8c6d-7e8f9a0b1c02");
    kiosk_profile["assignments"][0]["target"]["groupId"] = json!(KIOSK_GROUP);
    profiles.as_array_mut().unwrap().push(kiosk_profile);
    write(d, "windowsAutopilotDeploymentProfiles.json", &profiles);
    change(d);
    dir
}

/// The findings of `diagnose` of `device` against `tenant` signed in as `auth`.
fn diagnose(tenant: &Path, auth: Auth, device: &Path) -> Value {
    let mock = start(MockConfig::dir(tenant));
    let (code, out, err) = run(
        &mock,
        auth,
        &[
            "diagnose",
            "-d",
            device.to_str().unwrap_or_default(),
            "--as-of",
            "2026-11-26",
            "-f",
            "json",
        ],
    );
    assert!(code == 0 || code == 1, "exit {code}\n{err}");
    json_of(&out, &err)
}

fn finding<'a>(report: &'a Value, check: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["check"] == check))
        .unwrap_or_else(|| panic!("no {check} finding in {report}"))
}

/// Asserts `check`'s status and that its finding (summary, evidence, skip reason) mentions
/// each of `texts`.
fn expect(report: &Value, check: &str, status: &str, texts: &[&str]) {
    let f = finding(report, check);
    assert_eq!(f["status"], status, "{check}: {f}");
    let all = f.to_string();
    for t in texts {
        assert!(all.contains(t), "{check} does not mention {t}: {f}");
    }
}

fn first_cause(report: &Value) -> Option<&str> {
    report["diagnoses"][0]["causes"][0].as_str()
}

const APP: Auth = Auth::App("auditor");

#[test]
fn registered_device_without_a_profile_is_blocked_by_ap002() {
    let t = tenant(|_| {});
    let r = diagnose(
        t.path(),
        APP,
        &root().join("mocks/devices/autopilot-no-profile"),
    );
    expect(&r, "AP001", "pass", &["CZC4417AP1"]);
    expect(
        &r,
        "AP002",
        "fail",
        &["notAssigned", "Autopilot devices", "event 815"],
    );
    // Nothing of the ESP on the device: the page is named, the verdict left open.
    expect(
        &r,
        "AP005",
        "skip",
        &["EnrollmentStatusTracking", "All users and all devices"],
    );
    expect(&r, "AP007", "pass", &["Enterprise"]);
    assert_eq!(
        r["diagnoses"][0]["verdict"], "blocked",
        "{}",
        r["diagnoses"]
    );
    assert_eq!(first_cause(&r), Some("AP002"), "{}", r["diagnoses"]);
}

#[test]
fn a_registered_user_driven_device_passes_registration_profile_mode_and_reuse() {
    let t = tenant(|_| {});
    let r = diagnose(t.path(), APP, &autopilot_fixture("profile-this-tenant"));
    expect(&r, "AP001", "pass", &["PF3ABC12"]);
    expect(&r, "AP002", "pass", &["Contoso user-driven"]);
    expect(&r, "AP003", "pass", &["user-driven"]);
    expect(&r, "AP004", "pass", &["userlessEnrollmentStatus allowed"]);
    expect(&r, "AP006", "pass", &["registered with Autopilot"]);
    expect(&r, "AP007", "pass", &[]);
    // A user-driven profile: the userless MDM configuration does not apply.
    expect(&r, "AP008", "skip", &["user-driven Autopilot"]);
}

#[test]
fn an_unregistered_serial_and_a_profile_of_another_tenant_fail_ap001() {
    let t = tenant(|_| {});
    let dev = device(
        &autopilot_fixture("not-registered"),
        &[],
        &[device_hash("CZC9999AP9")],
    );
    let r = diagnose(t.path(), APP, dev.path());
    expect(&r, "AP001", "fail", &["CZC9999AP9", "event 807"]);
    // AP002–AP004 need the registration first.
    expect(&r, "AP002", "skip", &["AP001"]);
    let r = diagnose(t.path(), APP, &autopilot_fixture("other-tenant"));
    expect(
        &r,
        "AP001",
        "fail",
        &["another tenant", "fabrikam.onmicrosoft.com"],
    );
    assert_eq!(first_cause(&r), Some("AP001"), "{}", r["diagnoses"]);
}

#[test]
fn without_the_service_configuration_permission_each_check_names_it() {
    let t = tenant(|_| {});
    let r = diagnose(
        t.path(),
        Auth::App("limited"),
        &autopilot_fixture("profile-this-tenant"),
    );
    for check in ["AP001", "AP002", "AP004"] {
        expect(
            &r,
            check,
            "skip",
            &["DeviceManagementServiceConfig.Read.All"],
        );
    }
    expect(
        &r,
        "AP005",
        "skip",
        &["DeviceManagementServiceConfig.Read.All"],
    );
}

#[test]
fn self_deploying_needs_an_attesting_tpm_and_a_device_not_blocked_for_reuse() {
    let t = tenant(|_| {});
    let tpm12 = device(
        &autopilot_fixture("self-deploying-tpm12"),
        &[],
        &[device_hash("CZC4417AP2")],
    );
    let r = diagnose(t.path(), APP, tpm12.path());
    expect(&r, "AP003", "fail", &["self-deploying", "TPM"]);
    expect(&r, "AP004", "fail", &["CZC4417AP2", "0x80180014"]);
    // The app-only token cannot read the MDM user scope: named.
    expect(&r, "AP008", "skip", &["delegated"]);
    // Without the TPM facts (and no attestation error logged) AP003 asks for them.
    let no_tpm = device(
        &autopilot_fixture("self-deploying-tpm12"),
        &["tpmtool.txt", "autopilot-events.xml"],
        &[device_hash("CZC4417AP2")],
    );
    let r = diagnose(t.path(), APP, no_tpm.path());
    expect(&r, "AP003", "skip", &["tpmtool"]);
    // Delegated: only "Microsoft Intune" has a scope, one MDM configuration.
    let r = diagnose(t.path(), Auth::Delegated("cli"), tpm12.path());
    expect(&r, "AP008", "pass", &["Microsoft Intune"]);
    let two = tenant(|d| {
        let mut p = read(d, "mdmPolicies.json");
        for x in p.as_array_mut().into_iter().flatten() {
            x["appliesTo"] = json!("all");
        }
        write(d, "mdmPolicies.json", &p);
    });
    let r = diagnose(two.path(), Auth::Delegated("cli"), tpm12.path());
    expect(
        &r,
        "AP008",
        "fail",
        &["Microsoft Intune Enrollment", "0xC1036501"],
    );
}

#[test]
fn the_enrollment_status_page_fails_on_a_time_out_and_warns_on_an_app_in_progress() {
    let t = tenant(|_| {});
    let r = diagnose(t.path(), APP, &autopilot_fixture("first-sync-timeout"));
    expect(&r, "AP005", "fail", &["time-out"]);
    let r = diagnose(t.path(), APP, &autopilot_fixture("esp-blocking-app"));
    expect(
        &r,
        "AP005",
        "warn",
        &["Win32App_4d7e1f2a-5b6c-4d8e-9f0a-1b2c3d4e5f6a_1"],
    );
}

#[test]
fn windows_home_fails_ap007_and_a_device_without_its_edition_is_left_open() {
    let t = tenant(|_| {});
    let r = diagnose(t.path(), APP, &autopilot_fixture("windows-home"));
    expect(&r, "AP007", "fail", &["0x80180022"]);
    let dev = device(&autopilot_fixture("profile-this-tenant"), &["os.reg"], &[]);
    let r = diagnose(t.path(), APP, dev.path());
    expect(&r, "AP007", "skip", &["CurrentVersion"]);
}

#[test]
fn corporate_identifiers_make_an_entra_join_personal_and_the_restriction_blocks_it() {
    let entra_join = root().join("tests/fixtures/correlate/pc0200-entra-join");
    let hw = hardware("Lenovo", "ThinkPad T14 Gen 5", "PF5ABC99");
    let dev = device(&entra_join, &[], &[hw]);
    // Identifiers of another device uploaded; the restriction that wins for tlee (Pilot)
    // blocks personal Windows devices instead of Windows.
    let identifiers = |listed: bool| {
        move |d: &Path| {
            let mut ids = vec![json!({
                "@odata.type": "#microsoft.graph.importedDeviceIdentity",
                "id": "c3d4e5f6-0001-4a7b-8c9d-0e1f2a3b4c01",
                "importedDeviceIdentifier": "HP,HP EliteBook 840 G10,5CG4101ABC",
                "importedDeviceIdentityType": "manufacturerModelSerial",
                "enrollmentState": "notContacted", "platform": "windows",
                "lastContactedDateTime": "0001-01-01T00:00:00Z",
                "createdDateTime": "2025-04-01T00:00:00Z"
            })];
            if listed {
                let mut mine = ids[0].clone();
                mine["id"] = json!("c3d4e5f6-0002-4a7b-8c9d-0e1f2a3b4c02");
                mine["importedDeviceIdentifier"] = json!("Lenovo,ThinkPad T14 Gen 5,PF5ABC99");
                ids.push(mine);
            }
            write(d, "importedDeviceIdentities.json", &json!(ids));
            let mut configs = read(d, "deviceEnrollmentConfigurations.json");
            for c in configs.as_array_mut().into_iter().flatten() {
                if c["displayName"] == "Pilot Windows block" {
                    c["platformRestriction"]["platformBlocked"] = json!(false);
                    c["platformRestriction"]["personalDeviceEnrollmentBlocked"] = json!(true);
                }
            }
            write(d, "deviceEnrollmentConfigurations.json", &configs);
        }
    };
    let blocked = tenant(identifiers(false));
    let r = diagnose(blocked.path(), APP, dev.path());
    expect(
        &r,
        "AP006",
        "fail",
        &["PF5ABC99", "Pilot Windows block", "0x80180014"],
    );
    // USR005 judges the same ownership for the user's restriction.
    expect(&r, "USR005", "fail", &["corporate identifiers"]);
    let listed = tenant(identifiers(true));
    let r = diagnose(listed.path(), APP, dev.path());
    expect(
        &r,
        "AP006",
        "pass",
        &["listed among the corporate identifiers"],
    );
    let r = diagnose(blocked.path(), Auth::App("limited"), dev.path());
    expect(
        &r,
        "AP006",
        "skip",
        &["DeviceManagementServiceConfig.Read.All"],
    );
    // Without the device's hardware identity the check is left open.
    let r = diagnose(blocked.path(), APP, &entra_join);
    expect(
        &r,
        "AP006",
        "skip",
        &["manufacturer, model and serial number"],
    );
}

#[test]
fn the_autopilot_lookups_are_batched_selected_and_filtered_by_serial() {
    // The mock also fails the test on any request Graph would refuse (a $select property
    // Graph does not have, a wrong path), inside $batch too.
    let t = tenant(|_| {});
    let mock = start(MockConfig::dir(t.path()));
    let dev = root().join("mocks/devices/autopilot-no-profile");
    let (code, out, err) = run(
        &mock,
        APP,
        &[
            "diagnose",
            "-d",
            dev.to_str().unwrap_or_default(),
            "--as-of",
            "2026-11-26",
            "-f",
            "json",
        ],
    );
    assert!(code == 0 || code == 1, "{out}\n{err}");
    assert_eq!(first_cause(&json_of(&out, &err)), Some("AP002"));
    let log: Vec<(String, bool)> = mock
        .handle()
        .requests()
        .into_iter()
        .map(|r| (r.path_and_query, r.in_batch))
        .collect();
    let seen =
        |needle: &str, batched: bool| log.iter().any(|(p, b)| *b == batched && p.contains(needle));
    assert!(
        seen("/windowsAutopilotDeviceIdentities?", true)
            && log.iter().any(|(p, _)| p.contains("contains(serialNumber")
                && p.contains("CZC4417AP1")
                && p.contains("$select=")),
        "{log:?}"
    );
    assert!(
        seen(
            "/devices(deviceId='4417a0b1-c2d3-4e5f-8a9b-0c1d2e3f4417')/transitiveMemberOf",
            true
        ),
        "{log:?}"
    );
    assert!(seen(&format!("/groups/{AUTOPILOT_GROUP}"), true), "{log:?}");
    assert!(
        seen("/windowsAutopilotDeploymentProfiles?", false)
            && log.iter().any(|(p, _)| p.contains("$expand=assignments")),
        "{log:?}"
    );
    assert_eq!(CONTOSO, mock.tenant_id());
}
