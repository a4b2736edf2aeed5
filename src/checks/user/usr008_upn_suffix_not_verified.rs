//! USR008: The user's UPN suffix is a verified, routable domain.

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
        verified domains, or is a non-routable suffix such as .local.",
    why_it_matters: "Automatic enrollment with a UPN whose suffix is unverified or non-routable fails with \
        event 76 and 0x8018002B, even when licensing and scope are right. Enrollment paths: gpo-hybrid and \
        co-management (synced on-premises UPNs) mostly; entra-join when cloud UPNs use such a suffix.",
    how_to_fix: "Verify the domain in Entra admin center > Identity > Settings > Domain names, or give the user \
        a UPN in a verified domain: add the routable suffix in Active Directory Domains and Trusts, change the \
        user's UPN, and let Entra Connect sync it. Then sign out and back in on the device.",
    references: &[R_8018002B, R_ERRORS_TS, R_ORGANIZATION_API],
};

pub fn usr008_upn_suffix(snap: &TenantSnapshot, user: &User) -> Finding {
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
