//! The summary of a run over many tenants (`audit|check --tenants-file`): one row per tenant —
//! its status (`ok`, `findings`, `error` with a one-line reason), its finding counts, the check
//! that blocks most, its users for `check` — then the checks that fail in several tenants. In
//! every format: a table or Markdown for people, JSON (`enroll-doctor/tenants@1`), JSON Lines
//! and CSV for scripts and spreadsheets. Each tenant's own report goes to its own file
//! ([`report_file_name`]); the command decides statuses and the exit code, this only lays
//! them out.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Summary;
use super::table::{Col, table, wrap_line};
use crate::text_safety::escape_line;

/// Schema tag of the JSON document (and of the first JSON line).
pub const TENANTS_SCHEMA: &str = "enroll-doctor/tenants@1";

/// How many example tenants a cross-tenant row names.
const EXAMPLES: usize = 3;

/// Where a tenant stands after its run: by the exit code its own report would have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    /// The run could not finish (sign-in, Graph) or a check ended in error: exit 2.
    Error,
    /// Findings at or above `--fail-on`: exit 1.
    Findings,
    /// Nothing at or above `--fail-on`: exit 0.
    Ok,
}

impl TenantStatus {
    pub fn of_exit_code(code: u8) -> TenantStatus {
        match code {
            0 => TenantStatus::Ok,
            1 => TenantStatus::Findings,
            _ => TenantStatus::Error,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TenantStatus::Error => "error",
            TenantStatus::Findings => "findings",
            TenantStatus::Ok => "ok",
        }
    }
}

/// The check that blocks most in a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockingCheck {
    pub check: String,
    pub title: String,
    /// `check`: how many users it fails for (absent for a tenant-wide check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<usize>,
}

/// `check`: how many users were evaluated and how many are not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserTally {
    pub checked: usize,
    pub not_ready: usize,
}

/// One tenant's line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantRow {
    /// As written in the tenants file.
    pub tenant: String,
    /// The tenant id the token and Graph named (unknown when the sign-in failed).
    pub tenant_id: Option<String>,
    /// The organisation's display name from Graph.
    pub name: Option<String>,
    pub status: TenantStatus,
    /// One line: why it is `error`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub exit_code: u8,
    /// Findings per status, as in the tenant's own report.
    #[serde(flatten)]
    pub findings: Summary,
    pub top_blocking: Option<BlockingCheck>,
    /// Every check that fails in this tenant, most important first.
    pub failing: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<UserTally>,
    /// The tenant's report file (`--output-dir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_file: Option<String>,
    /// Sign-in, collection and evaluation, in seconds.
    pub seconds: f64,
}

/// Tenants per status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TenantCounts {
    pub tenants: usize,
    pub ok: usize,
    pub findings: usize,
    pub error: usize,
}

/// A check failing in one or more tenants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossTenantCheck {
    pub check: String,
    pub title: String,
    pub tenants: usize,
    pub examples: Vec<String>,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantsRun {
    pub schema: &'static str,
    /// `audit` or `check`.
    pub command: &'static str,
    pub as_of: DateTime<Utc>,
    /// The sign-in method every tenant used.
    pub auth_method: String,
    pub exit_code: u8,
    pub summary: TenantCounts,
    /// Worst first (error, findings, ok), in file order within each.
    pub tenants: Vec<TenantRow>,
    /// Checks failing in any tenant, in the most tenants first.
    pub failing_checks: Vec<CrossTenantCheck>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl TenantsRun {
    /// Orders ROWS (worst first, stable) and counts them; `title` names a check.
    pub fn new(
        command: &'static str,
        as_of: DateTime<Utc>,
        auth_method: String,
        mut rows: Vec<TenantRow>,
        title: impl Fn(&str) -> String,
    ) -> TenantsRun {
        rows.sort_by_key(|r| r.status);
        let mut summary = TenantCounts {
            tenants: rows.len(),
            ..Default::default()
        };
        let mut failing: Vec<CrossTenantCheck> = Vec::new();
        for r in &rows {
            match r.status {
                TenantStatus::Ok => summary.ok += 1,
                TenantStatus::Findings => summary.findings += 1,
                TenantStatus::Error => summary.error += 1,
            }
            for c in &r.failing {
                let i = match failing.iter().position(|f| &f.check == c) {
                    Some(i) => i,
                    None => {
                        failing.push(CrossTenantCheck {
                            check: c.clone(),
                            title: title(c),
                            tenants: 0,
                            examples: Vec::new(),
                        });
                        failing.len() - 1
                    }
                };
                let f = &mut failing[i];
                f.tenants += 1;
                if f.examples.len() < EXAMPLES {
                    f.examples.push(r.tenant.clone());
                }
            }
        }
        // Most tenants first; ties keep the order of first appearance (worst tenant first).
        failing.sort_by_key(|f| std::cmp::Reverse(f.tenants));
        let exit_code = rows.iter().map(|r| r.exit_code).max().unwrap_or(0);
        TenantsRun {
            schema: TENANTS_SCHEMA,
            command,
            as_of,
            auth_method,
            exit_code,
            summary,
            tenants: rows,
            failing_checks: failing,
            notes: Vec::new(),
        }
    }

    /// `3 tenants: 1 ok, 1 with findings, 1 error`.
    pub fn headline(&self) -> String {
        let s = &self.summary;
        format!(
            "{} tenant{}: {} ok, {} with findings, {} error",
            s.tenants,
            super::summary::plural(s.tenants),
            s.ok,
            s.findings,
            s.error
        )
    }

    fn has_users(&self) -> bool {
        self.tenants.iter().any(|r| r.users.is_some())
    }
}

/// REASON as a table shows it: without the identity platform's trace, correlation and time
/// stamps (JSON and CSV keep them for a support case), at most 300 characters.
pub fn short_reason(reason: &str) -> String {
    let cut = reason.find(" Trace ID:").unwrap_or(reason.len());
    let short = reason[..cut].trim_end();
    match short.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &short[..i]),
        None => short.to_string(),
    }
}

