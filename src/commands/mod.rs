//! One module per subcommand. This is the binary edge: `anyhow` is allowed here.

mod audit;
mod auth;
mod check;
mod collector;
mod demo;
mod diagnose;
mod explain;

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use enroll_doctor::report::{self, FailThreshold, Report};

use crate::cli::{Cli, Command, FailOn, OutputArgs, OutputFormat};

/// Runs a command and returns the process exit code (0 clean, 1 findings, 2 incomplete).
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let g = &cli.global;
    match cli.command {
        Command::Diagnose(a) => diagnose::run(g, a),
        Command::Explain(a) => explain::run(g, a),
        Command::Collector(a) => collector::run(g, a),
        Command::Audit(a) => audit::run(g, a),
        Command::Check(a) => check::run(g, a),
        Command::Auth(a) => auth::run(g, a),
        Command::Demo(a) => demo::run(g, a),
    }
}

/// Writes a command's whole output to stdout. A closed pipe (`| head -1`) is the reader's
/// choice, not a failure; any other write error (`> /dev/full`) is, since the output is lost.
pub(crate) fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// Prints a report in the chosen format and returns the exit code for it (DESIGN.md §2).
pub(crate) fn emit_report(report: &Report, output: &OutputArgs) -> anyhow::Result<u8> {
    let text = match output.format {
        OutputFormat::Table => report::table::render(report),
        OutputFormat::Markdown => report::markdown::render(report),
        OutputFormat::Json => {
            report::json::render(report).context("cannot serialise the report")?
        }
    };
    print_stdout(&text)?;
    let threshold = match output.fail_on {
        FailOn::Fail => FailThreshold::Fail,
        FailOn::Warn => FailThreshold::Warn,
        FailOn::Never => FailThreshold::Never,
    };
    Ok(report::exit_code(&report.findings, threshold))
}

/// `--as-of`: `YYYY-MM-DD` (start of that day, UTC) or RFC 3339; default now.
pub(crate) fn parse_as_of(value: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    let Some(v) = value else {
        return Ok(Utc::now());
    };
    let v = v.trim();
    let looks_like_date_only = v.len() <= 10 && !v.contains(['T', 't', ' ']);
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => {
            if let Some(t) = d.and_hms_opt(0, 0, 0) {
                return Ok(t.and_utc());
            }
        }
        // `2025-13-01` is a date with a bad month: say so rather than "premature end of input"
        // from the RFC 3339 parser.
        Err(e) if looks_like_date_only && v.bytes().filter(|b| *b == b'-').count() == 2 => {
            anyhow::bail!(
                "--as-of {v:?}: not a valid date ({e}); expected YYYY-MM-DD, e.g. 2026-11-26"
            );
        }
        Err(_) => {}
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            // chrono's reason helps only for a near miss (`2026-11-26T25:00:00Z`); for
            // anything else ("premature end of input") it would confuse.
            let why = if looks_like_date_only {
                String::new()
            } else {
                format!(" ({e})")
            };
            anyhow::anyhow!(
                "--as-of {v:?}: expected YYYY-MM-DD or an RFC 3339 date-time such as \
                 2026-11-26T09:00:00Z{why}"
            )
        })
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
        assert!(e.is_some_and(|m| m.contains("--as-of") && m.contains("YYYY-MM-DD")));
    }

    #[test]
    fn as_of_with_an_impossible_month_says_the_date_is_invalid() {
        let e = parse_as_of(Some("2025-13-01"))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains("not a valid date"), "{e}");
        assert!(!e.contains("premature end"), "{e}");
    }
}
