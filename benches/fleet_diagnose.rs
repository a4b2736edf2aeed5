//! Fleet benchmark (not a test): `diagnose` tenant collection for N device reports against a
//! generated tenant on the mock Graph (`MockConfig::generated_fleet`: 10,000 users, each of the
//! first 10,000 with a Windows device), at 0 and 20 ms of injected latency per response.
//!
//! Strategies: `before` is the collection `diagnose` used before bulk listing existed (users'
//! `$batch` wave, then the device lookups' `$batch` wave); `targeted` runs both waves side by
//! side; `bulk` lists users, devices, managed devices and events once and the policies' group
//! members once per group. `auto` is what `diagnose` now picks (bulk above
//! `BULK_THRESHOLD`). Each row also runs the diagnose pipeline over every device and checks
//! that the findings and verdicts equal the `before` ones.
//!
//! Run (debug build, no --release): `cargo bench --profile dev --bench fleet_diagnose`.
//! `FLEET_SIZES=100,1000` and `FLEET_LATENCIES=0,20` narrow the matrix. Every report carries
//! a serial number, so the targeted and bulk rows include the Autopilot look-ups (identities
//! by `contains(serialNumber,…)` in `$batch`, or listed once; corporate identifiers and
//! deployments listed); `FLEET_NO_AUTOPILOT=1` leaves them out for comparison, and
//! `FLEET_SHOW_DIFF=1` prints the first finding that differs from the baseline.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use enroll_doctor::checks::correlate::TenantNeeds;
use enroll_doctor::checks::device::DeviceAnalysis;
use enroll_doctor::config::{AuthMethod, FlagOverrides, Settings};
use enroll_doctor::device::host::HardwareInfo;
use enroll_doctor::device::load::report_from_memory;
use enroll_doctor::device::report::DeviceReport;
use enroll_doctor::diagnose::{Tenant, analyse_all, diagnose, tenant_needs};
use enroll_doctor::graph::GraphClient;
use enroll_doctor::tenant::TenantSnapshot;
use enroll_doctor::tenant::collect::{CollectOptions, UserSelection, collect};
use enroll_doctor::tenant::device_records::{self, BULK_THRESHOLD, DeviceLookup, FleetStrategy};
use mock_graph::{MockConfig, MockGraph, RecordedRequest, fleet_device, generated_tenant_id};

#[path = "../tests/support/utf16.rs"]
mod utf16;

const TENANT_USERS: usize = 10_000;
const SEED: u64 = 11;

type Files = Vec<(String, Vec<u8>)>;
/// A sample's files as text, and its DeviceId, host name and UPN to replace.
type Sample = (Vec<(String, String)>, [&'static str; 3]);

/// The sample's files as text (UTF-16 exports decoded).
fn sample(name: &str) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices")
        .join(name);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file.ends_with(".md") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let text = utf16::decode_bom(&bytes)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        out.push((file, text));
    }
    Ok(out)
}

/// Device `i` of the generated fleet: a copy of a sample with its DeviceId, host name, UPN
/// and tenant swapped for the generated ones.
fn device_report(i: usize, samples: &[Sample], tenant_id: &str) -> DeviceReport {
    let (files, [old_id, old_name, old_upn]) = &samples[i % samples.len()];
    let d = fleet_device(SEED, i);
    let files: Files = files
        .iter()
        .map(|(name, text)| {
            let t = text
                .replace("5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13", tenant_id)
                .replace(old_id, &d.device_id)
                .replace(old_name, &d.name)
                .replace(old_upn, &d.user_principal_name);
            (name.clone(), t.into_bytes())
        })
        .collect();
    let mut report = report_from_memory(&d.name, &files);
    // The hardware identity the collector records: the generated fleet registers every
    // device with Autopilot under this serial number (mocks/src/autopilot.rs).
    report.hardware = Some(HardwareInfo {
        manufacturer: Some("HP".into()),
        model: Some("HP EliteBook 840 G10".into()),
        serial_number: Some(format!("5CG{i:07}")),
        ..Default::default()
    });
    report
}

