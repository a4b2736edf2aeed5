//! COR005: the user who enrolls the device is ready for Intune.

use crate::checks::common::{R_AUTO_TS, R_DIAGNOSE, R_USER_API};
use crate::checks::device::DEV003;
use crate::checks::user::USR003;
use crate::model::{Area, CheckMeta, Evidence, Finding, Permissions, Severity, SkipReason, Status};

use super::facts::{CodeFacts, CorrelationFacts};

pub const META: CheckMeta = CheckMeta {
    id: "COR005",
    name: "enrolling-user-not-ready",
    title: "The user who enrolls the device is ready for Intune",
    severity: Severity::High,
    area: Area::Correlation,
    permissions: Permissions {
        application: &[
            "User.Read.All",
            "GroupMember.Read.All",
            "DeviceManagementServiceConfig.Read.All",
        ],
        delegated: &[
            "User.Read.All",
            "GroupMember.Read.All",
            "DeviceManagementServiceConfig.Read.All",
            "Policy.Read.All",
        ],
        delegated_only: false,
    },
    what_it_checks: "Takes the UPN the device enrolls with (event 91, the Enrollments key, or dsregcmd) and runs \
        the user checks for it: account, Intune license, MDM scope and the platform restriction that wins. The \
        scope part needs a delegated token and is skipped with app-only authentication.",
    why_it_matters: "The admin often checks the wrong person: enrollment uses the account that signed in on the \
        device, which may not be the device's owner. Enrollment paths: gpo-hybrid, entra-join, co-management \
        with the user token.",
    how_to_fix: "Fix the user findings listed with this one (USR001–USR005), or have the intended user sign in \
        on the device so the task enrolls with that account.",
    references: &[R_AUTO_TS, R_DIAGNOSE, R_USER_API],
};

