//! The fuzz loop: pick a seed and a target, mutate, run under a panic guard while a watchdog
//! watches the clock, hold time and memory to a budget, and check that re-encoding a device's
//! files does not change its verdict.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use enroll_doctor::device::{report_from_memory, text};
use enroll_doctor::tenant::snapshot::TenantSnapshot;

use crate::alloc::measure;
use crate::encode::{ENCODINGS, Encoding, LINE_ENDS, encode};
use crate::mutate::{Folder, mutate, mutate_one};
use crate::rng::Rng;
use crate::seeds::Seeds;
use crate::targets::{self, Pipelines, Target};

/// How a run is bounded.
#[derive(Debug, Clone)]
pub struct Config {
    pub execs: u64,
    pub seed: u64,
    pub jobs: usize,
    /// Targets to run (all when empty).
    pub targets: Vec<Target>,
    /// Time allowed per input: `base + bytes × per_byte`.
    pub time_base: Duration,
    pub time_per_byte: Duration,
    /// An input still running after this long is a hang: the watchdog saves it and aborts.
    pub hang_after: Duration,
    /// Heap allowed per input: `mem_base + bytes × mem_factor`.
    pub mem_base: usize,
    pub mem_factor: usize,
    /// Where failing inputs are written (one folder each); None keeps them in memory only.
    pub out: Option<PathBuf>,
    /// Whether table and markdown output must be free of control characters.
    pub check_output: bool,
    /// A progress line on stderr every this many executions of a worker (0: none).
    pub progress_every: u64,
}

impl Default for Config {
    fn default() -> Config {
        // Debug builds run the same inputs 10–30× slower.
        let slow = if cfg!(debug_assertions) { 20 } else { 1 };
        Config {
            execs: 10_000,
            seed: 1,
            jobs: 1,
            targets: Vec::new(),
            time_base: Duration::from_millis(250 * slow),
            time_per_byte: Duration::from_nanos(500 * slow),
            hang_after: Duration::from_secs(30 * slow),
            mem_base: 48 << 20,
            mem_factor: 48,
            out: None,
            check_output: true,
            progress_every: 0,
        }
    }
}

/// One failing input.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: &'static str,
    pub target: Target,
    pub detail: String,
    pub saved: Option<PathBuf>,
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub execs: u64,
    pub per_target: Vec<(Target, u64)>,
    pub invariance_checks: u64,
    pub renders: u64,
    pub failures: Vec<Failure>,
    pub max_time: Duration,
    pub max_peak: usize,
    /// The largest peak heap ÷ input bytes seen (inputs over 64 KiB, where it means something).
    pub max_ratio: f64,
    pub wall: Duration,
}

impl Stats {
    pub fn count(&self, kind: &str) -> usize {
        self.failures.iter().filter(|f| f.kind == kind).count()
    }

    fn merge(&mut self, other: Stats) {
        self.execs += other.execs;
        for (t, n) in other.per_target {
            match self.per_target.iter_mut().find(|(x, _)| *x == t) {
                Some((_, m)) => *m += n,
                None => self.per_target.push((t, n)),
            }
        }
        self.invariance_checks += other.invariance_checks;
        self.renders += other.renders;
        self.failures.extend(other.failures);
        self.max_time = self.max_time.max(other.max_time);
        self.max_peak = self.max_peak.max(other.max_peak);
        self.max_ratio = self.max_ratio.max(other.max_ratio);
    }

