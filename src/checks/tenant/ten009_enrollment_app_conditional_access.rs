//! TEN009: Conditional Access does not block the Intune enrollment apps.

use crate::catalog::well_known::{
    self, MICROSOFT_INTUNE_APP_ID, MICROSOFT_INTUNE_ENROLLMENT_APP_ID,
};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions};
use crate::model::{Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{ConditionalAccessPolicy, TenantSnapshot};

pub const META: CheckMeta = CheckMeta {
    id: "TEN009",
    name: "enrollment-app-conditional-access",
    title: "Conditional Access does not block the Intune enrollment apps",
    severity: Severity::High,
    area: Area::Tenant,
    permissions: Permissions {
        application: &["Policy.Read.All"],
        delegated: &["Policy.Read.All"],
        delegated_only: false,
    },
    what_it_checks: "Lists enabled Conditional Access policies that target \"Microsoft Intune Enrollment\" \
        (d4ebce55-015a-49b5-a083-c84d1797ae8c), \"Microsoft Intune\" (0000000a-0000-0000-c000-000000000000) or \
        all cloud apps, and reports those whose grant controls require MFA, a compliant or hybrid-joined \
        device, or accepted terms of use for Windows.",
    why_it_matters: "Automatic enrollment of a hybrid device runs silently with the user's token. If Conditional \
        Access demands MFA it cannot satisfy, enrollment fails with 0x8018002A (AAD log 0xCAA2000C) or quietly \
        never finishes; a compliant-device requirement cannot be met by a device that is not enrolled yet. \
        Enrollment paths: gpo-hybrid and co-management (user credential) above all; entra-join when the user \
        signed in without MFA.",
    how_to_fix: "Entra admin center > Protection > Conditional Access > Policies: in each reported policy, \
        exclude \"Microsoft Intune Enrollment\" (and \"Microsoft Intune\" where appropriate) under Target \
        resources, or drop the device-compliance requirement for them. Prefer sign-in with Windows Hello for \
        Business so the token already carries MFA, and replace enforced per-user MFA with Conditional Access.",
    references: &[R_COMANAGE_MONITOR, R_AUTO_TS, R_CA_POLICY_API],
};

/// The enrollment-relevant apps a CA policy targets (`All`, Intune, Intune Enrollment).
fn ca_targets_enrollment(p: &ConditionalAccessPolicy) -> Vec<&'static str> {
    let apps = &p.conditions.applications;
    let excluded = |id: &str| {
        apps.exclude_applications
            .iter()
            .any(|a| a.eq_ignore_ascii_case(id))
    };
    let all = apps
        .include_applications
        .iter()
        .any(|a| a.eq_ignore_ascii_case("All"));
    let mut hit = Vec::new();
    for id in [MICROSOFT_INTUNE_ENROLLMENT_APP_ID, MICROSOFT_INTUNE_APP_ID] {
        let included = all
            || apps
                .include_applications
                .iter()
                .any(|a| a.eq_ignore_ascii_case(id));
        if included && !excluded(id) {
            hit.push(well_known::app_name(id).unwrap_or(id));
        }
    }
    hit
}

/// Enrollment signs in with a modern client on Windows: legacy-auth-only or non-Windows
/// policies do not apply to it.
fn ca_applies_to_enrollment_clients(p: &ConditionalAccessPolicy) -> bool {
    let c = &p.conditions;
    let clients_ok = c.client_app_types.is_empty()
        || c.client_app_types.iter().any(|t| {
            matches!(
                t.to_ascii_lowercase().as_str(),
                "all" | "mobileappsanddesktopclients" | "browser"
            )
        });
    let platforms_ok = match &c.platforms {
        None => true,
        Some(pl) => {
            let has = |l: &[String], v: &str| l.iter().any(|x| x.eq_ignore_ascii_case(v));
            (pl.include_platforms.is_empty()
                || has(&pl.include_platforms, "all")
                || has(&pl.include_platforms, "windows"))
                && !has(&pl.exclude_platforms, "windows")
        }
    };
    clients_ok && platforms_ok
}

/// A policy that targets directory roles only (typically admins), not ordinary users.
fn ca_only_roles(p: &ConditionalAccessPolicy) -> bool {
    let u = &p.conditions.users;
    u.include_users
        .iter()
        .all(|x| x.eq_ignore_ascii_case("None"))
        && u.include_groups.is_empty()
        && !u.include_roles.is_empty()
}

