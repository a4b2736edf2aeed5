//! AP007: the Windows edition can use Autopilot and Entra join (not Home).

use super::facts::AutopilotFacts;
use super::{AUTOPILOT_READ, R_AUTOPILOT_REQUIREMENTS};
use crate::checks::common::R_ERRORS_TS;
use crate::checks::device::facts::COLLECT_OS;
use crate::device::autopilot::edition_supports_autopilot;
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, Severity, SkipReason, Status,
};

pub const META: CheckMeta = CheckMeta {
    id: "AP007",
    name: "edition-cannot-use-autopilot",
    title: "The Windows edition can use Autopilot and Entra join",
    severity: Severity::High,
    area: Area::Autopilot,
    permissions: AUTOPILOT_READ,
    what_it_checks: "Reads the device's EditionID (HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion) for a \
        device that goes through Autopilot or joins Entra ID: Home (Core…) fails, Pro, Enterprise, Education \
        and their variants pass (memdocs autopilot/requirements.md, software requirements; SupportArticles-docs \
        support/mem/intune/device-enrollment/troubleshoot-windows-enrollment-errors.md, 0x80180022).",
    why_it_matters: "Windows Home can neither join Entra ID nor run an Autopilot profile: the deployment or the \
        enrollment stops with 0x80180022 (\"Something went wrong\") however the tenant is set up. Enrollment \
        paths: entra-join and Autopilot.",
    how_to_fix: "Upgrade the device to Windows Pro, Enterprise or Education (Settings > System > Activation > \
        Change product key, or a Windows subscription activation), then reset it and deploy again.",
    references: &[R_AUTOPILOT_REQUIREMENTS, R_ERRORS_TS],
};

/// AP007: the edition against Autopilot and Entra join.
pub fn evaluate(f: &AutopilotFacts) -> Finding {
    if f.cf.path != EnrollmentPath::EntraJoin
        && let Err(skip) = f.on_path(&META)
    {
        return *skip;
    }
    let Some(os) = f.cf.report.os.as_ref() else {
        return META.skip(
            f.subject.clone(),
            SkipReason::NoEvidence {
                collect: COLLECT_OS.into(),
            },
        );
    };
    let Some(edition) = os
        .edition_id
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return META.skip(
            f.subject.clone(),
            SkipReason::NoEvidence {
                collect: COLLECT_OS.into(),
            },
        );
    };
    let ev = Evidence::new("device", format!("EditionID {edition}")).at(os.location.to_string());
    match edition_supports_autopilot(edition) {
        Some(false) => META
            .finding(
                Status::Fail,
                f.subject.clone(),
                format!(
                    "The device runs Windows Home ({edition}), which cannot join Entra ID or use Autopilot (0x80180022)"
                ),
            )
            .with_evidence(ev)
            .with_remediation(
                "Upgrade the device to Windows Pro, Enterprise or Education, then reset it and deploy again.",
            ),
        Some(true) => META
            .finding(
                Status::Pass,
                f.subject.clone(),
                format!("The edition ({edition}) supports Autopilot and Entra join"),
            )
            .with_evidence(ev),
        None => META
            .skip(
                f.subject.clone(),
                SkipReason::NoEvidence {
                    collect: format!("an edition enroll-doctor knows (EditionID {edition} is not recognised)"),
                },
            )
            .with_evidence(ev),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn home_fails_pro_passes_unknown_skips() {
        let snap = snapshot();
        let mut r = report(Some(downloaded(TENANT, "Contoso user-driven", 0, 0)));
        assert_status(&eval(&snap, &r, evaluate), Status::Pass);
        if let Some(os) = r.os.as_mut() {
            os.edition_id = Some("Core".into());
        }
        let f = eval(&snap, &r, evaluate);
        assert_status(&f, Status::Fail);
        assert!(f.summary.contains("0x80180022"), "{}", f.summary);
        if let Some(os) = r.os.as_mut() {
            os.edition_id = Some("Mystery".into());
        }
        assert_status(&eval(&snap, &r, evaluate), Status::Skip);
        r.os = None;
        assert_status(&eval(&snap, &r, evaluate), Status::Skip);
    }

    #[test]
    fn not_applicable_off_autopilot_and_entra_join() {
        let mut snap = snapshot();
        set(&mut snap.sources.autopilot_devices, json!([]));
        assert_not_applicable(&eval(&snap, &report(None), evaluate));
    }
}
