//! What the subcommands share, so that no command module imports another: writing output and
//! the exit code, `--as-of`, logging, connection settings, the async runtime, reading a tenant
//! snapshot (from a file or from Graph, saved and optionally redacted), progress on stderr, and
//! the collection and correlation steps `diagnose` and `demo` both run.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use enroll_doctor::checks::correlate::TenantNeeds;
use enroll_doctor::config::{AuthMethod, Cloud, FileConfig, FlagOverrides, Settings, env_vars};
use enroll_doctor::graph::GraphClient;
use enroll_doctor::graph::trace::HTTP_TARGET;
use enroll_doctor::model::Finding;
use enroll_doctor::redact::Redactor;
use enroll_doctor::report::gate::Gate;
use enroll_doctor::report::{self, FailThreshold, Report, colour, run};
use enroll_doctor::tenant::TenantSnapshot;
use enroll_doctor::tenant::collect::{CollectOptions, UserSelection, collect};
use enroll_doctor::tenant::device_records::{self, DeviceLookup, FleetStrategy};
use enroll_doctor::tenant::snapshot::TokenKind;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{
    AuthMethodArg, CloudArg, ColorArg, FailOn, GlobalArgs, OutputArgs, ReportFormat,
    TenantSourceArgs,
};

/// `audit|check --tenants-file`: one run per tenant, then the summary of them all.
pub(crate) mod tenants;

// ---- Output -------------------------------------------------------------------------------

