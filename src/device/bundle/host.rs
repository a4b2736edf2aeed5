//! The bundle's machine sections (`hardware`, `tpm`, `network`, `clock`; collector version 2)
//! and the registry entries it writes as values (`keys`) instead of `reg export` text. The raw
//! tool outputs it carries (`netsh winhttp show proxy`, `w32tm /query /status`,
//! `tpmtool getdeviceinformation`) go through the same parsers as loose files.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{array, get, get_bool, get_i64, get_str, normalise};
use crate::device::events;
use crate::device::host::{ClockEvidence, EndpointProbe, HardwareInfo, NetworkEvidence, TpmInfo};
use crate::device::netsh;
use crate::device::registry::abbreviate_hive;
use crate::device::report::{Location, RegData, RegKey, RegValue};
use crate::device::w32tm::{self, W32tmContext};

/// At most this many bytes of one binary value are kept (the collector writes at most 4 KiB).
const MAX_BINARY: usize = 64 * 1024;

fn text(v: &Value, key: &str) -> Option<String> {
    match get(v, key)? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn at(file: &str, section: &str) -> Location {
    Location {
        file: format!("{file}#{section}"),
        line: None,
        record: None,
    }
}

/// A tool-output object (`{command, output, exitCode, error}`) or a bare string: its text.
fn tool_output(v: &Value) -> (Option<&str>, Option<&str>) {
    match v {
        Value::String(s) => (Some(s.as_str()), None),
        _ => (get_str(v, "output"), get_str(v, "error")),
    }
}

pub(super) fn hardware(file: &str, root: &Value) -> Option<HardwareInfo> {
    let h = get(root, "hardware")?;
    Some(HardwareInfo {
        manufacturer: text(h, "manufacturer"),
        model: text(h, "model"),
        serial_number: text(h, "serialNumber"),
        error: text(h, "error"),
        location: at(file, "hardware"),
    })
}

pub(super) fn tpm(file: &str, root: &Value) -> Option<TpmInfo> {
    let t = get(root, "tpm")?;
    // `tpmtool getdeviceinformation`, read by the same parser as a loose tpmtool file.
    let tool = get(t, "tpmtool")
        .map(tool_output)
        .and_then(|(out, _)| out)
        .and_then(|out| crate::device::autopilot_files::parse_tpmtool(file, out).ok())
        .unwrap_or_default();
    Some(TpmInfo {
        present: get_bool(t, "present").or(tool.present),
        ready: get_bool(t, "ready"),
        enabled: get_bool(t, "enabled"),
        activated: get_bool(t, "activated"),
        spec_version: text(t, "specVersion").or(tool.spec_version),
        manufacturer: text(t, "manufacturer").or(tool.manufacturer),
        manufacturer_version: text(t, "manufacturerVersion").or(tool.manufacturer_version),
        attestation_capable: get_bool(t, "attestationCapable").or(tool.attestation_capable),
        attestation_ready: get_bool(t, "attestationReady").or(tool.attestation_ready),
        error: text(t, "error"),
        location: at(file, "tpm"),
    })
}

pub(super) fn network(
    file: &str,
    root: &Value,
    problems: &mut Vec<String>,
) -> Option<NetworkEvidence> {
    let n = get(root, "network")?;
    let mut out = NetworkEvidence {
        probed_as_system: get_bool(n, "probedAsSystem"),
        error: text(n, "error"),
        ..NetworkEvidence::default()
    };
    if let Some(w) = get(n, "winhttpProxy") {
        match tool_output(w) {
            (Some(raw), _) => {
                match netsh::parse(&format!("{file}#network.winhttpProxy"), &normalise(raw)) {
                    Ok(p) => out.winhttp_proxy = Some(p),
                    Err(e) => problems.push(format!("network: {e}")),
                }
            }
            (None, Some(err)) => problems.push(format!("network: netsh winhttp: {err}")),
            (None, None) => {}
        }
    }
    out.probes = array(n, "probes")
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| probe(file, i, p))
        .collect();
    Some(out)
}

