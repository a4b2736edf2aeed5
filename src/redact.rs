//! Pseudonymisation for exports: UPNs, names, ids and domains become HMAC-SHA256 pseudonyms
//! under a random per-export key. Without the key they cannot be reversed by guessing (unlike a
//! plain hash of a UPN); with the same key a device report redacts to the same pseudonyms, so
//! correlation by tenant id, device id and UPN still works on redacted data.
//!
//! Values are case-folded first (Graph compares GUIDs and UPNs case-insensitively), and ids keep
//! a GUID shape so code that parses them keeps working. Well-known public ids (Microsoft app ids,
//! service plan and SKU ids) are never redacted: the checks need them.

mod autopilot;

use hmac::{Hmac, Mac};
use sha2::Sha256;

// Top-level labels that never resolve publicly are kept so USR008 still sees `.local`: the very
// list USR008 uses, so the two cannot drift apart.
use crate::catalog::well_known::NON_ROUTABLE;
use crate::device::report::DeviceReport;
use crate::fsio;
use crate::tenant::snapshot::TenantSnapshot;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("redaction key must be 64 hexadecimal characters (32 bytes), got {0} characters")]
    BadKey(usize),
    #[error("cannot redact the device report: {0}")]
    Report(String),
    #[error("cannot read the redaction key file {0}")]
    KeyFileRead(#[source] fsio::FileError),
    #[error("redaction key file {}: {reason}", path.display())]
    KeyFile {
        path: std::path::PathBuf,
        reason: String,
    },
}

