//! `audit|check --tenants-file FILE`: the command's own pipeline (collect → evaluate → render)
//! once per tenant of FILE, with one app and sign-in method, then one summary row per tenant.
//!
//! Every tenant gets its own settings (the tenant is the only difference), so its own
//! `TokenProvider` (and sign-in cache entry: the cache is keyed by cloud, tenant and client)
//! and its own `GraphClient` — its own concurrency limit and retry/`Retry-After` budget, so a
//! throttled tenant slows only itself. Tenants are read `--tenant-concurrency` at a time; a
//! tenant that fails (sign-in, Graph) is an `error` row and the others go on. The command
//! supplies [`Evaluate`]: the evaluation and the report of one tenant, exactly as a run with
//! `--tenant` writes it, to that tenant's file under `--output-dir`.
//!
//! Delegated methods (browser, device code) sign in to each tenant once, one tenant at a time
//! before the reads start, so prompts never interleave and each names its tenant; the sign-in
//! is cached, so the next run does not prompt. Managed identity and a given access token are
//! refused: both are one tenant's, and would read the same tenant under every name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use enroll_doctor::checks::registry;
use enroll_doctor::config::{AuthMethod, Settings};
use enroll_doctor::graph::{GraphClient, GraphError, GraphStats};
use enroll_doctor::model::{Finding, Status};
use enroll_doctor::report::summary::RunSummary;
use enroll_doctor::report::tenants::{
    self, BlockingCheck, TenantRow, TenantStatus, TenantsRun, UserTally,
};
use enroll_doctor::report::{FailThreshold, Summary, exit_code};
use enroll_doctor::tenant::TenantSnapshot;
use enroll_doctor::tenant::collect::{UserSelection, collect};
use enroll_doctor::tenant::snapshot::TokenKind;
use enroll_doctor::tenant::tenants_file::read_tenants_file;
use futures::StreamExt;

use super::{
    collect_options, flags, hide_progress, print_stdout, print_table_stdout, runtime,
    settings_with, source_notes,
};
use crate::cli::{GlobalArgs, OutputArgs, ReportFormat, TenantSourceArgs, TenantsArgs};

/// What one tenant's evaluation gives the summary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Evaluated {
    /// The exit code the tenant's own report has.
    pub code: u8,
    pub findings: Summary,
    /// Failing checks, the most important first.
    pub failing: Vec<String>,
    pub top_blocking: Option<BlockingCheck>,
    /// Checks that ended in error, and the first one's message.
    pub errors: Vec<String>,
    pub first_error: Option<String>,
    pub users: Option<UserTally>,
}

fn title(check: &str) -> String {
    registry::get(check)
        .map(|m| m.title.to_string())
        .unwrap_or_default()
}

impl Evaluated {
    /// From one report's findings (`audit`, `check` of one user): the failing checks by
    /// severity, then in evaluation order.
    pub(crate) fn of_findings(findings: &[Finding], threshold: FailThreshold) -> Evaluated {
        let mut fails: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .collect();
        fails.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let mut failing: Vec<String> = Vec::new();
        for f in fails {
            if !failing.contains(&f.check) {
                failing.push(f.check.clone());
            }
        }
        let mut errors: Vec<String> = Vec::new();
        let mut first_error = None;
        for f in findings.iter().filter(|f| f.status == Status::Error) {
            first_error.get_or_insert_with(|| f.error.clone().unwrap_or(f.summary.clone()));
            if !errors.contains(&f.check) {
                errors.push(f.check.clone());
            }
        }
        Evaluated {
            code: exit_code(findings, threshold),
            findings: Summary::of(findings),
            top_blocking: failing.first().map(|c| BlockingCheck {
                check: c.clone(),
                title: title(c),
                users: None,
            }),
            failing,
            errors,
            first_error,
            users: None,
        }
    }

