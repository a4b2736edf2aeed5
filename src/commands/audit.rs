//! `enroll-doctor audit`, and the tenant-source plumbing `check` shares: load a snapshot or
//! collect one from Graph, save it (optionally redacted), render a report.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use enroll_doctor::checks::tenant::evaluate_tenant;
use enroll_doctor::graph::GraphClient;
use enroll_doctor::model::Finding;
use enroll_doctor::redact::Redactor;
use enroll_doctor::report::Report;
use enroll_doctor::tenant::TenantSnapshot;
use enroll_doctor::tenant::collect::{CollectOptions, UserSelection, collect};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{AuditArgs, GlobalArgs, OutputArgs, TenantSourceArgs};

pub fn run(global: &GlobalArgs, args: AuditArgs) -> anyhow::Result<u8> {
    super::auth::init_logging(global);
    let as_of = super::parse_as_of(args.output.as_of.as_deref())?;
    // A saved snapshot should serve `check` and `diagnose` later too: collect users and
    // devices as well (each O(N/999) list requests).
    let full = args.source.save_snapshot.is_some();
    let selection = if full {
        UserSelection::All
    } else {
        UserSelection::None
    };
    let snap = tenant_snapshot(global, &args.source, selection, full)?;
    let findings = evaluate_tenant(&snap);
    render(
        &args.output,
        as_of,
        findings,
        source_notes(&snap, &args.source),
    )
}

/// Loads `--snapshot`, or collects from Graph (and saves `--save-snapshot`).
pub(crate) fn tenant_snapshot(
    global: &GlobalArgs,
    source: &TenantSourceArgs,
    users: UserSelection,
    devices: bool,
) -> anyhow::Result<TenantSnapshot> {
    if let Some(path) = &source.snapshot {
        return Ok(TenantSnapshot::load(path)?);
    }
    let Some(settings) = super::auth::configured_settings(global)? else {
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
    let opts = CollectOptions {
        users,
        devices,
        cloud: settings.cloud.as_str().to_string(),
        tenant_hint: settings.tenant.clone(),
    };
    let rt = super::auth::runtime()?;
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
                    _ = tick.tick() => {
                        let s = client.stats();
                        pb.set_message(format!(
                            "reading the tenant from Graph: {} requests, {:.1} MB received",
                            s.requests,
                            s.bytes_received as f64 / 1_000_000.0
                        ));
                    }
                }
            }
        })
        .context("cannot collect the tenant from Graph");
    if let Some(pb) = &spinner {
        pb.finish_and_clear();
    }
    let snap = snap?;
    super::auth::print_stats(global, &client);
    if let Some(path) = &source.save_snapshot {
        save(&snap, path, source)?;
    }
    Ok(snap)
}

fn save(snap: &TenantSnapshot, path: &Path, source: &TenantSourceArgs) -> anyhow::Result<()> {
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
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the redaction key file {}", file.display()))?;
        return Redactor::from_hex(&text)
            .with_context(|| format!("redaction key file {}", file.display()));
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

/// A progress bar (`len` items) or spinner (`None`) on stderr — only when stderr is a terminal,
/// so pipes, CI logs and tests never see control sequences.
pub(crate) fn progress_bar(len: Option<u64>, template: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
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
                enroll_doctor::tenant::snapshot::TokenKind::AppOnly => {
                    "an app-only token (MDM/MAM scope checks need a delegated sign-in: `enroll-doctor auth login`)"
                }
                enroll_doctor::tenant::snapshot::TokenKind::Delegated => "a delegated token",
                enroll_doctor::tenant::snapshot::TokenKind::Unknown => "a token of unknown kind",
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

pub(crate) fn render(
    output: &OutputArgs,
    as_of: DateTime<Utc>,
    findings: Vec<Finding>,
    notes: Vec<String>,
) -> anyhow::Result<u8> {
    let mut report = Report::new(as_of, Vec::new(), findings);
    report.notes = notes;
    super::emit_report(&report, output)
}
