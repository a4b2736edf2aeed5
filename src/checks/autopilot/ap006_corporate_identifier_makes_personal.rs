//! AP006: corporate identifiers do not turn the device's Entra join enrollment into a personal
//! one that a personal-device restriction blocks.

use super::facts::{AutopilotFacts, graph};
use super::{R_AUTOPILOT_OVERVIEW, R_CORPORATE_IDENTIFIERS};
use crate::checks::common::{R_ERRORS_TS, R_RESTRICTION_FILTERS, R_RESTRICTIONS};
use crate::device::autopilot::ProfileSource;
use crate::model::Evidence;
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Finding, Permissions, Severity, SkipReason, Status,
};
use crate::tenant::autopilot::{CorporateIdentifierMatch, corporate_identifier};
use crate::tenant::filter_rule::FilterDevice;
use crate::tenant::precedence::{
    Winner, default_windows_restriction, winning_restrictions_for_device,
};

pub const META: CheckMeta = CheckMeta {
    id: "AP006",
    name: "corporate-identifier-makes-personal",
    title: "Corporate identifiers do not make the device's Entra join enrollment personal and blocked",
    severity: Severity::High,
    area: Area::Autopilot,
    permissions: Permissions {
        application: &[
            "DeviceManagementServiceConfig.Read.All",
            "User.Read.All",
            "GroupMember.Read.All",
        ],
        delegated: &[
            "DeviceManagementServiceConfig.Read.All",
            "User.ReadBasic.All",
            "GroupMember.Read.All",
        ],
        delegated_only: false,
    },
    what_it_checks: "For a device that enrolls through Entra join outside classic Autopilot (OOBE or \
        Settings, Autopilot for existing devices, Autopilot device preparation), looks its manufacturer, \
        model and serial number up in the tenant's Windows corporate identifiers (beta \
        importedDeviceIdentities, type manufacturerModelSerial; periods removed from serials). Once any \
        Windows identifier is uploaded, Intune marks every enrolling device that does not match all three as \
        personal (memdocs intune/enrollment/corporate-identifiers-add.md, \"Add Windows corporate \
        identifiers\"). It then reads the Windows platform restriction that wins for the enrolling user (the \
        default one without a user) and fails when that restriction blocks personally owned devices. A \
        device registered with classic Autopilot passes: those enrollments are corporate either way.",
    why_it_matters: "Uploading corporate identifiers for a few devices silently turns every other Entra join \
        enrollment into a personal one; with \"Personally owned: Block\" in the winning restriction the device \
        is refused with 0x80180014 although nothing changed on it (memdocs \
        intune/enrollment/enrollment-restrictions-set.md; corporate-identifiers-add.md, the ownership table). \
        USR005 uses the same facts for the user's restriction. A restriction assigned through an assignment \
        filter is evaluated against the device report as COR006 does (memdocs \
        intune/intune-service/enrollment/create-device-platform-restrictions.md, \"Supported filter \
        properties\"); one the report cannot decide, whose personal-device setting answers otherwise, makes \
        the finding a warning that names it. Enrollment paths: entra-join (and Autopilot for \
        existing devices or device preparation).",
    how_to_fix: "Add the device to the Windows corporate identifiers (Intune admin center > Devices > \
        Enrollment > Corporate device identifiers > Add > \"Manufacturer, model and serial number\"), register \
        it with Autopilot, or allow personally owned Windows devices in the winning platform restriction.",
    references: &[
        R_CORPORATE_IDENTIFIERS,
        R_RESTRICTIONS,
        R_ERRORS_TS,
        R_AUTOPILOT_OVERVIEW,
        R_RESTRICTION_FILTERS,
    ],
};

/// The device's ownership at enrollment, as corporate identifiers decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Registered with classic Autopilot: corporate whatever the identifiers.
    AutopilotCorporate,
    /// Listed among the Windows corporate identifiers.
    Listed,
    /// Windows identifiers exist and the device is not among them: personal.
    NotListed,
    /// No Windows identifier is uploaded: they decide nothing.
    NoneUploaded,
}

