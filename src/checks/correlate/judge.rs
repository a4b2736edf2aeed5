//! The device's failure code judged against the findings at hand: each tenant cause the code
//! allows on the device's path ([`candidates`]) is confirmed, likely, ruled out or left open by
//! the findings of the checks that decide it.

use crate::catalog::error_codes::format_hresult;
use crate::checks::codes::{Candidate, TenantCause};
use crate::model::{CheckMeta, EnrollmentPath, Finding, Status};

pub use crate::checks::codes::candidates;

/// What the tenant facts say about one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// These checks failed: the cause is present.
    Confirmed(Vec<&'static CheckMeta>),
    /// These checks warn (the condition is partly present or could not be fully confirmed) and
    /// the device's code is one this cause produces: the likely cause.
    Likely(Vec<&'static CheckMeta>),
    /// These checks passed: the cause is absent.
    RuledOut(Vec<&'static CheckMeta>),
    /// The checks could not be evaluated (skipped or error): the cause stays possible.
    Unknown(Vec<&'static CheckMeta>),
    /// Cannot produce the failure on this path.
    NotApplicable(&'static str),
}

impl Outcome {
    /// The checks that implicate the cause (confirmed or likely), if any.
    pub fn implicating(&self) -> Option<&[&'static CheckMeta]> {
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
                    let status_of = |check: &CheckMeta| {
                        findings
                            .iter()
                            .filter(|f| f.is(check))
                            .map(|f| f.status.clone())
                            .max_by_key(status_rank)
                    };
                    let checks = c.cause.checks();
                    let deciding: &[&'static CheckMeta] =
                        if checks.specific.iter().any(|c| status_of(c).is_some()) {
                            checks.specific
                        } else {
                            checks.fallback
                        };
                    let failed: Vec<&'static CheckMeta> = deciding
                        .iter()
                        .chain(checks.general)
                        .copied()
                        .filter(|c| status_of(c) == Some(Status::Fail))
                        .collect();
                    // A warning is not an all-clear: with the code this cause produces, it is
                    // the likely cause (MFA on the enrollment app and 0x8018002A).
                    let warned: Vec<&'static CheckMeta> = deciding
                        .iter()
                        .copied()
                        .filter(|c| status_of(c) == Some(Status::Warn))
                        .collect();
                    let passed: Vec<&'static CheckMeta> = deciding
                        .iter()
                        .copied()
                        .filter(|c| status_of(c) == Some(Status::Pass))
                        .collect();
                    let unknown: Vec<&'static CheckMeta> = deciding
                        .iter()
                        .copied()
                        .filter(|c| matches!(status_of(c), Some(Status::Skip | Status::Error)))
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

/// The one cause the findings leave open: it could not be evaluated, and no other cause is
/// open, confirmed or likely (each is ruled out or not applicable on the path).
pub fn only_open_cause(judged: &[Judged]) -> Option<TenantCause> {
    let mut open = judged
        .iter()
        .filter(|j| matches!(j.outcome, Outcome::Unknown(_)));
    let only = open.next()?;
    let none_implicated = judged.iter().all(|j| j.outcome.implicating().is_none());
    (open.next().is_none() && none_implicated).then_some(only.cause)
}

fn ids_of(checks: &[&CheckMeta]) -> String {
    checks.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
}

/// One line of evidence: `0x80180014 on gpo-hybrid: platform restriction confirmed by USR005; …`.
pub fn describe(code: u32, path: EnrollmentPath, judged: &[Judged]) -> String {
    let parts: Vec<String> = judged
        .iter()
        .map(|j| match &j.outcome {
            Outcome::Confirmed(ids) => {
                format!("{} confirmed by {}", j.cause.label(), ids_of(ids))
            }
            Outcome::Likely(ids) => {
                format!(
                    "{} likely ({} warns and the code is one it causes)",
                    j.cause.label(),
                    ids_of(ids)
                )
            }
            Outcome::RuledOut(ids) => {
                format!("{} ruled out by {}", j.cause.label(), ids_of(ids))
            }
            Outcome::Unknown(ids) if ids.is_empty() => {
                format!("{} not evaluated", j.cause.label())
            }
            Outcome::Unknown(ids) => {
                format!(
                    "{} not evaluated ({} skipped)",
                    j.cause.label(),
                    ids_of(ids)
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
    use crate::checks::correlate::COR001;
    use crate::checks::tenant::{TEN003, TEN007, TEN009};
    use crate::checks::user::{USR001, USR002, USR003, USR005, USR008};
    use crate::model::Subject;
    use EnrollmentPath::*;

    fn finding(check: &CheckMeta, status: Status) -> Finding {
        check.finding(status, Subject::User("u@contoso.com".into()), "x")
    }

    #[test]
    fn judging_confirms_rules_out_and_keeps_unknowns_open() {
        let usr003 = finding(&USR003, Status::Fail);
        let ten003 = finding(&TEN003, Status::Pass);
        let usr008 = finding(&USR008, Status::Pass);
        let cor001 = finding(&COR001, Status::Skip);
        let all = [&usr003, &ten003, &usr008, &cor001];
        let judged = judge(&candidates(0x8018_002B, GpoHybrid), &all);
        assert_eq!(judged[0].outcome, Outcome::Confirmed(vec![&USR003]));
        assert_eq!(judged[1].outcome, Outcome::RuledOut(vec![&USR008]));
        assert_eq!(judged[2].outcome, Outcome::Unknown(vec![&COR001]));
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
        let usr003 = finding(&USR003, Status::Skip);
        let ten003 = finding(&TEN003, Status::Pass);
        let judged = judge(&candidates(0x8018_002B, GpoHybrid), &[&usr003, &ten003]);
        assert_eq!(judged[0].outcome, Outcome::Unknown(vec![&USR003]));
        // A failing tenant-wide condition confirms it even when the user check was skipped.
        let ten003 = finding(&TEN003, Status::Fail);
        let judged = judge(&candidates(0x8018_002B, GpoHybrid), &[&usr003, &ten003]);
        assert_eq!(judged[0].outcome, Outcome::Confirmed(vec![&TEN003]));
    }

    #[test]
    fn the_default_restriction_decides_only_when_no_user_is_known() {
        let ten007 = finding(&TEN007, Status::Fail);
        let judged = judge(&candidates(0x8018_0014, GpoHybrid), &[&ten007]);
        assert_eq!(judged[0].outcome, Outcome::Confirmed(vec![&TEN007]));
        // The user's winning restriction allows Windows: the default's block is irrelevant.
        let usr005 = finding(&USR005, Status::Pass);
        let judged = judge(&candidates(0x8018_0014, GpoHybrid), &[&ten007, &usr005]);
        assert_eq!(judged[0].outcome, Outcome::RuledOut(vec![&USR005]));
    }

    #[test]
    fn a_warning_is_the_likely_cause_not_an_all_clear() {
        // MFA on the enrollment app is a TEN009 warning; with 0x8018002A it is the cause.
        let ten009 = finding(&TEN009, Status::Warn);
        let judged = judge(&candidates(0x8018_002A, GpoHybrid), &[&ten009]);
        assert_eq!(judged[0].outcome, Outcome::Likely(vec![&TEN009]));
        assert_eq!(judged[0].outcome.implicating(), Some(&[&TEN009][..]));
        let text = describe(0x8018_002A, GpoHybrid, &judged);
        assert!(!text.contains("ruled out"), "{text}");
        assert!(text.contains("likely (TEN009 warns"), "{text}");
        // A failing check still confirms, over a warning of another.
        let usr002 = finding(&USR002, Status::Fail);
        let usr001 = finding(&USR001, Status::Warn);
        let judged = judge(&candidates(0x8018_0018, GpoHybrid), &[&usr002, &usr001]);
        assert_eq!(judged[0].outcome, Outcome::Confirmed(vec![&USR002]));
        assert_eq!(judged[1].outcome, Outcome::Likely(vec![&USR001]));
    }

    #[test]
    fn only_open_cause_needs_every_other_cause_ruled_out() {
        // 0x8018002B: MDM scope unread (app-only), UPN suffix passes, other tenant passes.
        let usr003 = finding(&USR003, Status::Skip);
        let usr008 = finding(&USR008, Status::Pass);
        let cor001 = finding(&COR001, Status::Pass);
        let judged = judge(
            &candidates(0x8018_002B, GpoHybrid),
            &[&usr003, &usr008, &cor001],
        );
        assert_eq!(only_open_cause(&judged), Some(TenantCause::MdmScope));
        // A second open cause, or one implicated, leaves nothing to eliminate.
        let cor001 = finding(&COR001, Status::Skip);
        let judged = judge(
            &candidates(0x8018_002B, GpoHybrid),
            &[&usr003, &usr008, &cor001],
        );
        assert_eq!(only_open_cause(&judged), None);
        let usr008 = finding(&USR008, Status::Fail);
        let judged = judge(
            &candidates(0x8018_002B, GpoHybrid),
            &[&usr003, &usr008, &cor001],
        );
        assert_eq!(only_open_cause(&judged), None);
    }

    #[test]
    fn not_applicable_candidates_say_why() {
        let judged = judge(&candidates(0x8018_0013, GpoHybrid), &[]);
        assert!(matches!(judged[0].outcome, Outcome::NotApplicable(_)));
        let text = describe(0x8018_0013, GpoHybrid, &judged);
        assert!(text.contains("device limit not applicable"), "{text}");
    }
}
