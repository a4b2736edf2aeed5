//! AP001: the device is registered with Windows Autopilot in this tenant.

use super::facts::{
    AutopilotFacts, COLLECT_SERIAL, Registration, describe_identity, graph, identity_location,
};
use super::{AUTOPILOT_READ, R_AUTOPILOT_API, R_AUTOPILOT_OOBE_TS, R_AUTOPILOT_REGISTRATION};
use crate::checks::common::or_finding;
use crate::device::autopilot::AutopilotEventKind;
use crate::model::{Area, CheckMeta, Evidence, Finding, Severity, SkipReason, Status};

pub const META: CheckMeta = CheckMeta {
    id: "AP001",
    name: "not-registered-with-autopilot",
    title: "The device is registered with Windows Autopilot in this tenant",
    severity: Severity::High,
    area: Area::Autopilot,
    permissions: AUTOPILOT_READ,
    what_it_checks: "Looks the device's serial number (Win32_BIOS, else MdmDiagnosticsTool's DeviceHash \
        file) and manufacturer up in the tenant's Windows Autopilot devices (beta \
        windowsAutopilotDeviceIdentities, filtered with contains(serialNumber,…) and matched exactly), and \
        compares the tenant of the profile the device holds (CloudAssignedTenantId in \
        HKLM\\SOFTWARE\\Microsoft\\Provisioning\\Diagnostics\\Autopilot, or the downloaded profile file) with \
        this tenant. Fails when the device went through Autopilot but no identity has its serial, or when its \
        profile names another tenant; event 807 (ZtdDeviceIsNotRegistered) and 908 (serial or product key \
        mismatch) are shown when present (memdocs autopilot/troubleshooting-faq.yml, \
        autopilot/registration-overview.md).",
    why_it_matters: "Only registered hardware gets an Autopilot profile: an unregistered device goes through \
        the ordinary OOBE, never joins the way the profile says and its Entra join enrollment is not marked \
        corporate. A device still registered in another tenant downloads that tenant's profile and cannot be \
        deployed here until it is deregistered there (memdocs autopilot/registration-overview.md, \
        \"Deregister a device\"). Enrollment paths: entra-join and gpo-hybrid through Autopilot.",
    how_to_fix: "Intune admin center > Devices > Windows > Enrollment > Devices (Windows Autopilot): import the \
        hardware hash (Get-WindowsAutopilotInfo, or the OEM or reseller registers it), wait for the profile \
        status to become Assigned, then reset the device. For a device of another tenant, have that tenant \
        deregister it first, then register it here.",
    references: &[
        R_AUTOPILOT_REGISTRATION,
        R_AUTOPILOT_OOBE_TS,
        R_AUTOPILOT_API,
    ],
};

