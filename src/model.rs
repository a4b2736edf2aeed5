//! Findings, verdicts and diagnoses: the vocabulary shared by checks and renderers.
//!
//! A check produces [`Finding`]s; correlation produces one [`Diagnosis`] per device. Renderers
//! only format these types. The JSON field names are a stable interface for scripts.

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Check metadata

/// Which part of the product a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Tenant,
    User,
    Device,
    Correlation,
    /// Windows Autopilot and the Enrollment Status Page: the device's Autopilot evidence
    /// joined with the tenant's Autopilot records (AP001–AP008, `checks/autopilot`).
    Autopilot,
}

/// Least-privilege Microsoft Graph permissions a check needs (empty for device-only checks).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Permissions {
    pub application: &'static [&'static str],
    pub delegated: &'static [&'static str],
    /// The data is served to delegated tokens only (app-only gets 401).
    pub delegated_only: bool,
}

pub const NO_PERMISSIONS: Permissions = Permissions {
    application: &[],
    delegated: &[],
    delegated_only: false,
};

/// One documented rule.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckMeta {
    /// Stable ID, e.g. `DEV007`. Never renumbered.
    pub id: &'static str,
    /// Kebab-case name of the bad condition, e.g. `autoenroll-failed`.
    pub name: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub area: Area,
    pub permissions: Permissions,
    /// Explain text in three sections: what it checks, why it matters (ending with the
    /// enrollment paths it matters for), how to fix.
    pub what_it_checks: &'static str,
    pub why_it_matters: &'static str,
    pub how_to_fix: &'static str,
    /// Documentation links.
    pub references: &'static [&'static str],
}