/// Sequential round-trip waves in the request log (top-level requests): a request is in the
/// wave after the latest one answered before it arrived.
fn waves(log: &[RecordedRequest]) -> usize {
    let mut top: Vec<&RecordedRequest> = log.iter().filter(|r| !r.in_batch).collect();
    top.sort_by_key(|r| r.received);
    let mut wave_of: Vec<usize> = Vec::with_capacity(top.len());
    let mut answered: Vec<(Duration, usize)> = Vec::new();
    for r in &top {
        let w = answered
            .iter()
            .filter(|(a, _)| *a <= r.received)
            .map(|(_, w)| *w)
            .max()
            .unwrap_or(0)
            + 1;
        wave_of.push(w);
        answered.push((r.answered, w));
    }
    wave_of.into_iter().max().unwrap_or(0)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Before,
    Targeted,
    Bulk,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Before => "before",
            Mode::Targeted => "targeted",
            Mode::Bulk => "bulk",
        }
    }
}

async fn collect_with(
    client: &GraphClient,
    needs: &TenantNeeds,
    mode: Mode,
    cloud: &str,
) -> Result<TenantSnapshot, Box<dyn std::error::Error>> {
    let opts = CollectOptions {
        users: UserSelection::Upns(needs.upns.iter().cloned().collect()),
        ..CollectOptions::tenant_only(cloud)
    };
    let lookup = DeviceLookup {
        device_ids: needs.device_ids.clone(),
        names: needs.names.clone(),
        // `FLEET_NO_AUTOPILOT=1`: without the Autopilot look-ups, for the comparison.
        serial_numbers: if std::env::var_os("FLEET_NO_AUTOPILOT").is_some() {
            Default::default()
        } else {
            needs.serial_numbers.clone()
        },
    };
    let now = Utc::now();
    Ok(match mode {
        // What `diagnose` did before: the users' wave, then the devices' wave.
        Mode::Before => {
            let mut snap = collect(client, &opts, now).await?;
            let records = device_records::fetch(client, &lookup, snap.token_kind).await;
            device_records::merge_into(&mut snap, records);
            snap
        }
        Mode::Targeted => {
            device_records::collect_fleet(client, &opts, &lookup, FleetStrategy::Targeted, now)
                .await?
        }
        Mode::Bulk => {
            device_records::collect_fleet(client, &opts, &lookup, FleetStrategy::Bulk, now).await?
        }
    })
}

/// The diagnose pipeline's findings over every device, as comparable lines (check, status,
/// subject, summary, evidence text), then each device's verdict.
fn findings(
    reports: &[DeviceReport],
    analyses: &[DeviceAnalysis],
    snap: &TenantSnapshot,
    as_of: DateTime<Utc>,
) -> Vec<String> {
    let tenant = Tenant {
        snapshot: snap,
        notes: Vec::new(),
    };
    let diagnosed = diagnose(reports, analyses, Some(tenant), None, as_of);
    let mut out: Vec<String> = diagnosed
        .findings
        .iter()
        .map(|f| {
            let ev: Vec<&str> = f.evidence.iter().map(|e| e.detail.as_str()).collect();
            format!(
                "{} {:?} {:?} {} | {}",
                f.check,
                f.status,
                f.subject,
                f.summary,
                ev.join(" / ")
            )
        })
        .collect();
    out.extend(
        diagnosed
            .diagnoses
            .iter()
            .map(|d| format!("{:?}", d.verdict)),
    );
    out
}