    /// From the summary of a run over several users (`check`): the tenant's failing checks
    /// first (they block everyone), then the checks failing for the most users.
    pub(crate) fn of_run(summary: &RunSummary, code: u8) -> Evaluated {
        let tenant = summary
            .tenant
            .as_ref()
            .map(|t| &t.findings[..])
            .unwrap_or(&[]);
        let mut failing: Vec<String> = tenant
            .iter()
            .filter(|t| t.status == Status::Fail)
            .map(|t| t.check.clone())
            .collect();
        let top_blocking = match failing.first() {
            Some(c) => Some(BlockingCheck {
                check: c.clone(),
                title: title(c),
                users: None,
            }),
            None => summary.blocking.first().map(|b| BlockingCheck {
                check: b.check.clone(),
                title: b.title.clone(),
                users: Some(b.subjects),
            }),
        };
        for b in &summary.blocking {
            if !failing.contains(&b.check) {
                failing.push(b.check.clone());
            }
        }
        let mut errors: Vec<String> = tenant
            .iter()
            .filter(|t| t.status == Status::Error)
            .map(|t| t.check.clone())
            .collect();
        let first_error = tenant
            .iter()
            .find(|t| t.status == Status::Error)
            .map(|t| t.summary.clone());
        for c in summary.by_check.iter().filter(|c| c.error > 0) {
            if !errors.contains(&c.check) {
                errors.push(c.check.clone());
            }
        }
        Evaluated {
            code,
            findings: summary.findings.clone(),
            failing,
            top_blocking,
            errors,
            first_error,
            users: Some(UserTally {
                checked: summary.subjects,
                not_ready: summary.not_ready,
            }),
        }
    }
}

/// The command's part for one tenant: evaluate its snapshot (its source notes given), and
/// write its report to the writer when a report file is wanted.
pub(crate) type Evaluate = dyn for<'w> Fn(&TenantSnapshot, Vec<String>, Option<&'w mut dyn Write>) -> anyhow::Result<Evaluated>
    + Send
    + Sync;

/// What the command asks for.
pub(crate) struct Plan<'a> {
    /// `audit` or `check`.
    pub command: &'static str,
    pub users: UserSelection,
    pub devices: bool,
    pub args: &'a TenantsArgs,
    pub output: &'a OutputArgs,
    pub as_of: DateTime<Utc>,
}

/// A file name's extension for a format.
fn extension(format: ReportFormat) -> &'static str {
    match format {
        ReportFormat::Table => "txt",
        ReportFormat::Markdown => "md",
        ReportFormat::Json => "json",
        ReportFormat::Jsonl => "jsonl",
        ReportFormat::Csv => "csv",
        ReportFormat::Html => "html",
        ReportFormat::Junit => "xml",
        ReportFormat::Sarif => "sarif",
    }
}

/// The format of the summary over every tenant: a table for the formats that lay out one
/// report only (HTML, JUnit, SARIF; each tenant's report file has the format).
fn summary_format(format: ReportFormat) -> ReportFormat {
    match format {
        ReportFormat::Html | ReportFormat::Junit | ReportFormat::Sarif => ReportFormat::Table,
        other => other,
    }
}

/// Why a method cannot serve many tenants, if it cannot.
fn refused(method: AuthMethod) -> Option<&'static str> {
    match method {
        AuthMethod::ManagedIdentity => Some(
            "a managed identity gets tokens for its own tenant only, so every tenant of the file would be read as that one",
        ),
        AuthMethod::AccessToken => Some(
            "a given access token is for one tenant, so every tenant of the file would be read as that one",
        ),
        _ => None,
    }
}

/// The settings of TENANT: the run's, with the tenant changed.
pub(crate) fn tenant_settings(base: &Settings, tenant: &str) -> Settings {
    let mut s = base.clone();
    s.tenant = Some(tenant.to_string());
    s
}

/// An error and its causes on one line (as the binary prints them), a cause its parent
/// already quotes left out.
fn one_line(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg.replace(['\r', '\n'], " ")
}

/// A tenant about to be read: its client, or why there is none.
struct Job {
    tenant: String,
    settings: Settings,
    client: Result<GraphClient, String>,
}

/// What every tenant's task shares.
struct Shared {
    users: UserSelection,
    devices: bool,
    output_dir: Option<PathBuf>,
    ext: &'static str,
    evaluate: Arc<Evaluate>,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
    /// `-v`: each tenant's Graph counters (its own client: its own retries and throttling).
    verbose: bool,
}

/// One tenant's row, the kind of token it was read with and its Graph client's counters.
struct Outcome {
    row: TenantRow,
    token_kind: Option<TokenKind>,
    stats: Option<GraphStats>,
}

