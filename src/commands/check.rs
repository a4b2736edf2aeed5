//! `enroll-doctor check`: users' readiness (USR001–USR010) plus the tenant checks.
//!
//! Users are evaluated in memory over one snapshot: `--user` fetches just those users (one
//! `$batch` wave), `--group` / `--all-users` list users and policy-group members in O(N/999)
//! requests. Several users are written behind their summary, one user at a time (see
//! [`stream`]).

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use enroll_doctor::checks::tenant::evaluate_tenant;
use enroll_doctor::checks::user::{
    AccountState, DeviceContext, UserIndex, account_state, user_readiness_in,
};
use enroll_doctor::model::{Area, Finding, Status, Subject};
use enroll_doctor::ordered::{map_in_order, workers};
use enroll_doctor::report::run::{RunHeader, RunWriter, header_row};
use enroll_doctor::report::summary::State;
use enroll_doctor::report::summary::{
    Columns, RunSummary, SubjectKind, SubjectResult, SubjectRow, SummaryBuilder,
};
use enroll_doctor::report::tenants::UserTally;
use enroll_doctor::report::{Report, exit_code_of};
use enroll_doctor::tenant::TenantSnapshot;
use enroll_doctor::tenant::collect::UserSelection;
use enroll_doctor::tenant::snapshot::MissingReason;
use enroll_doctor::tenant::users_file::read_users_file;

use super::context::tenants::{self, Evaluated, Plan};
use super::context::{
    Stage, csv_summary_sink, finish_gate, gate, init_logging, parse_as_of, render, run_format,
    source_notes, tenant_snapshot, threshold, with_stdout_as, write_report_to,
};
use crate::cli::{CheckArgs, GlobalArgs, OutputArgs, ReportFormat};

pub fn run(global: &GlobalArgs, args: CheckArgs) -> anyhow::Result<u8> {
    init_logging(global);
    let as_of = parse_as_of(args.output.as_of.as_deref())?;
    gate(&args.output)?;
    let mut upns: Vec<String> = args.user.iter().map(|u| u.trim().to_string()).collect();
    if let Some(file) = &args.users_file {
        upns.extend(read_users_file(file)?);
    }
    upns.retain(|u| !u.is_empty());
    dedup_case_insensitive(&mut upns);
    let selection = if args.all_users {
        UserSelection::All
    } else if let Some(g) = &args.group {
        UserSelection::Group(g.clone())
    } else if !upns.is_empty() {
        UserSelection::Upns(upns.clone())
    } else {
        anyhow::bail!(
            "name the users to check: --user UPN, --users-file FILE, --group GROUP or --all-users"
        );
    };

    if args.tenants.tenants_file.is_some() {
        return many_tenants(global, &args, selection, upns, as_of);
    }
    let snap = tenant_snapshot(global, &args.source, selection.clone(), false)?;
    let offline = args.source.snapshot.is_some();
    let targets = users_to_check(&snap, &selection, &upns, args.group.as_deref(), offline)?;

    let mut notes = source_notes(&snap, &args.source);
    notes.push(format!("{} user(s) checked", targets.len()));
    notes.extend(enroll_doctor::checks::user::owned_devices_note(&snap));
    if !is_streamed(&targets, &args.output) {
        // One user (or none): the report as it always was.
        let findings = one_user_findings(&snap, &targets, as_of);
        return render(&args.output, as_of, findings, notes);
    }
    stream(&snap, &targets, &args.output, as_of, &notes)
}

/// Several users, or a format written user by user: the run layout.
fn is_streamed(targets: &[String], output: &OutputArgs) -> bool {
    targets.len() > 1 || super::context::is_streamed_format(output.format)
}

/// The tenant's findings and those of the one user (or none) in TARGETS.
fn one_user_findings(
    snap: &TenantSnapshot,
    targets: &[String],
    as_of: DateTime<Utc>,
) -> Vec<Finding> {
    let mut findings = evaluate_tenant(snap);
    let index = UserIndex::new(snap);
    let device = DeviceContext {
        as_of: Some(as_of),
        ..Default::default()
    };
    for upn in targets {
        findings.extend(user_readiness_in(snap, &index, upn, &device));
    }
    findings
}

