//! The aggregate of a run over many subjects — users of a readiness check, devices of a fleet —
//! computed in one pass as the subjects are evaluated, keeping counts and a few examples, not
//! the findings: how many are ready and how many are not, which checks block how many of them,
//! the verdict × root-cause histogram of devices, and one compact row per subject that is not
//! ready (for the list that follows the summary and the first rows of a CSV).
//!
//! Nothing here decides a verdict: a device's verdict is its diagnosis, a user's or the
//! tenant's state follows from its findings by the rule the exit code uses (a `fail` finding
//! blocks), and disabled accounts and guests are told apart by USR001's own account states.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use serde::Serialize;

use super::Summary;
use crate::checks::registry;
use crate::model::{Area, CheckMeta, Diagnosis, Finding, Severity, Status, Subject, Verdict};

/// How many example subjects a summary row names.
pub const EXAMPLES: usize = 3;

/// What a subject is, as the summary counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    Tenant,
    /// A member account (or a user not found: USR001 says which).
    User,
    /// A B2B guest (USR001 fails for it).
    Guest,
    /// A disabled account (USR001 fails for it).
    Disabled,
    Device,
}

impl SubjectKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SubjectKind::Tenant => "tenant",
            SubjectKind::User => "user",
            SubjectKind::Guest => "guest",
            SubjectKind::Disabled => "disabled",
            SubjectKind::Device => "device",
        }
    }

    /// What a run over several subjects of this kind counts: `device` for a fleet, else `user`.
    pub fn noun(&self) -> &'static str {
        if *self == SubjectKind::Device {
            "device"
        } else {
            "user"
        }
    }

    fn is_user(&self) -> bool {
        matches!(
            self,
            SubjectKind::User | SubjectKind::Guest | SubjectKind::Disabled
        )
    }
}

/// Where a subject stands: for the tenant and users, ready / not ready / incomplete; for a
/// device, its diagnosis' verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No finding fails and none ended in error.
    Ready,
    /// At least one finding fails.
    NotReady,
    /// Nothing fails, but a check ended in error: the answer is not known.
    Incomplete,
    Device(Verdict),
}

impl State {
    /// The state the findings of a user or the tenant add up to: a `fail` blocks (the rule of
    /// `--fail-on fail`, the default exit code), an `error` leaves it open.
    pub fn of_findings<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> State {
        let mut error = false;
        for f in findings {
            match f.status {
                Status::Fail => return State::NotReady,
                Status::Error => error = true,
                Status::Pass | Status::Warn | Status::Skip => {}
            }
        }
        if error {
            State::Incomplete
        } else {
            State::Ready
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::NotReady => "not-ready",
            State::Incomplete => "incomplete",
            State::Device(v) => v.as_str(),
        }
    }

    /// Ready, or a device enrolled or about to.
    pub fn is_ready(&self) -> bool {
        matches!(
            self,
            State::Ready | State::Device(Verdict::Enrolled | Verdict::WillEnroll)
        )
    }

    /// Not ready, or a device that failed, is blocked or never tried.
    pub fn is_not_ready(&self) -> bool {
        matches!(
            self,
            State::NotReady
                | State::Device(Verdict::Failed | Verdict::Blocked | Verdict::NotTriggered)
        )
    }
}

impl Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One subject with what the evaluation said about it: the unit every multi-subject renderer
/// writes, one at a time.
#[derive(Debug, Clone)]
pub struct SubjectResult<'a> {
    pub subject: Cow<'a, Subject>,
    pub kind: SubjectKind,
    pub state: State,
    /// Its findings, in evaluation order.
    pub findings: Vec<&'a Finding>,
    /// A device's diagnosis.
    pub diagnosis: Option<&'a Diagnosis>,
}

