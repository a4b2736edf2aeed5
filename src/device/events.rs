//! Event log exports: `wevtutil qe /f:xml` (with or without a root, RenderedXml),
//! `Get-WinEvent | ConvertTo-Json` (PS 5.1 and PS 7) and `Export-Csv` / Event Viewer CSV.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

pub use super::event_xml::parse_xml;
use super::report::{EventData, EventLogInfo, EventRecord, Location};

/// Events kept from one export, and what the export says about each log in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedEvents {
    /// Events of the enrollment (DMEDP) and Task Scheduler providers, in file order.
    pub events: Vec<EventRecord>,
    /// One entry per log (channel) seen in the export, oldest exported event as `oldest_record`.
    pub logs: Vec<EventLogInfo>,
    /// Every event read, kept or not.
    pub total: usize,
    /// Records that could not be read (`record: reason`).
    pub skipped: Vec<String>,
}

/// What PowerShell 5.1 writes for `Properties` at the default `ConvertTo-Json` depth.
const DEGRADED_PROPERTY: &str = "System.Diagnostics.Eventing.Reader.EventProperty";

/// Name used for a log whose export does not say which channel it is.
pub const UNKNOWN_LOG: &str = "unknown";

pub(crate) fn wanted(e: &EventRecord) -> bool {
    e.is_dmedp()
        || e.is_task_scheduler()
        || e.is_aad()
        || e.is_device_registration()
        || e.is_autopilot()
}

impl ParsedEvents {
    pub(crate) fn from_all(file: &str, all: Vec<EventRecord>, skipped: Vec<String>) -> Self {
        let mut logs = LogSummary::new(file);
        for e in &all {
            logs.add(e);
        }
        let total = all.len();
        let events = all.into_iter().filter(wanted).collect();
        ParsedEvents {
            events,
            logs: logs.finish(),
            total,
            skipped,
        }
    }
}

/// The logs (channels) of an export as its records are read: one entry per log, its record
/// count and oldest record.
pub(crate) struct LogSummary {
    file: String,
    logs: Vec<EventLogInfo>,
    /// Log name (lower case) → index in `logs`: an export may name thousands of channels.
    index: HashMap<String, usize>,
}

impl LogSummary {
    pub(crate) fn new(file: &str) -> LogSummary {
        LogSummary {
            file: file.to_string(),
            logs: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// How many logs were seen.
    pub(crate) fn len(&self) -> usize {
        self.logs.len()
    }

    /// Whether E's log is one already seen.
    pub(crate) fn knows(&self, e: &EventRecord) -> bool {
        let name = e.channel.as_deref().unwrap_or(UNKNOWN_LOG);
        self.index.contains_key(&name.to_ascii_lowercase())
    }

    pub(crate) fn add(&mut self, e: &EventRecord) {
        let name = e.channel.as_deref().unwrap_or(UNKNOWN_LOG);
        let idx = match self.index.get(&name.to_ascii_lowercase()) {
            Some(&i) => i,
            None => {
                self.index
                    .insert(name.to_ascii_lowercase(), self.logs.len());
                self.logs.push(EventLogInfo {
                    name: name.to_string(),
                    enabled: None,
                    oldest_record: None,
                    record_count: Some(0),
                    file: self.file.clone(),
                });
                self.logs.len() - 1
            }
        };
        let log = &mut self.logs[idx];
        log.record_count = Some(log.record_count.unwrap_or(0) + 1);
        if let Some(t) = e.time {
            log.oldest_record = Some(log.oldest_record.map_or(t, |o| o.min(t)));
        }
    }

    pub(crate) fn finish(self) -> Vec<EventLogInfo> {
        self.logs
    }
}

// ---------------------------------------------------------------- XML

/// ISO-8601 with any number of fractional digits, `Z` or an offset; no zone means UTC.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    None
}

// ---------------------------------------------------------------- JSON

/// Parses `Get-WinEvent | ConvertTo-Json` output: one object or an array of them.
pub fn parse_json(file: &str, text: &str) -> Result<ParsedEvents, String> {
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("not valid JSON: {e}"))?;
    let items: Vec<&Value> = match &value {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![&value],
        _ => return Err("JSON is neither an event object nor an array of events".into()),
    };
    Ok(parse_json_items(file, &items, ""))
}

