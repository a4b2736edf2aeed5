//! What the correlation tests share: the contoso snapshot built to match the sample devices
//! (tests/fixtures/correlate/contoso-snapshot.json), the sample devices of `mocks/devices/`,
//! the scenario folders beside the snapshot (tests/fixtures/correlate/README.md lists them),
//! and a run of the whole correlation over one device.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};

use super::{Correlation, correlate};
use crate::checks::device::analyse;
use crate::checks::tenant::evaluate_tenant;
use crate::device::load_path;
use crate::device::report::DeviceReport;
use crate::model::Finding;
use crate::tenant::snapshot::TenantSnapshot;

pub(crate) const SNAPSHOT: &str =
    include_str!("../../../tests/fixtures/correlate/contoso-snapshot.json");

pub(crate) fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

pub(crate) fn snapshot() -> TenantSnapshot {
    match TenantSnapshot::from_json(SNAPSHOT, "contoso-snapshot.json") {
        Ok(s) => s,
        Err(e) => panic!("fixture snapshot does not load: {e}"),
    }
}

pub(crate) fn sample_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices")
        .join(name)
}

pub(crate) fn sample(name: &str) -> DeviceReport {
    match load_path(&sample_dir(name)) {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        other => panic!("sample {name} did not load as one device: {other:?}"),
    }
}

/// A device scenario of `tests/fixtures/correlate/` (a sample with a few values changed).
pub(crate) fn scenario(name: &str) -> DeviceReport {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/correlate")
        .join(name);
    match load_path(&dir) {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        other => panic!("scenario {name} did not load as one device: {other:?}"),
    }
}

pub(crate) fn run(snap: &TenantSnapshot, report: &DeviceReport, user: Option<&str>) -> Correlation {
    let tenant = evaluate_tenant(snap);
    let analysis = analyse(report, as_of());
    correlate(snap, &tenant, report, &analysis, user, as_of())
}

pub(crate) fn finding<'a>(c: &'a Correlation, id: &str) -> &'a Finding {
    match c.findings.iter().find(|f| f.check == id) {
        Some(f) => f,
        None => panic!("no {id} finding"),
    }
}

pub(crate) fn all_evidence(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|e| {
            format!(
                "{} | {} | {}",
                e.source,
                e.detail,
                e.location.clone().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The contoso snapshot with its JSON edited (`sources.<name>.data`).
pub(crate) fn snapshot_with(edit: impl FnOnce(&mut serde_json::Value)) -> TenantSnapshot {
    let mut v: serde_json::Value = match serde_json::from_str(SNAPSHOT) {
        Ok(v) => v,
        Err(e) => panic!("fixture snapshot is not JSON: {e}"),
    };
    edit(&mut v["sources"]);
    match TenantSnapshot::from_json(&v.to_string(), "edited-snapshot.json") {
        Ok(s) => s,
        Err(e) => panic!("edited snapshot does not load: {e}"),
    }
}