impl<'a> SubjectResult<'a> {
    pub fn tenant(findings: Vec<&'a Finding>) -> SubjectResult<'a> {
        SubjectResult {
            subject: Cow::Owned(Subject::Tenant),
            kind: SubjectKind::Tenant,
            state: State::of_findings(findings.iter().copied()),
            findings,
            diagnosis: None,
        }
    }

    /// A user; `kind` is [`SubjectKind::User`], `Guest` or `Disabled`.
    pub fn user(
        subject: Cow<'a, Subject>,
        kind: SubjectKind,
        findings: Vec<&'a Finding>,
    ) -> SubjectResult<'a> {
        SubjectResult {
            subject,
            kind,
            state: State::of_findings(findings.iter().copied()),
            findings,
            diagnosis: None,
        }
    }

    /// A device and its diagnosis (its verdict is the state; without one, `unknown`).
    pub fn device(
        subject: Cow<'a, Subject>,
        diagnosis: Option<&'a Diagnosis>,
        findings: Vec<&'a Finding>,
    ) -> SubjectResult<'a> {
        SubjectResult {
            subject,
            kind: SubjectKind::Device,
            state: State::Device(diagnosis.map_or(Verdict::Unknown, |d| d.verdict)),
            findings,
            diagnosis,
        }
    }

    /// The subject's name: a UPN, a device label, `tenant`.
    pub fn id(&self) -> &str {
        match self.subject.as_ref() {
            Subject::Tenant => "tenant",
            Subject::User(u) => u,
            Subject::Device(d) => d,
        }
    }

    /// What keeps it from being ready: a device's cause chain; the failing checks of a user
    /// or the tenant, or the checks that ended in error when it is incomplete.
    pub fn blocking(&self) -> Vec<&'a str> {
        if let Some(d) = self.diagnosis {
            return d.causes.iter().map(String::as_str).collect();
        }
        let wanted = match self.state {
            State::Incomplete => Status::Error,
            _ => Status::Fail,
        };
        let mut out: Vec<&'a str> = Vec::new();
        for f in self.findings.iter().filter(|f| f.status == wanted) {
            if !out.contains(&f.check.as_str()) {
                out.push(&f.check);
            }
        }
        out
    }

    /// The fix to start with: a device's diagnosis fix; the remediation of the first failing
    /// finding (or the error of the first finding in error) of a user or the tenant.
    pub fn first_fix(&self) -> &'a str {
        if let Some(d) = self.diagnosis {
            return &d.fix;
        }
        let wanted = match self.state {
            State::Incomplete => Status::Error,
            _ => Status::Fail,
        };
        self.findings
            .iter()
            .find(|f| f.status == wanted)
            .map(|f| fix_text(f))
            .unwrap_or("")
    }
}

/// A finding's remediation, or its error message when it has none.
fn fix_text(f: &Finding) -> &str {
    if f.remediation.is_empty() {
        f.error.as_deref().unwrap_or("")
    } else {
        &f.remediation
    }
}

/// The checks a run reports on, in registry order: the columns of a CSV and the keys of the
/// JSON `checks` map.
#[derive(Debug, Clone)]
pub struct Columns {
    checks: Vec<&'static CheckMeta>,
    index: HashMap<&'static str, usize>,
}

impl Columns {
    /// Every registered check of these areas.
    pub fn of_areas(areas: &[Area]) -> Columns {
        let checks: Vec<&'static CheckMeta> = registry::all()
            .iter()
            .copied()
            .filter(|c| areas.contains(&c.area))
            .collect();
        let index = checks.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        Columns { checks, index }
    }

    /// The areas of the checks behind `findings` (one pass).
    pub fn of_findings<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> Columns {
        let all = Columns::of_areas(&[
            Area::Tenant,
            Area::User,
            Area::Device,
            Area::Correlation,
            Area::Autopilot,
        ]);
        let mut areas: Vec<Area> = Vec::new();
        for f in findings {
            if let Some(c) = all.meta(&f.check)
                && !areas.contains(&c.area)
            {
                areas.push(c.area);
            }
        }
        Columns::of_areas(&areas)
    }

    pub fn checks(&self) -> &[&'static CheckMeta] {
        &self.checks
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn meta(&self, id: &str) -> Option<&'static CheckMeta> {
        self.position(id).map(|i| self.checks[i])
    }

