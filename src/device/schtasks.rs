//! `schtasks /query /fo csv /v`: 28 columns whose labels are localised but whose positions are
//! fixed; the header is repeated per folder; one row per trigger.

use std::collections::HashMap;

use super::report::{Location, ScheduledTask};
use super::sniff::SCHTASKS_COLUMNS;

const COL_TASK_NAME: usize = 1;
const COL_STATUS: usize = 3;
const COL_LAST_RUN: usize = 5;
const COL_LAST_RESULT: usize = 6;
const COL_TASK_TO_RUN: usize = 8;
const COL_STATE: usize = 11;

/// Tasks of one `schtasks` CSV, and rows that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedTasks {
    pub tasks: Vec<ScheduledTask>,
    pub skipped: Vec<(usize, String)>,
}

/// Parses decoded `schtasks /query /fo csv /v` text.
pub fn parse(file: &str, text: &str) -> ParsedTasks {
    let mut out = ParsedTasks::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut header: Option<Vec<String>> = None;
    // Task path (lower case) → index in `out.tasks`.
    let mut by_path: HashMap<String, usize> = HashMap::new();
    for (i, row) in reader.records().enumerate() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                out.skipped.push((i + 1, e.to_string()));
                continue;
            }
        };
        let line = row.position().map_or(i + 1, |p| p.line() as usize);
        let cells: Vec<&str> = row.iter().collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if cells.len() < COL_STATE + 1 {
            out.skipped.push((
                line,
                format!("{} fields, expected {SCHTASKS_COLUMNS}", cells.len()),
            ));
            continue;
        }
        let name = cells[COL_TASK_NAME].trim();
        // A header row: the first row unless it already holds a task path (`/nh`), and every
        // later row equal to it (localised headers repeat per folder).
        if header.is_none() && !name.starts_with('\\') {
            header = Some(cells.iter().map(|c| c.to_string()).collect());
            continue;
        }
        if let Some(h) = &header
            && (h.iter().map(String::as_str).eq(cells.iter().copied())
                || (h.get(COL_TASK_NAME).is_some_and(|n| n == name)))
        {
            continue;
        }
        if name.eq_ignore_ascii_case("TaskName") {
            continue;
        }
        let value = |c: usize| {
            cells
                .get(c)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("N/A"))
                .map(str::to_string)
        };
        let task = ScheduledTask {
            path: name.to_string(),
            status: value(COL_STATUS),
            state: value(COL_STATE),
            last_run: value(COL_LAST_RUN).filter(|s| !is_never_run_date(s)),
            last_result: value(COL_LAST_RESULT).and_then(|s| parse_result(&s)),
            task_to_run: value(COL_TASK_TO_RUN),
            location: Location {
                file: file.to_string(),
                line: Some(line),
                record: None,
            },
        };
        // Several triggers give several rows for the same task: keep the first, fill gaps.
        let key = task.path.to_ascii_lowercase();
        if let Some(existing) = by_path.get(&key).and_then(|&i| out.tasks.get_mut(i)) {
            existing.status = existing.status.take().or(task.status);
            existing.state = existing.state.take().or(task.state);
            existing.last_run = existing.last_run.take().or(task.last_run);
            existing.last_result = existing.last_result.or(task.last_result);
            existing.task_to_run = existing.task_to_run.take().or(task.task_to_run);
        } else {
            by_path.insert(key, out.tasks.len());
            out.tasks.push(task);
        }
    }
    out
}

/// `11/30/1999 12:00:00 AM` is how schtasks prints "never run" on some builds.
fn is_never_run_date(s: &str) -> bool {
    s.contains("1999")
        && (s.starts_with("11/30/1999")
            || s.starts_with("30/11/1999")
            || s.starts_with("30.11.1999"))
}