/// The enrolling user's blocking USR findings, judged with how much the user source and the
/// device's failure code can be trusted. Evaluated after the other findings have been judged
/// against the device's failure code.
pub fn evaluate(f: &CorrelationFacts, code: &CodeFacts) -> Finding {
    let (analysis, keys, subject) = (f.analysis, f.keys, f.subject);
    let Some(user) = &keys.user else {
        return META.skip(
            subject.clone(),
            SkipReason::NoEvidence {
                collect: "the enrolling user: pass --user UPN, or export the DeviceManagement event log (event 91) and HKLM\\SOFTWARE\\Microsoft\\Enrollments".into(),
            },
        );
    };
    let failing: Vec<&Finding> = code
        .blocking_user_findings
        .iter()
        .copied()
        .filter(|f| f.status == Status::Fail)
        .collect();
    let mut evidence = vec![user.evidence.clone()];
    if let Some(line) = code.code_line {
        evidence.push(Evidence::new("correlation", line.to_string()));
    }
    if !failing.is_empty() {
        let confirmed = failing
            .iter()
            .any(|f| code.implicated.iter().any(|c| f.is(c)));
        let status = if user.source.is_strong() || confirmed {
            Status::Fail
        } else {
            Status::Warn
        };
        for f in &failing {
            if let Some(e) = f.evidence.first() {
                evidence.push(e.clone());
            }
        }
        let ids: Vec<&str> = failing.iter().map(|f| f.check.as_str()).collect();
        let mut summary = format!(
            "{} ({}) is not ready for Intune: {} — {}",
            user.upn,
            user.source.describe(),
            ids.join(", "),
            failing[0].summary
        );
        if status == Status::Warn {
            summary.push_str(
                " (if this is the user who signs in on the device; it is only the account that ran dsregcmd)",
            );
        }
        let mut finding = META
            .finding(status, subject.clone(), summary)
            .with_remediation(failing[0].remediation.clone());
        finding.evidence.extend(evidence);
        return finding;
    }
    // Nothing failed. With the MDM scope unreadable (app-only token) and every other cause the
    // code allows ruled out, the device's empty MdmUrl points at the scope by elimination.
    let dev003_fails = analysis
        .get(&DEV003)
        .is_some_and(|f| f.status == Status::Fail);
    if code.only_scope_open && dev003_fails {
        if let Some(e) = analysis.get(&DEV003).and_then(|f| f.evidence.first()) {
            evidence.push(e.clone());
        }
        let why = code
            .user_findings
            .iter()
            .find(|f| f.is(&USR003))
            .map(|f| f.summary.clone())
            .unwrap_or_else(|| "the MDM user scope was not read".into());
        evidence.push(Evidence::new(
            "graph",
            format!("USR003 not evaluated: {why}"),
        ));
        let mut finding = META.finding(
            Status::Fail,
            subject.clone(),
            format!(
                "{} is most likely outside the MDM user scope: the device got no MDM URL, and the tenant rules out the other causes of its code; the scope itself could not be read",
                user.upn
            ),
        )
        .with_remediation(
            "Confirm with a delegated sign-in (`enroll-doctor auth login --auth browser`, or `--auth device-code`, \
             then run again with the same `--auth`), then add the user to a \
             group in the MDM user scope of Microsoft Intune (Entra admin center > Mobility (MDM and WIP)) or set the \
             scope to All.",
        );
        finding.evidence.extend(evidence);
        return finding;
    }
    let unread: Vec<&str> = code
        .blocking_user_findings
        .iter()
        .filter(|f| matches!(f.status, Status::Skip | Status::Error))
        .map(|f| f.check.as_str())
        .collect();
    let mut summary = format!(
        "{} ({}) is licensed, in scope and allowed to enroll Windows as far as checked",
        user.upn,
        user.source.describe()
    );
    if !unread.is_empty() {
        summary.push_str(&format!(" ({} could not be evaluated)", unread.join(", ")));
    }
    let mut finding = META.finding(Status::Pass, subject.clone(), summary);
    finding.evidence.extend(evidence);
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::correlate::UserSource;
    use crate::checks::correlate::testutil::*;
    use crate::model::Verdict;
    use crate::tenant::snapshot::{MissingReason, Source};

    #[test]
    fn app_only_scope_gap_is_closed_by_elimination() {
        let mut snap = snapshot();
        snap.sources.mdm_policies = Source::Missing {
            reason: MissingReason::AppOnlyUnsupported,
        };
        snap.sources.mam_policies = Source::Missing {
            reason: MissingReason::AppOnlyUnsupported,
        };
        let c = run(&snap, &sample("failed-8018002b"), None);
        assert_eq!(finding(&c, "USR003").status, Status::Skip);
        let cor005 = finding(&c, "COR005");
        assert_eq!(cor005.status, Status::Fail, "{cor005:?}");
        assert!(
            cor005
                .summary
                .contains("most likely outside the MDM user scope")
        );
        assert_eq!(c.diagnosis.verdict, Verdict::Failed);
        assert_eq!(
            c.diagnosis.causes.first().map(String::as_str),
            Some("COR005"),
            "{:?}",
            c.diagnosis
        );
    }

    #[test]
    fn user_flag_wins_and_an_unlicensed_user_blocks() {
        // intern@contoso.com only has INTUNE_O365: not enough for MDM.
        let c = run(
            &snapshot(),
            &sample("never-triggered"),
            Some("intern@contoso.com"),
        );
        assert_eq!(
            c.keys.user.as_ref().map(|u| u.source),
            Some(UserSource::Flag)
        );
        assert_eq!(finding(&c, "USR002").status, Status::Fail);
        assert_eq!(finding(&c, "COR005").status, Status::Fail);
        assert!(c.diagnosis.causes.contains(&"USR002".to_string()));
    }

    #[test]
    fn weak_user_hint_without_a_failure_code_only_warns() {
        // never-triggered names jdoe only as the account that ran dsregcmd; make it the intern.
        let r = scenario("weak-hint-intern");
        let c = run(&snapshot(), &r, None);
        assert_eq!(
            c.keys.user.as_ref().map(|u| u.source),
            Some(UserSource::ExecutingAccount)
        );
        assert_eq!(finding(&c, "COR005").status, Status::Warn);
        assert!(!c.diagnosis.causes.iter().any(|id| id == "USR002"));
    }
}