/// Writes a command's whole output to stdout. A closed pipe (`| head -1`) is the reader's
/// choice, not a failure; any other write error (`> /dev/full`) is, since the output is lost.
pub(crate) fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// Runs `write` against buffered, locked stdout. As with [`print_stdout`], a closed pipe ends
/// the output quietly and any other write error is an error. Output that is a table (TABLE)
/// has its statuses coloured when `--color` and the environment say so ([`set_colour`]).
pub(crate) fn with_stdout_as(
    table: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if table && colour_on() {
        let mut painted = colour::Painter::new(&mut out);
        write(&mut painted).and_then(|()| painted.flush())
    } else {
        write(&mut out)
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// [`print_stdout`] for a table: coloured as [`with_stdout_as`] colours.
pub(crate) fn print_table_stdout(text: &str) -> anyhow::Result<()> {
    with_stdout_as(true, |out| out.write_all(text.as_bytes()))
}

/// Whether table output is coloured, decided once per run from `--color`, the environment
/// (`NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, `TERM`) and whether stdout is a terminal.
static COLOUR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Decides [`COLOUR`] (the first call wins; commands call it before writing anything).
pub(crate) fn set_colour(choice: ColorArg) {
    let var = std::env::var_os;
    let (no_color, force, clicolor, term) = (
        var("NO_COLOR"),
        var("CLICOLOR_FORCE"),
        var("CLICOLOR"),
        var("TERM"),
    );
    let env = colour::ColourEnv {
        no_color: no_color.as_deref(),
        clicolor_force: force.as_deref(),
        clicolor: clicolor.as_deref(),
        term: term.as_deref(),
        stdout_is_terminal: std::io::stdout().is_terminal(),
    };
    let choice = match choice {
        ColorArg::Auto => colour::ColourChoice::Auto,
        ColorArg::Always => colour::ColourChoice::Always,
        ColorArg::Never => colour::ColourChoice::Never,
    };
    let _ = COLOUR.set(colour::enabled(choice, &env));
}

fn colour_on() -> bool {
    COLOUR.get().copied().unwrap_or(false)
}

/// The report layer's format for `--format` (tables at the terminal's width).
pub(crate) fn run_format(format: ReportFormat) -> run::Format {
    match format {
        ReportFormat::Table => run::Format::Table(report::table::width_from_env()),
        ReportFormat::Markdown => run::Format::Markdown,
        ReportFormat::Json => run::Format::Json,
        ReportFormat::Jsonl => run::Format::Jsonl,
        ReportFormat::Csv => run::Format::Csv,
        ReportFormat::Html => run::Format::Html,
        ReportFormat::Junit => run::Format::Junit,
        ReportFormat::Sarif => run::Format::Sarif,
    }
}

pub(crate) fn threshold(output: &OutputArgs) -> FailThreshold {
    match output.fail_on {
        FailOn::Fail => FailThreshold::Fail,
        FailOn::Warn => FailThreshold::Warn,
        FailOn::Skip => FailThreshold::Skip,
        FailOn::Never => FailThreshold::Never,
    }
}

/// The CI gate of OUTPUT (`--require`, `--fail-on skip`); a `--require` naming no check is an
/// error (exit 2), so commands build it before they read anything.
pub(crate) fn gate(output: &OutputArgs) -> anyhow::Result<Gate> {
    Ok(Gate::new(&output.require, output.fail_on == FailOn::Skip)?)
}

/// Says on stderr what GATE found (each line after LABEL, a tenant of a run over many) and
/// returns CODE with the gate applied.
pub(crate) fn finish_gate(gate: &Gate, code: u8, label: Option<&str>) -> u8 {
    for line in gate.lines() {
        match label {
            Some(l) => eprintln!(
                "enroll-doctor: {}: {line}",
                enroll_doctor::text_safety::escape_line(l)
            ),
            None => eprintln!("enroll-doctor: {line}"),
        }
    }
    gate.exit_code(code)
}

/// Where a CSV run's summary goes: stderr, when it is a terminal (a CSV cannot carry it).
pub(crate) fn csv_summary_sink(format: ReportFormat) -> Option<std::io::Stderr> {
    (format == ReportFormat::Csv && std::io::stderr().is_terminal()).then(std::io::stderr)
}

/// Prints a report in the chosen format and returns the exit code for it. A report about one
/// subject is rendered as before; several users or devices (and any CSV or JSON Lines) are
/// written subject by subject behind their summary.
pub(crate) fn emit_report(report: &Report, output: &OutputArgs) -> anyhow::Result<u8> {
    let code = report::exit_code(&report.findings, threshold(output));
    let mut gate = gate(output)?;
    gate.observe_all(&report.findings);
    let mut side = csv_summary_sink(output.format);
    with_stdout_as(output.format == ReportFormat::Table, |out| {
        write_report_to(
            report,
            output,
            out,
            side.as_mut().map(|s| s as &mut dyn Write),
        )
    })?;
    Ok(finish_gate(&gate, code, None))
}

/// Formats written subject by subject even for one subject (a row, a line, a test suite, the
/// results of a run): CSV, JSON Lines, JUnit, SARIF.
pub(crate) fn is_streamed_format(format: ReportFormat) -> bool {
    matches!(
        format,
        ReportFormat::Csv | ReportFormat::Jsonl | ReportFormat::Junit | ReportFormat::Sarif
    )
}

/// Writes a report in the chosen format to OUT (stdout, or a tenant's report file); a CSV
/// run's summary goes to SIDE when given.
pub(crate) fn write_report_to<'w>(
    report: &Report,
    output: &OutputArgs,
    out: &'w mut dyn Write,
    side: Option<&'w mut dyn Write>,
) -> std::io::Result<()> {
    let streamed = is_streamed_format(output.format) || report::run::is_multi(report);
    if streamed {
        return report::run::write_report(
            report,
            run_format(output.format),
            output.details,
            out,
            side,
        );
    }
    let text = match output.format {
        ReportFormat::Table => report::render::table(report),
        ReportFormat::Markdown => report::render::markdown(report, false),
        ReportFormat::Html => report::html::render(report),
        ReportFormat::Json
        | ReportFormat::Jsonl
        | ReportFormat::Csv
        | ReportFormat::Junit
        | ReportFormat::Sarif => report::render::json(report).map_err(std::io::Error::other)?,
    };
    out.write_all(text.as_bytes())
}

/// `--as-of`: `YYYY-MM-DD` (start of that day, UTC) or RFC 3339; default now.
pub(crate) fn parse_as_of(value: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    let Some(v) = value else {
        return Ok(Utc::now());
    };
    let v = v.trim();
    let looks_like_date_only = v.len() <= 10 && !v.contains(['T', 't', ' ']);
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => {
            if let Some(t) = d.and_hms_opt(0, 0, 0) {
                return Ok(t.and_utc());
            }
        }
        // `2025-13-01` is a date with a bad month: say so rather than "premature end of input"
        // from the RFC 3339 parser.
        Err(e) if looks_like_date_only && v.bytes().filter(|b| *b == b'-').count() == 2 => {
            anyhow::bail!(
                "--as-of \"{}\": not a valid date ({e}); expected YYYY-MM-DD, e.g. 2026-11-26",
                enroll_doctor::text_safety::shown(v)
            );
        }
        Err(_) => {}
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            // chrono's reason helps only for a near miss (`2026-11-26T25:00:00Z`); for
            // anything else ("premature end of input") it would confuse.
            let why = if looks_like_date_only {
                String::new()
            } else {
                format!(" ({e})")
            };
            anyhow::anyhow!(
                "--as-of \"{}\": expected YYYY-MM-DD or an RFC 3339 date-time such as \
                 2026-11-26T09:00:00Z{why}",
                enroll_doctor::text_safety::shown(v)
            )
        })
}

