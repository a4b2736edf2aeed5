//! USR008: The user's UPN suffix is a verified, routable domain.

use super::facts::PresentedUpn;
use super::shared::subject;
use crate::catalog::well_known::NON_ROUTABLE;
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions, Severity};
use crate::model::{Evidence, Finding, Status};
use crate::tenant::snapshot::{TenantSnapshot, User};

pub const META: CheckMeta = CheckMeta {
    id: "USR008",
    name: "upn-suffix-not-verified",
    title: "The user's UPN suffix is a verified, routable domain",
    severity: Severity::High,
    area: Area::User,
    permissions: Permissions {
        application: &["User.Read.All", "Organization.Read.All"],
        delegated: &["User.Read.All", "Organization.Read.All"],
        delegated_only: false,
    },
    what_it_checks: "Takes the domain part of the user's UPN and fails when it is not among the tenant's \
        verified domains, or is a non-routable suffix such as .local. With a device report it also tests the \
        UPN the device itself presents (event 91, the UPN of the Intune Enrollments key, dsregcmd's executing \
        account) when it differs from the cloud UPN: Entra Connect replaces a non-routable on-premises UPN \
        such as joe@contoso.local with joe@contoso.onmicrosoft.com in the cloud, so the cloud UPN passes while \
        the device, signed in as joe@contoso.local, fails with 0x8018002B (SupportArticles \
        troubleshoot-windows-enrollment-errors.md).",
    why_it_matters: "Automatic enrollment with a UPN whose suffix is unverified or non-routable fails with \
        event 76 and 0x8018002B, even when licensing and scope are right. Enrollment paths: gpo-hybrid and \
        co-management (synced on-premises UPNs) mostly; entra-join when cloud UPNs use such a suffix.",
    how_to_fix: "Verify the domain in Entra admin center > Identity > Settings > Domain names, or give the user \
        a UPN in a verified domain: add the routable suffix in Active Directory Domains and Trusts, change the \
        user's UPN, and let Entra Connect sync it. Then sign out and back in on the device.",
    references: &[R_8018002B, R_ERRORS_TS, R_ORGANIZATION_API],
};

/// Why a UPN suffix cannot be used for enrollment, if it cannot.
fn suffix_problem(domain: &str, verified: &[String]) -> Option<&'static str> {
    let tld = domain.rsplit('.').next().unwrap_or("");
    if domain.is_empty() || NON_ROUTABLE.contains(&tld) || !domain.contains('.') {
        Some("is not routable")
    } else if !verified.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        Some("is not a verified domain of the tenant")
    } else {
        None
    }
}

