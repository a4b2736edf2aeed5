//! USR005: The platform restriction that wins for the user allows Windows.

use super::facts::DeviceContext;
use super::shared::{decided_winner, subject, winner_evidence};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Severity};
use crate::model::{EnrollmentPath, Evidence, Finding, Status};
use crate::tenant::precedence::{
    DEVICE_CREDENTIAL_DEFAULT_ONLY, FilterContext, WindowsVersion, default_windows_restriction,
    os_version_blocked, winning_restrictions_for,
};
use crate::tenant::snapshot::{PlatformRestriction, TenantSnapshot, User};

pub const META: CheckMeta = CheckMeta {
    id: "USR005",
    name: "windows-blocked-for-user",
    title: "The platform restriction that wins for the user allows Windows",
    severity: Severity::High,
    area: Area::User,
    permissions: RESTRICTIONS_FOR_USER,
    what_it_checks: "Works out the device platform restriction that applies to the user: among the custom \
        Windows restrictions assigned to the user's groups, the one with the lowest priority number, otherwise \
        the default. Fails when it blocks Windows (MDM), blocks personally owned Windows on a path that counts \
        as personal, or excludes the device's OS version. A restriction assigned through an assignment filter (include or exclude; memdocs \
        intune/intune-service/fundamentals/filters.md) applies only to the devices its rule selects, which \
        Intune decides at enrollment. For a user alone (no device) such a restriction with a higher priority \
        is not taken as the winner, and when its settings would give another answer the finding is a warning \
        that names it. With a device (diagnose), the rule is evaluated against its report with the properties \
        Intune evaluates for Windows enrollment restrictions (memdocs \
        intune/intune-service/enrollment/create-device-platform-restrictions.md, \"Supported filter \
        properties\"; rule syntax in intune/intune-service/fundamentals/filters-device-properties.md), as \
        COR006 does, and only a filter the report cannot decide stays a dependency.",
    why_it_matters: "This is the usual reason for event 76 with 0x80180014 (\"Your organization does not \
        support this version of Windows\"). GPO and co-management enrollments count as corporate, so a \
        personal-device block does not stop them; automatic enrollment during Entra join is stopped by it \
        unless the device is registered in Autopilot. Only the default restriction applies to Autopilot \
        self-deploying and pre-provisioning, and to co-managed devices that enroll with their device credential \
        (memdocs intune/device-enrollment/enrollment-restrictions-set.md: such a device gets \"only the default \
        Intune enrollment restriction\"), so on the co-management path the default is evaluated, not the \
        user's groups. Enrollment paths: all, with the ownership caveats above.",
    how_to_fix: "Intune admin center > Devices > Enrollment > Device platform restriction > Windows \
        restrictions: open the reported policy > Properties > Platform settings, set Windows (MDM) to Allow, \
        review \"Personally owned\" and the minimum/maximum version (Windows does not send its revision \
        number, so 10.0.22631.2000 as a minimum blocks every 22631 device). Or change the priorities or group \
        assignments so the intended policy wins.",
    references: &[
        R_RESTRICTIONS,
        R_ERRORS_TS,
        R_ENROLLMENT_CONFIG_API,
        R_FILTERS,
        R_RESTRICTION_FILTERS,
    ],
};

