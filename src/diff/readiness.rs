//! Whose readiness changed: the tenant checks and each user's checks evaluated over both
//! snapshots (the same pure checks `audit` and `check` run, as of one date), compared check by
//! check. Users are matched by object id (a pseudonym under redaction), so a renamed UPN is
//! one user; a user in one snapshot only is added or removed when the other snapshot listed
//! every user, and otherwise was simply not collected there.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::checks::registry;
use crate::checks::tenant::evaluate_tenant;
use crate::checks::user::{DeviceContext, UserIndex, user_readiness_in};
use crate::model::{Finding, Status};
use crate::tenant::TenantSnapshot;
use crate::tenant::snapshot::UserScope;

/// Where a subject stands: the rule of `report::summary::State::of_findings` (a `fail`
/// blocks, an `error` leaves the answer open), kept here because the renderers sit above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ready,
    NotReady,
    Incomplete,
}

impl State {
    fn of_findings(findings: &[Finding]) -> State {
        if findings.iter().any(|f| f.status == Status::Fail) {
            State::NotReady
        } else if findings.iter().any(|f| f.status == Status::Error) {
            State::Incomplete
        } else {
            State::Ready
        }
    }

    fn as_str(&self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::NotReady => "not-ready",
            State::Incomplete => "incomplete",
        }
    }
}

/// How a subject's readiness moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trend {
    /// Was ready (or incomplete), now a check fails.
    NewlyNotReady,
    /// Was not ready and still is, with another check failing now.
    NewlyFailing,
    /// Was not ready, now ready.
    NewlyReady,
    /// Check results changed without changing the state (a warning, a skip).
    Changed,
    /// A user only NEW has (OLD listed every user).
    Added,
    /// A user only OLD has (NEW listed every user).
    Removed,
}

impl Trend {
    pub fn as_str(&self) -> &'static str {
        match self {
            Trend::NewlyNotReady => "newly-not-ready",
            Trend::NewlyFailing => "newly-failing",
            Trend::NewlyReady => "newly-ready",
            Trend::Changed => "changed",
            Trend::Added => "added",
            Trend::Removed => "removed",
        }
    }

    /// Whether this trend makes `diff` exit 1.
    pub fn is_regression(&self) -> bool {
        matches!(self, Trend::NewlyNotReady | Trend::NewlyFailing)
    }
}

/// One check whose status differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckChange {
    pub check: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Status>,
    /// What the check says now (in NEW; OLD's when NEW has no finding of it).
    pub summary: String,
}

/// A subject whose check results changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectChange {
    /// `tenant` or the user's UPN (NEW's, when it changed).
    pub subject: String,
    /// `tenant` or `user`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_state: Option<&'static str>,
    pub trend: Trend,
    /// The UPN in OLD when it differs from NEW's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_upn: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckChange>,
}

/// The tenant and every user in both snapshots: the subjects that changed, how many users were
/// compared, and notes.
pub(super) fn compare(
    old: &TenantSnapshot,
    new: &TenantSnapshot,
    as_of: DateTime<Utc>,
) -> (Vec<SubjectChange>, usize, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    if let Some(t) = subject(
        "tenant",
        "tenant",
        None,
        &evaluate_tenant(old),
        &evaluate_tenant(new),
    ) {
        out.push(t);
    }
    let (Some(u0), Some(u1)) = (old.sources.users.data(), new.sources.users.data()) else {
        notes.push(
            "users: not in both snapshots, so only the tenant checks were compared (save the \
             snapshots with `audit --save-snapshot`, which collects every user, or \
             `check --all-users --save-snapshot`)"
                .to_string(),
        );
        return (out, 0, notes);
    };
    let ids0: BTreeMap<String, &str> = u0
        .iter()
        .map(|u| (u.id.to_ascii_lowercase(), u.user_principal_name.as_str()))
        .collect();
    let ids1: BTreeMap<String, &str> = u1
        .iter()
        .map(|u| (u.id.to_ascii_lowercase(), u.user_principal_name.as_str()))
        .collect();
    let (i0, i1) = (UserIndex::new(old), UserIndex::new(new));
    let device = DeviceContext {
        as_of: Some(as_of),
        ..Default::default()
    };
    let mut compared = 0;
    let mut uncollected = 0;
    for (id, upn1) in &ids1 {
        let f1 = user_readiness_in(new, &i1, upn1, &device);
        match ids0.get(id) {
            Some(upn0) => {
                compared += 1;
                let f0 = user_readiness_in(old, &i0, upn0, &device);
                let renamed = (!upn0.eq_ignore_ascii_case(upn1)).then(|| upn0.to_string());
                if let Some(s) = subject(upn1, "user", renamed, &f0, &f1) {
                    out.push(s);
                }
            }
            None if old.user_scope == UserScope::All => {
                out.push(one_sided(upn1, Trend::Added, &f1));
            }
            None => uncollected += 1,
        }
    }
    for (id, upn0) in &ids0 {
        if ids1.contains_key(id) {
            continue;
        }
        if new.user_scope == UserScope::All {
            let f0 = user_readiness_in(old, &i0, upn0, &device);
            out.push(one_sided(upn0, Trend::Removed, &f0));
        } else {
            uncollected += 1;
        }
    }
    if uncollected > 0 {
        notes.push(format!(
            "{uncollected} user(s) are in one snapshot only and the other did not list every \
             user: not compared"
        ));
    }
    out.sort_by(|a, b| {
        (a.kind != "tenant", a.trend, a.subject.to_ascii_lowercase()).cmp(&(
            b.kind != "tenant",
            b.trend,
            b.subject.to_ascii_lowercase(),
        ))
    });
    (out, compared, notes)
}

