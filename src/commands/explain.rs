//! `enroll-doctor explain`.

use enroll_doctor::report::explain::{self, ExplainDocument};

use enroll_doctor::graph::auth::aadsts;
use enroll_doctor::report::table::width_from_env;
use enroll_doctor::text_safety::shown;

use super::context::print_stdout;
use crate::cli::{ExplainArgs, GlobalArgs, OutputFormat};

pub fn run(_global: &GlobalArgs, args: ExplainArgs) -> anyhow::Result<u8> {
    let output = if args.all {
        match args.format {
            OutputFormat::Json => ExplainDocument::all().to_json()?,
            OutputFormat::Table => explain::render_all_text(width_from_env()),
            OutputFormat::Markdown => fenced(&explain::render_all_text(explain::WRAP)),
        }
    } else {
        let input = args.code.as_deref().unwrap_or_default();
        if input.trim().to_ascii_uppercase().starts_with("AADSTS") {
            return explain_aadsts(input, args.format);
        }
        let Some(target) = explain::resolve(input) else {
            eprintln!(
                "enroll-doctor: error: not a check ID or an error code I know: \"{}\"\n\
                 Expected a check ID or name (DEV007, autoenroll-failed) or an HRESULT \
                 (0x8018002B, 8018002b, 2149056555, -2145910741), or a sign-in error (AADSTS53003). \
                 `enroll-doctor explain --all` lists the checks and codes.",
                shown(input)
            );
            return Ok(2);
        };
        match args.format {
            OutputFormat::Json => ExplainDocument::single(&target).to_json()?,
            OutputFormat::Table => explain::render_text(&target, width_from_env()),
            OutputFormat::Markdown => fenced(&explain::render_text(&target, explain::WRAP)),
        }
    };
    print_stdout(&output)?;
    Ok(0)
}

/// `explain AADSTS53003`: what an identity-platform error means and what to do in each kind of
/// sign-in ([`aadsts`]).
fn explain_aadsts(input: &str, format: OutputFormat) -> anyhow::Result<u8> {
    let decoded = aadsts::code_in(input).and_then(|code| Some((aadsts::lookup(code)?, code)));
    let Some((entry, code)) = decoded else {
        eprintln!(
            "enroll-doctor: error: \"{}\" is not a sign-in error I decode; these are: {}. Others: \
             https://login.microsoftonline.com/error?code=<number>",
            shown(input),
            aadsts::CODES
                .iter()
                .map(|c| format!("AADSTS{}", c.code))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(2);
    };
    let text = aadsts::explain(
        code,
        match format {
            OutputFormat::Markdown => explain::WRAP,
            _ => width_from_env(),
        },
    )
    .unwrap_or_default();
    let output = match format {
        OutputFormat::Json => {
            let hints: serde_json::Map<String, serde_json::Value> = aadsts::Flow::ALL
                .iter()
                .filter_map(|f| {
                    let h = aadsts::hint(code, *f)?;
                    Some((f.label().to_string(), serde_json::Value::String(h)))
                })
                .collect();
            let doc = serde_json::json!({
                "code": format!("AADSTS{code}"),
                "name": entry.name,
                "meaning": entry.meaning,
                "what_to_do": hints,
                "reference": aadsts::REFERENCE,
            });
            format!("{}\n", serde_json::to_string_pretty(&doc)?)
        }
        OutputFormat::Table => text,
        OutputFormat::Markdown => fenced(&text),
    };
    print_stdout(&output)?;
    Ok(0)
}

/// The explain text is laid out for a fixed-width font (aligned tables, indented lists); in a
/// fenced block it pastes into a ticket as it reads in the terminal.
fn fenced(text: &str) -> String {
    let fence = if text.contains("```") { "~~~~" } else { "```" };
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}
