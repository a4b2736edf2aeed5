//! CI gates beside `--fail-on`: `--require CHECK` (these checks must have run on every subject
//! of the run) and the explanation of `--fail-on skip` (which checks could not run). The exit
//! code itself stays [`super::exit_code`]'s; a gate that is not met makes it at least 1.
//!
//! A required check has *run* when it has at least one finding and none of its findings is
//! `skip` or `error`: a check a run never evaluates (a device check in `audit`, a user check
//! without users) did not run either. The tracker keeps counts and a few examples per check,
//! not the findings, so a run over 100,000 users can feed it as it goes.

use std::collections::BTreeMap;

use crate::checks::registry;
use crate::model::{Area, CheckMeta, Finding, SkipReason, Status, Subject};

/// How many example subjects a line names.
const EXAMPLES: usize = 3;

/// A `--require` value that names no check.
#[derive(Debug, thiserror::Error)]
#[error(
    "--require {}: no such check (an ID such as USR003, or a name such as user-not-in-mdm-scope; `enroll-doctor explain --all` lists them)",
    crate::text_safety::shown(.0)
)]
pub struct UnknownCheck(pub String);

/// Whether a finding says its check could not run: `error`, or `skip` for a reason other than
/// not applying on the device's enrollment path (a missing permission, an app-only token,
/// missing evidence). What `--fail-on skip` counts.
pub fn could_not_run(f: &Finding) -> bool {
    match f.status {
        Status::Error => true,
        Status::Skip => !matches!(f.skip_reason, Some(SkipReason::NotApplicable { .. })),
        Status::Pass | Status::Warn | Status::Fail => false,
    }
}

/// One required check and what the run did with it.
#[derive(Debug, Clone)]
struct Required {
    meta: &'static CheckMeta,
    ran: usize,
    /// Why it did not run (the finding's summary, or the error) → subjects and a few examples.
    not_run: BTreeMap<String, Tally>,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    subjects: usize,
    examples: Vec<String>,
}

impl Tally {
    fn add(&mut self, subject: &Subject) {
        self.subjects += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(match subject {
                Subject::Tenant => "the tenant".to_string(),
                Subject::User(u) | Subject::Device(u) => u.clone(),
            });
        }
    }
}

/// Observes a run's findings for `--require` and `--fail-on skip`.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    required: Vec<Required>,
    /// `--fail-on skip`: the checks that could not run, with how often.
    unchecked: Option<BTreeMap<String, usize>>,
}

impl Gate {
    /// The gate for `--require` values (IDs or names, case-insensitive; duplicates once) and
    /// whether `--fail-on skip` is set.
    pub fn new(require: &[String], fail_on_skip: bool) -> Result<Gate, UnknownCheck> {
        let mut required: Vec<Required> = Vec::new();
        for id in require.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let meta = registry::get(id).ok_or_else(|| UnknownCheck(id.to_string()))?;
            if !required.iter().any(|r| r.meta.id == meta.id) {
                required.push(Required {
                    meta,
                    ran: 0,
                    not_run: BTreeMap::new(),
                });
            }
        }
        Ok(Gate {
            required,
            unchecked: fail_on_skip.then(BTreeMap::new),
        })
    }

    /// Whether the gate has anything to check (no `--require`, no `--fail-on skip`: nothing).
    pub fn is_active(&self) -> bool {
        !self.required.is_empty() || self.unchecked.is_some()
    }

    pub fn observe(&mut self, f: &Finding) {
        if let Some(u) = &mut self.unchecked
            && could_not_run(f)
        {
            match u.get_mut(f.check.as_str()) {
                Some(n) => *n += 1,
                None => {
                    u.insert(f.check.clone(), 1);
                }
            }
        }
        let Some(r) = self.required.iter_mut().find(|r| r.meta.id == f.check) else {
            return;
        };
        match f.status {
            Status::Pass | Status::Warn | Status::Fail => r.ran += 1,
            Status::Skip | Status::Error => {
                let why = match (&f.status, &f.error) {
                    (Status::Error, Some(e)) => format!("error: {e}"),
                    (Status::Error, None) => format!("error: {}", f.summary),
                    _ => format!("skip: {}", f.summary),
                };
                r.not_run.entry(why).or_default().add(&f.subject);
            }
        }
    }

    pub fn observe_all<'f>(&mut self, findings: impl IntoIterator<Item = &'f Finding>) {
        for f in findings {
            self.observe(f);
        }
    }

    /// One line per required check that did not run on every subject, naming why.
    pub fn unmet(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.required {
            let id = r.meta.id;
            if r.ran == 0 && r.not_run.is_empty() {
                out.push(format!(
                    "--require {id}: {id} did not run: no subject of this run is evaluated by \
                     it ({})",
                    what_runs(r.meta)
                ));
                continue;
            }
            if r.not_run.is_empty() {
                continue;
            }
            let missed: usize = r.not_run.values().map(|t| t.subjects).sum();
            let total = missed + r.ran;
            let reasons: Vec<String> = r
                .not_run
                .iter()
                .map(|(why, t)| {
                    let more = if t.subjects > t.examples.len() {
                        ", …"
                    } else {
                        ""
                    };
                    format!(
                        "{} for {} ({}{more})",
                        crate::text_safety::escape_line(why),
                        plural(t.subjects, "subject"),
                        crate::text_safety::escape_line(&t.examples.join(", "))
                    )
                })
                .collect();
            out.push(format!(
                "--require {id}: {id} did not run for {missed} of {total}: {}",
                reasons.join("; ")
            ));
        }
        out
    }

    /// The `--fail-on skip` line: which checks could not run, and how often (none: `None`).
    pub fn unchecked(&self) -> Option<String> {
        let u = self.unchecked.as_ref().filter(|u| !u.is_empty())?;
        let total: usize = u.values().sum();
        let list: Vec<String> = u.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
        Some(format!(
            "--fail-on skip: {} could not run (skipped for a missing permission, an app-only \
             token or missing evidence, or ended in error): {}",
            plural(total, "finding"),
            list.join(", ")
        ))
    }

    /// Every line the gate has to say (the `--fail-on skip` line, then each unmet `--require`).
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.unchecked().into_iter().collect();
        lines.extend(self.unmet());
        lines
    }

    /// The exit code with the gate applied to CODE (the findings' own): 2 stays 2, an unmet
    /// `--require` makes it at least 1. (`--fail-on skip` is already in CODE.)
    pub fn exit_code(&self, code: u8) -> u8 {
        if code == 2 {
            2
        } else if self.unmet().is_empty() {
            code
        } else {
            1
        }
    }
}