fn title(check: &str) -> String {
    registry::get(check)
        .map(|m| m.title.to_string())
        .unwrap_or_default()
}

/// The subject's change, or `None` when every check's status is the same.
fn subject(
    name: &str,
    kind: &'static str,
    old_upn: Option<String>,
    old: &[Finding],
    new: &[Finding],
) -> Option<SubjectChange> {
    let by_check = |f: &[Finding]| -> BTreeMap<String, (Status, String)> {
        f.iter()
            .map(|f| (f.check.clone(), (f.status.clone(), f.summary.clone())))
            .collect()
    };
    let (a, b) = (by_check(old), by_check(new));
    let mut checks = Vec::new();
    let order = |id: &str| {
        registry::all()
            .iter()
            .position(|m| m.id == id)
            .unwrap_or(usize::MAX)
    };
    let mut ids: Vec<&String> = a.keys().chain(b.keys()).collect();
    ids.sort_by_key(|id| (order(id), (*id).clone()));
    ids.dedup();
    for id in ids {
        let (x, y) = (a.get(id), b.get(id));
        if x.map(|v| &v.0) == y.map(|v| &v.0) {
            continue;
        }
        checks.push(CheckChange {
            check: id.clone(),
            title: title(id),
            old: x.map(|v| v.0.clone()),
            new: y.map(|v| v.0.clone()),
            summary: y.or(x).map(|v| v.1.clone()).unwrap_or_default(),
        });
    }
    if checks.is_empty() && old_upn.is_none() {
        return None;
    }
    let (s0, s1) = (State::of_findings(old), State::of_findings(new));
    let newly_failing = checks
        .iter()
        .any(|c| c.new == Some(Status::Fail) && c.old != Some(Status::Fail));
    let trend = match (s0, s1) {
        (State::NotReady, State::NotReady) if newly_failing => Trend::NewlyFailing,
        (s0, State::NotReady) if s0 != State::NotReady => Trend::NewlyNotReady,
        (State::NotReady, State::Ready) => Trend::NewlyReady,
        _ => Trend::Changed,
    };
    Some(SubjectChange {
        subject: name.to_string(),
        kind,
        old_state: Some(s0.as_str()),
        new_state: Some(s1.as_str()),
        trend,
        old_upn,
        checks,
    })
}

/// A user in one snapshot only: its state there, and its failing checks.
fn one_sided(upn: &str, trend: Trend, findings: &[Finding]) -> SubjectChange {
    let state = Some(State::of_findings(findings).as_str());
    let checks = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| CheckChange {
            check: f.check.clone(),
            title: title(&f.check),
            old: (trend == Trend::Removed).then(|| f.status.clone()),
            new: (trend == Trend::Added).then(|| f.status.clone()),
            summary: f.summary.clone(),
        })
        .collect();
    SubjectChange {
        subject: upn.to_string(),
        kind: "user",
        old_state: if trend == Trend::Removed { state } else { None },
        new_state: if trend == Trend::Added { state } else { None },
        trend,
        old_upn: None,
        checks,
    }
}