// ---- Logging, settings, runtime -----------------------------------------------------------

/// Sets up stderr logging once: `-v` info, `-vv` debug, `--trace-http` the HTTP exchange lines.
/// `RUST_LOG` overrides. Never logs bodies or credentials (see `graph::trace`).
pub(crate) fn init_logging(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let base = match global.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let mut directives = format!("{base},hyper=warn,reqwest=warn,rustls=warn,h2=warn");
    if global.trace_http {
        directives.push_str(&format!(",{HTTP_TARGET}=trace"));
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}

pub(crate) fn flags(global: &GlobalArgs) -> FlagOverrides {
    let c = &global.connection;
    FlagOverrides {
        tenant: c.tenant.clone(),
        client_id: c.client_id.clone(),
        auth: c.auth.map(|a| match a {
            AuthMethodArg::ClientSecret => AuthMethod::ClientSecret,
            AuthMethodArg::Certificate => AuthMethod::Certificate,
            AuthMethodArg::Browser => AuthMethod::Browser,
            AuthMethodArg::DeviceCode => AuthMethod::DeviceCode,
            AuthMethodArg::ManagedIdentity => AuthMethod::ManagedIdentity,
            AuthMethodArg::WorkloadIdentity => AuthMethod::WorkloadIdentity,
            AuthMethodArg::AzureCli => AuthMethod::AzureCli,
            AuthMethodArg::AccessToken => AuthMethod::AccessToken,
        }),
        cloud: c.cloud.map(|c| match c {
            CloudArg::Global => Cloud::Global,
            CloudArg::Usgov => Cloud::Usgov,
            CloudArg::UsgovDod => Cloud::UsgovDod,
            CloudArg::China => Cloud::China,
            CloudArg::Custom => Cloud::Custom,
        }),
        graph_url: c.graph_url.clone(),
        login_url: c.login_url.clone(),
        certificate: c.certificate.clone(),
    }
}

/// Connection settings from flags > environment > config file.
pub(crate) fn settings(global: &GlobalArgs) -> anyhow::Result<Settings> {
    settings_with(global, flags(global))
}

pub(crate) fn settings_with(global: &GlobalArgs, flags: FlagOverrides) -> anyhow::Result<Settings> {
    let file = FileConfig::discover(global.config.as_deref())?;
    Ok(Settings::from_process_env(file.as_ref(), &flags)?)
}

/// The tenant connection when one is configured (flags, environment or config file); `None`
/// when nothing points at a tenant (`diagnose` then stays device-only; `audit` and `check` say
/// what to configure instead of starting an interactive sign-in to an unnamed tenant).
pub(crate) fn configured_settings(global: &GlobalArgs) -> anyhow::Result<Option<Settings>> {
    let c = &global.connection;
    let env_set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
    let file = FileConfig::discover(global.config.as_deref())?;
    let intent = c.tenant.is_some()
        || c.client_id.is_some()
        || c.auth.is_some()
        || c.graph_url.is_some()
        || env_set(env_vars::TENANT_ID)
        || env_set(env_vars::AUTH)
        || env_set(env_vars::GRAPH_URL)
        || env_set(env_vars::ACCESS_TOKEN)
        || env_set(env_vars::ACCESS_TOKEN_FILE)
        || file.as_ref().is_some_and(|f| {
            f.tenant.is_some() || f.auth.is_some() || f.access_token_file.is_some()
        });
    if !intent {
        return Ok(None);
    }
    Ok(Some(settings(global)?))
}

/// A multi-threaded runtime for a command's Graph work.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// With `-v`, the client's counters on stderr.
pub(crate) fn print_stats(global: &GlobalArgs, client: &GraphClient) {
    if global.verbose > 0 {
        eprintln!("{}", client.stats());
    }
}

// ---- Tenant snapshot ----------------------------------------------------------------------

/// Loads `--snapshot`, or collects from Graph (and saves `--save-snapshot`).
pub(crate) fn tenant_snapshot(
    global: &GlobalArgs,
    source: &TenantSourceArgs,
    users: UserSelection,
    devices: bool,
) -> anyhow::Result<TenantSnapshot> {
    if let Some(path) = &source.snapshot {
        let started = std::time::Instant::now();
        let snap = TenantSnapshot::load(path)?;
        tracing::info!(
            "loaded the snapshot in {:.3} s",
            started.elapsed().as_secs_f64()
        );
        return Ok(snap);
    }
    let Some(settings) = configured_settings(global)? else {
        anyhow::bail!(
            "no tenant to read: pass --tenant (tenant id or verified domain), set AZURE_TENANT_ID, \
             or put `tenant = \"...\"` in enroll-doctor.toml (--auth device-code alone signs you \
             in to your home tenant); or evaluate a saved file with --snapshot FILE. \
             `enroll-doctor demo` shows the output on a sample tenant"
        );
    };
    let client = GraphClient::from_settings(&settings).context("cannot set up the Graph client")?;
    // Listing every user (or a group's members) can take minutes on a large tenant.
    let long = matches!(users, UserSelection::All | UserSelection::Group(_));
    let opts = collect_options(&settings, users, devices);
    let rt = runtime()?;
    let spinner = if long {
        progress_bar(None, "{spinner} {elapsed} {msg}")
    } else {
        None
    };
    let snap = rt
        .block_on(async {
            let work = collect(&client, &opts, Utc::now());
            let Some(pb) = &spinner else {
                return work.await;
            };
            tokio::pin!(work);
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tokio::select! {
                    r = &mut work => break r,
                    _ = tick.tick() => pb.set_message(graph_progress(&client.stats())),
                }
            }
        })
        .context("cannot collect the tenant from Graph");
    if let Some(pb) = spinner {
        pb.finish_and_clear();
        let s = client.stats();
        eprintln!(
            "{} ({:.1} s)",
            graph_progress(&s).replacen("reading", "read", 1),
            s.elapsed.as_secs_f64()
        );
    }
    let mut snap = snap?;
    tracing::info!(
        "collected the tenant in {:.3} s",
        client.stats().elapsed.as_secs_f64()
    );
    print_stats(global, &client);
    if let Some(path) = &source.save_snapshot {
        save(&mut snap, path, source)?;
    }
    Ok(snap)
}

