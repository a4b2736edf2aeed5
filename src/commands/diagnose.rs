//! `enroll-doctor diagnose`: one diagnosis per device report. Device-only by default; with a
//! tenant configured (the same connection flags, environment or config file as `audit`) or
//! `--snapshot FILE`, each device is correlated with the tenant (COR001–COR007, the enrolling
//! user's USR checks) and the tenant causes lead the cause chain.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::context::{
    analyse_all, app_only_note, collect_for_devices, configured_settings, correlated_report,
    emit_report, fleet_summary, graph_notes, init_logging, input_notes, parse_as_of, print_stats,
    tenant_needs,
};
use crate::cli::{DiagnoseArgs, GlobalArgs};
use enroll_doctor::checks::device;
use enroll_doctor::config::Settings;
use enroll_doctor::device::load_path;
use enroll_doctor::device::report::DeviceReport;
use enroll_doctor::report::Report;
use enroll_doctor::tenant::TenantSnapshot;

pub const NO_TENANT_NOTE: &str = "No tenant connection: device-only analysis. With a tenant (or --snapshot) enroll-doctor would also check the user's license, MDM scope, restrictions and the Entra/Intune device records.";

/// Where the tenant facts come from.
enum TenantInput {
    Snapshot(PathBuf),
    Graph(Box<Settings>),
}

pub fn run(global: &GlobalArgs, args: DiagnoseArgs) -> anyhow::Result<u8> {
    let as_of = parse_as_of(args.output.as_of.as_deref())?;

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
        configured_settings(global)?.map(|s| TenantInput::Graph(Box::new(s)))
    };
    let user = redacted_user.as_deref().or(args.user.as_deref());
    let report = match tenant {
        None => device_only_report(&reports, user, as_of),
        Some(TenantInput::Snapshot(path)) => {
            let snap = TenantSnapshot::load(&path)?;
            let mut notes = vec![format!(
                "tenant facts from snapshot {} (collected {})",
                path.display(),
                snap.collected_at.to_rfc3339()
            )];
            notes.extend(app_only_note(&snap));
            let analyses = analyse_all(&reports, user, as_of);
            correlated_report(&reports, &analyses, &snap, user, as_of, notes)
        }
        Some(TenantInput::Graph(settings)) => {
            init_logging(global);
            let analyses = analyse_all(&reports, user, as_of);
            let needs = tenant_needs(&reports, &analyses, user);
            let (snap, client) = collect_for_devices(&settings, &needs)?;
            print_stats(global, &client);
            let notes = graph_notes(&snap, &needs);
            correlated_report(&reports, &analyses, &snap, user, as_of, notes)
        }
    };
    emit_report(&report, &args.output)
}

/// Device-only: every report on its own, and what a tenant connection would add.
pub(crate) fn device_only_report(
    reports: &[DeviceReport],
    user: Option<&str>,
    as_of: DateTime<Utc>,
) -> Report {
    let mut diagnoses = Vec::new();
    let mut findings = Vec::new();
    let mut notes = vec![NO_TENANT_NOTE.to_string()];
    for r in reports {
        let analysis = device::analyse_with_user(r, as_of, user);
        // Device-only: no tenant findings to put in front of the device causes.
        let diagnosis = device::diagnose(&analysis, &[]);
        notes.extend(input_notes(r, &analysis.device));
        diagnoses.push(diagnosis);
        findings.extend(analysis.findings);
    }
    notes.extend(fleet_summary(&diagnoses));
    let mut report = Report::new(as_of, diagnoses, findings);
    report.notes = notes;
    report
}
