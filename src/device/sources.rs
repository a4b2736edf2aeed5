//! The device inputs of a run, listed up front and read one device container at a time
//! ([`DeviceSources`]), and [`load_path`], which reads them all at once. What one container
//! holds and how it is parsed is `device/load.rs`.

use std::path::{Path, PathBuf};

use super::load::{
    DeviceInputError, Source, file_name, list_path, load_member, loose_note, placeholder,
};
use super::report::DeviceReport;

/// Reads PATH: one artifact or bundle file, a folder of artifacts (one device), a `.zip` of
/// artifacts (read in memory, never extracted), or a fleet folder (only sub-folders, zips or
/// bundles: one report per child). All at once: [`DeviceSources`] reads a fleet one device
/// container at a time.
pub fn load_path(path: &Path) -> Result<Vec<DeviceReport>, DeviceInputError> {
    let sources = DeviceSources::list(&[path.to_path_buf()])?;
    let mut reports = Vec::new();
    sources.read(None, |d| {
        reports.push(d.report);
        Ok::<(), DeviceInputError>(())
    })?;
    Ok(reports)
}

/// The device inputs of a run: every PATH listed up front (a fleet folder down to its
/// members, the device containers), then read one member at a time, as often as a caller
/// needs: nothing is kept between two reads. Reading gives the same reports, in the same order,
/// as [`load_path`] of each PATH in turn.
#[derive(Debug, Default)]
pub struct DeviceSources {
    sources: Vec<Source>,
    members: usize,
}

/// Where a device of a run was read: the member (device container, numbered across the whole
/// run) and its place among the member's devices (a zip of device folders holds several).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceRef {
    pub member: usize,
    pub index: usize,
}

/// One device report as read, with the path it was read from: the device folder, zip or file,
/// or `ZIP/FOLDER` for a device inside a zip of device folders.
#[derive(Debug)]
pub struct LoadedDevice {
    pub at: DeviceRef,
    pub input: PathBuf,
    pub report: DeviceReport,
}

impl DeviceSources {
    /// Lists every PATH: what does not exist, cannot be listed or is an empty folder is an
    /// error now, before any device is read.
    pub fn list(paths: &[PathBuf]) -> Result<DeviceSources, DeviceInputError> {
        let mut out = DeviceSources::default();
        for path in paths {
            let source = list_path(path)?;
            out.members += match &source {
                Source::Single(_) => 1,
                Source::Fleet { members, .. } => members.len(),
            };
            out.sources.push(source);
        }
        Ok(out)
    }

    /// How many device containers the run reads (a zip of device folders counts once).
    pub fn members(&self) -> usize {
        self.members
    }

    /// Reads the members in order and hands each device to `each`; `wanted` (by member
    /// number) skips the others without reading them. A member that gives nothing usable is
    /// handed on as a placeholder report naming the problem; a PATH that gives nothing usable
    /// at all (a single container, or a fleet folder whose every member failed: known only
    /// once all were read) is an error, as with [`load_path`].
    pub fn read<E: From<DeviceInputError>>(
        &self,
        wanted: Option<&dyn Fn(usize) -> bool>,
        mut each: impl FnMut(LoadedDevice) -> Result<(), E>,
    ) -> Result<(), E> {
        let want = |m: usize| wanted.is_none_or(|w| w(m));
        let mut jobs: Vec<Job<'_>> = Vec::new();
        let mut fleets: Vec<FleetState> = Vec::with_capacity(self.sources.len());
        let mut member = 0usize;
        for (source, s) in self.sources.iter().enumerate() {
            let mut state = FleetState::default();
            let paths: Vec<&PathBuf> = match s {
                Source::Single(path) => vec![path],
                Source::Fleet { members, .. } => members.iter().collect(),
            };
            for (k, path) in paths.into_iter().enumerate() {
                if want(member + k) {
                    state.pending += 1;
                    jobs.push(Job {
                        member: member + k,
                        source,
                        first: k == 0,
                        path,
                    });
                } else {
                    state.all_wanted = false;
                }
            }
            member += self.members_of(source);
            fleets.push(state);
        }
        load_in_order(&jobs, |job, loaded| {
            let (path, loose) = match &self.sources[job.source] {
                Source::Single(_) => {
                    // A single container that gives nothing is the PATH's error.
                    return hand_on(job.member, loaded?, &mut each);
                }
                Source::Fleet { path, loose, .. } => (path, loose),
            };
            let state = &mut fleets[job.source];
            let mut devices = match loaded {
                Ok(v) => {
                    state.usable = true;
                    v
                }
                Err(e) => {
                    state.failures.push(e.to_string());
                    vec![(job.path.clone(), placeholder(&file_name(job.path), &e))]
                }
            };
            // Loose files beside the device folders are named, not dropped silently: with
            // the fleet's first device.
            if job.first
                && let Some((_, first)) = devices.first_mut()
            {
                first.inputs.extend(loose.iter().map(|c| loose_note(c)));
            }
            hand_on(job.member, devices, &mut each)?;
            state.pending -= 1;
            if state.pending == 0 && state.all_wanted && !state.usable {
                return Err(DeviceInputError::NothingUsable {
                    path: path.clone(),
                    reason: state.failures.join("; "),
                }
                .into());
            }
            Ok(())
        })
    }

