//! TEN005: MDM scope is configured on \.

use crate::catalog::well_known::{
    self, MICROSOFT_INTUNE_APP_ID, MICROSOFT_INTUNE_ENROLLMENT_APP_ID,
};
use crate::checks::common::scope_detail;
use crate::checks::common::*;
use crate::model::{Area, CheckMeta};
use crate::model::{EnrollmentPath, Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{PolicyScope, TenantSnapshot};

pub const META: CheckMeta = CheckMeta {
    id: "TEN005",
    name: "scope-set-on-intune-enrollment-app",
    title: "MDM scope is configured on \"Microsoft Intune\", not only on \"Microsoft Intune Enrollment\"",
    severity: Severity::High,
    area: Area::Tenant,
    permissions: APP_ONLY_UNSUPPORTED_SCOPE,
    what_it_checks: "Fails when the MDM policy of \"Microsoft Intune Enrollment\" \
        (appId d4ebce55-015a-49b5-a083-c84d1797ae8c) has a scope (All or Some) while the one of \"Microsoft \
        Intune\" is None. Delegated only.",
    why_it_matters: "Some tenants list both applications under Mobility (MDM and WIP). Automatic enrollment \
        reads the configuration of \"Microsoft Intune\"; a scope set only on the Enrollment app looks right in \
        the portal but gives the device no MDM configuration (0x8018002B / 0x80180031). Enrollment paths: \
        gpo-hybrid, entra-join and co-management.",
    how_to_fix: "Entra admin center > Identity > Mobility (MDM and WIP): open \"Microsoft Intune\" and set the \
        MDM user scope (All or Some with the right groups); then set \"Microsoft Intune Enrollment\" back to None \
        so only one configuration applies.",
    references: &[R_AUTO_TS, R_WINDOWS_ENROLL, R_MDM_POLICIES_API],
};

pub fn ten005_scope_set_on_intune_enrollment_app(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let (list, _) = match snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, Subject::Tenant, "the MDM user scope policies"),
    };
    let intune = find_policy(list, MICROSOFT_INTUNE_APP_ID);
    let enrollment = find_policy(list, MICROSOFT_INTUNE_ENROLLMENT_APP_ID);
    let paths = paths_evidence(
        &[
            EnrollmentPath::GpoHybrid,
            EnrollmentPath::EntraJoin,
            EnrollmentPath::EntraRegistered,
        ],
        "",
    );
    let intune_scope = intune.map(|p| p.scope()).unwrap_or(PolicyScope::None);
    let enroll_scope = enrollment.map(|p| p.scope()).unwrap_or(PolicyScope::None);
    let mut evidence = Vec::new();
    for (p, id) in [
        (intune, MICROSOFT_INTUNE_APP_ID),
        (enrollment, MICROSOFT_INTUNE_ENROLLMENT_APP_ID),
    ] {
        let loc = policy_location("mobileDeviceManagementPolicies", id);
        evidence.push(match p {
            Some(p) => Evidence::new("graph", scope_detail(p)).at(loc),
            None => Evidence::new(
                "graph",
                format!("no policy for {}", well_known::app_name(id).unwrap_or(id)),
            )
            .at(loc),
        });
    }
    let (status, summary, fix) = if enroll_scope != PolicyScope::None
        && intune_scope == PolicyScope::None
    {
        (
            Status::Fail,
            "The scope is set on \"Microsoft Intune Enrollment\" while \"Microsoft Intune\" is None: devices will not auto-enroll",
            "Set the MDM user scope on the \"Microsoft Intune\" entry (Entra admin center > Mobility \
             (MDM and WIP)), not on \"Microsoft Intune Enrollment\"; set the latter back to None.",
        )
    } else if enroll_scope != PolicyScope::None {
        (
            Status::Pass,
            "\"Microsoft Intune Enrollment\" also has a scope; harmless because \"Microsoft Intune\" carries the scope",
            "",
        )
    } else {
        (
            Status::Pass,
            "\"Microsoft Intune Enrollment\" has no scope of its own",
            "",
        )
    };
    ID.finding(status, Subject::Tenant, summary)
        .with_remediation(fix)
        .with_all_evidence(evidence)
        .with_evidence(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;

    #[test]
    fn test_ten005_enrollment_app() {
        assert_eq!(
            ten005_scope_set_on_intune_enrollment_app(&with_mdm(MDM_ALL)).status,
            Status::Pass
        );
        let swapped = MDM_ALL.replacen("\"all\"", "\"none\"", 1).replacen(
            "\"appliesTo\":\"none\",\"displayName\":\"Microsoft Intune Enrollment\"",
            "\"appliesTo\":\"all\",\"displayName\":\"Microsoft Intune Enrollment\"",
            1,
        );
        assert_eq!(
            ten005_scope_set_on_intune_enrollment_app(&with_mdm(&swapped)).status,
            Status::Fail
        );
    }
}
