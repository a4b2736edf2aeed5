//! Pseudonymisation for exports: UPNs, names, ids and domains become HMAC-SHA256 pseudonyms
//! under a random per-export key. Without the key they cannot be reversed by guessing (unlike a
//! plain hash of a UPN); with the same key a device report redacts to the same pseudonyms, so
//! correlation by tenant id, device id and UPN still works on redacted data.
//!
//! Values are case-folded first (Graph compares GUIDs and UPNs case-insensitively), and ids keep
//! a GUID shape so code that parses them keeps working. Well-known public ids (Microsoft app ids,
//! service plan and SKU ids) are never redacted: the checks need them.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::tenant::snapshot::TenantSnapshot;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("redaction key must be 64 hexadecimal characters (32 bytes), got {0} characters")]
    BadKey(usize),
}

/// Keyed pseudonymiser. The key is secret: it never appears in `Debug` output.
#[derive(Clone)]
pub struct Redactor {
    key: [u8; 32],
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { key: <redacted> }")
    }
}

/// Top-level labels that never resolve publicly; kept so USR008 still sees `.local`.
const NON_ROUTABLE: &[&str] = &[
    "local",
    "lan",
    "internal",
    "localdomain",
    "corp",
    "home",
    "intranet",
];

impl Redactor {
    /// A fresh random key (one per export).
    pub fn random() -> Redactor {
        Redactor {
            key: rand::random::<[u8; 32]>(),
        }
    }

