//! Shared by the scale benches (`readiness_scale`, `fleet_scale`) through `#[path]`: the
//! formats to run, the release binary run as a child process (wall time, exit code, peak RSS
//! from `wait4`, output size), and the floor — the Graph collections a run needs, listed with
//! the client's plain pager against the same mock. Each includer uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use enroll_doctor::config::{AuthMethod, FlagOverrides, Settings};
use enroll_doctor::graph::{ApiVersion, GraphClient, Query};
use enroll_doctor::tenant::Source;
use enroll_doctor::tenant::collect::{DEVICE_SELECT, MANAGED_SELECT, USER_SELECT, relevant_groups};
use enroll_doctor::tenant::snapshot::{
    ConditionalAccessPolicy, EnrollmentConfiguration, MobilityPolicy,
};
use futures::future::{BoxFuture, join_all};
use mock_graph::MockHandle;
use serde::de::IgnoredAny;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Every output format the benches try, in order. A format the binary does not know (clap
/// rejects it) is reported as skipped, so this list may run ahead of the CLI.
pub const FORMATS: &[&str] = &["table", "json", "jsonl", "csv", "markdown"];

/// `SCALE_FORMATS=json,csv` narrows [`FORMATS`].
pub fn formats() -> Vec<String> {
    match std::env::var("SCALE_FORMATS") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect(),
        _ => FORMATS.iter().map(|f| f.to_string()).collect(),
    }
}

/// `name` as a number, or `default` when unset or not a number.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Whether `name` is set to something other than `0` / `false` / `no` (or `default` unset).
pub fn env_flag(name: &str, default: bool) -> bool {
    match std::env::var(name) {
        Ok(v) => !matches!(v.trim(), "0" | "false" | "no" | ""),
        Err(_) => default,
    }
}

/// The enroll-doctor binary Cargo built for this bench (release under `cargo bench`).
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_enroll-doctor"))
}

pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The binary with a clean environment (no tenant, credentials or config from the caller),
/// run in `work` so no `./enroll-doctor.toml` is picked up.
pub fn command(work: &Path) -> Command {
    let mut cmd = Command::new(binary());
    for (k, _) in std::env::vars() {
        if k.starts_with("AZURE_") || k.starts_with("ENROLL_DOCTOR_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(work)
        .env("ENROLL_DOCTOR_TOKEN_CACHE", work.join("no-token-cache"))
        .env("NO_COLOR", "1");
    cmd
}

/// The connection flags and token for `mock` (delegated `cli` app, as an access token).
pub fn connect(cmd: &mut Command, mock: &MockHandle) -> Res<()> {
    let base = mock.base_url();
    let token = mock.token_for("cli").ok_or("the mock has no `cli` app")?;
    cmd.args([
        "--cloud",
        "custom",
        "--graph-url",
        &base,
        "--login-url",
        &base,
    ])
    .args(["--tenant", &mock.tenant_id(), "--auth", "access-token"])
    .env("ENROLL_DOCTOR_ACCESS_TOKEN", token);
    Ok(())
}

/// A [`GraphClient`] on `mock` with the same token as [`connect`].
pub fn client(mock: &MockHandle) -> Res<GraphClient> {
    let token = mock.token_for("cli").ok_or("the mock has no `cli` app")?;
    let env: HashMap<String, String> = [
        ("AZURE_TENANT_ID".to_string(), mock.tenant_id()),
        ("ENROLL_DOCTOR_ACCESS_TOKEN".to_string(), token),
    ]
    .into_iter()
    .collect();
    let flags = FlagOverrides {
        graph_url: Some(mock.base_url()),
        login_url: Some(mock.base_url()),
        auth: Some(AuthMethod::AccessToken),
        ..Default::default()
    };
    let settings = Settings::from_map(None, &env, &flags)?;
    Ok(GraphClient::from_settings(&settings)?)
}

/// One run of the binary.
pub struct Run {
    pub wall: Duration,
    /// Exit code; `None` when killed (timeout) or ended by a signal.
    pub code: Option<i32>,
    pub timed_out: bool,
    /// Peak resident set of the child (`ru_maxrss`), in KiB.
    pub peak_rss_kib: u64,
    pub out_bytes: u64,
    pub out_lines: u64,
    /// The first 40 lines of stdout.
    pub head: Vec<String>,
    /// The end of stderr.
    pub stderr: String,
}

impl Run {
    /// Clap's answer to a `--format` it does not have.
    pub fn rejected_format(&self) -> bool {
        self.code == Some(2) && self.stderr.contains("invalid value")
    }

    /// `wall` / `floor` as `1.23×` (`> 1.2×` after a timeout).
    pub fn ratio(&self, floor: Duration) -> String {
        let r = self.wall.as_secs_f64() / floor.as_secs_f64().max(1e-9);
        if self.timed_out {
            format!("> {r:.1}×")
        } else {
            format!("{r:.2}×")
        }
    }

    /// Wall time, or `> N s (killed)` after a timeout.
    pub fn wall_text(&self) -> String {
        if self.timed_out {
            format!("> {:.0} s (killed)", self.wall.as_secs_f64())
        } else {
            format!("{:.2} s", self.wall.as_secs_f64())
        }
    }

    pub fn rss_text(&self) -> String {
        format!("{:.0} MB", self.peak_rss_kib as f64 / 1024.0)
    }

    pub fn out_text(&self) -> String {
        format!(
            "{:.1} MB, {} lines",
            self.out_bytes as f64 / 1e6,
            self.out_lines
        )
    }

    /// What went wrong, when the run did not end with exit code 0 or 1.
    pub fn failure(&self) -> Option<String> {
        match self.code {
            Some(0 | 1) => None,
            _ if self.timed_out => None,
            code => Some(format!(
                "exit {code:?}: {}",
                self.stderr.lines().last().unwrap_or_default()
            )),
        }
    }
}

/// Runs `cmd` to its end (killed after `timeout`), draining stdout as it comes, and reaps
/// it with `wait4` for its peak RSS.
///
/// `SCALE_STAGES=1` runs the child with `RUST_LOG=enroll_doctor=info` and prints the lines
/// in which it times its stages (collecting, loading, evaluating, writing) to stderr.
pub fn run(cmd: &mut Command, timeout: Duration) -> Res<Run> {
    let stages = env_flag("SCALE_STAGES", false);
    if stages {
        cmd.env("RUST_LOG", "enroll_doctor=info");
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = libc::pid_t::try_from(child.id())?;
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let out = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let (mut bytes, mut lines) = (0u64, 0u64);
        let mut head: Vec<u8> = Vec::new();
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes += n as u64;
            lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
            if head.len() < 64 * 1024 {
                head.extend_from_slice(&buf[..n]);
            }
        }
        let head: Vec<String> = String::from_utf8_lossy(&head)
            .lines()
            .take(40)
            .map(str::to_string)
            .collect();
        (bytes, lines, head)
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        let keep = text.len().saturating_sub(4096);
        String::from_utf8_lossy(&text[keep..]).into_owned()
    });
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data; an all-zero value is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: `pid` is our own child, not yet reaped; both pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if r < 0 {
            return Err(format!("wait4: {}", std::io::Error::last_os_error()).into());
        }
        if !timed_out && started.elapsed() > timeout {
            timed_out = true;
            child.kill()?;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let wall = started.elapsed();
    let (out_bytes, out_lines, head) = out.join().map_err(|_| "stdout reader panicked")?;
    let stderr = err.join().map_err(|_| "stderr reader panicked")?;
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    if stages {
        for line in stderr
            .lines()
            .filter(|l| l.contains(" s") && l.contains(" in "))
        {
            eprintln!("    stage: {line}");
        }
    }
    Ok(Run {
        wall,
        code,
        timed_out,
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        out_bytes,
        out_lines,
        head,
        stderr,
    })
}

/// Which collections a run lists besides the tenant-wide configuration (organization, SKUs,
/// MDM/MAM scopes, enrollment configurations, device registration policy, Conditional
/// Access) and the members of the groups those refer to.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    pub users: bool,
    pub entra_devices: bool,
    pub managed_devices: bool,
    pub events: bool,
}