pub(crate) fn run(
    global: &GlobalArgs,
    plan: Plan<'_>,
    evaluate: Arc<Evaluate>,
) -> anyhow::Result<u8> {
    let Some(file) = &plan.args.tenants_file else {
        anyhow::bail!("--tenants-file is required here");
    };
    let tenants = read_tenants_file(file)?;
    hide_progress();
    // The file's first tenant stands in for `--tenant` while the settings are resolved (a
    // method that needs a tenant is satisfied); each tenant then gets its own copy.
    let mut f = flags(global);
    f.tenant = Some(tenants[0].clone());
    let base = settings_with(global, f)?;
    if let Some(why) = refused(base.auth) {
        anyhow::bail!(
            "--tenants-file cannot use --auth {}: {why}. Use an app registered as multi-tenant \
             and consented in each tenant, with --auth client-secret, certificate or \
             workload-identity (or a delegated sign-in with --auth browser or device-code)",
            base.auth.as_str()
        );
    }
    let output_dir = match &plan.args.output_dir {
        Some(dir) => Some(prepare_dir(dir)?),
        None => None,
    };
    let interactive = matches!(base.auth, AuthMethod::Browser | AuthMethod::DeviceCode);
    let total = tenants.len();
    let rt = runtime()?;
    let mut jobs: Vec<Job> = tenants
        .iter()
        .map(|t| {
            let settings = tenant_settings(&base, t);
            let client = GraphClient::from_settings(&settings)
                .map_err(|e| one_line(&anyhow::Error::new(e).context("cannot set up the sign-in")));
            Job {
                tenant: t.clone(),
                settings,
                client,
            }
        })
        .collect();
    if interactive {
        // One prompt at a time, each naming its tenant; cached sign-ins pass silently.
        for (i, job) in jobs.iter_mut().enumerate() {
            let Ok(client) = &job.client else { continue };
            eprintln!(
                "enroll-doctor: tenant {} ({}/{total}): signing in with {}",
                job.tenant,
                i + 1,
                base.auth.as_str()
            );
            if let Err(e) = rt.block_on(client.tokens().token()) {
                job.client = Err(one_line(&anyhow::Error::new(e).context("sign-in failed")));
            }
        }
    }
    let shared = Arc::new(Shared {
        users: plan.users.clone(),
        devices: plan.devices,
        output_dir: output_dir.clone(),
        ext: extension(plan.output.format),
        evaluate,
        total,
        done: Default::default(),
        verbose: global.verbose > 0,
    });
    let limit = usize::from(plan.args.tenant_concurrency.max(1));
    // Each tenant is a task of its own (parsing a large tenant's answers uses a worker
    // thread), started only when one of the LIMIT places is free.
    let mut outcomes: Vec<(usize, Outcome)> = rt.block_on(
        futures::stream::iter(jobs.into_iter().enumerate())
            .map(|(i, job)| {
                let shared = shared.clone();
                let tenant = job.tenant.clone();
                let task = tokio::spawn(async move { one_tenant(job, &shared).await });
                async move {
                    let outcome = task.await.unwrap_or_else(|e| {
                        failed(
                            tenant,
                            format!("the tenant's run stopped unexpectedly: {e}"),
                        )
                    });
                    (i, outcome)
                }
            })
            .buffer_unordered(limit)
            .collect(),
    );
    outcomes.sort_by_key(|(i, _)| *i);
    let app_only = outcomes
        .iter()
        .any(|(_, o)| o.token_kind == Some(TokenKind::AppOnly));
    let rows: Vec<TenantRow> = outcomes.into_iter().map(|(_, o)| o.row).collect();
    let mut run = TenantsRun::new(
        plan.command,
        plan.as_of,
        base.auth.as_str().to_string(),
        rows,
        title,
    );
    run.notes = run_notes(&run, output_dir.as_deref(), app_only);
    let summary = summary_format(plan.output.format);
    let text = summary_text(&run, summary)?;
    if let Some(dir) = &output_dir {
        let name = format!("summary.{}", extension(summary));
        write_atomically(&dir.join(name), |out| Ok(out.write_all(text.as_bytes())?))?;
    }
    if plan.output.format == ReportFormat::Table {
        print_table_stdout(&text)?;
    } else {
        print_stdout(&text)?;
    }
    Ok(run.exit_code)
}

