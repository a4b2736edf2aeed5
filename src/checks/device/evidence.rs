//! Evidence helpers below the path, the enrolled state and the facts: the collection hints
//! (`COLLECT_*`), event ordering and predicates, failure-code readers, and the builders of
//! event and registry evidence. It imports none of its siblings, so everything above may use it.

use crate::catalog::error_codes::{code_for_system_message, hresults_in_text, parse_hresult};
use crate::device::report::{DeviceReport, EventRecord, RegKey};
use crate::model::Evidence;

/// The name every Microsoft build gives the auto-enrollment task starts with this (the tail has
/// changed over time: "…from AAD", "…from Azure Active Directory", "…from Microsoft Entra ID").
pub const AUTOENROLL_TASK_PREFIX: &str =
    "Schedule created by enrollment client for automatically enrolling in MDM";
pub const HRESULT_ALREADY_ENROLLED: u32 = 0x8018_000A;

pub const COLLECT_DSREGCMD: &str =
    "`dsregcmd /status > dsregcmd.txt` run in the signed-in user's session (not elevated)";
pub const COLLECT_MDM_POLICY: &str = "`reg export \"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\" mdm-policy.reg /y` (the parent key, so a missing MDM key shows as missing)";
pub const COLLECT_ENROLLMENTS: &str =
    "`reg export HKLM\\SOFTWARE\\Microsoft\\Enrollments enrollments.reg /y` (elevated)";
pub const COLLECT_OS: &str =
    "`reg export \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\" os.reg /y`";
pub const COLLECT_TASKS: &str = "`schtasks /query /fo csv /v > schtasks.csv` (elevated: EnterpriseMgmt tasks are visible to administrators only)";
pub const COLLECT_DMEDP: &str = "`wevtutil qe \"Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin\" /f:xml > dmedp-admin.xml`";
pub const COLLECT_TASK_LOG: &str = "`wevtutil qe Microsoft-Windows-TaskScheduler/Operational /f:xml > taskscheduler.xml` and `wevtutil gl Microsoft-Windows-TaskScheduler/Operational` (shows whether the log is enabled)";
pub const COLLECT_BUNDLE: &str = "the collector bundle (`enroll-doctor collector > collect.ps1`, run on the device): it records whether each log is enabled and its oldest record";

/// A task `Last Result` that is an error HRESULT (high bit set), as u32. Task Scheduler's own
/// status codes (0, 267011 "has not yet run", 267009 "running"…) are not errors.
pub fn task_result_hresult(result: i64) -> Option<u32> {
    let code = u32::try_from(result)
        .ok()
        .or_else(|| i32::try_from(result).ok().map(|v| v as u32))?;
    (code & 0x8000_0000 != 0).then_some(code)
}

/// Events matching `pred`, with their index, ordered by time (records without a time keep
/// their file order after the timed ones they follow).
pub fn events_where(
    report: &DeviceReport,
    pred: impl Fn(&EventRecord) -> bool,
) -> Vec<(usize, &EventRecord)> {
    let mut v: Vec<(usize, &EventRecord)> = report
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| pred(e))
        .collect();
    v.sort_by(|(ia, a), (ib, b)| match (a.time, b.time) {
        (Some(ta), Some(tb)) => ta.cmp(&tb).then(ia.cmp(ib)),
        _ => ia.cmp(ib),
    });
    v
}

/// True when `b` happened after `a` (by time when both have one, else by position).
pub fn later(a: (usize, &EventRecord), b: (usize, &EventRecord)) -> bool {
    match (a.1.time, b.1.time) {
        (Some(ta), Some(tb)) => tb > ta || (tb == ta && b.0 > a.0),
        _ => b.0 > a.0,
    }
}

pub fn is_autoenroll_task_path(path: &str) -> bool {
    let leaf = path.rsplit('\\').next().unwrap_or(path);
    leaf.to_ascii_lowercase()
        .starts_with(&AUTOENROLL_TASK_PREFIX.to_ascii_lowercase())
}

/// True when an event's insertion strings or message name the auto-enrollment task.
pub fn names_autoenroll_task(e: &EventRecord) -> bool {
    let prefix = AUTOENROLL_TASK_PREFIX.to_ascii_lowercase();
    e.data
        .iter()
        .any(|d| d.value.to_ascii_lowercase().contains(&prefix))
        || e.message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains(&prefix))
}

/// Every HRESULT an event carries, insertion strings first, then the message.
pub fn event_codes(e: &EventRecord) -> Vec<u32> {
    let mut codes: Vec<u32> = Vec::new();
    for d in &e.data {
        for c in parse_hresult(&d.value)
            .into_iter()
            .chain(hresults_in_text(&d.value))
        {
            if c & 0x8000_0000 != 0 && !codes.contains(&c) {
                codes.push(c);
            }
        }
    }
    if let Some(m) = &e.message {
        for c in hresults_in_text(m) {
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
    }
    codes
}

/// The failure code of an event 76 and where it was read from. The code is the last failure
/// HRESULT among the insertion strings (the first one is the "Device Credential" flag, which
/// some builds mis-render), else the code inside "Failed (…)" of the message, else the code
/// whose Windows message text the event printed instead of a number.
pub fn failure_code(e: &EventRecord) -> Option<(u32, &'static str)> {
    if let Some(c) = e
        .data
        .iter()
        .rev()
        .filter_map(|d| parse_hresult(&d.value))
        .find(|c| c & 0x8000_0000 != 0)
    {
        return Some((c, "insertion string"));
    }
    let m = e.message.as_deref()?;
    let tail = match m.to_ascii_lowercase().rfind("failed") {
        Some(i) => &m[i..],
        None => m,
    };
    if let Some(c) = hresults_in_text(tail).last() {
        return Some((*c, "message"));
    }
    code_for_system_message(tail).map(|c| (c, "system message text"))
}

/// The "Device Credential (%1)" flag of events 75/76: `Some(true)` only for exactly 1.
pub fn device_credential_flag(e: &EventRecord) -> Option<bool> {
    if let Some(m) = &e.message {
        let lower = m.to_ascii_lowercase();
        if let Some(i) = lower.find("device credential (") {
            let rest = &m[i + "device credential (".len()..];
            let inner = rest.split(')').next().unwrap_or("");
            return parse_hresult(inner).map(|v| v == 1);
        }
    }
    // Modern builds put the flag first and the result second; older ones carry only a result.
    if e.data.len() >= 2 || (e.event_id == 75 && e.data.len() == 1) {
        return parse_hresult(&e.data[0].value).map(|v| v == 1);
    }
    None
}

pub fn event_evidence(e: &EventRecord, detail: impl Into<String>) -> Evidence {
    let source = if e.is_task_scheduler() {
        "task-scheduler-log"
    } else {
        "event-log"
    };
    Evidence::new(source, detail).at(e.location.to_string())
}

pub fn event_time(e: &EventRecord) -> String {
    e.time
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "time unknown".to_string())
}

pub fn reg_evidence(key: &RegKey, detail: impl Into<String>) -> Evidence {
    Evidence::new("registry", detail).at(key.location.to_string())
}