/// The floor of one run: every collection listed once, page after page.
pub struct Floor {
    pub wall: Duration,
    pub requests: u64,
    pub items: u64,
}

type Listing<'a> = BoxFuture<'a, Res<u64>>;

/// Items of one listing, paged with `for_each_page` (nothing kept).
fn count<'a>(client: &'a GraphClient, v: ApiVersion, path: String, q: Query) -> Listing<'a> {
    Box::pin(async move {
        let n = client
            .for_each_page(v, &path, &q, |_: Vec<IgnoredAny>| ControlFlow::Continue(()))
            .await?;
        Ok(n)
    })
}

/// Runs the listings side by side (`parallel`) or one after the other.
async fn all(listings: Vec<Listing<'_>>, parallel: bool) -> Res<u64> {
    let mut total = 0;
    if parallel {
        for r in join_all(listings).await {
            total += r?;
        }
    } else {
        for l in listings {
            total += l.await?;
        }
    }
    Ok(total)
}

/// The tenant-wide configuration, then the members of the groups it refers to.
fn tenant_then_groups(client: &GraphClient, parallel: bool) -> Listing<'_> {
    Box::pin(async move {
        let beta = ApiVersion::Beta;
        let v1 = ApiVersion::V1;
        let mut items = all(
            vec![
                count(
                    client,
                    v1,
                    "/organization".into(),
                    Query::new().without_top(),
                ),
                count(
                    client,
                    v1,
                    "/subscribedSkus".into(),
                    Query::new().without_top(),
                ),
                Box::pin(async move {
                    client
                        .get_json::<IgnoredAny>(
                            v1,
                            "/policies/deviceRegistrationPolicy",
                            &Query::new(),
                        )
                        .await?;
                    Ok(1)
                }),
            ],
            parallel,
        )
        .await?;
        let policies = |path: &'static str| async move {
            let q = Query::new().expand("includedGroups").without_top();
            client.list_all::<MobilityPolicy>(beta, path, &q).await
        };
        let configs = async {
            let q = Query::new().expand("assignments");
            client
                .list_all::<EnrollmentConfiguration>(
                    beta,
                    "/deviceManagement/deviceEnrollmentConfigurations",
                    &q,
                )
                .await
        };
        let ca = async {
            let q = Query::new().without_top();
            client
                .list_all::<ConditionalAccessPolicy>(v1, "/identity/conditionalAccess/policies", &q)
                .await
        };
        let (mdm, mam, configs, ca) = if parallel {
            futures::join!(
                policies("/policies/mobileDeviceManagementPolicies"),
                policies("/policies/mobileAppManagementPolicies"),
                configs,
                ca
            )
        } else {
            (
                policies("/policies/mobileDeviceManagementPolicies").await,
                policies("/policies/mobileAppManagementPolicies").await,
                configs.await,
                ca.await,
            )
        };
        let (mdm, mam, configs, ca) = (mdm?, mam?, configs?, ca?);
        items += (mdm.len() + mam.len() + configs.len() + ca.len()) as u64;
        let groups = relevant_groups(
            &Source::collected("", mdm),
            &Source::collected("", mam),
            &Source::collected("", configs),
            &Source::collected("", ca),
        );
        let members = groups
            .keys()
            .map(|g| {
                count(
                    client,
                    v1,
                    format!("/groups/{g}/transitiveMembers"),
                    Query::new().select(&["id"]),
                )
            })
            .collect();
        items += all(members, parallel).await?;
        Ok(items)
    })
}