/// Events from already-parsed `Get-WinEvent` objects (also used for the collector bundle,
/// whose `record` ids get `record_prefix`).
pub fn parse_json_items(file: &str, items: &[&Value], record_prefix: &str) -> ParsedEvents {
    let mut all = Vec::new();
    let mut skipped = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match json_event(file, item, i, record_prefix) {
            Some(e) => all.push(e),
            None => skipped.push(format!("{record_prefix}[{i}]: no ProviderName or Id")),
        }
    }
    ParsedEvents::from_all(file, all, skipped)
}

/// Case-insensitive property lookup (PowerShell property names are case-insensitive).
fn prop<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn json_event(file: &str, obj: &Value, index: usize, prefix: &str) -> Option<EventRecord> {
    let provider = prop(obj, "ProviderName")
        .and_then(Value::as_str)?
        .to_string();
    let event_id = prop(obj, "Id")
        .and_then(as_u64)
        .and_then(|n| u32::try_from(n).ok())?;
    let level = prop(obj, "Level")
        .and_then(as_u64)
        .and_then(|n| u8::try_from(n).ok())
        .or_else(|| {
            prop(obj, "LevelDisplayName")
                .and_then(Value::as_str)
                .and_then(level_from_name)
        });
    let time = prop(obj, "TimeCreated").and_then(json_time);
    let record_id = prop(obj, "RecordId").and_then(as_u64);
    let channel = prop(obj, "LogName")
        .or_else(|| prop(obj, "ContainerLog"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let data = match prop(obj, "Properties") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|p| match p {
                Value::String(s) if s == DEGRADED_PROPERTY => None,
                Value::Object(_) => Some(EventData {
                    name: None,
                    value: prop(p, "Value").map(value_text).unwrap_or_default(),
                }),
                other => Some(EventData {
                    name: None,
                    value: value_text(other),
                }),
            })
            .collect(),
        _ => Vec::new(),
    };
    let message = prop(obj, "Message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    let record = record_id.map_or_else(|| format!("{prefix}[{index}]"), |r| format!("{prefix}{r}"));
    Some(EventRecord {
        provider,
        channel,
        event_id,
        level,
        time,
        record_id,
        data,
        message,
        location: Location {
            file: file.to_string(),
            line: None,
            record: Some(record),
        },
    })
}

/// `/Date(1595374458918)/` (PS 5.1, optionally with `+0100`), an ISO string (PS 7 or a
/// `ToString('o')` projection), or a `{ "value": … }` wrapper from deeper serialisation.
pub(crate) fn json_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            if let Some(inner) = s
                .strip_prefix("/Date(")
                .or_else(|| s.strip_prefix("\\/Date("))
            {
                let digits: String = inner
                    .chars()
                    .enumerate()
                    .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
                    .map(|(_, c)| c)
                    .collect();
                let ms: i64 = digits.parse().ok()?;
                return DateTime::from_timestamp_millis(ms);
            }
            parse_time(s)
        }
        Value::Object(_) => prop(v, "value")
            .or_else(|| prop(v, "DateTime"))
            .and_then(json_time),
        _ => None,
    }
}

fn level_from_name(name: &str) -> Option<u8> {
    match name.trim().to_ascii_lowercase().as_str() {
        // English, then the German, French and Spanish labels of localised exports.
        "critical" | "kritisch" | "critique" | "crítico" => Some(1),
        "error" | "fehler" | "erreur" => Some(2),
        "warning" | "warnung" | "avertissement" | "advertencia" => Some(3),
        "information" | "info" | "informationen" | "información" => Some(4),
        "verbose" | "ausführlich" | "détaillé" | "detallado" => Some(5),
        _ => None,
    }
}

// ---------------------------------------------------------------- CSV

