//! COR004: Entra and Intune agree on whether the device is managed.

use crate::catalog::well_known::MICROSOFT_INTUNE_APP_ID;
use crate::checks::common::{R_DEVICE_API, R_MANAGED_DEVICE_API};
use crate::checks::device::enrolled::EnrolledState;
use crate::model::{Area, CheckMeta, Evidence, Finding, Permissions, Severity, Status};
use crate::tenant::snapshot::ManagedDevice;

use super::facts::CorrelationFacts;
use super::records::{describe_entra, device_records, entra_by_id, entra_location, graph};

pub const META: CheckMeta = CheckMeta {
    id: "COR004",
    name: "intune-record-mismatch",
    title: "Entra and Intune agree on whether the device is managed",
    severity: Severity::Medium,
    area: Area::Correlation,
    permissions: Permissions {
        application: &["Device.Read.All", "DeviceManagementManagedDevices.Read.All"],
        delegated: &["Device.Read.All", "DeviceManagementManagedDevices.Read.All"],
        delegated_only: false,
    },
    what_it_checks: "Compares the Entra device (isManaged, mdmAppId) with Intune managedDevices whose \
        azureADDeviceId equals the report's DeviceId, and reports a device Entra calls Intune-managed with no \
        Intune record, or an Intune record whose Entra object says otherwise.",
    why_it_matters: "A mismatch is left by deleted or retired records and by enrollment under another device \
        identity; Conditional Access and compliance then treat the device wrongly, and a lingering record may \
        count against limits. Enrollment paths: all.",
    how_to_fix: "Delete the orphaned record (Intune admin center > Devices > All devices, or the Entra device) \
        and let the device enroll or check in again; for a device enrolled under another identity, clean up \
        the stale enrollment on the device (DEV009).",
    references: &[R_MANAGED_DEVICE_API, R_DEVICE_API],
};

/// The Graph call that looks Intune managed devices up by their Entra DeviceId.
const MANAGED_BY_ID: &str = "GET /v1.0/deviceManagement/managedDevices?$filter=azureADDeviceId eq";

fn describe_managed(m: &ManagedDevice) -> String {
    format!(
        "Intune managed device \"{}\" (id {}, azureADDeviceId {}, user {}, enrolled {})",
        m.device_name.as_deref().unwrap_or("?"),
        m.id,
        m.azure_ad_device_id.as_deref().unwrap_or("none"),
        m.user_principal_name.as_deref().unwrap_or("none"),
        m.enrolled_date_time.as_deref().unwrap_or("unknown"),
    )
}