/// `--tenants-file`: the same users (named, a group by name, or all) in every tenant, each
/// tenant's report as a run with `--tenant` writes it.
fn many_tenants(
    global: &GlobalArgs,
    args: &CheckArgs,
    selection: UserSelection,
    upns: Vec<String>,
    as_of: DateTime<Utc>,
) -> anyhow::Result<u8> {
    let output = args.output.clone();
    let group = args.group.clone();
    let wanted = selection.clone();
    let evaluate =
        move |snap: &TenantSnapshot, mut notes: Vec<String>, out: Option<&mut dyn Write>| {
            let targets = users_to_check(snap, &wanted, &upns, group.as_deref(), false)?;
            notes.push(format!("{} user(s) checked", targets.len()));
            notes.extend(enroll_doctor::checks::user::owned_devices_note(snap));
            if !is_streamed(&targets, &output) {
                let mut report =
                    Report::new(as_of, Vec::new(), one_user_findings(snap, &targets, as_of));
                report.notes = notes;
                if let Some(out) = out {
                    write_report_to(&report, &output, out, None)?;
                }
                let mut ev = Evaluated::of_findings(&report.findings, threshold(&output));
                let mut g = gate(&output)?;
                g.observe_all(&report.findings);
                ev.code = finish_gate(&g, ev.code, Some(&snap.tenant_id));
                let user_fails = report
                    .findings
                    .iter()
                    .any(|f| matches!(f.subject, Subject::User(_)) && f.status == Status::Fail);
                ev.users = Some(UserTally {
                    checked: targets.len(),
                    not_ready: usize::from(user_fails),
                });
                return Ok(ev);
            }
            let run = Readiness::evaluate(snap, &targets, &output, as_of, &notes, gate(&output)?);
            if let Some(out) = out {
                run.write(out, None)?;
            }
            let code = finish_gate(&run.gate, run.code, Some(&snap.tenant_id));
            Ok(Evaluated::of_run(run.summary(), code))
        };
    tenants::run(
        global,
        Plan {
            command: "check",
            users: selection,
            devices: false,
            args: &args.tenants,
            output: &args.output,
            as_of,
        },
        Arc::new(evaluate),
    )
}

/// Several users: evaluated twice, user by user. The first pass keeps the summary counts and
/// one compact row per user that is not ready; the summary is written, then the second pass
/// writes each user's part as it is evaluated (evaluation is pure and fast; holding every
/// finding of 100,000 users is not). Memory stays bounded by the snapshot.
fn stream(
    snap: &TenantSnapshot,
    targets: &[String],
    output: &OutputArgs,
    as_of: DateTime<Utc>,
    notes: &[String],
) -> anyhow::Result<u8> {
    let run = Readiness::evaluate(snap, targets, output, as_of, notes, gate(output)?);
    let mut side = csv_summary_sink(output.format);
    with_stdout_as(output.format == ReportFormat::Table, |out| {
        run.write(out, side.as_mut().map(|s| s as &mut dyn Write))
    })?;
    Ok(finish_gate(&run.gate, run.code, None))
}

/// The first pass of a run over several users: what the summary says and the exit code.
/// [`Readiness::write`] is the second pass.
pub(crate) struct Readiness<'a> {
    snap: &'a TenantSnapshot,
    targets: &'a [String],
    output: &'a OutputArgs,
    as_of: DateTime<Utc>,
    index: UserIndex<'a>,
    device: DeviceContext,
    columns: Columns,
    tenant_findings: Vec<Finding>,
    summary: RunSummary,
    rows: Vec<SubjectRow>,
    ready_rows: Vec<SubjectRow>,
    notes: Vec<String>,
    /// The exit code of the findings (the gate is applied by [`finish_gate`]).
    pub(crate) code: u8,
    /// `--require` and `--fail-on skip`, fed with every finding of the first pass.
    pub(crate) gate: enroll_doctor::report::gate::Gate,
    /// The tenant and every user as the format writes them, written by the first pass (see
    /// [`Spill`]); `None` when the second pass evaluates them again.
    spilled: Option<std::fs::File>,
}

/// The first pass's copy of what the second would write, for the formats that write every
/// user in full ([`RunWriter::writes_every_subject`]): each user is then evaluated once, and
/// written to text by the worker that evaluated it ([`SubjectText`]). An unnamed temporary
/// file (gone when closed) keeps memory bounded. When none can be made, or writing it fails,
/// the second pass evaluates the users again, as for the other formats.
struct Spill {
    out: Option<std::io::BufWriter<std::fs::File>>,
    /// A second handle on the same file (same offset), to read it back.
    file: Option<std::fs::File>,
    /// Whether any subject wrote text yet (see [`Spill::write`]).
    wrote_any: bool,
}