/// A policy that names no member users at all (`None`, or guests only): enrolling employees
/// are not subject to it.
fn ca_targets_no_members(p: &ConditionalAccessPolicy) -> bool {
    let u = &p.conditions.users;
    u.include_users
        .iter()
        .all(|x| x.eq_ignore_ascii_case("None") || x.eq_ignore_ascii_case("GuestsOrExternalUsers"))
        && u.include_groups.is_empty()
        && u.include_roles.is_empty()
}

/// Controls that an enrolling device cannot satisfy or that break silent enrollment.
fn ca_problem_controls(p: &ConditionalAccessPolicy) -> (Vec<String>, Vec<String>) {
    let mut hard = Vec::new();
    let mut soft = Vec::new();
    if let Some(g) = &p.grant_controls {
        for c in &g.built_in_controls {
            match c.to_ascii_lowercase().as_str() {
                "compliantdevice" | "domainjoineddevice" | "block" => hard.push(c.clone()),
                "mfa" => soft.push(c.clone()),
                _ => {}
            }
        }
        if !g.terms_of_use.is_empty() {
            soft.push(format!("termsOfUse ({})", g.terms_of_use.len()));
        }
        if let Some(s) = &g.authentication_strength {
            soft.push(format!(
                "authenticationStrength {}",
                s.display_name.as_deref().unwrap_or(&s.id)
            ));
        }
        // With OR, a satisfiable alternative (e.g. MFA) lets enrollment through: downgrade.
        if g.operator
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("OR"))
            && g.built_in_controls.len() > hard.len()
            && !hard.is_empty()
        {
            soft.append(&mut hard);
        }
    }
    (hard, soft)
}

