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
    what_it_checks: "Reads the Conditional Access policies that are On (report-only and disabled policies are \
        never enforced and never counted) and keeps those that reach the enrollment sign-in: policies naming \
        \"Microsoft Intune Enrollment\" (d4ebce55-015a-49b5-a083-c84d1797ae8c) or \"Microsoft Intune\" \
        (0000000a-0000-0000-c000-000000000000), policies on All resources that do not exclude them, and \
        policies on the \"Register or join devices\" user action (urn:user:registerdevice). Each grant control \
        is weighed as enrollment meets it: \"Require device to be marked as compliant\" on All resources does \
        not apply to enrollment (Entra's own documentation, entra-docs \
        identity/conditional-access/policy-all-users-device-compliance.md: the control \"doesn't block Intune \
        enrollment\"), but a policy that names the enrollment apps or the register-device action and demands a \
        compliant device does; \"Require Microsoft Entra hybrid joined device\" is met on the GPO-hybrid path \
        and not on Entra join; block is a block; MFA, authentication strength and terms of use need an \
        interactive or MFA-backed sign-in; a control not weighed here (approved or compliant client app, \
        password change) makes the policy a warning rather than disappear. With \"require one of the selected \
        controls\" (OR) the easiest control decides, with \"require all\" (AND) the hardest. Conditions \
        that only Entra can evaluate at sign-in (named locations, device filters, sign-in or user risk) make a blocking policy a warning, \
        not a failure. deviceRegistrationPolicy.multiFactorAuthConfiguration = required is reported the same \
        way: Entra join and registration then need MFA.",
    why_it_matters: "Automatic enrollment of a hybrid device runs silently with the user's token. If Conditional \
        Access demands MFA it cannot satisfy, enrollment fails with 0x8018002A (AAD log 0xCAA2000C) or quietly \
        never finishes; a compliant-device requirement aimed at the enrollment apps themselves cannot be met \
        by a device that is not enrolled yet. The common baseline \"compliant device for all users and all \
        resources\" is not such a blocker, and reporting it as one would send admins to weaken a policy that \
        is fine. Enrollment paths: gpo-hybrid and co-management (user credential) above all; entra-join when \
        the user signed in without MFA.",
    how_to_fix: "Entra admin center > Protection > Conditional Access > Policies: in each reported policy, \
        exclude \"Microsoft Intune Enrollment\" (and \"Microsoft Intune\" where appropriate) under Target \
        resources, or drop the device requirement for them. Prefer sign-in with Windows Hello for Business so \
        the token already carries MFA, and replace enforced per-user MFA with Conditional Access. Use the \
        policy's What If tool for the conditions enroll-doctor cannot evaluate (locations, device filters, risk).",
    references: &[
        R_CA_COMPLIANT_ALL,
        R_CA_USER_ACTIONS,
        R_COMANAGE_MONITOR,
        R_AUTO_TS,
        R_CA_POLICY_API,
    ],
};

/// Entra: "Require device to be marked as compliant" for all users and all resources.
pub const R_CA_COMPLIANT_ALL: &str = "https://learn.microsoft.com/entra/identity/conditional-access/policy-all-users-device-compliance";
/// Entra: Conditional Access user actions (register or join devices).
pub const R_CA_USER_ACTIONS: &str = "https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-cloud-apps#user-actions";

const REGISTER_DEVICE_ACTION: &str = "urn:user:registerdevice";

/// How a policy reaches the enrollment sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// It names "Microsoft Intune Enrollment" or "Microsoft Intune".
    Named,
    /// All resources, the enrollment apps not excluded.
    AllResources,
    /// The "Register or join devices" user action.
    RegisterDevice,
}

