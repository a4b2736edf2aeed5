//! `enroll-doctor diagnose`: device-only mode (tenant correlation plugs in later through
//! `checks::device::diagnose(analysis, tenant_findings)`).

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};

use crate::cli::{DiagnoseArgs, FailOn, GlobalArgs, OutputFormat};
use enroll_doctor::checks::device;
use enroll_doctor::device::load_path;
use enroll_doctor::device::report::DeviceReport;
use enroll_doctor::report::{self, FailThreshold, Report};

pub const NO_TENANT_NOTE: &str = "No tenant connection: device-only analysis. With a tenant (or --snapshot) enroll-doctor would also check the user's license, MDM scope, restrictions and the Entra/Intune device records.";

pub fn run(_global: &GlobalArgs, args: DiagnoseArgs) -> anyhow::Result<u8> {
    let as_of = parse_as_of(args.output.as_of.as_deref())?;

    let mut reports: Vec<DeviceReport> = Vec::new();
    for path in &args.device_reports {
        let loaded = load_path(path)
            .with_context(|| format!("cannot use device report {}", path.display()))?;
        reports.extend(loaded);
    }
    if reports.is_empty() {
        anyhow::bail!("no device report found in the given paths");
    }

    let mut diagnoses = Vec::new();
    let mut findings = Vec::new();
    let mut notes = vec![NO_TENANT_NOTE.to_string()];
    for r in &reports {
        let analysis = device::analyse_with_user(r, as_of, args.user.as_deref());
        // Device-only: no tenant findings to put in front of the device causes.
        let diagnosis = device::diagnose(&analysis, &[]);
        notes.extend(input_notes(r, &analysis.device));
        diagnoses.push(diagnosis);
        findings.extend(analysis.findings);
    }
    if args.snapshot.is_some() {
        notes.push(
            "--snapshot is not used by diagnose yet: the tenant side was not evaluated."
                .to_string(),
        );
    }

    let mut report = Report::new(as_of, diagnoses, findings);
    report.notes = notes;

    let text = match args.output.format {
        OutputFormat::Table => report::table::render(&report),
        OutputFormat::Json => {
            report::json::render(&report).context("cannot serialise the report")?
        }
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();

    let threshold = match args.output.fail_on {
        FailOn::Fail => FailThreshold::Fail,
        FailOn::Warn => FailThreshold::Warn,
        FailOn::Never => FailThreshold::Never,
    };
    Ok(report::exit_code(&report.findings, threshold))
}

/// Files that were part of a report but could not be used. They become notes, not `error`
/// findings: each check that needed such a file already says `skip` with what to collect, the
/// verdict stays honest (`unknown` when the key facts are missing), and one bad file in a fleet
/// must not hide every other device's results behind exit code 2. A path that yields nothing
/// usable at all fails the run (exit 2) in `load_path`.
fn input_notes(report: &DeviceReport, device: &str) -> Vec<String> {
    report
        .inputs
        .iter()
        .filter_map(|i| {
            i.problem
                .as_ref()
                .map(|p| format!("{device}: input {} was not used: {p}", i.name))
        })
        .collect()
}

/// `--as-of`: `YYYY-MM-DD` (start of that day, UTC) or RFC 3339; default now.
pub fn parse_as_of(value: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    let Some(v) = value else {
        return Ok(Utc::now());
    };
    let v = v.trim();
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("--as-of {v:?}: expected YYYY-MM-DD or an RFC 3339 date-time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_accepts_date_and_rfc3339_and_rejects_junk() {
        let d = parse_as_of(Some("2026-11-26")).map(|t| t.to_rfc3339()).ok();
        assert_eq!(d.as_deref(), Some("2026-11-26T00:00:00+00:00"));
        let t = parse_as_of(Some("2026-11-26T10:00:00+01:00"))
            .map(|t| t.to_rfc3339())
            .ok();
        assert_eq!(t.as_deref(), Some("2026-11-26T09:00:00+00:00"));
        let e = parse_as_of(Some("26/11/2026"))
            .err()
            .map(|e| format!("{e:#}"));
        assert!(e.is_some_and(|m| m.contains("--as-of")));
    }
}
