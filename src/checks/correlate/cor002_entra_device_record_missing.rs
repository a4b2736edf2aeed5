//! COR002: Entra ID has a device object with the report's DeviceId.

use crate::checks::common::{ENTRA_DEVICES, R_DEVICE_API, R_DSREGCMD, R_HYBRID_MANUAL};
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, Severity, SkipReason, Status,
};
use crate::tenant::snapshot::EntraDevice;

use super::facts::CorrelationFacts;
use super::records::{
    DEVICES_BY_ID, describe_entra, entra_by_id, entra_location, entra_namesakes, graph,
    no_device_id,
};

pub const META: CheckMeta = CheckMeta {
    id: "COR002",
    name: "entra-device-record-missing",
    title: "Entra ID has a device object with the report's DeviceId",
    severity: Severity::High,
    area: Area::Correlation,
    permissions: ENTRA_DEVICES,
    what_it_checks: "Looks up the DeviceId from dsregcmd /status among Entra devices (deviceId filter) and \
        fails when none exists.",
    why_it_matters: "A device the directory does not know cannot get a device token, and the user's token is \
        not tied to it: enrollment fails or enrolls a device Intune cannot match. Typical after the object \
        was deleted, or before the first Entra Connect sync of a hybrid device. Enrollment paths: gpo-hybrid, \
        entra-join, co-management.",
    how_to_fix: "For hybrid devices: check the computer's OU is in the Entra Connect sync scope and has a \
        userCertificate, wait for a sync, then let the device retry. If the object was deleted, run dsregcmd \
        /leave on the device and join again. Entra admin center > Identity > Devices > All devices shows the \
        result.",
    references: &[R_DSREGCMD, R_HYBRID_MANUAL, R_DEVICE_API],
};

pub fn evaluate(f: &CorrelationFacts) -> Finding {
    let subject = f.subject;
    let report = f.report;
    let (devices, endpoint) = match f.snap.sources.entra_devices.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(&META, subject.clone(), "the Entra device records"),
    };
    let same_name = entra_namesakes(devices, f);
    let Some(device_id) = f.keys.device_id.as_deref() else {
        return never_joined(f, same_name, endpoint);
    };
    let dsreg_ev = report
        .dsregcmd
        .as_ref()
        .and_then(|d| {
            let f = d.field("Device Details", "DeviceId")?;
            Some(
                Evidence::new("dsregcmd", format!("{} : {}", f.name, f.value))
                    .at(d.location(f).to_string()),
            )
        })
        .unwrap_or_else(|| Evidence::new("device", format!("DeviceId {device_id}")));
    let found = entra_by_id(f.snap, devices, device_id);
    if let Some(d) = found.first() {
        return META
            .finding(
                Status::Pass,
                subject.clone(),
                format!(
                    "Entra has the device object (trustType {})",
                    d.trust_type.as_deref().unwrap_or("none")
                ),
            )
            .with_evidence(dsreg_ev)
            .with_evidence(graph(describe_entra(d), entra_location(d)));
    }
    if !looks_up_devices(endpoint) {
        // Only the users' registered devices were read: hybrid-joined devices have no
        // registered owner, so absence proves nothing.
        return META.skip(
            subject.clone(),
            SkipReason::NoEvidence {
                collect: format!(
                    "the Entra device with deviceId {device_id}: this snapshot holds only users' registered devices ({endpoint}); run diagnose against the tenant, or use a snapshot saved with `audit --save-snapshot`"
                ),
            },
        );
    }
    let mut finding = META
        .finding(
            Status::Fail,
            subject.clone(),
            format!(
                "No Entra device has DeviceId {device_id}: the directory does not know this device"
            ),
        )
        .with_evidence(dsreg_ev)
        .with_evidence(graph(
            format!("0 devices with deviceId {device_id}"),
            format!("{DEVICES_BY_ID} '{device_id}'"),
        ))
        .with_remediation(
            "For a hybrid device, check that its computer object is in the Entra Connect sync scope and has a \
             userCertificate, wait for a sync and sign in again. If the Entra object was deleted, run `dsregcmd /leave` \
             as an administrator on the device and let it join again.",
        );
    for d in same_name {
        finding = finding.with_evidence(graph(
            format!(
                "{} — same name, another deviceId: the device re-joined or its object was replaced",
                describe_entra(d)
            ),
            entra_location(d),
        ));
    }
    finding
}