/// Suffixes of Entra initial domains, per cloud: kept by redaction so the cloud stays known.
const INITIAL_DOMAIN_SUFFIXES: &[&str] = &[
    ".onmicrosoft.com",
    ".onmicrosoft.us",
    ".partner.onmschina.cn",
];

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

    /// The key in FILE (`--redact-key-file`): 64 hex characters, read only from a small regular
    /// file.
    pub fn from_key_file(path: &std::path::Path) -> Result<Redactor, RedactError> {
        let key_file = |reason: String| RedactError::KeyFile {
            path: path.to_path_buf(),
            reason,
        };
        let text = fsio::read_regular_string(path, fsio::REDACTION_KEY)
            .map_err(RedactError::KeyFileRead)?;
        Redactor::from_hex(&text).map_err(|e| key_file(e.to_string()))
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
    /// domain keeps its cloud's suffix (`.onmicrosoft.com`, `.onmicrosoft.us`,
    /// `.partner.onmschina.cn`), because TEN004 reads the tenant's cloud from it.
    pub fn domain(&self, domain: &str) -> String {
        let d = domain.trim().to_lowercase();
        if d.is_empty() {
            return d;
        }
        let h = self.short("domain", &d, 10);
        let tld = d.rsplit('.').next().unwrap_or("");
        if let Some(suffix) = INITIAL_DOMAIN_SUFFIXES.iter().find(|s| d.ends_with(*s)) {
            format!("d-{h}{suffix}")
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

    /// A serial number: `serial-…`, computed without periods (Intune's corporate identifiers
    /// are uploaded without them), so `AB.12` on the device and `AB12` in the tenant stay one.
    pub fn serial(&self, serial: &str) -> String {
        self.name("serial", &serial.replace('.', ""))
    }

    fn opt_serial(&self, v: &mut Option<String>) {
        if let Some(s) = v.as_mut() {
            *s = self.serial(s);
        }
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
        // Names and ids change: the lookup tables are built again on next use.
        snap.forget_lookups();
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
        // Filter rules can name devices or serial numbers: dropped; the name stays.
        if let Some(list) = s.assignment_filters.data_mut() {
            for f in list {
                f.rule = None;
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
            // Role template ids are Microsoft's constants; the user ids are not.
            m.roles = std::mem::take(&mut m.roles)
                .into_iter()
                .map(|(u, r)| (self.id(&u), r))
                .collect();
        }
        let entra = s.entra_devices.data_mut().into_iter().flatten();
        let owned = s.user_owned_devices.data_mut().into_iter().flatten();
        {
            for d in entra.chain(owned) {
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
                self.opt_serial(&mut d.serial_number);
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
        self.autopilot(s);
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

impl Redactor {
    /// Pseudonymises a device report in place with the same pseudonyms as [`Self::snapshot`]:
    /// GUIDs (tenant, device, enrollment ids) through [`Self::id`], UPNs and e-mail addresses
    /// through [`Self::upn`], the host name as a device name, the tenant's display name as the
    /// organization name, DNS domains through [`Self::domain`], and the domain part of
    /// on-premises SIDs. Every string of the report is scanned (dsregcmd fields, event data and
    /// messages, registry paths and values, task paths, collector context), so correlation by
    /// tenant id, device id and UPN still works against a snapshot redacted with the same key.
    pub fn device_report(&self, report: &mut DeviceReport) -> Result<(), RedactError> {
        let names = self.report_names(report);
        self.report_with(report, &names)
    }

    /// [`Self::device_report`], and the path the report was read from with the same names
    /// replaced: a fleet's files and folders are often named after the device (the collector
    /// writes `<host>-enroll-doctor.json`), and every format shows where a device was read.
    pub fn device_report_from(
        &self,
        report: &mut DeviceReport,
        input: &std::path::Path,
    ) -> Result<std::path::PathBuf, RedactError> {
        let names = self.report_names(report);
        self.report_with(report, &names)?;
        let shown = input.to_string_lossy();
        let redacted = self.text(&shown, &names);
        // Unchanged: the path as it was (exactly, even when it is not UTF-8).
        Ok(if redacted == shown {
            input.to_path_buf()
        } else {
            std::path::PathBuf::from(redacted)
        })
    }

    fn report_with(
        &self,
        report: &mut DeviceReport,
        names: &[(String, String)],
    ) -> Result<(), RedactError> {
        let mut value =
            serde_json::to_value(&*report).map_err(|e| RedactError::Report(e.to_string()))?;
        self.walk(&mut value, names);
        *report = serde_json::from_value(value).map_err(|e| RedactError::Report(e.to_string()))?;
        Ok(())
    }

    /// Names that identify the device or organization, with their pseudonyms, longest first.
    fn report_names(&self, report: &DeviceReport) -> Vec<(String, String)> {
        let mut names: Vec<(String, String)> = Vec::new();
        let field = |name: &str| -> Option<String> {
            report.dsregcmd.as_ref().and_then(|d| {
                d.sections
                    .iter()
                    .flat_map(|s| &s.fields)
                    .find(|f| f.name.eq_ignore_ascii_case(name))
                    .map(|f| f.value.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        };
        let mut hosts: Vec<String> = Vec::new();
        if let Some(n) = field("Device Name") {
            // `PC0042.corp.contoso.com`: the host, then its DNS domain.
            match n.split_once('.') {
                Some((host, domain)) => {
                    hosts.push(host.to_string());
                    names.push((domain.to_string(), self.domain(domain)));
                }
                None => hosts.push(n),
            }
        }
        if let Some(h) = report.collector.as_ref().and_then(|c| c.host_name.clone()) {
            hosts.push(h);
        }
        // Serial numbers get the snapshot's pseudonyms (`managedDevices.serialNumber`, the
        // Autopilot records), so the Autopilot look-up still joins; firmware placeholders
        // ("To be filled by O.E.M.") identify nothing and the checks judge them as written.
        let mut serials: Vec<String> = Vec::new();
        serials.extend(
            report
                .hardware
                .as_ref()
                .and_then(|h| h.serial_number.clone()),
        );
        if let Some(a) = &report.autopilot {
            serials.extend(a.serial_numbers().map(str::to_string));
            for h in &a.device_hashes {
                if let Some(p) = h.product_id.as_deref().map(str::trim)
                    && !p.is_empty()
                {
                    names.push((p.to_string(), self.name("product", p)));
                }
                // MdmDiagnosticsTool names the file after the computer: DeviceHash_<host>.csv.
                let file = h.location.file.rsplit(['/', '\\']).next().unwrap_or("");
                if let Some(host) = file
                    .get(..11)
                    .filter(|p| p.eq_ignore_ascii_case("DeviceHash_"))
                    .and_then(|_| file.get(11..))
                    .and_then(|rest| rest.rsplit_once('.'))
                    .map(|(host, _)| host.trim())
                    .filter(|h| !h.is_empty())
                {
                    hosts.push(host.to_string());
                }
            }
            for p in &a.profiles {
                if let Some(d) = p.tenant_domain.as_deref().map(str::trim)
                    && d.contains('.')
                {
                    names.push((d.to_string(), self.domain(d)));
                }
                if let Some(n) = p.device_name.as_deref().map(str::trim)
                    && !n.is_empty()
                {
                    hosts.push(n.to_string());
                }
            }
        }
        for s in serials {
            let s = s.trim();
            if crate::tenant::autopilot::is_lookup_serial(s) {
                names.push((s.to_string(), self.serial(s)));
            }
        }
        for h in hosts {
            // Entra and Intune show the bare host name (upper case); key it that way.
            let pseudonym = self.name("device", &h.to_ascii_uppercase());
            names.push((h, pseudonym));
        }
        if let Some(t) = field("TenantName") {
            names.push((t.clone(), self.name("org", &t)));
        }
        if let Some(d) = field("DomainName") {
            names.push((d.clone(), self.name("netbios", &d)));
        }
        // `CONTOSO\jdoe` in the collector context and dsregcmd's executing account.
        let mut accounts: Vec<String> = Vec::new();
        if let Some(c) = &report.collector {
            accounts.extend(c.user.clone());
            accounts.extend(c.dsregcmd_user.clone());
        }
        accounts.extend(field("Executing Account Name"));
        for a in accounts {
            for part in a.split(',') {
                if let Some((_, sam)) = part.trim().split_once('\\')
                    && !sam.contains('@')
                {
                    names.push((sam.to_string(), self.name("account", sam)));
                }
            }
        }
        names.retain(|(n, _)| n.chars().count() >= 3 && !n.eq_ignore_ascii_case("SYSTEM"));
        names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        names.dedup_by(|a, b| a.0.eq_ignore_ascii_case(&b.0));
        names
    }

    fn walk(&self, v: &mut serde_json::Value, names: &[(String, String)]) {
        match v {
            serde_json::Value::String(s) => *s = self.text(s, names),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.walk(x, names)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| self.walk(x, names)),
            _ => {}
        }
    }

    /// Free text: GUIDs, e-mail addresses / UPNs and SIDs first (their pseudonyms contain no
    /// names), then the given names as whole words, case-insensitively.
    pub fn text(&self, s: &str, names: &[(String, String)]) -> String {
        let mut out = self.replace_guids(s);
        out = self.replace_emails(&out);
        out = self.replace_sids(&out);
        for (name, pseudonym) in names {
            out = replace_word_ci(&out, name, pseudonym);
        }
        out
    }

    fn replace_guids(&self, s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        let mut last = 0;
        while i + 36 <= b.len() {
            let boundary_before = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            let boundary_after = i + 36 == b.len() || !b[i + 36].is_ascii_alphanumeric();
            if boundary_before
                && boundary_after
                && is_guid(&b[i..i + 36])
                && let Some(g) = s.get(i..i + 36)
            {
                out.push_str(&s[last..i]);
                if is_placeholder_guid(g) {
                    out.push_str(g);
                } else {
                    out.push_str(&self.id(g));
                }
                i += 36;
                last = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&s[last..]);
        out
    }

    fn replace_emails(&self, s: &str) -> String {
        let local_ok = |c: char| c.is_ascii_alphanumeric() || "._%+-'".contains(c);
        let domain_ok = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '@' {
                let mut start = i;
                while start > 0 && local_ok(chars[start - 1]) {
                    start -= 1;
                }
                let mut end = i + 1;
                while end < chars.len() && domain_ok(chars[end]) {
                    end += 1;
                }
                let domain: String = chars[i + 1..end].iter().collect();
                let domain = domain.trim_end_matches('.');
                if start < i && domain.contains('.') {
                    let local: String = chars[start..i].iter().collect();
                    // Drop the local part already copied to the output.
                    for _ in start..i {
                        out.pop();
                    }
                    out.push_str(&self.upn(&format!("{local}@{domain}")));
                    i += 1 + domain.chars().count();
                    continue;
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }

    /// `S-1-5-21-a-b-c[-rid]`: the three domain sub-authorities become keyed numbers.
    fn replace_sids(&self, s: &str) -> String {
        const PREFIX: &str = "S-1-5-21-";
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(pos) = rest.to_ascii_uppercase().find(PREFIX) {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + PREFIX.len()..];
            let len = after
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(after.len());
            let parts: Vec<&str> = after[..len].trim_end_matches('-').split('-').collect();
            if parts.len() >= 3 && parts[..3].iter().all(|p| !p.is_empty()) {
                let h = self.mac("sid", &parts[..3].join("-"));
                let n = |k: usize| {
                    u32::from_be_bytes([h[4 * k], h[4 * k + 1], h[4 * k + 2], h[4 * k + 3]])
                };
                out.push_str(&format!("{PREFIX}{}-{}-{}", n(0), n(1), n(2)));
                for p in &parts[3..] {
                    out.push('-');
                    out.push_str(p);
                }
                let used: usize = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len() - 1;
                rest = &after[used..];
            } else {
                out.push_str(&rest[pos..pos + PREFIX.len()]);
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }
}

fn is_guid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `FFFFFFFF-FFFF-…` and the nil GUID are placeholders, not identities (DEV009 reads them).
fn is_placeholder_guid(g: &str) -> bool {
    g.chars()
        .filter(|c| *c != '-')
        .all(|c| c.eq_ignore_ascii_case(&'f'))
        || g.chars().filter(|c| *c != '-').all(|c| c == '0')
}

/// Replaces `word` (case-insensitive, whole word: no letter or digit on either side). `_` ends a
/// word: MdmDiagnosticsTool names files `DeviceHash_<host>.csv`.
fn replace_word_ci(s: &str, word: &str, with: &str) -> String {
    if word.is_empty() {
        return s.to_string();
    }
    let lower = s.to_lowercase();
    let w = word.to_lowercase();
    // Lower-casing may change byte lengths outside ASCII: fall back to an exact-case replace.
    if lower.len() != s.len() || w.len() != word.len() {
        return s.replace(word, with);
    }
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(p) = lower[from..].find(&w) {
        let start = from + p;
        let end = start + w.len();
        let before = s[..start].chars().next_back();
        let after = s[end..].chars().next();
        if !is_word(before) && !is_word(after) {
            out.push_str(&s[last..start]);
            out.push_str(with);
            last = end;
        }
        from = end;
    }
    out.push_str(&s[last..]);
    out
}

/// Microsoft's public ids the checks depend on (app ids, service plans).
fn is_public_id(id: &str) -> bool {
    use crate::catalog::{service_plans, well_known};
    well_known::app_name(id).is_some()
        || service_plans::intune_plan_by_id(id).is_some()
        || service_plans::insufficient_plan_by_id(id).is_some()
}

#[cfg(test)]
mod tests;