/// Which runs evaluate a check of this area.
fn what_runs(meta: &CheckMeta) -> &'static str {
    match meta.area {
        Area::Tenant => "tenant checks run in audit, check and a correlated diagnose",
        Area::User => {
            "user checks run in check, and in diagnose with a tenant for the enrolling user; a \
             check whose source the run does not read is left out"
        }
        Area::Device => "device checks run in diagnose",
        Area::Correlation => "correlation checks run in diagnose with a tenant or --snapshot",
        Area::Autopilot => "Autopilot checks run in diagnose with a tenant or --snapshot",
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::TEN001;
    use crate::checks::user::{USR002, USR003};

    fn user(upn: &str) -> Subject {
        Subject::User(upn.to_string())
    }

    #[test]
    fn unknown_checks_are_refused_and_names_accepted() {
        let e = Gate::new(&["USR999".into()], false)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.contains("USR999") && m.contains("no such check")));
        let g = Gate::new(&["user-not-in-mdm-scope".into(), "usr003".into()], false).unwrap();
        assert_eq!(g.required.len(), 1);
        assert_eq!(g.required[0].meta.id, "USR003");
        assert!(Gate::new(&[], false).is_ok_and(|g| !g.is_active()));
    }

    #[test]
    fn a_required_check_must_run_on_every_subject() {
        let mut g = Gate::new(&["USR003".into(), "TEN001".into()], false).unwrap();
        g.observe(&USR003.finding(Status::Fail, user("a@x"), "not in scope"));
        g.observe(&USR003.skip(user("b@x"), SkipReason::AppOnlyUnsupported));
        g.observe(&USR003.error(user("c@x"), "Graph 503"));
        g.observe(&TEN001.finding(Status::Pass, Subject::Tenant, "ok"));
        let unmet = g.unmet();
        assert_eq!(unmet.len(), 1, "{unmet:?}");
        assert!(unmet[0].starts_with("--require USR003: USR003 did not run for 2 of 3"));
        assert!(unmet[0].contains("error: Graph 503 for 1 subject (c@x)"));
        assert!(unmet[0].contains("skip: app-only tokens cannot read this"));
        assert_eq!(g.exit_code(0), 1);
        assert_eq!(g.exit_code(2), 2);
    }

    #[test]
    fn a_check_the_run_never_evaluates_did_not_run() {
        let mut g = Gate::new(&["DEV007".into()], false).unwrap();
        g.observe(&TEN001.finding(Status::Pass, Subject::Tenant, "ok"));
        let unmet = g.unmet();
        assert!(unmet[0].contains("no subject of this run"), "{unmet:?}");
        assert!(unmet[0].contains("diagnose"));
    }

    #[test]
    fn a_required_check_that_ran_everywhere_passes_the_gate_even_when_it_fails() {
        let mut g = Gate::new(&["USR002".into()], false).unwrap();
        g.observe(&USR002.finding(Status::Fail, user("a@x"), "no licence"));
        assert!(g.unmet().is_empty());
        assert_eq!(g.exit_code(0), 0);
    }

    #[test]
    fn fail_on_skip_counts_could_not_run_but_not_not_applicable() {
        let mut g = Gate::new(&[], true).unwrap();
        let na = USR002.skip(
            user("a@x"),
            SkipReason::NotApplicable {
                path: "entra-join".into(),
            },
        );
        assert!(!could_not_run(&na));
        g.observe(&na);
        assert_eq!(g.unchecked(), None);
        let perm = USR002.skip(
            user("a@x"),
            SkipReason::InsufficientPermission {
                needed: vec!["User.Read.All".into()],
            },
        );
        assert!(could_not_run(&perm));
        g.observe(&perm);
        g.observe(&perm);
        let line = g.unchecked().unwrap_or_default();
        assert!(
            line.contains("2 findings") && line.contains("USR002 ×2"),
            "{line}"
        );
    }
}
