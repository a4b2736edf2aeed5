//! Runs over many devices, read from disk one device container at a time ([`DeviceSources`]):
//! each report is read, analysed, diagnosed ([`Pipeline`]) and handed to a [`DeviceSink`], then
//! dropped. Memory is bounded by what the sinks keep, not by the reports or their findings.
//!
//! A run with a tenant read from Graph takes two passes: [`needs`] reads every report once for
//! the users, DeviceIds and host names to look up, keeping only those keys; after the
//! collection, [`run`] reads them again to diagnose. Offline and snapshot runs take one pass.
//!
//! The same device in two inputs (a folder and its zip: the same Entra DeviceId) is diagnosed
//! once, from the first; the later input goes to [`DeviceSink::duplicate`]. When the run is
//! over more than one device, every diagnosis names its inputs ([`Diagnosis::inputs`]).
//!
//! [`Diagnosis::inputs`]: crate::model::Diagnosis::inputs

use std::collections::HashMap;

use super::summary::{FleetAggregator, FleetSummary};
use super::{DeviceOutcome, Diagnosed, NO_TENANT_NOTE, Pipeline, USER_FLAG_NOTE};
use crate::checks::correlate::{TenantNeeds, device_keys};
use crate::device::load::{DeviceInputError, DeviceRef, DeviceSources, LoadedDevice};
use crate::redact::{RedactError, Redactor};

/// Where the diagnosed devices go, one at a time.
pub trait DeviceSink {
    /// One device, diagnosed: every distinct device once, in input order.
    fn device(&mut self, device: &FleetDevice);

    /// A later input holding a device already handed on (the same Entra DeviceId): it is not
    /// diagnosed again.
    fn duplicate(&mut self, _duplicate: &Duplicate) {}
}

/// Both sinks see every device: `(summary, renderer)`.
impl<A: DeviceSink, B: DeviceSink> DeviceSink for (A, B) {
    fn device(&mut self, device: &FleetDevice) {
        self.0.device(device);
        self.1.device(device);
    }

    fn duplicate(&mut self, duplicate: &Duplicate) {
        self.0.duplicate(duplicate);
        self.1.duplicate(duplicate);
    }
}

/// One device of a run, diagnosed.
#[derive(Debug, Clone)]
pub struct FleetDevice {
    /// Its place among the run's distinct devices, in input order (0, 1, 2, …).
    pub ordinal: usize,
    /// Where it was read ([`DeviceSources::read`] can read that member alone again).
    pub at: DeviceRef,
    /// The path it was read from.
    pub input: String,
    /// Whether the run is over more than one device: its diagnosis then names its input.
    pub fleet: bool,
    pub outcome: DeviceOutcome,
}

/// A device read a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The ordinal of the device first read with this DeviceId.
    pub of: usize,
    pub device_id: String,
    /// This copy's label (usually the first one's) and input path.
    pub device: String,
    pub input: String,
    pub at: DeviceRef,
}

/// What a run is doing, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The first pass of a Graph run: reading the reports for what to look up.
    Reading,
    Diagnosing,
}

impl Stage {
    pub fn as_str(&self) -> &'static str {
        match self {
            Stage::Reading => "reading device reports",
            Stage::Diagnosing => "diagnosing",
        }
    }
}

/// Device containers done out of all of them, after each device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

/// Why a run over device inputs stopped.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Input(#[from] DeviceInputError),
    #[error("cannot redact device report {label}")]
    Redact {
        label: String,
        #[source]
        source: RedactError,
    },
}

/// What a run read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FleetStats {
    /// Device reports read (duplicates included).
    pub reports: usize,
    /// Distinct devices handed to the sink.
    pub devices: usize,
    /// Reports of a device already handed on.
    pub duplicates: usize,
    /// Whether the run was over more than one device.
    pub fleet: bool,
}