/// AP001: registered here (by serial), or the device's profile names another tenant.
pub fn evaluate(f: &AutopilotFacts) -> Finding {
    or_finding!(f.on_path(&META));
    let tenant = f.cf.snap.tenant_id.as_str();
    let device_ev = f
        .evidence
        .map(|e| e.to_evidence())
        .unwrap_or_default()
        .into_iter()
        .take(3);
    // A profile of another tenant: the device is registered there.
    if let Some(ev) = f.evidence
        && ev.assigned_to_tenant(tenant) == Some(false)
        && let Some(t) = ev.assigned_tenant()
    {
        let other = match (t.domain, t.id) {
            (Some(d), Some(i)) => format!("{d} ({i})"),
            (Some(d), None) => d.to_string(),
            (None, Some(i)) => i.to_string(),
            (None, None) => "another tenant".to_string(),
        };
        return META
            .finding(
                Status::Fail,
                f.subject.clone(),
                format!(
                    "The device's Autopilot profile belongs to another tenant, {other}, not this one ({tenant}): it is registered there"
                ),
            )
            .with_evidence(
                Evidence::new(
                    "autopilot",
                    format!("CloudAssignedTenantId {}", t.id.unwrap_or("(not written)")),
                )
                .at(t.location.to_string()),
            )
            .with_remediation(format!(
                "Have the admins of {other} deregister the device (Devices > Windows > Enrollment > \
                 Devices, delete the Autopilot device), then import its hardware hash here and reset it."
            ));
    }
    let serial = f.serial.unwrap_or_default();
    match f.registration {
        Registration::NoSerial => META.skip(
            f.subject.clone(),
            SkipReason::NoEvidence {
                collect: COLLECT_SERIAL.into(),
            },
        ),
        Registration::Missing(r) => {
            r.finding_of(&META, f.subject.clone(), "the Autopilot device identities")
        }
        Registration::Found(i, _) => META
            .finding(
                Status::Pass,
                f.subject.clone(),
                format!("Serial {serial} is registered with Autopilot in this tenant"),
            )
            .with_evidence(graph(describe_identity(i), identity_location(i))),
        Registration::NotFound(ep) => {
            let mut out = META
                .finding(
                    Status::Fail,
                    f.subject.clone(),
                    format!(
                        "The device went through Autopilot but serial {serial} is not registered in this tenant"
                    ),
                )
                .with_evidence(graph(
                    format!("no Windows Autopilot device with serial number {serial}"),
                    ep,
                ))
                .with_remediation(format!(
                    "Import the device's hardware hash (serial {serial}) in Intune admin center > Devices > \
                     Windows > Enrollment > Devices, assign a profile through its group, then reset the device."
                ));
            let events = f.evidence.into_iter().flat_map(|e| &e.events).filter(|e| {
                matches!(
                    e.kind,
                    AutopilotEventKind::NotRegistered | AutopilotEventKind::HardwareMismatch
                )
            });
            for e in events {
                out.evidence.push(
                    Evidence::new(
                        "autopilot",
                        format!(
                            "event {} ({})",
                            e.event_id,
                            if e.kind == AutopilotEventKind::NotRegistered {
                                "ZtdDeviceIsNotRegistered"
                            } else {
                                "serial number or product key mismatch"
                            }
                        ),
                    )
                    .at(e.location.to_string()),
                );
            }
            out.evidence.extend(device_ev);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::device::autopilot::AutopilotEvidence;

    #[test]
    fn registered_passes_and_unregistered_fails() {
        let snap = snapshot();
        let ev = downloaded(TENANT, "Contoso user-driven", 0, 0);
        let f = eval(&snap, &report(Some(ev.clone())), evaluate);
        assert_status(&f, Status::Pass);

        let mut other = snap.clone();
        set(&mut other.sources.autopilot_devices, serde_json::json!([]));
        let f = eval(&other, &report(Some(ev)), evaluate);
        assert_status(&f, Status::Fail);
        assert!(f.summary.contains("not registered"), "{}", f.summary);
    }

    #[test]
    fn a_profile_of_another_tenant_fails_naming_it() {
        let ev = downloaded(
            "11111111-2222-4333-8444-555555555555",
            "Fabrikam profile",
            0,
            0,
        );
        let f = eval(&snapshot(), &report(Some(ev)), evaluate);
        assert_status(&f, Status::Fail);
        assert!(
            f.summary.contains("11111111-2222-4333-8444-555555555555"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn not_applicable_without_autopilot_and_skips_naming_the_permission() {
        let mut snap = snapshot();
        set(&mut snap.sources.autopilot_devices, serde_json::json!([]));
        assert_not_applicable(&eval(&snap, &report(None), evaluate));
        denied(
            &mut snap.sources.autopilot_devices,
            "DeviceManagementServiceConfig.Read.All",
        );
        let f = eval(&snap, &report(None), evaluate);
        assert_permission_skip(&f, "DeviceManagementServiceConfig.Read.All");
        // The device shows Autopilot, the identities cannot be read: still the permission.
        let f = eval(
            &snap,
            &report(Some(AutopilotEvidence {
                profiles: downloaded(TENANT, "x", 0, 0).profiles,
                ..Default::default()
            })),
            evaluate,
        );
        assert_permission_skip(&f, "DeviceManagementServiceConfig.Read.All");
    }
}
