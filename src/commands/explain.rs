//! `enroll-doctor explain`.

use enroll_doctor::report::explain::{self, ExplainDocument};

use enroll_doctor::text_safety::shown;

use super::context::print_stdout;
use crate::cli::{ExplainArgs, GlobalArgs, OutputFormat};

pub fn run(_global: &GlobalArgs, args: ExplainArgs) -> anyhow::Result<u8> {
    let output = if args.all {
        match args.format {
            OutputFormat::Json => ExplainDocument::all().to_json()?,
            OutputFormat::Table => explain::render_all_text(),
            OutputFormat::Markdown => fenced(&explain::render_all_text()),
        }
    } else {
        let input = args.code.as_deref().unwrap_or_default();
        let Some(target) = explain::resolve(input) else {
            eprintln!(
                "enroll-doctor: error: not a check ID or an error code I know: \"{}\"\n\
                 Expected a check ID or name (DEV007, autoenroll-failed) or an HRESULT \
                 (0x8018002B, 8018002b, 2149056555, -2145910741). `enroll-doctor explain --all` lists them.",
                shown(input)
            );
            return Ok(2);
        };
        match args.format {
            OutputFormat::Json => ExplainDocument::single(&target).to_json()?,
            OutputFormat::Table => explain::render_text(&target),
            OutputFormat::Markdown => fenced(&explain::render_text(&target)),
        }
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