/// Decimal (possibly negative, i.e. a signed HRESULT) or `0x…` hex.
fn parse_result(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "\"HostName\",\"TaskName\",\"Next Run Time\",\"Status\",\"Logon Mode\",\"Last Run Time\",\"Last Result\",\"Author\",\"Task To Run\",\"Start In\",\"Comment\",\"Scheduled Task State\",\"Idle Time\",\"Power Management\",\"Run As User\",\"Delete Task If Not Rescheduled\",\"Stop Task If Runs X Hours and X Mins\",\"Schedule\",\"Schedule Type\",\"Start Time\",\"Start Date\",\"End Date\",\"Days\",\"Months\",\"Repeat: Every\",\"Repeat: Until: Time\",\"Repeat: Until: Duration\",\"Repeat: Stop If Still Running\"";

    fn row(
        name: &str,
        status: &str,
        last_run: &str,
        result: &str,
        state: &str,
        kind: &str,
    ) -> String {
        let mut cells = vec!["N/A".to_string(); 28];
        cells[0] = "PC0042".into();
        cells[1] = name.into();
        cells[3] = status.into();
        cells[5] = last_run.into();
        cells[6] = result.into();
        cells[8] = "%windir%\\system32\\deviceenroller.exe /c /AutoEnrollMDM".into();
        cells[10] = "multi\nline comment".into();
        cells[11] = state.into();
        cells[18] = kind.into();
        cells
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn many_tasks_scale_linearly() {
        // Each row's task used to be looked up by a scan of the tasks seen so far.
        let make = |n: usize| {
            let rows: Vec<String> = (0..n)
                .map(|i| row(&format!("\\T{i}"), "Ready", "N/A", "0", "Enabled", "Daily"))
                .collect();
            format!("{HEADER}\n{}\n", rows.join("\n"))
        };
        assert_eq!(parse("s.csv", &make(3)).tasks.len(), 3);
        crate::device::text::assert_scales_linearly("schtasks rows", 1000, make, |t| {
            assert_eq!(parse("s.csv", t).tasks.len() % 1000, 0);
        });
    }

    #[test]
    fn repeated_headers_merged_triggers_and_na() {
        let auto = "\\Microsoft\\Windows\\EnterpriseMgmt\\Schedule created by enrollment client for automatically enrolling in MDM from AAD";
        let guid = "\\Microsoft\\Windows\\EnterpriseMgmt\\6A1F0B57-2C4D-4E8F-9A1B-3C5D7E9F1A2B\\Schedule #1 created by enrollment client";
        let text = [
            String::new(),
            HEADER.to_string(),
            row(
                auto,
                "Ready",
                "11/26/2026 9:05:12 AM",
                "0",
                "Enabled",
                "One Time Only",
            ),
            row(
                auto,
                "Ready",
                "11/26/2026 9:05:12 AM",
                "0",
                "Enabled",
                "At logon time",
            ),
            String::new(),
            HEADER.to_string(),
            row(guid, "Ready", "N/A", "-2145910774", "Enabled", "Daily"),
            row(
                "\\Other",
                "Disabled",
                "11/30/1999 12:00:00 AM",
                "267011",
                "Disabled",
                "Daily",
            ),
        ]
        .join("\r\n")
        .replace("\r\n", "\n");
        let p = parse("schtasks.csv", &text);
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        assert_eq!(p.tasks.len(), 3);
        let t = &p.tasks[0];
        assert_eq!(t.path, auto);
        assert_eq!(t.status.as_deref(), Some("Ready"));
        assert_eq!(t.state.as_deref(), Some("Enabled"));
        assert_eq!(t.last_result, Some(0));
        assert_eq!(t.last_run.as_deref(), Some("11/26/2026 9:05:12 AM"));
        assert!(t.task_to_run.as_deref().unwrap().contains("/AutoEnrollMDM"));
        assert_eq!(t.location.line, Some(3));
        assert_eq!(p.tasks[1].last_run, None);
        assert_eq!(p.tasks[1].last_result, Some(-2_145_910_774));
        assert_eq!(p.tasks[2].last_run, None);
        assert_eq!(p.tasks[2].last_result, Some(267_011));
    }

    #[test]
    fn localised_header_and_no_header() {
        let de: Vec<String> = (0..28).map(|i| format!("\"Spalte{i}\"")).collect();
        let text = format!(
            "{}\n{}\n{}\n{}\n",
            de.join(","),
            row("\\A", "Bereit", "N/A", "0", "Aktiviert", "x"),
            de.join(","),
            row("\\B", "Bereit", "N/A", "1", "Aktiviert", "x")
        );
        let p = parse("s.csv", &text);
        assert_eq!(
            p.tasks.iter().map(|t| t.path.as_str()).collect::<Vec<_>>(),
            ["\\A", "\\B"]
        );
        let p = parse("s.csv", &row("\\A", "Ready", "N/A", "0", "Enabled", "x"));
        assert_eq!(p.tasks.len(), 1);
    }

    #[test]
    fn sample_parses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/mocks/devices/hybrid-enrolled/schtasks.csv"
        );
        let text = super::super::text::decode(&std::fs::read(path).unwrap())
            .unwrap()
            .text;
        let p = parse("schtasks.csv", &text);
        assert_eq!(p.tasks.len(), 1);
        assert_eq!(p.tasks[0].state.as_deref(), Some("Disabled"));
        assert_eq!(p.tasks[0].last_result, Some(0));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,400}") {
            let _ = parse("x", &s);
        }

        #[test]
        fn rows_never_panic(rows in proptest::collection::vec(proptest::collection::vec("[ -~]{0,6}", 0..30), 0..6)) {
            let text = rows.iter().map(|r| r.join(",")).collect::<Vec<_>>().join("\n");
            let _ = parse("x", &text);
        }
    }
}