/// The run's notes: where the reports are, what an app-only token leaves out.
fn run_notes(run: &TenantsRun, output_dir: Option<&Path>, app_only: bool) -> Vec<String> {
    let mut notes = Vec::new();
    match output_dir {
        Some(dir) => notes.push(format!(
            "each tenant's report is in {} (<tenant>.<ext>), this summary in summary.<ext> beside them",
            dir.display()
        )),
        None if run.tenants.iter().any(|r| r.status != TenantStatus::Ok) => notes.push(
            "each tenant's findings and fixes: add --output-dir DIR for one report file per tenant, or run with --tenant TENANT"
                .to_string(),
        ),
        None => {}
    }
    // One tenant named twice (by id and by a domain): said, not hidden.
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for r in &run.tenants {
        let Some(id) = r.tenant_id.as_deref() else {
            continue;
        };
        match seen.iter().find(|(i, _)| i.eq_ignore_ascii_case(id)) {
            Some((_, first)) => notes.push(format!(
                "{first} and {} are the same tenant ({id}): it was read twice",
                r.tenant
            )),
            None => seen.push((id, &r.tenant)),
        }
    }
    if app_only {
        notes.push(
            "with an app-only token the MDM/MAM user scope checks (TEN003-TEN006, USR003/USR004) are skipped: Graph serves those policies to delegated sign-ins only"
                .to_string(),
        );
    }
    notes
}

/// The summary in FORMAT.
fn summary_text(run: &TenantsRun, format: ReportFormat) -> anyhow::Result<String> {
    Ok(match format {
        ReportFormat::Table => {
            tenants::table_text(run, enroll_doctor::report::table::width_from_env())
        }
        ReportFormat::Markdown => tenants::markdown_text(run),
        ReportFormat::Json => tenants::json_text(run).context("cannot serialise the summary")?,
        ReportFormat::Html | ReportFormat::Junit | ReportFormat::Sarif => {
            tenants::table_text(run, enroll_doctor::report::table::width_from_env())
        }
        ReportFormat::Jsonl | ReportFormat::Csv => {
            let mut buf = Vec::new();
            if format == ReportFormat::Csv {
                tenants::write_csv(&mut buf, run)?;
            } else {
                tenants::write_jsonl(&mut buf, run)?;
            }
            String::from_utf8(buf).context("the summary is not UTF-8")?
        }
    })
}

/// The row of a tenant that could not be read.
fn failed(tenant: String, reason: String) -> Outcome {
    Outcome {
        row: TenantRow {
            tenant,
            tenant_id: None,
            name: None,
            status: TenantStatus::Error,
            reason: Some(reason),
            exit_code: 2,
            findings: Summary::default(),
            top_blocking: None,
            failing: Vec::new(),
            users: None,
            report_file: None,
            seconds: 0.0,
        },
        token_kind: None,
        stats: None,
    }
}

/// Reads one tenant and evaluates it; never fails: a failure is the row's reason.
async fn one_tenant(job: Job, shared: &Shared) -> Outcome {
    let started = Instant::now();
    let tenant = job.tenant.clone();
    let mut outcome = match read_and_evaluate(job, shared).await {
        Ok(o) => o,
        Err(reason) => failed(tenant.clone(), reason),
    };
    outcome.row.seconds = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let done = shared
        .done
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        + 1;
    let r = &outcome.row;
    let detail = match r.status {
        TenantStatus::Error => format!(
            ": {}",
            tenants::short_reason(r.reason.as_deref().unwrap_or_default())
        ),
        _ => format!(
            " ({} fail, {} warn, {} pass, {} skip)",
            r.findings.fail, r.findings.warn, r.findings.pass, r.findings.skip
        ),
    };
    eprintln!(
        "{}",
        enroll_doctor::text_safety::escape_line(&format!(
            "enroll-doctor: [{done}/{}] {tenant}: {}{detail} in {:.1} s",
            shared.total,
            r.status.as_str(),
            r.seconds
        ))
    );
    if let Some(stats) = outcome.stats.as_ref().filter(|_| shared.verbose) {
        eprintln!("enroll-doctor:   {tenant}: {stats}");
    }
    outcome
}

