//! AP008: a self-deploying or pre-provisioning device finds exactly one MDM configuration.

use super::facts::AutopilotFacts;
use super::{R_AUTOPILOT_KNOWN_ISSUES, R_AUTOPILOT_SELF_DEPLOYING};
use crate::catalog::well_known::{MICROSOFT_INTUNE_APP_ID, MICROSOFT_INTUNE_ENROLLMENT_APP_ID};
use crate::checks::common::{APP_ONLY_UNSUPPORTED_SCOPE, R_MDM_POLICIES_API, or_finding};
use crate::model::{Area, CheckMeta, Evidence, Finding, Severity, SkipReason, Status};
use crate::tenant::autopilot::DeploymentMode;
use crate::tenant::snapshot::PolicyScope;

pub const META: CheckMeta = CheckMeta {
    id: "AP008",
    name: "mdm-configuration-for-userless-autopilot",
    title: "A self-deploying or pre-provisioning device finds exactly one MDM configuration",
    severity: Severity::High,
    area: Area::Autopilot,
    permissions: APP_ONLY_UNSUPPORTED_SCOPE,
    what_it_checks: "For a device deployed without a user (a self-deploying profile, or the device's own \
        self-deploying or pre-provisioning bits), reads the MDM user scope of the applications under Entra ID \
        > Mobility (beta mobileDeviceManagementPolicies, delegated only). Fails when \"Microsoft Intune\" has \
        no MDM scope (the device finds no MDM configuration), or when \"Microsoft Intune Enrollment\" or \
        another MDM application has a scope as well: Entra ID then holds more than one MDM configuration and \
        the device cannot do the automatic MDM enrollment (0xC1036501; memdocs autopilot/known-issues.md, \
        \"Windows Autopilot self-deploying mode fails with an error code\"). TEN005 reports the same \
        configuration for the tenant; here it is a failure because this device's mode depends on it.",
    why_it_matters: "A user-driven enrollment is matched to the MDM application by its user's scope; a \
        device-token enrollment has no user to decide between two configurations, so self-deploying and the \
        pre-provisioning technician flow stop at device setup. Enrollment paths: entra-join through Autopilot \
        self-deploying or pre-provisioning.",
    how_to_fix: "Entra admin center > Identity > Mobility (MDM and WIP): keep the MDM user scope on \
        \"Microsoft Intune\" (All, or Some with the right groups) and set \"Microsoft Intune Enrollment\" and \
        any other MDM application to None; then reset the device and deploy again.",
    references: &[
        R_AUTOPILOT_KNOWN_ISSUES,
        R_AUTOPILOT_SELF_DEPLOYING,
        R_MDM_POLICIES_API,
    ],
};