/// The enrollment-relevant apps a CA policy targets and how.
fn ca_reach(p: &ConditionalAccessPolicy) -> Option<(Reach, Vec<&'static str>)> {
    let apps = &p.conditions.applications;
    if apps
        .include_user_actions
        .iter()
        .any(|a| a.eq_ignore_ascii_case(REGISTER_DEVICE_ACTION))
    {
        return Some((
            Reach::RegisterDevice,
            vec!["the \"Register or join devices\" action"],
        ));
    }
    let has = |list: &[String], id: &str| list.iter().any(|a| a.eq_ignore_ascii_case(id));
    let all = has(&apps.include_applications, "All");
    let mut named = Vec::new();
    let mut via_all = Vec::new();
    for id in [MICROSOFT_INTUNE_ENROLLMENT_APP_ID, MICROSOFT_INTUNE_APP_ID] {
        if has(&apps.exclude_applications, id) {
            continue;
        }
        let name = well_known::app_name(id).unwrap_or(id);
        if has(&apps.include_applications, id) {
            named.push(name);
        } else if all {
            via_all.push(name);
        }
    }
    if !named.is_empty() {
        Some((Reach::Named, named))
    } else if !via_all.is_empty() {
        Some((Reach::AllResources, via_all))
    } else {
        None
    }
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

/// Conditions only Entra can evaluate at sign-in: the policy may or may not apply.
fn ca_undecidable_conditions(p: &ConditionalAccessPolicy) -> Vec<&'static str> {
    let c = &p.conditions;
    let mut out = Vec::new();
    if let Some(l) = &c.locations {
        let everywhere = l
            .include_locations
            .iter()
            .all(|x| x.eq_ignore_ascii_case("All"))
            && l.exclude_locations.is_empty();
        if !everywhere {
            out.push("named locations");
        }
    }
    if c.devices
        .as_ref()
        .and_then(|d| d.device_filter.as_ref())
        .and_then(|f| f.rule.as_deref())
        .is_some_and(|r| !r.trim().is_empty())
    {
        out.push("a device filter");
    }
    let risky = |l: &[String]| l.iter().any(|x| !x.eq_ignore_ascii_case("none"));
    if risky(&c.sign_in_risk_levels) {
        out.push("sign-in risk");
    }
    if risky(&c.user_risk_levels) {
        out.push("user risk");
    }
    out
}

/// How enrollment meets one grant control, from easiest to hardest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Demand {
    /// Enrollment is not held to it (compliant device on All resources).
    Exempt,
    /// Met on some enrollment paths only (hybrid-joined device: GPO-hybrid yes, Entra join no).
    PathDependent,
    /// Needs an interactive or MFA-backed sign-in (MFA, strength, terms of use).
    Prompt,
    /// A control enroll-doctor does not weigh (approved or compliant client app, password
    /// change, a future control): whether enrollment meets it is not decided here.
    Unknown,
    /// Cannot be met by a device that is enrolling (block, compliant device on the enrollment apps).
    Blocking,
}

/// Each grant control of the policy with how enrollment meets it (unknown controls are left out).
fn ca_demands(p: &ConditionalAccessPolicy, reach: Reach) -> Vec<(String, Demand)> {
    let mut out = Vec::new();
    let Some(g) = &p.grant_controls else {
        return out;
    };
    for c in &g.built_in_controls {
        let d = match c.to_ascii_lowercase().as_str() {
            "block" => Demand::Blocking,
            "compliantdevice" if reach == Reach::AllResources => Demand::Exempt,
            "compliantdevice" => Demand::Blocking,
            "domainjoineddevice" => Demand::PathDependent,
            "mfa" => Demand::Prompt,
            // Never silently dropped: with AND it could be the hardest control.
            _ => Demand::Unknown,
        };
        out.push((c.clone(), d));
    }
    for t in &g.terms_of_use {
        out.push((format!("termsOfUse {t}"), Demand::Prompt));
    }
    if let Some(s) = &g.authentication_strength {
        out.push((
            format!(
                "authenticationStrength {}",
                s.display_name.as_deref().unwrap_or(&s.id)
            ),
            Demand::Prompt,
        ));
    }
    out
}

/// The policy's demand on enrollment: with OR the easiest control decides, with AND the hardest.
fn ca_policy_demand(p: &ConditionalAccessPolicy, demands: &[(String, Demand)]) -> Option<Demand> {
    let it = demands.iter().map(|(_, d)| *d);
    if ca_is_or(p) { it.min() } else { it.max() }
}

/// "Require one of the selected controls".
pub fn ca_is_or(p: &ConditionalAccessPolicy) -> bool {
    p.grant_controls
        .as_ref()
        .and_then(|g| g.operator.as_deref())
        .is_some_and(|o| o.eq_ignore_ascii_case("OR"))
}

/// An enforced policy that reaches the enrollment sign-in, for the per-user evaluation
/// (USR009): what it targets, each grant control with how enrollment meets it, and the
/// conditions only Entra can decide. Who it applies to is left to the caller.
pub struct EnrollmentPolicy<'a> {
    pub policy: &'a ConditionalAccessPolicy,
    /// What it reaches, in words (`Microsoft Intune Enrollment (through All resources)`).
    pub reaches: String,
    pub controls: Vec<(String, Demand)>,
    pub undecidable: Vec<&'static str>,
    /// Reached through the "Register or join devices" user action only: Entra join and
    /// registration go through it, hybrid join does not.
    pub register_device: bool,
}