    /// A key given as 64 hex characters (from `--redact-key-file`).
    pub fn from_hex(hex: &str) -> Result<Redactor, RedactError> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RedactError::BadKey(hex.len()));
        }
        let mut key = [0u8; 32];
        for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
            let s = std::str::from_utf8(chunk).unwrap_or("00");
            key[i] = u8::from_str_radix(s, 16).map_err(|_| RedactError::BadKey(hex.len()))?;
        }
        Ok(Redactor { key })
    }

    /// The key as hex, to print once or save so other exports use the same pseudonyms.
    pub fn key_hex(&self) -> String {
        self.key.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn mac(&self, kind: &str, value: &str) -> [u8; 32] {
        // `new_from_slice` accepts any key length for HMAC; a 32-byte key cannot fail.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return [0u8; 32],
        };
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.trim().to_lowercase().as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn short(&self, kind: &str, value: &str, chars: usize) -> String {
        self.mac(kind, value)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .chars()
            .take(chars)
            .collect()
    }

    /// A GUID-shaped pseudonym for an object id (users, groups, devices, tenant).
    pub fn id(&self, id: &str) -> String {
        if id.is_empty() || is_public_id(id) {
            return id.to_string();
        }
        let h = self.short("id", id, 32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// `contoso.com` → `d-1a2b3c4d5e.example`; `corp.local` keeps `.local`; the initial
    /// `*.onmicrosoft.com` domain keeps its suffix.
    pub fn domain(&self, domain: &str) -> String {
        let d = domain.trim().to_lowercase();
        if d.is_empty() {
            return d;
        }
        let h = self.short("domain", &d, 10);
        let tld = d.rsplit('.').next().unwrap_or("");
        if d.ends_with(".onmicrosoft.com") {
            format!("d-{h}.onmicrosoft.com")
        } else if NON_ROUTABLE.contains(&tld) {
            format!("d-{h}.{tld}")
        } else {
            format!("d-{h}.example")
        }
    }

    /// `jdoe@contoso.com` → `u-3f9a1c2b7d@d-1a2b3c4d5e.example`.
    pub fn upn(&self, upn: &str) -> String {
        match upn.trim().rsplit_once('@') {
            Some((local, domain)) => format!(
                "u-{}@{}",
                self.short("upn", &format!("{local}@{}", domain.to_lowercase()), 10),
                self.domain(domain)
            ),
            None if upn.is_empty() => String::new(),
            None => format!("u-{}", self.short("upn", upn, 10)),
        }
    }

    /// A display name: `user-1a2b3c4d`, `device-…`, `group-…`, `org-…`.
    pub fn name(&self, kind: &str, name: &str) -> String {
        if name.is_empty() {
            return String::new();
        }
        format!("{kind}-{}", self.short(kind, name, 8))
    }

    fn opt_name(&self, kind: &str, v: &mut Option<String>) {
        if let Some(s) = v.as_mut() {
            *s = self.name(kind, s);
        }
    }

    fn opt_id(&self, v: &mut Option<String>) {
        if let Some(s) = v.as_mut() {
            *s = self.id(s);
        }
    }

    fn ids(&self, v: &mut [String]) {
        for s in v {
            // Conditional Access uses keywords (All, None, GuestsOrExternalUsers) next to ids.
            if uuid::Uuid::parse_str(s).is_ok() {
                *s = self.id(s);
            }
        }
    }

    /// Pseudonymises a snapshot in place (then re-normalises so ordering stays deterministic).
    pub fn snapshot(&self, snap: &mut TenantSnapshot) {
        let tenant = snap.tenant_id.clone();
        let new_tenant = self.id(&tenant);
        snap.tenant_id = new_tenant.clone();
        if let crate::tenant::snapshot::UserScope::Selected { upns } = &mut snap.user_scope {
            for u in upns.iter_mut() {
                *u = self.upn(u);
            }
        }
        let s = &mut snap.sources;
        if let Some(o) = s.organization.data_mut() {
            o.id = self.id(&o.id);
            self.opt_name("org", &mut o.display_name);
            for d in &mut o.verified_domains {
                d.name = self.domain(&d.name);
            }
        }
        for list in [s.mdm_policies.data_mut(), s.mam_policies.data_mut()]
            .into_iter()
            .flatten()
        {
            for p in list {
                for g in &mut p.included_groups {
                    g.id = self.id(&g.id);
                    self.opt_name("group", &mut g.display_name);
                }
            }
        }
        if let Some(list) = s.enrollment_configurations.data_mut() {
            for c in list {
                if !tenant.is_empty() && c.id.contains(&tenant) {
                    c.id = c.id.replace(&tenant, &new_tenant);
                }
                for a in &mut c.assignments {
                    self.opt_id(&mut a.target.group_id);
                }
            }
        }
        if let Some(p) = s.device_registration_policy.data_mut() {
            for m in [
                p.azure_ad_join
                    .as_mut()
                    .and_then(|j| j.allowed_to_join.as_mut()),
                p.azure_ad_registration
                    .as_mut()
                    .and_then(|r| r.allowed_to_register.as_mut()),
            ]
            .into_iter()
            .flatten()
            {
                self.ids(&mut m.users);
                self.ids(&mut m.groups);
            }
        }
        if let Some(users) = s.users.data_mut() {
            for u in users {
                u.id = self.id(&u.id);
                u.user_principal_name = self.upn(&u.user_principal_name);
                self.opt_name("user", &mut u.display_name);
                for l in &mut u.license_assignment_states {
                    self.opt_id(&mut l.assigned_by_group);
                }
            }
        }
        if let Some(m) = s.group_memberships.data_mut() {
            m.relevant_groups = m.relevant_groups.iter().map(|g| self.id(g)).collect();
            m.groups = std::mem::take(&mut m.groups)
                .into_values()
                .map(|mut g| {
                    g.id = self.id(&g.id);
                    self.opt_name("group", &mut g.display_name);
                    (g.id.clone(), g)
                })
                .collect();
            m.members = std::mem::take(&mut m.members)
                .into_iter()
                .map(|(u, gs)| (self.id(&u), gs.iter().map(|g| self.id(g)).collect()))
                .collect();
        }
        if let Some(list) = s.entra_devices.data_mut() {
            for d in list {
                d.id = self.id(&d.id);
                self.opt_id(&mut d.device_id);
                self.opt_name("device", &mut d.display_name);
                for a in &mut d.alternative_security_ids {
                    a.key = a.key.as_ref().map(|k| self.name("key", k));
                }
                self.ids(&mut d.registered_user_ids);
            }
        }
        if let Some(list) = s.managed_devices.data_mut() {
            for d in list {
                d.id = self.id(&d.id);
                self.opt_id(&mut d.azure_ad_device_id);
                self.opt_name("device", &mut d.device_name);
                self.opt_id(&mut d.user_id);
                if let Some(u) = d.user_principal_name.as_mut() {
                    *u = self.upn(u);
                }
                self.opt_name("serial", &mut d.serial_number);
            }
        }
        if let Some(list) = s.troubleshooting_events.data_mut() {
            for e in list {
                e.id = self.id(&e.id);
                self.opt_id(&mut e.user_id);
                self.opt_id(&mut e.device_id);
                self.opt_id(&mut e.managed_device_identifier);
            }
        }
        if let Some(list) = s.conditional_access_policies.data_mut() {
            for p in list {
                let u = &mut p.conditions.users;
                self.ids(&mut u.include_users);
                self.ids(&mut u.exclude_users);
                self.ids(&mut u.include_groups);
                self.ids(&mut u.exclude_groups);
            }
        }
        // The tenant id is embedded in other ids (`{tenantId}_{skuId}`, `{tenantId}_DefaultLimit`):
        // replace every remaining occurrence.
        if !tenant.is_empty()
            && let Ok(text) = serde_json::to_string(&*snap)
        {
            let replaced = text
                .replace(&tenant.to_ascii_lowercase(), &new_tenant)
                .replace(&tenant.to_ascii_uppercase(), &new_tenant);
            if let Ok(back) = serde_json::from_str::<TenantSnapshot>(&replaced) {
                *snap = back;
            }
        }
        snap.normalize();
    }
}

/// Microsoft's public ids the checks depend on (app ids, service plans).
fn is_public_id(id: &str) -> bool {
    use crate::catalog::{service_plans, well_known};
    well_known::app_name(id).is_some()
        || service_plans::intune_plan_by_id(id).is_some()
        || service_plans::insufficient_plan_by_id(id).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::base;
    use crate::tenant::snapshot::Source;

    #[test]
    fn pseudonyms_are_keyed_stable_and_case_insensitive() {
        let a = Redactor::from_hex(&"ab".repeat(32)).unwrap_or_else(|_| Redactor::random());
        let b = Redactor::from_hex(&"cd".repeat(32)).unwrap_or_else(|_| Redactor::random());
        assert_eq!(a.upn("JDoe@Contoso.com"), a.upn("jdoe@contoso.com"));
        assert_ne!(a.upn("jdoe@contoso.com"), b.upn("jdoe@contoso.com"));
        assert!(
            a.upn("jdoe@contoso.com")
                .ends_with(&a.domain("contoso.com"))
        );
        assert!(!a.upn("jdoe@contoso.com").contains("jdoe"));
        assert!(a.domain("corp.contoso.local").ends_with(".local"));
        let id = a.id("3F2B8C1E-5A47-4D0B-9E61-2C7D9A0B4E15");
        assert_eq!(id, a.id("3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15"));
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        assert_eq!(
            a.id("0000000a-0000-0000-c000-000000000000"),
            "0000000a-0000-0000-c000-000000000000"
        );
        assert_eq!(
            Redactor::from_hex(&a.key_hex()).map(|r| r.id("x")).ok(),
            Some(a.id("x"))
        );
        assert!(Redactor::from_hex("abc").is_err());
        assert!(!format!("{a:?}").contains(&a.key_hex()));
    }

    #[test]
    fn snapshot_redaction_keeps_checks_working() {
        let r = Redactor::random();
        let mut s = base();
        s.sources.users = Source::collected(
            "GET /v1.0/users",
            crate::checks::tenant::tests::json(
                r#"[{"id":"aaaaaaaa-0000-0000-0000-000000000001","userPrincipalName":"jdoe@contoso.com","displayName":"Jane Doe"}]"#,
            ),
        );
        s.sources.organization = Source::collected(
            "GET /v1.0/organization",
            crate::checks::tenant::tests::json(
                r#"{"id":"5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13","displayName":"Contoso","verifiedDomains":[{"name":"contoso.com"}]}"#,
            ),
        );
        r.snapshot(&mut s);
        let json = s.to_json().unwrap_or_default();
        for secret in ["jdoe", "contoso", "Jane", "5b7c1e2a", "aaaaaaaa-0000"] {
            assert!(
                !json.to_lowercase().contains(&secret.to_lowercase()),
                "{secret} leaked:\n{json}"
            );
        }
        let upn = r.upn("jdoe@contoso.com");
        let f =
            crate::checks::user::usr008_upn_suffix(&s, s.user(&upn).unwrap_or(&Default::default()));
        assert_eq!(
            f.status,
            crate::model::Status::Pass,
            "redacted domains still match"
        );
    }
}
