//! `enroll-doctor auth status|login|logout`.

use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use enroll_doctor::checks::registry;
use enroll_doctor::config::{AuthMethod, Settings};
use enroll_doctor::graph::auth::{CacheKey, TokenCache};
use enroll_doctor::graph::{
    ApiVersion, ClientOptions, GraphClient, Query, TokenClaims, TokenKind, TokenProvider,
};
use enroll_doctor::preflight::{AuthStatus, DELEGATED_SIGN_IN_HINT, PermissionStatus};

use super::context::{
    flags, init_logging, print_stats, print_stdout, runtime, settings, settings_with,
};
use crate::cli::{AuthCommand, GlobalArgs, OutputFormat};

mod cached;

pub fn run(global: &GlobalArgs, args: AuthCommand) -> anyhow::Result<u8> {
    init_logging(global);
    match args {
        AuthCommand::Status {
            format,
            cached: true,
        } => cached::list(global, format),
        AuthCommand::Status { format, .. } => status(global, format),
        AuthCommand::Login => login(global),
        AuthCommand::Logout { all } => logout(global, all),
    }
}

/// The settings of an interactive sign-in: `--auth browser` or `--auth device-code` when given,
/// else browser where one can be opened and device code elsewhere, whatever app-only
/// credentials the environment holds (`auth login` always signs in a user).
fn interactive_settings(global: &GlobalArgs) -> anyhow::Result<Settings> {
    let mut f = flags(global);
    let explicit = f.auth.filter(|a| a.is_interactive());
    if let Some(other) = f.auth.filter(|a| !a.is_interactive()) {
        anyhow::bail!(
            "`auth login` and `auth logout` are for a signed-in user (--auth browser or --auth device-code), not --auth {}",
            other.as_str()
        );
    }
    f.auth = Some(AuthMethod::DeviceCode);
    let mut s = settings_with(global, f)?;
    s.auth = explicit.unwrap_or(if s.browser_available {
        AuthMethod::Browser
    } else {
        AuthMethod::DeviceCode
    });
    Ok(s)
}

fn login(global: &GlobalArgs) -> anyhow::Result<u8> {
    let s = interactive_settings(global)?;
    let provider = TokenProvider::from_settings(&s)?;
    let token = runtime()?.block_on(provider.login())?;
    let who = token
        .claims()
        .map(|c| c.identity())
        .unwrap_or_else(|_| "unknown identity".into());
    let cached = match &s.token_cache {
        Some(path) => format!("the sign-in is cached in {} (mode 0600)", path.display()),
        None => NO_CACHE.to_string(),
    };
    // The identity is the token's (the identity platform's) text: shown escaped.
    print_stdout(&format!(
        "Signed in as {}; {cached}.\n",
        enroll_doctor::text_safety::shown(&who)
    ))?;
    Ok(0)
}

/// What `auth login` says when no per-user cache folder is known.
const NO_CACHE: &str = "the sign-in is not cached: no per-user cache folder is known (HOME or \
     XDG_CACHE_HOME, LOCALAPPDATA on Windows); set ENROLL_DOCTOR_TOKEN_CACHE to a file of your own";

/// `auth logout`: the sign-in of this tenant, client and cloud (`--tenant`, `--client-id`,
/// `--cloud`/`--login-url` as a sign-in would use them), or every one with `--all`.
fn logout(global: &GlobalArgs, all: bool) -> anyhow::Result<u8> {
    if all {
        return cached::logout(global, None);
    }
    let s = interactive_settings(global)?;
    cached::logout(
        global,
        Some(CacheKey {
            login_url: s.endpoints.login_url.clone(),
            tenant: s.tenant_or_organizations().to_string(),
            client_id: s.public_client_id().to_string(),
        }),
    )
}

