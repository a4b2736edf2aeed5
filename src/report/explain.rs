//! `enroll-doctor explain`: resolves a check ID/name or an HRESULT and renders it as text or
//! stable JSON (`{"checks":[…],"error_codes":[…]}` for one item as for `--all`).

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::peaker::PriorityMax;
use tabled::settings::{Style, Width};

use crate::catalog::error_codes::{self, ErrorCode, LikelyCause};
use crate::checks::codes::explaining_checks;
use crate::checks::registry::{self, CheckMeta};
use crate::report::width::{cols, pad, truncate, wrap_indented};

/// The width of the text where no terminal says otherwise (Markdown's fenced block).
pub const WRAP: usize = 96;

/// What the user asked about.
#[derive(Debug, Clone)]
pub enum ExplainTarget {
    Check(&'static CheckMeta),
    /// A well-formed HRESULT, catalogued or not.
    Code(CodeExplanation),
}

/// An HRESULT with everything known about it.
#[derive(Debug, Clone, Serialize)]
pub struct CodeExplanation {
    /// `0x8018002B`.
    pub code: String,
    pub unsigned: u32,
    pub signed: i32,
    /// False when the code is not in the catalog (only `facility` is then filled).
    pub known: bool,
    pub symbol: Option<&'static str>,
    pub description: Option<&'static str>,
    pub remediation: Option<&'static str>,
    pub likely_cause: Option<LikelyCause>,
    /// The text Windows shows instead of the code, where it does.
    pub system_message: Option<&'static str>,
    /// Structural decoding: facility and code.
    pub facility: String,
    /// IDs of the checks whose findings explain or confirm this code.
    pub related_checks: Vec<&'static str>,
}

impl CodeExplanation {
    pub fn for_code(code: u32) -> CodeExplanation {
        let entry: Option<&'static ErrorCode> = error_codes::lookup(code);
        CodeExplanation {
            code: error_codes::format_hresult(code),
            unsigned: code,
            signed: code as i32,
            known: entry.is_some(),
            symbol: entry.and_then(|e| e.symbol),
            description: entry.map(|e| e.description),
            remediation: entry.map(|e| e.remediation),
            likely_cause: entry.map(|e| e.likely_cause),
            system_message: entry.and_then(|e| e.system_message),
            facility: error_codes::facility_decoding(code),
            related_checks: explaining_checks(code).iter().map(|c| c.id).collect(),
        }
    }
}

/// Resolves user input: a check ID or kebab name first (so `DEV007` is never read as a number),
/// then any accepted HRESULT form. `None` when it is neither.
pub fn resolve(input: &str) -> Option<ExplainTarget> {
    let trimmed = input.trim();
    if let Some(check) = registry::get(trimmed) {
        return Some(ExplainTarget::Check(check));
    }
    error_codes::parse_hresult(trimmed)
        .map(|code| ExplainTarget::Code(CodeExplanation::for_code(code)))
}

/// The JSON document `explain --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainDocument {
    pub checks: Vec<&'static CheckMeta>,
    pub error_codes: Vec<CodeExplanation>,
}

impl ExplainDocument {
    /// Every check in ID order and every catalogued code in numeric order.
    pub fn all() -> ExplainDocument {
        ExplainDocument {
            checks: registry::all().to_vec(),
            error_codes: error_codes::all()
                .iter()
                .map(|e| CodeExplanation::for_code(e.code))
                .collect(),
        }
    }

    pub fn single(target: &ExplainTarget) -> ExplainDocument {
        match target {
            ExplainTarget::Check(c) => ExplainDocument {
                checks: vec![*c],
                error_codes: Vec::new(),
            },
            ExplainTarget::Code(e) => ExplainDocument {
                checks: Vec::new(),
                error_codes: vec![e.clone()],
            },
        }
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}

/// Text rendering of one item.
/// Text rendering of one item, wrapped to `width` columns (at least 40).
pub fn render_text(target: &ExplainTarget, width: usize) -> String {
    let width = width.max(40);
    match target {
        ExplainTarget::Check(c) => render_check(c, width),
        ExplainTarget::Code(e) => render_code(e, width),
    }
}

fn render_check(c: &CheckMeta, width: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!("{}  {}\n{}\n\n", c.id, c.name, c.title));
    out.push_str(&format!(
        "Severity: {}    Area: {}\n\n",
        c.severity.as_str(),
        area_str(c.area)
    ));

