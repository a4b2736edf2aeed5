//! `enroll-doctor audit`: the tenant checks (TEN001–TEN009) over a snapshot file or Graph, for
//! one tenant or for every tenant of `--tenants-file`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use enroll_doctor::checks::tenant::evaluate_tenant;
use enroll_doctor::report::Report;
use enroll_doctor::tenant::TenantSnapshot;
use enroll_doctor::tenant::collect::UserSelection;

use super::context::tenants::{self, Evaluated, Plan};
use super::context::{
    emit_report, finish_gate, gate, init_logging, parse_as_of, source_notes, tenant_snapshot,
    threshold, write_report_to,
};
use crate::cli::{AuditArgs, GlobalArgs};

pub fn run(global: &GlobalArgs, args: AuditArgs) -> anyhow::Result<u8> {
    init_logging(global);
    let as_of = parse_as_of(args.output.as_of.as_deref())?;
    gate(&args.output)?;
    if args.tenants.tenants_file.is_some() {
        let output = args.output.clone();
        return tenants::run(
            global,
            Plan {
                command: "audit",
                users: UserSelection::None,
                devices: false,
                args: &args.tenants,
                output: &args.output,
                as_of,
            },
            Arc::new(move |snap, notes, out| {
                let report = audit_report(snap, as_of, notes);
                if let Some(out) = out {
                    write_report_to(&report, &output, out, None)?;
                }
                let mut ev = Evaluated::of_findings(&report.findings, threshold(&output));
                let mut g = gate(&output)?;
                g.observe_all(&report.findings);
                ev.code = finish_gate(&g, ev.code, Some(&snap.tenant_id));
                Ok(ev)
            }),
        );
    }
    // A saved snapshot should serve `check` and `diagnose` later too: collect users and
    // devices as well (each O(N/999) list requests).
    let full = args.source.save_snapshot.is_some();
    let selection = if full {
        UserSelection::All
    } else {
        UserSelection::None
    };
    let snap = tenant_snapshot(global, &args.source, selection, full)?;
    let notes = source_notes(&snap, &args.source);
    emit_report(&audit_report(&snap, as_of, notes), &args.output)
}

/// The tenant checks of SNAP as a report.
fn audit_report(snap: &TenantSnapshot, as_of: DateTime<Utc>, notes: Vec<String>) -> Report {
    let mut report = Report::new(as_of, Vec::new(), evaluate_tenant(snap));
    report.notes = notes;
    report
}
