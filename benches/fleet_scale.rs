//! Fleet diagnosis at scale, a benchmark (not a test): 10,000 device report folders made from
//! the bundled samples (`mocks/devices/*`, each copy with the DeviceId, host name and user of
//! one device of the generated fleet, the Autopilot sample a serial number of its own, so a
//! sixth of the fleet is looked up in Autopilot too), then `diagnose -d <folder>` of the built binary in
//! every output format — offline (floor: reading every file once) and against
//! `MockConfig::generated_fleet` (100,000 users and devices, 20 ms per response; floor: the
//! collections the bulk strategy lists — users, Entra devices, managed devices, events, the
//! tenant configuration and its groups' members — with `GraphClient::for_each_page`, each
//! paged sequentially and side by side) — with wall time, the ratio and the child's peak RSS.
//!
//! Run: `cargo bench --bench fleet_scale`. Environment: `FLEET_DEVICES` (10000),
//! `FLEET_TENANT_USERS` (100000), `FLEET_LATENCY_MS` (20), `FLEET_ONLINE=0` to skip the runs
//! against the mock, `SCALE_FORMATS`, `SCALE_TIMEOUT_S` (per run, 600), `SCALE_SHOW_HEAD=1` to
//! print the first 40 lines of each output.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mock_graph::{MockConfig, MockGraph, fleet_device, generated_tenant_id};

#[path = "support/scale.rs"]
mod scale;
#[path = "../tests/support/utf16.rs"]
mod utf16;

use scale::{HEADER, Needs, Res, Run, command, connect, env_flag, env_u64, formats, run};

const SEED: u64 = 11;
const AS_OF: &str = "2026-11-26T12:00:00Z";
/// Issue 9's targets: offline ≤ 5 s and ≤ 200 MB; against the tenant ≤ 1.5× the floor.
const OFFLINE_TARGET: Duration = Duration::from_secs(5);
const RSS_TARGET_MIB: f64 = 200.0;
const RATIO_TARGET: f64 = 1.5;

/// One bundled sample: its files (text of UTF-16 ones decoded, and whether they were) and
/// the identifiers its `dsregcmd /status` names, to be swapped per copy.
struct Sample {
    files: Vec<(String, String, bool)>,
    device_id: Option<String>,
    name: Option<String>,
    upn: Option<String>,
    tenant_id: Option<String>,
}

/// The value after `label :` on a `dsregcmd /status` line.
fn field(text: &str, label: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(" : ")?;
        (k.trim() == label).then(|| v.trim().to_string())
    })
}

fn samples() -> Res<Vec<Sample>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // The samples' notes are not part of a device report.
            if name.ends_with(".md") {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            let (text, wide) = match utf16::decode_bom(&bytes) {
                Some(t) => (t, true),
                None => (String::from_utf8_lossy(&bytes).into_owned(), false),
            };
            files.push((name, text, wide));
        }
        let dsreg = files
            .iter()
            .find(|(n, _, _)| n == "dsregcmd.txt")
            .map(|(_, t, _)| t.as_str())
            .unwrap_or_default();
        let upn = field(dsreg, "Executing Account Name")
            .and_then(|v| v.split(',').nth(1).map(|u| u.trim().to_string()));
        let name = field(dsreg, "Device Name")
            .map(|n| n.split('.').next().unwrap_or_default().to_string())
            .filter(|n| !n.is_empty());
        out.push(Sample {
            device_id: field(dsreg, "DeviceId"),
            tenant_id: field(dsreg, "TenantId"),
            name,
            upn,
            files,
        });
    }
    Ok(out)
}

/// Writes `n` device folders under `dir`: device `i` is sample `i % samples` with the
/// identifiers of generated fleet device `i` and the generated tenant's id.
fn write_fleet(dir: &Path, n: usize, samples: &[Sample]) -> Res<()> {
    let tenant = generated_tenant_id(SEED);
    for i in 0..n {
        let s = &samples[i % samples.len()];
        let d = fleet_device(SEED, i);
        let mut swaps: Vec<(String, String)> = Vec::new();
        if let Some(id) = &s.device_id {
            swaps.push((id.to_ascii_lowercase(), d.device_id.clone()));
            swaps.push((id.to_ascii_uppercase(), d.device_id.to_ascii_uppercase()));
        }
        if let Some(t) = &s.tenant_id {
            swaps.push((t.to_ascii_lowercase(), tenant.clone()));
        }
        if let Some(name) = &s.name {
            swaps.push((name.clone(), d.name.clone()));
        }
        if let Some(upn) = &s.upn {
            swaps.push((upn.clone(), d.user_principal_name.clone()));
        }
        // The Autopilot sample's serial: one per copy, so every such device is an Autopilot
        // look-up of its own (identities, then the device's groups).
        swaps.push(("CZC4417AP1".into(), format!("CZC{i:07}")));
        let folder = dir.join(&d.name);
        std::fs::create_dir_all(&folder)?;
        for (file, text, wide) in &s.files {
            let mut t = text.clone();
            for (old, new) in &swaps {
                if !old.is_empty() {
                    t = t.replace(old.as_str(), new);
                }
            }
            let data = if *wide {
                utf16::encode_bom(&t)
            } else {
                t.into_bytes()
            };
            std::fs::write(folder.join(file), data)?;
        }
    }
    Ok(())
}