/// Parses `Get-WinEvent | Export-Csv` (with or without `#TYPE`) or Event Viewer's CSV;
/// columns are found by name.
pub fn parse_csv(file: &str, text: &str) -> Result<ParsedEvents, String> {
    // Skip a `#TYPE` line, counting it so row line numbers stay right.
    let mut offset = 0usize;
    let mut body = text.trim_start_matches('\u{feff}');
    while let Some(first) = body.lines().next() {
        if first.trim().is_empty() || first.trim_start().starts_with("#TYPE") {
            offset += 1;
            body = body.split_once('\n').map_or("", |(_, rest)| rest);
        } else {
            break;
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("unreadable CSV header: {e}"))?
        .clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    // Event Viewer on a non-English Windows translates its five labels: go by position then.
    let positional = col(&["Id", "Event ID", "EventID"]).is_none()
        && crate::device::sniff::is_localised_event_viewer_csv(body);
    let at = |i: usize| positional.then_some(i);
    let c_id = col(&["Id", "Event ID", "EventID"])
        .or(at(3))
        .ok_or("no Id / Event ID column")?;
    let c_provider = col(&["ProviderName", "Source", "Provider"])
        .or(at(2))
        .ok_or("no ProviderName / Source column")?;
    let c_level = col(&["Level"]).or(at(0));
    let c_level_name = col(&["LevelDisplayName"]);
    let c_time = col(&["TimeCreated", "Date and Time", "TimeGenerated"]).or(at(1));
    let c_record = col(&["RecordId", "EventRecordID"]);
    let c_log = col(&["LogName", "ContainerLog", "Log Name"]);
    // Event Viewer writes the description as an extra, unnamed column after the header's five.
    let c_message = col(&["Message", "Description"])
        .or_else(|| (col(&["Task Category"]).is_some() || positional).then_some(headers.len()));
    let mut all = Vec::new();
    let mut skipped = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                skipped.push(format!("row {}: {e}", i + 1));
                continue;
            }
        };
        let line = row.position().map(|p| p.line() as usize + offset);
        let get = |c: Option<usize>| {
            c.and_then(|c| row.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(event_id) = get(Some(c_id)).and_then(|s| s.parse::<u32>().ok()) else {
            skipped.push(format!("row {}: no numeric event id", i + 1));
            continue;
        };
        let Some(provider) = get(Some(c_provider)) else {
            skipped.push(format!("row {}: no provider", i + 1));
            continue;
        };
        let level = get(c_level)
            .and_then(|l| l.parse::<u8>().ok().or_else(|| level_from_name(l)))
            .or_else(|| get(c_level_name).and_then(level_from_name));
        let record_id = get(c_record).and_then(|r| r.parse().ok());
        all.push(EventRecord {
            provider: provider.to_string(),
            channel: get(c_log).map(str::to_string),
            event_id,
            level,
            time: get(c_time).and_then(parse_local_time),
            record_id,
            data: Vec::new(),
            message: get(c_message).map(str::to_string),
            location: Location {
                file: file.to_string(),
                line,
                record: Some(record_id.map_or_else(|| format!("row {}", i + 1), |r| r.to_string())),
            },
        });
    }
    Ok(ParsedEvents::from_all(file, all, skipped))
}

/// CSV times are written in the machine's culture and local time zone, which the file does
/// not record; they are read as UTC (an approximation documented for the checks).
fn parse_local_time(s: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = parse_time(s) {
        return Some(t);
    }
    const FORMATS: [&str; 6] = [
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M:%S",
        "%d.%m.%Y %H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%m/%d/%Y %I:%M %p",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| Utc.from_utc_datetime(&t))
}

// ---------------------------------------------------------------- text