/// A report without a DeviceId: on the GPO path a device that is not joined has no record
/// because it never joined (say so, with the namesakes an earlier join or sync left);
/// elsewhere the DeviceId is simply missing from the inputs.
fn never_joined(f: &CorrelationFacts, same_name: Vec<&EntraDevice>, endpoint: &str) -> Finding {
    let report = f.report;
    let not_joined = report
        .dsregcmd
        .as_ref()
        .and_then(|d| d.yes_no("Device State", "AzureAdJoined"))
        == Some(false);
    if !(not_joined && f.path == EnrollmentPath::GpoHybrid) {
        return no_device_id(&META, f);
    }
    let joined_ev = report
        .dsregcmd
        .as_ref()
        .and_then(|d| {
            let f = d.field("Device State", "AzureAdJoined")?;
            Some(
                Evidence::new(
                    "dsregcmd",
                    format!("{} : {} (no DeviceId)", f.name, f.value),
                )
                .at(d.location(f).to_string()),
            )
        })
        .unwrap_or_else(|| Evidence::new("dsregcmd", "no DeviceId"));
    let name = f.keys.short_name.as_deref().unwrap_or("the device");
    let mut finding = META
        .finding(
            Status::Fail,
            f.subject.clone(),
            if same_name.is_empty() {
                format!(
                    "No Entra device object: the device is not joined (no DeviceId) and no Entra device is named {name}"
                )
            } else {
                format!(
                    "The device is not joined (no DeviceId); Entra has {} object(s) named {name} from an earlier join or sync",
                    same_name.len()
                )
            },
        )
        .with_evidence(joined_ev)
        .with_evidence(graph(
            format!("no Entra device for {name} with a DeviceId from this device"),
            format!("GET /v1.0/devices?$filter=displayName eq '{name}' ({endpoint})"),
        ))
        .with_remediation(
            "Complete the hybrid join first (see DEV001); the Entra object appears after the next Entra Connect \
             sync and sign-in.",
        );
    for d in same_name {
        finding = finding.with_evidence(graph(describe_entra(d), entra_location(d)));
    }
    finding
}

/// Whether the Entra devices were read from `/devices` (all, or by deviceId) rather than only
/// from users' `registeredDevices`.
pub fn looks_up_devices(endpoint: &str) -> bool {
    endpoint
        .split(" + ")
        .any(|part| part.trim_start().starts_with("GET /v1.0/devices"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::correlate::testutil::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn a_device_that_never_joined_has_no_record_but_the_join_is_the_cause() {
        let c = run(&snapshot(), &sample("not-hybrid-joined"), None);
        let cor002 = finding(&c, "COR002");
        assert_eq!(cor002.status, Status::Fail);
        assert!(
            cor002.summary.contains("no Entra device is named PC0150"),
            "{}",
            cor002.summary
        );
        assert_eq!(
            c.diagnosis.causes.first().map(String::as_str),
            Some("DEV001")
        );
        assert!(!c.diagnosis.causes.contains(&"COR002".to_string()));
    }

    #[test]
    fn device_missing_in_entra_is_cor002() {
        let r = scenario("cor002-missing-in-entra");
        let c = run(&snapshot(), &r, None);
        let cor002 = finding(&c, "COR002");
        assert_eq!(cor002.status, Status::Fail);
        let ev = all_evidence(cor002);
        assert!(ev.contains("d0d0d0d0-1111-4222-8333-444455556666"), "{ev}");
        // PC0077 exists with another deviceId: said as evidence.
        assert!(ev.contains("same name, another deviceId"), "{ev}");
        assert_eq!(
            c.diagnosis.causes.first().map(String::as_str),
            Some("COR002")
        );
    }

    #[test]
    fn registered_devices_alone_cannot_prove_a_hybrid_device_missing() {
        let mut snap = snapshot();
        if let Source::Collected { endpoint, data } = &mut snap.sources.entra_devices {
            *endpoint = "GET /v1.0/users/{upn}/registeredDevices ($batch)".into();
            data.retain(|d| d.display_name.as_deref() != Some("PC0077"));
        }
        let c = run(&snap, &sample("failed-8018002b"), None);
        assert_eq!(finding(&c, "COR002").status, Status::Skip);
        assert!(!c.diagnosis.causes.contains(&"COR002".to_string()));
        assert!(looks_up_devices(
            "GET /v1.0/users/{upn}/registeredDevices ($batch) + GET /v1.0/devices?$filter=deviceId eq … ($batch)"
        ));
    }
}
