//! What several device checks share: the skip and finding builders over [`Facts`] and the
//! "is this path driven by the GPO" test. Each builder takes the check's own metadata, so a
//! check can only report under its own ID.

use crate::model::{CheckMeta, EnrollmentPath, Evidence, Finding, SkipReason, Status};

use super::evidence::COLLECT_DSREGCMD;
use super::facts::{CaptureKind, Facts};
use crate::device::report::Dsregcmd;

/// Skipped because the check does not apply to the derived enrollment path; the evidence is
/// the path's.
pub fn not_applicable(f: &Facts, meta: &CheckMeta) -> Finding {
    let mut finding = meta.skip(
        f.subject.clone(),
        SkipReason::NotApplicable {
            path: f.path.path.as_str().to_string(),
        },
    );
    finding.evidence = f.path.evidence.clone();
    finding
}

/// Skipped for lack of input: `collect` says what to gather, `missing` what was not there.
pub fn no_evidence(
    f: &Facts,
    meta: &CheckMeta,
    collect: &str,
    missing: impl Into<String>,
) -> Finding {
    meta.skip(
        f.subject.clone(),
        SkipReason::NoEvidence {
            collect: collect.to_string(),
        },
    )
    .with_evidence(Evidence::new("report", missing))
}

/// Like [`no_evidence`], with an own summary (followed by "; collect …") and the evidence that
/// was found.
pub fn no_evidence_with(
    f: &Facts,
    meta: &CheckMeta,
    collect: &str,
    summary: String,
    evidence: Vec<Evidence>,
) -> Finding {
    let mut finding = meta.skip(
        f.subject.clone(),
        SkipReason::NoEvidence {
            collect: collect.to_string(),
        },
    );
    finding.summary = format!("{summary}; collect {collect}");
    finding.evidence = evidence;
    finding
}

/// A finding about the report's device with its evidence.
pub fn finding(
    f: &Facts,
    meta: &CheckMeta,
    status: Status,
    summary: impl Into<String>,
    evidence: Vec<Evidence>,
) -> Finding {
    let mut finding = meta.finding(status, f.subject.clone(), summary);
    finding.evidence = evidence;
    finding
}

/// A path on which the GPO (or its device-credential twin) drives enrollment.
pub fn gpo_driven(f: &Facts) -> bool {
    match f.path.path {
        EnrollmentPath::GpoHybrid => true,
        EnrollmentPath::CoManagement => f.mdm_policy_key().is_some(),
        _ => false,
    }
}

/// The dsregcmd output of a check that reads the signed-in user's state, or the skip that says
/// it is missing or was captured without that user (`why_not_user`: what the missing user
/// context hides; see DEV010).
pub fn user_dsregcmd<'a>(
    f: &Facts<'a>,
    meta: &CheckMeta,
    why_not_user: &str,
) -> Result<&'a Dsregcmd, Box<Finding>> {
    let Some(d) = f.report.dsregcmd.as_ref() else {
        return Err(Box::new(no_evidence(
            f,
            meta,
            COLLECT_DSREGCMD,
            "no dsregcmd /status output among the inputs",
        )));
    };
    if f.capture.kind == CaptureKind::SystemOrNoUser {
        return Err(Box::new(no_evidence_with(
            f,
            meta,
            COLLECT_DSREGCMD,
            format!(
                "dsregcmd ran without the signed-in user's context (see DEV010): {why_not_user}"
            ),
            f.capture.evidence.clone(),
        )));
    }
    Ok(d)
}