/// The offline floor: every file under `dir` read once.
fn read_all(dir: &Path) -> Res<(Duration, u64, u64)> {
    let started = Instant::now();
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else {
                bytes += std::fs::read(entry.path())?.len() as u64;
                files += 1;
            }
        }
    }
    Ok((started.elapsed(), files, bytes))
}

fn verdict(r: &Run, limit: Duration) -> &'static str {
    scale::verdict(r, limit, RSS_TARGET_MIB)
}

fn main() -> Res<()> {
    let n = usize::try_from(env_u64("FLEET_DEVICES", 10_000))?;
    let tenant_users = usize::try_from(env_u64("FLEET_TENANT_USERS", 100_000))?.max(n);
    let latency = Duration::from_millis(env_u64("FLEET_LATENCY_MS", 20));
    let timeout = Duration::from_secs(env_u64("SCALE_TIMEOUT_S", 600));
    let work = tempfile::tempdir()?;
    let fleet = work.path().join("fleet");
    let samples = samples()?;
    if samples.is_empty() {
        return Err("no samples under mocks/devices".into());
    }
    write_fleet(&fleet, n, &samples)?;
    let (floor, files, bytes) = read_all(&fleet)?;
    println!(
        "diagnose -d <folder of {n} device reports> ({} samples, {files} files, {:.0} MB), \
         {} build of {}",
        samples.len(),
        bytes as f64 / 1e6,
        scale::profile(),
        scale::binary().display()
    );
    println!(
        "floor, offline: every file read once: {:.3} s",
        floor.as_secs_f64()
    );
    println!(
        "targets: offline ≤ {} s and ≤ {RSS_TARGET_MIB} MB; against the tenant ≤ {RATIO_TARGET}× the floor\n",
        OFFLINE_TARGET.as_secs()
    );
    println!("{HEADER}");
    for format in formats() {
        let mut cmd = command(work.path());
        cmd.args(["diagnose", "--offline", "-f", &format, "--fail-on", "never"])
            .args(["--as-of", AS_OF, "-d"])
            .arg(&fleet);
        let r = run(&mut cmd, timeout)?;
        if r.rejected_format() {
            println!(
                "| offline | {format} | skipped: the binary has no `--format {format}` | | | | |"
            );
            continue;
        }
        let notes = [verdict(&r, OFFLINE_TARGET)];
        println!(
            "{}",
            scale::row("offline", &format, &r, Some(floor), &notes)
        );
        scale::show_head(&r);
    }
    if !env_flag("FLEET_ONLINE", true) {
        return Ok(());
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mock = MockGraph::start(MockConfig {
            latency,
            ..MockConfig::generated_fleet(tenant_users, tenant_users, SEED)
        })
        .await?;
        let handle = mock.handle();
        println!(
            "\nagainst MockConfig::generated_fleet({tenant_users}, {tenant_users}), page size 999, \
             {} ms per response",
            latency.as_millis()
        );
        let needs = Needs {
            users: true,
            entra_devices: true,
            managed_devices: true,
            events: true,
        };
        let floor = scale::print_floors(&handle, needs).await?;
        println!("\n{HEADER}");
        for format in formats() {
            let mut cmd = command(work.path());
            cmd.args(["diagnose", "-f", &format, "--fail-on", "never"])
                .args(["--as-of", AS_OF, "-d"])
                .arg(&fleet);
            connect(&mut cmd, &handle)?;
            handle.clear_requests();
            let r = tokio::task::spawn_blocking(move || run(&mut cmd, timeout)).await??;
            if r.rejected_format() {
                continue;
            }
            let requests = handle.requests().iter().filter(|q| !q.in_batch).count();
            let requests = format!("{requests} requests");
            let notes = [requests.as_str(), verdict(&r, floor.mul_f64(RATIO_TARGET))];
            println!("{}", scale::row("Graph", &format, &r, Some(floor), &notes));
            scale::show_head(&r);
        }
        mock.shutdown().await;
        Ok(())
    })
}
