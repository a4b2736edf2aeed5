//! `enroll-doctor diff OLD NEW`: what changed between two tenant snapshots (the
//! `--save-snapshot` files) in the enrollment configuration, and whose readiness changed.
//!
//! Pure: two [`TenantSnapshot`]s and an evaluation date in, a [`SnapshotDiff`] out. The
//! configuration is compared object by object by id (MDM/MAM scopes and their groups,
//! enrollment restrictions with their priorities, assignments and filters, Conditional Access
//! policies, the device registration policy, licences and service plans, the MDM authority,
//! Autopilot profiles, Enrollment Status Pages and device identities); readiness by evaluating
//! both snapshots with the same checks `audit` and `check` run (`evaluate_tenant`,
//! `user_readiness_in`) and comparing each check's status per subject (users matched by object
//! id, so a renamed UPN is one user).
//!
//! Every change carries an [`Impact`]: `regression` when it can stop users or devices from
//! enrolling (the *watched settings*, listed in docs/diff.md), `improvement` for the reverse,
//! `neutral` otherwise. The exit code is 1 when a change is a regression or a subject's
//! readiness regressed ([`SnapshotDiff::regressed`]).
//!
//! Redacted snapshots compare as they are: under one key every pseudonym is the same in both
//! files. Two snapshots whose tenant ids differ cannot be compared (different tenants, or
//! redacted with different keys: every id and name would differ), see [`redaction`].

mod config;
mod policies;
mod readiness;
pub mod redaction;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::tenant::TenantSnapshot;

pub use readiness::{CheckChange, SubjectChange, Trend};

/// Schema tag of the JSON document.
pub const DIFF_SCHEMA: &str = "enroll-doctor/diff@1";

/// What part of the enrollment configuration a change is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeArea {
    Organization,
    Licence,
    MdmScope,
    MamScope,
    Restriction,
    AssignmentFilter,
    DeviceRegistration,
    ConditionalAccess,
    AutopilotProfile,
    AutopilotDevices,
    EnrollmentStatusPage,
}

impl ChangeArea {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeArea::Organization => "organization",
            ChangeArea::Licence => "licence",
            ChangeArea::MdmScope => "mdm-scope",
            ChangeArea::MamScope => "mam-scope",
            ChangeArea::Restriction => "restriction",
            ChangeArea::AssignmentFilter => "assignment-filter",
            ChangeArea::DeviceRegistration => "device-registration",
            ChangeArea::ConditionalAccess => "conditional-access",
            ChangeArea::AutopilotProfile => "autopilot-profile",
            ChangeArea::AutopilotDevices => "autopilot-devices",
            ChangeArea::EnrollmentStatusPage => "enrollment-status-page",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// What a change does to enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    /// A watched setting got weaker: the change can stop users or devices from enrolling.
    Regression,
    /// The reverse of a regression (a block lifted, a group added to the MDM scope).
    Improvement,
    /// Recorded, but not judged by itself (a priority of a restriction that does not block,
    /// a CA target, an Autopilot setting); its effect on users shows in the readiness part.
    Neutral,
}

impl Impact {
    pub fn as_str(&self) -> &'static str {
        match self {
            Impact::Regression => "regression",
            Impact::Improvement => "improvement",
            Impact::Neutral => "neutral",
        }
    }
}

/// One difference in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub area: ChangeArea,
    pub kind: ChangeKind,
    /// The object's name as the admin center shows it (its id when it has none).
    pub object: String,
    /// The object's id (Graph's), to find it.
    pub id: String,
    /// The property that changed, Graph's name (`priority`, `windowsRestriction.platformBlocked`,
    /// `includedGroups`); absent for an object added or removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    pub impact: Impact,
    /// Why the change is a regression or an improvement (empty when neutral).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub why: String,
}