async fn read_and_evaluate(job: Job, shared: &Shared) -> Result<Outcome, String> {
    let client = job.client?;
    let opts = collect_options(&job.settings, shared.users.clone(), shared.devices);
    let snap = collect(&client, &opts, Utc::now()).await.map_err(|e| {
        // A sign-in error says so itself ("sign-in refused (client credentials): …").
        if matches!(e, GraphError::Auth(_)) {
            return one_line(&anyhow::Error::new(e));
        }
        one_line(&anyhow::Error::new(e).context("cannot collect the tenant from Graph"))
    })?;
    if let Some(why) = other_tenant(&job.tenant, &snap) {
        return Err(why);
    }
    let name = snap
        .sources
        .organization
        .data()
        .and_then(|o| o.display_name.clone());
    let tenant_id = (!snap.tenant_id.is_empty()).then(|| snap.tenant_id.clone());
    let token_kind = snap.token_kind;
    let no_file = TenantSourceArgs {
        snapshot: None,
        save_snapshot: None,
        redact: false,
        redact_key_file: None,
    };
    let notes = source_notes(&snap, &no_file);
    let path = match &shared.output_dir {
        Some(dir) => Some(
            tenants::report_file_name(&job.tenant, shared.ext)
                .map(|n| dir.join(n))
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let evaluate = shared.evaluate.clone();
    let file = path.clone();
    let evaluated = tokio::task::spawn_blocking(move || match &file {
        None => evaluate(&snap, notes, None),
        Some(path) => write_atomically(path, |out| evaluate(&snap, notes, Some(out))),
    })
    .await
    .map_err(|e| format!("the evaluation stopped: {e}"))?
    .map_err(|e| one_line(&e))?;
    let status = TenantStatus::of_exit_code(evaluated.code);
    let reason = (status == TenantStatus::Error).then(|| {
        let mut s = format!("{} ended in error", evaluated.errors.join(", "));
        if let Some(first) = &evaluated.first_error {
            s.push_str(&format!(": {first}"));
        }
        s
    });
    Ok(Outcome {
        row: TenantRow {
            tenant: job.tenant,
            tenant_id,
            name,
            status,
            reason,
            exit_code: evaluated.code,
            findings: evaluated.findings,
            top_blocking: evaluated.top_blocking,
            failing: evaluated.failing,
            users: evaluated.users,
            report_file: path.map(|p| p.display().to_string()),
            seconds: 0.0,
        },
        token_kind: Some(token_kind),
        stats: Some(client.stats()),
    })
}

/// Whether the sign-in reached another tenant than REQUESTED (a tenant id that differs, or a
/// domain the tenant has not verified): then its data must not be reported under that name.
fn other_tenant(requested: &str, snap: &TenantSnapshot) -> Option<String> {
    if snap.tenant_id.is_empty() {
        return None;
    }
    if requested.len() == 36 && uuid::Uuid::try_parse(requested).is_ok() {
        return (!requested.eq_ignore_ascii_case(&snap.tenant_id)).then(|| {
            format!(
                "the sign-in reached tenant {}, not {requested}: nothing of it is reported",
                snap.tenant_id
            )
        });
    }
    let org = snap.sources.organization.data()?;
    if org.verified_domains.is_empty()
        || org
            .verified_domains
            .iter()
            .any(|d| d.name.eq_ignore_ascii_case(requested))
    {
        return None;
    }
    Some(format!(
        "the sign-in reached tenant {}, which has no verified domain {requested}: nothing of it is reported",
        snap.tenant_id
    ))
}

/// `--output-dir`: created when missing; must be a folder.
fn prepare_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    }
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("cannot read the output folder {}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("--output-dir {}: not a folder", dir.display());
    }
    Ok(dir.to_path_buf())
}

