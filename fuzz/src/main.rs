//! `enroll-doctor-fuzz`: runs the mutation fuzzer and prints what it found.
//!
//! ```text
//! cargo run --release -p enroll-doctor-fuzz -- --execs 10000000 --jobs 2 --out target/fuzz
//! cargo run --release -p enroll-doctor-fuzz -- --replay target/fuzz/crash-device-123
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use enroll_doctor_fuzz::engine::{self, Config, Input};
use enroll_doctor_fuzz::seeds;
use enroll_doctor_fuzz::targets::{Pipelines, Target};

const HELP: &str = "enroll-doctor-fuzz: a mutation fuzzer over enroll-doctor's parsers

Options:
  --execs N          executions (default 10000)
  --seed N           random seed (default 1); a run is reproducible from its seed and job count
  --jobs N           worker threads (default 1)
  --target NAME      device, file, path, snapshot, config, codes, users, token or certificate
                     (repeatable; default all)
  --out DIR          write each failing input to DIR/KIND-TARGET-N/
  --time-base-ms N   time allowed per input, plus --time-per-byte-ns per input byte
  --time-per-byte-ns N
  --hang-secs N      an input still running after N s aborts the run (saved first)
  --mem-factor N     heap allowed per input: --mem-base-mib + N x input bytes
  --mem-base-mib N
  --no-output-check  do not require table/markdown output free of control characters
  --replay DIR       run one saved input (DIR/why.txt names its target) and report
Exit code: 0 when nothing failed, 1 when something did, 2 on a usage error.";

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let v = value.ok_or_else(|| format!("{flag} needs a value"))?;
    v.parse().map_err(|_| format!("{flag}: not a number: {v}"))
}

fn replay(dir: &PathBuf) -> Result<bool, String> {
    let why = std::fs::read_to_string(dir.join("why.txt"))
        .map_err(|e| format!("{}: {e}", dir.join("why.txt").display()))?;
    let target = why
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("target "))
        .and_then(Target::parse)
        .ok_or_else(|| format!("{}: no target line", dir.join("why.txt").display()))?;
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "why.txt")
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let bytes =
            std::fs::read(e.path()).map_err(|err| format!("{}: {err}", e.path().display()))?;
        files.push((e.file_name().to_string_lossy().into_owned(), bytes));
    }
    let input = Input { target, files };
    let start = std::time::Instant::now();
    let scratch = engine::scratch_dir(0);
    let r = engine::execute(&input, &Pipelines::new(None), &input.files, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "{} bytes, {:.1} ms",
        input.bytes(),
        start.elapsed().as_secs_f64() * 1e3
    );
    match r {
        Ok(()) => Ok(true),
        Err(msg) => {
            println!("panicked: {msg}");
            Ok(false)
        }
    }
}

fn main() -> ExitCode {
    let mut cfg = Config {
        progress_every: 250_000,
        ..Config::default()
    };
    let mut args = std::env::args().skip(1);
    let mut replay_dir = None;
    while let Some(flag) = args.next() {
        let r: Result<(), String> = (|| {
            match flag.as_str() {
                "--execs" => cfg.execs = number(&flag, args.next())?,
                "--seed" => cfg.seed = number(&flag, args.next())?,
                "--jobs" => cfg.jobs = number::<usize>(&flag, args.next())?.clamp(1, 64),
                "--target" => {
                    let v = args.next().ok_or("--target needs a value")?;
                    cfg.targets
                        .push(Target::parse(&v).ok_or_else(|| format!("unknown target {v}"))?);
                }
                "--out" => {
                    cfg.out = Some(PathBuf::from(args.next().ok_or("--out needs a folder")?))
                }
                "--time-base-ms" => {
                    cfg.time_base = Duration::from_millis(number(&flag, args.next())?)
                }
                "--time-per-byte-ns" => {
                    cfg.time_per_byte = Duration::from_nanos(number(&flag, args.next())?)
                }
                "--hang-secs" => cfg.hang_after = Duration::from_secs(number(&flag, args.next())?),
                "--mem-factor" => cfg.mem_factor = number(&flag, args.next())?,
                "--mem-base-mib" => {
                    cfg.mem_base = number::<usize>(&flag, args.next())?.saturating_mul(1 << 20)
                }
                "--no-output-check" => cfg.check_output = false,
                "--replay" => {
                    replay_dir = Some(PathBuf::from(args.next().ok_or("--replay needs a folder")?))
                }
                "-h" | "--help" => {
                    println!("{HELP}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown option {other}")),
            }
            Ok(())
        })();
        if let Err(e) = r {
            eprintln!("enroll-doctor-fuzz: {e}\n\n{HELP}");
            return ExitCode::from(2);
        }
    }
    if let Some(dir) = replay_dir {
        return match replay(&dir) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("enroll-doctor-fuzz: {e}");
                ExitCode::from(2)
            }
        };
    }
    let seeds = seeds::load(&seeds::repo_root());
    if seeds.folders.is_empty() {
        eprintln!(
            "enroll-doctor-fuzz: no seeds under {}",
            seeds::repo_root().display()
        );
        return ExitCode::from(2);
    }
    println!(
        "enroll-doctor-fuzz: {} executions, seed {}, {} jobs, {} device seeds, profile {}",
        cfg.execs,
        cfg.seed,
        cfg.jobs,
        seeds.folders.len(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let stats = engine::run(&cfg, &seeds);
    println!("{}", stats.summary());
    for f in stats.failures.iter().take(20) {
        let first = f.detail.lines().next().unwrap_or("");
        let saved = f
            .saved
            .as_ref()
            .map_or(String::new(), |p| format!(" ({})", p.display()));
        println!("  {} {}: {first}{saved}", f.kind, f.target.name());
    }
    if stats.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
