//! The device check family, DEV001–DEV013, and the per-device diagnosis.
//!
//! Order of evaluation, each step reading only what the ones before produced:
//! 1. the enrollment path ([`path::derive_path`]): which mechanism should enroll this device,
//!    deciding which checks apply;
//! 2. the enrolled state ([`enrolled::enrolled_state`]): read from the Enrollments keys, not
//!    from events that roll over;
//! 3. the rules: [`facts::Facts`] gathers both with the rest of what the checks share, and
//!    every rule of [`RULES`] turns it into exactly one finding, pass included;
//! 4. the diagnosis ([`diagnosis::diagnose`]): a verdict and an ordered cause chain from the
//!    findings.
//!
//! Everything here is pure: the evaluation date is an argument.
//!
//! The modules form layers, each importing only the ones below it: [`evidence`] (collection
//! hints, event predicates and ordering, evidence builders) at the bottom; [`path`] and
//! [`enrolled`] on it; [`facts`] on those; [`shared`] (the finding builders) and the check
//! files `devNNN_<slug>` on top. [`analysis`] holds the result that this module assembles and
//! [`diagnosis`] and the tenant correlation read.
//!
//! To add a device check: create `devNNN_<slug>.rs` with a one-line `//!` header, its
//! `pub const META: CheckMeta` (ID, name, title, severity, `Area::Device`, `NO_PERMISSIONS`,
//! the explain texts and references), a `pub fn evaluate(f: &Facts) -> Finding` that builds
//! every result from `META` (the [`shared`] helpers take `&META`), and its unit tests in a
//! `#[cfg(test)] mod tests`; then add the `mod` line, the `pub use … as DEVNNN` line and its
//! [`DeviceRule`] in [`RULES`] below, in ID order. The registry takes the list from here, so
//! `enroll-doctor explain` knows the check at once; where it ranks as a cause is set in
//! `checks/causes.rs` (`PREREQUISITES`, `DEVICE_CAUSE_ORDER`, `ROOT_DEVICE_CAUSES`). docs/architecture.md has the
//! whole list of steps.

pub mod analysis;
pub mod diagnosis;
pub mod enrolled;
pub mod entra_events;
pub mod evidence;
pub mod facts;
pub mod path;
pub mod shared;
pub mod tenant_keys;

mod dev001_device_not_hybrid_joined;
mod dev002_no_primary_refresh_token;
mod dev003_mdm_url_missing_on_device;
mod dev004_windows_version_out_of_support;
mod dev005_autoenroll_gpo_not_applied;
mod dev006_enrollment_task_missing;
mod dev007_autoenroll_failed;
mod dev008_autoenroll_never_triggered;
mod dev009_stale_enrollment_keys;
mod dev010_report_captured_elevated;
mod dev011_event_logs_incomplete;
mod dev012_endpoints_unreachable_as_system;
mod dev013_device_clock_skewed;

use chrono::{DateTime, Utc};

use crate::device::report::DeviceReport;
use crate::model::{CheckMeta, Diagnosis, Finding};

use facts::Facts;

pub use analysis::DeviceAnalysis;
pub use dev001_device_not_hybrid_joined::META as DEV001;
pub use dev002_no_primary_refresh_token::META as DEV002;
pub use dev003_mdm_url_missing_on_device::META as DEV003;
pub use dev004_windows_version_out_of_support::META as DEV004;
pub use dev005_autoenroll_gpo_not_applied::META as DEV005;
pub use dev006_enrollment_task_missing::META as DEV006;
pub use dev007_autoenroll_failed::META as DEV007;
pub use dev008_autoenroll_never_triggered::META as DEV008;
pub use dev009_stale_enrollment_keys::META as DEV009;
pub use dev010_report_captured_elevated::META as DEV010;
pub use dev011_event_logs_incomplete::META as DEV011;
pub use dev012_endpoints_unreachable_as_system::META as DEV012;
pub use dev013_device_clock_skewed::META as DEV013;
pub use diagnosis::diagnose;
pub use enrolled::{EnrolledState, EnrollmentKey, KeyClass, classify_enrollment_keys};
pub use path::{PathDecision, derive_path};

