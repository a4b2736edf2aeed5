//! USR003: The user is inside the Intune MDM user scope.

use super::shared::{covered_by, subject};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Severity};
use crate::model::{Evidence, Finding, SkipReason, Status};
use crate::tenant::snapshot::{PolicyScope, TenantSnapshot, User};

pub const META: CheckMeta = CheckMeta {
    id: "USR003",
    name: "user-not-in-mdm-scope",
    title: "The user is inside the Intune MDM user scope",
    severity: Severity::High,
    area: Area::User,
    permissions: SCOPE_WITH_MEMBERSHIP,
    what_it_checks: "When the MDM user scope of \"Microsoft Intune\" is Some (`selected`), checks with \
        checkMemberGroups whether the user is a member, directly or through nested groups, of one of its \
        included groups. Scope All passes; None is reported by TEN003. Delegated only.",
    why_it_matters: "A user outside the scope gets no MDM configuration from Entra: dsregcmd shows no MdmUrl \
        and automatic enrollment fails with 0x8018002B or 0x80180031. Enrollment paths: gpo-hybrid, \
        entra-join, entra-registered and co-management with the user token.",
    how_to_fix: "Add the user to one of the groups of the MDM user scope (Entra admin center > Identity > \
        Mobility (MDM and WIP) > Microsoft Intune > Some > groups), or add the user's group there. Nested \
        membership may not be honoured everywhere; a direct member is the safe choice.",
    references: &[
        R_WINDOWS_ENROLL,
        R_AUTO_TS,
        R_MDM_POLICIES_API,
        R_CHECK_MEMBER_GROUPS_API,
    ],
};

/// The check's note on the enrollment paths it matters for.
const PATHS_NOTE: &str = "co-management device-credential enrollment does not use the user scope";

pub fn usr003_mdm_scope(snap: &TenantSnapshot, user: &User) -> Finding {
    const ID: &CheckMeta = &META;
    let m = or_finding!(intune_mdm_policy(snap, ID, subject(user), PATHS_NOTE));
    let (policy, loc, paths) = (m.policy, m.location, m.paths);
    let Some(p) = policy else {
        return ID
            .finding(
                Status::Fail,
                subject(user),
                "No Microsoft Intune MDM policy: nobody is in the MDM user scope",
            )
            .with_evidence(
                Evidence::new("graph", "no policy with the Microsoft Intune app id").at(loc),
            )
            .with_evidence(paths)
            .with_remediation(
                "Configure Mobility (MDM and WIP) > Microsoft Intune in the Entra admin center.",
            );
    };
    if snap.sources.group_memberships.data().is_none()
        && p.scope() == PolicyScope::Selected
        && let Err(r) = snap.sources.group_memberships.get()
    {
        return r.finding_of(ID, subject(user), "the user's group memberships");
    }
    match covered_by(snap, user, p) {
        Some((true, via)) => ID.finding(Status::Pass, subject(user), "The user is in the MDM user scope of Microsoft Intune")
            .with_evidence(Evidence::new("graph", format!("\"{}\" {}: {via}", p.name(), p.scope().as_str())).at(loc))
            .with_evidence(paths),
        Some((false, via)) => ID.finding(Status::Fail,
            subject(user),
            "The user is not in the MDM user scope of Microsoft Intune: automatic enrollment does not start (0x8018002B on GPO devices)",
        )
        .with_evidence(Evidence::new("graph", format!("\"{}\" appliesTo = {}: {via}", p.name(), p.scope().as_str())).at(loc))
        .with_evidence(paths)
        .with_remediation(
            "Add the user (or a group they belong to) to the MDM user scope groups, or set the scope \
             to All: Entra admin center > Mobility (MDM and WIP) > Microsoft Intune.",
        ),
        None => ID.skip(subject(user),
            SkipReason::NoEvidence {
                collect: "the user's group memberships (transitiveMemberOf)".into(),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::{MDM_ALL, json};
    use crate::checks::user::tests::*;
    use crate::checks::user::*;
    use crate::tenant::snapshot::{MissingReason, Source};

    #[test]
    fn usr003_scope_with_transitive_membership() {
        let mut s = snap_with(&user_json(""), &[SCOPE_GROUP]);
        s.sources.mdm_policies = Source::collected("GET /beta/x", json(&selected(SCOPE_GROUP)));
        let f = usr003_mdm_scope(&s, s.user("u1").unwrap_or(&User::default()));
        assert_eq!(f.status, Status::Pass);
        assert!(f.evidence[0].detail.contains("Intune Users"));
        let mut s = snap_with(&user_json(""), &[PILOT]);
        s.sources.mdm_policies = Source::collected("GET /beta/x", json(&selected(SCOPE_GROUP)));
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR003"),
            Status::Fail
        );
        let none = MDM_ALL.replacen("\"all\"", "\"none\"", 1);
        s.sources.mdm_policies = Source::collected("GET /beta/x", json(&none));
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR003"),
            Status::Fail
        );
        s.sources.mdm_policies = Source::Missing {
            reason: MissingReason::AppOnlyUnsupported,
        };
        s.sources.mam_policies = Source::Missing {
            reason: MissingReason::AppOnlyUnsupported,
        };
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        assert_eq!(status(&fs, "USR003"), Status::Skip);
        assert_eq!(status(&fs, "USR004"), Status::Skip);
        assert_eq!(
            status(&fs, "USR002"),
            Status::Pass,
            "other checks still run"
        );
    }
}