/// AP008: one MDM configuration for a userless deployment.
pub fn evaluate(f: &AutopilotFacts) -> Finding {
    or_finding!(f.on_path(&META));
    let profile =
        f.cf.snap
            .sources
            .autopilot_profiles
            .data()
            .and_then(|p| f.profile(p));
    let device_bits = f.evidence.and_then(|e| e.needs_tpm_attestation());
    let userless = profile.is_some_and(|p| p.mode() == DeploymentMode::SelfDeploying)
        || device_bits == Some(true);
    let user_driven = profile.is_some_and(|p| p.mode() == DeploymentMode::UserDriven)
        || device_bits == Some(false);
    if !userless {
        if user_driven {
            return META.skip(
                f.subject.clone(),
                SkipReason::NotApplicable {
                    path: "user-driven Autopilot".into(),
                },
            );
        }
        return META.skip(
            f.subject.clone(),
            SkipReason::NoEvidence {
                collect: "the deployment mode (the profile that applies, or the device's CloudAssignedOobeConfig)".into(),
            },
        );
    }
    let (policies, ep) = match f.cf.snap.sources.mdm_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(&META, f.subject.clone(), "the MDM user scope policies"),
    };
    let scoped = |p: &&crate::tenant::snapshot::MobilityPolicy| {
        matches!(p.scope(), PolicyScope::All | PolicyScope::Selected)
    };
    let intune = policies
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(MICROSOFT_INTUNE_APP_ID));
    let others: Vec<String> = policies
        .iter()
        .filter(scoped)
        .filter(|p| !p.id.eq_ignore_ascii_case(MICROSOFT_INTUNE_APP_ID))
        .map(|p| {
            let name = p.display_name.as_deref().unwrap_or(&p.id);
            if p.id
                .eq_ignore_ascii_case(MICROSOFT_INTUNE_ENROLLMENT_APP_ID)
            {
                format!("\"{name}\" (the Intune Enrollment app)")
            } else {
                format!("\"{name}\"")
            }
        })
        .collect();
    let scopes: Vec<String> = policies
        .iter()
        .map(|p| {
            format!(
                "{}: appliesTo {}",
                p.display_name.as_deref().unwrap_or(&p.id),
                p.applies_to.as_deref().unwrap_or("(unset)")
            )
        })
        .collect();
    let ev = Evidence::new("graph", scopes.join("; ")).at(ep);
    let intune_scoped = intune.is_some_and(|p| scoped(&p));
    let fix = "Entra admin center > Identity > Mobility (MDM and WIP): keep the MDM user scope on \
        \"Microsoft Intune\" only and set the other MDM applications to None, then reset the device.";
    let out = if !intune_scoped {
        META.finding(
            Status::Fail,
            f.subject.clone(),
            "The device deploys without a user, and \"Microsoft Intune\" has no MDM user scope: it finds no MDM configuration to enroll with",
        )
        .with_remediation(fix)
    } else if !others.is_empty() {
        META.finding(
            Status::Fail,
            f.subject.clone(),
            format!(
                "The device deploys without a user, and besides \"Microsoft Intune\" {} also {} an MDM scope: more than one MDM configuration stops the enrollment (0xC1036501)",
                others.join(", "),
                if others.len() == 1 { "has" } else { "have" }
            ),
        )
        .with_remediation(fix)
    } else {
        META.finding(
            Status::Pass,
            f.subject.clone(),
            "Only \"Microsoft Intune\" has an MDM user scope: the userless deployment finds one MDM configuration",
        )
    };
    out.with_evidence(ev)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use serde_json::json;

    fn kiosk(
        enrollment_scope: &str,
        intune_scope: &str,
    ) -> crate::tenant::snapshot::TenantSnapshot {
        let mut snap = snapshot();
        set(
            &mut snap.sources.autopilot_profiles,
            json!([profile(
                "p1",
                "Kiosk",
                "2025-01-15T09:00:00Z",
                GROUP_A,
                "shared"
            )]),
        );
        set(
            &mut snap.sources.mdm_policies,
            json!([{"id": MICROSOFT_INTUNE_APP_ID, "displayName": "Microsoft Intune", "appliesTo": intune_scope},
                   {"id": MICROSOFT_INTUNE_ENROLLMENT_APP_ID, "displayName": "Microsoft Intune Enrollment",
                    "appliesTo": enrollment_scope}]),
        );
        snap
    }

    #[test]
    fn one_configuration_passes_two_fail_none_fails() {
        let r = report(Some(downloaded(TENANT, "Kiosk", 64 | 32, 0)));
        assert_status(&eval(&kiosk("none", "all"), &r, evaluate), Status::Pass);
        let f = eval(&kiosk("all", "all"), &r, evaluate);
        assert_status(&f, Status::Fail);
        assert!(f.summary.contains("0xC1036501"), "{}", f.summary);
        assert_status(&eval(&kiosk("none", "none"), &r, evaluate), Status::Fail);
    }

    #[test]
    fn user_driven_is_not_applicable_and_app_only_skips() {
        let r = report(Some(downloaded(TENANT, "Contoso user-driven", 0, 0)));
        assert_not_applicable(&eval(&snapshot(), &r, evaluate));
        let mut snap = kiosk("none", "all");
        snap.sources.mdm_policies = crate::tenant::snapshot::Source::Missing {
            reason: crate::tenant::snapshot::MissingReason::AppOnlyUnsupported,
        };
        let f = eval(
            &snap,
            &report(Some(downloaded(TENANT, "Kiosk", 64 | 32, 0))),
            evaluate,
        );
        assert_status(&f, Status::Skip);
    }
}
