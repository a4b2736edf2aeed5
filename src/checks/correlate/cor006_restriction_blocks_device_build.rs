//! COR006: the winning restriction's OS version range includes the device's build.

use crate::checks::common::{
    R_ERRORS_TS, R_FILTER_PROPERTIES, R_FILTERS, R_RESTRICTION_FILTERS, R_RESTRICTIONS,
    RESTRICTIONS_FOR_USER,
};
use crate::checks::device::facts::COLLECT_OS;
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, Severity, SkipReason, Status,
};
use crate::tenant::filter_rule::FilterDevice;
use crate::tenant::precedence::{
    DEVICE_CREDENTIAL_DEFAULT_ONLY, WindowsVersion, Winner, default_windows_restriction,
    os_version_blocked, winning_restrictions_for_device,
};

use super::facts::CorrelationFacts;
use super::records::graph;

pub const META: CheckMeta = CheckMeta {
    id: "COR006",
    name: "restriction-blocks-device-build",
    title: "The winning restriction's OS version range includes the device's build",
    severity: Severity::High,
    area: Area::Correlation,
    permissions: RESTRICTIONS_FOR_USER,
    what_it_checks: "Compares the device's OS version with the minimum and maximum version of the Windows \
        platform restriction that applies to the enrolling user (or the default for userless enrollment). \
        Windows sends no revision number at enrollment, so only major.minor.build are compared. A restriction assigned through an assignment filter (include or exclude; memdocs \
        intune/intune-service/fundamentals/filters.md) applies only to the devices its rule selects, which \
        Intune decides at enrollment. The rule is evaluated against the device report with the properties \
        Intune evaluates for Windows enrollment restrictions (memdocs \
        intune/intune-service/enrollment/create-device-platform-restrictions.md, \"Supported filter \
        properties\": OS version, operating system SKU, enrollment profile name, ownership, and manufacturer \
        and model from Windows 11 22H2 with KB5035942, OS builds 22621.3374 and 22631.3374; syntax and case \
        rules in intune/intune-service/fundamentals/filters-device-properties.md): an include filter that \
        matches, or an exclude filter that does not, makes the restriction apply, and the evidence says which \
        filter was evaluated and on which values. A filter the report cannot decide (a property Intune does \
        not evaluate at enrollment, a value the report lacks) leaves that restriction out of the winner, and \
        when its settings would give another answer the finding is a warning that names it and why it was \
        not decided.",
    why_it_matters: "A version range that excludes the build refuses enrollment with 0x80180014 although \
        Windows (MDM) is allowed, a frequent surprise after a version minimum is set with a revision. \
        Enrollment paths: all user-driven ones; Autopilot self-deploying uses the default restriction.",
    how_to_fix: "Intune admin center > Devices > Enrollment > Device platform restriction > Windows \
        restrictions > the reported policy > Properties: correct the minimum or maximum version (without a \
        revision), or update the device to a build inside the range.",
    references: &[
        R_RESTRICTIONS,
        R_ERRORS_TS,
        R_FILTERS,
        R_RESTRICTION_FILTERS,
        R_FILTER_PROPERTIES,
    ],
};

