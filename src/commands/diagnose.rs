//! `enroll-doctor diagnose`: one diagnosis per device report. Device-only by default; with a
//! tenant configured (the same connection flags, environment or config file as `audit`) or
//! `--snapshot FILE`, each device is correlated with the tenant (COR001–COR007, the enrolling
//! user's USR checks) and the tenant causes lead the cause chain.

use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;

use crate::cli::{DiagnoseArgs, GlobalArgs};
use enroll_doctor::checks::correlate::TenantNeeds;
use enroll_doctor::config::Settings;
use enroll_doctor::device::load_path;
use enroll_doctor::device::report::DeviceReport;
use enroll_doctor::diagnose::{Tenant, analyse_all, diagnose, tenant_needs};
use enroll_doctor::graph::GraphClient;
use enroll_doctor::report::Report;
use enroll_doctor::tenant::TenantSnapshot;
use enroll_doctor::tenant::collect::{CollectOptions, UserSelection};
use enroll_doctor::tenant::device_records::{self, DeviceLookup, FleetStrategy};
use enroll_doctor::tenant::snapshot::TokenKind;

/// Where the tenant facts come from.
enum TenantInput {
    Snapshot(PathBuf),
    Graph(Box<Settings>),
}

pub fn run(global: &GlobalArgs, args: DiagnoseArgs) -> anyhow::Result<u8> {
    let as_of = super::parse_as_of(args.output.as_of.as_deref())?;

    let mut reports: Vec<DeviceReport> = Vec::new();
    for path in &args.device_reports {
        // The loader's errors start with the path already.
        let loaded = load_path(path).context("cannot use device report")?;
        reports.extend(loaded);
    }
    if reports.is_empty() {
        anyhow::bail!("no device report found in the given paths");
    }
    let mut redacted_user = None;
    if let Some(key_file) = &args.redact_key_file {
        if args.snapshot.is_none() && !args.offline {
            // Live Graph facts carry real identifiers: pseudonymised reports would match nothing.
            anyhow::bail!(
                "--redact-key-file needs --snapshot (a snapshot redacted with the same key) or --offline"
            );
        }
        let text = std::fs::read_to_string(key_file).with_context(|| {
            format!("cannot read the redaction key file {}", key_file.display())
        })?;
        let redactor = enroll_doctor::redact::Redactor::from_hex(&text)
            .with_context(|| format!("redaction key file {}", key_file.display()))?;
        for r in &mut reports {
            redactor
                .device_report(r)
                .with_context(|| format!("cannot redact device report {}", r.label))?;
        }
        redacted_user = args.user.as_deref().map(|u| redactor.upn(u));
    }

    let tenant = if args.offline {
        None
    } else if let Some(p) = &args.snapshot {
        Some(TenantInput::Snapshot(p.clone()))
    } else {
        super::auth::configured_settings(global)?.map(|s| TenantInput::Graph(Box::new(s)))
    };
    let user = redacted_user.as_deref().or(args.user.as_deref());
    let diagnosed = match tenant {
        None => {
            let analyses = analyse_all(&reports, user, as_of);
            diagnose(&reports, &analyses, None, user, as_of)
        }
        Some(TenantInput::Snapshot(path)) => {
            let snap = TenantSnapshot::load(&path)?;
            let mut notes = vec![format!(
                "tenant facts from snapshot {} (collected {})",
                path.display(),
                snap.collected_at.to_rfc3339()
            )];
            notes.extend(app_only_note(&snap));
            let analyses = analyse_all(&reports, user, as_of);
            let tenant = Tenant {
                snapshot: &snap,
                notes,
            };
            diagnose(&reports, &analyses, Some(tenant), user, as_of)
        }
        Some(TenantInput::Graph(settings)) => {
            super::auth::init_logging(global);
            let analyses = analyse_all(&reports, user, as_of);
            let needs = tenant_needs(&reports, &analyses, user);
            let (snap, client) = collect_for_devices(&settings, &needs)?;
            super::auth::print_stats(global, &client);
            let notes = graph_notes(&snap, &needs);
            let tenant = Tenant {
                snapshot: &snap,
                notes,
            };
            diagnose(&reports, &analyses, Some(tenant), user, as_of)
        }
    };
    let report = Report::from(diagnosed);
    super::emit_report(&report, &args.output)
}

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
        cloud: settings.cloud.as_str().to_string(),
        tenant_hint: settings.tenant.clone(),
    };
    let lookup = DeviceLookup {
        device_ids: needs.device_ids.clone(),
        names: needs.names.clone(),
    };
    let threshold = match std::env::var(BULK_THRESHOLD_ENV) {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .with_context(|| format!("{BULK_THRESHOLD_ENV}={v:?} is not a number of devices"))?,
        Err(_) => device_records::BULK_THRESHOLD,
    };
    let strategy = FleetStrategy::choose(&lookup, needs.upns.len(), threshold);
    tracing::debug!(
        "fleet of {} device(s): {strategy:?} collection",
        needs.device_ids.len()
    );
    let rt = super::auth::runtime()?;
    let snap = rt
        .block_on(device_records::collect_fleet(
            &client,
            &opts,
            &lookup,
            strategy,
            Utc::now(),
        ))
        .context("cannot collect the tenant from Graph")?;
    Ok((snap, client))
}

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
fn app_only_note(snap: &TenantSnapshot) -> Option<String> {
    (snap.token_kind == TokenKind::AppOnly).then(|| {
        "The MDM/MAM user scopes are readable with a delegated sign-in only: USR003/USR004 and \
         TEN003-TEN006 are skipped. Run `enroll-doctor auth login` and diagnose again to check them."
            .to_string()
    })
}
