//! USR004: The user is not also in the MAM user scope.

use super::shared::{covered_by, subject};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Severity};
use crate::model::{EnrollmentPath, Evidence, Finding, SkipReason, Status};
use crate::tenant::snapshot::{TenantSnapshot, User};

pub const META: CheckMeta = CheckMeta {
    id: "USR004",
    name: "user-in-mam-scope",
    title: "The user is not also in the MAM user scope",
    severity: Severity::Medium,
    area: Area::User,
    permissions: SCOPE_WITH_MEMBERSHIP,
    what_it_checks: "Warns when the MAM (Windows Information Protection) user scope includes the user (All, or \
        a group the user is in). Delegated only.",
    why_it_matters: "For users in both scopes, a personal device that registers the work account gets MAM \
        rather than MDM. Corporate, Entra joined and hybrid joined devices still get MDM, hence a warning. \
        Enrollment paths: entra-registered only.",
    how_to_fix: "Entra admin center > Identity > Mobility (MDM and WIP): set the MAM user scope to None, or \
        take the user's groups out of it, unless MAM on personal devices is intended.",
    references: &[R_AUTO_TS, R_MAM_POLICIES_API],
};

pub fn usr004_mam_scope(
    snap: &TenantSnapshot,
    user: &User,
    path: Option<EnrollmentPath>,
) -> Finding {
    const ID: &CheckMeta = &META;
    let (list, _) = match snap.sources.mam_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, subject(user), "the MAM user scope policies"),
    };
    let paths = paths_evidence(
        &[EnrollmentPath::EntraRegistered],
        "corporate, Entra-joined, hybrid-joined and co-managed devices still get MDM",
    );
    let mut hit = None;
    let mut unknown = false;
    for p in list {
        match covered_by(snap, user, p) {
            Some((true, via)) => {
                hit = Some((p, via));
                break;
            }
            Some((false, _)) => {}
            None => unknown = true,
        }
    }
    let Some((p, via)) = hit else {
        if unknown {
            return ID.skip(
                subject(user),
                SkipReason::NoEvidence {
                    collect: "the user's group memberships (transitiveMemberOf)".into(),
                },
            );
        }
        return ID
            .finding(
                Status::Pass,
                subject(user),
                "The user is not in a MAM user scope",
            )
            .with_evidence(
                Evidence::new(
                    "graph",
                    format!("{} MAM policies; none covers the user", list.len()),
                )
                .at("GET /beta/policies/mobileAppManagementPolicies?$expand=includedGroups"),
            )
            .with_evidence(paths);
    };
    let ev = Evidence::new(
        "graph",
        format!("MAM \"{}\" {}: {via}", p.name(), p.scope().as_str()),
    )
    .at(policy_location("mobileAppManagementPolicies", &p.id));
    match path {
        Some(EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement | EnrollmentPath::EntraJoin) => ID.finding(Status::Pass,
            subject(user),
            format!(
                "The user is in the MAM user scope, but this device ({}) is corporate/joined and still gets MDM",
                path.map(|p| p.as_str()).unwrap_or("")
            ),
        )
        .with_evidence(ev)
        .with_evidence(paths),
        Some(EnrollmentPath::EntraRegistered) => ID.finding(Status::Warn,
            subject(user),
            "The user is in the MAM user scope: this personal (Entra-registered, \"Add work account\") device gets MAM, not MDM",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "To enroll this device into MDM, remove the user from the MAM (WIP) user scope, or join \
             the device to Entra ID (joined and hybrid-joined devices get MDM).",
        ),
        _ => ID.finding(Status::Warn,
            subject(user),
            "The user is in the MAM user scope: personal (Entra-registered, \"Add work account\") devices get MAM instead of MDM; corporate and hybrid-joined devices still get MDM",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "If the user's personal Windows devices should enroll into MDM, remove the user from the \
             MAM (WIP) user scope.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::json;
    use crate::checks::user::tests::*;
    use crate::checks::user::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn usr004_mam_depends_on_path() {
        let mut s = snap_with(&user_json(""), &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR004"),
            Status::Pass
        );
        s.sources.mam_policies = Source::collected(
            "GET /beta/x",
            json(
                r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"all","displayName":"Microsoft Intune"}]"#,
            ),
        );
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR004"),
            Status::Warn
        );
        assert_eq!(
            status(
                &user_readiness(&s, "jdoe@contoso.com", Some(EnrollmentPath::GpoHybrid)),
                "USR004"
            ),
            Status::Pass
        );
        assert_eq!(
            status(
                &user_readiness(
                    &s,
                    "jdoe@contoso.com",
                    Some(EnrollmentPath::EntraRegistered)
                ),
                "USR004"
            ),
            Status::Warn
        );
        let registered = user_readiness(
            &s,
            "jdoe@contoso.com",
            Some(EnrollmentPath::EntraRegistered),
        );
        let f = registered.iter().find(|f| f.check == "USR004");
        assert!(
            f.is_some_and(|f| f.summary.contains("this personal")),
            "a registered device is told it gets MAM: {f:?}"
        );
    }
}