impl EnrollmentPolicy<'_> {
    pub fn name(&self) -> &str {
        policy_name(self.policy)
    }
    pub fn location(&self) -> String {
        policy_at(self.policy)
    }
}

/// The enforced (On) policies that reach the enrollment sign-in from a modern Windows client
/// and carry a grant control enrollment has to meet.
pub fn enrollment_policies(list: &[ConditionalAccessPolicy]) -> Vec<EnrollmentPolicy<'_>> {
    list.iter()
        .filter(|p| {
            p.state
                .as_deref()
                .unwrap_or("enabled")
                .eq_ignore_ascii_case("enabled")
                && ca_applies_to_enrollment_clients(p)
        })
        .filter_map(|p| {
            let (reach, apps) = ca_reach(p)?;
            let controls = ca_demands(p, reach);
            if controls.is_empty() {
                return None;
            }
            Some(EnrollmentPolicy {
                policy: p,
                reaches: format!(
                    "{}{}",
                    apps.join(" and "),
                    if reach == Reach::AllResources {
                        " (through All resources)"
                    } else {
                        ""
                    }
                ),
                controls,
                undecidable: ca_undecidable_conditions(p),
                register_device: reach == Reach::RegisterDevice,
            })
        })
        .collect()
}

fn policy_at(p: &ConditionalAccessPolicy) -> String {
    format!("GET /v1.0/identity/conditionalAccess/policies/{}", p.id)
}

