//! Device failure code → the tenant-side causes that can produce it, aware of the enrollment
//! path. Each candidate names the checks whose findings confirm it (fail) or rule it out (pass);
//! a candidate that cannot apply on the device's path is listed with the reason, so the evidence
//! says why it was not considered.

use crate::catalog::error_codes::{LikelyCause, format_hresult, lookup};
use crate::model::{EnrollmentPath, Finding, Status};

/// A tenant-side reason a device's enrollment can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TenantCause {
    /// The winning platform restriction blocks Windows (MDM) or personal Windows devices.
    PlatformRestriction,
    /// The winning restriction's OS version range excludes the device's build.
    OsVersionRange,
    /// The user reached the Intune device limit.
    DeviceLimit,
    /// No usable Intune licence (user) or subscription (tenant).
    License,
    /// MDM user scope None or leaving the user out.
    MdmScope,
    /// The user's UPN suffix is not a verified, routable domain.
    UpnSuffix,
    /// The device is joined to another tenant (stale TenantInfo).
    OtherTenant,
    /// MFA / Conditional Access on the enrollment apps.
    ConditionalAccess,
    /// Entra does not let the user join devices (or the per-user quota is reached).
    JoinNotAllowed,
    /// An enrollment already exists (stale keys, another user, a leftover Intune record).
    AlreadyEnrolled,
    /// The user account is missing or disabled.
    UserAccount,
}

impl TenantCause {
    pub fn label(self) -> &'static str {
        match self {
            TenantCause::PlatformRestriction => "platform restriction",
            TenantCause::OsVersionRange => "restriction OS version range",
            TenantCause::DeviceLimit => "device limit",
            TenantCause::License => "Intune license",
            TenantCause::MdmScope => "MDM user scope",
            TenantCause::UpnSuffix => "UPN suffix",
            TenantCause::OtherTenant => "device joined to another tenant",
            TenantCause::ConditionalAccess => "MFA / Conditional Access on the enrollment apps",
            TenantCause::JoinNotAllowed => "users may not join devices",
            TenantCause::AlreadyEnrolled => "existing enrollment",
            TenantCause::UserAccount => "user account",
        }
    }

    /// The checks whose findings confirm or rule out this cause.
    pub fn checks(self) -> CauseChecks {
        let c = |specific: &'static [&'static str],
                 fallback: &'static [&'static str],
                 general: &'static [&'static str]| CauseChecks {
            specific,
            fallback,
            general,
        };
        match self {
            // The default restriction is what userless enrollments get: TEN007 stands in for
            // USR005 only when no user is known.
            TenantCause::PlatformRestriction => c(&["USR005"], &["TEN007"], &[]),
            TenantCause::OsVersionRange => c(&["COR006"], &[], &[]),
            TenantCause::DeviceLimit => c(&["USR006"], &[], &[]),
            TenantCause::License => c(&["USR002"], &[], &["TEN002"]),
            TenantCause::MdmScope => c(&["USR003"], &[], &["TEN003", "TEN005"]),
            TenantCause::UpnSuffix => c(&["USR008"], &[], &[]),
            TenantCause::OtherTenant => c(&["COR001"], &[], &[]),
            TenantCause::ConditionalAccess => c(&["TEN009"], &[], &[]),
            TenantCause::JoinNotAllowed => c(&["TEN008"], &[], &[]),
            // Stale keys are a device fact; a leftover Intune record is the tenant side of it.
            TenantCause::AlreadyEnrolled => c(&["DEV009"], &[], &["COR004"]),
            TenantCause::UserAccount => c(&["USR001"], &[], &[]),
        }
    }

    /// `Err(reason)` when this cause cannot produce a failure on `path` (DESIGN.md §1).
    pub fn applies_on(self, path: EnrollmentPath) -> Result<(), &'static str> {
        match (self, path) {
            (
                TenantCause::DeviceLimit,
                EnrollmentPath::GpoHybrid
                | EnrollmentPath::CoManagement
                | EnrollmentPath::EntraJoin,
            ) => Err(
                "Intune device limits are not enforced for GPO, co-management, Entra join, bulk or Autopilot enrollments",
            ),
            (
                TenantCause::JoinNotAllowed,
                EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement,
            ) => Err(
                "\"users may join devices\" and the per-user device quota do not apply to hybrid join",
            ),
            // 0x801C0003 is the Entra join refusing the user; adding a work account is governed by
            // "users may register devices", which Intune enrollment requires to be All.
            (TenantCause::JoinNotAllowed, EnrollmentPath::EntraRegistered) => Err(
                "\"users may join devices\" governs Entra join only, not registering a work account",
            ),
            _ => Ok(()),
        }
    }
}