/// A `Date` header (RFC 1123) or an ISO / `\/Date(ms)\/` time.
fn time(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    let raw = get(v, key)?;
    if let Some(s) = raw.as_str()
        && let Ok(t) = DateTime::parse_from_rfc2822(s.trim())
    {
        return Some(t.with_timezone(&Utc));
    }
    events::json_time(raw)
}

fn probe(file: &str, i: usize, v: &Value) -> Option<EndpointProbe> {
    let url = get_str(v, "url")?.to_string();
    let http_status = get_i64(v, "httpStatus")
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| *s > 0);
    let error_status = text(v, "errorStatus");
    let mut dns = get_bool(v, "dns");
    let mut tcp = get_bool(v, "tcp");
    let mut tls = get_bool(v, "tls");
    if http_status.is_some() {
        // An HTTP answer over https: the name resolved, the connection and TLS completed and
        // PowerShell trusted the chain.
        dns.get_or_insert(true);
        tcp.get_or_insert(true);
        tls.get_or_insert(true);
    } else if let Some(status) = error_status.as_deref() {
        let (d, c, t) = classify(status);
        if d.is_some() {
            dns = d;
        }
        tcp = tcp.or(c);
        tls = tls.or(t);
        if c == Some(true) {
            dns.get_or_insert(true);
        }
    }
    Some(EndpointProbe {
        url,
        role: text(v, "role"),
        dns,
        tcp,
        tls,
        http_status,
        certificate_issuer: text(v, "certificateIssuer"),
        certificate_subject: text(v, "certificateSubject"),
        via_proxy: text(v, "viaProxy"),
        server_date: time(v, "serverDate"),
        local_time: time(v, "localTime"),
        error: text(v, "error"),
        error_status,
        certificate_policy_errors: text(v, "certificatePolicyErrors")
            .filter(|e| !e.eq_ignore_ascii_case("None")),
        note: text(v, "note"),
        location: Location {
            file: format!("{file}#network.probes"),
            line: None,
            record: Some(i.to_string()),
        },
    })
}

/// What a failure class says about (name resolution, connection, TLS). Windows PowerShell 5.1
/// reports `WebExceptionStatus`, PowerShell 7.4 `HttpRequestError`.
fn classify(status: &str) -> (Option<bool>, Option<bool>, Option<bool>) {
    match status.trim() {
        "NameResolutionFailure" | "NameResolutionError" => (Some(false), Some(false), None),
        "ConnectFailure"
        | "ConnectionError"
        | "ProxyNameResolutionFailure"
        | "ProxyTunnelError" => (None, Some(false), None),
        "TrustFailure" | "SecureChannelFailure" | "SecureConnectionError" => {
            (None, Some(true), Some(false))
        }
        "ProtocolError" | "HttpProtocolError" => (Some(true), Some(true), Some(true)),
        _ => (None, None, None),
    }
}

pub(super) fn clock(file: &str, root: &Value, problems: &mut Vec<String>) -> Option<ClockEvidence> {
    let c = get(root, "clock")?;
    let queried_at = time(c, "queriedAt");
    let utc_offset_minutes = get_i64(c, "utcOffsetMinutes").and_then(|m| i32::try_from(m).ok());
    let location = at(file, "clock");
    let (raw, err) = tool_output(c);
    let Some(raw) = raw else {
        return Some(ClockEvidence {
            queried_at,
            utc_offset_minutes,
            error: err
                .map(str::to_string)
                .or(Some("w32tm gave no output".into())),
            location,
            ..ClockEvidence::default()
        });
    };
    let ctx = W32tmContext {
        utc_offset_minutes,
        queried_at,
        short_date_pattern: get_str(c, "shortDatePattern"),
        long_time_pattern: get_str(c, "longTimePattern"),
    };
    match w32tm::parse(&location.file, &normalise(raw), &ctx) {
        Ok(clock) => Some(clock),
        Err(e) => {
            problems.push(format!("clock: {e}"));
            Some(ClockEvidence {
                queried_at,
                utc_offset_minutes,
                note: Some(e),
                location,
                ..ClockEvidence::default()
            })
        }
    }
}