    out.push_str("Graph permissions (least privilege)\n");
    let p = &c.permissions;
    if p.application.is_empty() && p.delegated.is_empty() {
        out.push_str("  none: this check reads only the device report\n\n");
    } else {
        let mut b = Builder::default();
        b.push_record(["Token type", "Permissions"]);
        let app = if p.delegated_only {
            "not supported (Graph answers 401 to app-only tokens)".to_string()
        } else {
            join_or_none(p.application)
        };
        b.push_record(["Application".to_string(), app]);
        b.push_record(["Delegated".to_string(), join_or_none(p.delegated)]);
        let mut t = b.build();
        t.with(Style::sharp()).with(fit(width.saturating_sub(2)));
        out.push_str(&indent(&t.to_string(), "  "));
        out.push('\n');
        if p.delegated_only {
            out.push_str(&wrap_indented(
                "Delegated only: with app-only authentication this check is skipped. Sign in as a user \
                 (`enroll-doctor auth login --auth browser`, or `--auth device-code`, then run with the \
                 same `--auth`) with a role that may read policies, such as Global Reader.",
                "  ",
                width,
            ));
        }
        out.push('\n');
    }

    section(&mut out, "What it checks", c.what_it_checks, width);
    section(&mut out, "Why it matters", c.why_it_matters, width);
    section(&mut out, "How to fix", c.how_to_fix, width);
    out.push_str("References\n");
    for r in c.references {
        // A link is never broken: it would not open.
        out.push_str(&format!("  - {r}\n"));
    }
    out
}

fn render_code(e: &CodeExplanation, width: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}  (unsigned {}, signed {})\n",
        e.code, e.unsigned, e.signed
    ));
    let symbol = match (e.known, e.symbol) {
        (_, Some(s)) => s.to_string(),
        (true, None) => "none (no SDK symbol; the catalog keys on the number)".to_string(),
        (false, None) => "unknown".to_string(),
    };
    let mut facts: Vec<(&str, String)> = vec![("Symbol", symbol), ("Facility", e.facility.clone())];
    if let Some(cause) = e.likely_cause {
        facts.push(("Likely cause", cause.to_string()));
    }
    if let Some(msg) = e.system_message {
        facts.push(("Windows shows", format!("\"{msg}\"")));
    }
    for (k, v) in facts {
        let label = format!("{:<14}", format!("{k}:"));
        let body = wrap_indented(&v, &" ".repeat(label.len()), width);
        out.push_str(&label);
        out.push_str(body.trim_start());
    }
    out.push('\n');
    if !e.known {
        out.push_str(&wrap_indented(
            "This code is not in enroll-doctor's catalog; the decoding above comes from its structure. \
             Search the DeviceManagement-Enterprise-Diagnostics-Provider events around it for context.",
            "",
            width,
        ));
        return out;
    }
    if let Some(d) = e.description {
        section(&mut out, "Description", d, width);
    }
    if let Some(r) = e.remediation {
        section(&mut out, "Remediation", r, width);
    }
    if !e.related_checks.is_empty() {
        out.push_str("Related checks\n");
        for c in explaining_checks(e.unsigned) {
            let head = format!("  {}  {} ", c.id, pad(c.name, 36));
            let title = wrap_indented(c.title, &" ".repeat(cols(&head)), width);
            out.push_str(&head);
            out.push_str(title.trim_start());
        }
    }
    out
}