/// How to read the inputs: which, and how to pseudonymise each report first.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub sources: &'a DeviceSources,
    /// `--redact-key-file`: every report is redacted before it is analysed.
    pub redactor: Option<&'a Redactor>,
}

impl<'a> Inputs<'a> {
    pub fn new(sources: &'a DeviceSources) -> Inputs<'a> {
        Inputs {
            sources,
            redactor: None,
        }
    }

    /// Reads every device (or those of the `wanted` members), redacted when asked.
    fn read(
        &self,
        wanted: Option<&dyn Fn(usize) -> bool>,
        mut each: impl FnMut(LoadedDevice) -> Result<(), FleetError>,
    ) -> Result<(), FleetError> {
        self.sources.read(wanted, |mut d| {
            if let Some(r) = self.redactor {
                r.device_report(&mut d.report)
                    .map_err(|source| FleetError::Redact {
                        label: d.report.label.clone(),
                        source,
                    })?;
            }
            each(d)
        })
    }
}

/// Pass one of a run with a tenant read from Graph: the users, DeviceIds and host names every
/// report names, keeping nothing else.
pub fn needs(
    inputs: &Inputs<'_>,
    pipeline: &Pipeline<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<TenantNeeds, FleetError> {
    let total = inputs.sources.members();
    let mut needs = TenantNeeds::default();
    inputs.read(None, |d| {
        let analysis = pipeline.analyse(&d.report);
        needs.add(&device_keys(&d.report, &analysis, pipeline.user()));
        progress(Progress {
            stage: Stage::Reading,
            done: d.at.member + 1,
            total,
        });
        Ok(())
    })?;
    Ok(needs)
}

/// Diagnoses every device of `inputs` into `sink`, in input order; the same DeviceId read
/// again goes to [`DeviceSink::duplicate`].
pub fn run(
    inputs: &Inputs<'_>,
    pipeline: &Pipeline<'_>,
    sink: &mut dyn DeviceSink,
    progress: &mut dyn FnMut(Progress),
) -> Result<FleetStats, FleetError> {
    let total = inputs.sources.members();
    let mut runner = Runner {
        pipeline,
        sink,
        fleet: total > 1,
        pending: None,
        seen: HashMap::new(),
        stats: FleetStats::default(),
    };
    inputs.read(None, |d| {
        let member = d.at.member;
        runner.read(d);
        progress(Progress {
            stage: Stage::Diagnosing,
            done: member + 1,
            total,
        });
        Ok(())
    })?;
    runner.flush();
    runner.stats.fleet = runner.fleet;
    Ok(runner.stats)
}

struct Runner<'r, 'p> {
    pipeline: &'r Pipeline<'p>,
    sink: &'r mut dyn DeviceSink,
    /// Known from the start with several members; with one (a zip of device folders may
    /// hold many), from its second device on.
    fleet: bool,
    /// The first device of a one-member run, held until it is known whether another follows.
    pending: Option<FleetDevice>,
    /// DeviceId → ordinal of the device first read with it.
    seen: HashMap<String, usize>,
    stats: FleetStats,
}

impl Runner<'_, '_> {
    fn read(&mut self, d: LoadedDevice) {
        self.stats.reports += 1;
        let analysis = self.pipeline.analyse(&d.report);
        let input = d.input.display().to_string();
        let device_id = device_keys(&d.report, &analysis, self.pipeline.user()).device_id;
        if let Some(id) = &device_id
            && let Some(&of) = self.seen.get(id)
        {
            self.stats.duplicates += 1;
            self.go_fleet();
            self.sink.duplicate(&Duplicate {
                of,
                device_id: id.clone(),
                device: analysis.device.clone(),
                input,
                at: d.at,
            });
            return;
        }
        let ordinal = self.stats.devices;
        self.stats.devices += 1;
        if let Some(id) = device_id {
            self.seen.insert(id, ordinal);
        }
        let outcome = self.pipeline.diagnose(&d.report, &analysis);
        let device = FleetDevice {
            ordinal,
            at: d.at,
            input,
            fleet: self.fleet,
            outcome,
        };
        if !self.fleet && ordinal == 0 {
            self.pending = Some(device);
            return;
        }
        self.go_fleet();
        self.hand_on(device);
    }

    /// A second device (or copy): the run is a fleet; the held first device goes out now.
    fn go_fleet(&mut self) {
        self.fleet = true;
        if let Some(first) = self.pending.take() {
            self.hand_on(first);
        }
    }

    fn hand_on(&mut self, mut device: FleetDevice) {
        device.fleet = self.fleet;
        if self.fleet {
            device.outcome.diagnosis.inputs = vec![device.input.clone()];
        }
        self.sink.device(&device);
    }

    /// The end: a one-device run's device goes out as it is.
    fn flush(&mut self) {
        if let Some(first) = self.pending.take() {
            self.hand_on(first);
        }
    }
}

/// A sink that keeps every device's findings, for renderers that need the whole report in
/// memory: [`Collector::finish`] gives the [`Diagnosed`] of the run. A one-device run gives what
/// [`super::diagnose`] gives; a fleet has its devices ordered like [`FleetSummary::rows`]
/// (severity, then name), each naming its inputs, and its notes aggregated.
pub struct Collector<'r, 'p> {
    pipeline: &'r Pipeline<'p>,
    lead: Vec<String>,
    summary: FleetAggregator,
    outcomes: Vec<DeviceOutcome>,
    reports: usize,
    fleet: bool,
}

impl<'r, 'p> Collector<'r, 'p> {
    /// `lead`: the notes that say where the tenant facts came from (correlated runs); a
    /// device-only run leads with [`NO_TENANT_NOTE`].
    pub fn new(pipeline: &'r Pipeline<'p>, lead: Vec<String>) -> Collector<'r, 'p> {
        let lead = if pipeline.is_correlated() {
            lead
        } else {
            vec![NO_TENANT_NOTE.to_string()]
        };
        Collector {
            pipeline,
            lead,
            summary: FleetAggregator::new(pipeline.tenant_findings()),
            outcomes: Vec::new(),
            reports: 0,
            fleet: false,
        }
    }

    pub fn finish(self) -> (Diagnosed, FleetSummary) {
        let summary = self.summary.finish();
        let mut notes = self.lead;
        let mut outcomes: Vec<Option<DeviceOutcome>> =
            self.outcomes.into_iter().map(Some).collect();
        let ordered: Vec<DeviceOutcome> = if self.fleet {
            notes.extend(summary.note_lines());
            summary
                .rows
                .iter()
                .filter_map(|r| {
                    let mut o = outcomes.get_mut(r.ordinal)?.take()?;
                    o.diagnosis.inputs = r.diagnosis.inputs.clone();
                    Some(o)
                })
                .collect()
        } else {
            let ordered: Vec<DeviceOutcome> = outcomes.into_iter().flatten().collect();
            for o in &ordered {
                notes.extend(o.notes());
            }
            ordered
        };
        if self.pipeline.is_correlated() && self.pipeline.user().is_some() && self.reports > 1 {
            notes.push(USER_FLAG_NOTE.to_string());
        }
        notes.extend(summary.verdicts.note());
        let (diagnoses, findings) = self.pipeline.assemble(ordered);
        let diagnosed = Diagnosed {
            as_of: self.pipeline.as_of(),
            diagnoses,
            findings,
            notes,
        };
        (diagnosed, summary)
    }
}

impl DeviceSink for Collector<'_, '_> {
    fn device(&mut self, device: &FleetDevice) {
        self.reports += 1;
        self.fleet |= device.fleet;
        self.summary.device(device);
        self.outcomes.push(device.outcome.clone());
    }

    fn duplicate(&mut self, duplicate: &Duplicate) {
        self.reports += 1;
        self.fleet = true;
        self.summary.duplicate(duplicate);
    }
}