/// One snapshot as the diff names it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// The file (as given on the command line).
    pub file: String,
    pub collected_at: DateTime<Utc>,
    pub tenant_id: String,
    pub redacted: bool,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotDiff {
    pub schema: &'static str,
    pub old: Side,
    pub new: Side,
    /// The date both snapshots were evaluated as of (`--as-of`, default NEW's collection time).
    pub as_of: DateTime<Utc>,
    pub changes: Vec<Change>,
    /// Subjects (the tenant, users) whose check results changed.
    pub readiness: Vec<SubjectChange>,
    /// Sources one snapshot has and the other does not: not compared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub summary: DiffSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiffSummary {
    pub changes: usize,
    pub regressions: usize,
    pub improvements: usize,
    /// Users compared (in both snapshots).
    pub users_compared: usize,
    pub newly_not_ready: usize,
    pub newly_ready: usize,
    /// Still not ready, with another check failing now.
    pub newly_failing: usize,
    /// True when the exit code is 1.
    pub regressed: bool,
}

/// Why two snapshots cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{0}")]
    Incomparable(String),
}

impl SnapshotDiff {
    /// Whether `diff` exits 1: a change is a regression, or a subject is newly not ready or
    /// has a check newly failing.
    pub fn regressed(&self) -> bool {
        self.summary.regressed
    }
}

/// Compares OLD and NEW (read from the files named OLD_FILE and NEW_FILE), evaluating both as
/// of AS_OF.
pub fn diff(
    old: &TenantSnapshot,
    old_file: &str,
    new: &TenantSnapshot,
    new_file: &str,
    as_of: DateTime<Utc>,
) -> Result<SnapshotDiff, DiffError> {
    let old_side = Side {
        file: old_file.to_string(),
        collected_at: old.collected_at,
        tenant_id: old.tenant_id.clone(),
        redacted: redaction::looks_redacted(old),
    };
    let new_side = Side {
        file: new_file.to_string(),
        collected_at: new.collected_at,
        tenant_id: new.tenant_id.clone(),
        redacted: redaction::looks_redacted(new),
    };
    let mut notes = redaction::comparable(&old_side, &new_side)?;
    let mut changes = Vec::new();
    let mut not_compared = Vec::new();
    config::compare(old, new, &mut changes, &mut not_compared);
    policies::compare(old, new, &mut changes, &mut not_compared);
    changes.sort_by(|a, b| {
        (a.area, a.impact, &a.object, &a.id, &a.field)
            .cmp(&(b.area, b.impact, &b.object, &b.id, &b.field))
    });
    let (readiness, users_compared, more_notes) = readiness::compare(old, new, as_of);
    notes.extend(more_notes);
    if old.collected_at > new.collected_at {
        notes.push(format!(
            "OLD ({}) was collected after NEW ({}): the changes read from OLD to NEW",
            old.collected_at.to_rfc3339(),
            new.collected_at.to_rfc3339()
        ));
    }
    let count = |t: Trend| readiness.iter().filter(|s| s.trend == t).count();
    let mut summary = DiffSummary {
        changes: changes.len(),
        regressions: changes
            .iter()
            .filter(|c| c.impact == Impact::Regression)
            .count(),
        improvements: changes
            .iter()
            .filter(|c| c.impact == Impact::Improvement)
            .count(),
        users_compared,
        newly_not_ready: count(Trend::NewlyNotReady),
        newly_ready: count(Trend::NewlyReady),
        newly_failing: count(Trend::NewlyFailing),
        regressed: false,
    };
    summary.regressed = summary.regressions + summary.newly_not_ready + summary.newly_failing > 0;
    Ok(SnapshotDiff {
        schema: DIFF_SCHEMA,
        old: old_side,
        new: new_side,
        as_of,
        changes,
        readiness,
        not_compared,
        notes,
        summary,
    })
}

/// Why a change is judged: the text for a regression, and the one for the reverse (an
/// improvement). A plain `&str` is a text that reads right either way it is used.
#[derive(Clone, Copy)]
pub(crate) struct Why<'a> {
    pub(crate) bad: &'a str,
    pub(crate) good: &'a str,
}

