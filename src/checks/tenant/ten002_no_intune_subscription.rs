//! TEN002: The tenant has an Intune subscription.

use crate::catalog::service_plans::{self, ServicePlan};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions};
use crate::model::{Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{SubscribedSku, TenantSnapshot, eq_ci};

pub const META: CheckMeta = CheckMeta {
    id: "TEN002",
    name: "no-intune-subscription",
    title: "The tenant has an Intune subscription",
    severity: Severity::Critical,
    area: Area::Tenant,
    permissions: Permissions {
        application: &["Organization.Read.All"],
        delegated: &["Organization.Read.All"],
        delegated_only: false,
    },
    what_it_checks: "Lists subscribedSkus and looks for a SKU that is enabled and contains an Intune MDM \
        service plan (INTUNE_A, INTUNE_A_VL, INTUNE_EDU, INTUNE_SMBIZ, government variants). INTUNE_O365 \
        (Basic Mobility and Security) does not count. A SKU whose units are all assigned is reported as \
        information, not as a failure.",
    why_it_matters: "Without any Intune plan in the tenant no user can be licensed for Intune, so every \
        user-driven enrollment ends in MENROLL_E_USERLICENSE (0x80180018). When all units are consumed, new \
        users cannot get a license either. Enrollment paths: all.",
    how_to_fix: "Buy or activate a subscription that includes Intune Plan 1 (Intune standalone, EMS E3/E5, \
        Microsoft 365 E3/E5/F3, Business Premium, A3/A5). Check it under Microsoft 365 admin center > Billing > \
        Your products, and add units when all of them are assigned.",
    references: &[R_LICENSES_ASSIGN, R_SERVICE_PLANS, R_SUBSCRIBED_SKUS_API],
};

fn sku_intune_plans(sku: &SubscribedSku) -> Vec<&'static ServicePlan> {
    sku.service_plans
        .iter()
        .filter(|p| {
            !eq_ci(p.provisioning_status.as_deref(), "Disabled")
                && !p
                    .applies_to
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case("Company"))
        })
        .filter_map(|p| {
            service_plans::is_intune_mdm_plan(&p.service_plan_id, p.service_plan_name.as_deref())
        })
        .collect()
}

fn free_units(sku: &SubscribedSku) -> Option<i64> {
    let prepaid = sku.prepaid_units.as_ref()?;
    let total = prepaid.enabled.unwrap_or(0) + prepaid.warning.unwrap_or(0);
    Some(total - sku.consumed_units.unwrap_or(0))
}

pub fn ten002_no_intune_subscription(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let (skus, endpoint) = match snap.sources.subscribed_skus.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, Subject::Tenant, "the subscribed SKUs"),
    };
    let mut usable: Vec<(&SubscribedSku, Vec<&'static ServicePlan>, bool)> = Vec::new();
    let mut evidence = Vec::new();
    let mut basic_only = Vec::new();
    for sku in skus {
        let plans = sku_intune_plans(sku);
        let status = sku.capability_status.as_deref().unwrap_or("unknown");
        let part = sku.sku_part_number.as_deref().unwrap_or(&sku.sku_id);
        if plans.is_empty() {
            if sku
                .service_plans
                .iter()
                .any(|p| service_plans::insufficient_plan_by_id(&p.service_plan_id).is_some())
            {
                basic_only.push(part.to_string());
            }
            continue;
        }
        let names: Vec<&str> = plans.iter().map(|p| p.name).collect();
        evidence.push(
            Evidence::new(
                "graph",
                format!(
                    "SKU {part} capabilityStatus = {status}, Intune plans [{}], units prepaid {} consumed {}",
                    names.join(", "),
                    sku.prepaid_units
                        .as_ref()
                        .and_then(|p| p.enabled)
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into()),
                    sku.consumed_units
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into()),
                ),
            )
            .at(format!("{endpoint} (id {})", sku.id)),
        );
        if status.eq_ignore_ascii_case("Enabled") || status.eq_ignore_ascii_case("Warning") {
            usable.push((sku, plans, status.eq_ignore_ascii_case("Warning")));
        }
    }
    let paths = paths_evidence(&ALL_PATHS, "");
    if usable.is_empty() {
        let mut f = ID.finding(Status::Fail,
            Subject::Tenant,
            "No subscribed SKU carries an enabled Intune MDM plan",
        )
        .with_remediation(
            "Buy or activate a subscription with Intune Plan 1 (Microsoft 365 E3/E5/F3, Business \
             Premium, EMS E3/E5 or Intune standalone). Basic Mobility and Security (INTUNE_O365) \
             does not enroll Windows devices into Intune.",
        );
        if !basic_only.is_empty() {
            f = f.with_evidence(
                Evidence::new(
                    "graph",
                    format!(
                        "only INTUNE_O365 (Basic Mobility and Security) found in: {}",
                        basic_only.join(", ")
                    ),
                )
                .at(endpoint.to_string()),
            );
        }
        if evidence.is_empty() && basic_only.is_empty() {
            f = f.with_evidence(
                Evidence::new(
                    "graph",
                    format!("{} SKUs, none with an Intune MDM service plan", skus.len()),
                )
                .at(endpoint.to_string()),
            );
        }
        for e in evidence {
            f = f.with_evidence(e);
        }
        return f.with_evidence(paths);
    }
    let all_warning = usable.iter().all(|(_, _, w)| *w);
    let no_free = usable
        .iter()
        .all(|(sku, _, _)| free_units(sku).is_some_and(|n| n <= 0));
    let (status, mut summary) = if all_warning {
        (
            Status::Warn,
            "Intune is licensed, but every Intune SKU is in its grace period (Warning)".to_string(),
        )
    } else {
        (
            Status::Pass,
            "The tenant has an enabled Intune subscription".to_string(),
        )
    };
    if no_free {
        // Not a tenant failure: users already licensed keep enrolling.
        summary.push_str("; no free licence units are left (info: new users cannot be licensed)");
    }
    let mut f = ID.finding(status, Subject::Tenant, summary);
    for e in evidence {
        f = f.with_evidence(e);
    }
    if all_warning {
        f = f.with_remediation("Renew the subscription before the grace period ends.");
    }
    f.with_evidence(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn ten002_intune_sku_passes_even_without_free_units_and_basic_mobility_fails() {
        let mut s = base();
        s.sources.subscribed_skus = Source::collected(
            "GET /v1.0/subscribedSkus",
            json(&format!("[{SKU_E3},{SKU_O365}]")),
        );
        let f = ten002_no_intune_subscription(&s);
        assert_eq!(f.status, Status::Pass);
        assert!(f.summary.contains("no free licence units"), "{}", f.summary);
        s.sources.subscribed_skus =
            Source::collected("GET /v1.0/subscribedSkus", json(&format!("[{SKU_O365}]")));
        let f = ten002_no_intune_subscription(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence.iter().any(|e| e.detail.contains("INTUNE_O365")));
        let suspended = SKU_E3.replace("\"Enabled\"", "\"Suspended\"");
        s.sources.subscribed_skus =
            Source::collected("GET /v1.0/subscribedSkus", json(&format!("[{suspended}]")));
        assert_eq!(ten002_no_intune_subscription(&s).status, Status::Fail);
    }
}