/// What `audit` and `check` collect from one tenant: USERS, devices when DEVICES.
pub(crate) fn collect_options(
    settings: &Settings,
    users: UserSelection,
    devices: bool,
) -> CollectOptions {
    CollectOptions {
        // `check` of named users: their owned Entra devices too (USR010).
        owned_devices: matches!(users, UserSelection::Upns(_)),
        users,
        devices,
        cloud: settings.cloud.as_str().to_string(),
        tenant_hint: settings.tenant.clone(),
    }
}

/// Saves SNAP (normalised in place, as loading would); a redacted save redacts a copy, the
/// one copy made, since the run goes on with the real data.
fn save(snap: &mut TenantSnapshot, path: &Path, source: &TenantSourceArgs) -> anyhow::Result<()> {
    if !source.redact {
        snap.save(path)?;
        return Ok(());
    }
    let redactor = match &source.redact_key_file {
        Some(file) => key_from_file(file)?,
        None => {
            // The key is a secret: it is never printed. Without a key file it is simply dropped,
            // which makes the pseudonyms one-way even for whoever made the export.
            eprintln!(
                "enroll-doctor: redacted with a one-time key that was not kept; pass \
                 --redact-key-file FILE to keep it and redact device reports the same way"
            );
            Redactor::random()
        }
    };
    let mut copy = snap.clone();
    redactor.snapshot(&mut copy);
    copy.save(path)?;
    Ok(())
}

