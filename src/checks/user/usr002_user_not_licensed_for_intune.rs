//! USR002: The user has an enabled Intune service plan.

use super::shared::{subject, user_location};
use crate::catalog::service_plans;
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Severity};
use crate::model::{Evidence, Finding, Status};
use crate::tenant::snapshot::{TenantSnapshot, User};

pub const META: CheckMeta = CheckMeta {
    id: "USR002",
    name: "user-not-licensed-for-intune",
    title: "The user has an enabled Intune service plan",
    severity: Severity::High,
    area: Area::User,
    permissions: USER_READ,
    what_it_checks: "Reads the user's assignedPlans and passes when a plan granting Intune MDM (INTUNE_A, \
        INTUNE_A_VL, INTUNE_EDU, INTUNE_SMBIZ, government variants) has capabilityStatus Enabled. \
        INTUNE_O365 alone and plans disabled in the license assignment do not count.",
    why_it_matters: "Intune refuses user-driven enrollment of an unlicensed user with MENROLL_E_USERLICENSE \
        (0x80180018). Enrollment paths: gpo-hybrid, entra-join, entra-registered and co-management with the \
        user token.",
    how_to_fix: "Assign a license that contains Intune Plan 1 in Microsoft 365 admin center > Users > Active \
        users > Licenses and apps, or through a licensing group in Entra admin center > Identity > Billing > \
        Licenses. Make sure the Intune service plan is switched on in that assignment, then wait for it to \
        apply (group licensing can take a while).",
    references: &[R_LICENSES_ASSIGN, R_SERVICE_PLANS, R_USER_API],
};