    /// The one-paragraph account a run prints.
    pub fn summary(&self) -> String {
        let secs = self.wall.as_secs_f64().max(1e-9);
        let targets: Vec<String> = self
            .per_target
            .iter()
            .map(|(t, n)| format!("{} {n}", t.name()))
            .collect();
        format!(
            "{} executions in {:.1} s ({:.0}/s; {}); {} re-encoding checks, {} renders\n\
             crashes {}, hangs {}, over time {}, over memory {}, verdict changes under re-encoding {}, unsafe output {}\n\
             slowest input {:.1} ms, largest heap peak {:.1} MiB, largest peak/input ratio {:.1}",
            self.execs,
            secs,
            self.execs as f64 / secs,
            targets.join(", "),
            self.invariance_checks,
            self.renders,
            self.count("crash"),
            self.count("hang"),
            self.count("time"),
            self.count("memory"),
            self.count("invariance"),
            self.count("output"),
            self.max_time.as_secs_f64() * 1000.0,
            self.max_peak as f64 / (1 << 20) as f64,
            self.max_ratio,
        )
    }
}

/// One input of one target.
#[derive(Debug, Clone)]
pub struct Input {
    pub target: Target,
    pub files: Folder,
}

impl Input {
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|(_, b)| b.len()).sum()
    }
}

/// Writes a failing input as a folder `out/KIND-TARGET-N/` with its files and `why.txt`.
fn save(out: &Path, kind: &str, n: u64, input: &Input, detail: &str) -> Option<PathBuf> {
    let dir = out.join(format!("{kind}-{}-{n}", input.target.name()));
    std::fs::create_dir_all(&dir).ok()?;
    for (i, (name, bytes)) in input.files.iter().enumerate() {
        std::fs::write(dir.join(targets::file_name(i, name)), bytes).ok()?;
    }
    std::fs::write(
        dir.join("why.txt"),
        format!("target {}\n{detail}\n", input.target.name()),
    )
    .ok()?;
    Some(dir)
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Panics are counted, not printed: the hook keeps the message for the report.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        let _ = LAST_PANIC.try_with(|p| *p.borrow_mut() = msg);
    }));
}

/// Runs `input` once; Err(message) when it panicked.
pub fn execute(
    input: &Input,
    pipelines: &Pipelines<'_>,
    device_seed: &Folder,
    scratch: &Path,
) -> Result<(), String> {
    let r = catch_unwind(AssertUnwindSafe(|| match input.target {
        Target::Device => {
            let report = report_from_memory("fuzz", &input.files);
            let _ = targets::signature(&report, &pipelines.device_only);
            if let Some(p) = &pipelines.correlated {
                let _ = targets::signature(&report, p);
            }
        }
        Target::File => {
            let _ = targets::device_signature(&input.files, &pipelines.device_only);
        }
        Target::Snapshot => {
            if let Some((_, b)) = input.files.first() {
                targets::snapshot(scratch, b, device_seed);
            }
        }
        Target::Path => targets::path(scratch, &input.files),
        Target::Users => {
            if let Some((_, b)) = input.files.first() {
                targets::users(scratch, b);
            }
        }
        Target::Token => {
            if let Some((_, b)) = input.files.first() {
                targets::token(b);
            }
        }
        Target::Certificate => {
            if let Some((_, b)) = input.files.first() {
                targets::certificate(b);
            }
        }
        Target::Config => {
            if let Some((_, b)) = input.files.first() {
                targets::config(b);
            }
        }
        Target::Codes => {
            if let Some((_, b)) = input.files.first() {
                targets::codes(b);
            }
        }
        Target::Evtx => {
            if let Some((_, b)) = input.files.first() {
                targets::evtx(b);
            }
        }
    }));
    r.map_err(|_| LAST_PANIC.with(|p| p.borrow().clone()))
}

/// Whether a text is plain enough that every encoding (including ones without a BOM, which
/// are told apart by heuristics over the first 256 characters) must read it back: printable,
/// mostly ASCII overall and at the top.
fn plain(text: &str) -> bool {
    let ascii_share = |chars: &mut dyn Iterator<Item = char>| {
        let (mut all, mut ascii) = (0usize, 0usize);
        for c in chars {
            all += 1;
            ascii += usize::from(c.is_ascii());
        }
        ascii as f64 / all.max(1) as f64
    };
    // A character whose UTF-16 low byte is zero (U+7200, byte-shifted UTF-16 spliced in) looks
    // like the other byte lane: a BOM-less UTF-16 file of such text is ambiguous by nature.
    let shifted = |c: char| u32::from(c) > 0xFF && u32::from(c) & 0xFF == 0;
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        && ascii_share(&mut text.chars()) >= 0.95
        && ascii_share(&mut text.chars().take(256)) >= 0.85
        && !text.chars().take(256).any(shifted)
}

