//! Redacted snapshots: whether a snapshot was saved with `--redact`, and whether two snapshots
//! can be compared at all.
//!
//! Redaction (`crate::redact`) maps every id, UPN, domain and group or user name through an
//! HMAC under the export's key. Under one key a value has one pseudonym, in both files, so the
//! comparison works as on real data. Under two keys nothing matches — not even the tenant id,
//! which is why a tenant id that differs is where this is told.

use super::{DiffError, Side};
use crate::tenant::TenantSnapshot;

/// `d-0123456789.` (a redacted domain) or `org-01234567` (a redacted organisation name).
fn is_pseudonym(value: &str, prefix: &str, hex: usize) -> bool {
    value.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() >= hex && rest.bytes().take(hex).all(|b| b.is_ascii_hexdigit())
    })
}

/// Whether SNAP looks redacted: its organisation's name or every verified domain, or every
/// user's UPN, is a pseudonym. (Snapshots carry no redaction flag; the pseudonyms' shapes are
/// fixed by `crate::redact`.)
pub fn looks_redacted(snap: &TenantSnapshot) -> bool {
    if let Some(org) = snap.sources.organization.data() {
        if org
            .display_name
            .as_deref()
            .is_some_and(|n| n.len() == 12 && is_pseudonym(n, "org-", 8))
        {
            return true;
        }
        if !org.verified_domains.is_empty()
            && org
                .verified_domains
                .iter()
                .all(|d| is_pseudonym(&d.name, "d-", 10))
        {
            return true;
        }
    }
    snap.sources.users.data().is_some_and(|users| {
        !users.is_empty()
            && users
                .iter()
                .all(|u| is_pseudonym(&u.user_principal_name, "u-", 10))
    })
}

/// Whether OLD and NEW can be compared (the same tenant id); the notes to show when they can.
pub(super) fn comparable(old: &Side, new: &Side) -> Result<Vec<String>, DiffError> {
    let same = old
        .tenant_id
        .trim()
        .eq_ignore_ascii_case(new.tenant_id.trim());
    let shown = |s: &str| crate::text_safety::escape_line(s).into_owned();
    let ids = format!(
        "OLD {} has tenant id {}, NEW {} has {}",
        shown(&old.file),
        shown(&old.tenant_id),
        shown(&new.file),
        shown(&new.tenant_id)
    );
    match (old.redacted, new.redacted, same) {
        (true, true, true) => Ok(vec![
            "both snapshots are redacted with the same key (their tenant pseudonyms match): \
             ids, UPNs and group names are pseudonyms and compare equal; assignment filter rules \
             are dropped by redaction, so their changes do not show"
                .to_string(),
        ]),
        (false, false, true) => Ok(Vec::new()),
        (o, n, true) => Ok(vec![format!(
            "only {} looks redacted, yet the tenant ids match: compared as they are",
            if o && !n { "OLD" } else { "NEW" }
        )]),
        (true, true, false) => Err(DiffError::Incomparable(format!(
            "{ids}: both are redacted, so they were redacted with different keys (or come from \
             different tenants). Pseudonyms are equal only under one key: under two, every id, \
             UPN and group would show as removed and added. Save both with \
             `--redact --redact-key-file FILE` and the same FILE"
        ))),
        (true, false, false) | (false, true, false) => Err(DiffError::Incomparable(format!(
            "{ids}: {} is redacted and {} is not, so no id or name matches. Compare two redacted \
             snapshots saved with the same --redact-key-file, or two unredacted ones",
            if old.redacted { "OLD" } else { "NEW" },
            if old.redacted { "NEW" } else { "OLD" }
        ))),
        (false, false, false) => Err(DiffError::Incomparable(format!(
            "{ids}: these are snapshots of different tenants; diff compares two snapshots of one \
             tenant"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;
    use crate::tenant::snapshot::{Organization, Source, TokenKind, VerifiedDomain};

    fn snap(tenant: &str) -> TenantSnapshot {
        let mut s = TenantSnapshot::new(
            tenant,
            "global",
            "https://g",
            TokenKind::Delegated,
            Default::default(),
        );
        s.sources.organization = Source::collected(
            "GET /v1.0/organization",
            Organization {
                id: tenant.into(),
                display_name: Some("Contoso".into()),
                verified_domains: vec![VerifiedDomain {
                    name: "contoso.com".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
        s
    }

    fn side(s: &TenantSnapshot, file: &str) -> Side {
        Side {
            file: file.into(),
            collected_at: s.collected_at,
            tenant_id: s.tenant_id.clone(),
            redacted: looks_redacted(s),
        }
    }

    #[test]
    fn redacted_snapshots_are_recognised_and_keys_told_apart() {
        let t = "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13";
        let plain = snap(t);
        assert!(!looks_redacted(&plain));
        let (k1, k2) = (Redactor::random(), Redactor::random());
        let mut a = plain.clone();
        k1.snapshot(&mut a);
        let mut b = plain.clone();
        k1.snapshot(&mut b);
        let mut c = plain.clone();
        k2.snapshot(&mut c);
        assert!(looks_redacted(&a));
        let same = comparable(&side(&a, "a"), &side(&b, "b"));
        assert!(same.is_ok_and(|n| n[0].contains("same key")));
        let other = comparable(&side(&a, "a"), &side(&c, "c"))
            .err()
            .map(|e| e.to_string());
        assert!(other.is_some_and(|m| m.contains("different keys")), "keys");
        let mixed = comparable(&side(&plain, "p"), &side(&a, "a"))
            .err()
            .map(|e| e.to_string());
        assert!(mixed.is_some_and(|m| m.contains("NEW is redacted and OLD is not")));
        let foreign = comparable(
            &side(&plain, "p"),
            &side(&snap("00000000-0000-0000-0000-000000000001"), "q"),
        );
        assert!(
            foreign
                .err()
                .is_some_and(|e| e.to_string().contains("different tenants"))
        );
    }
}