/// The user's usable Intune MDM plans: (plan name, capabilityStatus, how it was found).
fn usable_intune_plans(snap: &TenantSnapshot, user: &User) -> Vec<(&'static str, String, String)> {
    let skus = snap.sources.subscribed_skus.data();
    // SKUs (of this user) that contain a given plan, per the tenant's subscribedSkus.
    let skus_with = |plan_id: &str| -> Vec<&crate::tenant::snapshot::AssignedLicense> {
        user.assigned_licenses
            .iter()
            .filter(|l| {
                skus.is_some_and(|skus| {
                    skus.iter().any(|s| {
                        s.sku_id.eq_ignore_ascii_case(&l.sku_id)
                            && s.service_plans
                                .iter()
                                .any(|p| p.service_plan_id.eq_ignore_ascii_case(plan_id))
                    })
                })
            })
            .collect()
    };
    let disabled_everywhere = |plan_id: &str| {
        let holders = skus_with(plan_id);
        let considered: Vec<_> = if holders.is_empty() {
            user.assigned_licenses.iter().collect()
        } else {
            holders
        };
        !considered.is_empty()
            && considered.iter().all(|l| {
                l.disabled_plans
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(plan_id))
            })
    };
    let mut out = Vec::new();
    for p in &user.assigned_plans {
        let Some(plan) = service_plans::intune_plan_by_id(&p.service_plan_id) else {
            continue;
        };
        let status = p
            .capability_status
            .clone()
            .unwrap_or_else(|| "unknown".into());
        if (status.eq_ignore_ascii_case("Enabled") || status.eq_ignore_ascii_case("Warning"))
            && !disabled_everywhere(plan.id)
        {
            out.push((plan.name, status, "assignedPlans".to_string()));
        }
    }
    if user.assigned_plans.is_empty() {
        // Some exports carry licences only: derive the plans from the tenant's SKUs.
        for l in &user.assigned_licenses {
            let Some(sku) =
                skus.and_then(|s| s.iter().find(|s| s.sku_id.eq_ignore_ascii_case(&l.sku_id)))
            else {
                continue;
            };
            for sp in &sku.service_plans {
                let Some(plan) = service_plans::is_intune_mdm_plan(
                    &sp.service_plan_id,
                    sp.service_plan_name.as_deref(),
                ) else {
                    continue;
                };
                if l.disabled_plans
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(plan.id))
                {
                    continue;
                }
                let status = sku
                    .capability_status
                    .clone()
                    .unwrap_or_else(|| "unknown".into());
                if status.eq_ignore_ascii_case("Enabled") || status.eq_ignore_ascii_case("Warning")
                {
                    out.push((
                        plan.name,
                        status,
                        format!(
                            "licence {}",
                            sku.sku_part_number.as_deref().unwrap_or(&sku.sku_id)
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// `SPE_E3 (05e9a617-…)` when the tenant's SKUs name it, else the id.
fn sku_label(snap: &TenantSnapshot, sku_id: &str) -> String {
    snap.sources
        .subscribed_skus
        .data()
        .and_then(|skus| skus.iter().find(|s| s.sku_id.eq_ignore_ascii_case(sku_id)))
        .and_then(|s| s.sku_part_number.as_deref())
        .map(|name| format!("{name} ({sku_id})"))
        .unwrap_or_else(|| sku_id.to_string())
}

/// A group's display name with its id, when the snapshot resolved it.
fn group_label(snap: &TenantSnapshot, group_id: &str) -> String {
    match snap
        .sources
        .group_memberships
        .data()
        .map(|m| m.group_name(group_id))
    {
        Some(name) if !name.eq_ignore_ascii_case(group_id) => format!("{name} ({group_id})"),
        _ => group_id.to_string(),
    }
}

pub fn usr002_license(snap: &TenantSnapshot, user: &User) -> Finding {
    const ID: &CheckMeta = &META;
    let loc = format!(
        "{}?$select=assignedLicenses,assignedPlans,licenseAssignmentStates",
        user_location(user)
    );
    let usable = usable_intune_plans(snap, user);
    let mut evidence = Vec::new();
    for (name, status, how) in &usable {
        evidence.push(
            Evidence::new(
                "graph",
                format!("{name} capabilityStatus = {status} ({how})"),
            )
            .at(loc.clone()),
        );
    }
    for p in &user.assigned_plans {
        if let Some(plan) = service_plans::intune_plan_by_id(&p.service_plan_id)
            && !usable.iter().any(|(n, _, _)| *n == plan.name)
        {
            evidence.push(
                Evidence::new(
                    "graph",
                    format!(
                        "{} capabilityStatus = {} (not usable{})",
                        plan.name,
                        p.capability_status.as_deref().unwrap_or("unknown"),
                        if user.assigned_licenses.iter().any(|l| l
                            .disabled_plans
                            .iter()
                            .any(|d| d.eq_ignore_ascii_case(plan.id)))
                        {
                            ", disabled in disabledPlans"
                        } else {
                            ""
                        }
                    ),
                )
                .at(loc.clone()),
            );
        }
        if let Some(plan) = service_plans::insufficient_plan_by_id(&p.service_plan_id) {
            evidence.push(
                Evidence::new(
                    "graph",
                    format!(
                        "{} ({}) is assigned but does not license Intune MDM",
                        plan.name, plan.description
                    ),
                )
                .at(loc.clone()),
            );
        }
    }
    for s in user
        .license_assignment_states
        .iter()
        .filter(|s| s.has_error())
    {
        evidence.push(
            Evidence::new(
                "graph",
                format!(
                    "licenseAssignmentStates: SKU {} {} state {} error {}",
                    sku_label(snap, &s.sku_id),
                    s.assigned_by_group
                        .as_deref()
                        .map(|g| format!("from group {}", group_label(snap, g)))
                        .unwrap_or_else(|| "assigned directly".into()),
                    s.state.as_deref().unwrap_or("?"),
                    s.error.as_deref().unwrap_or("?")
                ),
            )
            .at(loc.clone()),
        );
    }
    let paths = paths_evidence(&ALL_PATHS, "");
    let enabled = usable
        .iter()
        .any(|(_, s, _)| s.eq_ignore_ascii_case("Enabled"));
    let f = if enabled {
        ID.finding(
            Status::Pass,
            subject(user),
            "The user holds an enabled Intune licence",
        )
    } else if !usable.is_empty() {
        ID.finding(
            Status::Warn,
            subject(user),
            "The user's Intune licence is in its grace period (Warning)",
        )
        .with_remediation(
            "Renew the subscription: when it lapses the user's devices stop enrolling.",
        )
    } else {
        if evidence.is_empty() {
            evidence.push(
                Evidence::new(
                    "graph",
                    format!(
                        "{} assigned licence(s), no Intune MDM service plan",
                        user.assigned_licenses.len()
                    ),
                )
                .at(loc.clone()),
            );
        }
        // Name the group-licensing error in the summary: it is the fix the admin needs.
        let licensing_errors: Vec<&str> = user
            .license_assignment_states
            .iter()
            .filter(|s| s.has_error())
            .filter_map(|s| s.error.as_deref())
            .filter(|e| !e.eq_ignore_ascii_case("none"))
            .collect();
        // An Intune plan that is there but Suspended/LockedOut means the subscription lapsed:
        // renewing it, not assigning another licence, is the fix.
        let lapsed: Vec<String> = user
            .assigned_plans
            .iter()
            .filter(|p| service_plans::intune_plan_by_id(&p.service_plan_id).is_some())
            .filter_map(|p| p.capability_status.clone())
            .filter(|st| {
                st.eq_ignore_ascii_case("Suspended") || st.eq_ignore_ascii_case("LockedOut")
            })
            .collect();
        let summary = if !lapsed.is_empty() && licensing_errors.is_empty() {
            format!(
                "The user's Intune plan is {} (the subscription lapsed or was cancelled): enrollment fails (0x80180018)",
                lapsed.join("/")
            )
        } else if licensing_errors.is_empty() {
            "The user has no enabled Intune licence: enrollment fails (0x80180018)".to_string()
        } else {
            format!(
                "The user has no enabled Intune licence (licence assignment failed: {}): enrollment fails (0x80180018)",
                licensing_errors.join(", ")
            )
        };
        ID.finding(Status::Fail, subject(user), summary)
            .with_remediation(
                "Assign a licence that includes Intune Plan 1 (INTUNE_A; e.g. Microsoft 365 E3/E5, \
             Business Premium, EMS) and make sure the Intune plan is not switched off in the \
             assignment; Basic Mobility and Security (INTUNE_O365) is not enough. Fix any \
             group-licensing error shown in the evidence (CountViolation: no free licences left; \
             MutuallyExclusiveViolation: conflicting SKUs; DependencyViolation: a required plan \
             is missing; UsageLocationNotAllowed/ProhibitedInUsageLocationViolation: set the \
             usage location), then reprocess the group's licences. A Suspended or LockedOut \
             plan means the subscription lapsed: renew it in the Microsoft 365 admin center.",
            )
    };
    f.with_all_evidence(evidence).with_evidence(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::json;
    use crate::checks::user::tests::*;
    use crate::checks::user::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn usr002_licence_variants() {
        let s = snap_with(&user_json(""), &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR002"),
            Status::Pass
        );
        let o365 = user_json("").replace(
            "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
            "882e1d05-acd1-4ccb-8708-6ee03664b117",
        );
        let s = snap_with(&o365, &[]);
        let f = usr002_license(&s, s.user("jdoe@contoso.com").unwrap_or(&User::default()));
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence.iter().any(|e| e.detail.contains("INTUNE_O365")));
        let warn = user_json("").replace("\"Enabled\"", "\"Warning\"");
        let s = snap_with(&warn, &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR002"),
            Status::Warn
        );
        let suspended = user_json(r#","licenseAssignmentStates":[{"skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","assignedByGroup":"g1","state":"Error","error":"CountViolation"}]"#)
            .replace("\"Enabled\"", "\"Suspended\"");
        let s = snap_with(&suspended, &[]);
        let f = usr002_license(&s, s.user("jdoe@contoso.com").unwrap_or(&User::default()));
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("CountViolation"))
        );
        assert!(f.summary.contains("CountViolation"), "{}", f.summary);
        let lapsed = user_json("").replace("\"Enabled\"", "\"Suspended\"");
        let s = snap_with(&lapsed, &[]);
        let f = usr002_license(&s, s.user("jdoe@contoso.com").unwrap_or(&User::default()));
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("Suspended"), "{}", f.summary);
        let disabled = user_json("").replace(
            r#""disabledPlans":[]"#,
            r#""disabledPlans":["c1ec4a95-1f05-45b3-a911-aa3fa01094f5"]"#,
        );
        let s = snap_with(&disabled, &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR002"),
            Status::Fail
        );
    }

    #[test]
    fn usr002_from_licences_only() {
        let only_licences = r#"{"id":"u1","userPrincipalName":"jdoe@contoso.com","assignedLicenses":[{"skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","disabledPlans":[]}]}"#;
        let mut s = snap_with(only_licences, &[]);
        s.sources.subscribed_skus = Source::collected(
            "GET /v1.0/subscribedSkus",
            json(
                r#"[{"id":"t_x","skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","skuPartNumber":"SPE_E3","capabilityStatus":"Enabled","servicePlans":[{"servicePlanId":"c1ec4a95-1f05-45b3-a911-aa3fa01094f5","servicePlanName":"INTUNE_A"}]}]"#,
            ),
        );
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR002"),
            Status::Pass
        );
    }
}
