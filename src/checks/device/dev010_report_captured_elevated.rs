//! DEV010: dsregcmd was captured in the affected user's own, non-elevated session.

use crate::checks::common::{R_DIAGNOSE, R_DSREGCMD};
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::entra_events::token_failures;
use super::evidence::COLLECT_DSREGCMD;
use super::facts::{CaptureKind, Facts};
use super::shared::{finding, no_evidence, no_evidence_with};

pub const META: CheckMeta = CheckMeta {
    id: "DEV010",
    name: "report-captured-elevated",
    title: "dsregcmd was captured in the user's own session",
    severity: Severity::Low,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Detects a dsregcmd /status capture made elevated or as SYSTEM (user-state fields such as \
        AzureAdPrt, WorkplaceJoined or NgcSet are missing or describe another account). A SYSTEM capture \
        only warns when the Microsoft-Windows-AAD/Operational log holds the user's failed PRT requests, \
        which DEV002 then reads instead (MicrosoftDocs/entra-docs docs/identity/devices/\
        troubleshoot-primary-refresh-token.md).",
    why_it_matters: "User-credential enrollment depends on the signed-in user's PRT and scope, which dsregcmd \
        only shows in that user's own, non-elevated session. Checks that need them (DEV002, DEV003) cannot \
        conclude from an elevated capture. Enrollment paths: gpo-hybrid, entra-join, co-management.",
    how_to_fix: "Run the collector in two parts: `dsregcmd /status` in a normal (non-elevated) prompt of the \
        affected user, and the event-log and scheduled-task part elevated. `enroll-doctor collector` prints a \
        script that does both.",
    references: &[R_DSREGCMD, R_DIAGNOSE],
};

pub fn evaluate(f: &Facts) -> Finding {
    let Some(d) = f.report.dsregcmd.as_ref() else {
        return no_evidence(
            f,
            &META,
            COLLECT_DSREGCMD,
            "no dsregcmd /status output among the inputs",
        );
    };
    let fix = "Run `dsregcmd /status > dsregcmd.txt` again from a normal, non-elevated prompt in the affected user's session (the collector does this in its user-context step), and analyse that output: User State and SSO State (PRT, per-user MDM URL) only describe the user who ran it.";
    // The device credential needs no user session: a SYSTEM capture (what ConfigMgr scripts
    // collect) holds every fact the co-management path uses.
    if f.path.path == EnrollmentPath::CoManagement
        && matches!(
            f.capture.kind,
            CaptureKind::SystemOrNoUser | CaptureKind::ElevatedUser
        )
    {
        return finding(
            f,
            &META,
            Status::Pass,
            "dsregcmd ran without the user's context, which is enough on the co-management path: it enrolls with the device credential, not the user's PRT",
            f.capture.evidence.clone(),
        );
    }
    // The AAD/Operational log records the user's PRT requests whatever context dsregcmd ran
    // in: with its failures DEV002 still decides, so the SYSTEM capture costs less.
    let aad_prt = token_failures(f.report)
        .iter()
        .filter(|t| t.is_prt_failure())
        .count();
    match f.capture.kind {
        CaptureKind::SystemOrNoUser if aad_prt > 0 => {
            let mut ev = f.capture.evidence.clone();
            ev.push(Evidence::new(
                "event-log",
                format!("{aad_prt} failed PRT requests in Microsoft-Windows-AAD/Operational"),
            ));
            finding(
                f,
                &META,
                Status::Warn,
                "dsregcmd ran as SYSTEM or without a user; DEV002 reads the user's PRT attempts from the AAD/Operational log instead, but the per-user MDM URL and the current PRT state are not shown",
                ev,
            )
            .with_remediation(fix)
        }
        CaptureKind::SystemOrNoUser => finding(
            f,
            &META,
            Status::Fail,
            "dsregcmd ran as SYSTEM or without a user: user-context facts (PRT, MDM URL) are missing or not the user's; DEV002 is not evaluated",
            f.capture.evidence.clone(),
        )
        .with_remediation(fix),
        CaptureKind::ElevatedUser => finding(
            f,
            &META,
            Status::Warn,
            "dsregcmd ran elevated: user fields are present but WAM fields may be wrong",
            f.capture.evidence.clone(),
        )
        .with_remediation(fix),
        CaptureKind::Truncated => no_evidence_with(
            f,
            &META,
            COLLECT_DSREGCMD,
            "the dsregcmd output is cut short before User State / SSO State: the context it ran in is unknown".to_string(),
            f.capture.evidence.clone(),
        ),
        CaptureKind::User | CaptureKind::Unknown => {
            let ev = f
                .dsreg_evidence("Diagnostic Data", "User Context")
                .or_else(|| f.dsreg_evidence("Diagnostic Data", "Executing Account Name"))
                .unwrap_or_else(|| {
                    let line = d.section("SSO State").map(|s| s.line).unwrap_or(1);
                    Evidence::new("dsregcmd", "User State and SSO State present").at(format!("{}:{line}", d.file))
                });
            finding(f, &META, Status::Pass, "dsregcmd ran in the user's context", vec![ev])
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::device::testutil::*;
    use crate::checks::device::*;

    #[allow(unused_imports)]
    use crate::model::{CheckMeta, EnrollmentPath, Finding, SkipReason, Status, Subject, Verdict};

    #[test]
    fn elevated_capture_warns_and_does_not_trust_a_missing_prt() {
        let mut r = enrolled_hybrid();
        r.dsregcmd = Some(dsreg(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : YES\n| Tenant Details |\n MdmUrl : https://enrollment.manage.microsoft.com/x\n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : NO\n| Diagnostic Data |\n User Context : ELEVATED User\n",
        ));
        let (a, _) = run(&r);
        assert_eq!(status(&a, &DEV010), Status::Warn);
        assert!(matches!(
            skip_reason(&a, &DEV002),
            Some(SkipReason::NoEvidence { .. })
        ));
    }

    #[test]
    fn only_the_system_account_counts_as_a_system_capture() {
        use crate::checks::device::facts::is_system_account;
        for yes in [
            "NT AUTHORITY\\SYSTEM",
            "NT-AUTORITÄT\\SYSTEM",
            "AUTORITE NT\\Système",
            "SYSTEM",
            "S-1-5-18",
        ] {
            assert!(is_system_account(yes), "{yes}");
        }
        for no in [
            "CONTOSO\\systemadmin, systemadmin@contoso.com",
            "CONTOSO\\jdoe, jdoe@contoso.com",
            "AzureAD\\SystemsTeam",
        ] {
            assert!(!is_system_account(no), "{no}");
        }
    }

    #[test]
    fn a_system_capture_only_warns_when_the_aad_log_shows_the_prt_attempts() {
        use crate::device::report::{CollectorContext, PROVIDER_AAD};
        let mut r = enrolled_hybrid();
        r.collector = Some(CollectorContext {
            is_system: Some(true),
            ..Default::default()
        });
        assert_eq!(status(&run(&r).0, &DEV010), Status::Fail);
        r.events.push(event(
            PROVIDER_AAD,
            1104,
            30,
            &["0xC000006D"],
            Some("AAD Cloud AP plugin call Get token returned error: 0xC000006D"),
        ));
        let (a, _) = run(&r);
        assert_eq!(status(&a, &DEV010), Status::Warn);
        assert_eq!(status(&a, &DEV002), Status::Fail);
    }
}