/// What the last column says: the reason of an error, else the blocking check.
fn what_blocks(r: &TenantRow) -> String {
    if let Some(reason) = &r.reason {
        return escape_line(&short_reason(reason)).into_owned();
    }
    match &r.top_blocking {
        Some(b) => {
            let mut s = format!("{} {}", escape_line(&b.check), escape_line(&b.title));
            if let Some(n) = b.users {
                s.push_str(&format!(" ({n} user{})", super::summary::plural(n)));
            }
            if r.failing.len() > 1 {
                s.push_str(&format!(" +{} more", r.failing.len() - 1));
            }
            s
        }
        None if r.findings.warn > 0 => format!("{} warning(s), nothing fails", r.findings.warn),
        None => "-".to_string(),
    }
}

fn tenant_cell(r: &TenantRow) -> String {
    let mut s = escape_line(&r.tenant).into_owned();
    if let Some(n) = &r.name {
        s.push('\n');
        s.push_str(&escape_line(n));
    }
    s
}

/// Status and counts in one cell of three lines, so the reason keeps its width.
fn result_cell(r: &TenantRow) -> String {
    let c = &r.findings;
    if *c == Summary::default() {
        // Nothing was evaluated (the sign-in or the reads failed): no counts to show.
        return r.status.as_str().to_string();
    }
    let mut s = format!(
        "{}\n{} fail, {} warn\n{} pass, {} skip",
        r.status.as_str(),
        c.fail,
        c.warn,
        c.pass,
        c.skip
    );
    if c.error > 0 {
        s.push_str(&format!("\n{} error", c.error));
    }
    s
}

fn users_cell(r: &TenantRow) -> String {
    match r.users {
        Some(u) => format!("{} of {}", u.not_ready, u.checked),
        None => "-".to_string(),
    }
}