pub fn ten009_enrollment_app_conditional_access(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let (list, endpoint) = match snap.sources.conditional_access_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, Subject::Tenant, "the Conditional Access policies"),
    };
    let paths = paths_evidence(
        &ALL_PATHS,
        "silent enrollment (GPO, co-management) cannot answer an MFA or terms-of-use prompt",
    );
    let mut hard_hits = Vec::new();
    let mut soft_hits = Vec::new();
    let mut role_only = Vec::new();
    for p in list {
        let state = p.state.as_deref().unwrap_or("enabled");
        if !state.eq_ignore_ascii_case("enabled") {
            continue;
        }
        let apps = ca_targets_enrollment(p);
        if apps.is_empty() || !ca_applies_to_enrollment_clients(p) {
            continue;
        }
        if ca_targets_no_members(p) {
            role_only.push(
                Evidence::new(
                    "graph",
                    format!(
                        "Conditional Access \"{}\" includes no member users ({}): not counted",
                        p.display_name.as_deref().unwrap_or(&p.id),
                        if p.conditions.users.include_users.is_empty() {
                            "nobody".to_string()
                        } else {
                            p.conditions.users.include_users.join(", ")
                        }
                    ),
                )
                .at(format!(
                    "GET /v1.0/identity/conditionalAccess/policies/{}",
                    p.id
                )),
            );
            continue;
        }
        if ca_only_roles(p) {
            role_only.push(
                Evidence::new(
                    "graph",
                    format!(
                        "Conditional Access \"{}\" targets only {} directory role(s): not counted for enrolling users",
                        p.display_name.as_deref().unwrap_or(&p.id),
                        p.conditions.users.include_roles.len()
                    ),
                )
                .at(format!("GET /v1.0/identity/conditionalAccess/policies/{}", p.id)),
            );
            continue;
        }
        let (hard, soft) = ca_problem_controls(p);
        let line = |controls: &[String]| {
            Evidence::new(
                "graph",
                format!(
                    "Conditional Access \"{}\" (state {state}) targets {} and requires {}",
                    p.display_name.as_deref().unwrap_or(&p.id),
                    apps.join(" and "),
                    controls.join(", ")
                ),
            )
            .at(format!(
                "GET /v1.0/identity/conditionalAccess/policies/{}",
                p.id
            ))
        };
        if !hard.is_empty() {
            hard_hits.push(line(&hard));
        } else if !soft.is_empty() {
            soft_hits.push(line(&soft));
        }
    }
    let (status, summary, fix) = if !hard_hits.is_empty() {
        (
            Status::Fail,
            format!(
                "{} Conditional Access polic(ies) require a compliant or joined device (or block) for the Intune enrollment apps: enrollment cannot satisfy them (0x8018002A)",
                hard_hits.len()
            ),
            "Exclude \"Microsoft Intune Enrollment\" (d4ebce55-…) and \"Microsoft Intune\" from policies \
             that require a compliant or hybrid-joined device: a device cannot be compliant before it enrolls.",
        )
    } else if !soft_hits.is_empty() {
        (
            Status::Warn,
            format!(
                "{} Conditional Access polic(ies) require MFA or terms of use for the Intune enrollment apps",
                soft_hits.len()
            ),
            "Silent (GPO/co-management) enrollment cannot prompt: exclude the Intune enrollment apps, \
             or make sure the user's PRT carries MFA (Windows Hello) and terms of use are accepted.",
        )
    } else {
        (
            Status::Pass,
            "No enabled Conditional Access policy puts device or MFA requirements on the Intune enrollment apps".to_string(),
            "",
        )
    };
    let mut f = ID
        .finding(status, Subject::Tenant, summary)
        .with_remediation(fix);
    if hard_hits.is_empty() && soft_hits.is_empty() {
        f = f.with_evidence(
            Evidence::new(
                "graph",
                format!("{} Conditional Access policies read", list.len()),
            )
            .at(endpoint.to_string()),
        );
    }
    for e in hard_hits.into_iter().chain(soft_hits).chain(role_only) {
        f = f.with_evidence(e);
    }
    // The Intune Enrollment app severity is high for device-requirement policies.
    if f.status == Status::Fail {
        let severity = f.severity.max(Severity::High);
        f = f.with_severity(severity);
    }
    f.with_evidence(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn test_ten009_conditional_access() {
        let mut s = base();
        let ca = |apps: &str, controls: &str, state: &str| {
            format!(
                r#"[{{"id":"ca1","displayName":"Require compliant","state":"{state}",
            "conditions":{{"applications":{{"includeApplications":[{apps}],"excludeApplications":[]}},"users":{{"includeUsers":["All"]}}}},
            "grantControls":{{"operator":"OR","builtInControls":[{controls}],"termsOfUse":[]}}}}]"#
            )
        };
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(&ca("\"Office365\"", "\"compliantDevice\"", "enabled")),
        );
        assert_eq!(
            ten009_enrollment_app_conditional_access(&s).status,
            Status::Pass
        );
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(&ca(
                "\"d4ebce55-015a-49b5-a083-c84d1797ae8c\"",
                "\"compliantDevice\"",
                "enabled",
            )),
        );
        let f = ten009_enrollment_app_conditional_access(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence[0].detail.contains("Microsoft Intune Enrollment"));
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(&ca("\"All\"", "\"mfa\"", "enabled")),
        );
        assert_eq!(
            ten009_enrollment_app_conditional_access(&s).status,
            Status::Warn
        );
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(&ca("\"All\"", "\"mfa\"", "disabled")),
        );
        assert_eq!(
            ten009_enrollment_app_conditional_access(&s).status,
            Status::Pass
        );
        let legacy = ca("\"All\"", "\"block\"", "enabled").replace(
            "\"users\":{",
            "\"clientAppTypes\":[\"exchangeActiveSync\",\"other\"],\"users\":{",
        );
        s.sources.conditional_access_policies = Source::collected("GET /x", json(&legacy));
        assert_eq!(
            ten009_enrollment_app_conditional_access(&s).status,
            Status::Pass,
            "legacy-auth blocks do not hit enrollment"
        );
        let admins = ca("\"All\"", "\"mfa\"", "enabled").replace(
            "\"includeUsers\":[\"All\"]",
            "\"includeUsers\":[],\"includeRoles\":[\"62e90394-69f5-4237-9190-012177145e10\"]",
        );
        let guests = ca("\"All\"", "\"compliantDevice\"", "enabled").replace(
            "\"includeUsers\":[\"All\"]",
            "\"includeUsers\":[\"GuestsOrExternalUsers\"]",
        );
        s.sources.conditional_access_policies = Source::collected("GET /x", json(&guests));
        let f = ten009_enrollment_app_conditional_access(&s);
        assert_eq!(
            f.status,
            Status::Pass,
            "guest-only policies do not hit employees"
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("no member users"))
        );
        let group = ca("\"All\"", "\"compliantDevice\"", "enabled").replace(
            "\"includeUsers\":[\"All\"]",
            "\"includeUsers\":[],\"includeGroups\":[\"0b1c2d3e-0000-0000-0000-000000000000\"]",
        );
        s.sources.conditional_access_policies = Source::collected("GET /x", json(&group));
        assert_eq!(
            ten009_enrollment_app_conditional_access(&s).status,
            Status::Fail
        );
        s.sources.conditional_access_policies = Source::collected("GET /x", json(&admins));
        let f = ten009_enrollment_app_conditional_access(&s);
        assert_eq!(f.status, Status::Pass);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("directory role"))
        );
    }
}
