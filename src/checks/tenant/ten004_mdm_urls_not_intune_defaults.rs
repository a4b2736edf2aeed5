//! TEN004: The MDM discovery, terms-of-use and compliance URLs are Intune's.

use crate::catalog::well_known::{self};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta};
use crate::model::{Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{MobilityPolicy, PolicyScope, TenantSnapshot};

pub const META: CheckMeta = CheckMeta {
    id: "TEN004",
    name: "mdm-urls-not-intune-defaults",
    title: "The MDM discovery, terms-of-use and compliance URLs are Intune's",
    severity: Severity::High,
    area: Area::Tenant,
    permissions: APP_ONLY_UNSUPPORTED_SCOPE,
    what_it_checks: "Compares discoveryUrl, termsOfUseUrl and complianceUrl of the \"Microsoft Intune\" MDM \
        policy with the defaults of the tenant's cloud (commercial: \
        https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc, \
        https://portal.manage.microsoft.com/TermsofUse.aspx, \
        https://portal.manage.microsoft.com/?portalAction=Compliance). A different URL fails; empty URLs \
        alone only warn, because Entra can show them empty while enrollment still works. Delegated only.",
    why_it_matters: "Windows uses the discovery URL it receives from Entra to find the enrollment server. A \
        typo or a URL of another MDM sends the device to the wrong place (HTTP 404 0x80190194, \
        0x8000FFFF or a bad-request error). Enrollment paths: gpo-hybrid, entra-join, co-management \
        (user credential) and entra-registered.",
    how_to_fix: "Entra admin center > Identity > Mobility (MDM and WIP) > Microsoft Intune: choose \"Restore \
        default MDM URLs\" and save. Do the same in Intune admin center > Devices > Enrollment > Windows > \
        Automatic Enrollment if you work from there.",
    references: &[R_WINDOWS_ENROLL, R_DIAGNOSE, R_MDM_POLICIES_API],
};

/// The check's note on the enrollment paths it matters for.
const PATHS_NOTE: &str = "the device learns its MDM URLs from this policy (dsregcmd MdmUrl)";

pub fn ten004_mdm_urls_not_intune_defaults(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let m = or_finding!(intune_mdm_policy(snap, ID, Subject::Tenant, PATHS_NOTE));
    let (policy, loc, paths) = (m.policy, m.location, m.paths);
    let Some(p) = policy else {
        return ID.skip(
            Subject::Tenant,
            crate::model::SkipReason::NoEvidence {
                collect: "a Microsoft Intune MDM policy (see TEN003)".into(),
            },
        );
    };
    let (cloud, cloud_evidence) = effective_cloud(snap, p);
    let Some(defaults) = well_known::default_mdm_urls(&cloud) else {
        return ID
            .finding(
                Status::Pass,
                Subject::Tenant,
                format!("No known Intune default URLs for cloud {cloud}: not compared"),
            )
            .with_evidence(cloud_evidence)
            .with_evidence(
                Evidence::new(
                    "graph",
                    format!(
                        "discoveryUrl = {}, termsOfUseUrl = {}, complianceUrl = {}",
                        p.discovery_url.as_deref().unwrap_or("null"),
                        p.terms_of_use_url.as_deref().unwrap_or("null"),
                        p.compliance_url.as_deref().unwrap_or("null")
                    ),
                )
                .at(loc),
            )
            .with_evidence(paths);
    };
    let fields = [
        (
            "discoveryUrl",
            p.discovery_url.as_deref(),
            defaults.discovery_url,
        ),
        (
            "termsOfUseUrl",
            p.terms_of_use_url.as_deref(),
            defaults.terms_of_use_url,
        ),
        (
            "complianceUrl",
            p.compliance_url.as_deref(),
            defaults.compliance_url,
        ),
    ];
    let mut wrong = Vec::new();
    let mut null = Vec::new();
    let mut evidence = Vec::new();
    for (name, actual, expected) in fields {
        match actual {
            Some(a) if well_known::same_url(a, expected) => {
                evidence.push(
                    Evidence::new("graph", format!("{name} = {a} (the {cloud} default)"))
                        .at(loc.clone()),
                );
            }
            Some(a) => {
                wrong.push(name);
                evidence.push(
                    Evidence::new("graph", format!("{name} = {a}, expected {expected}"))
                        .at(loc.clone()),
                );
            }
            None => {
                null.push(name);
                evidence.push(Evidence::new("graph", format!("{name} = null")).at(loc.clone()));
            }
        }
    }
    let scope = p.scope();
    let (status, summary, fix) = if !wrong.is_empty() {
        (
            Status::Fail,
            format!(
                "Microsoft Intune MDM policy URLs differ from the Intune defaults: {}",
                wrong.join(", ")
            ),
            "Restore the default URLs in Entra admin center > Mobility (MDM and WIP) > Microsoft Intune \
             (Restore default MDM URLs); a wrong discovery URL sends devices to the wrong service.",
        )
    } else if !null.is_empty() && scope != PolicyScope::None {
        (
            Status::Warn,
            format!(
                "Microsoft Intune MDM policy has empty URLs ({}) while its scope is {}",
                null.join(", "),
                scope.as_str()
            ),
            "Empty URLs alone are common and often harmless, but if devices report no MdmUrl select \
             \"Restore default MDM URLs\" on the Microsoft Intune MDM policy.",
        )
    } else if !null.is_empty() {
        (
            Status::Pass,
            format!(
                "Microsoft Intune MDM policy has empty URLs ({}), unused while its scope is None",
                null.join(", ")
            ),
            "",
        )
    } else {
        (
            Status::Pass,
            format!("Microsoft Intune MDM policy URLs are the Intune defaults ({cloud} cloud)"),
            "",
        )
    };
    // The URLs first (what the table shows), then which cloud they were compared with.
    ID.finding(status, Subject::Tenant, summary)
        .with_remediation(fix)
        .with_all_evidence(evidence)
        .with_evidence(cloud_evidence)
        .with_evidence(paths)
}

/// The cloud whose default URLs TEN004 expects, and why. A `custom` Graph endpoint (a mock, a
/// proxy) says nothing about the cloud, so the tenant's initial domain decides
/// (`*.onmicrosoft.us` = US Government); without one, the cloud is unknown and the policy's own
/// discovery URL picks the set of defaults it is compared with (a consistent set of any cloud's
/// defaults passes, a mix or a foreign host still fails).
fn effective_cloud(snap: &TenantSnapshot, policy: &MobilityPolicy) -> (String, Evidence) {
    let configured = snap.cloud.trim();
    if !configured.is_empty() && !configured.eq_ignore_ascii_case("custom") {
        return (
            configured.to_ascii_lowercase(),
            Evidence::new(
                "config",
                format!("cloud = {configured} (compared with its defaults)"),
            ),
        );
    }
    let initial = snap.sources.organization.get().ok().and_then(|(org, _)| {
        org.verified_domains
            .iter()
            .filter(|d| d.is_initial == Some(true))
            .find_map(|d| well_known::cloud_of_initial_domain(&d.name).map(|c| (c, d.name.clone())))
    });
    if let Some((cloud, domain)) = initial {
        return (
            cloud.to_string(),
            Evidence::new(
                "graph",
                format!(
                    "cloud = custom endpoint; the initial domain {domain} places the tenant in the {cloud} cloud"
                ),
            )
            .at("GET /v1.0/organization"),
        );
    }
    let by_url = policy
        .discovery_url
        .as_deref()
        .and_then(|u| {
            ["global", "usgov"].into_iter().find(|c| {
                well_known::default_mdm_urls(c)
                    .is_some_and(|d| well_known::same_url(u, d.discovery_url))
            })
        })
        .unwrap_or("global");
    (
        by_url.to_string(),
        Evidence::new(
            "config",
            format!(
                "cloud = custom endpoint and no recognisable initial domain: the tenant's cloud is unknown, \
                 so the URLs are compared with the {by_url} defaults their discovery URL points at"
            ),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn test_ten004_urls() {
        assert_eq!(
            ten004_mdm_urls_not_intune_defaults(&with_mdm(MDM_ALL)).status,
            Status::Pass
        );
        let wrong = MDM_ALL.replacen(
            "enrollment.manage.microsoft.com",
            "enroll.mdm.example.com",
            1,
        );
        assert_eq!(
            ten004_mdm_urls_not_intune_defaults(&with_mdm(&wrong)).status,
            Status::Fail
        );
        let null = r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"all","discoveryUrl":null,"termsOfUseUrl":"","complianceUrl":null}]"#;
        assert_eq!(
            ten004_mdm_urls_not_intune_defaults(&with_mdm(null)).status,
            Status::Warn
        );
        let null_none = null.replace("\"all\"", "\"none\"");
        let f = ten004_mdm_urls_not_intune_defaults(&with_mdm(&null_none));
        assert_eq!(f.status, Status::Pass);
        assert!(
            f.summary.contains("empty URLs") && !f.summary.contains("are the Intune defaults"),
            "{}",
            f.summary
        );
        let mut gov = with_mdm(MDM_ALL);
        gov.cloud = "usgov".into();
        assert_eq!(
            ten004_mdm_urls_not_intune_defaults(&gov).status,
            Status::Fail,
            "commercial URLs in GCC High are wrong"
        );
    }

    #[test]
    fn test_ten004_custom_endpoint_cloud() {
        let gov_urls = MDM_ALL.replace("manage.microsoft.com", "manage.microsoft.us");
        let org = |initial: &str| {
            Source::collected(
                "GET /v1.0/organization",
                json(&format!(
                    r#"{{"id":"t","verifiedDomains":[{{"name":"tailspin.us","isDefault":true,"isInitial":false}},
                       {{"name":"{initial}","isDefault":false,"isInitial":true}}]}}"#
                )),
            )
        };
        // GCC High tenant behind a custom endpoint: its initial domain says usgov.
        let mut s = with_mdm(&gov_urls);
        s.cloud = "custom".into();
        s.sources.organization = org("tailspin.onmicrosoft.us");
        let f = ten004_mdm_urls_not_intune_defaults(&s);
        assert_eq!(f.status, Status::Pass, "{f:#?}");
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("tailspin.onmicrosoft.us") && e.detail.contains("usgov")),
            "{f:#?}"
        );
        // The same URLs in a commercial tenant are wrong.
        s.sources.organization = org("tailspin.onmicrosoft.com");
        assert_eq!(ten004_mdm_urls_not_intune_defaults(&s).status, Status::Fail);
        // Unknown cloud (no organization, e.g. redacted): a consistent default set passes and
        // says the cloud is unknown; a mix of clouds still fails.
        s.sources.organization = org("d-7f3a.example");
        let f = ten004_mdm_urls_not_intune_defaults(&s);
        assert_eq!(f.status, Status::Pass, "{f:#?}");
        assert!(
            f.evidence.iter().any(|e| e.detail.contains("unknown")),
            "{f:#?}"
        );
        let mixed = gov_urls.replacen(
            "portal.manage.microsoft.us",
            "portal.manage.microsoft.com",
            1,
        );
        let mut s = with_mdm(&mixed);
        s.cloud = "custom".into();
        assert_eq!(ten004_mdm_urls_not_intune_defaults(&s).status, Status::Fail);
    }
}