pub fn usr005_platform_restriction(
    snap: &TenantSnapshot,
    user: &User,
    dev: &DeviceContext,
) -> Finding {
    const ID: &CheckMeta = &META;
    let (configs, endpoint) = match snap.sources.enrollment_configurations.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, subject(user), "the enrollment restrictions"),
    };
    // A co-managed device enrolls with its device credential: only the default restriction
    // applies to it, whatever the user's groups.
    let co_managed = dev.path == Some(EnrollmentPath::CoManagement);
    let winner = if co_managed {
        default_windows_restriction(configs, DEVICE_CREDENTIAL_DEFAULT_ONLY)
    } else {
        // With a device (correlation), its report decides the assignment filters it can.
        let ctx = dev.filter_device.as_ref().map(|device| FilterContext {
            device,
            filters: snap.sources.assignment_filters.data().map(Vec::as_slice),
        });
        winning_restrictions_for(
            configs,
            user,
            snap.sources.group_memberships.data(),
            ctx.as_ref(),
        )
        .windows_platform
    };
    let w = or_finding!(decided_winner(
        snap,
        user,
        ID,
        winner,
        (configs, endpoint),
        (
            Status::Warn,
            "No Windows platform restriction was returned: cannot tell which applies",
        )
    ));
    let r = w.config.windows().cloned().unwrap_or_default();
    let mut evidence = winner_evidence(&w);
    evidence.push(Evidence::new(
        "graph",
        format!(
            "Windows: platformBlocked = {}, personalDeviceEnrollmentBlocked = {}, osMinimumVersion = {}, osMaximumVersion = {}",
            r.platform_blocked.unwrap_or(false),
            r.personal_device_enrollment_blocked.unwrap_or(false),
            r.os_minimum_version.as_deref().unwrap_or("(unset)"),
            r.os_maximum_version.as_deref().unwrap_or("(unset)")
        ),
    ));
    let mut status = Status::Pass;
    let mut problems: Vec<String> = Vec::new();
    let mut fix = String::new();
    if r.platform_blocked.unwrap_or(false) {
        status = Status::Fail;
        problems.push(format!(
            "the winning {} blocks Windows (MDM) enrollment (0x80180014)",
            w.describe()
        ));
        fix = format!(
            "Allow Windows (MDM) in \"{}\" or remove the user from its groups; Intune admin center > \
             Devices > Enrollment > Device platform restriction.",
            w.config.name()
        );
    }
    if r.personal_device_enrollment_blocked.unwrap_or(false) && status != Status::Fail {
        let note = "GPO (hybrid) and co-management enrollments count as corporate and pass; Entra join \
                    automatic enrollment is blocked unless the device is registered with Autopilot; \
                    \"Add work account\" is blocked";
        evidence.push(paths_evidence(
            &[EnrollmentPath::EntraJoin, EnrollmentPath::EntraRegistered],
            note,
        ));
        match dev.path {
            Some(EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement) => {
                problems.push("personal Windows devices are blocked, but this enrollment path counts as corporate".into());
            }
            Some(EnrollmentPath::EntraJoin) if dev.autopilot_registered == Some(true) => {
                problems.push("personal Windows devices are blocked, but the device is registered with Autopilot".into());
            }
            Some(EnrollmentPath::EntraJoin) if dev.corporate_identifier_listed == Some(true) => {
                problems.push("personal Windows devices are blocked, but the device is listed among the corporate identifiers".into());
            }
            Some(EnrollmentPath::EntraJoin)
                if dev.autopilot_registered == Some(false)
                    || dev.corporate_identifier_listed == Some(false) =>
            {
                status = Status::Fail;
                problems.push(
                    match (dev.autopilot_registered, dev.corporate_identifier_listed) {
                        (_, Some(false)) => "personal Windows devices are blocked, and this Entra join enrollment counts as personal: Windows corporate identifiers are uploaded and the device is not among them, nor registered with Autopilot (AP006)",
                        _ => "personal Windows devices are blocked and this Entra join enrollment is not Autopilot-registered",
                    }
                    .into(),
                );
            }
            Some(EnrollmentPath::EntraRegistered) => {
                status = Status::Fail;
                problems.push("personal Windows devices are blocked: \"Add work account\" enrollment is refused".into());
            }
            _ => {
                status = Status::Warn;
                problems.push("personal Windows devices are blocked: Entra join without Autopilot and \"Add work account\" enrollments are refused".into());
            }
        }
        if status != Status::Pass {
            fix = "Register Entra-joined devices with Autopilot (or upload corporate identifiers), or \
                   allow personal Windows devices in the winning restriction."
                .into();
        }
    }
    let min = r.os_minimum_version.as_deref();
    let max = r.os_maximum_version.as_deref();
    for (label, value) in [("osMinimumVersion", min), ("osMaximumVersion", max)] {
        if let Some(v) = value
            && WindowsVersion::parse(v).is_none()
        {
            if status == Status::Pass {
                status = Status::Warn;
                fix = format!(
                    "Enter the version of \"{}\" as major.minor.build[.revision], e.g. 10.0.19045.",
                    w.config.name()
                );
            }
            problems.push(format!(
                "{label} \"{v}\" is not a major.minor.build.revision version: not compared"
            ));
        }
    }
    if let Some(v) = dev.os_version.as_deref().and_then(WindowsVersion::parse) {
        if let Some(why) = os_version_blocked(min, max, v) {
            status = Status::Fail;
            problems.push(why);
            fix = format!(
                "Adjust the OS version range of \"{}\" or update the device.",
                w.config.name()
            );
        }
    } else if let Some(m) = min.and_then(WindowsVersion::parse)
        && m.0[3] != 0
        && status == Status::Pass
    {
        status = Status::Warn;
        problems.push(format!(
            "the minimum version {m} has a revision: Windows does not send its revision at enrollment, so every device of build {} is blocked",
            m.build()
        ));
        fix = format!(
            "Set the minimum of \"{}\" to {}.{}.{}.0 (no revision).",
            w.config.name(),
            m.0[0],
            m.0[1],
            m.0[2]
        );
    }
    // A higher-priority restriction assigned through an assignment filter wins for the devices
    // the filter selects: when its Windows settings differ, the verdict depends on the device.
    // What a restriction decides for this enrollment: Windows blocked, personal devices blocked
    // where the path counts as personal, and the version range (the device's build when known,
    // else the range itself). Settings that decide nothing here do not make a difference.
    let device_version = dev.os_version.as_deref().and_then(WindowsVersion::parse);
    let decides = |x: &PlatformRestriction| {
        let personal = x.personal_device_enrollment_blocked.unwrap_or(false)
            && !matches!(
                dev.path,
                Some(EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement)
            );
        let min = x
            .os_minimum_version
            .as_deref()
            .filter(|v| !v.trim().is_empty());
        let max = x
            .os_maximum_version
            .as_deref()
            .filter(|v| !v.trim().is_empty());
        let range = match device_version {
            Some(v) => (os_version_blocked(min, max, v).is_some(), None),
            None => (
                false,
                Some((min.map(str::to_string), max.map(str::to_string))),
            ),
        };
        (x.platform_blocked.unwrap_or(false), personal, range)
    };
    let ours = decides(&r);
    let differing: Vec<String> = w
        .depends_on_filters
        .iter()
        .filter(|d| decides(&d.config.windows().cloned().unwrap_or_default()) != ours)
        .map(|d| d.describe(snap.sources.assignment_filters.data().map(Vec::as_slice)))
        .collect();
    if !differing.is_empty() && status != Status::Warn {
        status = Status::Warn;
        problems.push(format!(
            "for some devices another restriction wins: {} (Intune evaluates the filter rule at enrollment)",
            differing.join("; ")
        ));
        fix =
            "Check the assignment filter's rule against the device (Intune admin center > Tenant \
               administration > Filters); the restriction it selects wins for matching devices."
                .into();
    }
    if w.uncertain {
        evidence.push(Evidence::new(
            "precedence",
            "some higher-priority restriction may apply: the user's membership of its groups is unknown",
        ));
        if status == Status::Pass {
            // A pass built on unknown memberships would be a guess.
            status = Status::Warn;
            problems.push(format!(
                "cannot confirm the winning restriction ({}): the user's group memberships are unknown",
                w.describe()
            ));
            fix = "Collect the user's group memberships (run `check --user` against Graph, or save a \
                   snapshot whose memberships cover the restriction's groups) and run again."
                .into();
        }
    }
    let summary = if problems.is_empty() {
        format!(
            "The winning Windows restriction allows enrollment: {}",
            w.describe()
        )
    } else {
        let mut s = problems.join("; ");
        if let Some(first) = s.get(0..1) {
            s = first.to_uppercase() + &s[1..];
        }
        s
    };
    ID.finding(status, subject(user), summary)
        .with_remediation(fix)
        .with_all_evidence(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::json;
    use crate::checks::user::tests::*;
    use crate::checks::user::*;
    use crate::tenant::snapshot::{GroupMemberships, MissingReason, Source};

    #[test]
    fn usr005_co_management_gets_only_the_default_restriction() {
        // "Pilot Windows block" (priority 1, group Pilot) blocks Windows; the default allows it.
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.enrollment_configurations = Source::collected(
            "GET /beta/deviceManagement/deviceEnrollmentConfigurations",
            json(&restrictions(false, true, "")),
        );
        let u = s.user("u1").cloned().unwrap_or_default();
        let at = |path| usr005_platform_restriction(&s, &u, &DeviceContext::for_path(Some(path)));
        assert_eq!(at(EnrollmentPath::GpoHybrid).status, Status::Fail);
        let f = at(EnrollmentPath::CoManagement);
        assert_eq!(f.status, Status::Pass, "{:#?}", f.evidence);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("device credential (co-management)")),
            "{:#?}",
            f.evidence
        );
    }

    #[test]
    fn usr005_decides_filters_from_the_device_and_keeps_them_open_without_one() {
        use crate::tenant::filter_rule::FilterDevice;
        // "Pilot Windows block" assigned to Pilot through the include filter "Home editions".
        let configs = restrictions(false, true, "").replace(
            &format!(r#""groupId":"{PILOT}""#),
            &format!(
                r#""groupId":"{PILOT}","deviceAndAppManagementAssignmentFilterId":"f1","deviceAndAppManagementAssignmentFilterType":"include""#
            ),
        );
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.enrollment_configurations = Source::collected(
            "GET /beta/deviceManagement/deviceEnrollmentConfigurations",
            json(&configs),
        );
        s.sources.assignment_filters = Source::collected(
            "GET /beta/deviceManagement/assignmentFilters",
            json(
                r#"[{"id":"f1","displayName":"Home editions","platform":"windows10AndLater",
                     "rule":"(device.operatingSystemSKU -in [\"Core\", \"CoreSingleLanguage\"])"}]"#,
            ),
        );
        let u = s.user("u1").cloned().unwrap_or_default();
        let on = |edition: Option<&str>| {
            let dev = DeviceContext {
                path: Some(EnrollmentPath::EntraJoin),
                filter_device: edition.map(|e| FilterDevice {
                    edition_id: Some(e.into()),
                    os_build: Some(26100),
                    ..Default::default()
                }),
                ..Default::default()
            };
            usr005_platform_restriction(&s, &u, &dev)
        };
        // A Home device matches: the block wins.
        let f = on(Some("Core"));
        assert_eq!(f.status, Status::Fail, "{:#?}", f);
        assert!(
            f.evidence.iter().any(|e| e
                .detail
                .contains("the device matches (operatingSystemSKU is \"Core\")")),
            "{:#?}",
            f.evidence
        );
        // An Enterprise device does not: the default wins, nothing is left open.
        let f = on(Some("Enterprise"));
        assert_eq!(f.status, Status::Pass, "{:#?}", f);
        // No device (a user's readiness): the winner depends on the filter.
        let f = on(None);
        assert_eq!(f.status, Status::Warn, "{:#?}", f);
        assert!(f.summary.contains("Home editions"), "{}", f.summary);
    }

    #[test]
    fn usr005_blocked_windows_names_the_winner() {
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.enrollment_configurations = Source::collected(
            "GET /beta/deviceManagement/deviceEnrollmentConfigurations",
            json(&restrictions(false, true, "")),
        );
        let f = usr005_platform_restriction(
            &s,
            s.user("u1").unwrap_or(&User::default()),
            &DeviceContext::default(),
        );
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence.iter().any(|e| e.location.as_deref()
                == Some("restriction \"Pilot Windows block\" (priority 1) via group Pilot")),
            "{:#?}",
            f.evidence
        );
        let s2 = snap_with(&user_json(""), &[]);
        let mut s2 = s2;
        s2.sources.enrollment_configurations = s.sources.enrollment_configurations.clone();
        assert_eq!(
            status(&user_readiness(&s2, "jdoe@contoso.com", None), "USR005"),
            Status::Pass
        );
    }

    #[test]
    fn usr005_unreadable_version_is_not_a_silent_pass() {
        let mut s = snap_with(&user_json(""), &[]);
        s.sources.enrollment_configurations = Source::collected(
            "GET /beta/x",
            json(&restrictions(false, false, "").replace(
                "\"osMinimumVersion\":\"\"",
                "\"osMinimumVersion\":\"Windows 10 22H2\"",
            )),
        );
        let f = usr005_platform_restriction(
            &s,
            s.user("u1").unwrap_or(&User::default()),
            &DeviceContext::default(),
        );
        assert_eq!(f.status, Status::Warn, "{f:?}");
        assert!(f.summary.contains("Windows 10 22H2"), "{}", f.summary);
    }

    #[test]
    fn usr005_unknown_membership_is_not_a_pass() {
        let mut s = snap_with(&user_json(""), &[]);
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&restrictions(false, true, "")));
        s.sources.group_memberships = Source::Missing {
            reason: MissingReason::InsufficientPermission {
                needed: vec!["GroupMember.Read.All".into()],
            },
        };
        let f = usr005_platform_restriction(
            &s,
            s.user("u1").unwrap_or(&User::default()),
            &DeviceContext::default(),
        );
        // Unreadable memberships: a typed skip naming the permission, never a pass.
        assert_eq!(f.status, Status::Skip);
        assert_eq!(
            f.skip_reason,
            Some(SkipReason::InsufficientPermission {
                needed: vec!["GroupMember.Read.All".into()]
            })
        );
        assert!(f.remediation.contains("GroupMember.Read.All"), "{f:?}");
        // Memberships read, but not of the restriction's group: a warn, still never a pass.
        s.sources.group_memberships = Source::collected(
            "GET /v1.0/groups/{id}/transitiveMembers",
            GroupMemberships {
                all_users_resolved: true,
                relevant_groups: vec!["99999999-0000-0000-0000-000000000000".into()],
                ..Default::default()
            },
        );
        let f = usr005_platform_restriction(
            &s,
            s.user("u1").unwrap_or(&User::default()),
            &DeviceContext::default(),
        );
        assert_eq!(f.status, Status::Warn);
        assert!(
            f.summary.contains("memberships are unknown"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn usr005_personal_block_versus_paths() {
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.enrollment_configurations =
            Source::collected("GET /beta/x", json(&restrictions(true, false, "")));
        let at = |path: Option<EnrollmentPath>, autopilot: Option<bool>| {
            let ctx = DeviceContext {
                path,
                autopilot_registered: autopilot,
                ..Default::default()
            };
            usr005_platform_restriction(&s, s.user("u1").unwrap_or(&User::default()), &ctx).status
        };
        assert_eq!(at(Some(EnrollmentPath::GpoHybrid), None), Status::Pass);
        assert_eq!(at(Some(EnrollmentPath::CoManagement), None), Status::Pass);
        assert_eq!(
            at(Some(EnrollmentPath::EntraJoin), Some(true)),
            Status::Pass
        );
        assert_eq!(
            at(Some(EnrollmentPath::EntraJoin), Some(false)),
            Status::Fail
        );
        assert_eq!(
            at(Some(EnrollmentPath::EntraRegistered), None),
            Status::Fail
        );
        assert_eq!(at(None, None), Status::Warn);
    }

    #[test]
    fn usr005_os_versions() {
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.enrollment_configurations = Source::collected(
            "GET /beta/x",
            json(&restrictions(false, false, "10.0.19045.3803")),
        );
        let u = s.user("u1").cloned().unwrap_or_default();
        let ctx = |v: &str| DeviceContext {
            os_version: Some(v.into()),
            ..Default::default()
        };
        let f = usr005_platform_restriction(&s, &u, &ctx("10.0.19045.4000"));
        assert_eq!(f.status, Status::Fail, "revision is not sent at enrollment");
        assert_eq!(
            usr005_platform_restriction(&s, &u, &ctx("10.0.22631.1")).status,
            Status::Pass
        );
        assert_eq!(
            usr005_platform_restriction(&s, &u, &DeviceContext::default()).status,
            Status::Warn
        );
    }
}