/// Which findings decide a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CauseChecks {
    /// Decide the cause: fail confirms it, pass rules it out.
    pub specific: &'static [&'static str],
    /// Used like `specific` when none of the specific findings exists (e.g. no user known).
    pub fallback: &'static [&'static str],
    /// Tenant-wide conditions that imply the cause when they fail (scope None, no
    /// subscription); their pass proves nothing for one user.
    pub general: &'static [&'static str],
}

/// One tenant cause considered for a code on a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub cause: TenantCause,
    /// `Err(reason)`: not applicable on this path.
    pub applies: Result<(), &'static str>,
}

/// The tenant causes that can produce `code`, in the order to consider them.
pub fn causes_for_code(code: u32) -> Vec<TenantCause> {
    use TenantCause::*;
    match code {
        0x8018_0014 | 0x8018_0015 => vec![PlatformRestriction, OsVersionRange],
        0x8018_0013 => vec![DeviceLimit, PlatformRestriction],
        0x8018_0003 => vec![DeviceLimit, PlatformRestriction, OsVersionRange],
        0x8018_0018 => vec![License, UserAccount],
        0x8018_002B | 0x8018_0031 => vec![MdmScope, UpnSuffix, OtherTenant],
        0x8018_002A | 0x8018_0030 => vec![ConditionalAccess],
        0x801C_0003 => vec![JoinNotAllowed],
        0x8018_000A => vec![AlreadyEnrolled],
        other => match lookup(other).map(|e| e.likely_cause) {
            Some(LikelyCause::PlatformRestriction) => vec![PlatformRestriction, OsVersionRange],
            Some(LikelyCause::DeviceLimit) => vec![DeviceLimit],
            Some(LikelyCause::License) => vec![License],
            Some(LikelyCause::MdmScope) => vec![MdmScope, UpnSuffix],
            Some(LikelyCause::ConditionalAccess) => vec![ConditionalAccess],
            Some(LikelyCause::AlreadyEnrolled) => vec![AlreadyEnrolled],
            Some(LikelyCause::JoinNotAllowed) => vec![JoinNotAllowed],
            Some(LikelyCause::Authentication) => vec![UserAccount, OtherTenant],
            _ => Vec::new(),
        },
    }
}

/// The candidates for `code` on `path`, each marked applicable or not.
pub fn candidates(code: u32, path: EnrollmentPath) -> Vec<Candidate> {
    causes_for_code(code)
        .into_iter()
        .map(|cause| Candidate {
            cause,
            applies: cause.applies_on(path),
        })
        .collect()
}

/// What the tenant facts say about one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// These checks failed: the cause is present.
    Confirmed(Vec<String>),
    /// These checks warn (the condition is partly present or could not be fully confirmed) and
    /// the device's code is one this cause produces: the likely cause.
    Likely(Vec<String>),
    /// These checks passed: the cause is absent.
    RuledOut(Vec<String>),
    /// The checks could not be evaluated (skipped or error): the cause stays possible.
    Unknown(Vec<String>),
    /// Cannot produce the failure on this path.
    NotApplicable(&'static str),
}

impl Outcome {
    /// The checks that implicate the cause (confirmed or likely), if any.
    pub fn implicating(&self) -> Option<&Vec<String>> {
        match self {
            Outcome::Confirmed(ids) | Outcome::Likely(ids) => Some(ids),
            _ => None,
        }
    }
}

/// A candidate with its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub cause: TenantCause,
    pub outcome: Outcome,
}

/// Confirms or rules out each candidate with the findings at hand (any subject).
pub fn judge(candidates: &[Candidate], findings: &[&Finding]) -> Vec<Judged> {
    candidates
        .iter()
        .map(|c| {
            let outcome = match c.applies {
                Err(why) => Outcome::NotApplicable(why),
                Ok(()) => {
                    let status_of = |id: &str| {
                        findings
                            .iter()
                            .filter(|f| f.check == id)
                            .map(|f| f.status.clone())
                            .max_by_key(status_rank)
                    };
                    let checks = c.cause.checks();
                    let deciding: &[&str] =
                        if checks.specific.iter().any(|id| status_of(id).is_some()) {
                            checks.specific
                        } else {
                            checks.fallback
                        };
                    let failed: Vec<String> = deciding
                        .iter()
                        .chain(checks.general)
                        .filter(|id| status_of(id) == Some(Status::Fail))
                        .map(|id| id.to_string())
                        .collect();
                    // A warning is not an all-clear: with the code this cause produces, it is
                    // the likely cause (MFA on the enrollment app and 0x8018002A).
                    let warned: Vec<String> = deciding
                        .iter()
                        .filter(|id| status_of(id) == Some(Status::Warn))
                        .map(|id| id.to_string())
                        .collect();
                    let passed: Vec<String> = deciding
                        .iter()
                        .filter(|id| status_of(id) == Some(Status::Pass))
                        .map(|id| id.to_string())
                        .collect();
                    let unknown: Vec<String> = deciding
                        .iter()
                        .filter(|id| matches!(status_of(id), Some(Status::Skip | Status::Error)))
                        .map(|id| id.to_string())
                        .collect();
                    if !failed.is_empty() {
                        Outcome::Confirmed(failed)
                    } else if !warned.is_empty() {
                        Outcome::Likely(warned)
                    } else if !passed.is_empty() && unknown.is_empty() {
                        Outcome::RuledOut(passed)
                    } else {
                        Outcome::Unknown(unknown)
                    }
                }
            };
            Judged {
                cause: c.cause,
                outcome,
            }
        })
        .collect()
}