    /// The status of each column's check among `findings` (`None`: not evaluated).
    pub fn statuses(&self, findings: &[&Finding]) -> Vec<Option<Status>> {
        let mut out = vec![None; self.checks.len()];
        for f in findings {
            if let Some(i) = self.position(&f.check) {
                out[i] = Some(f.status.clone());
            }
        }
        out
    }
}

/// A subject in one line: the not-ready list, a CSV row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRow {
    pub subject: String,
    pub kind: SubjectKind,
    pub state: State,
    pub blocking: Vec<String>,
    pub first_fix: String,
    /// One per [`Columns`] check.
    pub statuses: Vec<Option<Status>>,
}

impl SubjectRow {
    pub fn of(s: &SubjectResult<'_>, columns: &Columns) -> SubjectRow {
        SubjectRow {
            subject: s.id().to_string(),
            kind: s.kind,
            state: s.state,
            blocking: s.blocking().into_iter().map(str::to_string).collect(),
            first_fix: s.first_fix().to_string(),
            statuses: columns.statuses(&s.findings),
        }
    }

    /// Listed one line each after the summary: not ready or incomplete, except disabled
    /// accounts and guests, which the summary counts.
    pub fn is_listed(&self) -> bool {
        !matches!(self.kind, SubjectKind::Disabled | SubjectKind::Guest)
            && (self.state.is_not_ready()
                || matches!(
                    self.state,
                    State::Incomplete | State::Device(Verdict::Unknown)
                ))
    }
}

/// Subjects per status of one check.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CheckCounts {
    pub check: String,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

/// One check that fails (or warns) for some subjects.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckRow {
    pub check: String,
    pub title: String,
    pub severity: Severity,
    /// How many subjects.
    pub subjects: usize,
    /// The first few, in evaluation order.
    pub examples: Vec<String>,
    /// The remediation of the first of them.
    pub fix: String,
    /// How many other remediation texts the others have (the rows and details carry them).
    #[serde(skip_serializing_if = "is_zero")]
    pub other_fixes: usize,
}

/// Devices with one verdict and one first cause.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CauseRow {
    pub verdict: Verdict,
    /// The first cause's check ID (`None`: no cause named).
    pub cause: Option<String>,
    pub title: String,
    pub devices: usize,
    pub examples: Vec<String>,
    /// The fix of the first of them.
    pub fix: String,
}

/// The tenant's part of the run.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TenantPart {
    #[serde(rename = "verdict")]
    pub state: State,
    /// Non-passing tenant checks, in evaluation order.
    pub findings: Vec<TenantCheck>,
    pub pass: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TenantCheck {
    pub check: String,
    pub status: Status,
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

/// Users among the subjects: all of them in a readiness check, the enrolling users in a fleet.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct UserCounts {
    pub users: usize,
    pub ready: usize,
    pub not_ready: usize,
    pub incomplete: usize,
    /// Disabled accounts (counted among `not_ready`).
    pub disabled: usize,
    pub disabled_examples: Vec<String>,
    /// B2B guests (counted among `not_ready`).
    pub guests: usize,
    pub guest_examples: Vec<String>,
}

/// The summary of a run over many subjects.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RunSummary {
    /// What the run is about: `user` (a readiness check) or `device` (a fleet).
    pub kind: SubjectKind,
    /// How many of those.
    pub subjects: usize,
    pub ready: usize,
    pub not_ready: usize,
    /// Neither: a check ended in error, or a device's verdict is unknown.
    pub incomplete: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantPart>,
    pub users: UserCounts,
    /// Devices per verdict (fleets), as a JSON object `{"enrolled": 2, …}`.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "verdict_map")]
    pub verdicts: Vec<(Verdict, usize)>,
    /// Fleets: not-ready devices by verdict and first cause, most devices first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<CauseRow>,
    /// Checks that fail for users (disabled accounts and guests are counted apart), most
    /// users first, then by severity.
    pub blocking: Vec<CheckRow>,
    /// Checks that warn for users, in the same order.
    pub warnings: Vec<CheckRow>,
    /// Subjects per status of every check (the tenant's excluded), in registry order.
    pub by_check: Vec<CheckCounts>,
    /// Findings per status, as in a single-subject report.
    #[serde(flatten)]
    pub findings: Summary,
}

