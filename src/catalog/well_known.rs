//! Well-known Microsoft application ids and the default Intune MDM URLs per cloud.

/// "Microsoft Intune": its app id is also the id of its MDM (and MAM) scope policy.
pub const MICROSOFT_INTUNE_APP_ID: &str = "0000000a-0000-0000-c000-000000000000";
/// "Microsoft Intune Enrollment": a separate MDM policy; setting its scope does not enroll.
pub const MICROSOFT_INTUNE_ENROLLMENT_APP_ID: &str = "d4ebce55-015a-49b5-a083-c84d1797ae8c";

/// The three URLs a Microsoft Intune MDM policy should carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MdmUrls {
    pub discovery_url: &'static str,
    pub terms_of_use_url: &'static str,
    pub compliance_url: &'static str,
}

const GLOBAL: MdmUrls = MdmUrls {
    discovery_url: "https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc",
    terms_of_use_url: "https://portal.manage.microsoft.com/TermsofUse.aspx",
    compliance_url: "https://portal.manage.microsoft.com/?portalAction=Compliance",
};

// US Government (GCC High and DoD) hosts are under manage.microsoft.us (public scripts; medium
// confidence). 21Vianet defaults are not documented anywhere we could verify.
const USGOV: MdmUrls = MdmUrls {
    discovery_url: "https://enrollment.manage.microsoft.us/enrollmentserver/discovery.svc",
    terms_of_use_url: "https://portal.manage.microsoft.us/TermsofUse.aspx",
    compliance_url: "https://portal.manage.microsoft.us/?portalAction=Compliance",
};

/// Default Intune MDM URLs for a cloud name (`global`, `usgov`, `usgov-dod`, `china`, `custom`).
/// `None` when the defaults are unknown (China): the URL check then only reports what it sees.
/// `custom` (tests, the mock) uses the global defaults.
pub fn default_mdm_urls(cloud: &str) -> Option<MdmUrls> {
    match cloud.to_ascii_lowercase().as_str() {
        "global" | "custom" | "" => Some(GLOBAL),
        "usgov" | "usgov-dod" => Some(USGOV),
        _ => None,
    }
}

/// The cloud a tenant lives in, from its initial (`*.onmicrosoft.*`) domain: GCC High and DoD
/// tenants get `onmicrosoft.us`, 21Vianet `partner.onmschina.cn`, everyone else (GCC included)
/// `onmicrosoft.com`. `None` for any other name (e.g. a redacted snapshot).
pub fn cloud_of_initial_domain(domain: &str) -> Option<&'static str> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if d.ends_with(".onmicrosoft.us") {
        Some("usgov")
    } else if d.ends_with(".onmschina.cn") {
        Some("china")
    } else if d.ends_with(".onmicrosoft.com") {
        Some("global")
    } else {
        None
    }
}

/// Compare two URLs the way Intune does in practice: scheme and host case-insensitively,
/// ignoring a trailing slash.
pub fn same_url(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
    norm(a) == norm(b)
}

/// A display name for a well-known app id (CA policies and MDM policies list ids).
pub fn app_name(app_id: &str) -> Option<&'static str> {
    if app_id.eq_ignore_ascii_case(MICROSOFT_INTUNE_APP_ID) {
        Some("Microsoft Intune")
    } else if app_id.eq_ignore_ascii_case(MICROSOFT_INTUNE_ENROLLMENT_APP_ID) {
        Some("Microsoft Intune Enrollment")
    } else {
        None
    }
}

/// Suffixes that never resolve on the internet (enrollment discovery cannot work). The redactor
/// keeps these as they are so USR008 gives the same answer on a redacted snapshot.
pub const NON_ROUTABLE: &[&str] = &[
    "local",
    "lan",
    "internal",
    "localdomain",
    "corp",
    "home",
    "intranet",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_per_cloud() {
        assert!(default_mdm_urls("global").is_some_and(|u| u.discovery_url.contains(".com/")));
        assert!(default_mdm_urls("usgov-dod").is_some_and(|u| u.discovery_url.contains(".us/")));
        assert!(default_mdm_urls("china").is_none());
        assert!(same_url(
            "https://PORTAL.manage.microsoft.com/TermsofUse.aspx/",
            GLOBAL.terms_of_use_url
        ));
        assert_eq!(
            cloud_of_initial_domain("Tailspin.onmicrosoft.us"),
            Some("usgov")
        );
        assert_eq!(
            cloud_of_initial_domain("contoso.onmicrosoft.com"),
            Some("global")
        );
        assert_eq!(
            cloud_of_initial_domain("contoso.partner.onmschina.cn"),
            Some("china")
        );
        assert_eq!(cloud_of_initial_domain("d-1a2b3c.example"), None);
        assert_eq!(
            app_name("D4EBCE55-015A-49B5-A083-C84D1797AE8C"),
            Some("Microsoft Intune Enrollment")
        );
    }
}