/// The table for people, at WIDTH columns.
pub fn table_text(run: &TenantsRun, width: usize) -> String {
    let width = super::table::clamp_width(width);
    let mut out = String::new();
    out.push_str(&wrap_line(
        &format!(
            "{} over {} (signed in with {}; exit code {})",
            run.command,
            run.headline(),
            run.auth_method,
            run.exit_code
        ),
        width,
    ));
    out.push_str("\n\n");
    let users = run.has_users();
    // The tenant (a GUID, a domain) is never broken: it is copied into the next command.
    let mut header = vec!["Tenant", "Result"];
    let mut cols = vec![Col::Fixed, Col::Fixed];
    if users {
        header.push("Not ready");
        cols.push(Col::Fixed);
    }
    header.push("Blocking check / reason");
    cols.push(Col::Flex(1));
    let rows = run
        .tenants
        .iter()
        .map(|r| {
            let mut row = vec![tenant_cell(r), result_cell(r)];
            if users {
                row.push(users_cell(r));
            }
            row.push(what_blocks(r));
            row
        })
        .collect();
    out.push_str(&table(&header, &cols, rows, width));
    if !run.failing_checks.is_empty() {
        out.push_str("\nChecks that fail, by tenants:\n");
        let rows = run
            .failing_checks
            .iter()
            .map(|f| {
                let mut ex = f
                    .examples
                    .iter()
                    .map(|e| escape_line(e).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ");
                if f.tenants > f.examples.len() {
                    ex.push_str(&format!(" +{} more", f.tenants - f.examples.len()));
                }
                vec![
                    escape_line(&f.check).into_owned(),
                    escape_line(&f.title).into_owned(),
                    f.tenants.to_string(),
                    ex,
                ]
            })
            .collect();
        out.push_str(&table(
            &["Check", "Title", "Tenants", "Examples"],
            &[Col::Fixed, Col::Flex(5), Col::Fixed, Col::Flex(4)],
            rows,
            width,
        ));
    }
    if !run.notes.is_empty() {
        out.push('\n');
        for n in &run.notes {
            out.push_str(&wrap_line(&format!("Note: {n}"), width));
            out.push('\n');
        }
    }
    crate::text_safety::into_safe_text(out)
}

/// Outside text on one line inside a Markdown table cell (see [`super::markdown`]).
fn md(s: &str) -> String {
    super::markdown::cell(&escape_line(s))
}

/// GitHub-flavoured Markdown.
pub fn markdown_text(run: &TenantsRun) -> String {
    let mut out = format!(
        "## enroll-doctor {}: {}\n\nSigned in with {}; exit code {}.\n\n",
        run.command,
        run.headline(),
        md(&run.auth_method),
        run.exit_code
    );
    let users = run.has_users();
    out.push_str("| Tenant | Status | Fail | Warn | Pass | Skip | Error |");
    if users {
        out.push_str(" Not ready |");
    }
    out.push_str(" Blocking check / reason |\n|---|---|---:|---:|---:|---:|---:|");
    if users {
        out.push_str("---:|");
    }
    out.push_str("---|\n");
    for r in &run.tenants {
        let c = &r.findings;
        let name = match &r.name {
            Some(n) => format!("{}<br>{}", md(&r.tenant), md(n)),
            None => md(&r.tenant),
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            r.status.as_str(),
            c.fail,
            c.warn,
            c.pass,
            c.skip,
            c.error
        ));
        if users {
            out.push_str(&format!(" {} |", users_cell(r)));
        }
        out.push_str(&format!(" {} |\n", md(&what_blocks(r))));
    }
    if !run.failing_checks.is_empty() {
        out.push_str("\n### Checks that fail, by tenants\n\n| Check | Title | Tenants | Examples |\n|---|---|---:|---|\n");
        for f in &run.failing_checks {
            let ex: Vec<String> = f.examples.iter().map(|e| md(e)).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                md(&f.check),
                md(&f.title),
                f.tenants,
                ex.join(", ")
            ));
        }
    }
    if !run.notes.is_empty() {
        out.push('\n');
        for n in &run.notes {
            out.push_str(&format!("- {}\n", md(n)));
        }
    }
    crate::text_safety::into_safe_text(out)
}

/// The JSON document (`enroll-doctor/tenants@1`).
pub fn json_text(run: &TenantsRun) -> Result<String, serde_json::Error> {
    let mut s = super::json::escape_json(&serde_json::to_string_pretty(run)?).into_owned();
    s.push('\n');
    Ok(s)
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    line: &'static str,
    schema: &'static str,
    command: &'static str,
    as_of: DateTime<Utc>,
    auth_method: &'a str,
    exit_code: u8,
    #[serde(flatten)]
    summary: &'a TenantCounts,
    failing_checks: &'a [CrossTenantCheck],
    notes: &'a [String],
}

#[derive(Serialize)]
struct TenantLine<'a> {
    #[serde(rename = "type")]
    line: &'static str,
    #[serde(flatten)]
    row: &'a TenantRow,
}