impl RunSummary {
    /// `20000 users: 14000 ready, 6000 not ready, 0 incomplete`.
    pub fn headline(&self) -> String {
        let noun = match self.kind {
            SubjectKind::Device => "device",
            _ => "user",
        };
        let mut s = format!("{} {noun}{}", self.subjects, plural(self.subjects));
        if self.kind == SubjectKind::Device && !self.verdicts.is_empty() {
            let parts: Vec<String> = self
                .verdicts
                .iter()
                .map(|(v, n)| format!("{n} {}", v.as_str()))
                .collect();
            s.push_str(&format!(": {}", parts.join(", ")));
        } else {
            s.push_str(&format!(
                ": {} ready, {} not ready",
                self.ready, self.not_ready
            ));
            if self.incomplete > 0 {
                s.push_str(&format!(", {} incomplete", self.incomplete));
            }
        }
        s
    }
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn verdict_map<S: serde::Serializer>(v: &[(Verdict, usize)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(v.len()))?;
    for (verdict, n) in v {
        m.serialize_entry(verdict.as_str(), n)?;
    }
    m.end()
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Default)]
struct CheckAgg {
    counts: CheckCounts,
    fail: RowAgg,
    warn: RowAgg,
}

#[derive(Default)]
struct RowAgg {
    subjects: usize,
    examples: Vec<String>,
    fix: String,
    fixes: HashSet<u64>,
}

impl RowAgg {
    fn add(&mut self, subject: &str, fix: &str) {
        self.subjects += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(subject.to_string());
        }
        if self.fix.is_empty() {
            self.fix = fix.to_string();
        }
        if !fix.is_empty() {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            fix.hash(&mut h);
            self.fixes.insert(h.finish());
        }
    }

    fn row(self, check: &str, meta: Option<&CheckMeta>) -> CheckRow {
        CheckRow {
            check: check.to_string(),
            title: meta.map(|m| m.title.to_string()).unwrap_or_default(),
            severity: meta.map_or(Severity::Medium, |m| m.severity),
            subjects: self.subjects,
            examples: self.examples,
            fix: self.fix,
            other_fixes: self.fixes.len().saturating_sub(1),
        }
    }
}

struct CauseAgg {
    verdict: Verdict,
    devices: usize,
    examples: Vec<String>,
    fix: String,
}

