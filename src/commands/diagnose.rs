//! `enroll-doctor diagnose`: one diagnosis per device report. Device-only by default; with a
//! tenant configured (the same connection flags, environment or config file as `audit`) or
//! `--snapshot FILE`, each device is correlated with the tenant (COR001–COR007, the enrolling
//! user's USR checks) and the tenant causes lead the cause chain.
//!
//! The reports are read one device container at a time (`diagnose::fleet`): a Graph run reads
//! them once for what to look up, collects, and reads them again to diagnose; offline and
//! snapshot runs read them once.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;

use super::context::{
    app_only_note, collect_for_devices, configured_settings, emit_report, gate, graph_notes,
    init_logging, parse_as_of, print_stats, progress_bar,
};
use crate::cli::{DiagnoseArgs, GlobalArgs};
use enroll_doctor::config::Settings;
use enroll_doctor::device::sources::DeviceSources;
use enroll_doctor::diagnose::fleet::{self, Collector, FleetError, Inputs, Progress, Stage};
use enroll_doctor::diagnose::{Diagnosed, Pipeline};
use enroll_doctor::redact::Redactor;
use enroll_doctor::report::Report;
use enroll_doctor::tenant::TenantSnapshot;

/// Where the tenant facts come from.
enum TenantInput {
    Snapshot(PathBuf),
    Graph(Box<Settings>),
}

pub fn run(global: &GlobalArgs, args: DiagnoseArgs) -> anyhow::Result<u8> {
    let as_of = parse_as_of(args.output.as_of.as_deref())?;
    gate(&args.output)?;

    // The loader's errors start with the path already.
    let sources = DeviceSources::list(&args.device_reports).context("cannot use device report")?;
    if sources.members() == 0 {
        anyhow::bail!("no device report found in the given paths");
    }
    let mut redactor = None;
    if let Some(key_file) = &args.redact_key_file {
        if args.snapshot.is_none() && !args.offline {
            // Live Graph facts carry real identifiers: pseudonymised reports would match nothing.
            anyhow::bail!(
                "--redact-key-file needs --snapshot (a snapshot redacted with the same key) or --offline"
            );
        }
        redactor = Some(Redactor::from_key_file(key_file)?);
    }
    let redacted_user = match (&redactor, args.user.as_deref()) {
        (Some(r), Some(u)) => Some(r.upn(u)),
        _ => None,
    };
    let inputs = Inputs {
        redactor: redactor.as_ref(),
        ..Inputs::new(&sources)
    };

    let tenant = if args.offline {
        None
    } else if let Some(p) = &args.snapshot {
        Some(TenantInput::Snapshot(p.clone()))
    } else {
        configured_settings(global)?.map(|s| TenantInput::Graph(Box::new(s)))
    };
    let user = redacted_user.as_deref().or(args.user.as_deref());
    let mut progress = DeviceProgress::new(sources.members());
    let diagnosed = match tenant {
        None => diagnose_all(
            &inputs,
            &Pipeline::new(None, user, as_of),
            Vec::new(),
            &mut progress,
        ),
        Some(TenantInput::Snapshot(path)) => {
            let snap = TenantSnapshot::load(&path)?;
            let mut notes = vec![format!(
                "tenant facts from snapshot {} (collected {})",
                path.display(),
                snap.collected_at.to_rfc3339()
            )];
            notes.extend(app_only_note(&snap));
            let pipeline = Pipeline::new(Some(&snap), user, as_of);
            diagnose_all(&inputs, &pipeline, notes, &mut progress)
        }
        Some(TenantInput::Graph(settings)) => {
            init_logging(global);
            // Pass one: only the keys to look up are kept, not the reports.
            let needs = fleet::needs(&inputs, &Pipeline::new(None, user, as_of), &mut |p| {
                progress.update(p)
            })
            .map_err(fleet_error);
            progress.clear();
            let needs = needs?;
            let (snap, client) = collect_for_devices(&settings, &needs)?;
            print_stats(global, &client);
            let notes = graph_notes(&snap, &needs);
            let pipeline = Pipeline::new(Some(&snap), user, as_of);
            diagnose_all(&inputs, &pipeline, notes, &mut progress)
        }
    }?;
    let report = Report::from(diagnosed);
    emit_report(&report, &args.output)
}

/// Diagnoses every device into one in-memory report (what the renderers take), with the tenant
/// notes `lead` first.
fn diagnose_all(
    inputs: &Inputs<'_>,
    pipeline: &Pipeline<'_>,
    lead: Vec<String>,
    progress: &mut DeviceProgress,
) -> anyhow::Result<Diagnosed> {
    let mut sink = Collector::new(pipeline, lead);
    let run = fleet::run(inputs, pipeline, &mut sink, &mut |p| progress.update(p));
    progress.clear();
    run.map_err(fleet_error)?;
    Ok(sink.finish().0)
}

fn fleet_error(e: FleetError) -> anyhow::Error {
    match e {
        FleetError::Input(e) => anyhow::Error::new(e).context("cannot use device report"),
        other => other.into(),
    }
}

/// `reading device reports 1200/10000 [00:00:03] ETA 00:00:21` on stderr, for runs over
/// several device containers that last (the bar appears after a moment, so short runs never
/// flash one); never in a pipe or in CI ([`progress_bar`]).
struct DeviceProgress {
    total: usize,
    started: Instant,
    stage: Option<Stage>,
    bar: Option<ProgressBar>,
}

/// How long a run goes before it shows a progress bar.
const PROGRESS_AFTER: Duration = Duration::from_millis(300);

impl DeviceProgress {
    fn new(total: usize) -> DeviceProgress {
        DeviceProgress {
            total,
            started: Instant::now(),
            stage: None,
            bar: None,
        }
    }

    fn update(&mut self, p: Progress) {
        if self.total < 2 {
            return;
        }
        if self.stage != Some(p.stage) {
            self.clear();
            self.stage = Some(p.stage);
            self.started = Instant::now();
        }
        if self.bar.is_none() && self.started.elapsed() >= PROGRESS_AFTER {
            self.bar = progress_bar(
                Some(p.total as u64),
                "{msg} {pos}/{len} [{elapsed_precise}] ETA {eta}",
            );
            if let Some(bar) = &self.bar {
                bar.set_message(p.stage.as_str());
            }
        }
        if let Some(bar) = &self.bar {
            bar.set_position(p.done as u64);
        }
    }

    /// Removes the bar (before the output, an error or the next stage).
    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