/// COR006: the device's build against the OS range of the Windows restriction that wins for the
/// user (the default one when no user is known, as for userless enrollments).
pub fn evaluate(f: &CorrelationFacts) -> Finding {
    let (snap, keys, user, subject) = (f.snap, f.keys, f.user, f.subject);
    let (configs, endpoint) = match snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(&META, subject.clone(), "the enrollment restrictions"),
    };
    let Some((version, os_ev)) = &keys.os_version else {
        return META.skip(
            subject.clone(),
            SkipReason::NoEvidence {
                collect: COLLECT_OS.into(),
            },
        );
    };
    let Some(v) = WindowsVersion::parse(version) else {
        return META.skip(
            subject.clone(),
            SkipReason::NoEvidence {
                collect: COLLECT_OS.into(),
            },
        );
    };
    let device = FilterDevice::from_report(f.report);
    let winner: Option<Winner> = match user {
        _ if f.path == EnrollmentPath::CoManagement => {
            default_windows_restriction(configs, DEVICE_CREDENTIAL_DEFAULT_ONLY)
        }
        Some(u) => {
            winning_restrictions_for_device(snap, u, &device).and_then(|w| w.windows_platform)
        }
        None => default_windows_restriction(configs, "no enrolling user is known"),
    };
    let Some(w) = winner else {
        // Nothing to compare with is "not evaluated", not a warning: a warning would count as
        // the likely cause of a restriction code.
        return META.skip(
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "the Windows platform restriction that applies (none was returned with the enrollment configurations)".into(),
            },
        )
        .with_evidence(os_ev.clone())
        .with_evidence(graph(
            format!("{} enrollment configurations", configs.len()),
            endpoint,
        ));
    };
    let r = w.config.windows().cloned().unwrap_or_default();
    let min = r.os_minimum_version.as_deref();
    let max = r.os_maximum_version.as_deref();
    let restriction_ev = graph(
        format!(
            "{}: osMinimumVersion {}, osMaximumVersion {}",
            w.describe(),
            min.unwrap_or("(unset)"),
            max.unwrap_or("(unset)")
        ),
        w.location(),
    );
    // Each assignment filter evaluated against this device on the way to the winner.
    let filter_ev: Vec<Evidence> = w
        .filter_checks
        .iter()
        .map(|k| Evidence::new("precedence", k.describe()).at(location_of(k.config)))
        .collect();
    let blocked = os_version_blocked(min, max, v);
    // A higher-priority restriction assigned through an assignment filter wins for the devices
    // its rule selects; when its range answers otherwise, the verdict depends on the filter.
    let differing: Vec<String> = w
        .depends_on_filters
        .iter()
        .filter(|d| {
            let alt = d.config.windows().cloned().unwrap_or_default();
            os_version_blocked(
                alt.os_minimum_version.as_deref(),
                alt.os_maximum_version.as_deref(),
                v,
            )
            .is_some()
                != blocked.is_some()
        })
        .map(|d| d.describe(snap.sources.assignment_filters.data().map(Vec::as_slice)))
        .collect();
    if !differing.is_empty() {
        return META
            .finding(
                Status::Warn,
                subject.clone(),
                format!(
                    "The winning restriction \"{}\" {} this build, but another restriction that answers otherwise wins if the device matches its assignment filter: {}",
                    w.config.name(),
                    if blocked.is_some() { "excludes" } else { "allows" },
                    differing.join("; ")
                ),
            )
            .with_evidence(os_ev.clone())
            .with_evidence(restriction_ev)
            .with_all_evidence(filter_ev)
            .with_remediation(
                "Check the assignment filter's rule against this device (Intune admin center > Tenant \
                 administration > Filters); the restriction it selects decides the version range.",
            );
    }
    match blocked {
        Some(why) => META
            .finding(
            Status::Fail,
            subject.clone(),
            format!("The winning restriction \"{}\" excludes this build: {why}", w.config.name()),
        )
        .with_evidence(os_ev.clone())
        .with_evidence(restriction_ev)
        .with_all_evidence(filter_ev)
        .with_remediation(format!(
            "Correct the OS version range of \"{}\" (no revision in the minimum) in Intune admin center > Devices > \
             Enrollment > Device platform restriction, or update the device to a build inside the range.",
            w.config.name()
        )),
        None => META
            .finding(
            Status::Pass,
            subject.clone(),
            format!(
                "The device's version {version} is inside the range of \"{}\"",
                w.config.name()
            ),
        )
        .with_evidence(os_ev.clone())
        .with_evidence(restriction_ev)
        .with_all_evidence(filter_ev),
    }
}