pub fn evaluate(f: &CorrelationFacts) -> Finding {
    let (snap, analysis, subject) = (f.snap, f.analysis, f.subject);
    let (managed, device_id) = match device_records(
        &META,
        f,
        &snap.sources.managed_devices,
        "the Intune managed devices",
    ) {
        Ok(v) => v,
        Err(finding) => return *finding,
    };
    let records: Vec<&ManagedDevice> = f.snap.managed_by_device_id(managed, device_id);
    let entra = snap
        .sources
        .entra_devices
        .data()
        .and_then(|d| entra_by_id(f.snap, d, device_id).first().copied());
    let entra_managed_by_intune = entra.and_then(|d| {
        d.is_managed.map(|m| {
            m && d
                .mdm_app_id
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case(MICROSOFT_INTUNE_APP_ID))
        })
    });
    // Entra's isManaged with a non-Intune mdmAppId: another MDM (Workspace ONE, MobileIron…)
    // holds the device, and Windows accepts only one MDM enrollment.
    let other_mdm = entra
        .filter(|d| d.is_managed == Some(true))
        .and_then(|d| d.mdm_app_id.as_deref())
        .filter(|a| !a.eq_ignore_ascii_case(MICROSOFT_INTUNE_APP_ID));
    let device_enrolled = analysis.enrolled.is_enrolled();
    let mut evidence: Vec<Evidence> = Vec::new();
    if records.is_empty() {
        evidence.push(graph(
            format!("0 managed devices with azureADDeviceId {device_id}"),
            format!("{MANAGED_BY_ID} '{device_id}'"),
        ));
    }
    for m in &records {
        evidence.push(graph(
            describe_managed(m),
            format!("GET /v1.0/deviceManagement/managedDevices/{}", m.id),
        ));
    }
    if let Some(d) = entra {
        evidence.push(graph(describe_entra(d), entra_location(d)));
    }
    if let Some(e) = analysis.enrolled.evidence().first() {
        evidence.push(e.clone());
    }
    let (status, summary, fix) = match (records.is_empty(), entra_managed_by_intune, device_enrolled) {
        (true, Some(true), _) => (
            Status::Fail,
            "Entra says the device is managed by Intune, but Intune has no managed device with its DeviceId (a deleted or retired record)".to_string(),
            "Delete the stale state: clean up the device's enrollment (see DEV009) and let it enroll again; Entra's isManaged flag updates when the device re-enrolls.",
        ),
        (true, _, true) => (
            Status::Fail,
            "The device has a live Intune enrollment, but Intune has no managed device with its DeviceId (the record was deleted, or it enrolled under another identity)".to_string(),
            "Remove the orphaned enrollment on the device (its Enrollments key and EnterpriseMgmt tasks, see DEV009) and let auto-enrollment run again.",
        ),
        (false, Some(false), _) => (
            Status::Warn,
            "Intune has a managed device record but Entra says the device is not managed".to_string(),
            "Let the device check in with Intune (Settings > Accounts > Access work or school > Info > Sync); if the mismatch stays, retire the Intune record and re-enroll.",
        ),
        (false, _, false) if matches!(analysis.enrolled, EnrolledState::NotEnrolled { .. }) => (
            Status::Warn,
            "Intune keeps a managed device record for this DeviceId, but the device has no Intune enrollment (a leftover record)".to_string(),
            "Retire or delete the leftover record in Intune admin center > Devices > All devices, then let the device enroll.",
        ),
        (false, _, _) => (
            Status::Pass,
            "Intune and Entra agree: the device has an Intune record".to_string(),
            "",
        ),
        (true, _, false) if other_mdm.is_some() => (
            Status::Warn,
            format!(
                "Entra says another MDM (mdmAppId {}) manages the device and Intune has no record of it: Windows enrolls into one MDM only",
                other_mdm.unwrap_or_default()
            ),
            "Unenroll the device from the other MDM (or retire it there) and remove its enrollment on the device (see DEV009) before Intune auto-enrollment can succeed; during a migration, check which MDM should own it.",
        ),
        (true, _, false) if snap.sources.entra_devices.data().is_none() => (
            Status::Pass,
            "Intune has no managed device with this DeviceId (consistent with no enrollment; Entra's device records were not collected)".to_string(),
            "",
        ),
        (true, _, false) => (
            Status::Pass,
            "Neither Entra nor Intune lists the device as managed (consistent with no enrollment)".to_string(),
            "",
        ),
    };
    let mut finding = META
        .finding(status, subject.clone(), summary)
        .with_remediation(fix);
    finding.evidence.extend(evidence);
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::correlate::testutil::*;
    use crate::tenant::snapshot::{MissingReason, Source};

    #[test]
    fn another_mdm_in_entra_is_not_called_unmanaged() {
        let mut snap = snapshot();
        if let Source::Collected { data, .. } = &mut snap.sources.entra_devices {
            for d in data.iter_mut() {
                if d.device_id.as_deref() == Some("0c9e8d7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f") {
                    d.is_managed = Some(true);
                    // Workspace ONE's app id: a third-party MDM holds the device.
                    d.mdm_app_id = Some("7add3ecd-5b01-452e-b4bf-cdaf9df1d097".into());
                }
            }
        }
        let c = run(&snap, &sample("never-triggered"), None);
        let f = finding(&c, "COR004");
        assert_eq!(f.status, Status::Warn, "{f:#?}");
        assert!(
            f.summary.contains("another MDM") && f.summary.contains("7add3ecd"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn no_intune_record_without_entra_records_does_not_speak_for_entra() {
        let mut snap = snapshot();
        snap.sources.entra_devices = Source::Missing {
            reason: MissingReason::NotCollected,
        };
        let c = run(&snap, &sample("never-triggered"), None);
        let f = finding(&c, "COR004");
        assert_eq!(f.status, Status::Pass);
        assert!(
            f.summary.contains("not collected") && !f.summary.contains("Neither Entra"),
            "{}",
            f.summary
        );
    }
}
