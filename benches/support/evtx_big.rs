//! A large generated `.evtx` log (DMEDP, Task Scheduler and System events, as a busy device's
//! logs hold them): read once in-process with `load_path` + evaluation, then by the built
//! binary (`diagnose --offline -d big.evtx`), whose peak RSS `wait4` reports. `EVTX_OUT=PATH`
//! writes the log there too, for measuring by hand (`/usr/bin/time -v enroll-doctor diagnose
//! --offline -d PATH`).

use std::io::BufWriter;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{DateTime, Utc};
use enroll_doctor::checks::device;
use enroll_doctor::device::load_path;

use crate::evtx_writer::{self as w, Payload};

const MIB: u64 = 1024 * 1024;

const DMEDP: &str = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider";
const DMEDP_ADMIN: &str =
    "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin";

/// Writes a log of about MIB MiB to PATH, its newest event an hour before AS_OF.
fn write_big(path: &Path, mib: u64, as_of: DateTime<Utc>) -> u64 {
    let file = std::fs::File::create(path).expect("create big.evtx");
    let mut out = w::EvtxWriter::new(BufWriter::new(file)).expect("write header");
    // Records per chunk are about 200; one event every 10 s back from the newest.
    let chunks = mib * MIB / 65536;
    let estimate = chunks * 220;
    let newest = as_of.timestamp_nanos_opt().unwrap_or(0) as i128 - 3_600_000_000_000;
    let mut id = 0u64;
    while out.chunks() < chunks {
        id += 1;
        let time = w::filetime_from_unix_nanos(
            newest - i128::from(estimate.saturating_sub(id)) * 10_000_000_000,
        );
        let mut e = match id % 10 {
            0..=6 => {
                let mut e = w::Event::new(
                    DMEDP,
                    DMEDP_ADMIN,
                    [72, 75, 76, 201][(id % 4) as usize],
                    id,
                    time,
                );
                e.payload = Payload::EventData(vec![
                    (Some("HexInt1".into()), "0x0".into()),
                    (
                        Some("HexInt2".into()),
                        format!("0x{:08x}", 0x8018_0000u32 + (id % 64) as u32),
                    ),
                ]);
                e
            }
            7 | 8 => {
                let mut e = w::Event::new(
                    "Microsoft-Windows-TaskScheduler",
                    "Microsoft-Windows-TaskScheduler/Operational",
                    [107, 102][(id % 2) as usize],
                    id,
                    time,
                );
                e.payload = Payload::EventData(vec![
                    (Some("TaskName".into()), "\\Microsoft\\Windows\\EnterpriseMgmt\\Schedule created by enrollment client for automatically enrolling in MDM from AAD".into()),
                    (Some("InstanceId".into()), format!("{{8b1c6d2e-44f0-4a8c-9d3e-{id:012x}}}")),
                ]);
                e
            }
            _ => {
                let mut e =
                    w::Event::new("Microsoft-Windows-Kernel-General", "System", 16, id, time);
                e.payload = Payload::EventData(vec![(
                    Some("Reason".into()),
                    format!("a reason the tool does not read, number {id}"),
                )]);
                e
            }
        };
        e.level = if e.event_id == 76 { 2 } else { 4 };
        out.push(&e).expect("write event");
    }
    out.finish().expect("finish big.evtx");
    id
}

pub fn run(dir: &Path, mib: u64, as_of: DateTime<Utc>) {
    let path = dir.join("big.evtx");
    let t = Instant::now();
    let records = write_big(&path, mib, as_of);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "\nlarge .evtx: {} MiB, {records} records, written in {:.1}s",
        size / MIB,
        t.elapsed().as_secs_f64()
    );
    if let Ok(out) = std::env::var("EVTX_OUT") {
        match std::fs::copy(&path, &out) {
            Ok(_) => println!("  copied to {out}"),
            Err(e) => println!("  not copied to {out}: {e}"),
        }
    }
    let t = Instant::now();
    let reports = match load_path(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("big.evtx: {e}");
            std::process::exit(2);
        }
    };
    let loaded = t.elapsed();
    let (_, d) = device::evaluate(&reports[0], as_of);
    std::hint::black_box(d);
    let r = &reports[0];
    println!(
        "  load_path + evaluate: {:.2}s ({:.0} MiB/s); {} events kept, {} logs, note: {}",
        t.elapsed().as_secs_f64(),
        size as f64 / MIB as f64 / loaded.as_secs_f64(),
        r.events.len(),
        r.event_logs.len(),
        r.inputs[0].problem.as_deref().unwrap_or("none")
    );
    let bin = env!("CARGO_BIN_EXE_enroll-doctor");
    let mut cmd = Command::new(bin);
    cmd.args(["diagnose", "--offline", "-f", "json", "-d"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let t = Instant::now();
    match peak_rss_kib(&mut cmd) {
        Some((code, kib)) => println!(
            "  {bin} diagnose --offline -f json -d big.evtx: exit {code}, {:.2}s, peak RSS {:.1} MiB",
            t.elapsed().as_secs_f64(),
            kib as f64 / 1024.0
        ),
        None => println!("  peak RSS of the binary not measured on this platform"),
    }
}

/// Runs CMD to its end; its exit code and peak RSS in KiB (`wait4`).
#[cfg(unix)]
fn peak_rss_kib(cmd: &mut Command) -> Option<(i32, i64)> {
    let child = cmd.spawn().ok()?;
    let pid = i32::try_from(child.id()).ok()?;
    let mut status = 0;
    // SAFETY: `rusage` is plain old data; an all-zero value is valid, and wait4 writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; the pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        return None;
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Some((code, usage.ru_maxrss))
}

#[cfg(not(unix))]
fn peak_rss_kib(_cmd: &mut Command) -> Option<(i32, i64)> {
    None
}
