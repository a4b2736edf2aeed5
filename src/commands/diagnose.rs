//! `enroll-doctor diagnose`: one diagnosis per device report. Device-only by default; with a
//! tenant configured (the same connection flags, environment or config file as `audit`) or
//! `--snapshot FILE`, each device is correlated with the tenant (COR001–COR007, the enrolling
//! user's USR checks) and the tenant causes lead the cause chain.

use std::path::PathBuf;

use anyhow::Context;

use super::context::{
    app_only_note, collect_for_devices, configured_settings, emit_report, graph_notes,
    init_logging, parse_as_of, print_stats,
};
use crate::cli::{DiagnoseArgs, GlobalArgs};
use enroll_doctor::config::Settings;
use enroll_doctor::device::load_path;
use enroll_doctor::device::report::DeviceReport;
use enroll_doctor::diagnose::{Tenant, analyse_all, diagnose, tenant_needs};
use enroll_doctor::report::Report;
use enroll_doctor::tenant::TenantSnapshot;

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
            init_logging(global);
            let analyses = analyse_all(&reports, user, as_of);
            let needs = tenant_needs(&reports, &analyses, user);
            let (snap, client) = collect_for_devices(&settings, &needs)?;
            print_stats(global, &client);
            let notes = graph_notes(&snap, &needs);
            let tenant = Tenant {
                snapshot: &snap,
                notes,
            };
            diagnose(&reports, &analyses, Some(tenant), user, as_of)
        }
    };
    let report = Report::from(diagnosed);
    emit_report(&report, &args.output)
}
