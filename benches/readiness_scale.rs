//! Readiness at tenant scale, a benchmark (not a test): `check --all-users` of the built
//! binary against a generated tenant on the mock Graph (`MockConfig::generated`: 100,000 users,
//! page size 999, 20 ms per response) in every output format, next to the floor — the same
//! collections (users with the tool's `$select`, managed devices, the tenant configuration and
//! the members of the groups it refers to) listed with `GraphClient::for_each_page`, each
//! collection paged sequentially and the collections side by side — as a ratio, with the
//! child's peak RSS; then the same formats from a snapshot saved by `check --save-snapshot`
//! (no network).
//!
//! Run: `cargo bench --bench readiness_scale`. Environment: `READINESS_USERS` (100000),
//! `READINESS_LATENCY_MS` (20), `SCALE_FORMATS` (table,json,jsonl,csv,markdown),
//! `SCALE_TIMEOUT_S` (per run, 600), `READINESS_SNAPSHOT=0` to skip the snapshot runs,
//! `SCALE_SHOW_HEAD=1` to print the first 40 lines of each output, `SCALE_STAGES=1` to print
//! the binary's stage timings, `READINESS_KEEP_SNAPSHOT=FILE` to keep the saved snapshot.

use std::time::Duration;

use mock_graph::{MockConfig, MockGraph};

#[path = "support/scale.rs"]
mod scale;

use scale::{HEADER, Needs, Res, Run, command, connect, env_flag, env_u64, formats, run};

const AS_OF: &str = "2026-11-26T12:00:00Z";
/// Issue 9's targets: end to end within 1.5× the floor and 300 MB; from a snapshot 3 s.
const RATIO_TARGET: f64 = 1.5;
const RSS_TARGET_MIB: f64 = 300.0;
const SNAPSHOT_TARGET: Duration = Duration::from_secs(3);

fn verdict(r: &Run, limit: Duration) -> &'static str {
    scale::verdict(r, limit, RSS_TARGET_MIB)
}

fn main() -> Res<()> {
    let users = usize::try_from(env_u64("READINESS_USERS", 100_000))?;
    let latency = Duration::from_millis(env_u64("READINESS_LATENCY_MS", 20));
    let timeout = Duration::from_secs(env_u64("SCALE_TIMEOUT_S", 600));
    let work = tempfile::tempdir()?;
    let snapshot = work.path().join("snapshot.json");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mock = MockGraph::start(MockConfig {
            latency,
            ..MockConfig::generated(users, 1)
        })
        .await?;
        let handle = mock.handle();
        println!(
            "check --all-users, {users} generated users, page size 999, {} ms per response, \
             {} build of {}",
            latency.as_millis(),
            scale::profile(),
            scale::binary().display()
        );
        let needs = Needs {
            users: true,
            entra_devices: false,
            managed_devices: true,
            events: false,
        };
        let floor = scale::print_floors(&handle, needs).await?;
        println!("targets: ≤ {RATIO_TARGET}× the floor and ≤ {RSS_TARGET_MIB} MB; from the snapshot ≤ {} s\n", SNAPSHOT_TARGET.as_secs());
        println!("{HEADER}");
        let graph_limit = floor.mul_f64(RATIO_TARGET);
        for format in formats() {
            let mut cmd = command(work.path());
            cmd.args(["check", "--all-users", "-f", &format, "--fail-on", "never"])
                .args(["--as-of", AS_OF]);
            connect(&mut cmd, &handle)?;
            handle.clear_requests();
            let r = tokio::task::spawn_blocking(move || run(&mut cmd, timeout)).await??;
            if r.rejected_format() {
                println!("| Graph | {format} | skipped: the binary has no `--format {format}` | | | | |");
                continue;
            }
            let requests = handle.requests().iter().filter(|q| !q.in_batch).count();
            let requests = format!("{requests} requests");
            let notes = [requests.as_str(), verdict(&r, graph_limit)];
            println!("{}", scale::row("Graph", &format, &r, Some(floor), &notes));
            scale::show_head(&r);
        }
        if !env_flag("READINESS_SNAPSHOT", true) {
            mock.shutdown().await;
            return Ok(());
        }
        let mut cmd = command(work.path());
        cmd.args(["check", "--all-users", "-f", "json", "--fail-on", "never"])
            .args(["--as-of", AS_OF, "--save-snapshot"])
            .arg(&snapshot);
        connect(&mut cmd, &handle)?;
        let r = tokio::task::spawn_blocking(move || run(&mut cmd, timeout)).await??;
        let label = "Graph + `--save-snapshot`";
        println!("{}", scale::row(label, "json", &r, Some(floor), &[]));
        scale::show_head(&r);
        mock.shutdown().await;
        if r.failure().is_some() || r.timed_out || !snapshot.is_file() {
            return Err("no snapshot was saved".into());
        }
        let size = std::fs::metadata(&snapshot)?.len();
        if let Some(keep) = std::env::var_os("READINESS_KEEP_SNAPSHOT") {
            std::fs::copy(&snapshot, keep)?;
        }
        for format in formats() {
            let mut cmd = command(work.path());
            cmd.args(["check", "--all-users", "-f", &format, "--fail-on", "never"])
                .args(["--as-of", AS_OF, "--snapshot"])
                .arg(&snapshot);
            let r = tokio::task::spawn_blocking(move || run(&mut cmd, timeout)).await??;
            if r.rejected_format() {
                continue;
            }
            let label = format!("snapshot ({:.0} MB)", size as f64 / 1e6);
            let notes = [verdict(&r, SNAPSHOT_TARGET)];
            println!("{}", scale::row(&label, &format, &r, None, &notes));
            scale::show_head(&r);
        }
        Ok(())
    })
}
