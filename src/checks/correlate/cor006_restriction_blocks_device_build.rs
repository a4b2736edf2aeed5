//! COR006: the winning restriction's OS version range includes the device's build.

use crate::checks::common::{R_ERRORS_TS, R_FILTERS, R_RESTRICTIONS, RESTRICTIONS_FOR_USER};
use crate::checks::device::facts::COLLECT_OS;
use crate::model::{Area, CheckMeta, EnrollmentPath, Finding, Severity, SkipReason, Status};
use crate::tenant::precedence::{
    DEVICE_CREDENTIAL_DEFAULT_ONLY, WindowsVersion, Winner, default_windows_restriction,
    os_version_blocked, winning_restrictions_in,
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
        Intune decides at enrollment: such a restriction with a higher priority is not taken as the winner, \
        and when its settings would give another answer the finding is a warning that names it.",
    why_it_matters: "A version range that excludes the build refuses enrollment with 0x80180014 although \
        Windows (MDM) is allowed, a frequent surprise after a version minimum is set with a revision. \
        Enrollment paths: all user-driven ones; Autopilot self-deploying uses the default restriction.",
    how_to_fix: "Intune admin center > Devices > Enrollment > Device platform restriction > Windows \
        restrictions > the reported policy > Properties: correct the minimum or maximum version (without a \
        revision), or update the device to a build inside the range.",
    references: &[R_RESTRICTIONS, R_ERRORS_TS, R_FILTERS],
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
    let winner: Option<Winner> = match user {
        _ if f.path == EnrollmentPath::CoManagement => {
            default_windows_restriction(configs, DEVICE_CREDENTIAL_DEFAULT_ONLY)
        }
        Some(u) => winning_restrictions_in(snap, u).and_then(|w| w.windows_platform),
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
        .with_evidence(restriction_ev),
    }
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
}