impl CheckMeta {
    /// A finding of this check: severity and documentation links come from the metadata, so
    /// a check can only ever report under its own ID.
    pub fn finding(&self, status: Status, subject: Subject, summary: impl Into<String>) -> Finding {
        Finding {
            check: self.id.to_string(),
            status,
            severity: self.severity,
            subject,
            summary: summary.into(),
            evidence: Vec::new(),
            remediation: String::new(),
            skip_reason: None,
            error: None,
            docs: self.references.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A `skip` finding; its summary says why.
    pub fn skip(&self, subject: Subject, reason: SkipReason) -> Finding {
        let mut f = self.finding(Status::Skip, subject, reason.describe());
        f.skip_reason = Some(reason);
        f
    }

    /// An `error` finding: the check could not be evaluated (a failing source).
    pub fn error(&self, subject: Subject, message: impl Into<String>) -> Finding {
        let message = message.into();
        let mut f = self.finding(Status::Error, subject, message.clone());
        f.error = Some(message);
        f
    }
}

impl PartialEq for CheckMeta {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for CheckMeta {}

/// Outcome of one check for one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    Error,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Why a check was skipped. Typed so scripts can act on it (grant a permission, collect a log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SkipReason {
    /// The check does not apply to this enrollment path.
    NotApplicable { path: String },
    /// The token lacks a Graph permission; `needed` lists what to grant.
    InsufficientPermission { needed: Vec<String> },
    /// The data is served to delegated tokens only.
    AppOnlyUnsupported,
    /// The inputs do not contain what the check needs; `collect` says what to gather.
    NoEvidence { collect: String },
}

impl SkipReason {
    pub fn describe(&self) -> String {
        match self {
            SkipReason::NotApplicable { path } => format!("not applicable on the {path} path"),
            SkipReason::InsufficientPermission { needed } => {
                let mut text = format!("insufficient permission: grant {}", needed.join(" and "));
                if needs_intune_role(needed) {
                    text.push_str(
                        " (signed in as a user, the account also needs an Intune role that can read it)",
                    );
                }
                text
            }
            SkipReason::AppOnlyUnsupported => {
                "app-only tokens cannot read this (Graph serves it to delegated tokens only): \
                 run with a delegated sign-in"
                    .to_string()
            }
            SkipReason::NoEvidence { collect } => format!("no evidence: collect {collect}"),
        }
    }
}

/// Whether a refused read is an Intune (`/deviceManagement`) one: with a delegated token Intune
/// checks the signed-in account's Intune role as well as the Graph permission, so a 403 can mean
/// either is missing.
pub fn needs_intune_role(needed: &[String]) -> bool {
    needed.iter().any(|p| p.starts_with("DeviceManagement"))
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Subject {
    Tenant,
    User(String),
    Device(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Tenant => write!(f, "tenant"),
            Subject::User(u) => write!(f, "user {u}"),
            Subject::Device(d) => write!(f, "device {d}"),
        }
    }
}

/// One piece of evidence a check saw, pointing into the inputs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Evidence {
    /// Where the fact came from: `dsregcmd`, `event-log`, `registry`, `scheduled-tasks`, `graph`…
    pub source: String,
    /// The fact, in words (`AzureAdJoined : NO`).
    pub detail: String,
    /// `dsregcmd.txt:14`, `GET /beta/policies/...`, `restriction "Pilot block" (priority 1)`.
    /// Always serialised (`null` when the fact has no place in the inputs, e.g. catalog text):
    /// the report JSON promises every evidence item a `source` and a `location`.
    #[serde(default)]
    pub location: Option<String>,
}

impl Evidence {
    pub fn new(source: impl Into<String>, detail: impl Into<String>) -> Self {
        Evidence {
            source: source.into(),
            detail: detail.into(),
            location: None,
        }
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}

/// The verdict of one check on one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable check ID, e.g. `DEV007`.
    pub check: String,
    pub status: Status,
    pub severity: Severity,
    pub subject: Subject,
    /// One line: what the check concluded.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// What to do about it (empty for a pass; always serialised, a stable JSON field).
    #[serde(default)]
    pub remediation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<SkipReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docs: Vec<String>,
}

impl Finding {
    /// Whether this finding was produced by `check`.
    pub fn is(&self, check: &CheckMeta) -> bool {
        self.check == check.id
    }

    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    /// Appends every item of `evidence`, in order.
    pub fn with_all_evidence(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Self {
        self.evidence.extend(evidence);
        self
    }

    pub fn with_remediation(mut self, remediation: impl Into<String>) -> Self {
        self.remediation = remediation.into();
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// How a Windows device is (or would be) enrolled; every device check depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnrollmentPath {
    /// Domain joined + Entra hybrid joined, enrolled by the MDM auto-enrollment GPO.
    GpoHybrid,
    /// Entra joined; enrolls during join/OOBE through the MDM user scope.
    EntraJoin,
    /// Work account added (BYOD); MAM may win over MDM.
    EntraRegistered,
    /// ConfigMgr-driven enrollment with the device credential.
    CoManagement,
    Unknown,
}

impl EnrollmentPath {
    pub fn as_str(&self) -> &'static str {
        match self {
            EnrollmentPath::GpoHybrid => "gpo-hybrid",
            EnrollmentPath::EntraJoin => "entra-join",
            EnrollmentPath::EntraRegistered => "entra-registered",
            EnrollmentPath::CoManagement => "co-management",
            EnrollmentPath::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for EnrollmentPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One word for a device's state: enrolled, will enroll, failed (it tried and an error came
/// back), blocked (a prerequisite is missing, so it cannot try), not triggered, unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Enrolled,
    WillEnroll,
    Failed,
    Blocked,
    NotTriggered,
    Unknown,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Enrolled => "enrolled",
            Verdict::WillEnroll => "will-enroll",
            Verdict::Failed => "failed",
            Verdict::Blocked => "blocked",
            Verdict::NotTriggered => "not-triggered",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One device's verdict and its ordered cause chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Device label: host name, else the report's file or folder name.
    pub device: String,
    pub path: EnrollmentPath,
    pub verdict: Verdict,
    /// Check IDs, most fundamental first; the findings with these IDs carry the evidence.
    pub causes: Vec<String>,
    /// The concrete fix for the first cause ("" when enrolled).
    pub fix: String,
    /// One or two sentences a person reads first.
    pub explanation: String,
    /// The enrolling user the tenant side was checked for (correlated runs), so a reader can
    /// find the user findings behind a `USR` cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Runs over several devices: the path the device was read from (its folder, zip or file;
    /// `ZIP/FOLDER` inside a zip of device folders). A device found in more than one input
    /// (the same Entra DeviceId) is diagnosed once, from the first, and lists every path.
    /// Empty, and not serialised, when the run is about one device.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Device facts read beside the findings, each with where it was read (the Autopilot
    /// profile, the ESP and FirstSync state, Autopilot error codes). Not serialised when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<Evidence>,
}
