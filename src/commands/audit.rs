//! `enroll-doctor audit`: the tenant checks (TEN001–TEN009) over a snapshot file or Graph.

use enroll_doctor::checks::tenant::evaluate_tenant;
use enroll_doctor::tenant::collect::UserSelection;

use super::context::{init_logging, parse_as_of, render, source_notes, tenant_snapshot};
use crate::cli::{AuditArgs, GlobalArgs};

pub fn run(global: &GlobalArgs, args: AuditArgs) -> anyhow::Result<u8> {
    init_logging(global);
    let as_of = parse_as_of(args.output.as_of.as_deref())?;
    // A saved snapshot should serve `check` and `diagnose` later too: collect users and
    // devices as well (each O(N/999) list requests).
    let full = args.source.save_snapshot.is_some();
    let selection = if full {
        UserSelection::All
    } else {
        UserSelection::None
    };
    let snap = tenant_snapshot(global, &args.source, selection, full)?;
    let findings = evaluate_tenant(&snap);
    render(
        &args.output,
        as_of,
        findings,
        source_notes(&snap, &args.source),
    )
}
