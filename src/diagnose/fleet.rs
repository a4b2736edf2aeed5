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

pub use super::sink::{DeviceSink, Duplicate, FleetDevice, FnSink};
use super::summary::{FleetAggregator, FleetSummary};
use super::{DeviceOutcome, Diagnosed, NO_TENANT_NOTE, Pipeline, USER_FLAG_NOTE};
use crate::checks::correlate::{TenantNeeds, device_keys};
use crate::device::load::DeviceInputError;
use crate::device::sources::{DeviceSources, LoadedDevice};
use crate::redact::{RedactError, Redactor};

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
    /// Only the members (by [`DeviceRef::member`]) this says yes to are read, e.g. a second
    /// pass that writes the details of a few devices found in the first; the others are not
    /// opened. Ordinals then count the devices read.
    ///
    /// [`DeviceRef::member`]: crate::device::sources::DeviceRef::member
    pub only: Option<&'a dyn Fn(usize) -> bool>,
}

impl<'a> Inputs<'a> {
    pub fn new(sources: &'a DeviceSources) -> Inputs<'a> {
        Inputs {
            sources,
            redactor: None,
            only: None,
        }
    }

    /// Reads every wanted device, redacted when asked.
    fn read(
        &self,
        mut each: impl FnMut(LoadedDevice) -> Result<(), FleetError>,
    ) -> Result<(), FleetError> {
        self.sources.read(self.only, |mut d| {
            if let Some(r) = self.redactor {
                d.input = r
                    .device_report_from(&mut d.report, &d.input)
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
    inputs.read(|d| {
        let analysis = pipeline.analyse(&d.report);
        needs.add(&device_keys(&d.report, &analysis, pipeline.user()));
        if let Some(serial) = d.report.lookup_serial() {
            needs.serial_numbers.insert(serial.to_string());
        }
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
    inputs.read(|d| {
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

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::device::load_path;
    use crate::diagnose::{Tenant, analyse_all, diagnose, tenant_needs};
    use crate::model::Verdict;
    use crate::tenant::snapshot::TenantSnapshot;

    fn as_of() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn samples() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices")
    }

    fn snapshot() -> TenantSnapshot {
        let text = include_str!("../../tests/fixtures/correlate/contoso-snapshot.json");
        TenantSnapshot::from_json(text, "contoso-snapshot.json").unwrap()
    }

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }

    fn zip_dir(from: &Path, to: &Path, prefix: &str) {
        let mut z = zip::ZipWriter::new(fs::File::create(to).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        let mut files: Vec<PathBuf> = fs::read_dir(from)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            z.start_file(format!("{prefix}{name}"), opts).unwrap();
            z.write_all(&fs::read(&f).unwrap()).unwrap();
        }
        z.finish().unwrap();
    }

    /// Records what a sink is handed.
    #[derive(Default)]
    struct Record {
        devices: Vec<FleetDevice>,
        duplicates: Vec<Duplicate>,
    }

    impl DeviceSink for Record {
        fn device(&mut self, device: &FleetDevice) {
            self.devices.push(device.clone());
        }

        fn duplicate(&mut self, duplicate: &Duplicate) {
            self.duplicates.push(duplicate.clone());
        }
    }

    fn run_all(paths: &[PathBuf], pipeline: &Pipeline<'_>) -> (Record, FleetStats, Vec<Progress>) {
        let sources = DeviceSources::list(paths).unwrap();
        let mut record = Record::default();
        let mut seen = Vec::new();
        let stats = run(&Inputs::new(&sources), pipeline, &mut record, &mut |p| {
            seen.push(p)
        })
        .unwrap();
        (record, stats, seen)
    }

    #[test]
    fn a_folder_and_its_zip_copy_are_one_device_with_both_paths() {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(
            &samples().join("hybrid-enrolled"),
            &dir.path().join("PC0042"),
        );
        zip_dir(
            &samples().join("hybrid-enrolled"),
            &dir.path().join("PC0042.zip"),
            "",
        );
        copy_dir(
            &samples().join("stale-enrollment"),
            &dir.path().join("PC0117"),
        );
        let pipeline = Pipeline::new(None, None, as_of());
        let (record, stats, progress) = run_all(&[dir.path().to_path_buf()], &pipeline);
        assert_eq!(
            stats,
            FleetStats {
                reports: 3,
                devices: 2,
                duplicates: 1,
                fleet: true
            }
        );
        let first = dir.path().join("PC0042").display().to_string();
        let zip = dir.path().join("PC0042.zip").display().to_string();
        assert_eq!(record.devices[0].outcome.diagnosis.inputs, [first]);
        assert_eq!(record.duplicates.len(), 1);
        assert_eq!(record.duplicates[0].of, 0);
        assert_eq!(record.duplicates[0].input, zip);
        assert_eq!(
            record.duplicates[0].device_id,
            "3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15"
        );
        assert_eq!(record.devices[1].ordinal, 1);
        assert_eq!(record.devices[1].at.member, 2);
        // Progress after each device, up to every member.
        let done: Vec<(usize, usize)> = progress.iter().map(|p| (p.done, p.total)).collect();
        assert_eq!(done, [(1, 3), (2, 3), (3, 3)]);
        assert!(progress.iter().all(|p| p.stage == Stage::Diagnosing));

        // The collector reports it once, with both paths and a note.
        let sources = DeviceSources::list(&[dir.path().to_path_buf()]).unwrap();
        let mut c = Collector::new(&pipeline, Vec::new());
        run(&Inputs::new(&sources), &pipeline, &mut c, &mut |_| {}).unwrap();
        let (d, summary) = c.finish();
        assert_eq!(d.diagnoses.len(), 2);
        let pc0042 = d
            .diagnoses
            .iter()
            .find(|x| x.device == "PC0042.corp.contoso.com")
            .unwrap();
        assert_eq!(pc0042.inputs.len(), 2);
        assert_eq!(summary.duplicated, 1);
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("was read from 2 inputs and is reported once")),
            "{:?}",
            d.notes
        );
        assert!(
            d.notes
                .iter()
                .any(|n| n == "2 devices: 1 enrolled, 1 failed")
        );
    }

    /// Each device of a fleet gets the diagnosis and findings it gets on its own.
    #[test]
    fn every_device_is_diagnosed_as_on_its_own() {
        let snap = snapshot();
        let names = [
            "hybrid-enrolled",
            "failed-8018002b",
            "never-triggered",
            "stale-enrollment",
            "demo-blocked-restriction",
        ];
        let paths: Vec<PathBuf> = names.iter().map(|n| samples().join(n)).collect();
        for snapshot in [None, Some(&snap)] {
            let pipeline = Pipeline::new(snapshot, None, as_of());
            let (record, stats, _) = run_all(&paths, &pipeline);
            assert_eq!(stats.devices, names.len());
            for (d, path) in record.devices.iter().zip(&paths) {
                let reports = load_path(path).unwrap();
                let analyses = analyse_all(&reports, None, as_of());
                let tenant = snapshot.map(|s| Tenant {
                    snapshot: s,
                    notes: Vec::new(),
                });
                let alone = diagnose(&reports, &analyses, tenant, None, as_of());
                let mut diagnosis = d.outcome.diagnosis.clone();
                assert_eq!(diagnosis.inputs, [path.display().to_string()]);
                diagnosis.inputs.clear();
                assert_eq!(alone.diagnoses, [diagnosis]);
                let own: Vec<&crate::model::Finding> = alone
                    .findings
                    .iter()
                    .filter(|f| !f.check.starts_with("TEN"))
                    .collect();
                assert_eq!(own, d.outcome.findings.iter().collect::<Vec<_>>());
            }
        }
    }

    /// A one-device run through the collector is what `diagnose` gives.
    #[test]
    fn one_device_collects_what_diagnose_gives() {
        let snap = snapshot();
        let path = samples().join("failed-8018002b");
        let user = Some("mgarcia@contoso.com");
        for snapshot in [None, Some(&snap)] {
            let lead = vec!["tenant facts from the test".to_string()];
            let pipeline = Pipeline::new(snapshot, user, as_of());
            let sources = DeviceSources::list(std::slice::from_ref(&path)).unwrap();
            let mut c = Collector::new(&pipeline, lead.clone());
            let stats = run(&Inputs::new(&sources), &pipeline, &mut c, &mut |_| {}).unwrap();
            assert!(!stats.fleet);
            let (streamed, _) = c.finish();
            let reports = load_path(&path).unwrap();
            let analyses = analyse_all(&reports, user, as_of());
            let tenant = snapshot.map(|s| Tenant {
                snapshot: s,
                notes: lead.clone(),
            });
            let direct = diagnose(&reports, &analyses, tenant, user, as_of());
            assert_eq!(streamed.diagnoses, direct.diagnoses);
            assert!(streamed.diagnoses[0].inputs.is_empty());
            assert_eq!(streamed.findings, direct.findings);
            assert_eq!(streamed.notes, direct.notes);
        }
    }

    /// A fleet through the collector: the same diagnoses and findings as `diagnose` over all of
    /// them, the devices ordered by severity then name, notes said once.
    #[test]
    fn a_fleet_collects_ordered_by_severity_with_its_inputs() {
        let snap = snapshot();
        for snapshot in [None, Some(&snap)] {
            let pipeline = Pipeline::new(snapshot, None, as_of());
            let sources = DeviceSources::list(&[samples()]).unwrap();
            let mut c = Collector::new(&pipeline, vec!["lead".to_string()]);
            run(&Inputs::new(&sources), &pipeline, &mut c, &mut |_| {}).unwrap();
            let (streamed, summary) = c.finish();
            let reports = load_path(&samples()).unwrap();
            let analyses = analyse_all(&reports, None, as_of());
            let tenant = snapshot.map(|s| Tenant {
                snapshot: s,
                notes: vec!["lead".to_string()],
            });
            let direct = diagnose(&reports, &analyses, tenant, None, as_of());
            assert_eq!(streamed.diagnoses.len(), direct.diagnoses.len());
            let verdicts: Vec<Verdict> = streamed.diagnoses.iter().map(|d| d.verdict).collect();
            let mut sorted = verdicts.clone();
            sorted.sort_by_key(|v| crate::diagnose::summary::verdict_rank(*v));
            assert_eq!(verdicts, sorted);
            for d in &streamed.diagnoses {
                assert_eq!(d.inputs.len(), 1, "{}", d.device);
                let mut d = d.clone();
                d.inputs.clear();
                assert!(direct.diagnoses.contains(&d), "{}", d.device);
            }
            // The same findings, device by device (the tenant ones first, evidence in the
            // devices' new order).
            let key = |f: &crate::model::Finding| serde_json::to_string(f).unwrap_or_default();
            let mut a: Vec<String> = streamed
                .findings
                .iter()
                .filter(|f| !f.check.starts_with("TEN"))
                .map(key)
                .collect();
            let mut b: Vec<String> = direct
                .findings
                .iter()
                .filter(|f| !f.check.starts_with("TEN"))
                .map(key)
                .collect();
            a.sort();
            b.sort();
            assert_eq!(a, b);
            let ten = |d: &Diagnosed| {
                d.findings
                    .iter()
                    .filter(|f| f.check.starts_with("TEN"))
                    .count()
            };
            assert_eq!(ten(&streamed), ten(&direct));
            assert_eq!(
                streamed.notes.first().map(String::as_str),
                Some(if snapshot.is_some() {
                    "lead"
                } else {
                    NO_TENANT_NOTE
                })
            );
            let expected = streamed
                .notes
                .iter()
                .filter(|n| n.contains("EXPECTED.md was not used"))
                .count();
            assert_eq!(expected, 1, "{:?}", streamed.notes);
            assert_eq!(summary.devices, direct.diagnoses.len());
        }
    }

    #[test]
    fn the_first_pass_keeps_what_tenant_needs_would() {
        let sources = DeviceSources::list(&[samples()]).unwrap();
        let pipeline = Pipeline::new(None, None, as_of());
        let mut stages = Vec::new();
        let needs = needs(&Inputs::new(&sources), &pipeline, &mut |p| stages.push(p)).unwrap();
        let reports = load_path(&samples()).unwrap();
        let analyses = analyse_all(&reports, None, as_of());
        assert_eq!(needs, tenant_needs(&reports, &analyses, None));
        assert!(!needs.device_ids.is_empty());
        assert!(stages.iter().all(|p| p.stage == Stage::Reading));
        assert_eq!(stages.last().map(|p| p.done), Some(sources.members()));
    }

    #[test]
    fn one_zip_of_device_folders_is_a_fleet_and_one_device_zip_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one.zip");
        zip_dir(&samples().join("hybrid-enrolled"), &one, "");
        let pipeline = Pipeline::new(None, None, as_of());
        let (record, stats, _) = run_all(std::slice::from_ref(&one), &pipeline);
        assert!(!stats.fleet);
        assert!(record.devices[0].outcome.diagnosis.inputs.is_empty());

        // Two device folders in one zip: built by hand, the helper writes one folder.
        let two = dir.path().join("two.zip");
        let mut z = zip::ZipWriter::new(fs::File::create(&two).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for (folder, sample) in [("a", "hybrid-enrolled"), ("b", "not-hybrid-joined")] {
            let dsreg = fs::read(samples().join(sample).join("dsregcmd.txt")).unwrap();
            z.start_file(format!("{folder}/dsregcmd.txt"), opts)
                .unwrap();
            z.write_all(&dsreg).unwrap();
        }
        z.finish().unwrap();
        let (record, stats, _) = run_all(std::slice::from_ref(&two), &pipeline);
        assert!(stats.fleet);
        let inputs: Vec<&[String]> = record
            .devices
            .iter()
            .map(|d| d.outcome.diagnosis.inputs.as_slice())
            .collect();
        assert_eq!(
            inputs,
            [
                [two.join("a").display().to_string()],
                [two.join("b").display().to_string()]
            ]
        );
        assert!(record.devices.iter().all(|d| d.fleet));
    }

    #[test]
    fn a_second_pass_can_read_only_some_members() {
        let sources = DeviceSources::list(&[samples()]).unwrap();
        let pipeline = Pipeline::new(None, None, as_of());
        let mut all = Record::default();
        run(&Inputs::new(&sources), &pipeline, &mut all, &mut |_| {}).unwrap();
        let wanted = [all.devices[1].at.member, all.devices[4].at.member];
        let only = |m: usize| wanted.contains(&m);
        let inputs = Inputs {
            only: Some(&only),
            ..Inputs::new(&sources)
        };
        let mut some = Record::default();
        run(&inputs, &pipeline, &mut some, &mut |_| {}).unwrap();
        let names = |r: &Record| -> Vec<String> {
            r.devices
                .iter()
                .map(|d| d.outcome.diagnosis.device.clone())
                .collect()
        };
        assert_eq!(
            names(&some),
            [names(&all)[1].clone(), names(&all)[4].clone()]
        );
        // Still a fleet: the run is over several members.
        assert_eq!(
            some.devices[0].outcome.diagnosis.inputs,
            all.devices[1].outcome.diagnosis.inputs
        );
    }

    #[test]
    fn a_closure_is_a_sink() {
        let sources = DeviceSources::list(&[samples()]).unwrap();
        let pipeline = Pipeline::new(None, None, as_of());
        let mut names = Vec::new();
        let mut sink = FnSink(|d: &FleetDevice| names.push(d.outcome.diagnosis.device.clone()));
        run(&Inputs::new(&sources), &pipeline, &mut sink, &mut |_| {}).unwrap();
        assert_eq!(names.len(), sources.members());
    }
}
