//! The tenants the device's registry names: the `CloudDomainJoin\TenantInfo\<tenant id>` keys
//! Windows keeps for the tenant it joined (its `DisplayName`, `AuthCodeUrl`, `AccessTokenUrl`:
//! the URLs the PRT is requested from), and the client-side service connection point
//! `CDJ\AAD` (`TenantId`, `TenantName`) that targets a hybrid join at one tenant.
//!
//! Sources: MicrosoftDocs/SupportArticles-docs
//! `support/mem/intune/device-enrollment/windows10-enroll-error-80180002b.md` (a stale TenantInfo
//! of a former tenant gives AzureAdPrt NO and 0x8018002B; the article writes the key under
//! `ControlSet001`, the same key as `CurrentControlSet`); MicrosoftDocs/entra-docs
//! `docs/identity/devices/hybrid-join-control.md` (the `CDJ\AAD` values of a targeted rollout).
//! Evidence-level helpers: they import nothing above [`super::evidence`].

use crate::device::report::{DeviceReport, RegKey};
use crate::model::Evidence;

use super::evidence::reg_evidence;

/// Where Windows keeps the joined tenant's details, in the control sets an export may name.
pub const TENANT_INFO_PARENTS: &[&str] = &[
    r"HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\TenantInfo",
    r"HKLM\SYSTEM\ControlSet001\Control\CloudDomainJoin\TenantInfo",
    r"HKLM\SYSTEM\ControlSet002\Control\CloudDomainJoin\TenantInfo",
];
/// The client-side service connection point of a targeted hybrid join.
pub const KEY_CDJ_AAD: &str = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\CDJ\AAD";

/// One `TenantInfo\<tenant id>` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    /// The subkey name, lower-cased.
    pub tenant_id: String,
    /// Its `DisplayName` value, when exported.
    pub display_name: Option<String>,
    pub path: String,
    pub evidence: Evidence,
}

impl TenantInfo {
    /// `0d1c… ("Fabrikam")`, or just the id.
    pub fn label(&self) -> String {
        match &self.display_name {
            Some(n) => format!("{} (\"{n}\")", self.tenant_id),
            None => self.tenant_id.clone(),
        }
    }
}

/// The `CDJ\AAD` values, when the key was exported with at least one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdjAad {
    pub tenant_id: Option<String>,
    pub tenant_name: Option<String>,
    pub evidence: Evidence,
}

impl CdjAad {
    pub fn label(&self) -> String {
        match (&self.tenant_id, &self.tenant_name) {
            (Some(id), Some(n)) => format!("TenantId {id}, TenantName {n}"),
            (Some(id), None) => format!("TenantId {id}"),
            (None, Some(n)) => format!("TenantName {n}"),
            (None, None) => "no TenantId or TenantName".to_string(),
        }
    }
}

fn text_value(k: &RegKey, name: &str) -> Option<String> {
    let v = k.value(name)?.data.as_text();
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Every TenantInfo subkey whose name is a tenant id, once per tenant (the first control set
/// that names it wins).
pub fn tenant_info(report: &DeviceReport) -> Vec<TenantInfo> {
    let Some(reg) = report.registry.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<TenantInfo> = Vec::new();
    for parent in TENANT_INFO_PARENTS {
        for k in reg.subkeys(parent) {
            let id = k
                .leaf()
                .trim()
                .trim_matches(['{', '}'])
                .to_ascii_lowercase();
            if uuid::Uuid::parse_str(&id).is_err() || out.iter().any(|t| t.tenant_id == id) {
                continue;
            }
            let display_name = text_value(k, "DisplayName");
            let detail = match &display_name {
                Some(n) => format!("{} (DisplayName = {n})", k.path),
                None => format!("{} present", k.path),
            };
            out.push(TenantInfo {
                tenant_id: id,
                display_name,
                path: k.path.clone(),
                evidence: reg_evidence(k, detail),
            });
        }
    }
    out
}

/// True when a TenantInfo parent was exported at all (so "no subkey" means none on the device).
pub fn tenant_info_collected(report: &DeviceReport) -> bool {
    report
        .registry
        .as_ref()
        .is_some_and(|r| TENANT_INFO_PARENTS.iter().any(|p| r.covers(p)))
}

/// The `CDJ\AAD` key's `TenantId` / `TenantName`.
pub fn cdj_aad(report: &DeviceReport) -> Option<CdjAad> {
    let k = report.registry.as_ref()?.key(KEY_CDJ_AAD)?;
    let tenant_id = text_value(k, "TenantId").map(|t| t.to_ascii_lowercase());
    let tenant_name = text_value(k, "TenantName");
    if tenant_id.is_none() && tenant_name.is_none() {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(id) = &tenant_id {
        parts.push(format!("TenantId = {id}"));
    }
    if let Some(n) = &tenant_name {
        parts.push(format!("TenantName = {n}"));
    }
    let evidence = reg_evidence(k, format!("{}: {}", k.path, parts.join(", ")));
    Some(CdjAad {
        tenant_id,
        tenant_name,
        evidence,
    })
}

/// The TenantInfo keys of tenants other than `tenant` (a device tenant or the audited one).
pub fn other_tenants<'a>(infos: &'a [TenantInfo], tenant: &str) -> Vec<&'a TenantInfo> {
    let want = tenant.trim().to_ascii_lowercase();
    infos.iter().filter(|t| t.tenant_id != want).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;

    #[test]
    fn tenant_info_reads_ids_names_and_control_sets() {
        let r = DeviceReport {
            registry: Some(registry(vec![
                key(
                    &format!(
                        "{}\\0D1C2B3A-4958-4677-8695-A4B3C2D1E0F9",
                        TENANT_INFO_PARENTS[0]
                    ),
                    &[("DisplayName", sz("Fabrikam"))],
                ),
                key(&format!("{}\\{TENANT}", TENANT_INFO_PARENTS[1]), &[]),
                key(&format!("{}\\not-a-guid", TENANT_INFO_PARENTS[0]), &[]),
                key(
                    KEY_CDJ_AAD,
                    &[("TenantId", sz(TENANT)), ("TenantName", sz("contoso.com"))],
                ),
            ])),
            ..Default::default()
        };
        let infos = tenant_info(&r);
        assert_eq!(infos.len(), 2);
        assert_eq!(infos[0].tenant_id, "0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9");
        assert_eq!(
            infos[0].label(),
            "0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9 (\"Fabrikam\")"
        );
        assert_eq!(other_tenants(&infos, TENANT).len(), 1);
        assert!(tenant_info_collected(&r));
        let cdj = cdj_aad(&r).unwrap();
        assert_eq!(cdj.tenant_id.as_deref(), Some(TENANT));
        assert!(cdj.label().contains("contoso.com"));
        assert!(tenant_info(&DeviceReport::default()).is_empty());
        assert!(cdj_aad(&DeviceReport::default()).is_none());
    }
}