/// The folder with one text file re-encoded (encoding, line ends, NUL padding) and how; None
/// when the file picked is not text. One file at a time, so a failure names its form.
fn reencoded(rng: &mut Rng, folder: &Folder) -> Option<(Folder, String)> {
    let i = rng.below(folder.len());
    let (name, bytes) = folder.get(i)?;
    let d = text::decode(bytes).ok().filter(|d| d.damaged.is_none())?;
    let choices: &[Encoding] = if plain(&d.text) {
        &ENCODINGS
    } else {
        &[
            Encoding::Utf8Bom,
            Encoding::Utf16LeBom,
            Encoding::Utf16BeBom,
        ]
    };
    let enc = choices[rng.below(choices.len())];
    let eol = LINE_ENDS[rng.below(LINE_ENDS.len())];
    let pad = if rng.one_in(3) { 1 + rng.below(16) } else { 0 };
    let fresh = encode(&d.text, enc, eol, pad)?;
    let mut out = folder.clone();
    out[i].1 = fresh;
    let how = format!(
        "{name}: {} -> {} with {} line ends and {pad} NUL bytes of padding",
        d.encoding,
        enc.name(),
        match eol {
            "\n" => "LF",
            "\r\n" => "CRLF",
            _ => "CR",
        }
    );
    Some((out, how))
}

struct Slot {
    started: AtomicU64,
    busy: AtomicBool,
    input: Mutex<Option<Input>>,
}