/// A registry entry written as values (`keys: [{path, values: [{name, type, data}]}]`).
pub(super) fn registry_values(
    reg_file: &str,
    entry: &Value,
    problems: &mut Vec<String>,
) -> Vec<RegKey> {
    let mut out = Vec::new();
    let mut bad = 0usize;
    for (j, k) in array(entry, "keys").into_iter().enumerate() {
        let Some(path) = get_str(k, "path").filter(|p| !p.trim().is_empty()) else {
            bad += 1;
            continue;
        };
        let location = Location {
            file: reg_file.to_string(),
            line: None,
            record: Some(format!("keys[{j}]")),
        };
        let mut values = Vec::new();
        for v in array(k, "values") {
            // No name: the default value, as `(default)` is written.
            let name = match get(v, "name") {
                None => Some(""),
                Some(Value::String(n)) => Some(n.as_str()),
                Some(_) => None,
            };
            match (name, reg_data(v)) {
                (Some(name), Some(data)) => values.push(RegValue {
                    name: name.to_string(),
                    data,
                    location: location.clone(),
                }),
                _ => bad += 1,
            }
        }
        out.push(RegKey {
            path: abbreviate_hive(path.trim()),
            deleted: false,
            values,
            location,
        });
    }
    if bad > 0 {
        let key = get_str(entry, "key").unwrap_or("");
        problems.push(format!(
            "registry {key}: {bad} key(s) or value(s) not understood"
        ));
    }
    out
}

