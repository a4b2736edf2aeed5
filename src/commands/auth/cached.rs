//! The cached sign-ins: `auth status --cached` (listed without a sign-in or a network call),
//! the list under `auth status`, and `auth logout [--all]`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use enroll_doctor::config::AuthMethod;
use enroll_doctor::graph::auth::{CacheKey, CacheSummary, TokenCache};
use enroll_doctor::text_safety::escape_line;
use serde::Serialize;

use super::super::context::{flags, print_stdout, settings_with};
use crate::cli::{GlobalArgs, OutputFormat};

/// Where the cache is, whatever method the run would use: resolved as for a delegated sign-in
/// (which needs nothing else), so a listing works with app-only settings in the environment.
pub(super) fn cache_path(global: &GlobalArgs) -> anyhow::Result<Option<PathBuf>> {
    let mut f = flags(global);
    f.auth = Some(AuthMethod::DeviceCode);
    Ok(settings_with(global, f)?.token_cache)
}

/// The cached sign-ins as JSON shows them.
#[derive(Serialize)]
pub(super) struct CachedJson<'a> {
    /// The cache file (absent when no per-user cache folder is known).
    pub cache: Option<String>,
    pub sign_ins: &'a [CacheSummary],
}

/// `auth status --cached`: the list, no sign-in, no network.
pub(super) fn list(global: &GlobalArgs, format: OutputFormat) -> anyhow::Result<u8> {
    let path = cache_path(global)?;
    let entries = TokenCache::new(path.clone()).list()?;
    match format {
        OutputFormat::Json => print_stdout(&format!(
            "{}\n",
            enroll_doctor::report::json::escape_json(&serde_json::to_string_pretty(&CachedJson {
                cache: path.as_ref().map(|p| p.display().to_string()),
                sign_ins: &entries,
            })?)
        ))?,
        OutputFormat::Table | OutputFormat::Markdown => {
            print_stdout(&enroll_doctor::text_safety::into_safe_text(table(
                &entries,
                path.as_deref(),
                Utc::now(),
            )))?
        }
    }
    Ok(0)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// Whether the access token still works, or the refresh token renews it without a prompt.
fn access_state(e: &CacheSummary, now: DateTime<Utc>) -> String {
    match e.access_expires_at {
        Some(t) if t > now => format!("valid, {} min left", (t - now).num_minutes()),
        _ if e.has_refresh_token => "expired, renewed silently".to_string(),
        _ => "expired: sign in again".to_string(),
    }
}

/// The list as a table, with the cache's place; no secret (a summary holds none). The cloud
/// and the client, mostly the same for every sign-in, get a column only when they differ.
pub(super) fn table(entries: &[CacheSummary], path: Option<&Path>, now: DateTime<Utc>) -> String {
    use tabled::builder::Builder;
    use tabled::settings::Style;
    let Some(path) = path else {
        return "Cached sign-ins: none (no per-user cache folder is known: set ENROLL_DOCTOR_TOKEN_CACHE to keep sign-ins).\n".into();
    };
    let shown = escape_line(&path.display().to_string()).into_owned();
    let Some(first) = entries.first() else {
        return format!("Cached sign-ins: none in {shown}.\n");
    };
    let one_cloud = entries.iter().all(|e| e.login_url == first.login_url);
    let one_client = entries
        .iter()
        .all(|e| e.client_id.eq_ignore_ascii_case(&first.client_id));
    let mut heading = format!("Cached sign-ins ({}) in {shown}", entries.len());
    let mut shared = Vec::new();
    if one_cloud {
        shared.push(format!("cloud {}", escape_line(&first.login_url)));
    }
    if one_client {
        shared.push(format!("client {}", escape_line(&first.client_id)));
    }
    if !shared.is_empty() {
        heading.push_str(&format!(" ({})", shared.join(", ")));
    }
    let mut header = vec!["Tenant", "Tenant id", "Account", "Method"];
    if !one_client {
        header.push("Client");
    }
    if !one_cloud {
        header.push("Cloud");
    }
    header.extend(["Access token", "Last used (UTC)"]);
    let mut b = Builder::default();
    b.push_record(header);
    for e in entries {
        let mut row = vec![
            escape_line(&e.tenant).into_owned(),
            escape_line(e.tenant_id.as_deref().unwrap_or("-")).into_owned(),
            escape_line(e.account.as_deref().unwrap_or("-")).into_owned(),
            escape_line(&e.method).into_owned(),
        ];
        if !one_client {
            row.push(escape_line(&e.client_id).into_owned());
        }
        if !one_cloud {
            row.push(escape_line(&e.login_url).into_owned());
        }
        row.extend([access_state(e, now), when(e.updated_at)]);
        b.push_record(row);
    }
    format!("{heading}:\n{}\n", b.build().with(Style::sharp()))
}

/// `auth logout`: this tenant, client and cloud's sign-ins, or with ALL every one.
pub(super) fn logout(global: &GlobalArgs, key: Option<CacheKey>) -> anyhow::Result<u8> {
    let Some(path) = cache_path(global)? else {
        print_stdout("No cached sign-in: no per-user cache folder is known.\n")?;
        return Ok(0);
    };
    let cache = TokenCache::new(Some(path.clone()));
    let shown = escape_line(&path.display().to_string()).into_owned();
    let before = cache.list()?;
    let Some(key) = key else {
        let removed = cache.remove(None)?;
        let n = before.len().max(usize::from(removed > 0));
        print_stdout(&if removed > 0 {
            format!("Removed all {n} cached sign-in(s): {shown} is deleted.\n")
        } else {
            format!("No cached sign-in at {shown}.\n")
        })?;
        return Ok(0);
    };
    let removed = cache.remove(Some(&key))?;
    let after = cache.list()?;
    let gone: Vec<&CacheSummary> = before.iter().filter(|e| !after.contains(e)).collect();
    let tenant = escape_line(&key.tenant).into_owned();
    let mut text = if removed == 0 {
        format!(
            "No cached sign-in for tenant {tenant} and client {} in {shown}.",
            escape_line(&key.client_id)
        )
    } else {
        let accounts: Vec<String> = gone
            .iter()
            .map(|e| escape_line(e.account.as_deref().unwrap_or("an unknown account")).into_owned())
            .collect();
        format!(
            "Removed {removed} cached sign-in(s) for tenant {tenant} ({}).",
            accounts.join(", ")
        )
    };
    if !after.is_empty() {
        text.push_str(&format!(
            " {} other cached sign-in(s) kept in {shown} (`enroll-doctor auth status --cached` lists them, `enroll-doctor auth logout --all` removes them).",
            after.len()
        ));
    }
    text.push('\n');
    print_stdout(&text)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tenant: &str, expires: Option<DateTime<Utc>>, refresh: bool) -> CacheSummary {
        CacheSummary {
            login_url: "https://login.microsoftonline.com".into(),
            tenant: tenant.into(),
            tenant_id: Some("5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13".into()),
            client_id: "14d82eec-204b-4c2f-b7e8-296a70dab67e".into(),
            account: Some(format!("admin@{tenant}")),
            method: "device-code".into(),
            has_refresh_token: refresh,
            access_expires_at: expires,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_list_says_what_is_cached_and_whether_it_still_works() {
        let now = Utc::now();
        let t = table(
            &[
                entry(
                    "contoso.com",
                    Some(now + chrono::Duration::minutes(30)),
                    true,
                ),
                entry(
                    "fabrikam.com",
                    Some(now - chrono::Duration::minutes(1)),
                    true,
                ),
                entry("evil\u{1b}[2J.com", None, false),
            ],
            Some(Path::new("/home/u/.cache/enroll-doctor/tokens.json")),
            now,
        );
        assert!(
            t.starts_with(
                "Cached sign-ins (3) in /home/u/.cache/enroll-doctor/tokens.json (cloud \
                 https://login.microsoftonline.com, client 14d82eec-204b-4c2f-b7e8-296a70dab67e):"
            ),
            "{t}"
        );
        assert!(
            t.contains("admin@contoso.com") && t.contains("valid, 30 min left"),
            "{t}"
        );
        assert!(t.contains("expired, renewed silently"), "{t}");
        assert!(t.contains("expired: sign in again"), "{t}");
        assert!(!t.contains("│ Cloud"), "{t}");
        // Sign-ins of several clients: a column says whose.
        let mut other = entry("contoso.com", None, true);
        other.client_id = "b05d3c8e-6fab-4c27-a934-d1c0bfae9c85".into();
        let two = table(
            &[entry("contoso.com", None, true), other],
            Some(Path::new("c.json")),
            now,
        );
        assert!(
            two.contains("│ Client") && two.contains("b05d3c8e"),
            "{two}"
        );
        assert!(!t.contains('\u{1b}'), "{t}");
        assert!(table(&[], Some(Path::new("c.json")), now).contains("none in c.json"));
        assert!(table(&[], None, now).contains("ENROLL_DOCTOR_TOKEN_CACHE"));
    }
}
