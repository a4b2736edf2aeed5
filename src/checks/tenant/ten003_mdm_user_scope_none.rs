//! TEN003: The Intune MDM user scope is not None.

use crate::catalog::well_known::MICROSOFT_INTUNE_APP_ID;
use crate::checks::common::scope_detail;
use crate::checks::common::*;
use crate::model::{Area, CheckMeta};
use crate::model::{Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{PolicyScope, TenantSnapshot};

pub const META: CheckMeta = CheckMeta {
    id: "TEN003",
    name: "mdm-user-scope-none",
    title: "The Intune MDM user scope is not None",
    severity: Severity::Critical,
    area: Area::Tenant,
    permissions: APP_ONLY_UNSUPPORTED_SCOPE,
    what_it_checks: "Reads the MDM policy of the \"Microsoft Intune\" application \
        (appId 0000000a-0000-0000-c000-000000000000, beta /policies/mobileDeviceManagementPolicies) and fails \
        when appliesTo is `none`. This data is served to delegated tokens only: with an app-only token the \
        check is skipped, not failed.",
    why_it_matters: "The MDM user scope decides which users Windows hands to Intune during automatic \
        enrollment. With scope None, no user gets MDM discovery information: dsregcmd shows no MdmUrl and \
        enrollment fails with 0x8018002B or 0x80180031. Enrollment paths: gpo-hybrid, entra-join and \
        co-management (user credential); entra-registered devices also need it for MDM.",
    how_to_fix: "Entra admin center > Identity > Mobility (MDM and WIP) > Microsoft Intune (or Intune admin \
        center > Devices > Enrollment > Windows > Automatic Enrollment): set MDM user scope to All, or to Some \
        with the groups that should enroll, and save. Run enroll-doctor with a delegated sign-in \
        (`enroll-doctor auth login --auth browser`, or `--auth device-code`, then the command again with \
        the same `--auth`) by an account that may read policies, such as Global Reader.",
    references: &[R_WINDOWS_ENROLL, R_AUTO_TS, R_MDM_POLICIES_API],
};

/// The check's note on the enrollment paths it matters for.
const PATHS_NOTE: &str = "co-management device-credential enrollment does not use the user scope";

pub fn ten003_mdm_user_scope_none(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let m = or_finding!(intune_mdm_policy(snap, ID, Subject::Tenant, PATHS_NOTE));
    let (list, policy, loc, paths) = (m.list, m.policy, m.location, m.paths);
    let Some(p) = policy else {
        return ID.finding(Status::Fail,
            Subject::Tenant,
            "No MDM policy for Microsoft Intune exists: automatic enrollment is not configured",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!("{} MDM policies, none with id {MICROSOFT_INTUNE_APP_ID}", list.len()),
            )
            .at(loc),
        )
        .with_evidence(paths)
        .with_remediation(
            "In Entra admin center > Mobility (MDM and WIP), add Microsoft Intune and set its MDM user scope.",
        );
    };
    let ev = Evidence::new("graph", scope_detail(p)).at(loc);
    match p.scope() {
        PolicyScope::All => ID.finding(Status::Pass, Subject::Tenant, "MDM user scope of Microsoft Intune is All")
            .with_evidence(ev)
            .with_evidence(paths),
        PolicyScope::Selected if p.included_groups.is_empty() => ID.finding(Status::Fail,
            Subject::Tenant,
            "MDM user scope of Microsoft Intune is Some, but no group is selected: nobody is in scope",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Add the groups of users whose devices should enroll to the MDM user scope, or set it to All.",
        ),
        PolicyScope::Selected => ID.finding(Status::Pass,
            Subject::Tenant,
            format!(
                "MDM user scope of Microsoft Intune is Some ({} group(s)): only their members enroll",
                p.included_groups.len()
            ),
        )
        .with_evidence(ev)
        .with_evidence(paths),
        PolicyScope::None => ID.finding(Status::Fail,
            Subject::Tenant,
            "MDM user scope of Microsoft Intune is None: no Windows device auto-enrolls",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Entra admin center > Mobility (MDM and WIP) > Microsoft Intune: set MDM user scope to All, \
             or to Some with the groups of users whose devices should enroll.",
        ),
        PolicyScope::Unknown => ID.finding(Status::Warn,
            Subject::Tenant,
            format!(
                "MDM user scope of Microsoft Intune has an unrecognised value ({})",
                p.applies_to.as_deref().unwrap_or("null")
            ),
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation("Open the policy in the Entra admin center and set the MDM user scope explicitly."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;
    use crate::tenant::snapshot::{MissingReason, Source};

    #[test]
    fn test_ten003_scope_values() {
        assert_eq!(
            ten003_mdm_user_scope_none(&with_mdm(MDM_ALL)).status,
            Status::Pass
        );
        let empty = MDM_ALL.replacen("\"all\"", "\"selected\"", 1);
        assert_eq!(
            ten003_mdm_user_scope_none(&with_mdm(&empty)).status,
            Status::Fail
        );
        let none = MDM_ALL.replacen("\"all\"", "\"none\"", 1);
        let f = ten003_mdm_user_scope_none(&with_mdm(&none));
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence[0].location.as_deref().is_some_and(|l| l.contains("/beta/policies/mobileDeviceManagementPolicies/0000000a-0000-0000-c000-000000000000")));
        let mut s = base();
        s.sources.mdm_policies = Source::Missing {
            reason: MissingReason::AppOnlyUnsupported,
        };
        let f = ten003_mdm_user_scope_none(&s);
        assert_eq!(f.status, Status::Skip);
        assert_eq!(
            f.skip_reason,
            Some(crate::model::SkipReason::AppOnlyUnsupported)
        );
    }
}