impl Spill {
    fn new(text: Option<&SubjectText>) -> Spill {
        let none = Spill {
            out: None,
            file: None,
            wrote_any: false,
        };
        if text.is_none() {
            return none;
        }
        match tempfile::tempfile().and_then(|f| Ok((f.try_clone()?, f))) {
            Ok((file, writes)) => Spill {
                out: Some(std::io::BufWriter::with_capacity(1 << 20, writes)),
                file: Some(file),
                wrote_any: false,
            },
            Err(e) => {
                tracing::warn!("no temporary file for the run ({e}): users are evaluated twice");
                none
            }
        }
    }

    /// Appends one subject's text. A user's text is made as if findings came before it (its
    /// worker cannot know): JSON and SARIF then open it with the `,` between two items, which
    /// is dropped when nothing was written before (a tenant whose checks all passed writes no
    /// SARIF result).
    fn write(&mut self, text: std::io::Result<Vec<u8>>) {
        let Some(out) = &mut self.out else {
            return;
        };
        let wrote_any = &mut self.wrote_any;
        let written = text.and_then(|t| {
            let t = match t.split_first() {
                Some((b',', rest)) if !*wrote_any => rest,
                _ => &t[..],
            };
            *wrote_any |= !t.is_empty();
            out.write_all(t)
        });
        if let Err(e) = written {
            tracing::warn!("cannot write the temporary file ({e}): users are evaluated twice");
            self.out = None;
            self.file = None;
        }
    }

    /// The file, read from its start, when every subject went into it.
    fn finish(mut self) -> Option<std::fs::File> {
        use std::io::Seek;
        let mut out = self.out.take()?;
        let mut file = self.file.take()?;
        let flushed = out.flush();
        drop(out);
        match flushed.and_then(|()| file.seek(std::io::SeekFrom::Start(0))) {
            Ok(_) => Some(file),
            Err(e) => {
                tracing::warn!("cannot write the temporary file ({e}): users are evaluated twice");
                None
            }
        }
    }
}

/// A subject as a format that writes every subject writes it, on its own (any thread). What
/// these formats write of a subject does not depend on the summary, so a writer made with a
/// provisional header (no subject counted yet) writes it as the final one would; a user is
/// written as if findings came before it ([`RunWriter::after_findings`], [`Spill::write`]).
struct SubjectText {
    format: enroll_doctor::report::run::Format,
    details: bool,
    as_of: DateTime<Utc>,
    columns: Columns,
    summary: RunSummary,
}

impl SubjectText {
    /// `None` for the formats that need the summary.
    fn new(output: &OutputArgs, as_of: DateTime<Utc>, columns: &Columns) -> Option<SubjectText> {
        let format = run_format(output.format);
        RunWriter::writes_every_subject(format).then(|| SubjectText {
            format,
            details: output.details,
            as_of,
            columns: columns.clone(),
            summary: SummaryBuilder::new(SubjectKind::User, columns.clone()).finish(),
        })
    }

    fn render(&self, s: &SubjectResult<'_>, after_findings: bool) -> std::io::Result<Vec<u8>> {
        let header = RunHeader {
            as_of: self.as_of,
            summary: &self.summary,
            columns: &self.columns,
            rows: &[],
            diagnoses: &[],
            overview: &[],
            notes: &[],
        };
        let mut buf = Vec::new();
        let mut w = RunWriter::new(&mut buf, None, self.format, self.details, &header);
        if after_findings {
            w = w.after_findings();
        }
        w.subject(s)?;
        w.flush()?;
        drop(w);
        Ok(buf)
    }
}

/// How the summary counts a user: a member, a disabled account or a guest (USR001's states).
fn kind_of(index: &UserIndex<'_>, upn: &str) -> SubjectKind {
    match index.user(upn).map(account_state) {
        Some(AccountState::Disabled) => SubjectKind::Disabled,
        Some(AccountState::Guest) => SubjectKind::Guest,
        Some(AccountState::Enabled) | None => SubjectKind::User,
    }
}