fn status(global: &GlobalArgs, format: OutputFormat) -> anyhow::Result<u8> {
    let s = settings(global)?;
    let tokens = Arc::new(TokenProvider::from_settings(&s)?);
    let client = GraphClient::new(
        &s.endpoints.graph_url,
        tokens.clone(),
        ClientOptions::from_http(&s.http),
    )?;
    let rt = runtime()?;
    let token = rt.block_on(tokens.token()).context("sign-in failed")?;
    let claims = token.claims().unwrap_or_else(|e| {
        tracing::warn!("cannot read the token's claims ({e}); permissions cannot be predicted");
        TokenClaims::default()
    });
    let mut st = AuthStatus::new(&claims, token.expires_at, s.auth.as_str(), registry::all());
    // One harmless call proves the token is accepted by this Graph endpoint.
    let probe = rt.block_on(client.get_json::<serde_json::Value>(
        ApiVersion::V1,
        "/organization",
        &Query::new().select(&["id", "displayName"]),
    ));
    // Graph refusing the token itself (401 after a renewal) ends here: the table of what the
    // token could run would not be true.
    let probe = match probe {
        Err(e) if e.is_fatal() => return Err(e.into()),
        other => other,
    };
    // Graph refusing the token otherwise (401) or being unreachable means the preflight could
    // not do its job; a 403 only says this permission is missing, which the table shows.
    let unusable = matches!(&probe, Err(e) if e.status() == Some(401) || e.status().is_none());
    let organization = probe
        .as_ref()
        .ok()
        .and_then(|v| v.get("value"))
        .and_then(|a| a.get(0))
        .and_then(|o| o.get("displayName"))
        .and_then(|n| n.as_str())
        .map(str::to_string);
    st.graph_check = Some(match probe {
        Ok(_) => format!(
            "ok: {}",
            organization.as_deref().unwrap_or("organization readable")
        ),
        Err(e) => format!("GET /v1.0/organization failed: {e}"),
    });
    // The other sign-ins this machine keeps (a local file read, no network).
    let cached = TokenCache::new(s.token_cache.clone())
        .list()
        .unwrap_or_else(|e| {
            tracing::warn!("cannot list the cached sign-ins: {e}");
            Vec::new()
        });
    let used = Used {
        requested_tenant: s.tenant.as_deref(),
        organization: organization.as_deref(),
    };
    match format {
        OutputFormat::Json => print_stdout(&format!(
            "{}\n",
            enroll_doctor::report::json::escape_json(
                &serde_json::to_string_pretty(&StatusJson {
                    status: &st,
                    requested_tenant: used.requested_tenant,
                    organization: used.organization,
                    can_run: CanRun::of(&st),
                    token_cache: cached::CachedJson {
                        cache: s.token_cache.as_ref().map(|p| p.display().to_string()),
                        sign_ins: &cached,
                    },
                })
                .context("cannot serialise the status")?
            )
        ))?,
        // A few key/value lines read the same in a ticket; no separate Markdown layout.
        // The identity, scopes and organisation name come from the token and Graph: escaped.
        OutputFormat::Table | OutputFormat::Markdown => {
            print_stdout(&enroll_doctor::text_safety::into_safe_text(format!(
                "{}\n{}",
                render_table(&st, &used),
                cached::table(&cached, s.token_cache.as_deref(), Utc::now())
            )))?
        }
    }
    print_stats(global, &client);
    if unusable {
        eprintln!(
            "enroll-doctor: Graph did not accept this token or could not be reached (see \"Graph:\" above)"
        );
        return Ok(2);
    }
    Ok(0)
}

/// What the status was asked for and found beside the token: the tenant as requested
/// (`--tenant`, the environment or the config) and the organisation's name from Graph.
struct Used<'a> {
    requested_tenant: Option<&'a str>,
    organization: Option<&'a str>,
}

/// `auth status --format json`: the status (its fields at the top level, as before), the
/// tenant asked for, which checks the token can run, and the cached sign-ins.
#[derive(serde::Serialize)]
struct StatusJson<'a> {
    #[serde(flatten)]
    status: &'a AuthStatus,
    requested_tenant: Option<&'a str>,
    organization: Option<&'a str>,
    can_run: CanRun,
    token_cache: cached::CachedJson<'a>,
}

/// How many of the checks that read Graph this token can run, and why the others cannot.
#[derive(serde::Serialize, Debug, PartialEq, Eq)]
struct CanRun {
    checks: usize,
    runnable: usize,
    missing_permissions: usize,
    delegated_only: usize,
    unknown: usize,
}

impl CanRun {
    fn of(st: &AuthStatus) -> CanRun {
        let n = |s: PermissionStatus| st.checks.iter().filter(|r| r.status == s).count();
        CanRun {
            checks: st.checks.len(),
            runnable: n(PermissionStatus::Granted),
            missing_permissions: n(PermissionStatus::Missing),
            delegated_only: n(PermissionStatus::AppOnlyUnsupported),
            unknown: n(PermissionStatus::Unknown),
        }
    }

    /// `18 of 20 checks can run with this token; 2 need permissions it lacks`.
    fn line(&self) -> String {
        if self.unknown > 0 && self.unknown == self.checks {
            return "unknown: the token cannot be read, so its permissions cannot be predicted"
                .into();
        }
        let mut s = format!(
            "{} of {} checks that read Graph can run with this token",
            self.runnable, self.checks
        );
        let mut why = Vec::new();
        if self.missing_permissions > 0 {
            why.push(format!(
                "{} need permissions it lacks",
                self.missing_permissions
            ));
        }
        if self.delegated_only > 0 {
            why.push(format!("{} need a delegated sign-in", self.delegated_only));
        }
        if self.unknown > 0 {
            why.push(format!("{} cannot be predicted", self.unknown));
        }
        if !why.is_empty() {
            s.push_str(&format!("; {} (table below)", why.join(", ")));
        }
        s
    }
}

