//! `enroll-doctor diff OLD NEW`: loads two snapshots, compares them (`enroll_doctor::diff`,
//! pure) and renders the comparison (`report::diff`). Exit code 1 when readiness regressed or a
//! watched setting got weaker, 0 otherwise; a file that cannot be read, or two snapshots that
//! cannot be compared, is an error (exit 2).

use anyhow::Context;
use enroll_doctor::diff;
use enroll_doctor::report::diff::{DiffFormat, render};
use enroll_doctor::report::table::width_from_env;
use enroll_doctor::tenant::TenantSnapshot;

use super::context::{init_logging, parse_as_of, print_stdout, print_table_stdout};
use crate::cli::{DiffArgs, DiffFormatArg, GlobalArgs};

pub fn run(global: &GlobalArgs, args: DiffArgs) -> anyhow::Result<u8> {
    init_logging(global);
    // Parsed before any file is read, so a bad date is told first.
    let as_of = args
        .as_of
        .as_deref()
        .map(|v| parse_as_of(Some(v)))
        .transpose()?;
    let load = |label: &str, path: &std::path::Path| {
        TenantSnapshot::load(path).with_context(|| format!("{label} snapshot {}", path.display()))
    };
    let old = load("OLD", &args.old)?;
    let new = load("NEW", &args.new)?;
    let shown = |p: &std::path::Path| p.display().to_string();
    let d = diff::diff(
        &old,
        &shown(&args.old),
        &new,
        &shown(&args.new),
        as_of.unwrap_or(new.collected_at),
    )?;
    let format = match args.format {
        DiffFormatArg::Table => DiffFormat::Table(width_from_env()),
        DiffFormatArg::Markdown => DiffFormat::Markdown,
        DiffFormatArg::Json => DiffFormat::Json,
    };
    let text = render(&d, format).context("cannot serialise the comparison")?;
    if args.format == DiffFormatArg::Table {
        print_table_stdout(&text)?;
    } else {
        print_stdout(&text)?;
    }
    Ok(u8::from(d.regressed()))
}
