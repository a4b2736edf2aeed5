//! What the correlation checks read: one device's report, analysis and join keys beside the
//! tenant snapshot ([`CorrelationFacts`]), and, for the checks evaluated after the device's
//! failure code has been judged, what that code says ([`CodeFacts`]).

use chrono::{DateTime, Utc};

use crate::checks::device::analysis::DeviceAnalysis;
use crate::device::report::DeviceReport;
use crate::model::{CheckMeta, EnrollmentPath, Finding, Subject};
use crate::tenant::snapshot::{TenantSnapshot, User};

use super::keys::DeviceKeys;

/// One device and the tenant it is correlated with.
pub struct CorrelationFacts<'a> {
    pub snap: &'a TenantSnapshot,
    pub report: &'a DeviceReport,
    pub analysis: &'a DeviceAnalysis,
    pub keys: &'a DeviceKeys,
    /// The device's enrollment path.
    pub path: EnrollmentPath,
    /// The device, as the findings name it.
    pub subject: &'a Subject,
    pub as_of: DateTime<Utc>,
    /// The enrolling user's object in the snapshot, when the user is known and found.
    pub user: Option<&'a User>,
}

impl<'a> CorrelationFacts<'a> {
    pub fn new(
        snap: &'a TenantSnapshot,
        report: &'a DeviceReport,
        analysis: &'a DeviceAnalysis,
        keys: &'a DeviceKeys,
        as_of: DateTime<Utc>,
    ) -> CorrelationFacts<'a> {
        CorrelationFacts {
            snap,
            report,
            analysis,
            keys,
            path: analysis.path(),
            subject: &analysis.subject,
            as_of,
            user: keys.user.as_ref().and_then(|u| snap.user(&u.upn)),
        }
    }
}

/// What the device's failure code says once the other findings have been judged against it.
pub struct CodeFacts<'a> {
    /// The enrolling user's USR findings (empty when no user is known).
    pub user_findings: &'a [Finding],
    /// Those of them whose check stops an enrollment when it fails, in the same order.
    pub blocking_user_findings: Vec<&'a Finding>,
    /// The checks the code implicates (confirmed or likely causes).
    pub implicated: &'a [&'static CheckMeta],
    /// One line of what the tenant says about the code, when it was judged.
    pub code_line: Option<&'a str>,
    /// Every cause the code allows is ruled out except the MDM user scope, which could not be
    /// evaluated.
    pub only_scope_open: bool,
}
