//! What the Autopilot unit tests share: a small tenant built in code (one registered device, a
//! user-driven profile on its group, a default ESP) and device reports with Autopilot evidence.

use chrono::{DateTime, TimeZone, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::AutopilotFacts;
use crate::checks::correlate::facts::CorrelationFacts;
use crate::checks::correlate::keys::device_keys;
use crate::checks::device::analyse;
use crate::device::autopilot::{AutopilotEvidence, AutopilotProfile, ProfileSource};
use crate::device::host::{HardwareInfo, TpmInfo};
use crate::device::report::{DeviceReport, Location, OsInfo};
use crate::model::{Finding, SkipReason, Status};
use crate::tenant::snapshot::{MissingReason, Source, TenantSnapshot, TokenKind};

pub(crate) const TENANT: &str = "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13";
pub(crate) const SERIAL: &str = "CZC4417AP1";
pub(crate) const ENTRA_ID: &str = "aa11bb22-0000-4c3d-8e4f-5a6b7c8d0001";
pub(crate) const GROUP_A: &str = "c0c0c0c0-1111-4222-8333-444455556601";
pub(crate) const GROUP_B: &str = "c0c0c0c0-1111-4222-8333-444455556602";

pub(crate) fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn loc(file: &str) -> Location {
    Location {
        file: file.into(),
        line: Some(1),
        record: None,
    }
}

/// Sets a source from JSON.
pub(crate) fn set<T: DeserializeOwned>(src: &mut Source<T>, v: Value) {
    match serde_json::from_value(v) {
        Ok(data) => *src = Source::collected("GET /beta/test", data),
        Err(e) => panic!("test source does not deserialise: {e}"),
    }
}

/// A source that could not be read for lack of permission.
pub(crate) fn denied<T>(src: &mut Source<T>, needed: &str) {
    *src = Source::Missing {
        reason: MissingReason::InsufficientPermission {
            needed: vec![needed.into()],
        },
    };
}

pub(crate) fn identity(status: &str) -> Value {
    json!({
        "id": "e7f8a9b0-0001-4c1d-8e2f-3a4b5c6d7e01",
        "serialNumber": SERIAL,
        "manufacturer": "HP",
        "model": "HP EliteBook 860 G10",
        "enrollmentState": "notContacted",
        "azureActiveDirectoryDeviceId": ENTRA_ID,
        "deploymentProfileAssignmentStatus": status,
        "userlessEnrollmentStatus": "allowed",
    })
}

pub(crate) fn profile(id: &str, name: &str, created: &str, group: &str, usage: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile",
        "id": id,
        "displayName": name,
        "createdDateTime": created,
        "outOfBoxExperienceSetting": {"deviceUsageType": usage, "userType": "standard"},
        "preprovisioningAllowed": false,
        "assignments": [{"id": format!("{id}_{group}"), "target": {
            "@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group}}],
    })
}

/// One registered device (in GROUP_A), one user-driven profile assigned to GROUP_A, the
/// default ESP, no corporate identifiers, the default restriction allowing everything.
pub(crate) fn snapshot() -> TenantSnapshot {
    let mut snap = TenantSnapshot::new(
        TENANT,
        "global",
        "https://graph.microsoft.com",
        TokenKind::AppOnly,
        as_of(),
    );
    let s = &mut snap.sources;
    set(
        &mut s.autopilot_devices,
        json!([identity("assignedInSync")]),
    );
    set(
        &mut s.autopilot_profiles,
        json!([profile(
            "p1",
            "Contoso user-driven",
            "2025-01-15T09:00:00Z",
            GROUP_A,
            "singleUser"
        )]),
    );
    set(
        &mut s.enrollment_status_pages,
        json!([{
            "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
            "id": "x_DefaultWindows10EnrollmentCompletionPageConfiguration",
            "displayName": "All users and all devices", "priority": 0,
            "showInstallationProgress": true, "installProgressTimeoutInMinutes": 60,
            "selectedMobileAppIds": [], "assignments": []
        }]),
    );
    set(&mut s.imported_device_identities, json!([]));
    set(
        &mut s.device_group_memberships,
        json!({"members": {ENTRA_ID: [GROUP_A]},
               "groups": {GROUP_A: {"id": GROUP_A, "displayName": "Autopilot devices"}}}),
    );
    set(
        &mut s.enrollment_configurations,
        json!([{
            "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
            "id": "x_DefaultPlatformRestrictions", "displayName": "All users and all devices",
            "priority": 0,
            "deviceEnrollmentConfigurationType": "platformRestrictions",
            "windowsRestriction": {"platformBlocked": false, "personalDeviceEnrollmentBlocked": false},
            "assignments": []
        }]),
    );
    set(
        &mut s.mdm_policies,
        json!([{"id": "0000000a-0000-0000-c000-000000000000", "displayName": "Microsoft Intune",
                "appliesTo": "all"},
               {"id": "d4ebce55-015a-49b5-a083-c84d1797ae8c", "displayName": "Microsoft Intune Enrollment",
                "appliesTo": "none"}]),
    );
    snap
}

/// The profile as the registry of a device that downloaded `name` of `tenant`.
pub(crate) fn downloaded(tenant: &str, name: &str, oobe: u32, join: u32) -> AutopilotEvidence {
    let mut p = AutopilotProfile::new(ProfileSource::Registry, loc("autopilot.reg"));
    p.tenant_id = Some(tenant.into());
    p.tenant_domain = Some("contoso.onmicrosoft.com".into());
    p.profile_name = Some(name.into());
    p.oobe_config = Some(oobe);
    p.domain_join_method = Some(join);
    AutopilotEvidence {
        profiles: vec![p],
        ..Default::default()
    }
}

/// A device with serial SERIAL, Windows Pro, and the given Autopilot evidence.
pub(crate) fn report(autopilot: Option<AutopilotEvidence>) -> DeviceReport {
    DeviceReport {
        label: "PC-AP1".into(),
        hardware: Some(HardwareInfo {
            manufacturer: Some("HP".into()),
            model: Some("HP EliteBook 860 G10".into()),
            serial_number: Some(SERIAL.into()),
            error: None,
            location: loc("PC-AP1-enroll-doctor.json"),
        }),
        os: Some(OsInfo {
            build: Some(26100),
            ubr: Some(2314),
            display_version: Some("24H2".into()),
            edition_id: Some("Professional".into()),
            product_name: Some("Windows 10 Pro".into()),
            location: loc("os.reg"),
        }),
        autopilot,
        ..Default::default()
    }
}

/// A TPM as `tpmtool` reports it.
pub(crate) fn tpm(version: &str, attest: bool) -> TpmInfo {
    TpmInfo {
        present: Some(true),
        spec_version: Some(version.into()),
        attestation_capable: Some(attest),
        location: loc("tpmtool.txt"),
        ..Default::default()
    }
}

/// One check over one device and tenant.
pub(crate) fn eval(
    snap: &TenantSnapshot,
    report: &DeviceReport,
    check: for<'a> fn(&AutopilotFacts<'a>) -> Finding,
) -> Finding {
    let analysis = analyse(report, as_of());
    let keys = device_keys(report, &analysis, None);
    let cf = CorrelationFacts::new(snap, report, &analysis, &keys, as_of());
    check(&AutopilotFacts::new(&cf))
}

pub(crate) fn assert_status(f: &Finding, status: Status) {
    assert_eq!(f.status, status, "{}: {}", f.check, f.summary);
}

pub(crate) fn assert_not_applicable(f: &Finding) {
    assert!(
        matches!(f.skip_reason, Some(SkipReason::NotApplicable { .. })),
        "{}: {} {:?}",
        f.check,
        f.summary,
        f.skip_reason
    );
}

pub(crate) fn assert_permission_skip(f: &Finding, perm: &str) {
    assert!(
        matches!(&f.skip_reason, Some(SkipReason::InsufficientPermission { needed }) if needed.iter().any(|n| n == perm)),
        "{}: {} {:?}",
        f.check,
        f.summary,
        f.skip_reason
    );
}