/// Parses `wevtutil qe … /f:text` (`Event[n]:` blocks of `Name: value` lines, the description
/// on the lines after `Description:`) and Event Viewer's "Copy details as text" (blocks that
/// start at `Log Name:`). Times there are local and carry no zone: read as UTC, like CSV.
pub fn parse_text(file: &str, text: &str) -> Result<ParsedEvents, String> {
    struct Block {
        line: usize,
        fields: Vec<(String, String)>,
        description: Vec<String>,
    }
    let mut blocks: Vec<Block> = Vec::new();
    let mut in_description = false;
    for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        let header = trimmed.starts_with("Event[") && trimmed.ends_with("]:");
        let log_name = trimmed.to_ascii_lowercase().starts_with("log name:");
        // A new record: its `Event[n]:` header, or `Log Name:` when there is no header (or
        // after the description of the previous one).
        if header
            || (log_name
                && blocks.last().is_none_or(|b| {
                    in_description || b.fields.iter().any(|(k, _)| k == "log name")
                }))
        {
            blocks.push(Block {
                line: i + 1,
                fields: Vec::new(),
                description: Vec::new(),
            });
            in_description = false;
            if header {
                continue;
            }
        }
        let Some(block) = blocks.last_mut() else {
            continue;
        };
        if in_description {
            if !trimmed.is_empty() {
                block.description.push(trimmed.to_string());
            }
            continue;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            let key = name.trim().to_ascii_lowercase();
            if key == "description" {
                in_description = true;
                if !value.trim().is_empty() {
                    block.description.push(value.trim().to_string());
                }
            } else {
                block.fields.push((key, value.trim().to_string()));
            }
        }
    }
    if blocks.is_empty() {
        return Err("no `Event[n]:` or `Log Name:` record in the text export".to_string());
    }
    let mut all = Vec::new();
    let mut skipped = Vec::new();
    for (n, b) in blocks.iter().enumerate() {
        let get = |k: &str| {
            b.fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty() && *v != "N/A")
        };
        let (Some(provider), Some(event_id)) = (
            get("source"),
            get("event id").and_then(|v| v.parse::<u32>().ok()),
        ) else {
            skipped.push(format!(
                "event {} (line {}): no Source or numeric Event ID",
                n + 1,
                b.line
            ));
            continue;
        };
        let message = (!b.description.is_empty()).then(|| b.description.join(" "));
        all.push(EventRecord {
            provider: provider.to_string(),
            channel: get("log name").map(str::to_string),
            event_id,
            level: get("level").and_then(level_from_name),
            time: get("date").and_then(parse_local_time),
            record_id: None,
            data: Vec::new(),
            message,
            location: Location {
                file: file.to_string(),
                line: Some(b.line),
                record: Some(format!("Event[{n}]")),
            },
        });
    }
    Ok(ParsedEvents::from_all(file, all, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

    fn dmedp_xml(id: u32, rec: u64, time: &str) -> String {
        format!(
            "<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider' Guid='{{3DA494E4-0FE2-415C-B895-FB5265C5C83B}}'/><EventID>{id}</EventID><Level>2</Level><TimeCreated SystemTime='{time}'/><EventRecordID>{rec}</EventRecordID><Channel>Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin</Channel></System><EventData><Data Name='HexInt1'>0x0</Data><Data Name='HexInt2'>0x8018002b</Data></EventData></Event>"
        )
    }

    #[test]
    fn wevtutil_text_blocks_and_copied_details() {
        let text = "Event[0]:\n  Log Name: Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin\n  \
Source: Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider\n  Date: 2026-11-20T09:02:07.412\n  \
Event ID: 76\n  Task: N/A\n  Level: Error\n  Opcode: Info\n  Keyword: N/A\n  User: S-1-5-18\n  \
User Name: NT AUTHORITY\\SYSTEM\n  Computer: WS-2231\n  Description: \n\
Auto MDM Enroll: Device Credential (0x0), Failed (Unknown Win32 Error code: 0x8018002a)\n\n\
Event[1]:\n  Log Name: Microsoft-Windows-TaskScheduler/Operational\n  Source: Microsoft-Windows-TaskScheduler\n  \
Date: 2026-11-20T09:02:05.000\n  Event ID: 107\n  Level: Information\n  Description: \n\
Task Scheduler launched \"x\" instance of task \"y\" due to a time trigger condition.\n\n\
Event[2]:\n  Log Name: Application\n  Source: \n  Event ID: 1000\n";
        let p = parse_text("ev.txt", text).expect("text export");
        assert_eq!(p.total, 2);
        assert_eq!(p.skipped.len(), 1, "a record without a Source is named");
        assert_eq!(p.events.len(), 2);
        let e = &p.events[0];
        assert!(e.is_dmedp());
        assert_eq!((e.event_id, e.level), (76, Some(2)));
        assert_eq!(
            e.time.map(|t| t.to_rfc3339()),
            Some("2026-11-20T09:02:07.412+00:00".to_string())
        );
        assert!(
            e.message
                .as_deref()
                .is_some_and(|m| m.ends_with("0x8018002a)"))
        );
        assert_eq!(e.location.to_string(), "ev.txt:1");
        assert!(p.events[1].is_task_scheduler());
        // Event Viewer "Copy details as text": no `Event[n]:` header, one-line description.
        let copied = "Log Name: Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin\n\
Source: DeviceManagement-Enterprise-Diagnostics-Provider\nEvent ID: 76\nLevel: Error\n\
Description: Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x8018002b)\n";
        let p = parse_text("copy.txt", copied).expect("copied details");
        assert_eq!(p.events.len(), 1);
        assert_eq!(
            p.events[0].message.as_deref(),
            Some("Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x8018002b)")
        );
        assert!(parse_text("x.txt", "nothing here\n").is_err());
    }

    #[test]
    fn rootless_wevtutil_xml() {
        let text = format!(
            "{}\n{}\n<Event xmlns=\"{NS}\"><System><Provider Name=\"Microsoft-Windows-Kernel-General\"/><EventID>1</EventID><Channel>System</Channel></System></Event>\n",
            dmedp_xml(76, 3301, "2026-11-25T14:10:02.5512001Z"),
            dmedp_xml(75, 3302, "2026-11-25T14:15:03.001811200Z"),
        );
        let p = parse_xml("dmedp.xml", &text).unwrap();
        assert_eq!(p.total, 3);
        assert_eq!(p.events.len(), 2);
        let e = &p.events[0];
        assert_eq!(
            (e.event_id, e.level, e.record_id),
            (76, Some(2), Some(3301))
        );
        assert_eq!(e.data[1].name.as_deref(), Some("HexInt2"));
        assert_eq!(e.data[1].value, "0x8018002b");
        assert_eq!(e.location.line, Some(1));
        assert_eq!(p.events[1].location.line, Some(2));
        assert_eq!(
            e.time.unwrap().to_rfc3339(),
            "2026-11-25T14:10:02.551200100+00:00"
        );
        assert_eq!(p.logs.len(), 2);
        assert_eq!(p.logs[0].record_count, Some(2));
        assert_eq!(p.logs[0].oldest_record, e.time);
        assert_eq!(p.logs[0].enabled, None);
    }

    #[test]
    fn rendered_xml_with_root_and_declaration() {
        let text = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n<Event xmlns=\"{NS}\"><System><Provider Name=\"Microsoft-Windows-TaskScheduler\"/><EventID>107</EventID><TimeCreated SystemTime=\"2026-11-25T14:10:00.1Z\"/><Channel>Microsoft-Windows-TaskScheduler/Operational</Channel></System><EventData><Data Name=\"TaskName\">\\Microsoft\\Windows\\EnterpriseMgmt\\x</Data></EventData><RenderingInfo Culture=\"en-US\"><Message>Task Scheduler launched &quot;x&quot;</Message><Level>Information</Level></RenderingInfo></Event>\n</Events>"
        );
        let p = parse_xml("ts.xml", &text).unwrap();
        assert_eq!(p.events.len(), 1);
        let e = &p.events[0];
        assert!(e.is_task_scheduler());
        assert_eq!(e.message.as_deref(), Some("Task Scheduler launched \"x\""));
        assert_eq!(e.data[0].name.as_deref(), Some("TaskName"));
        assert_eq!(e.location.line, Some(3));
    }

    #[test]
    fn broken_xml_is_an_error() {
        let e = parse_xml("x.xml", "<Event><System>").unwrap_err();
        assert!(e.contains("not valid XML"), "{e}");
        // No DTD, so no entity expansion (XXE, billion laughs).
        let xxe = "<?xml version='1.0'?>\n<!DOCTYPE Event [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n<Event><System><Provider Name='&x;'/><EventID>1</EventID></System></Event>";
        let e = parse_xml("x.xml", xxe).unwrap_err();
        assert!(e.contains("DTD is not accepted"), "{e}");
        let e = parse_xml("x.xml", "<Event><Data>&x;</Data></Event>").unwrap_err();
        assert!(e.contains("unknown entity &x;"), "{e}");
    }

    #[test]
    fn nested_and_odd_records_read_like_a_tree() {
        // A record inside another's UserData is a record of its own, in start-tag order; the
        // first System/EventID/EventData wins; text after a child node is not the element's.
        let ts = "Microsoft-Windows-TaskScheduler";
        let text = format!(
            "<Events><Event><System><Provider Name='{ts}'/><EventID>1</EventID><EventID>2</EventID></System>\
<UserData><U><A>a</A><Event><System><Provider EventSourceName='{ts}'/><EventID>3</EventID></System></Event></U></UserData>\
<RenderingInfo><Message> m <b/>tail</Message></RenderingInfo></Event>\n\
<Event><System><Provider Name='{ts}'/><EventID>4<!--x-->5</EventID><Level><![CDATA[2]]></Level></System>\
<EventData><Data Name='n'>v&amp;w</Data><Data/></EventData><System><EventID>9</EventID></System></Event></Events>"
        );
        let p = parse_xml("n.xml", &text).unwrap();
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        let ids: Vec<u32> = p.events.iter().map(|e| e.event_id).collect();
        assert_eq!(ids, [1, 3, 4]);
        let (outer, inner, last) = (&p.events[0], &p.events[1], &p.events[2]);
        assert_eq!(outer.message.as_deref(), Some("m"));
        let data = |e: &EventRecord| {
            e.data
                .iter()
                .map(|d| (d.name.clone().unwrap_or_default(), d.value.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(data(outer), [("A".to_string(), "a".to_string())]);
        assert!(inner.data.is_empty());
        assert_eq!(last.level, Some(2));
        assert_eq!(
            data(last),
            [
                ("n".to_string(), "v&w".to_string()),
                (String::new(), String::new())
            ]
        );
        assert_eq!(
            (outer.location.line, last.location.line),
            (Some(1), Some(2))
        );
    }

    #[test]
    fn ps51_json_array() {
        let text = r#"[
    {
        "Id":  76,
        "Level":  2,
        "RecordId":  3301,
        "ProviderName":  "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider",
        "LogName":  "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
        "TimeCreated":  "\/Date(1795683900123)\/",
        "Properties":  [ { "Value":  "0x0" }, { "Value":  2149056555 } ],
        "Message":  "Auto MDM Enroll: Device Credential (0x0), Failed (Unknown Win32 Error code: 0x8018002b)"
    },
    {
        "Id":  1,
        "ProviderName":  "Microsoft-Windows-Kernel-General",
        "LogName":  "System",
        "TimeCreated":  "\/Date(1795683800000)\/",
        "Properties":  [ "System.Diagnostics.Eventing.Reader.EventProperty" ]
    }
]"#;
        let p = parse_json("e.json", text).unwrap();
        assert_eq!((p.total, p.events.len()), (2, 1));
        let e = &p.events[0];
        assert_eq!(e.time, DateTime::from_timestamp_millis(1_795_683_900_123));
        assert_eq!(e.data.len(), 2);
        assert_eq!(e.data[1].value, "2149056555");
        assert!(e.message.as_deref().unwrap().contains("0x8018002b"));
        assert_eq!(e.location.record.as_deref(), Some("3301"));
        assert_eq!(p.logs.len(), 2);
    }

    #[test]
    fn ps7_json_single_object() {
        let text = r#"{"Id": 75, "LevelDisplayName": "Information", "ProviderName": "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider",
            "LogName": "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin",
            "TimeCreated": "2026-08-03T20:34:56.1234567+02:00", "Properties": ["0x0"], "Message": "Auto MDM Enroll: Device Credential (0x0), Succeeded"}"#;
        let p = parse_json("e.json", text).unwrap();
        let e = &p.events[0];
        assert_eq!(e.level, Some(4));
        assert_eq!(
            e.time.unwrap().to_rfc3339(),
            "2026-08-03T18:34:56.123456700+00:00"
        );
        assert_eq!(e.data[0].value, "0x0");
        assert_eq!(e.location.record.as_deref(), Some("[0]"));
    }

    #[test]
    fn export_csv_with_and_without_type_line() {
        let body = "\"Message\",\"Id\",\"Level\",\"RecordId\",\"ProviderName\",\"LogName\",\"TimeCreated\"\r\n\
\"Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x8018002b)\",\"76\",\"2\",\"3301\",\"Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider\",\"Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin\",\"11/25/2026 2:10:02 PM\"\r\n\
\"Something\",\"7\",\"4\",\"9\",\"Other\",\"System\",\"11/25/2026 2:00:00 PM\"\r\n";
        for text in [
            body.replace("\r\n", "\n"),
            format!(
                "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\n{}",
                body.replace("\r\n", "\n")
            ),
        ] {
            let p = parse_csv("e.csv", &text).unwrap();
            assert_eq!((p.total, p.events.len()), (2, 1));
            let e = &p.events[0];
            assert_eq!(
                (e.event_id, e.level, e.record_id),
                (76, Some(2), Some(3301))
            );
            assert_eq!(e.time.unwrap().to_rfc3339(), "2026-11-25T14:10:02+00:00");
            let expected_line = if text.starts_with("#TYPE") { 3 } else { 2 };
            assert_eq!(e.location.line, Some(expected_line));
        }
    }

    #[test]
    fn event_viewer_csv() {
        let text = "Level,Date and Time,Source,Event ID,Task Category\nError,11/25/2026 2:10:02 PM,DeviceManagement-Enterprise-Diagnostics-Provider,76,None,Auto MDM Enroll: Failed (0x8018002b)\n";
        let p = parse_csv("ev.csv", text).unwrap();
        let e = &p.events[0];
        assert!(e.is_dmedp());
        assert_eq!(e.level, Some(2));
        assert_eq!(
            e.message.as_deref(),
            Some("Auto MDM Enroll: Failed (0x8018002b)")
        );
        assert_eq!(p.logs[0].name, UNKNOWN_LOG);
    }

    #[test]
    fn samples_parse() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/mocks/devices");
        let read = |p: &str| {
            super::super::text::decode(&std::fs::read(format!("{root}/{p}")).unwrap())
                .unwrap()
                .text
        };
        let p = parse_xml("x", &read("failed-8018002b/dmedp-admin.xml")).unwrap();
        assert_eq!(p.events.len(), 2);
        assert!(
            p.events[0]
                .message
                .as_deref()
                .unwrap()
                .contains("0x8018002b")
        );
        let p = parse_xml("x", &read("failed-8018002b/taskscheduler.xml")).unwrap();
        assert_eq!(p.events.iter().filter(|e| e.event_id == 107).count(), 2);
        let p = parse_json("x", &read("stale-enrollment/taskscheduler.json")).unwrap();
        assert!(p.events.iter().any(|e| e.event_id == 7016));
    }

    #[test]
    fn xml_line_numbers_scale_linearly() {
        // Each record's line used to be counted from the start of the document.
        let make = |n: usize| {
            (0..n)
                .map(|i| dmedp_xml(76, i as u64, "2026-11-25T14:10:02Z"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let p = parse_xml("big.xml", &make(50)).unwrap();
        assert_eq!((p.events.len(), p.events[49].location.line), (50, Some(50)));
        crate::device::text::assert_scales_linearly("event XML", 1500, make, |t| {
            assert_eq!(parse_xml("big.xml", t).unwrap().total % 1500, 0);
        });
    }

    #[test]
    fn text_and_csv_exports_scale_linearly() {
        let text = |n: usize| {
            (0..n)
                .map(|i| format!("Event[{i}]:\n  Log Name: System\n  Source: P\n  Event ID: 1\n  Description: \nline one\nline two\n\n"))
                .collect::<String>()
        };
        assert_eq!(parse_text("e.txt", &text(3)).unwrap().total, 3);
        crate::device::text::assert_scales_linearly("wevtutil text", 1500, text, |t| {
            assert_eq!(parse_text("e.txt", t).unwrap().total % 1500, 0);
        });
        let csv = |n: usize| {
            let rows: String = (0..n)
                .map(|i| {
                    format!(
                        "\"m {i}\",\"1\",\"4\",\"{i}\",\"P\",\"System\",\"11/25/2026 2:00:00 PM\"\n"
                    )
                })
                .collect();
            format!(
                "#TYPE x\n\"Message\",\"Id\",\"Level\",\"RecordId\",\"ProviderName\",\"LogName\",\"TimeCreated\"\n{rows}"
            )
        };
        assert_eq!(parse_csv("e.csv", &csv(3)).unwrap().total, 3);
        crate::device::text::assert_scales_linearly("event CSV", 1500, csv, |t| {
            assert_eq!(parse_csv("e.csv", t).unwrap().total % 1500, 0);
        });
    }

    #[test]
    fn many_logs_scale_linearly() {
        // One log per channel name was looked up by a scan of the logs seen so far.
        let make = |n: usize| {
            let items: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"Id": 1, "ProviderName": "P", "LogName": "Log-{i}"}}"#))
                .collect();
            format!("[{}]", items.join(","))
        };
        let p = parse_json("e.json", &make(3)).unwrap();
        assert_eq!(p.logs.len(), 3);
        crate::device::text::assert_scales_linearly("event logs", 4000, make, |t| {
            assert_eq!(parse_json("e.json", t).unwrap().logs.len() % 4000, 0);
        });
    }

    #[test]
    fn nested_user_data_scales_linearly() {
        let make = |n: usize| {
            let open = "<Event><System><Provider Name='P'/><EventID>1</EventID></System><UserData><X>v</X>";
            format!("{}{}", open.repeat(n), "</UserData></Event>".repeat(n))
        };
        let p = parse_xml("n.xml", &make(3)).unwrap();
        assert_eq!(p.total, 3);
        crate::device::text::assert_scales_linearly("nested UserData", 1000, make, |t| {
            assert_eq!(parse_xml("n.xml", t).unwrap().total % 1000, 0);
        });
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,300}") {
            let _ = parse_xml("x", &s);
            let _ = parse_json("x", &s);
            let _ = parse_csv("x", &s);
            let _ = parse_text("x", &s);
        }

        #[test]
        fn text_like_never_panics(parts in proptest::collection::vec("(Event\\[[0-9]\\]:\n|  Log Name: [a-z/]{0,8}\n|  Source: [A-Za-z-]{0,12}\n|  Event ID: [0-9]{0,6}\n|  Date: [0-9T:.-]{0,24}\n|  Level: [A-Za-z]{0,8}\n|  Description: \n|[ -~]{0,20}\n)", 0..20)) {
            let _ = parse_text("x", &parts.concat());
        }

        #[test]
        fn xml_like_never_panics(parts in proptest::collection::vec("(<Event>|</Event>|<System>|</System>|<EventID>[0-9]{0,6}</EventID>|<Provider Name='[ -~&&[^'<&]]{0,20}'/>|<TimeCreated SystemTime='[ -~&&[^'<&]]{0,30}'/>|<Data>[a-z]{0,5}</Data>|<EventData>|</EventData>)", 0..20)) {
            let _ = parse_xml("x", &parts.concat());
        }
    }
}