/// One device check: its metadata and its evaluation, the shape of [`crate::checks::Rule`]
/// except that the evaluation accepts [`Facts`] of any lifetime. The facts borrow the report,
/// and `Rule<F>`'s `fn(&F)` names a single type `F`, so it cannot take them.
pub struct DeviceRule {
    pub meta: &'static CheckMeta,
    pub eval: for<'a> fn(&Facts<'a>) -> Finding,
}

/// Every device check in ID order: the order of evaluation, of the findings and of the
/// registry.
pub static RULES: &[DeviceRule] = &[
    DeviceRule {
        meta: &DEV001,
        eval: dev001_device_not_hybrid_joined::evaluate,
    },
    DeviceRule {
        meta: &DEV002,
        eval: dev002_no_primary_refresh_token::evaluate,
    },
    DeviceRule {
        meta: &DEV003,
        eval: dev003_mdm_url_missing_on_device::evaluate,
    },
    DeviceRule {
        meta: &DEV004,
        eval: dev004_windows_version_out_of_support::evaluate,
    },
    DeviceRule {
        meta: &DEV005,
        eval: dev005_autoenroll_gpo_not_applied::evaluate,
    },
    DeviceRule {
        meta: &DEV006,
        eval: dev006_enrollment_task_missing::evaluate,
    },
    DeviceRule {
        meta: &DEV007,
        eval: dev007_autoenroll_failed::evaluate,
    },
    DeviceRule {
        meta: &DEV008,
        eval: dev008_autoenroll_never_triggered::evaluate,
    },
    DeviceRule {
        meta: &DEV009,
        eval: dev009_stale_enrollment_keys::evaluate,
    },
    DeviceRule {
        meta: &DEV010,
        eval: dev010_report_captured_elevated::evaluate,
    },
    DeviceRule {
        meta: &DEV011,
        eval: dev011_event_logs_incomplete::evaluate,
    },
    DeviceRule {
        meta: &DEV012,
        eval: dev012_endpoints_unreachable_as_system::evaluate,
    },
    DeviceRule {
        meta: &DEV013,
        eval: dev013_device_clock_skewed::evaluate,
    },
];

/// Derives the path and enrolled state and runs every device check.
pub fn analyse(report: &DeviceReport, as_of: DateTime<Utc>) -> DeviceAnalysis {
    analyse_with_user(report, as_of, None)
}

/// Like [`analyse`], with the enrolling user to assume when the files name none (`--user`).
pub fn analyse_with_user(
    report: &DeviceReport,
    as_of: DateTime<Utc>,
    user_hint: Option<&str>,
) -> DeviceAnalysis {
    let facts = Facts::new(report, as_of, user_hint);
    let findings = evaluate_rules(&facts);
    DeviceAnalysis {
        device: facts.device.clone(),
        subject: facts.subject.clone(),
        device_id: facts.device_id.clone(),
        tenant_id: facts.tenant_id.clone(),
        user: facts.user.clone(),
        path: facts.path.clone(),
        enrolled: facts.enrolled.clone(),
        failure_code: facts.last_failure_code(),
        last_outcome: facts.last_outcome(),
        already_enrolled_event: !facts.already_enrolled_7016().is_empty(),
        findings,
    }
}

/// Runs every rule of [`RULES`] in its order: one finding per device check.
pub fn evaluate_rules(facts: &Facts) -> Vec<Finding> {
    RULES.iter().map(|rule| (rule.eval)(facts)).collect()
}

/// Device-only evaluation: the analysis plus its diagnosis with no tenant findings.
pub fn evaluate(report: &DeviceReport, as_of: DateTime<Utc>) -> (DeviceAnalysis, Diagnosis) {
    let analysis = analyse(report, as_of);
    let diagnosis = diagnose(&analysis, &[]);
    (analysis, diagnosis)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
