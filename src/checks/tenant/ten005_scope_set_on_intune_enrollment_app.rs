//! TEN005: the MDM scope is on "Microsoft Intune", and on no other MDM application.

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
        Intune\" is None, and warns when both carry a scope or another MDM application listed under Mobility \
        also has one. Delegated only.",
    why_it_matters: "Some tenants list both applications under Mobility (MDM and WIP). Automatic enrollment \
        reads the configuration of \"Microsoft Intune\"; a scope set only on the Enrollment app looks right in \
        the portal but gives the device no MDM configuration (0x8018002B / 0x80180031). Enrollment paths: \
        gpo-hybrid, entra-join and co-management. A scope on both, or on a second MDM application, leaves Entra \
        with more than one MDM configuration: Windows Autopilot self-deploying and pre-provisioning then fail \
        with 0xC1036501 (memdocs autopilot troubleshooting-faq and known issues: \"multiple MDM configurations \
        in Microsoft Entra ID\").",
    how_to_fix: "Entra admin center > Identity > Mobility (MDM and WIP): open \"Microsoft Intune\" and set the \
        MDM user scope (All or Some with the right groups); then set \"Microsoft Intune Enrollment\" back to None \
        so only one configuration applies.",
    references: &[
        R_AUTO_TS,
        R_WINDOWS_ENROLL,
        R_MDM_POLICIES_API,
        R_AUTOPILOT_TS,
    ],
};

/// memdocs: Windows Autopilot troubleshooting (self-deploying mode error codes, 0xC1036501).
pub const R_AUTOPILOT_TS: &str = "https://learn.microsoft.com/autopilot/troubleshooting-faq";

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
    // Other MDM applications with a scope of their own (a third-party MDM listed under Mobility).
    let others: Vec<_> = list
        .iter()
        .filter(|p| {
            !p.id.eq_ignore_ascii_case(MICROSOFT_INTUNE_APP_ID)
                && !p
                    .id
                    .eq_ignore_ascii_case(MICROSOFT_INTUNE_ENROLLMENT_APP_ID)
                && p.scope() != PolicyScope::None
        })
        .collect();
    for p in &others {
        evidence.push(
            Evidence::new(
                "graph",
                format!("other MDM application: {}", scope_detail(p)),
            )
            .at(policy_location("mobileDeviceManagementPolicies", &p.id)),
        );
    }
    let (status, summary, fix) = if enroll_scope != PolicyScope::None
        && intune_scope == PolicyScope::None
    {
        (
            Status::Fail,
            "The scope is set on \"Microsoft Intune Enrollment\" while \"Microsoft Intune\" is None: devices will not auto-enroll".to_string(),
            "Set the MDM user scope on the \"Microsoft Intune\" entry (Entra admin center > Mobility \
             (MDM and WIP)), not on \"Microsoft Intune Enrollment\"; set the latter back to None.",
        )
    } else if enroll_scope != PolicyScope::None {
        (
            Status::Warn,
            "Both \"Microsoft Intune\" and \"Microsoft Intune Enrollment\" have an MDM scope: user-driven enrollment works, but Autopilot self-deploying and pre-provisioning fail with 0xC1036501 (multiple MDM configurations)".to_string(),
            "Set \"Microsoft Intune Enrollment\" back to None in Entra admin center > Mobility (MDM and WIP), \
             so that only \"Microsoft Intune\" carries the MDM user scope.",
        )
    } else if !others.is_empty() {
        (
            Status::Warn,
            format!(
                "{} other MDM application(s) also have an MDM user scope: a device-token enrollment (Autopilot self-deploying, pre-provisioning) can fail with 0xC1036501 (multiple MDM configurations)",
                others.len()
            ),
            "Set the MDM user scope of MDM applications you no longer use to None (Entra admin center > \
             Mobility (MDM and WIP)); keep the scope only on the MDM that should enroll the devices.",
        )
    } else {
        (
            Status::Pass,
            "\"Microsoft Intune Enrollment\" has no scope of its own".to_string(),
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
        let both = MDM_ALL.replacen(
            "\"appliesTo\":\"none\",\"displayName\":\"Microsoft Intune Enrollment\"",
            "\"appliesTo\":\"all\",\"displayName\":\"Microsoft Intune Enrollment\"",
            1,
        );
        assert_ne!(both, MDM_ALL);
        let f = ten005_scope_set_on_intune_enrollment_app(&with_mdm(&both));
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("0xC1036501"));
        let third = MDM_ALL.replacen(
            "\n    ]",
            r#",{"id":"11111111-2222-3333-4444-555555555555","appliesTo":"all","displayName":"Other MDM","includedGroups":[]}
    ]"#,
            1,
        );
        assert_ne!(third, MDM_ALL);
        let f = ten005_scope_set_on_intune_enrollment_app(&with_mdm(&third));
        assert_eq!(f.status, Status::Warn);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("other MDM application"))
        );
    }
}