/// Whether the device enrolls through Autopilot for existing devices (a configuration file),
/// which counts as personal unless listed.
fn existing_devices_profile(f: &AutopilotFacts) -> bool {
    f.evidence.is_some_and(|e| {
        e.profiles
            .iter()
            .any(|p| p.source == ProfileSource::ConfigurationFile)
    })
}

/// The ownership corporate identifiers give this device, or `None` when it cannot be told
/// (sources missing, no hardware identity). Used by USR005 through correlation too.
pub fn ownership(f: &AutopilotFacts) -> Option<Ownership> {
    if f.identity().is_some() && !existing_devices_profile(f) {
        return Some(Ownership::AutopilotCorporate);
    }
    let imported = f.cf.snap.sources.imported_device_identities.data()?;
    let (m, model, serial) = (f.manufacturer?, f.model?, f.serial?);
    Some(match corporate_identifier(imported, m, model, serial) {
        CorporateIdentifierMatch::Listed(_) => Ownership::Listed,
        CorporateIdentifierMatch::NotListed => Ownership::NotListed,
        CorporateIdentifierMatch::NoneUploaded => Ownership::NoneUploaded,
    })
}

/// AP006: personal by the identifiers, and blocked by the winning restriction.
pub fn evaluate(f: &AutopilotFacts) -> Finding {
    let entra_join = f.cf.path == EnrollmentPath::EntraJoin;
    if !entra_join && !f.went_through() && f.identity().is_none() {
        return META.skip(
            f.subject.clone(),
            SkipReason::NotApplicable {
                path: f.cf.path.as_str().into(),
            },
        );
    }
    if f.identity().is_some() && !existing_devices_profile(f) {
        return META.finding(
            Status::Pass,
            f.subject.clone(),
            "The device is registered with Autopilot: its enrollment counts as corporate whatever the corporate identifiers",
        );
    }
    let (Some(manufacturer), Some(model), Some(serial)) = (f.manufacturer, f.model, f.serial)
    else {
        return META.skip(
            f.subject.clone(),
            SkipReason::NoEvidence {
                collect: "the device's manufacturer, model and serial number (the collector bundle's hardware section)".into(),
            },
        );
    };
    let (imported, imported_ep) = match f.cf.snap.sources.imported_device_identities.get() {
        Ok(v) => v,
        Err(r) => {
            return r.finding_of(&META, f.subject.clone(), "the corporate device identifiers");
        }
    };
    let tuple = format!("{manufacturer},{model},{serial}");
    let listed = corporate_identifier(imported, manufacturer, model, serial);
    let windows = imported.iter().filter(|i| i.is_windows()).count();
    let ids_ev = graph(
        format!("{windows} Windows corporate identifier(s); this device is {tuple}"),
        imported_ep,
    );
    match listed {
        CorporateIdentifierMatch::Listed(_) => {
            return META
                .finding(
                    Status::Pass,
                    f.subject.clone(),
                    format!("The device ({tuple}) is listed among the corporate identifiers: it enrolls as corporate"),
                )
                .with_evidence(ids_ev);
        }
        CorporateIdentifierMatch::NoneUploaded => {
            return META
                .finding(
                    Status::Pass,
                    f.subject.clone(),
                    "No Windows corporate identifiers are uploaded: they do not make this enrollment personal",
                )
                .with_evidence(ids_ev);
        }
        CorporateIdentifierMatch::NotListed => {}
    }
    let (configs, _) = match f.cf.snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => {
            return r.finding_of(&META, f.subject.clone(), "the enrollment restrictions");
        }
    };
    // The device's report decides the restrictions' assignment filters it can (COR006).
    let device = FilterDevice::from_report(f.cf.report);
    let winner: Option<Winner> = match f.cf.user {
        Some(u) => {
            winning_restrictions_for_device(f.cf.snap, u, &device).and_then(|w| w.windows_platform)
        }
        None => default_windows_restriction(configs, "no enrolling user is known"),
    };
    let blocked = winner.as_ref().and_then(|w| {
        w.config
            .windows()
            .and_then(|r| r.personal_device_enrollment_blocked)
    });
    let personal_block = |c: &crate::tenant::snapshot::EnrollmentConfiguration| {
        c.windows()
            .and_then(|r| r.personal_device_enrollment_blocked)
            .unwrap_or(false)
    };
    // A higher-priority restriction assigned through a filter the report cannot decide, whose
    // personal-device setting answers otherwise: the verdict depends on that filter.
    let differing: Vec<String> = winner
        .as_ref()
        .map(|w| {
            w.depends_on_filters
                .iter()
                .filter(|d| personal_block(d.config) != blocked.unwrap_or(false))
                .map(|d| {
                    d.describe(
                        f.cf.snap
                            .sources
                            .assignment_filters
                            .data()
                            .map(Vec::as_slice),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let filter_ev: Vec<Evidence> = winner
        .as_ref()
        .map(|w| {
            w.filter_checks
                .iter()
                .map(|k| Evidence::new("precedence", k.describe()))
                .collect()
        })
        .unwrap_or_default();
    if let (false, Some(w)) = (differing.is_empty(), &winner) {
        let mut out = META
            .finding(
                Status::Warn,
                f.subject.clone(),
                format!(
                    "This device ({tuple}) enrolls as personal; the winning {} {} personally owned Windows devices, but another restriction that answers otherwise wins if the device matches its assignment filter: {}",
                    w.describe(),
                    if blocked.unwrap_or(false) { "blocks" } else { "allows" },
                    differing.join("; ")
                ),
            )
            .with_all_evidence(filter_ev)
            .with_remediation(
                "Check the assignment filter's rule against this device (Intune admin center > Tenant \
                 administration > Filters); the restriction it selects decides whether personal devices may enroll.",
            );
        out.evidence.push(ids_ev);
        return out;
    }
    let mut out = match (blocked, &winner) {
        (Some(true), Some(w)) => META
            .finding(
                Status::Fail,
                f.subject.clone(),
                format!(
                    "Windows corporate identifiers are uploaded and this device ({tuple}) is not among them: its Entra join enrollment counts as personal, and the winning {} blocks personally owned Windows devices (0x80180014)",
                    w.describe()
                ),
            )
            .with_evidence(graph(
                format!("{}: personalDeviceEnrollmentBlocked true", w.describe()),
                w.location(),
            ))
            .with_remediation(format!(
                "Add \"{tuple}\" to the Windows corporate identifiers (Devices > Enrollment > Corporate device \
                 identifiers), register the device with Autopilot, or allow personally owned Windows devices \
                 in \"{}\".",
                w.config.name()
            )),
        (_, Some(w)) => META
            .finding(
                Status::Pass,
                f.subject.clone(),
                format!(
                    "This device ({tuple}) is not among the corporate identifiers and enrolls as personal, which the winning {} allows",
                    w.describe()
                ),
            ),
        (_, None) => META.skip(
            f.subject.clone(),
            SkipReason::NoEvidence {
                collect: "the Windows platform restriction that applies (none was returned with the enrollment configurations)".into(),
            },
        ),
    };
    out.evidence.extend(filter_ev);
    out.evidence.push(ids_ev);
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use serde_json::json;

    /// Entra join outside Autopilot: not registered, one identifier of another device.
    fn tenant(block_personal: bool, listed: bool) -> crate::tenant::snapshot::TenantSnapshot {
        let mut snap = snapshot();
        set(&mut snap.sources.autopilot_devices, json!([]));
        let mut ids = vec![
            json!({"id": "i1", "importedDeviceIdentifier": "Lenovo,ThinkPad T14,PF000001",
                                  "importedDeviceIdentityType": "manufacturerModelSerial", "platform": "windows"}),
        ];
        if listed {
            ids.push(json!({"id": "i2", "importedDeviceIdentifier": format!("HP,HP EliteBook 860 G10,{SERIAL}"),
                            "importedDeviceIdentityType": "manufacturerModelSerial", "platform": "windows"}));
        }
        set(&mut snap.sources.imported_device_identities, json!(ids));
        let mut configs =
            serde_json::to_value(snap.sources.enrollment_configurations.data()).unwrap();
        configs[0]["windowsRestriction"]["personalDeviceEnrollmentBlocked"] = json!(block_personal);
        set(&mut snap.sources.enrollment_configurations, configs);
        snap
    }

    fn entra_joined() -> crate::device::report::DeviceReport {
        // Autopilot evidence of an Entra join device that got no profile.
        let mut ev = downloaded("", "", 0, 0);
        ev.profiles[0].tenant_id = Some(String::new());
        report(Some(ev))
    }

    #[test]
    fn not_listed_with_a_personal_block_fails() {
        let f = eval(&tenant(true, false), &entra_joined(), evaluate);
        assert_status(&f, Status::Fail);
        assert!(f.summary.contains("0x80180014"), "{}", f.summary);
        assert_status(
            &eval(&tenant(false, false), &entra_joined(), evaluate),
            Status::Pass,
        );
        assert_status(
            &eval(&tenant(true, true), &entra_joined(), evaluate),
            Status::Pass,
        );
    }

    #[test]
    fn registered_devices_are_corporate_and_sources_are_named_when_missing() {
        let f = eval(
            &snapshot(),
            &report(Some(downloaded(TENANT, "Contoso user-driven", 0, 0))),
            evaluate,
        );
        assert_status(&f, Status::Pass);
        let mut snap = tenant(true, false);
        denied(
            &mut snap.sources.imported_device_identities,
            "DeviceManagementServiceConfig.Read.All",
        );
        assert_permission_skip(
            &eval(&snap, &entra_joined(), evaluate),
            "DeviceManagementServiceConfig.Read.All",
        );
        assert_not_applicable(&eval(&tenant(true, false), &report(None), evaluate));
    }

    /// A personal-device block assigned to all users through an include filter: the device's
    /// report decides the filter, or the finding says the verdict depends on it.
    #[test]
    fn a_filtered_personal_block_is_decided_by_the_device() {
        use crate::checks::correlate::facts::CorrelationFacts;
        use crate::checks::correlate::keys::device_keys;
        use crate::checks::device::analyse;
        let mut snap = tenant(false, false);
        let mut configs =
            serde_json::to_value(snap.sources.enrollment_configurations.data()).unwrap();
        if let Some(list) = configs.as_array_mut() {
            list.push(json!({
                "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
                "id": "hp1_SinglePlatformRestriction", "displayName": "HP: corporate only",
                "priority": 1, "deviceEnrollmentConfigurationType": "singlePlatformRestriction",
                "platformType": "windows",
                "platformRestriction": {"platformBlocked": false, "personalDeviceEnrollmentBlocked": true},
                "assignments": [{"id": "a1", "target": {
                    "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget",
                    "deviceAndAppManagementAssignmentFilterId": "f-hp",
                    "deviceAndAppManagementAssignmentFilterType": "include"}}]
            }));
        }
        set(&mut snap.sources.enrollment_configurations, configs);
        set(
            &mut snap.sources.users,
            json!([{"id": "u1", "userPrincipalName": "jdoe@contoso.com"}]),
        );
        let report = entra_joined();
        let run = |snap: &crate::tenant::snapshot::TenantSnapshot| {
            let analysis = analyse(&report, as_of());
            let keys = device_keys(&report, &analysis, Some("jdoe@contoso.com"));
            let cf = CorrelationFacts::new(snap, &report, &analysis, &keys, as_of());
            evaluate(&AutopilotFacts::new(&cf))
        };
        let with_rule = |rule: &str| {
            let mut s = snap.clone();
            set(
                &mut s.sources.assignment_filters,
                json!([{"id": "f-hp", "displayName": "HP devices", "platform": "windows10AndLater", "rule": rule}]),
            );
            run(&s)
        };
        // The HP device (26100) matches: the personal block wins.
        let f = with_rule(r#"(device.manufacturer -eq "HP")"#);
        assert_status(&f, Status::Fail);
        assert!(
            f.evidence.iter().any(|e| e
                .detail
                .contains("the device matches (manufacturer is \"HP\")")),
            "{:#?}",
            f.evidence
        );
        // It does not match: the default (personal allowed) wins.
        assert_status(
            &with_rule(r#"(device.manufacturer -eq "Dell Inc.")"#),
            Status::Pass,
        );
        // Not evaluated at enrollment: the verdict depends on the filter.
        let f = with_rule(r#"(device.deviceName -startsWith "PC")"#);
        assert_status(&f, Status::Warn);
        assert!(
            f.summary.contains("HP devices") && f.summary.contains("deviceName"),
            "{}",
            f.summary
        );
    }
}