impl<'a> From<&'a str> for Why<'a> {
    fn from(text: &'a str) -> Why<'a> {
        Why {
            bad: text,
            good: text,
        }
    }
}

impl<'a> From<(&'a str, &'a str)> for Why<'a> {
    fn from((bad, good): (&'a str, &'a str)) -> Why<'a> {
        Why { bad, good }
    }
}

/// Builds [`Change`]s.
pub(crate) struct Changes<'a> {
    pub(crate) out: &'a mut Vec<Change>,
    pub(crate) area: ChangeArea,
}

impl Changes<'_> {
    pub(crate) fn added<'w>(
        &mut self,
        object: &str,
        id: &str,
        impact: Impact,
        why: impl Into<Why<'w>>,
    ) {
        self.push(ChangeKind::Added, object, id, None, None, None, impact, why);
    }

    pub(crate) fn removed<'w>(
        &mut self,
        object: &str,
        id: &str,
        impact: Impact,
        why: impl Into<Why<'w>>,
    ) {
        self.push(
            ChangeKind::Removed,
            object,
            id,
            None,
            None,
            None,
            impact,
            why,
        );
    }

    /// A property that differs (nothing when OLD and NEW are equal).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn field<'w>(
        &mut self,
        object: &str,
        id: &str,
        field: &str,
        old: Option<String>,
        new: Option<String>,
        impact: Impact,
        why: impl Into<Why<'w>>,
    ) {
        if old == new {
            return;
        }
        self.push(
            ChangeKind::Changed,
            object,
            id,
            Some(field),
            old,
            new,
            impact,
            why,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn push<'w>(
        &mut self,
        kind: ChangeKind,
        object: &str,
        id: &str,
        field: Option<&str>,
        old: Option<String>,
        new: Option<String>,
        impact: Impact,
        why: impl Into<Why<'w>>,
    ) {
        let why = why.into();
        self.out.push(Change {
            area: self.area,
            kind,
            object: object.to_string(),
            id: id.to_string(),
            field: field.map(str::to_string),
            old,
            new,
            impact,
            why: match impact {
                Impact::Regression => why.bad.to_string(),
                Impact::Improvement => why.good.to_string(),
                Impact::Neutral => String::new(),
            },
        });
    }
}

/// `Regression` when BAD, `Improvement` when GOOD, else `Neutral`.
pub(crate) fn judged(bad: bool, good: bool) -> Impact {
    if bad {
        Impact::Regression
    } else if good {
        Impact::Improvement
    } else {
        Impact::Neutral
    }
}

/// A source both snapshots must have for its part to be compared: the data of both, or a line
/// for `not_compared` (nothing when neither has it: the part is simply absent).
pub(crate) fn both<'a, T>(
    name: &str,
    old: &'a crate::tenant::Source<T>,
    new: &'a crate::tenant::Source<T>,
    not_compared: &mut Vec<String>,
) -> Option<(&'a T, &'a T)> {
    match (old.get(), new.get()) {
        (Ok((o, _)), Ok((n, _))) => Some((o, n)),
        (Err(_), Err(_)) => None,
        (Err(r), Ok(_)) => {
            not_compared.push(format!("{name}: missing in OLD ({})", r.describe()));
            None
        }
        (Ok(_), Err(r)) => {
            not_compared.push(format!("{name}: missing in NEW ({})", r.describe()));
            None
        }
    }
}

/// A list as one value: `a, b, c` (sorted), `(none)` when empty.
pub(crate) fn list(items: impl IntoIterator<Item = String>) -> String {
    let mut v: Vec<String> = items.into_iter().collect();
    v.sort();
    v.dedup();
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

pub(crate) fn opt_bool(b: Option<bool>) -> Option<String> {
    b.map(|b| b.to_string())
}

#[cfg(test)]
mod tests;