/// Builds a [`RunSummary`] one subject at a time (O(findings) per subject; it keeps counts,
/// a few examples per check and nothing else).
pub struct SummaryBuilder {
    kind: SubjectKind,
    columns: Columns,
    subjects: usize,
    ready: usize,
    not_ready: usize,
    incomplete: usize,
    tenant: Option<TenantPart>,
    users: UserCounts,
    verdicts: Vec<(Verdict, usize)>,
    /// By verdict name and first cause.
    causes: HashMap<(&'static str, Option<String>), CauseAgg>,
    cause_order: Vec<(&'static str, Option<String>)>,
    checks: HashMap<String, CheckAgg>,
    findings: Summary,
}

const VERDICT_ORDER: [Verdict; 6] = [
    Verdict::Enrolled,
    Verdict::WillEnroll,
    Verdict::Failed,
    Verdict::Blocked,
    Verdict::NotTriggered,
    Verdict::Unknown,
];

impl SummaryBuilder {
    /// `kind` is what the run counts: [`SubjectKind::User`] or [`SubjectKind::Device`].
    pub fn new(kind: SubjectKind, columns: Columns) -> SummaryBuilder {
        SummaryBuilder {
            kind,
            columns,
            subjects: 0,
            ready: 0,
            not_ready: 0,
            incomplete: 0,
            tenant: None,
            users: UserCounts::default(),
            verdicts: VERDICT_ORDER.iter().map(|v| (*v, 0)).collect(),
            causes: HashMap::new(),
            cause_order: Vec::new(),
            checks: HashMap::new(),
            findings: Summary::default(),
        }
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    pub fn add(&mut self, s: &SubjectResult<'_>) {
        for f in &s.findings {
            self.findings.count(f);
        }
        if s.kind == SubjectKind::Tenant {
            self.add_tenant(s);
            return;
        }
        let primary = match self.kind {
            SubjectKind::Device => s.kind == SubjectKind::Device,
            _ => s.kind.is_user(),
        };
        if s.kind.is_user() {
            self.add_user(s);
        }
        if !primary {
            return;
        }
        self.subjects += 1;
        if s.state.is_ready() {
            self.ready += 1;
        } else if s.state.is_not_ready() {
            self.not_ready += 1;
        } else {
            self.incomplete += 1;
        }
        for f in &s.findings {
            let agg = match self.checks.get_mut(f.check.as_str()) {
                Some(a) => a,
                None => self.checks.entry(f.check.clone()).or_default(),
            };
            count_check(&mut agg.counts, &f.status);
            // Disabled accounts and guests are counted as such, not under their checks.
            if s.kind == SubjectKind::User {
                match f.status {
                    Status::Fail => agg.fail.add(s.id(), fix_text(f)),
                    Status::Warn => agg.warn.add(s.id(), fix_text(f)),
                    _ => {}
                }
            }
        }
        if let (SubjectKind::Device, Some(d)) = (s.kind, s.diagnosis) {
            if let Some((_, n)) = self.verdicts.iter_mut().find(|(v, _)| *v == d.verdict) {
                *n += 1;
            }
            if !s.state.is_ready() {
                let key = (d.verdict.as_str(), d.causes.first().cloned());
                let agg = match self.causes.get_mut(&key) {
                    Some(a) => a,
                    None => {
                        self.cause_order.push(key.clone());
                        self.causes.entry(key).or_insert(CauseAgg {
                            verdict: d.verdict,
                            devices: 0,
                            examples: Vec::new(),
                            fix: d.fix.clone(),
                        })
                    }
                };
                agg.devices += 1;
                if agg.examples.len() < EXAMPLES {
                    agg.examples.push(d.device.clone());
                }
            }
        }
    }

    fn add_tenant(&mut self, s: &SubjectResult<'_>) {
        let part = self.tenant.get_or_insert(TenantPart {
            state: State::Ready,
            findings: Vec::new(),
            pass: 0,
        });
        for f in &s.findings {
            if f.status == Status::Pass {
                part.pass += 1;
                continue;
            }
            part.findings.push(TenantCheck {
                check: f.check.clone(),
                status: f.status.clone(),
                title: self
                    .columns
                    .meta(&f.check)
                    .map(|m| m.title.to_string())
                    .unwrap_or_default(),
                summary: f.summary.clone(),
                fix: fix_text(f).to_string(),
            });
        }
        part.state = match (part.state, s.state) {
            (State::NotReady, _) | (_, State::NotReady) => State::NotReady,
            (State::Incomplete, _) | (_, State::Incomplete) => State::Incomplete,
            _ => State::Ready,
        };
    }

    fn add_user(&mut self, s: &SubjectResult<'_>) {
        let u = &mut self.users;
        u.users += 1;
        match s.state {
            State::Ready => u.ready += 1,
            State::NotReady => u.not_ready += 1,
            _ => u.incomplete += 1,
        }
        match s.kind {
            SubjectKind::Disabled => {
                u.disabled += 1;
                if u.disabled_examples.len() < EXAMPLES {
                    u.disabled_examples.push(s.id().to_string());
                }
            }
            SubjectKind::Guest => {
                u.guests += 1;
                if u.guest_examples.len() < EXAMPLES {
                    u.guest_examples.push(s.id().to_string());
                }
            }
            _ => {}
        }
    }

    pub fn finish(self) -> RunSummary {
        let columns = &self.columns;
        let order = |id: &str| columns.position(id).unwrap_or(usize::MAX);
        let mut checks: Vec<(String, CheckAgg)> = self.checks.into_iter().collect();
        checks.sort_by(|a, b| order(&a.0).cmp(&order(&b.0)).then_with(|| a.0.cmp(&b.0)));
        let mut blocking = Vec::new();
        let mut warnings = Vec::new();
        let mut by_check = Vec::new();
        for (id, agg) in checks {
            let meta = columns.meta(&id);
            let mut counts = agg.counts;
            counts.check = id.clone();
            by_check.push(counts);
            if agg.fail.subjects > 0 {
                blocking.push((order(&id), agg.fail.row(&id, meta)));
            }
            if agg.warn.subjects > 0 {
                warnings.push((order(&id), agg.warn.row(&id, meta)));
            }
        }
        let rank = |rows: &mut Vec<(usize, CheckRow)>| {
            rows.sort_by(|(ia, a), (ib, b)| {
                b.subjects
                    .cmp(&a.subjects)
                    .then(b.severity.cmp(&a.severity))
                    .then(ia.cmp(ib))
            });
            std::mem::take(rows).into_iter().map(|(_, r)| r).collect()
        };
        let blocking = rank(&mut blocking);
        let warnings = rank(&mut warnings);

        let mut causes: Vec<(usize, CauseRow)> = Vec::new();
        let mut agg = self.causes;
        for (n, key) in self.cause_order.into_iter().enumerate() {
            let Some(a) = agg.remove(&key) else { continue };
            let (_, cause) = key;
            let verdict = a.verdict;
            let meta = cause.as_deref().and_then(|c| columns.meta(c));
            causes.push((
                n,
                CauseRow {
                    verdict,
                    title: meta.map(|m| m.title.to_string()).unwrap_or_default(),
                    cause,
                    devices: a.devices,
                    examples: a.examples,
                    fix: a.fix,
                },
            ));
        }
        let severity = |c: &CauseRow| {
            c.cause
                .as_deref()
                .and_then(|id| columns.meta(id))
                .map_or(Severity::Info, |m| m.severity)
        };
        causes.sort_by(|(na, a), (nb, b)| {
            b.devices
                .cmp(&a.devices)
                .then(severity(b).cmp(&severity(a)))
                .then(na.cmp(nb))
        });
        let verdicts = if self.kind == SubjectKind::Device {
            self.verdicts.into_iter().filter(|(_, n)| *n > 0).collect()
        } else {
            Vec::new()
        };
        RunSummary {
            kind: self.kind,
            subjects: self.subjects,
            ready: self.ready,
            not_ready: self.not_ready,
            incomplete: self.incomplete,
            tenant: self.tenant,
            users: self.users,
            verdicts,
            causes: causes.into_iter().map(|(_, c)| c).collect(),
            blocking,
            warnings,
            by_check,
            findings: self.findings,
        }
    }
}

fn count_check(c: &mut CheckCounts, status: &Status) {
    match status {
        Status::Pass => c.pass += 1,
        Status::Warn => c.warn += 1,
        Status::Fail => c.fail += 1,
        Status::Skip => c.skip += 1,
        Status::Error => c.error += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::{TEN001, TEN003};
    use crate::checks::user::{USR001, USR002, USR003, USR004};
    use crate::model::EnrollmentPath;

    fn user(upn: &str) -> Subject {
        Subject::User(upn.into())
    }

    fn findings_of(upn: &str, statuses: &[(&CheckMeta, Status)]) -> Vec<Finding> {
        statuses
            .iter()
            .map(|(m, s)| {
                m.finding(s.clone(), user(upn), "x")
                    .with_remediation(format!("fix {}", m.id))
            })
            .collect()
    }

    #[test]
    fn state_follows_fail_then_error() {
        let pass = USR001.finding(Status::Pass, user("a"), "ok");
        let warn = USR002.finding(Status::Warn, user("a"), "w");
        let fail = USR003.finding(Status::Fail, user("a"), "f");
        let error = USR004.error(user("a"), "e");
        assert_eq!(State::of_findings([&pass, &warn]), State::Ready);
        assert_eq!(State::of_findings([&pass, &error]), State::Incomplete);
        assert_eq!(State::of_findings([&error, &fail]), State::NotReady);
        assert!(State::Device(Verdict::WillEnroll).is_ready());
        assert!(State::Device(Verdict::NotTriggered).is_not_ready());
        let unknown = State::Device(Verdict::Unknown);
        assert!(!unknown.is_ready() && !unknown.is_not_ready());
    }

    #[test]
    fn blocking_rows_count_users_order_by_count_then_severity_and_skip_disabled_and_guests() {
        let cols = Columns::of_areas(&[Area::Tenant, Area::User]);
        let mut b = SummaryBuilder::new(SubjectKind::User, cols.clone());
        let tenant = [
            TEN001.finding(Status::Pass, Subject::Tenant, "ok"),
            TEN003
                .finding(Status::Fail, Subject::Tenant, "scope none")
                .with_remediation("set the scope"),
        ];
        b.add(&SubjectResult::tenant(tenant.iter().collect()));
        let rows: Vec<(String, SubjectKind, Vec<Finding>)> = vec![
            (
                "a".into(),
                SubjectKind::User,
                findings_of("a", &[(&USR001, Status::Pass), (&USR002, Status::Fail)]),
            ),
            (
                "b".into(),
                SubjectKind::User,
                findings_of("b", &[(&USR001, Status::Pass), (&USR003, Status::Fail)]),
            ),
            (
                "c".into(),
                SubjectKind::User,
                findings_of("c", &[(&USR002, Status::Fail), (&USR004, Status::Warn)]),
            ),
            (
                "d".into(),
                SubjectKind::Disabled,
                findings_of("d", &[(&USR001, Status::Fail), (&USR002, Status::Fail)]),
            ),
            (
                "e".into(),
                SubjectKind::Guest,
                findings_of("e", &[(&USR001, Status::Fail)]),
            ),
            (
                "f".into(),
                SubjectKind::User,
                findings_of("f", &[(&USR001, Status::Pass)]),
            ),
        ];
        for (upn, kind, fs) in &rows {
            let s = SubjectResult::user(Cow::Borrowed(&fs[0].subject), *kind, fs.iter().collect());
            assert_eq!(s.id(), upn);
            b.add(&s);
        }
        let s = b.finish();
        assert_eq!((s.subjects, s.ready, s.not_ready), (6, 1, 5));
        assert_eq!(s.users.disabled, 1);
        assert_eq!(s.users.guests, 1);
        assert_eq!(s.users.disabled_examples, vec!["d".to_string()]);
        let blocking: Vec<(&str, usize, Vec<String>)> = s
            .blocking
            .iter()
            .map(|r| (r.check.as_str(), r.subjects, r.examples.clone()))
            .collect();
        // USR002 for a and c (not the disabled d); USR003 for b; no USR001 row.
        assert_eq!(
            blocking,
            vec![
                ("USR002", 2, vec!["a".to_string(), "c".to_string()]),
                ("USR003", 1, vec!["b".to_string()]),
            ]
        );
        assert_eq!(s.blocking[0].fix, "fix USR002");
        assert_eq!(s.blocking[0].title, USR002.title);
        assert_eq!(s.warnings.len(), 1);
        let tenant = s
            .tenant
            .as_ref()
            .map(|t| (t.state, t.pass, t.findings.len()));
        assert_eq!(tenant, Some((State::NotReady, 1, 1)));
        // Every USR001 finding is counted by status, the disabled and guest ones included.
        let usr001 = s.by_check.iter().find(|c| c.check == "USR001");
        assert_eq!(usr001.map(|c| (c.pass, c.fail)), Some((3, 2)));
        assert_eq!(s.findings.fail, 7);
        assert_eq!(s.headline(), "6 users: 1 ready, 5 not ready");
    }

    #[test]
    fn devices_histogram_by_verdict_and_first_cause() {
        let cols = Columns::of_areas(&[Area::Device]);
        let mut b = SummaryBuilder::new(SubjectKind::Device, cols);
        let diag = |name: &str, verdict: Verdict, cause: Option<&str>| Diagnosis {
            device: name.into(),
            path: EnrollmentPath::GpoHybrid,
            verdict,
            causes: cause.map(|c| vec![c.to_string()]).unwrap_or_default(),
            fix: format!("fix {name}"),
            explanation: String::new(),
            user: None,
            inputs: Vec::new(),
            facts: Vec::new(),
        };
        let ds = [
            diag("PC1", Verdict::Failed, Some("DEV003")),
            diag("PC2", Verdict::Enrolled, None),
            diag("PC3", Verdict::Blocked, Some("DEV001")),
            diag("PC4", Verdict::Failed, Some("DEV003")),
        ];
        let subjects: Vec<Subject> = ds
            .iter()
            .map(|d| Subject::Device(d.device.clone()))
            .collect();
        for (d, s) in ds.iter().zip(&subjects) {
            b.add(&SubjectResult::device(
                Cow::Borrowed(s),
                Some(d),
                Vec::new(),
            ));
        }
        let s = b.finish();
        assert_eq!((s.subjects, s.ready, s.not_ready), (4, 1, 3));
        assert_eq!(
            s.verdicts,
            vec![
                (Verdict::Enrolled, 1),
                (Verdict::Failed, 2),
                (Verdict::Blocked, 1)
            ]
        );
        let rows: Vec<(Verdict, Option<&str>, usize)> = s
            .causes
            .iter()
            .map(|c| (c.verdict, c.cause.as_deref(), c.devices))
            .collect();
        assert_eq!(
            rows,
            vec![
                (Verdict::Failed, Some("DEV003"), 2),
                (Verdict::Blocked, Some("DEV001"), 1)
            ]
        );
        assert_eq!(
            s.causes[0].examples,
            vec!["PC1".to_string(), "PC4".to_string()]
        );
        assert_eq!(s.causes[0].fix, "fix PC1");
        assert_eq!(s.headline(), "4 devices: 1 enrolled, 2 failed, 1 blocked");
    }

    #[test]
    fn rows_name_blocking_checks_or_errors_and_the_first_fix() {
        let cols = Columns::of_areas(&[Area::User]);
        let fs = findings_of("a", &[(&USR001, Status::Pass), (&USR003, Status::Fail)]);
        let s = SubjectResult::user(
            Cow::Borrowed(&fs[0].subject),
            SubjectKind::User,
            fs.iter().collect(),
        );
        let row = SubjectRow::of(&s, &cols);
        assert_eq!(row.blocking, vec!["USR003".to_string()]);
        assert_eq!(row.first_fix, "fix USR003");
        assert_eq!(row.statuses[0], Some(Status::Pass));
        assert_eq!(row.statuses[1], None);
        assert_eq!(row.statuses[2], Some(Status::Fail));
        assert!(row.is_listed());
        let fs = [USR002.error(user("b"), "Graph said 500")];
        let s = SubjectResult::user(
            Cow::Borrowed(&fs[0].subject),
            SubjectKind::User,
            fs.iter().collect(),
        );
        assert_eq!(s.state, State::Incomplete);
        assert_eq!(s.blocking(), vec!["USR002"]);
        assert_eq!(s.first_fix(), "Graph said 500");
        let fs = findings_of("d", &[(&USR001, Status::Fail)]);
        let s = SubjectResult::user(
            Cow::Borrowed(&fs[0].subject),
            SubjectKind::Disabled,
            fs.iter().collect(),
        );
        assert!(!SubjectRow::of(&s, &cols).is_listed());
    }
}