fn policy_name(p: &ConditionalAccessPolicy) -> &str {
    p.display_name.as_deref().unwrap_or(&p.id)
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
    let mut blocking = Vec::new();
    let mut warnings = Vec::new();
    let mut not_counted = Vec::new();
    for p in list {
        let state = p.state.as_deref().unwrap_or("enabled");
        let Some((reach, apps)) = ca_reach(p) else {
            continue;
        };
        if !state.eq_ignore_ascii_case("enabled") {
            if state.eq_ignore_ascii_case("enabledForReportingButNotEnforced") {
                not_counted.push(
                    Evidence::new(
                        "graph",
                        format!(
                            "Conditional Access \"{}\" is report-only: never enforced, not counted",
                            policy_name(p)
                        ),
                    )
                    .at(policy_at(p)),
                );
            }
            continue;
        }
        if !ca_applies_to_enrollment_clients(p) {
            continue;
        }
        if ca_targets_no_members(p) {
            not_counted.push(
                Evidence::new(
                    "graph",
                    format!(
                        "Conditional Access \"{}\" includes no member users ({}): not counted",
                        policy_name(p),
                        if p.conditions.users.include_users.is_empty() {
                            "nobody".to_string()
                        } else {
                            p.conditions.users.include_users.join(", ")
                        }
                    ),
                )
                .at(policy_at(p)),
            );
            continue;
        }
        if ca_only_roles(p) {
            not_counted.push(
                Evidence::new(
                    "graph",
                    format!(
                        "Conditional Access \"{}\" targets only {} directory role(s): not counted for enrolling users",
                        policy_name(p),
                        p.conditions.users.include_roles.len()
                    ),
                )
                .at(policy_at(p)),
            );
            continue;
        }
        let demands = ca_demands(p, reach);
        let Some(demand) = ca_policy_demand(p, &demands) else {
            continue;
        };
        let controls: Vec<&str> = demands.iter().map(|(c, _)| c.as_str()).collect();
        let joiner = if p
            .grant_controls
            .as_ref()
            .and_then(|g| g.operator.as_deref())
            .is_some_and(|o| o.eq_ignore_ascii_case("OR"))
        {
            " or "
        } else {
            " and "
        };
        let undecidable = ca_undecidable_conditions(p);
        let mut detail = format!(
            "Conditional Access \"{}\" targets {}{} and requires {}",
            policy_name(p),
            apps.join(" and "),
            if reach == Reach::AllResources {
                " (through All resources)"
            } else {
                ""
            },
            controls.join(joiner)
        );
        match demand {
            Demand::Exempt => {
                detail.push_str(
                    ": a compliant-device requirement on All resources does not block Intune enrollment, not counted",
                );
                not_counted.push(Evidence::new("graph", detail).at(policy_at(p)));
                continue;
            }
            Demand::PathDependent => detail.push_str(
                ": met by a hybrid-joined device (GPO-hybrid path), not by an Entra-joined or registered one",
            ),
            Demand::Prompt => detail.push_str(": silent enrollment cannot prompt for it"),
            Demand::Unknown => detail.push_str(
                ": a grant control whose effect on enrollment is not weighed here (check it with What If)",
            ),
            Demand::Blocking => {}
        }
        if !undecidable.is_empty() {
            detail.push_str(&format!(
                "; applies only under {} (decided by Entra at sign-in, not here)",
                undecidable.join(", ")
            ));
        }
        let e = Evidence::new("graph", detail).at(policy_at(p));
        if demand == Demand::Blocking && undecidable.is_empty() {
            blocking.push(e);
        } else {
            warnings.push(e);
        }
    }
    if let Ok((drp, at)) = snap.sources.device_registration_policy.get()
        && drp
            .multi_factor_auth_configuration
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("required"))
    {
        warnings.push(
            Evidence::new(
                "graph",
                "deviceRegistrationPolicy multiFactorAuthConfiguration = required: Entra join and registration need MFA (hybrid join does not)",
            )
            .at(at.to_string()),
        );
    }
    let (status, summary, fix) = if !blocking.is_empty() {
        (
            Status::Fail,
            format!(
                "{} Conditional Access polic(ies) block the Intune enrollment sign-in or demand a compliant device of it: enrollment cannot satisfy them (0x8018002A)",
                blocking.len()
            ),
            "Exclude \"Microsoft Intune Enrollment\" (d4ebce55-…) and \"Microsoft Intune\" from the reported \
             policies, or drop their device requirement: a device cannot be compliant before it enrolls.",
        )
    } else if !warnings.is_empty() {
        (
            Status::Warn,
            format!(
                "{} requirement(s) on the enrollment sign-in that silent or Entra-join enrollment may not meet (MFA, terms of use, hybrid-joined device, or conditions decided at sign-in)",
                warnings.len()
            ),
            "Silent (GPO/co-management) enrollment cannot prompt: exclude the Intune enrollment apps, \
             or make sure the user's PRT carries MFA (Windows Hello) and terms of use are accepted; check \
             location, device-filter and risk conditions with Conditional Access What If.",
        )
    } else {
        (
            Status::Pass,
            "No enforced Conditional Access policy puts a requirement on the enrollment sign-in that enrollment cannot meet".to_string(),
            "",
        )
    };
    let mut f = ID
        .finding(status, Subject::Tenant, summary)
        .with_remediation(fix);
    if blocking.is_empty() && warnings.is_empty() {
        f = f.with_evidence(
            Evidence::new(
                "graph",
                format!("{} Conditional Access policies read", list.len()),
            )
            .at(endpoint.to_string()),
        );
    }
    for e in blocking.into_iter().chain(warnings).chain(not_counted) {
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
        let f = ten009_enrollment_app_conditional_access(&s);
        assert_eq!(
            f.status,
            Status::Pass,
            "compliant device on All resources does not block enrollment"
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("does not block Intune enrollment"))
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

    fn policies(s: &mut TenantSnapshot, body: &str) -> Finding {
        s.sources.conditional_access_policies = Source::collected("GET /x", json(body));
        ten009_enrollment_app_conditional_access(s)
    }

    fn policy(
        apps: &str,
        actions: &str,
        op: &str,
        controls: &str,
        extra: &str,
        state: &str,
    ) -> String {
        format!(
            r#"[{{"id":"p","displayName":"P","state":"{state}",
            "conditions":{{"applications":{{"includeApplications":[{apps}],"includeUserActions":[{actions}]}},
              "users":{{"includeUsers":["All"]}}{extra}}},
            "grantControls":{{"operator":"{op}","builtInControls":[{controls}]}}}}]"#
        )
    }

    #[test]
    fn enterprise_baseline_does_not_fail() {
        let mut s = base();
        // Compliant device for all users and all resources: Entra exempts enrollment.
        let f = policies(
            &mut s,
            &policy(r#""All""#, "", "OR", r#""compliantDevice""#, "", "enabled"),
        );
        assert_eq!(f.status, Status::Pass);
        // Compliant OR hybrid joined on All resources: the compliant alternative is exempt.
        let f = policies(
            &mut s,
            &policy(
                r#""All""#,
                "",
                "OR",
                r#""compliantDevice","domainJoinedDevice""#,
                "",
                "enabled",
            ),
        );
        assert_eq!(f.status, Status::Pass);
        // AND with a hybrid-joined device: path dependent, a warning.
        let f = policies(
            &mut s,
            &policy(
                r#""All""#,
                "",
                "AND",
                r#""compliantDevice","domainJoinedDevice""#,
                "",
                "enabled",
            ),
        );
        assert_eq!(f.status, Status::Warn);
        assert!(f.evidence[0].detail.contains("GPO-hybrid"));
        // Report-only never counts, even when it would block.
        let f = policies(
            &mut s,
            &policy(
                r#""d4ebce55-015a-49b5-a083-c84d1797ae8c""#,
                "",
                "OR",
                r#""block""#,
                "",
                "enabledForReportingButNotEnforced",
            ),
        );
        assert_eq!(f.status, Status::Pass);
        assert!(f.evidence.iter().any(|e| e.detail.contains("report-only")));
    }

    #[test]
    fn named_apps_and_register_action_with_compliant_device_fail() {
        let mut s = base();
        let f = policies(
            &mut s,
            &policy(
                r#""0000000a-0000-0000-c000-000000000000""#,
                "",
                "AND",
                r#""compliantDevice""#,
                "",
                "enabled",
            ),
        );
        assert_eq!(f.status, Status::Fail);
        let f = policies(
            &mut s,
            &policy(
                "",
                r#""urn:user:registerdevice""#,
                "AND",
                r#""compliantDevice""#,
                "",
                "enabled",
            ),
        );
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence[0].detail.contains("Register or join devices"));
        // MFA on the register action is a prompt, not a block.
        let f = policies(
            &mut s,
            &policy(
                "",
                r#""urn:user:registerdevice""#,
                "AND",
                r#""mfa""#,
                "",
                "enabled",
            ),
        );
        assert_eq!(f.status, Status::Warn);
        // OR with MFA: the easier control decides.
        let f = policies(
            &mut s,
            &policy(
                r#""d4ebce55-015a-49b5-a083-c84d1797ae8c""#,
                "",
                "OR",
                r#""compliantDevice","mfa""#,
                "",
                "enabled",
            ),
        );
        assert_eq!(f.status, Status::Warn);
        // AND with MFA: the harder control decides.
        let f = policies(
            &mut s,
            &policy(
                r#""d4ebce55-015a-49b5-a083-c84d1797ae8c""#,
                "",
                "AND",
                r#""compliantDevice","mfa""#,
                "",
                "enabled",
            ),
        );
        assert_eq!(f.status, Status::Fail);
    }

    #[test]
    fn undecidable_conditions_warn_instead_of_fail() {
        let mut s = base();
        let block_all = |extra: &str| policy(r#""All""#, "", "OR", r#""block""#, extra, "enabled");
        let f = policies(&mut s, &block_all(""));
        assert_eq!(f.status, Status::Fail);
        let f = policies(
            &mut s,
            &block_all(
                r#","locations":{"includeLocations":["All"],"excludeLocations":["AllTrusted"]}"#,
            ),
        );
        assert_eq!(f.status, Status::Warn);
        assert!(f.evidence[0].detail.contains("named locations"));
        let f = policies(&mut s, &block_all(r#","signInRiskLevels":["high"]"#));
        assert_eq!(f.status, Status::Warn);
        let f = policies(
            &mut s,
            &block_all(
                r#","devices":{"deviceFilter":{"mode":"include","rule":"device.model -eq \"X\""}}"#,
            ),
        );
        assert_eq!(f.status, Status::Warn);
        assert!(f.evidence[0].detail.contains("device filter"));
        // Locations All with nothing excluded applies everywhere: still a block.
        let f = policies(
            &mut s,
            &block_all(r#","locations":{"includeLocations":["All"]}"#),
        );
        assert_eq!(f.status, Status::Fail);
    }

    #[test]
    fn registration_mfa_is_reported() {
        let mut s = base();
        let mut drp: crate::tenant::snapshot::DeviceRegistrationPolicy =
            json(r#"{"id":"deviceRegistrationPolicy","multiFactorAuthConfiguration":"required"}"#);
        s.sources.device_registration_policy =
            Source::collected("GET /v1.0/policies/deviceRegistrationPolicy", drp.clone());
        let f = policies(&mut s, "[]");
        assert_eq!(f.status, Status::Warn);
        assert!(
            f.evidence[0]
                .detail
                .contains("multiFactorAuthConfiguration")
        );
        drp.multi_factor_auth_configuration = Some("notRequired".into());
        s.sources.device_registration_policy = Source::collected("GET /x", drp);
        assert_eq!(policies(&mut s, "[]").status, Status::Pass);
    }
}