fn status_rank(s: &Status) -> u8 {
    match s {
        Status::Fail => 4,
        Status::Error => 3,
        Status::Skip => 2,
        Status::Warn => 1,
        Status::Pass => 0,
    }
}

/// One line of evidence: `0x80180014 on gpo-hybrid: platform restriction confirmed by USR005; …`.
pub fn describe(code: u32, path: EnrollmentPath, judged: &[Judged]) -> String {
    let parts: Vec<String> = judged
        .iter()
        .map(|j| match &j.outcome {
            Outcome::Confirmed(ids) => {
                format!("{} confirmed by {}", j.cause.label(), ids.join(", "))
            }
            Outcome::Likely(ids) => {
                format!(
                    "{} likely ({} warns and the code is one it causes)",
                    j.cause.label(),
                    ids.join(", ")
                )
            }
            Outcome::RuledOut(ids) => {
                format!("{} ruled out by {}", j.cause.label(), ids.join(", "))
            }
            Outcome::Unknown(ids) if ids.is_empty() => {
                format!("{} not evaluated", j.cause.label())
            }
            Outcome::Unknown(ids) => {
                format!(
                    "{} not evaluated ({} skipped)",
                    j.cause.label(),
                    ids.join(", ")
                )
            }
            Outcome::NotApplicable(why) => {
                format!("{} not applicable ({why})", j.cause.label())
            }
        })
        .collect();
    if parts.is_empty() {
        return format!(
            "{} on the {path} path maps to no tenant-side cause",
            format_hresult(code)
        );
    }
    format!(
        "{} on the {path} path: {}",
        format_hresult(code),
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Subject;
    use EnrollmentPath::*;
    use TenantCause::*;

    fn applicable(code: u32, path: EnrollmentPath) -> Vec<TenantCause> {
        candidates(code, path)
            .into_iter()
            .filter(|c| c.applies.is_ok())
            .map(|c| c.cause)
            .collect()
    }

    #[test]
    fn platform_restriction_codes_point_at_restrictions_on_every_path() {
        for path in [GpoHybrid, EntraJoin, EntraRegistered, CoManagement, Unknown] {
            assert_eq!(
                applicable(0x8018_0014, path),
                vec![PlatformRestriction, OsVersionRange]
            );
        }
    }

    #[test]
    fn device_limit_is_not_a_cause_on_gpo_coman_or_entra_join() {
        for path in [GpoHybrid, CoManagement, EntraJoin] {
            assert_eq!(applicable(0x8018_0013, path), vec![PlatformRestriction]);
            assert_eq!(
                applicable(0x8018_0003, path),
                vec![PlatformRestriction, OsVersionRange]
            );
            let c = candidates(0x8018_0013, path);
            assert!(
                c.iter()
                    .any(|c| c.cause == DeviceLimit && c.applies.is_err())
            );
        }
        assert_eq!(
            applicable(0x8018_0013, EntraRegistered),
            vec![DeviceLimit, PlatformRestriction]
        );
        assert_eq!(
            applicable(0x8018_0003, EntraRegistered),
            vec![DeviceLimit, PlatformRestriction, OsVersionRange]
        );
    }

    #[test]
    fn license_scope_ca_and_stale_codes() {
        assert_eq!(
            applicable(0x8018_0018, GpoHybrid),
            vec![License, UserAccount]
        );
        assert_eq!(
            applicable(0x8018_002B, GpoHybrid),
            vec![MdmScope, UpnSuffix, OtherTenant]
        );
        assert_eq!(applicable(0x8018_002A, GpoHybrid), vec![ConditionalAccess]);
        assert_eq!(applicable(0x8018_000A, GpoHybrid), vec![AlreadyEnrolled]);
    }

    #[test]
    fn join_not_allowed_only_on_entra_join_paths() {
        assert_eq!(applicable(0x801C_0003, EntraJoin), vec![JoinNotAllowed]);
        assert!(applicable(0x801C_0003, EntraRegistered).is_empty());
        assert!(applicable(0x801C_0003, GpoHybrid).is_empty());
        assert!(applicable(0x801C_0003, CoManagement).is_empty());
    }

    #[test]
    fn unlisted_codes_fall_back_to_the_catalogue_category() {
        // 0x80180019 is catalogued as an MDM configuration problem.
        assert_eq!(causes_for_code(0x8018_0019), vec![MdmScope, UpnSuffix]);
        // A code the catalogue does not know maps to nothing.
        assert!(causes_for_code(0x1234_5678).is_empty());
    }

    fn finding(id: &str, status: Status) -> Finding {
        Finding::new(id, status, Subject::User("u@contoso.com".into()), "x")
    }

    #[test]
    fn judging_confirms_rules_out_and_keeps_unknowns_open() {
        let usr003 = finding("USR003", Status::Fail);
        let ten003 = finding("TEN003", Status::Pass);
        let usr008 = finding("USR008", Status::Pass);
        let cor001 = finding("COR001", Status::Skip);
        let all = [&usr003, &ten003, &usr008, &cor001];
        let judged = judge(&candidates(0x8018_002B, GpoHybrid), &all);
        assert_eq!(judged[0].outcome, Outcome::Confirmed(vec!["USR003".into()]));
        assert_eq!(judged[1].outcome, Outcome::RuledOut(vec!["USR008".into()]));
        assert_eq!(judged[2].outcome, Outcome::Unknown(vec!["COR001".into()]));
        let text = describe(0x8018_002B, GpoHybrid, &judged);
        assert!(
            text.starts_with("0x8018002B on the gpo-hybrid path"),
            "{text}"
        );
        assert!(
            text.contains("MDM user scope confirmed by USR003"),
            "{text}"
        );
        assert!(text.contains("UPN suffix ruled out by USR008"), "{text}");
    }

    #[test]
    fn a_skipped_specific_check_keeps_the_cause_open_despite_a_passing_general_one() {
        let usr003 = finding("USR003", Status::Skip);
        let ten003 = finding("TEN003", Status::Pass);
        let judged = judge(&candidates(0x8018_002B, GpoHybrid), &[&usr003, &ten003]);
        assert_eq!(judged[0].outcome, Outcome::Unknown(vec!["USR003".into()]));
        // A failing tenant-wide condition confirms it even when the user check was skipped.
        let ten003 = finding("TEN003", Status::Fail);
        let judged = judge(&candidates(0x8018_002B, GpoHybrid), &[&usr003, &ten003]);
        assert_eq!(judged[0].outcome, Outcome::Confirmed(vec!["TEN003".into()]));
    }

    #[test]
    fn the_default_restriction_decides_only_when_no_user_is_known() {
        let ten007 = finding("TEN007", Status::Fail);
        let judged = judge(&candidates(0x8018_0014, GpoHybrid), &[&ten007]);
        assert_eq!(judged[0].outcome, Outcome::Confirmed(vec!["TEN007".into()]));
        // The user's winning restriction allows Windows: the default's block is irrelevant.
        let usr005 = finding("USR005", Status::Pass);
        let judged = judge(&candidates(0x8018_0014, GpoHybrid), &[&ten007, &usr005]);
        assert_eq!(judged[0].outcome, Outcome::RuledOut(vec!["USR005".into()]));
    }

    #[test]
    fn a_warning_is_the_likely_cause_not_an_all_clear() {
        // MFA on the enrollment app is a TEN009 warning; with 0x8018002A it is the cause.
        let ten009 = finding("TEN009", Status::Warn);
        let judged = judge(&candidates(0x8018_002A, GpoHybrid), &[&ten009]);
        assert_eq!(judged[0].outcome, Outcome::Likely(vec!["TEN009".into()]));
        assert_eq!(
            judged[0].outcome.implicating(),
            Some(&vec!["TEN009".to_string()])
        );
        let text = describe(0x8018_002A, GpoHybrid, &judged);
        assert!(!text.contains("ruled out"), "{text}");
        assert!(text.contains("likely (TEN009 warns"), "{text}");
        // A failing check still confirms, over a warning of another.
        let usr002 = finding("USR002", Status::Fail);
        let usr001 = finding("USR001", Status::Warn);
        let judged = judge(&candidates(0x8018_0018, GpoHybrid), &[&usr002, &usr001]);
        assert_eq!(judged[0].outcome, Outcome::Confirmed(vec!["USR002".into()]));
        assert_eq!(judged[1].outcome, Outcome::Likely(vec!["USR001".into()]));
    }

    #[test]
    fn not_applicable_candidates_say_why() {
        let judged = judge(&candidates(0x8018_0013, GpoHybrid), &[]);
        assert!(matches!(judged[0].outcome, Outcome::NotApplicable(_)));
        let text = describe(0x8018_0013, GpoHybrid, &judged);
        assert!(text.contains("device limit not applicable"), "{text}");
    }
}