impl<'a> Readiness<'a> {
    pub(crate) fn evaluate(
        snap: &'a TenantSnapshot,
        targets: &'a [String],
        output: &'a OutputArgs,
        as_of: DateTime<Utc>,
        notes: &[String],
        mut gate: enroll_doctor::report::gate::Gate,
    ) -> Readiness<'a> {
        let index = UserIndex::new(snap);
        let device = DeviceContext {
            as_of: Some(as_of),
            ..Default::default()
        };
        let columns = Columns::of_areas(&[Area::Tenant, Area::User]);
        let tenant_findings = evaluate_tenant(snap);
        gate.observe_all(&tenant_findings);
        let tenant = SubjectResult::tenant(tenant_findings.iter().collect());
        let mut builder = SummaryBuilder::new(SubjectKind::User, columns.clone());
        let mut rows = vec![SubjectRow::of(&tenant, &columns)];
        builder.add(&tenant);
        // A CSV row is all a CSV needs of a user: keep the ready users' rows too (a few dozen
        // bytes each) instead of evaluating everyone a second time.
        let csv = output.format == ReportFormat::Csv;
        let mut ready_rows = Vec::new();

        let mut outages = Outages::of(snap);
        // The formats that write every user in full write each one now, as it is evaluated,
        // to a temporary file that the second pass copies behind the summary.
        let text = SubjectText::new(output, as_of, &columns);
        let mut spill = Spill::new(text.as_ref());
        if let Some(t) = &text {
            spill.write(t.render(&tenant, false));
        }

        let many = targets.len() >= PROGRESS_MIN_USERS;
        let bar = many.then(|| Stage::new(targets.len(), "evaluating", "users"));
        // Users are evaluated (and written, for the spill) on every core; the summary takes
        // them in order.
        let eval = |upn: &String| {
            let findings = user_readiness_in(snap, &index, upn, &device);
            let written = text.as_ref().map(|t| {
                let subject = Subject::User(upn.clone());
                let s = SubjectResult::user(
                    Cow::Borrowed(&subject),
                    kind_of(&index, upn),
                    findings.iter().collect(),
                );
                t.render(&s, true)
            });
            (findings, written)
        };
        let _ = map_in_order(targets, workers(), eval, |upn, (findings, written)| {
            gate.observe_all(&findings);
            let subject = Subject::User(upn.clone());
            let s = SubjectResult::user(
                Cow::Borrowed(&subject),
                kind_of(&index, upn),
                findings.iter().collect(),
            );
            builder.add(&s);
            if let Some(w) = written {
                spill.write(w);
            }
            // A user whose only open questions come from a source that failed for the whole
            // run is counted in the summary, and the failure is said once below, not once per
            // user.
            let explained = outages.explains(&findings);
            let only_outage = s.state == State::Incomplete && explained;
            outages.unlisted += usize::from(only_outage);
            // A CSV lists everyone, not-ready (and incomplete) users first: there an
            // outage-only user is a header row like any other incomplete one.
            if header_row(SubjectKind::User, &s) && (!only_outage || csv) {
                rows.push(SubjectRow::of(&s, &columns));
            } else if csv {
                ready_rows.push(SubjectRow::of(&s, &columns));
            }
            if let Some(b) = &bar {
                b.inc();
            }
            Ok::<(), std::convert::Infallible>(())
        });
        if let Some(b) = bar {
            b.finish(&format!("evaluated {} users", targets.len()));
        }
        let summary = builder.finish();
        let spilled = spill.finish();
        let code = exit_code_of(&summary.findings, threshold(output));
        let mut notes = notes.to_vec();
        notes.extend(outages.notes());
        Readiness {
            snap,
            targets,
            output,
            as_of,
            index,
            device,
            columns,
            tenant_findings,
            summary,
            rows,
            ready_rows,
            notes,
            code,
            gate,
            spilled,
        }
    }

    /// What the run over many tenants keeps of this one.
    pub(crate) fn summary(&self) -> &RunSummary {
        &self.summary
    }

    /// The second pass: the summary, then each user's part as it is evaluated, to OUT (and a
    /// CSV's summary to SIDE).
    pub(crate) fn write<'w>(
        &self,
        out: &'w mut dyn Write,
        side: Option<&'w mut dyn Write>,
    ) -> std::io::Result<()> {
        let output = self.output;
        let started = std::time::Instant::now();
        let header = RunHeader {
            as_of: self.as_of,
            summary: &self.summary,
            columns: &self.columns,
            rows: &self.rows,
            diagnoses: &[],
            overview: &[],
            notes: &self.notes,
        };
        let csv = output.format == ReportFormat::Csv;
        let many = self.targets.len() >= PROGRESS_MIN_USERS;
        let tenant = SubjectResult::tenant(self.tenant_findings.iter().collect());
        let mut w = RunWriter::new(
            out,
            side,
            run_format(output.format),
            output.details,
            &header,
        );
        w.begin(&header)?;
        if let Some(file) = &self.spilled {
            // The first pass wrote the tenant and every user already.
            w.copy_subjects(&mut &*file)?;
            w.finish(&header)?;
            tracing::info!("wrote the run in {:.3} s", started.elapsed().as_secs_f64());
            return Ok(());
        }
        w.subject(&tenant)?;
        // Output to the terminal shows itself; a bar would be drawn into it.
        let to_file = !std::io::stdout().is_terminal();
        for r in &self.ready_rows {
            w.row(r)?;
        }
        // The users this format writes, evaluated on every core and written in order.
        let wanted: Vec<Subject> = if csv {
            Vec::new()
        } else {
            self.targets
                .iter()
                .map(|upn| Subject::User(upn.clone()))
                .filter(|s| w.wants(s))
                .collect()
        };
        let bar = (many && !csv && to_file).then(|| Stage::new(wanted.len(), "writing", "users"));
        let eval = |subject: &Subject| match subject {
            Subject::User(upn) => user_readiness_in(self.snap, &self.index, upn, &self.device),
            _ => Vec::new(),
        };
        map_in_order(&wanted, workers(), eval, |subject, findings| {
            let upn = match subject {
                Subject::User(upn) => upn.as_str(),
                _ => "",
            };
            let s = SubjectResult::user(
                Cow::Borrowed(subject),
                kind_of(&self.index, upn),
                findings.iter().collect(),
            );
            w.subject(&s)?;
            if let Some(b) = &bar {
                b.inc();
            }
            Ok::<(), std::io::Error>(())
        })?;
        if let Some(b) = bar {
            b.finish(&format!("wrote {} users", self.targets.len()));
        }
        w.finish(&header)?;
        tracing::info!("wrote the run in {:.3} s", started.elapsed().as_secs_f64());
        Ok(())
    }
}