/// Lists what `needs` names against the client's Graph: with `parallel`, each collection
/// is paged sequentially (every page needs the previous page's nextLink) and the
/// collections side by side, as a tool can at best; otherwise one collection after the
/// other.
pub async fn floor(client: &GraphClient, needs: Needs, parallel: bool) -> Res<Floor> {
    client.tokens().token().await?;
    let before = client.stats().requests;
    let started = Instant::now();
    let v1 = ApiVersion::V1;
    let mut listings = vec![tenant_then_groups(client, parallel)];
    if needs.users {
        listings.push(count(
            client,
            v1,
            "/users".into(),
            Query::new().select(USER_SELECT),
        ));
    }
    if needs.entra_devices {
        listings.push(count(
            client,
            v1,
            "/devices".into(),
            Query::new().select(DEVICE_SELECT),
        ));
    }
    if needs.managed_devices {
        listings.push(count(
            client,
            v1,
            "/deviceManagement/managedDevices".into(),
            Query::new().select(MANAGED_SELECT),
        ));
    }
    if needs.events {
        listings.push(count(
            client,
            v1,
            "/deviceManagement/troubleshootingEvents".into(),
            Query::new(),
        ));
    }
    let items = all(listings, parallel).await?;
    Ok(Floor {
        wall: started.elapsed(),
        requests: client.stats().requests - before,
        items,
    })
}

/// Prints the two floors and returns the parallel one (the one ratios are taken to).
pub async fn print_floors(mock: &MockHandle, needs: Needs) -> Res<Duration> {
    let mut parallel = None;
    for side_by_side in [true, false] {
        let client = client(mock)?;
        let f = floor(&client, needs, side_by_side).await?;
        println!(
            "floor, {}: {:.2} s, {} requests, {} items",
            if side_by_side {
                "collections side by side (the ratio's base)"
            } else {
                "collections one after the other"
            },
            f.wall.as_secs_f64(),
            f.requests,
            f.items
        );
        if side_by_side {
            parallel = Some(f.wall);
        }
    }
    parallel.ok_or_else(|| "no floor".into())
}

/// One table row for a run; `notes` go to the last column after any failure.
pub fn row(label: &str, format: &str, r: &Run, floor: Option<Duration>, notes: &[&str]) -> String {
    let ratio = floor.map_or_else(|| "—".to_string(), |f| r.ratio(f));
    let failure = r.failure();
    let note = failure
        .iter()
        .map(String::as_str)
        .chain(notes.iter().copied())
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "| {label} | {format} | {} | {ratio} | {} | {} | {note} |",
        r.wall_text(),
        r.rss_text(),
        r.out_text()
    )
}

/// With `SCALE_SHOW_HEAD=1`, the first 40 lines of the run's output (where the summary of a
/// large run belongs).
pub fn show_head(r: &Run) {
    if env_flag("SCALE_SHOW_HEAD", false) {
        println!("\n```\n{}\n```\n", r.head.join("\n"));
    }
}

pub const HEADER: &str =
    "| run | format | wall | ÷ floor | peak RSS | output | note |\n|---|---|---|---|---|---|---|";

/// Whether a run met its target: finished in time, succeeded, within `limit` and
/// `rss_target_mib` of peak memory.
pub fn verdict(r: &Run, limit: Duration, rss_target_mib: f64) -> &'static str {
    let rss_ok = (r.peak_rss_kib as f64 / 1024.0) <= rss_target_mib;
    if !r.timed_out && r.failure().is_none() && r.wall <= limit && rss_ok {
        "meets target"
    } else {
        "over target"
    }
}