async fn run_one(
    n: usize,
    latency: Duration,
    reports: &[DeviceReport],
    as_of: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockGraph::start(MockConfig {
        latency,
        ..MockConfig::generated_fleet(TENANT_USERS, TENANT_USERS, SEED)
    })
    .await?;
    let token = mock
        .token_for("cli")
        .ok_or("no `cli` app in the generated tenant")?;
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
    let reports = &reports[..n];
    let analyses = analyse_all(reports, None, as_of);
    let needs = tenant_needs(reports, &analyses, None);
    let lookup = DeviceLookup {
        device_ids: needs.device_ids.clone(),
        names: needs.names.clone(),
        serial_numbers: needs.serial_numbers.clone(),
    };
    let auto = FleetStrategy::choose(&lookup, needs.upns.len(), BULK_THRESHOLD);
    let mut baseline: Option<Vec<String>> = None;
    for mode in [Mode::Before, Mode::Targeted, Mode::Bulk] {
        let client = GraphClient::from_settings(&settings)?;
        mock.clear_requests();
        let started = Instant::now();
        let snap = collect_with(&client, &needs, mode, "custom").await?;
        let wall = started.elapsed();
        let log = mock.requests();
        let top = log.iter().filter(|r| !r.in_batch).count();
        let items = log.iter().filter(|r| r.in_batch).count();
        let mut found = findings(reports, &analyses, &snap, as_of);
        // The Autopilot look-ups (by serial number): the same identities and deployments
        // whichever way they were read ("before" had none).
        let autopilot = snap.sources.autopilot_devices.data().map_or(0, Vec::len);
        let deployments = snap.sources.autopilot_events.data().map_or(0, Vec::len);
        if mode != Mode::Before {
            let mut ids: Vec<String> = snap
                .sources
                .autopilot_devices
                .data()
                .into_iter()
                .flatten()
                .map(|d| d.id.clone())
                .collect();
            ids.sort();
            found.push(format!("autopilot {}", ids.join(",")));
        }
        let same = match &baseline {
            None => {
                baseline = Some(found.clone());
                "baseline".to_string()
            }
            // The targeted row is the baseline of the Autopilot line: "before" has none.
            Some(b) if mode == Mode::Targeted => {
                let differing = b.iter().zip(&found).filter(|(x, y)| x != y).count();
                baseline = Some(found.clone());
                if differing == 0 {
                    "identical".to_string()
                } else {
                    format!("{differing} DIFFERENT")
                }
            }
            Some(b) if *b == found => "identical".to_string(),
            Some(b) => {
                if std::env::var_os("FLEET_SHOW_DIFF").is_some()
                    && let Some((x, y)) = b.iter().zip(&found).find(|(x, y)| x != y)
                {
                    eprintln!("first difference:\n  {x}\n  {y}");
                }
                let differing = b.iter().zip(&found).filter(|(x, y)| x != y).count()
                    + b.len().abs_diff(found.len());
                format!("{differing} DIFFERENT")
            }
        };
        let picked = match (mode, auto) {
            (Mode::Targeted, FleetStrategy::Targeted) | (Mode::Bulk, FleetStrategy::Bulk) => "*",
            _ => " ",
        };
        println!(
            "| {n:>5} | {:>3} ms | {:<9} | {:>6} | {:>7} | {:>5} | {:>8.2} s | {} findings, {same} | {autopilot} / {deployments} |",
            latency.as_millis(),
            format!("{}{picked}", mode.label()),
            top,
            items,
            waves(&log),
            wall.as_secs_f64(),
            found.len(),
        );
    }
    mock.shutdown().await;
    Ok(())
}

fn list_env(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect::<Vec<usize>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes = list_env("FLEET_SIZES", &[100, 1000, 5000]);
    let latencies = list_env("FLEET_LATENCIES", &[0, 20]);
    let as_of = Utc
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .ok_or("bad date")?;
    let tenant_id = generated_tenant_id(SEED);
    let samples: Vec<Sample> = vec![
        (
            sample("hybrid-enrolled")?,
            [
                "3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15",
                "PC0042",
                "jdoe@contoso.com",
            ],
        ),
        (
            sample("failed-8018002b")?,
            [
                "a81d6c0f-3e2b-4f7a-b5c9-0e1d2c3b4a59",
                "PC0077",
                "mgarcia@contoso.com",
            ],
        ),
    ];
    let max = sizes.iter().copied().max().unwrap_or(0).min(TENANT_USERS);
    let reports: Vec<DeviceReport> = (0..max)
        .map(|i| device_report(i, &samples, &tenant_id))
        .collect();
    println!(
        "fleet diagnose collection, tenant of {TENANT_USERS} users / {TENANT_USERS} devices, \
         profile {}; * = what diagnose picks (bulk above {BULK_THRESHOLD})",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "| N     | latency | strategy  | reqs   | $batch items | waves | wall | findings | Autopilot identities / deployments |"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        for &n in &sizes {
            for &ms in &latencies {
                run_one(
                    n.min(max),
                    Duration::from_millis(ms as u64),
                    &reports,
                    as_of,
                )
                .await?;
            }
        }
        Ok(())
    })
}
