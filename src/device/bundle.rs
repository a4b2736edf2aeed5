//! The collector's JSON bundle (`enroll-doctor/device-report@1`, see docs/device-report-schema.md).
//! Raw artifacts are embedded as text, so the artifact parsers are reused as they are.

use serde_json::Value;

mod host;

use super::events;
use super::registry::{self, abbreviate_hive};
use super::report::{
    CollectorContext, DEVICE_REPORT_SCHEMA, DeviceReport, EventLogInfo, Location, RegKey, Registry,
    ScheduledTask,
};
use super::{dsregcmd, text};

/// The collector script, printed by `enroll-doctor collector`.
pub const COLLECTOR_SCRIPT: &str = include_str!("collector.ps1");

/// What a bundle contributes to a device report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedBundle {
    /// Collector context, dsregcmd, events, logs, registry, tasks and OS (no inputs, no label).
    pub report: DeviceReport,
    /// Facts read (fields, events, keys, tasks).
    pub records: usize,
    /// Parts of the bundle that could not be read.
    pub problems: Vec<String>,
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?.get(key).filter(|x| !x.is_null())
}

fn get_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get(v, key).and_then(Value::as_str)
}

fn get_bool(v: &Value, key: &str) -> Option<bool> {
    match get(v, key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn get_i64(v: &Value, key: &str) -> Option<i64> {
    match get(v, key)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok())),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn array<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    match get(v, key) {
        Some(Value::Array(a)) => a.iter().collect(),
        // PowerShell 5.1 writes an array it wrapped in a PSObject as `{"value": [...], "Count": n}`.
        Some(obj @ Value::Object(o)) if o.contains_key("Count") && o.contains_key("value") => {
            match o.get("value") {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(Value::Null) | None => Vec::new(),
                Some(_) => vec![obj],
            }
        }
        // PowerShell 5.1 unrolls one-element arrays in some pipelines.
        Some(obj @ Value::Object(_)) => vec![obj],
        // ... and a one-item string array becomes the bare string.
        Some(s @ Value::String(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// Parses the bundle text. `file` is the bundle's name, used in every fact's location.
pub fn parse(file: &str, text: &str) -> Result<ParsedBundle, String> {
    let root: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("not valid JSON: {e}"))?;
    match get_str(&root, "schema") {
        Some(DEVICE_REPORT_SCHEMA) => {}
        Some(other) => {
            return Err(format!(
                "unsupported schema '{other}' (this version reads {DEVICE_REPORT_SCHEMA})"
            ));
        }
        None => return Err(format!("no \"schema\": \"{DEVICE_REPORT_SCHEMA}\" field")),
    }
    let mut out = ParsedBundle::default();
    let mut collector = CollectorContext::default();
    if let Some(c) = get(&root, "collector") {
        collector.version = get_str(c, "version").map(str::to_string);
        collector.host_name = get_str(c, "hostName").map(str::to_string);
        collector.user = get_str(c, "user").map(str::to_string);
        collector.elevated = get_bool(c, "elevated");
        collector.is_system = get_bool(c, "isSystem");
        collector.collected_at = get(c, "collectedAt").and_then(events::json_time);
        collector.notes = array(c, "notes")
            .into_iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }

    if let Some(d) = get(&root, "dsregcmd") {
        collector.dsregcmd_user = get_str(d, "user").map(str::to_string);
        collector.dsregcmd_elevated = get_bool(d, "elevated");
        collector.dsregcmd_is_system = get_bool(d, "isSystem");
        match get_str(d, "output").or_else(|| d.as_str()) {
            Some(raw) => {
                let parsed = dsregcmd::parse(&format!("{file}#dsregcmd"), &normalise(raw));
                out.records += parsed
                    .sections
                    .iter()
                    .map(|s| s.fields.len())
                    .sum::<usize>();
                out.report.dsregcmd = Some(parsed);
            }
            None => out.problems.push(format!(
                "dsregcmd: {}",
                get_str(d, "error").unwrap_or("no output")
            )),
        }
    }

    for (i, log) in array(&root, "eventLogs").into_iter().enumerate() {
        let log_file = format!("{file}#eventLogs[{i}]");
        let name = get_str(log, "name")
            .unwrap_or(events::UNKNOWN_LOG)
            .to_string();
        if let Some(err) = get_str(log, "error") {
            out.problems.push(format!("event log {name}: {err}"));
        }
        let items = array(log, "events");
        let parsed = events::parse_json_items(&log_file, &items, "");
        out.records += parsed.events.len();
        out.problems.extend(
            parsed
                .skipped
                .iter()
                .map(|s| format!("event log {name}: {s}")),
        );
        // The collector's own view of the log wins over what the exported events suggest.
        let oldest_exported = parsed.events.iter().filter_map(|e| e.time).min();
        out.report.event_logs.push(EventLogInfo {
            name,
            enabled: get_bool(log, "enabled"),
            oldest_record: get(log, "oldestRecord")
                .and_then(events::json_time)
                .or(oldest_exported),
            record_count: get_i64(log, "recordCount").and_then(|n| u64::try_from(n).ok()),
            file: log_file,
        });
        out.report.events.extend(parsed.events);
    }

    let mut keys: Vec<RegKey> = Vec::new();
    let mut any_registry = false;
    for (i, entry) in array(&root, "registry").into_iter().enumerate() {
        any_registry = true;
        let reg_file = format!("{file}#registry[{i}]");
        let key = get_str(entry, "key").unwrap_or("").to_string();
        if let Some(raw) = get_str(entry, "export") {
            let parsed = registry::parse(&reg_file, &normalise(raw));
            out.records += parsed.keys.len();
            if let Some((line, reason)) = parsed.skipped.first() {
                out.problems.push(format!(
                    "registry {key}: {} line(s) not understood, first at line {line}: {reason}",
                    parsed.skipped.len()
                ));
            }
            keys.extend(parsed.keys);
        } else if get_bool(entry, "exists") == Some(true) && get(entry, "keys").is_some() {
            // Collector 2: the key's values as Get-ItemProperty read them.
            let parsed = host::registry_values(&reg_file, entry, &mut out.problems);
            out.records += parsed.len();
            keys.extend(parsed);
            if let Some(err) = get_str(entry, "error") {
                out.problems.push(format!("registry {key}: {err}"));
            }
        } else if get_bool(entry, "exists") == Some(false) && !key.is_empty() {
            // The collector looked and the key is absent: recorded like a `[-KEY]` line, so
            // `Registry::covers` is true and `Registry::key` finds nothing.
            keys.push(RegKey {
                path: abbreviate_hive(&key),
                deleted: true,
                values: Vec::new(),
                location: Location {
                    file: reg_file,
                    line: None,
                    record: Some("key does not exist".into()),
                },
            });
        } else if let Some(err) = get_str(entry, "error") {
            out.problems.push(format!("registry {key}: {err}"));
        }
    }
    if any_registry {
        let reg = Registry { keys };
        out.report.os = registry::os_info(&reg);
        out.report.registry = Some(reg);
    }

    if let Some(t) = get(&root, "scheduledTasks") {
        let tasks = array(t, "tasks");
        match get_str(t, "error") {
            // Not collected (not elevated, or failed): unknown, not "no tasks".
            Some(err) if tasks.is_empty() => {
                out.problems.push(format!("scheduled tasks: {err}"));
            }
            _ => {
                let list: Vec<ScheduledTask> = tasks
                    .iter()
                    .enumerate()
                    .filter_map(|(i, t)| bundle_task(file, i, t))
                    .collect();
                out.records += list.len();
                out.report.scheduled_tasks = Some(list);
            }
        }
    }
    out.report.hardware = host::hardware(file, &root);
    out.report.tpm = host::tpm(file, &root);
    out.report.network = host::network(file, &root, &mut out.problems);
    out.report.clock = host::clock(file, &root, &mut out.problems);
    out.records += [
        out.report.hardware.is_some(),
        out.report.tpm.is_some(),
        out.report.clock.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count()
        + out
            .report
            .network
            .as_ref()
            .map_or(0, |n| n.probes.len() + 1);
    out.report.collector = Some(collector);
    Ok(out)
}

/// Embedded text arrives with CRLF (and possibly a BOM) from PowerShell: normalise like a file.
fn normalise(raw: &str) -> String {
    let mut bytes = Vec::with_capacity(raw.len() + 3);
    bytes.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
    bytes.extend_from_slice(raw.trim_start_matches('\u{feff}').as_bytes());
    text::decode(&bytes).map_or_else(|_| raw.replace("\r\n", "\n"), |d| d.text)
}

fn bundle_task(file: &str, i: usize, t: &Value) -> Option<ScheduledTask> {
    let path = get_str(t, "path")?.to_string();
    let enabled = get_bool(t, "enabled");
    Some(ScheduledTask {
        path,
        status: get_str(t, "state").map(str::to_string),
        // Same words as schtasks' "Scheduled Task State" column.
        state: enabled.map(|e| if e { "Enabled" } else { "Disabled" }.to_string()),
        last_run: get_str(t, "lastRunTime").map(str::to_string),
        last_result: get_i64(t, "lastTaskResult"),
        task_to_run: get_str(t, "taskToRun")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        location: Location {
            file: format!("{file}#scheduledTasks"),
            line: None,
            record: Some(i.to_string()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixture() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/device-bundle/PC0042-enroll-doctor.json"
        ))
        .unwrap()
    }

    #[test]
    fn fixture_bundle_parses_fully() {
        let b = parse("PC0042-enroll-doctor.json", &fixture()).unwrap();
        assert!(b.problems.is_empty(), "{:?}", b.problems);
        let r = &b.report;
        let c = r.collector.as_ref().unwrap();
        assert_eq!(c.host_name.as_deref(), Some("PC0042"));
        assert_eq!(c.elevated, Some(true));
        assert_eq!(c.dsregcmd_elevated, Some(false));
        assert_eq!(c.dsregcmd_user.as_deref(), Some("CONTOSO\\jdoe"));
        let d = r.dsregcmd.as_ref().unwrap();
        assert_eq!(d.yes_no("Device State", "AzureAdJoined"), Some(true));
        assert_eq!(d.yes_no("SSO State", "AzureAdPrt"), Some(true));
        let f = d.field("Device State", "DomainJoined").unwrap();
        assert_eq!(
            d.location(f).to_string(),
            "PC0042-enroll-doctor.json#dsregcmd:7"
        );
        assert_eq!(r.event_logs.len(), 2);
        assert_eq!(r.event_logs[0].enabled, Some(true));
        assert_eq!(r.event_logs[1].enabled, Some(false));
        assert_eq!(r.event_logs[0].record_count, Some(412));
        assert!(r.event_logs[0].oldest_record.is_some());
        let e75 = r.events.iter().find(|e| e.event_id == 75).unwrap();
        assert!(e75.is_dmedp());
        assert_eq!(e75.data[0].value, "0x0");
        let reg = r.registry.as_ref().unwrap();
        let mdm = reg.key(crate::device::report::KEY_MDM_POLICY).unwrap();
        assert_eq!(mdm.value("AutoEnrollMDM").unwrap().data.as_u64(), Some(1));
        assert!(
            reg.subkeys(crate::device::report::KEY_ENROLLMENTS)
                .any(|k| k
                    .value("ProviderID")
                    .is_some_and(|v| v.data.as_text() == "MS DM Server"))
        );
        let os = r.os.as_ref().unwrap();
        assert_eq!((os.build, os.ubr), (Some(26100), Some(7171)));
        let tasks = r.scheduled_tasks.as_ref().unwrap();
        assert!(
            tasks
                .iter()
                .any(|t| t.path.contains("automatically enrolling in MDM"))
        );
        assert_eq!(tasks[0].state.as_deref(), Some("Enabled"));
    }

    #[test]
    fn missing_key_and_unelevated_tasks() {
        let text = r#"{"schema":"enroll-doctor/device-report@1",
            "collector":{"hostName":"PC1","elevated":false,"notes":["scheduled tasks: not elevated"]},
            "registry":[{"key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\MDM","exists":false,"export":null,"error":null}],
            "scheduledTasks":{"error":"not elevated: EnterpriseMgmt tasks are visible to administrators only","tasks":[]}}"#;
        let b = parse("b.json", text).unwrap();
        let reg = b.report.registry.unwrap();
        assert!(reg.covers(crate::device::report::KEY_MDM_POLICY));
        assert!(reg.key(crate::device::report::KEY_MDM_POLICY).is_none());
        assert_eq!(b.report.scheduled_tasks, None);
        assert_eq!(b.problems.len(), 1);
    }

    #[test]
    fn one_part_run_fills_both_contexts() {
        let text = r#"{"schema":"enroll-doctor/device-report@1",
            "collector":{"hostName":"PC1","user":"CONTOSO\\admin","elevated":true,"isSystem":false},
            "dsregcmd":{"user":"CONTOSO\\admin","elevated":true,"isSystem":false,"output":"+----------------------------------------------------------------------+\r\n| Device State |\r\n+----------------------------------------------------------------------+\r\n  AzureAdJoined : YES\r\n"}}"#;
        let b = parse("b.json", text).unwrap();
        let c = b.report.collector.unwrap();
        assert_eq!((c.elevated, c.dsregcmd_elevated), (Some(true), Some(true)));
        let d = b.report.dsregcmd.unwrap();
        assert_eq!(d.field("Device State", "AzureAdJoined").unwrap().line, 4);
    }

    #[test]
    fn wrong_schema_is_rejected() {
        let e = parse("b.json", r#"{"schema":"enroll-doctor/device-report@9"}"#).unwrap_err();
        assert!(e.contains("unsupported schema"), "{e}");
        assert!(parse("b.json", "{").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn script_is_embedded_and_small() {
        assert!(COLLECTOR_SCRIPT.contains(DEVICE_REPORT_SCHEMA));
        assert!(COLLECTOR_SCRIPT.lines().count() < 600);
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = parse("x", &s);
            let _ = parse("x", &format!("{{\"schema\":\"{DEVICE_REPORT_SCHEMA}\",{s}}}"));
        }
    }
}