/// Sources that could not be read at all in this run (Graph failed after every retry): each
/// user's checks that need one end in `error` for the same reason.
struct Outages {
    sources: Vec<Outage>,
    /// Users whose open questions all come from failed sources: not listed one by one.
    unlisted: usize,
}

struct Outage {
    /// The source's name, e.g. `group_memberships`.
    source: &'static str,
    /// Graph's error as the findings quote it (it carries the request-id, so it is unique).
    message: String,
    /// Users with a check in error because of this source.
    users: usize,
    checks: std::collections::BTreeSet<String>,
}

impl Outages {
    fn of(snap: &TenantSnapshot) -> Outages {
        let all = snap.sources.each();
        let sources = all
            .into_iter()
            .filter_map(|(source, r)| match r {
                Some(MissingReason::GraphError { message, .. }) if !message.is_empty() => {
                    Some(Outage {
                        source,
                        message: message.clone(),
                        users: 0,
                        checks: Default::default(),
                    })
                }
                _ => None,
            })
            .collect();
        Outages {
            sources,
            unlisted: 0,
        }
    }

    /// Whether every finding in error is one of the failed sources' (counting the user under
    /// each source it was hit by).
    fn explains(&mut self, findings: &[Finding]) -> bool {
        if self.sources.is_empty() {
            return false;
        }
        let mut touched = vec![false; self.sources.len()];
        let mut all = true;
        let mut any = false;
        for f in findings.iter().filter(|f| f.status == Status::Error) {
            any = true;
            let text = f.error.as_deref().unwrap_or(&f.summary);
            match self
                .sources
                .iter()
                .position(|o| text.contains(o.message.as_str()))
            {
                Some(i) => {
                    touched[i] = true;
                    self.sources[i].checks.insert(f.check.clone());
                }
                None => all = false,
            }
        }
        for (o, t) in self.sources.iter_mut().zip(touched) {
            o.users += usize::from(t);
        }
        all && any
    }