/// Writes PATH through WRITE into a new temporary file beside it (created exclusively, owner
/// only: reports name users and configuration), renamed over PATH once complete, so a reader
/// never sees half a report and a link planted at PATH is replaced, not written through.
fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts
        .open(&tmp)
        .with_context(|| format!("cannot create a report file in {}", dir.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    let result = write(&mut out).and_then(|v| {
        out.flush()?;
        out.get_ref().sync_all()?;
        Ok(v)
    });
    drop(out);
    let result = result.and_then(|v| {
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot write the report {}", path.display()))?;
        Ok(v)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use enroll_doctor::config::FlagOverrides;
    use enroll_doctor::graph::TokenProvider;
    use enroll_doctor::graph::auth::TokenSource;
    use std::collections::HashMap;

    #[test]
    fn each_tenant_has_its_own_sign_in_cache_key() {
        let env: HashMap<String, String> = [
            ("ENROLL_DOCTOR_TOKEN_CACHE", "/tmp/x/tokens.json"),
            ("AZURE_CLIENT_ID", "11111111-2222-4333-8444-555566667777"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let flags = FlagOverrides {
            tenant: Some("a.example".into()),
            auth: Some(AuthMethod::DeviceCode),
            ..Default::default()
        };
        let base = Settings::from_map(None, &env, &flags).unwrap();
        let keys: Vec<_> = ["a.example", "b.example"]
            .iter()
            .map(|t| {
                let s = tenant_settings(&base, t);
                let p = TokenProvider::from_settings(&s).unwrap();
                let TokenSource::DeviceCode(flow) = p.source() else {
                    panic!("not device code")
                };
                assert_eq!(flow.cache.path(), Some(Path::new("/tmp/x/tokens.json")));
                (
                    flow.login_url.clone(),
                    flow.tenant.clone(),
                    flow.client_id.clone(),
                )
            })
            .collect();
        assert_eq!(keys[0].1, "a.example");
        assert_eq!(keys[1].1, "b.example");
        assert_eq!(keys[0].0, keys[1].0);
        assert_eq!(keys[0].2, keys[1].2);
        // The base settings are untouched.
        assert_eq!(base.tenant.as_deref(), Some("a.example"));
    }

    #[test]
    fn data_of_another_tenant_is_never_reported_under_the_name_asked_for() {
        use enroll_doctor::tenant::Source;
        use enroll_doctor::tenant::snapshot::{Organization, VerifiedDomain};
        let id = "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13";
        let mut snap =
            TenantSnapshot::new(id, "global", "http://g", TokenKind::AppOnly, Utc::now());
        assert_eq!(other_tenant(&id.to_uppercase(), &snap), None);
        let e = other_tenant("8e4d2c1b-7a3f-4b6e-9d5c-2f1e0a9b8c74", &snap).unwrap();
        assert!(e.contains("reached tenant 5b7c1e2a"), "{e}");
        // A domain without the organisation to compare with: trusted.
        assert_eq!(other_tenant("contoso.com", &snap), None);
        snap.sources.organization = Source::collected(
            "GET /v1.0/organization",
            Organization {
                id: id.into(),
                verified_domains: vec![VerifiedDomain {
                    name: "Contoso.com".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
        assert_eq!(other_tenant("contoso.COM", &snap), None);
        let e = other_tenant("fabrikam.com", &snap).unwrap();
        assert!(e.contains("no verified domain fabrikam.com"), "{e}");
    }

    #[test]
    fn one_tenant_methods_are_refused() {
        assert!(refused(AuthMethod::ManagedIdentity).is_some());
        assert!(refused(AuthMethod::AccessToken).is_some());
        for ok in [
            AuthMethod::ClientSecret,
            AuthMethod::Certificate,
            AuthMethod::WorkloadIdentity,
            AuthMethod::DeviceCode,
            AuthMethod::Browser,
            AuthMethod::AzureCli,
        ] {
            assert!(refused(ok).is_none(), "{}", ok.as_str());
        }
    }

    #[test]
    fn a_report_file_is_complete_or_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.example.json");
        write_atomically(&path, |out| Ok(out.write_all(b"{}")?)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        let e: anyhow::Result<()> = write_atomically(&path, |out| {
            out.write_all(b"half")?;
            anyhow::bail!("stopped")
        });
        assert!(e.is_err());
        // The old report stays, and no temporary file is left.
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            // A link planted at the report's name is replaced, its target untouched.
            let victim = dir.path().join("victim");
            std::fs::write(&victim, b"keep").unwrap();
            let link = dir.path().join("b.example.json");
            std::os::unix::fs::symlink(&victim, &link).unwrap();
            write_atomically(&link, |out| Ok(out.write_all(b"new")?)).unwrap();
            assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
            assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        }
    }

    #[test]
    fn failing_checks_are_ordered_by_severity() {
        use enroll_doctor::model::{Severity, Subject};
        let f = |check: &str, status, severity| Finding {
            check: check.into(),
            status,
            severity,
            subject: Subject::Tenant,
            summary: format!("{check} summary"),
            evidence: Vec::new(),
            remediation: String::new(),
            skip_reason: None,
            error: None,
            docs: Vec::new(),
        };
        let e = Evaluated::of_findings(
            &[
                f("TEN009", Status::Fail, Severity::Low),
                f("TEN001", Status::Pass, Severity::Critical),
                f("TEN002", Status::Fail, Severity::Critical),
                f("TEN005", Status::Error, Severity::High),
            ],
            FailThreshold::Fail,
        );
        assert_eq!(e.failing, ["TEN002", "TEN009"]);
        assert_eq!(e.top_blocking.unwrap().check, "TEN002");
        assert_eq!(e.code, 2);
        assert_eq!(e.errors, ["TEN005"]);
        assert_eq!(e.first_error.as_deref(), Some("TEN005 summary"));
        assert_eq!(e.findings.fail, 2);
    }
}
