//! TEN006: MAM user scope does not overlap the MDM user scope.

use crate::catalog::well_known::MICROSOFT_INTUNE_APP_ID;
use crate::checks::common::scope_detail;
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions};
use crate::model::{EnrollmentPath, Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{PolicyScope, TenantSnapshot};

pub const META: CheckMeta = CheckMeta {
    id: "TEN006",
    name: "mam-scope-overlaps-mdm",
    title: "MAM user scope does not overlap the MDM user scope",
    severity: Severity::Medium,
    area: Area::Tenant,
    permissions: Permissions {
        application: &[],
        delegated: &["Policy.Read.All", "GroupMember.Read.All"],
        delegated_only: true,
    },
    what_it_checks: "Compares the MAM (Windows Information Protection) user scope with the MDM user scope of \
        \"Microsoft Intune\" and warns when users can be in both (MAM All, or shared groups). Delegated only.",
    why_it_matters: "When a user is in both scopes, a personal device that only registers the work account \
        gets MAM instead of MDM. Corporate devices (Entra joined, hybrid joined, co-managed) still get MDM, so \
        this is a warning. Enrollment paths: entra-registered is affected; gpo-hybrid, entra-join and \
        co-management are not.",
    how_to_fix: "Entra admin center > Identity > Mobility (MDM and WIP) > Microsoft Intune (for MAM: the MAM \
        entry): set the MAM user scope to None, or limit it to groups that do not overlap the MDM scope, unless \
        you deliberately want MAM on personal devices.",
    references: &[R_AUTO_TS, R_WINDOWS_ENROLL, R_MAM_POLICIES_API],
};

pub fn ten006_mam_scope_overlaps_mdm(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let (mam_list, _) = match snap.sources.mam_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, Subject::Tenant, "the MAM user scope policies"),
    };
    let (mdm_list, _) = match snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, Subject::Tenant, "the MDM user scope policies"),
    };
    let mdm = find_policy(mdm_list, MICROSOFT_INTUNE_APP_ID);
    let mam = find_policy(mam_list, MICROSOFT_INTUNE_APP_ID)
        .or_else(|| mam_list.iter().find(|p| p.scope() != PolicyScope::None));
    let paths = paths_evidence(
        &[EnrollmentPath::EntraRegistered],
        "corporate, Entra-joined, hybrid-joined and co-managed devices still get MDM",
    );
    let mdm_scope = mdm.map(|p| p.scope()).unwrap_or(PolicyScope::None);
    let mut f_evidence = Vec::new();
    if let Some(p) = mdm {
        f_evidence.push(
            Evidence::new("graph", format!("MDM {}", scope_detail(p)))
                .at(policy_location("mobileDeviceManagementPolicies", &p.id)),
        );
    }
    let Some(mam) = mam.filter(|p| p.scope() != PolicyScope::None) else {
        let mut f = ID.finding(
            Status::Pass,
            Subject::Tenant,
            "The MAM user scope is None: no MDM/MAM overlap",
        );
        if let Some(p) = mam {
            f = f.with_evidence(
                Evidence::new("graph", format!("MAM {}", scope_detail(p)))
                    .at(policy_location("mobileAppManagementPolicies", &p.id)),
            );
        } else {
            f = f.with_evidence(
                Evidence::new(
                    "graph",
                    format!("{} MAM policies, none with a scope", mam_list.len()),
                )
                .at("GET /beta/policies/mobileAppManagementPolicies"),
            );
        }
        return f.with_evidence(paths);
    };
    f_evidence.push(
        Evidence::new("graph", format!("MAM {}", scope_detail(mam)))
            .at(policy_location("mobileAppManagementPolicies", &mam.id)),
    );
    let overlap = match (mdm_scope, mam.scope()) {
        (PolicyScope::None, _) => Some(false),
        (PolicyScope::All, _) | (_, PolicyScope::All) => Some(true),
        (PolicyScope::Selected, PolicyScope::Selected) => {
            let mdm_groups: Vec<&str> = mdm
                .map(|p| p.included_groups.iter().map(|g| g.id.as_str()).collect())
                .unwrap_or_default();
            let mam_groups: Vec<&str> = mam.included_groups.iter().map(|g| g.id.as_str()).collect();
            if mdm_groups
                .iter()
                .any(|g| mam_groups.iter().any(|m| m.eq_ignore_ascii_case(g)))
            {
                Some(true)
            } else {
                // Per-group memberships cover every user: look for one in both scopes.
                snap.sources
                    .group_memberships
                    .data()
                    .filter(|m| m.all_users_resolved)
                    .map(|m| {
                        m.members.values().any(|gs| {
                            mdm_groups
                                .iter()
                                .any(|g| gs.contains(&g.to_ascii_lowercase()))
                                && mam_groups
                                    .iter()
                                    .any(|g| gs.contains(&g.to_ascii_lowercase()))
                        })
                    })
            }
        }
        _ => None,
    };
    let mut f = match overlap {
        Some(false) => ID.finding(Status::Pass,
            Subject::Tenant,
            "The MAM user scope does not overlap the MDM user scope",
        ),
        Some(true) | None => ID.finding(Status::Warn,
            Subject::Tenant,
            if overlap.is_some() {
                "MAM and MDM user scopes overlap: users in both get MAM instead of MDM on personal (Entra-registered) devices"
            } else {
                "MAM and MDM user scopes may overlap: users in both get MAM instead of MDM on personal (Entra-registered) devices"
            },
        )
        .with_remediation(
            "If personal Windows devices should enroll into MDM, remove those users from the MAM \
             (WIP) scope; corporate, Entra-joined and hybrid-joined devices are unaffected.",
        ),
    };
    for e in f_evidence {
        f = f.with_evidence(e);
    }
    f.with_evidence(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn test_ten006_mam_overlap() {
        let mut s = with_mdm(MDM_ALL);
        s.sources.mam_policies = Source::collected(
            "GET /beta/policies/mobileAppManagementPolicies",
            json(r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"none"}]"#),
        );
        assert_eq!(ten006_mam_scope_overlaps_mdm(&s).status, Status::Pass);
        s.sources.mam_policies = Source::collected(
            "GET /beta/policies/mobileAppManagementPolicies",
            json(r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"all"}]"#),
        );
        let f = ten006_mam_scope_overlaps_mdm(&s);
        assert_eq!(f.status, Status::Warn);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("co-managed devices still get MDM"))
        );
    }
}