    /// One line per failed source that left users' checks open, then how many users were
    /// left out of the list for it (once: a user can be hit by several sources).
    fn notes(&self) -> Vec<String> {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut notes: Vec<String> = self
            .sources
            .iter()
            .filter(|o| o.users > 0)
            .map(|o| {
                let checks: Vec<&str> = o.checks.iter().map(String::as_str).collect();
                format!(
                    "{} could not be read in this run, so {} ended in error for {} user{}. Graph: {}",
                    o.source.replace('_', " "),
                    checks.join(", "),
                    o.users,
                    plural(o.users),
                    o.message
                )
            })
            .collect();
        if self.unlisted > 0 {
            let n = self.unlisted;
            notes.push(format!(
                "{n} user{} whose only open checks ended in error for {} {} counted above, not listed one by one.",
                plural(n),
                if notes.len() == 1 { "that reason" } else { "these reasons" },
                if n == 1 { "is" } else { "are" },
            ));
        }
        notes
    }
}

/// Below this many users the evaluation is instant: no progress bar.
const PROGRESS_MIN_USERS: usize = 200;

fn dedup_case_insensitive(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|u| seen.insert(u.to_ascii_lowercase()));
}

/// The UPNs to evaluate: the named ones, or every user of the group / tenant in the snapshot.
fn users_to_check(
    snap: &TenantSnapshot,
    selection: &UserSelection,
    upns: &[String],
    group: Option<&str>,
    offline: bool,
) -> anyhow::Result<Vec<String>> {
    let users = snap.sources.users.data();
    let mut out: Vec<String> = match selection {
        // An object id and a UPN of the same user are one user: report it under its UPN.
        UserSelection::Upns(_) | UserSelection::None => upns
            .iter()
            .map(|u| {
                snap.user(u)
                    .map(|user| user.user_principal_name.clone())
                    .unwrap_or_else(|| u.clone())
            })
            .collect(),
        UserSelection::All => users
            .map(|l| l.iter().map(|u| u.user_principal_name.clone()).collect())
            .unwrap_or_default(),
        UserSelection::Group(_) if offline => {
            // Offline: members of the group from the snapshot's memberships.
            let g = group.unwrap_or_default();
            let m = snap
                .sources
                .group_memberships
                .data()
                .context("the snapshot has no group memberships")?;
            let id = m
                .groups
                .values()
                .find(|r| {
                    r.id.eq_ignore_ascii_case(g)
                        || r.display_name
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(g))
                })
                .map(|r| r.id.clone())
                .with_context(|| {
                    format!(
                        "group \"{}\" is not among the snapshot's groups",
                        enroll_doctor::text_safety::shown(g)
                    )
                })?;
            users
                .map(|l| {
                    l.iter()
                        .filter(|u| {
                            m.members
                                .get(&u.id.to_ascii_lowercase())
                                .is_some_and(|gs| gs.contains(&id))
                        })
                        .map(|u| u.user_principal_name.clone())
                        .collect()
                })
                .unwrap_or_default()
        }
        UserSelection::Group(_) => users
            .map(|l| l.iter().map(|u| u.user_principal_name.clone()).collect())
            .unwrap_or_default(),
    };
    if out.is_empty()
        && !matches!(selection, UserSelection::Upns(_))
        && let Err(reason) = snap.sources.users.get()
    {
        let why = match reason {
            // The collector's own sentence (a group that is not there): no "Graph 404:" prefix.
            MissingReason::GraphError {
                code: None,
                request_id: None,
                message,
                ..
            } => message.clone(),
            other => other.describe(),
        };
        anyhow::bail!("cannot list the users to check: {why}");
    }
    out.sort_by_key(|u| u.to_ascii_lowercase());
    dedup_case_insensitive(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outage(source: &'static str, users: usize, check: &str) -> Outage {
        Outage {
            source,
            message: format!("{source} failed"),
            users,
            checks: [check.to_string()].into_iter().collect(),
        }
    }

    #[test]
    fn the_unlisted_users_are_counted_once_not_per_source() {
        let o = Outages {
            sources: vec![
                outage("group_memberships", 300, "USR005"),
                outage("managed_devices", 40, "USR007"),
                outage("entra_devices", 0, "USR008"),
            ],
            unlisted: 230,
        };
        assert_eq!(
            o.notes(),
            [
                "group memberships could not be read in this run, so USR005 ended in error for 300 users. Graph: group_memberships failed",
                "managed devices could not be read in this run, so USR007 ended in error for 40 users. Graph: managed_devices failed",
                "230 users whose only open checks ended in error for these reasons are counted above, not listed one by one.",
            ]
        );
        let one = Outages {
            sources: vec![outage("users", 1, "USR001")],
            unlisted: 1,
        };
        assert_eq!(
            one.notes()[1],
            "1 user whose only open checks ended in error for that reason is counted above, not listed one by one."
        );
    }
}