fn worker(
    cfg: &Config,
    seeds: &Seeds,
    snapshot: Option<&TenantSnapshot>,
    worker_id: usize,
    execs: u64,
    slot: &Slot,
    epoch: Instant,
) -> Stats {
    let mut rng = Rng::new(cfg.seed.wrapping_add(worker_id as u64 * 0x1000_0001));
    let donors = seeds.donors();
    let pipelines = Pipelines::new(snapshot);
    // Targets that read from disk write their input here (one folder per worker).
    let scratch = scratch_dir(worker_id);
    let targets: Vec<Target> = if cfg.targets.is_empty() {
        // Devices weigh most: they hold every device parser and the evaluation.
        vec![
            Target::Device,
            Target::Device,
            Target::Device,
            Target::File,
            Target::File,
            Target::Path,
            Target::Snapshot,
            Target::Config,
            Target::Codes,
            Target::Users,
            Target::Token,
            Target::Certificate,
            Target::Evtx,
        ]
    } else {
        cfg.targets.clone()
    };
    let empty: Folder = Vec::new();
    let mut stats = Stats::default();
    for n in 0..execs {
        if cfg.progress_every > 0 && n > 0 && n % cfg.progress_every == 0 {
            eprintln!(
                "enroll-doctor-fuzz: worker {worker_id}: {n} of {execs} executions, {} failures, {:.0} s",
                stats.failures.len(),
                epoch.elapsed().as_secs_f64()
            );
        }
        let Some(&target) = rng.pick(&targets) else {
            break;
        };
        let device_seed = rng.pick(&seeds.folders).map_or(&empty, |(_, f)| f);
        let input = match target {
            Target::Device | Target::Path => Input {
                target,
                files: mutate(&mut rng, device_seed, &donors),
            },
            Target::File => {
                let Some((name, bytes)) = rng.pick(device_seed) else {
                    continue;
                };
                Input {
                    target,
                    files: vec![(name.clone(), mutate_one(&mut rng, bytes, &donors))],
                }
            }
            Target::Snapshot
            | Target::Config
            | Target::Codes
            | Target::Users
            | Target::Token
            | Target::Certificate
            | Target::Evtx => {
                let base: Option<&[u8]> = match target {
                    Target::Snapshot => rng.pick(&seeds.snapshots).map(Vec::as_slice),
                    Target::Config => rng.pick(&seeds.configs).map(Vec::as_slice),
                    Target::Users => rng.pick(&seeds.users).map(Vec::as_slice),
                    Target::Token => rng.pick(&seeds.tokens).map(Vec::as_slice),
                    Target::Certificate => rng.pick(&seeds.certificates).map(Vec::as_slice),
                    Target::Evtx => rng.pick(&seeds.evtx).map(Vec::as_slice),
                    _ => rng.pick(&donors).copied(),
                };
                let Some(base) = base else { continue };
                Input {
                    target,
                    files: vec![(
                        format!("{}.in", target.name()),
                        mutate_one(&mut rng, base, &donors),
                    )],
                }
            }
        };
        if let Ok(mut s) = slot.input.lock() {
            *s = Some(input.clone());
        }
        slot.started
            .store(epoch.elapsed().as_millis() as u64, Ordering::SeqCst);
        slot.busy.store(true, Ordering::SeqCst);
        let start = thread_cpu_time();
        let (result, peak) = measure(|| execute(&input, &pipelines, device_seed, &scratch));
        let took = thread_cpu_time().saturating_sub(start);
        slot.busy.store(false, Ordering::SeqCst);
        stats.execs += 1;
        match stats.per_target.iter_mut().find(|(t, _)| *t == target) {
            Some((_, c)) => *c += 1,
            None => stats.per_target.push((target, 1)),
        }
        let bytes = input.bytes();
        stats.max_time = stats.max_time.max(took);
        stats.max_peak = stats.max_peak.max(peak);
        if bytes > 64 << 10 {
            stats.max_ratio = stats.max_ratio.max(peak as f64 / bytes as f64);
        }
        let mut fail = |kind: &'static str, detail: String, input: &Input| {
            let saved = cfg
                .out
                .as_deref()
                .and_then(|o| save(o, kind, n * 64 + worker_id as u64, input, &detail));
            stats.failures.push(Failure {
                kind,
                target,
                detail,
                saved,
            });
        };
        if let Err(msg) = result {
            fail("crash", msg, &input);
            continue;
        }
        let budget = cfg.time_base + cfg.time_per_byte * u32::try_from(bytes).unwrap_or(u32::MAX);
        // CPU time of this thread, not the wall clock: a shared machine's stalls are not the
        // input's. A slow input is run once more and counted only when it is slow again.
        if took > budget && {
            let again = thread_cpu_time();
            let _ = execute(&input, &pipelines, device_seed, &scratch);
            thread_cpu_time().saturating_sub(again) > budget
        } {
            fail(
                "time",
                format!(
                    "{:.0} ms for {bytes} bytes (budget {:.0} ms)",
                    took.as_secs_f64() * 1e3,
                    budget.as_secs_f64() * 1e3
                ),
                &input,
            );
        }
        let allowed = cfg
            .mem_base
            .saturating_add(bytes.saturating_mul(cfg.mem_factor));
        if peak > allowed {
            fail(
                "memory",
                format!("heap peak {peak} bytes for {bytes} input bytes (allowed {allowed})"),
                &input,
            );
        }
        if target == Target::Device
            && rng.one_in(4)
            && let Some((variant, how)) = reencoded(&mut rng, &input.files)
        {
            stats.invariance_checks += 1;
            let a = catch_unwind(AssertUnwindSafe(|| {
                targets::device_signature(&input.files, &pipelines.device_only)
            }));
            let b = catch_unwind(AssertUnwindSafe(|| {
                targets::device_signature(&variant, &pipelines.device_only)
            }));
            match (a, b) {
                (Ok(a), Ok(b)) if a != b => {
                    // Saved: the re-encoded files, then the originals as `original-*`.
                    let detail = format!("{how}\nbefore: {a}\nafter:  {b}");
                    let mut files = variant;
                    files.extend(
                        input
                            .files
                            .iter()
                            .map(|(n, b)| (format!("original-{n}"), b.clone())),
                    );
                    fail("invariance", detail, &Input { target, files });
                }
                (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
                    fail(
                        "crash",
                        LAST_PANIC.with(|p| p.borrow().clone()),
                        &Input {
                            target,
                            files: variant,
                        },
                    );
                }
                _ => {}
            }
        }
        if cfg.check_output && target == Target::Device && rng.one_in(16) {
            stats.renders += 1;
            let width = 20 + rng.below(200);
            match catch_unwind(AssertUnwindSafe(|| {
                targets::render_device(&input.files, &pipelines.device_only, width)
            })) {
                Ok(Ok(())) => {}
                Ok(Err(why)) => fail("output", why, &input),
                Err(_) => fail("crash", LAST_PANIC.with(|p| p.borrow().clone()), &input),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    stats
}

/// The CPU time the calling thread has used (the wall clock where the platform has no
/// per-thread clock).
pub fn thread_cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec the call writes into; the clock id is a constant.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(
                u64::try_from(ts.tv_sec).unwrap_or(0),
                u32::try_from(ts.tv_nsec).unwrap_or(0),
            );
        }
    }
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed()
}