fn render_table(st: &AuthStatus, used: &Used<'_>) -> String {
    use tabled::builder::Builder;
    use tabled::settings::Style;
    let remaining = st.expires_at - Utc::now();
    let mut out = String::new();
    // Who, which tenant, which method: the first three lines.
    out.push_str(&format!("Identity:    {}\n", st.identity));
    let mut tenant = st.tenant_id.as_deref().unwrap_or("unknown").to_string();
    if let Some(org) = used.organization {
        tenant.push_str(&format!(" ({org})"));
    }
    match used.requested_tenant {
        Some(r)
            if st
                .tenant_id
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(r)) => {}
        Some(r) => tenant.push_str(&format!(", asked for as {r}")),
        None => tenant.push_str(", the account's home tenant (no --tenant given)"),
    }
    out.push_str(&format!("Tenant:      {tenant}\n"));
    out.push_str(&format!(
        "Token kind:  {} (signed in with {})\n",
        st.token_kind.as_str(),
        st.auth_method
    ));
    out.push_str(&format!("Can run:     {}\n", CanRun::of(st).line()));
    out.push_str(&format!(
        "Expires:     {} (in {} min)\n",
        st.expires_at.format("%Y-%m-%d %H:%M:%S UTC"),
        remaining.num_minutes().max(0)
    ));
    out.push_str(&format!(
        "Granted:     {}\n",
        if st.granted.is_empty() {
            "(none)".to_string()
        } else {
            st.granted.join(", ")
        }
    ));
    if let Some(g) = &st.graph_check {
        out.push_str(&format!("Graph:       {g}\n"));
    }
    if st.checks.is_empty() {
        out.push_str("\nNo registered check needs Graph permissions.\n");
        return out;
    }
    // Only the permissions of this token's kind matter here; JSON output carries both.
    let delegated = st.token_kind == TokenKind::Delegated;
    let mut b = Builder::default();
    b.push_record([
        "Check",
        if delegated {
            "Needs (delegated)"
        } else {
            "Needs (application)"
        },
        "Status",
        "Missing",
    ]);
    for r in &st.checks {
        let needs = if delegated {
            &r.delegated
        } else {
            &r.application
        };
        let needs = if needs.is_empty() && r.status == PermissionStatus::AppOnlyUnsupported {
            "(delegated sign-in only)".to_string()
        } else {
            needs.join("\n")
        };
        let missing = if r.status == PermissionStatus::AppOnlyUnsupported {
            "delegated sign-in (see note)".to_string()
        } else {
            r.missing.join("\n")
        };
        b.push_record([
            r.check.clone(),
            needs,
            r.status.as_str().to_string(),
            missing,
        ]);
    }
    out.push('\n');
    out.push_str(&b.build().with(Style::sharp()).to_string());
    out.push('\n');
    let app_only: Vec<&str> = st
        .checks
        .iter()
        .filter(|r| r.status == PermissionStatus::AppOnlyUnsupported)
        .map(|r| r.check.as_str())
        .collect();
    if !app_only.is_empty() {
        let mut scopes: Vec<&str> = st
            .checks
            .iter()
            .filter(|r| r.status == PermissionStatus::AppOnlyUnsupported)
            .flat_map(|r| r.delegated.iter().map(String::as_str))
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        out.push_str(&format!(
            "\nNote: {} read data that Graph serves to delegated tokens only, so an app-only \
             token skips them. To run them, {DELEGATED_SIGN_IN_HINT}; the user needs {} and a \
             directory role such as Global Reader.\n",
            app_only.join(", "),
            if scopes.is_empty() {
                "read access".to_string()
            } else {
                format!("the delegated permissions {}", scopes.join(", "))
            }
        ));
    }
    let missing: Vec<&str> = st
        .checks
        .iter()
        .filter(|r| r.status == PermissionStatus::Missing)
        .flat_map(|r| r.missing.iter().map(String::as_str))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        out.push_str(&format!(
            "\nTo run every check, grant {} ({}){}.\n",
            missing.join(", "),
            if delegated {
                "delegated"
            } else {
                "application permissions"
            },
            if delegated {
                ""
            } else {
                " and give admin consent"
            }
        ));
    }
    out
}