/// JSON Lines: a summary line, then one line per tenant.
pub fn write_jsonl(out: &mut dyn Write, run: &TenantsRun) -> io::Result<()> {
    super::json::write_compact(
        out,
        &SummaryLine {
            line: "summary",
            schema: TENANTS_SCHEMA,
            command: run.command,
            as_of: run.as_of,
            auth_method: &run.auth_method,
            exit_code: run.exit_code,
            summary: &run.summary,
            failing_checks: &run.failing_checks,
            notes: &run.notes,
        },
    )?;
    out.write_all(b"\n")?;
    for row in &run.tenants {
        super::json::write_compact(
            out,
            &TenantLine {
                line: "tenant",
                row,
            },
        )?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// CSV (RFC 4180, UTF-8 with a BOM, as [`super::csv`]): one row per tenant.
pub fn write_csv(out: &mut dyn Write, run: &TenantsRun) -> io::Result<()> {
    let mut text = String::from(super::csv::BOM);
    text.push_str(
        "tenant,tenant_id,name,status,reason,fail,warn,pass,skip,error,users_checked,\
         users_not_ready,top_blocking,failing,report_file\r\n",
    );
    for r in &run.tenants {
        let c = &r.findings;
        let fields: [String; 15] = [
            r.tenant.clone(),
            r.tenant_id.clone().unwrap_or_default(),
            r.name.clone().unwrap_or_default(),
            r.status.as_str().to_string(),
            r.reason.clone().unwrap_or_default(),
            c.fail.to_string(),
            c.warn.to_string(),
            c.pass.to_string(),
            c.skip.to_string(),
            c.error.to_string(),
            r.users.map(|u| u.checked.to_string()).unwrap_or_default(),
            r.users.map(|u| u.not_ready.to_string()).unwrap_or_default(),
            r.top_blocking
                .as_ref()
                .map(|b| b.check.clone())
                .unwrap_or_default(),
            r.failing.join(" "),
            r.report_file.clone().unwrap_or_default(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            super::csv::push_field(&mut text, f);
        }
        text.push_str("\r\n");
    }
    out.write_all(text.as_bytes())
}

/// A tenant's name made into a safe file name, or why it cannot be one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tenant \"{shown}\" cannot be a file name: {why}")]
pub struct BadFileName {
    shown: String,
    why: &'static str,
}

/// `<tenant>.<ext>` for a tenant's report in `--output-dir`: the tenant in lower case, made of
/// ASCII letters, digits, `.`, `-` and `_` only. A name that could leave the folder or mean
/// something else to the file system — a separator, `..`, a leading dot, a drive letter, a
/// Windows device name such as `CON` — is refused, not rewritten (two tenants must never share a
/// file). Tenants from a tenants file (GUIDs and domain names) always pass.
pub fn report_file_name(tenant: &str, ext: &str) -> Result<String, BadFileName> {
    let bad = |why| BadFileName {
        shown: crate::text_safety::shown(tenant).to_string(),
        why,
    };
    let t = tenant.to_ascii_lowercase();
    if t.is_empty() || t.len() > 200 {
        return Err(bad("empty or longer than 200 characters"));
    }
    if !t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(bad(
            "only letters, digits, '.', '-' and '_' are allowed (no separator, space or control character)",
        ));
    }
    if t.starts_with('.') || t.starts_with('-') || t.ends_with('.') || t.contains("..") {
        return Err(bad(
            "it starts or ends with a dot or a hyphen, or holds '..'",
        ));
    }
    let stem = t.split('.').next().unwrap_or_default();
    const RESERVED: [&str; 6] = ["con", "prn", "aux", "nul", "conin$", "conout$"];
    let numbered =
        |p: &str| stem.len() == 4 && stem.starts_with(p) && stem.as_bytes()[3].is_ascii_digit();
    if RESERVED.contains(&stem) || numbered("com") || numbered("lpt") {
        return Err(bad("it is a Windows device name"));
    }
    if t == "summary" || t.starts_with("summary.") {
        return Err(bad("it would clash with the run's summary file"));
    }
    Ok(format!("{t}.{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tenant: &str, code: u8, failing: &[&str]) -> TenantRow {
        TenantRow {
            tenant: tenant.into(),
            tenant_id: None,
            name: Some(format!("{tenant} Ltd")),
            status: TenantStatus::of_exit_code(code),
            reason: (code == 2).then(|| "sign-in failed: AADSTS90002".to_string()),
            exit_code: code,
            findings: Summary {
                fail: failing.len(),
                pass: 3,
                ..Default::default()
            },
            top_blocking: failing.first().map(|c| BlockingCheck {
                check: c.to_string(),
                title: format!("{c} title"),
                users: None,
            }),
            failing: failing.iter().map(|c| c.to_string()).collect(),
            users: None,
            report_file: None,
            seconds: 0.1,
        }
    }

    fn run() -> TenantsRun {
        TenantsRun::new(
            "audit",
            DateTime::<Utc>::UNIX_EPOCH,
            "client-secret".into(),
            vec![
                row("a.example", 0, &[]),
                row("b.example", 1, &["TEN002", "TEN005"]),
                row("c.example", 2, &[]),
                row("d.example", 1, &["TEN005"]),
            ],
            |c| format!("{c} title"),
        )
    }

    #[test]
    fn rows_are_worst_first_and_checks_counted_across_tenants() {
        let r = run();
        let order: Vec<&str> = r.tenants.iter().map(|t| t.tenant.as_str()).collect();
        assert_eq!(order, ["c.example", "b.example", "d.example", "a.example"]);
        assert_eq!(r.exit_code, 2);
        assert_eq!(
            r.summary,
            TenantCounts {
                tenants: 4,
                ok: 1,
                findings: 2,
                error: 1
            }
        );
        assert_eq!(r.failing_checks[0].check, "TEN005");
        assert_eq!(r.failing_checks[0].tenants, 2);
        assert_eq!(r.failing_checks[0].examples, ["b.example", "d.example"]);
        assert_eq!(r.headline(), "4 tenants: 1 ok, 2 with findings, 1 error");
    }

    #[test]
    fn every_format_has_one_row_per_tenant() {
        let r = run();
        let t = table_text(&r, 100);
        assert!(t.contains("audit over 4 tenants"), "{t}");
        assert!(t.contains("sign-in failed: AADSTS90002"), "{t}");
        assert!(t.contains("TEN002 TEN002 title +1 more"), "{t}");
        assert!(
            t.contains("findings") && t.contains("2 fail, 0 warn"),
            "{t}"
        );
        assert!(t.contains("Checks that fail, by tenants"), "{t}");
        let m = markdown_text(&r);
        assert_eq!(m.matches("\n| ").count(), 2 + 4 + 2, "{m}");
        let j: serde_json::Value = serde_json::from_str(&json_text(&r).unwrap()).unwrap();
        assert_eq!(j["schema"], TENANTS_SCHEMA);
        assert_eq!(j["tenants"][0]["status"], "error");
        assert_eq!(j["tenants"][1]["fail"], 2);
        let mut lines = Vec::new();
        write_jsonl(&mut lines, &r).unwrap();
        let lines = String::from_utf8(lines).unwrap();
        assert_eq!(lines.lines().count(), 5);
        assert!(lines.starts_with("{\"type\":\"summary\""), "{lines}");
        let mut csv = Vec::new();
        write_csv(&mut csv, &r).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(csv.matches("\r\n").count(), 5);
        assert!(
            csv.contains("b.example,,b.example Ltd,findings,,2,0,3,0,0,,,TEN002,TEN002 TEN005,")
        );
    }

    #[test]
    fn a_reason_loses_the_trace_stamps_in_a_table() {
        let r = "sign-in refused: AADSTS90002: Tenant 'x' not found. Trace ID: 1 Correlation ID: 2";
        assert_eq!(
            short_reason(r),
            "sign-in refused: AADSTS90002: Tenant 'x' not found."
        );
        assert_eq!(short_reason(&"é".repeat(400)).chars().count(), 301);
    }

    #[test]
    fn outside_text_cannot_break_the_layout() {
        let mut r = run();
        r.tenants[1].name = Some("Evil | Corp\u{1b}[2J\nsecond line".into());
        let t = table_text(&r, 100);
        assert!(!t.contains('\u{1b}'), "{t}");
        let m = markdown_text(&r);
        assert!(
            m.contains("Evil \\| Corp\\u{1b}[2J\\u{a}second line"),
            "{m}"
        );
    }

    #[test]
    fn file_names_are_safe_or_refused() {
        assert_eq!(
            report_file_name("Contoso.OnMicrosoft.com", "json").unwrap(),
            "contoso.onmicrosoft.com.json"
        );
        assert_eq!(
            report_file_name("8E4D2C1B-7A3F-4B6E-9D5C-2F1E0A9B8C74", "txt").unwrap(),
            "8e4d2c1b-7a3f-4b6e-9d5c-2f1e0a9b8c74.txt"
        );
        for bad in [
            "",
            "..",
            "../etc",
            "a/b",
            "a\\b",
            "c:x",
            ".hidden",
            "a..b",
            "con",
            "CON.contoso.com",
            "lpt1.x",
            "com9",
            "nul",
            "summary",
            "a b",
            "a\u{0}b",
            "x\u{1b}",
            "trailing.",
        ] {
            let e = report_file_name(bad, "json");
            assert!(e.is_err(), "{bad:?} gave {e:?}");
        }
        let e = report_file_name("a/\u{1b}b", "json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a/\\u{1b}b"), "{e}");
        assert!(report_file_name("computer.com", "md").is_ok());
        assert!(report_file_name(&"a".repeat(201), "md").is_err());
    }
}