    fn members_of(&self, source: usize) -> usize {
        match &self.sources[source] {
            Source::Single(_) => 1,
            Source::Fleet { members, .. } => members.len(),
        }
    }
}

/// One member to read.
struct Job<'s> {
    member: usize,
    /// Its PATH (index into the sources).
    source: usize,
    /// The first member of its PATH.
    first: bool,
    path: &'s PathBuf,
}

/// What reading a PATH's members found so far.
struct FleetState {
    /// Members still to read.
    pending: usize,
    /// Every member is read (the run did not skip any).
    all_wanted: bool,
    usable: bool,
    failures: Vec<String>,
}

impl Default for FleetState {
    fn default() -> FleetState {
        FleetState {
            pending: 0,
            all_wanted: true,
            usable: false,
            failures: Vec::new(),
        }
    }
}

fn hand_on<E>(
    member: usize,
    devices: Vec<(PathBuf, DeviceReport)>,
    each: &mut impl FnMut(LoadedDevice) -> Result<(), E>,
) -> Result<(), E> {
    for (index, (input, report)) in devices.into_iter().enumerate() {
        each(LoadedDevice {
            at: DeviceRef { member, index },
            input,
            report,
        })?;
    }
    Ok(())
}

/// Members each reader may read ahead of the one being handed on.
pub(crate) const READ_AHEAD: usize = 8;

/// Loads the members on up to as many threads as the machine has cores (at most four), and
/// hands them on in order, one at a time, on the calling thread. Reader `w` reads members
/// `w, w + n, w + 2n, …` into its own bounded channel, so at most `n × (READ_AHEAD + 1)`
/// loaded members wait in memory; when `each` stops the run, the readers stop at their next
/// member.
fn load_in_order<E>(
    jobs: &[Job<'_>],
    mut each: impl FnMut(
        &Job<'_>,
        Result<Vec<(PathBuf, DeviceReport)>, DeviceInputError>,
    ) -> Result<(), E>,
) -> Result<(), E> {
    let readers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(jobs.len());
    if readers <= 1 {
        for job in jobs {
            each(job, load_member(job.path))?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let mut channels = Vec::with_capacity(readers);
        for w in 0..readers {
            let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD);
            channels.push(rx);
            scope.spawn(move || {
                for job in jobs.iter().skip(w).step_by(readers) {
                    if tx.send(load_member(job.path)).is_err() {
                        // The run stopped.
                        return;
                    }
                }
            });
        }
        for (i, job) in jobs.iter().enumerate() {
            // A reader that is gone (it panicked) leaves its member to this thread.
            let loaded = channels[i % readers]
                .recv()
                .unwrap_or_else(|_| load_member(job.path));
            each(job, loaded)?;
        }
        Ok(())
    })
}