fn reg_data(v: &Value) -> Option<RegData> {
    let ty = get_str(v, "type")
        .unwrap_or("REG_SZ")
        .trim()
        .to_ascii_uppercase();
    let data = v.as_object()?.get("data").unwrap_or(&Value::Null);
    let number = |d: &Value| -> Option<i128> {
        match d {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from)),
            Value::String(s) => {
                let s = s.trim();
                match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    Some(h) => i128::from_str_radix(h, 16).ok(),
                    None => s.parse().ok(),
                }
            }
            _ => None,
        }
    };
    let string = |d: &Value| -> Option<String> {
        match d {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => Some(String::new()),
            _ => None,
        }
    };
    Some(match ty.as_str() {
        "REG_DWORD" => {
            let n = number(data)?;
            // Get-ItemProperty returns a DWORD as a signed Int32.
            let n = if n < 0 { n + (1i128 << 32) } else { n };
            RegData::Dword(u32::try_from(n).ok()?)
        }
        "REG_QWORD" => {
            let n = number(data)?;
            let n = if n < 0 { n + (1i128 << 64) } else { n };
            RegData::Qword(u64::try_from(n).ok()?)
        }
        "REG_EXPAND_SZ" => RegData::ExpandSz(string(data)?),
        "REG_MULTI_SZ" => RegData::MultiSz(match data {
            // PowerShell 5.1 may write a one-item array as the bare item.
            Value::Array(items) => items.iter().filter_map(string).collect(),
            Value::Object(_) => array(v, "data").into_iter().filter_map(string).collect(),
            other => vec![string(other)?],
        }),
        "REG_BINARY" => RegData::Binary(hex(data.as_str().unwrap_or(""))?),
        "REG_NONE" => RegData::Other {
            kind: 0,
            bytes: Vec::new(),
        },
        _ => RegData::Sz(string(data)?),
    })
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !matches!(c, ',' | ' ')).collect();
    if !s.len().is_multiple_of(2) || s.len() / 2 > MAX_BINARY {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn registry_values_keep_types() {
        let entry = json!({"key": "HKLM\\SOFTWARE\\Microsoft\\CCM", "exists": true, "keys": [
        {"path": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\CCM", "values": [
            {"name": "CoManagementFlags", "type": "REG_DWORD", "data": 8193},
            {"name": "Neg", "type": "REG_DWORD", "data": -1},
            {"name": "Q", "type": "REG_QWORD", "data": "-2"},
            {"name": "M", "type": "REG_MULTI_SZ", "data": "only"},
            {"name": "B", "type": "REG_BINARY", "data": "01ab"},
            {"name": "", "type": "REG_SZ", "data": "default"}
        ]}]});
        let mut problems = Vec::new();
        let keys = registry_values("b.json#registry[0]", &entry, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let k = &keys[0];
        assert_eq!(k.path, r"HKLM\SOFTWARE\Microsoft\CCM");
        assert_eq!(
            k.value("CoManagementFlags").unwrap().data,
            RegData::Dword(8193)
        );
        assert_eq!(k.value("Neg").unwrap().data, RegData::Dword(u32::MAX));
        assert_eq!(k.value("Q").unwrap().data, RegData::Qword(u64::MAX - 1));
        assert_eq!(
            k.value("M").unwrap().data,
            RegData::MultiSz(vec!["only".into()])
        );
        assert_eq!(k.value("B").unwrap().data, RegData::Binary(vec![1, 0xab]));
        assert_eq!(k.value("").unwrap().data.as_text(), "default");
        assert_eq!(k.location.to_string(), "b.json#registry[0] record keys[0]");
    }

    #[test]
    fn probe_failures_are_classified() {
        let p = probe(
            "b",
            0,
            &json!({"url": "https://x", "errorStatus": "NameResolutionFailure"}),
        )
        .unwrap();
        assert_eq!((p.dns, p.tcp, p.tls), (Some(false), Some(false), None));
        let p = probe(
            "b",
            0,
            &json!({"url": "https://x", "errorStatus": "TrustFailure", "dns": true}),
        )
        .unwrap();
        assert_eq!((p.dns, p.tcp, p.tls), (Some(true), Some(true), Some(false)));
        let p = probe("b", 1, &json!({"url": "https://x", "httpStatus": 302,
            "serverDate": "Thu, 26 Nov 2026 09:05:12 GMT", "localTime": "2026-11-26T09:12:40.0000000Z",
            "certificatePolicyErrors": "None"})).unwrap();
        assert_eq!((p.dns, p.tcp, p.tls), (Some(true), Some(true), Some(true)));
        assert_eq!(
            p.server_date.unwrap().to_rfc3339(),
            "2026-11-26T09:05:12+00:00"
        );
        assert!(p.local_time.is_some());
        assert_eq!(p.certificate_policy_errors, None);
        assert_eq!(p.location.to_string(), "b#network.probes record 1");
    }

    proptest! {
        #[test]
        fn sections_never_panic(s in "\\PC{0,200}", n in any::<i64>()) {
            let root = json!({
                "hardware": {"manufacturer": s, "serialNumber": n},
                "tpm": {"present": s, "tpmtool": {"output": s}},
                "network": {"winhttpProxy": {"output": s}, "probes": [{"url": s, "httpStatus": n, "serverDate": s, "errorStatus": s}]},
                "clock": {"output": s, "utcOffsetMinutes": n, "shortDatePattern": s, "longTimePattern": s},
            });
            let mut problems = Vec::new();
            let _ = hardware("f", &root);
            let _ = tpm("f", &root);
            let _ = network("f", &root, &mut problems);
            let _ = clock("f", &root, &mut problems);
            let entry = json!({"keys": [{"path": s, "values": [
                {"name": s, "type": "REG_DWORD", "data": n},
                {"name": s, "type": "REG_BINARY", "data": s},
                {"name": s, "type": s, "data": s}]}]});
            let _ = registry_values("f", &entry, &mut problems);
        }
    }
}