/// Compact listing of every check and every code, its tables fitted to `width` columns.
pub fn render_all_text(width: usize) -> String {
    let width = width.max(40);
    let mut out = String::new();
    out.push_str(&format!("Checks ({})\n", registry::all().len()));
    let mut b = Builder::default();
    b.push_record(["ID", "Name", "Severity", "Area", "Title"]);
    for c in registry::all() {
        b.push_record([
            c.id.to_string(),
            c.name.to_string(),
            c.severity.as_str().to_string(),
            area_str(c.area).to_string(),
            c.title.to_string(),
        ]);
    }
    let mut t = b.build();
    t.with(Style::sharp()).with(fit(width));
    out.push_str(&t.to_string());
    out.push_str(&format!("\n\nError codes ({})\n", error_codes::all().len()));
    let mut b = Builder::default();
    b.push_record(["Code", "Symbol", "Likely cause", "Meaning"]);
    for e in error_codes::all() {
        b.push_record([
            e.hex(),
            e.symbol.unwrap_or("-").to_string(),
            e.likely_cause.to_string(),
            first_sentence(e.description, 70),
        ]);
    }
    let mut t = b.build();
    t.with(Style::sharp()).with(fit(width));
    out.push_str(&t.to_string());
    out.push_str("\n\nRun `enroll-doctor explain ID|CODE` for the full text.\n");
    out
}

fn area_str(a: registry::Area) -> &'static str {
    match a {
        registry::Area::Tenant => "tenant",
        registry::Area::User => "user",
        registry::Area::Device => "device",
        registry::Area::Correlation => "correlation",
        registry::Area::Autopilot => "autopilot",
    }
}

fn join_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// Shrinks a table's widest columns first, wrapping between words, until it fits `width`.
fn fit(width: usize) -> tabled::settings::width::Wrap<usize, PriorityMax> {
    Width::wrap(width)
        .priority(PriorityMax::new(true))
        .keep_words(true)
}

fn section(out: &mut String, heading: &str, body: &str, width: usize) {
    out.push_str(heading);
    out.push('\n');
    out.push_str(&wrap_indented(body, "  ", width));
    out.push('\n');
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|l| format!("{prefix}{l}\n")).collect()
}

/// The first sentence of `text`, cut to `max` characters with an ellipsis.
fn first_sentence(text: &str, max: usize) -> String {
    let end = text.find(". ").map(|i| i + 1).unwrap_or(text.len());
    let sentence = &text[..end];
    truncate(sentence, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ids_win_over_numbers_and_names_resolve() {
        assert!(matches!(resolve("DEV007"), Some(ExplainTarget::Check(c)) if c.id == "DEV007"));
        assert!(
            matches!(resolve("stale-enrollment-keys"), Some(ExplainTarget::Check(c)) if c.id == "DEV009")
        );
        assert!(
            matches!(resolve("-2145910774"), Some(ExplainTarget::Code(e)) if e.unsigned == 0x8018000A)
        );
        assert!(resolve("hello").is_none());
    }

    #[test]
    fn code_text_has_all_number_forms_and_related_checks() {
        let Some(target) = resolve("0x8018002b") else {
            panic!("code not resolved")
        };
        let text = render_text(&target, WRAP);
        assert!(
            text.starts_with("0x8018002B  (unsigned 2149056555, signed -2145910741)"),
            "{text}"
        );
        assert!(text.contains("Likely cause: mdm-scope"), "{text}");
        assert!(text.contains("USR008"), "{text}");
        assert!(text.contains("Remediation"), "{text}");
    }

    #[test]
    fn unknown_code_gets_its_facility() {
        let Some(ExplainTarget::Code(e)) = resolve("0x80190199") else {
            panic!("well-formed code not resolved")
        };
        assert!(!e.known);
        assert!(e.facility.contains("HTTP status 409"));
        assert!(render_code(&e, WRAP).contains("not in enroll-doctor's catalog"));
    }

    #[test]
    fn check_text_has_sections_and_permission_table() {
        let Some(target) = resolve("TEN003") else {
            panic!("check not resolved")
        };
        let text = render_text(&target, WRAP);
        for heading in [
            "What it checks",
            "Why it matters",
            "How to fix",
            "References",
            "Delegated only",
        ] {
            assert!(text.contains(heading), "missing {heading}:\n{text}");
        }
        assert!(text.contains("Policy.Read.All"));
        let device = render_text(
            &ExplainTarget::Check(registry::get("DEV001").expect("exists")),
            WRAP,
        );
        assert!(device.contains("none: this check reads only the device report"));
    }

    #[test]
    fn wrapping_keeps_words_and_width() {
        let long = "word ".repeat(60);
        let wrapped = wrap_indented(&long, "  ", WRAP);
        assert!(wrapped.lines().all(|l| l.chars().count() <= WRAP));
        assert_eq!(wrapped.split_whitespace().count(), 60);
    }
}