/// Where a restriction is read from.
fn location_of(c: &crate::tenant::snapshot::EnrollmentConfiguration) -> String {
    format!(
        "GET /beta/deviceManagement/deviceEnrollmentConfigurations/{}?$expand=assignments",
        c.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::correlate::testutil::*;

    #[test]
    fn a_minimum_above_the_device_build_excludes_it() {
        // tlee's winning restriction is "Pilot Windows block"; the device is inside its range.
        let c = run(&snapshot(), &sample("demo-blocked-restriction"), None);
        assert_eq!(finding(&c, "COR006").status, Status::Pass);
        let snap = snapshot_with(|s| {
            if let Some(list) = s["enrollment_configurations"]["data"].as_array_mut() {
                for c in list {
                    if c["displayName"] == "Pilot Windows block" {
                        c["platformRestriction"]["osMinimumVersion"] = "10.0.99999.0".into();
                    }
                }
            }
        });
        let c = run(&snap, &sample("demo-blocked-restriction"), None);
        let f = finding(&c, "COR006");
        assert_eq!(f.status, Status::Fail, "{f:?}");
        assert!(
            f.summary
                .starts_with("The winning restriction \"Pilot Windows block\" excludes this build"),
            "{}",
            f.summary
        );
        assert!(
            all_evidence(f).contains("osMinimumVersion 10.0.99999.0"),
            "{f:?}"
        );
    }

    /// contoso's snapshot with the `filters` fixture tenant's Windows restrictions ("Dell:
    /// Windows 11 24H2 or later", include filter "Dell devices"; "Windows 11 only (LTSC
    /// exempt)", exclude filter "LTSC editions") and its assignment filters.
    fn filters_snapshot(read_filters: bool) -> crate::tenant::snapshot::TenantSnapshot {
        snapshot_with(|s| {
            let configs: serde_json::Value = serde_json::from_str(include_str!(
                "../../../mocks/tenants/filters/deviceEnrollmentConfigurations.json"
            ))
            .unwrap_or_default();
            let filters: serde_json::Value = serde_json::from_str(include_str!(
                "../../../mocks/tenants/filters/assignmentFilters.json"
            ))
            .unwrap_or_default();
            s["enrollment_configurations"]["data"] = configs;
            if read_filters {
                s["assignment_filters"] = serde_json::json!({
                    "status": "collected",
                    "endpoint": "GET /beta/deviceManagement/assignmentFilters",
                    "data": filters,
                });
            }
        })
    }

    #[test]
    fn the_device_report_decides_the_assignment_filters() {
        let snap = filters_snapshot(true);
        // Dell on 22631: the include filter matches, the Dell restriction wins and its minimum
        // (26100) excludes the build.
        let c = run(&snap, &scenario("filters-dell-23h2"), None);
        let f = finding(&c, "COR006");
        assert_eq!(f.status, Status::Fail, "{f:#?}");
        assert!(
            f.summary
                .contains("\"Dell: Windows 11 24H2 or later\" excludes this build"),
            "{}",
            f.summary
        );
        let ev = all_evidence(f);
        assert!(
            ev.contains("assignment filter \"Dell devices\" (include, rule (device.manufacturer -eq \"Dell Inc.\"))")
                && ev.contains("the device matches (manufacturer is \"Dell Inc.\"), so the restriction applies"),
            "{ev}"
        );
        // HP on 22631: the Dell filter does not match; the LTSC exclude filter does not match
        // an Enterprise device, so "Windows 11 only" wins and allows 22631.
        let c = run(&snap, &scenario("filters-hp-23h2"), None);
        let f = finding(&c, "COR006");
        assert_eq!(f.status, Status::Pass, "{f:#?}");
        assert!(
            f.summary.contains("Windows 11 only (LTSC exempt)"),
            "{}",
            f.summary
        );
        let ev = all_evidence(f);
        assert!(ev.contains("the device does not match (manufacturer is \"HP\"), so the restriction does not apply"), "{ev}");
        assert!(
            ev.contains("assignment filter \"LTSC editions\" (exclude"),
            "{ev}"
        );
        // LTSC 2021 (19044): the exclude filter matches, so "Windows 11 only" does not apply;
        // the manufacturer is not evaluated at enrollment before 22621.3374, so the Dell
        // restriction stays a dependency and the verdict depends on it.
        let c = run(&snap, &scenario("filters-ltsc-2021"), None);
        let f = finding(&c, "COR006");
        assert_eq!(f.status, Status::Warn, "{f:#?}");
        assert!(
            f.summary.contains("Dell devices") && f.summary.contains("KB5035942"),
            "{}",
            f.summary
        );
        let ev = all_evidence(f);
        assert!(ev.contains("the device matches (operatingSystemSKU is \"EnterpriseS\"), so the restriction does not apply"), "{ev}");
        // Without the filters read nothing is decided: the dependency is named, as before.
        let snap = filters_snapshot(false);
        let c = run(&snap, &scenario("filters-dell-23h2"), None);
        let f = finding(&c, "COR006");
        assert_eq!(f.status, Status::Warn, "{f:#?}");
        assert!(f.summary.contains("were not read"), "{}", f.summary);
    }
}