fn domain_of(upn: &str) -> String {
    upn.rsplit_once('@')
        .map(|(_, d)| d.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

pub fn usr008_upn_suffix(snap: &TenantSnapshot, user: &User, presented: &PresentedUpn) -> Finding {
    let cloud = usr008_cloud_upn(snap, user);
    let (device_upn, device_ev, strong) = match presented {
        PresentedUpn::NoDevice => return cloud,
        // The cloud UPN passing says nothing about the one the device signs in with: the
        // suffix stays a possible cause of the device's 0x8018002B.
        PresentedUpn::NotInEvidence if cloud.status == Status::Pass => {
            return META
                .finding(
                    Status::Skip,
                    subject(user),
                    format!(
                        "The cloud UPN {} is in a verified domain, but the device's evidence names no UPN \
                         (no event 91, Intune Enrollments UPN or dsregcmd executing account), so the suffix \
                         it signs in with is not known",
                        user.user_principal_name
                    ),
                )
                .with_all_evidence(cloud.evidence)
                .with_remediation(
                    "Collect the device's DeviceManagement-Enterprise-Diagnostics-Provider/Admin log (event 91) \
                     or run dsregcmd /status as the signed-in user, and compare the UPN there with the cloud UPN.",
                );
        }
        PresentedUpn::NotInEvidence => return cloud,
        PresentedUpn::Seen(upn, ev, strong) => (upn, ev, *strong),
    };
    let Ok((org, _)) = snap.sources.organization.get() else {
        return cloud;
    };
    let device_domain = domain_of(device_upn);
    if cloud.status != Status::Pass || device_domain == domain_of(&user.user_principal_name) {
        return cloud;
    }
    let verified: Vec<String> = org
        .verified_domains
        .iter()
        .map(|d| d.name.clone())
        .collect();
    match suffix_problem(&device_domain, &verified) {
        None => cloud.with_evidence(device_ev.clone()),
        // dsregcmd's executing account may be the help desk's, not the enrolling user's: it
        // can point at the suffix, not prove it.
        Some(problem) if !strong => META
            .finding(
                Status::Warn,
                subject(user),
                format!(
                    "The account that ran dsregcmd on the device is {device_upn}, whose suffix {device_domain} {problem}; if the user signs in with it, enrollment fails with 0x8018002B (the cloud UPN {} is fine)",
                    user.user_principal_name
                ),
            )
            .with_all_evidence(cloud.evidence)
            .with_evidence(device_ev.clone())
            .with_remediation(
                "Check which UPN the user signs in with on the device (event 91 of the \
                 DeviceManagement-Enterprise-Diagnostics-Provider/Admin log names it); if it is the \
                 unverified one, sign in with the cloud UPN or give the user a routable suffix.",
            ),
        Some(problem) => META
            .finding(
                Status::Fail,
                subject(user),
                format!(
                    "The device signs in as {device_upn}, whose suffix {device_domain} {problem} (0x8018002B), although the cloud UPN {} is fine",
                    user.user_principal_name
                ),
            )
            .with_all_evidence(cloud.evidence)
            .with_evidence(device_ev.clone())
            .with_remediation(
                "Sign in on the device with the UPN in the verified domain (the cloud UPN), or add the \
                 routable suffix on-premises, change the user's UPN to it and let Entra Connect sync it; \
                 then sign out and in so the enrollment uses the new UPN.",
            ),
    }
}

fn usr008_cloud_upn(snap: &TenantSnapshot, user: &User) -> Finding {
    const ID: &CheckMeta = &META;
    let (org, endpoint) = match snap.sources.organization.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, subject(user), "the organization's verified domains"),
    };
    let upn = &user.user_principal_name;
    let domain = upn
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let verified = org
        .verified_domains
        .iter()
        .any(|d| d.name.eq_ignore_ascii_case(&domain));
    let tld = domain.rsplit('.').next().unwrap_or("");
    let ev = Evidence::new(
        "graph",
        format!(
            "UPN suffix {domain}; verified domains: {}",
            org.verified_domains
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .at(endpoint.to_string());
    let paths = paths_evidence(&ALL_PATHS, "");
    if domain.is_empty() || NON_ROUTABLE.contains(&tld) || !domain.contains('.') {
        return ID.finding(Status::Fail,
            subject(user),
            format!("The UPN suffix \"{domain}\" is not routable: enrollment discovery fails (0x8018002B)"),
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Give the user a UPN in a verified, routable domain (add a UPN suffix on-premises and \
             resynchronise).",
        );
    }
    if verified {
        ID.finding(
            Status::Pass,
            subject(user),
            format!("The UPN suffix {domain} is a verified domain"),
        )
        .with_evidence(ev)
    } else {
        ID.finding(
            Status::Fail,
            subject(user),
            format!("The UPN suffix {domain} is not a verified domain of the tenant (0x8018002B)"),
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Verify the domain in Entra ID or change the user's UPN suffix to a verified domain.",
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::user::tests::*;
    use crate::checks::user::*;
    use crate::model::Status;
    use crate::tenant::snapshot::UserScope;

    #[test]
    fn the_upn_the_device_presents_is_tested_too() {
        use super::usr008_upn_suffix;
        use crate::checks::user::facts::PresentedUpn;
        use crate::model::Evidence;
        let s = snap_with(&user_json(""), &[]);
        let u = s.user("jdoe@contoso.com").cloned().unwrap_or_default();
        let ev = Evidence::new("event-log", "event 91 names jdoe@contoso.local");
        let seen = |upn: &str| PresentedUpn::Seen(upn.into(), ev.clone(), true);
        let f = usr008_upn_suffix(&s, &u, &seen("jdoe@contoso.local"));
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("jdoe@contoso.local"), "{}", f.summary);
        assert!(f.evidence.iter().any(|e| e.source == "event-log"));
        // Same suffix as the cloud UPN, or none presented: the cloud verdict.
        let same = usr008_upn_suffix(&s, &u, &seen("JDOE@Contoso.com"));
        assert_eq!(same.status, Status::Pass);
        assert_eq!(
            usr008_upn_suffix(&s, &u, &PresentedUpn::NoDevice).status,
            Status::Pass
        );
        // The executing account of dsregcmd only hints: a warning, not a failure.
        let weak = usr008_upn_suffix(
            &s,
            &u,
            &PresentedUpn::Seen("jdoe@contoso.local".into(), ev.clone(), false),
        );
        assert_eq!(weak.status, Status::Warn, "{}", weak.summary);
        // A device that names no UPN leaves the suffix open rather than ruling it out.
        let open = usr008_upn_suffix(&s, &u, &PresentedUpn::NotInEvidence);
        assert_eq!(open.status, Status::Skip, "{}", open.summary);
    }

    #[test]
    fn verified_suffix_passes_and_unverified_or_non_routable_fails() {
        let s = snap_with(&user_json(""), &[]);
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        assert_eq!(status(&fs, "USR008"), Status::Pass);
        for bad in ["jdoe@contoso.local", "jdoe@fabrikam.com"] {
            let u = user_json("").replace("jdoe@contoso.com", bad);
            let mut s = snap_with(&u, &[]);
            s.user_scope = UserScope::All;
            assert_eq!(
                status(&user_readiness(&s, bad, None), "USR008"),
                Status::Fail,
                "{bad}"
            );
        }
    }
}