/// A fresh folder for one worker's on-disk inputs.
pub fn scratch_dir(worker: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "enroll-doctor-fuzz-{}-{worker}",
        std::process::id()
    ));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Runs the fuzzer: `cfg.jobs` workers share the executions; a watchdog aborts the process on
/// an input that runs past `cfg.hang_after`, after saving it.
pub fn run(cfg: &Config, seeds: &Seeds) -> Stats {
    quiet_panics();
    let snapshot = seeds
        .snapshots
        .first()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| TenantSnapshot::from_json(t, "seed.json").ok());
    let jobs = cfg.jobs.max(1);
    let epoch = Instant::now();
    let slots: Arc<Vec<Slot>> = Arc::new(
        (0..jobs)
            .map(|_| Slot {
                started: AtomicU64::new(0),
                busy: AtomicBool::new(false),
                input: Mutex::new(None),
            })
            .collect(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (slots, done, out, hang_after) = (
            Arc::clone(&slots),
            Arc::clone(&done),
            cfg.out.clone(),
            cfg.hang_after,
        );
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
                let now = epoch.elapsed().as_millis() as u64;
                for slot in slots.iter() {
                    let started = slot.started.load(Ordering::SeqCst);
                    if slot.busy.load(Ordering::SeqCst)
                        && now.saturating_sub(started) > hang_after.as_millis() as u64
                    {
                        let input = slot.input.lock().ok().and_then(|s| s.clone());
                        let saved = match (input, out.as_deref()) {
                            (Some(i), Some(o)) => {
                                save(o, "hang", now, &i, "still running past the hang limit")
                                    .map(|p| p.display().to_string())
                            }
                            _ => None,
                        };
                        eprintln!(
                            "enroll-doctor-fuzz: hang: an input ran past {} s; {}",
                            hang_after.as_secs(),
                            saved.map_or("not saved (no --out)".to_string(), |p| format!(
                                "saved in {p}"
                            ))
                        );
                        std::process::abort();
                    }
                }
            }
        })
    };
    let mut total = Stats::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|w| {
                let share =
                    cfg.execs / jobs as u64 + u64::from((w as u64) < cfg.execs % jobs as u64);
                let (slots, snapshot) = (Arc::clone(&slots), snapshot.as_ref());
                scope.spawn(move || worker(cfg, seeds, snapshot, w, share, &slots[w], epoch))
            })
            .collect();
        for h in handles {
            if let Ok(s) = h.join() {
                total.merge(s);
            }
        }
    });
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    total.wall = epoch.elapsed();
    total
}
