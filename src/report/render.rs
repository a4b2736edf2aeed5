//! The renderers' entry points: a report over several users or devices goes through the run
//! layout ([`super::run`], summary first), a report about one subject through its format's own
//! layout.

use super::{Report, json, markdown, run, table};

/// A table at the width from the environment.
pub fn table(report: &Report) -> String {
    table_with(report, table::width_from_env(), false)
}

/// A table at `width`; `details` shows every subject's findings in a run over several.
pub fn table_with(report: &Report, width: usize, details: bool) -> String {
    let width = table::clamp_width(width);
    if run::is_multi(report) {
        let mut out = Vec::new();
        // Writing to memory cannot fail.
        let _ = run::write_report(report, run::Format::Table(width), details, &mut out, None);
        return String::from_utf8_lossy(&out).into_owned();
    }
    table::render_with(report, width, details)
}

/// Markdown; `details` as for [`table_with`].
pub fn markdown(report: &Report, details: bool) -> String {
    if run::is_multi(report) {
        let mut out = Vec::new();
        // Writing to memory cannot fail.
        let _ = run::write_report(report, run::Format::Markdown, details, &mut out, None);
        return String::from_utf8_lossy(&out).into_owned();
    }
    markdown::render_with(report, details)
}

/// JSON: `report@2` for a run over several subjects, `report@1` for one.
pub fn json(report: &Report) -> Result<String, serde_json::Error> {
    if run::is_multi(report) {
        let mut out = Vec::new();
        run::write_report(report, run::Format::Json, false, &mut out, None)
            .map_err(serde_json::Error::io)?;
        return Ok(String::from_utf8_lossy(&out).into_owned());
    }
    json::render(report)
}