/// Reads the key from FILE, or writes a new one there (owner-only permissions).
fn key_from_file(file: &Path) -> anyhow::Result<Redactor> {
    if file.exists() {
        return Ok(Redactor::from_key_file(file)?);
    }
    let r = Redactor::random();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(file)
        .with_context(|| format!("cannot create the redaction key file {}", file.display()))?;
    writeln!(f, "{}", r.key_hex())
        .with_context(|| format!("cannot write the redaction key file {}", file.display()))?;
    eprintln!(
        "enroll-doctor: new redaction key saved to {}",
        file.display()
    );
    Ok(r)
}

/// Set by a run over many tenants: their evaluations run side by side, and bars drawn by each
/// would overwrite each other (the run prints one line per tenant instead).
static NO_PROGRESS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// No progress bars from here on (see [`NO_PROGRESS`]).
pub(crate) fn hide_progress() {
    NO_PROGRESS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether progress may be drawn: stderr is a terminal and the run is not in CI, so pipes, CI
/// logs and tests never see control sequences.
pub(crate) fn show_progress() -> bool {
    !NO_PROGRESS.load(std::sync::atomic::Ordering::Relaxed)
        && shows_progress(
            std::io::stderr().is_terminal(),
            std::env::var_os("CI").as_deref(),
        )
}

/// A progress bar (`len` items) or spinner (`None`) on stderr, when [`show_progress`].
pub(crate) fn progress_bar(len: Option<u64>, template: &str) -> Option<ProgressBar> {
    if !show_progress() {
        return None;
    }
    let pb = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    let style = match len {
        Some(_) => {
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
        }
        None => ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    };
    pb.set_style(style);
    pb.enable_steady_tick(Duration::from_millis(120));
    Some(pb)
}

/// One stage of a long run (`evaluating`, `writing`) as `N/M` with its ETA while it runs, and
/// one line saying what it did when it ends, so a run leaves one line per stage on stderr.
pub(crate) struct Stage {
    bar: Option<ProgressBar>,
    started: std::time::Instant,
}

impl Stage {
    /// `evaluating: 1200/100000 users [███░░░] 2s, ETA 40s` (nothing unless [`show_progress`]).
    pub(crate) fn new(len: usize, stage: &str, noun: &str) -> Stage {
        Stage {
            bar: progress_bar(
                Some(len as u64),
                &format!("{stage}: {{pos}}/{{len}} {noun} [{{bar:30}}] {{elapsed}}, ETA {{eta}}"),
            ),
            started: std::time::Instant::now(),
        }
    }

    pub(crate) fn inc(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// Replaces the bar with `done` and the stage's duration.
    pub(crate) fn finish(self, done: &str) {
        tracing::info!("{done} in {:.3} s", self.started.elapsed().as_secs_f64());
        if let Some(b) = self.bar {
            b.finish_and_clear();
            eprintln!("{done} ({:.1} s)", self.started.elapsed().as_secs_f64());
        }
    }
}

/// The Graph stage's line: requests, pages, items (of the total when announced), data.
fn graph_progress(s: &enroll_doctor::graph::GraphStats) -> String {
    let items = if s.expected_items > 0 {
        format!("{} of {} items", s.items, s.expected_items)
    } else {
        format!("{} items", s.items)
    };
    format!(
        "reading Graph: {} requests, {} pages, {items}, {:.1} MB received",
        s.requests,
        s.pages,
        s.bytes_received as f64 / 1_000_000.0
    )
}

/// Progress goes to a terminal, and never to a CI log (CI systems set `CI`, some to `false`
/// when a job is run by hand).
fn shows_progress(stderr_is_terminal: bool, ci: Option<&std::ffi::OsStr>) -> bool {
    let in_ci = ci.is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    stderr_is_terminal && !in_ci
}

/// Notes for the reader: where the facts came from.
pub(crate) fn source_notes(snap: &TenantSnapshot, source: &TenantSourceArgs) -> Vec<String> {
    let mut notes = Vec::new();
    match &source.snapshot {
        Some(p) => notes.push(format!(
            "tenant facts from snapshot {} (collected {})",
            p.display(),
            snap.collected_at.to_rfc3339()
        )),
        None => notes.push(format!(
            "tenant {} read from {} with {}",
            snap.tenant_id,
            snap.graph_base,
            match snap.token_kind {
                TokenKind::AppOnly => {
                    "an app-only token (MDM/MAM scope checks need a delegated sign-in: `enroll-doctor auth login --auth browser`, or `--auth device-code`, then the same `--auth` here)"
                }
                TokenKind::Delegated => "a delegated token",
                TokenKind::Unknown => "a token of unknown kind",
            }
        )),
    }
    if let Some(p) = &source.save_snapshot {
        notes.push(format!(
            "snapshot saved to {}{}",
            p.display(),
            if source.redact { " (redacted)" } else { "" }
        ));
    }
    notes
}

/// Prints a tenant-only report (no diagnoses) with its notes; returns the exit code.
pub(crate) fn render(
    output: &OutputArgs,
    as_of: DateTime<Utc>,
    findings: Vec<Finding>,
    notes: Vec<String>,
) -> anyhow::Result<u8> {
    let mut report = Report::new(as_of, Vec::new(), findings);
    report.notes = notes;
    emit_report(&report, output)
}

// ---- Device runs (`diagnose`, `demo`): device side, collection for it, correlation --------

/// Overrides [`device_records::BULK_THRESHOLD`] (an internal knob: tests force either strategy
/// with it; the findings are the same either way).
const BULK_THRESHOLD_ENV: &str = "ENROLL_DOCTOR_FLEET_BULK_THRESHOLD";

/// Collects the tenant for these devices: tenant-wide configuration, the named users (object,
/// groups, devices, troubleshooting events) and the devices' Entra and Intune records by
/// DeviceId and name, in `$batch` lookups for a small fleet and as bulk listings (resolved in
/// memory) for a large one.
pub(crate) fn collect_for_devices(
    settings: &Settings,
    needs: &TenantNeeds,
) -> anyhow::Result<(TenantSnapshot, GraphClient)> {
    let client = GraphClient::from_settings(settings).context("cannot set up the Graph client")?;
    let opts = CollectOptions {
        users: if needs.upns.is_empty() {
            UserSelection::None
        } else {
            UserSelection::Upns(needs.upns.iter().cloned().collect())
        },
        devices: false,
        owned_devices: false,
        cloud: settings.cloud.as_str().to_string(),
        tenant_hint: settings.tenant.clone(),
    };
    let lookup = DeviceLookup {
        device_ids: needs.device_ids.clone(),
        names: needs.names.clone(),
        serial_numbers: needs.serial_numbers.clone(),
    };
    let threshold = match std::env::var(BULK_THRESHOLD_ENV) {
        Ok(v) => v.trim().parse::<usize>().with_context(|| {
            format!(
                "{BULK_THRESHOLD_ENV}=\"{}\" is not a number of devices",
                enroll_doctor::text_safety::shown(&v)
            )
        })?,
        Err(_) => device_records::BULK_THRESHOLD,
    };
    let strategy = FleetStrategy::choose(&lookup, needs.upns.len(), threshold);
    tracing::debug!(
        "fleet of {} device(s): {} collection",
        needs.device_ids.len(),
        match strategy {
            FleetStrategy::Targeted => "targeted",
            FleetStrategy::Bulk => "bulk",
        }
    );
    let rt = runtime()?;
    let snap = rt
        .block_on(async {
            let work =
                device_records::collect_fleet(&client, &opts, &lookup, strategy, Utc::now());
            tokio::pin!(work);
            // A spinner on a terminal once the collection lasts (a small fleet never shows one).
            let started = Instant::now();
            let mut spinner: Option<ProgressBar> = None;
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            let done = loop {
                tokio::select! {
                    r = &mut work => break r,
                    _ = tick.tick() => {
                        if spinner.is_none() && started.elapsed() >= Duration::from_millis(500) {
                            spinner = progress_bar(None, "{spinner} {elapsed} {msg}");
                        }
                        if let Some(pb) = &spinner {
                            let s = client.stats();
                            pb.set_message(format!(
                                "reading the tenant from Graph for {} device(s): {} requests, {:.1} MB received",
                                lookup.device_ids.len(),
                                s.requests,
                                s.bytes_received as f64 / 1_000_000.0
                            ));
                        }
                    }
                }
            };
            if let Some(pb) = spinner {
                pb.finish_and_clear();
            }
            done
        })
        .context("cannot collect the tenant from Graph")?;
    Ok((snap, client))
}

/// Notes for a run read from Graph: the tenant, the token kind and what was looked up.
pub(crate) fn graph_notes(snap: &TenantSnapshot, needs: &TenantNeeds) -> Vec<String> {
    let name = snap
        .sources
        .organization
        .data()
        .and_then(|o| o.display_name.clone())
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let kind = match snap.token_kind {
        TokenKind::AppOnly => "an app-only",
        TokenKind::Delegated => "a delegated",
        TokenKind::Unknown => "an unrecognised",
    };
    let mut notes = vec![format!(
        "tenant {}{name} read from {} with {kind} token: {} user(s) and {} device(s) looked up",
        snap.tenant_id,
        snap.graph_base,
        needs.upns.len(),
        needs.device_ids.len()
    )];
    notes.extend(app_only_note(snap));
    notes
}

/// What an app-only token could not read, and how to read it.
pub(crate) fn app_only_note(snap: &TenantSnapshot) -> Option<String> {
    (snap.token_kind == TokenKind::AppOnly).then(|| {
        format!(
            "The MDM/MAM user scopes are readable with a delegated sign-in only: USR003/USR004 and \
             TEN003-TEN006 are skipped. To check them, {}.",
            enroll_doctor::graph::auth::hints::DELEGATED_SIGN_IN
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_accepts_date_and_rfc3339_and_rejects_junk() {
        let d = parse_as_of(Some("2026-11-26")).map(|t| t.to_rfc3339()).ok();
        assert_eq!(d.as_deref(), Some("2026-11-26T00:00:00+00:00"));
        let t = parse_as_of(Some("2026-11-26T10:00:00+01:00"))
            .map(|t| t.to_rfc3339())
            .ok();
        assert_eq!(t.as_deref(), Some("2026-11-26T09:00:00+00:00"));
        let e = parse_as_of(Some("26/11/2026"))
            .err()
            .map(|e| format!("{e:#}"));
        assert!(e.is_some_and(|m| m.contains("--as-of") && m.contains("YYYY-MM-DD")));
    }

    #[test]
    fn progress_only_on_a_terminal_outside_ci() {
        use std::ffi::OsStr;
        assert!(shows_progress(true, None));
        assert!(!shows_progress(false, None));
        assert!(!shows_progress(true, Some(OsStr::new("true"))));
        assert!(!shows_progress(true, Some(OsStr::new("1"))));
        assert!(shows_progress(true, Some(OsStr::new("false"))));
        assert!(shows_progress(true, Some(OsStr::new(""))));
    }

    #[test]
    fn as_of_with_an_impossible_month_says_the_date_is_invalid() {
        let e = parse_as_of(Some("2025-13-01"))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains("not a valid date"), "{e}");
        assert!(!e.contains("premature end"), "{e}");
    }
}
