//! `reg export` / regedit `.reg` files (version 5.00 and REGEDIT4), and `reg query` output.

use super::report::{KEY_CURRENT_VERSION, Location, OsInfo, RegData, RegKey, RegValue, Registry};

/// The keys of one export, plus the lines that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegExport {
    pub keys: Vec<RegKey>,
    /// `(line, reason)` for each skipped line.
    pub skipped: Vec<(usize, String)>,
}

/// Parses decoded `.reg` text (lines separated by `\n`).
pub fn parse(file: &str, text: &str) -> RegExport {
    let mut out = RegExport::default();
    let mut unicode = true;
    let mut seen_header = false;
    let mut lines = text.lines().enumerate().peekable();
    while let Some((idx, first)) = lines.next() {
        let line_no = idx + 1;
        // Join `\`-continued lines (long hex data) into one logical line, appending each
        // continuation once (no rescan of what was joined). A complete string value such as
        // `"Path"="C:\\dir\\"` ends with its closing quote, never with a backslash, so it
        // does not continue.
        let mut logical = first.trim_end().to_string();
        while logical.ends_with('\\') {
            match lines.next() {
                Some((_, next)) => {
                    logical.pop();
                    logical.push_str(next.trim());
                }
                None => {
                    logical.pop();
                    break;
                }
            }
        }
        let line = logical.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        // Concatenated exports (`type a.reg b.reg`, MdmDiagnosticsTool's registry dump) repeat
        // the header line between blocks: each one is a header, not a bad line.
        if line.eq_ignore_ascii_case("REGEDIT4") {
            if !seen_header {
                unicode = false;
            }
            seen_header = true;
            continue;
        }
        if line.eq_ignore_ascii_case("Windows Registry Editor Version 5.00") {
            seen_header = true;
            continue;
        }
        seen_header = true;
        let location = Location {
            file: file.to_string(),
            line: Some(line_no),
            record: None,
        };
        if line.starts_with('[') && line.ends_with(']') {
            let inner = &line[1..line.len() - 1];
            let (deleted, path) = match inner.strip_prefix('-') {
                Some(p) => (true, p),
                None => (false, inner),
            };
            out.keys.push(RegKey {
                path: abbreviate_hive(path.trim()),
                deleted,
                values: Vec::new(),
                location,
            });
            continue;
        }
        if !(line.starts_with('"') || line.starts_with('@')) {
            out.skipped
                .push((line_no, "neither a [key] nor a \"value\"= line".into()));
            continue;
        }
        let Some(key) = out.keys.last_mut() else {
            out.skipped
                .push((line_no, "value before any [key] line".into()));
            continue;
        };
        match parse_value(line, unicode) {
            Ok((name, data)) => key.values.push(RegValue {
                name,
                data,
                location,
            }),
            Err(reason) => out.skipped.push((line_no, reason)),
        }
    }
    out
}

/// Parses `reg query KEY [/s]` output: a full key path at the start of a line, then one
/// `    Name    REG_TYPE    data` line per value (four-space separators). What admins paste
/// as often as a `reg export`.
pub fn parse_query(file: &str, text: &str) -> RegExport {
    let mut out = RegExport::default();
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim_end();
        let location = Location {
            file: file.to_string(),
            line: Some(line_no),
            record: None,
        };
        if line.trim().is_empty() || line.trim_start().starts_with("End of search:") {
            continue;
        }
        if line.starts_with("HKEY_") || line.starts_with("HKLM\\") || line.starts_with("HKCU\\") {
            out.keys.push(RegKey {
                path: abbreviate_hive(line.trim()),
                deleted: false,
                values: Vec::new(),
                location,
            });
            continue;
        }
        let Some((name, kind, data)) = split_query_value(raw) else {
            out.skipped.push((
                line_no,
                format!(
                    "neither a key path nor a `Name    REG_TYPE    data` line: {}",
                    truncate(line.trim(), 60)
                ),
            ));
            continue;
        };
        let Some(key) = out.keys.last_mut() else {
            out.skipped
                .push((line_no, "value before any key path line".into()));
            continue;
        };
        match query_data(kind, data) {
            Ok(data) => key.values.push(RegValue {
                name: if name == "(Default)" {
                    String::new()
                } else {
                    name.to_string()
                },
                data,
                location,
            }),
            Err(e) => out.skipped.push((line_no, e)),
        }
    }
    out
}

/// `    Name    REG_SZ    data` → (name, type, data); the name may hold single spaces.
fn split_query_value(raw: &str) -> Option<(&str, &str, &str)> {
    let body = raw.strip_prefix("    ")?;
    let at = body.find("    REG_")?;
    let name = body[..at].trim();
    let rest = &body[at + 4..];
    let (kind, data) = match rest.find("    ") {
        Some(i) => (&rest[..i], &rest[i + 4..]),
        None => (rest.trim_end(), ""),
    };
    Some((name, kind.trim(), data.trim_end_matches(['\r', '\n'])))
}

fn query_data(kind: &str, data: &str) -> Result<RegData, String> {
    let number = |d: &str| {
        let d = d.trim();
        let hex = d.strip_prefix("0x").or_else(|| d.strip_prefix("0X"));
        match hex {
            Some(h) => u64::from_str_radix(h, 16).map_err(|e| format!("bad {kind} {d}: {e}")),
            None => d.parse::<u64>().map_err(|e| format!("bad {kind} {d}: {e}")),
        }
    };
    Ok(match kind {
        "REG_SZ" => RegData::Sz(data.to_string()),
        "REG_EXPAND_SZ" => RegData::ExpandSz(data.to_string()),
        "REG_MULTI_SZ" => RegData::MultiSz(
            data.split("\\0")
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        "REG_DWORD" => RegData::Dword(
            u32::try_from(number(data)?).map_err(|_| format!("REG_DWORD out of range: {data}"))?,
        ),
        "REG_QWORD" => RegData::Qword(number(data)?),
        "REG_BINARY" | "REG_NONE" => {
            let d = data.trim();
            if !d.len().is_multiple_of(2) || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("bad {kind} data: {}", truncate(d, 40)));
            }
            let bytes = (0..d.len())
                .step_by(2)
                .filter_map(|i| u8::from_str_radix(&d[i..i + 2], 16).ok())
                .collect();
            if kind == "REG_BINARY" {
                RegData::Binary(bytes)
            } else {
                RegData::Other { kind: 0, bytes }
            }
        }
        other => return Err(format!("value type {other} not read")),
    })
}

/// `HKEY_LOCAL_MACHINE\…` → `HKLM\…` (the rest keeps its case).
pub fn abbreviate_hive(path: &str) -> String {
    let (hive, rest) = match path.find('\\') {
        Some(i) => (&path[..i], &path[i..]),
        None => (path, ""),
    };
    let short = match hive.to_ascii_uppercase().as_str() {
        "HKEY_LOCAL_MACHINE" | "HKLM" => "HKLM",
        "HKEY_CURRENT_USER" | "HKCU" => "HKCU",
        "HKEY_USERS" | "HKU" => "HKU",
        "HKEY_CLASSES_ROOT" | "HKCR" => "HKCR",
        "HKEY_CURRENT_CONFIG" | "HKCC" => "HKCC",
        _ => hive,
    };
    format!("{short}{rest}")
}

/// Reads a `"…"` string with `\\` and `\"` escapes; returns it and what follows.
fn parse_quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => return None,
            },
            '"' => return Some((out, &body[i + 1..])),
            _ => out.push(c),
        }
    }
    None
}

fn parse_value(line: &str, unicode: bool) -> Result<(String, RegData), String> {
    let (name, rest) = if let Some(rest) = line.strip_prefix('@') {
        (String::new(), rest)
    } else {
        parse_quoted(line).ok_or_else(|| "unterminated value name".to_string())?
    };
    let data = rest
        .trim_start()
        .strip_prefix('=')
        .ok_or_else(|| format!("no '=' after value name \"{name}\""))?
        .trim();
    let parsed = parse_data(data, unicode).map_err(|e| format!("value \"{name}\": {e}"))?;
    Ok((name, parsed))
}

fn parse_data(data: &str, unicode: bool) -> Result<RegData, String> {
    if data == "-" {
        return Ok(RegData::Deleted);
    }
    if data.starts_with('"') {
        let (s, rest) = parse_quoted(data).ok_or("unterminated string")?;
        if !rest.trim().is_empty() {
            // MdmDiagnosticsTool's registry dump writes quotes inside a string as they are
            // (`"Data"="{"a":1}"`): a line that ends with a quote is that string, unescaped.
            return match data.strip_prefix('"').and_then(|d| d.strip_suffix('"')) {
                Some(raw) => Ok(RegData::Sz(raw.to_string())),
                None => Err("text after the closing quote".into()),
            };
        }
        return Ok(RegData::Sz(s));
    }
    let lower = data.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("dword:") {
        return u32::from_str_radix(h.trim(), 16)
            .map(RegData::Dword)
            .map_err(|_| format!("bad dword '{}'", h.trim()));
    }
    if let Some(h) = lower.strip_prefix("qword:") {
        return u64::from_str_radix(h.trim(), 16)
            .map(RegData::Qword)
            .map_err(|_| format!("bad qword '{}'", h.trim()));
    }
    if let Some(h) = lower.strip_prefix("hex:") {
        return hex_bytes(h).map(RegData::Binary);
    }
    if let Some(rest) = lower.strip_prefix("hex(") {
        let (kind, bytes) = rest.split_once("):").ok_or("bad hex(N): prefix")?;
        let kind =
            u32::from_str_radix(kind.trim(), 16).map_err(|_| format!("bad type '{kind}'"))?;
        let bytes = hex_bytes(bytes)?;
        return Ok(match kind {
            1 => RegData::Sz(bytes_to_string(&bytes, unicode)),
            2 => RegData::ExpandSz(bytes_to_string(&bytes, unicode)),
            3 => RegData::Binary(bytes),
            4 if bytes.len() == 4 => {
                RegData::Dword(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            }
            5 if bytes.len() == 4 => {
                RegData::Dword(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            }
            7 => RegData::MultiSz(multi_sz(&bytes, unicode)),
            0xb if bytes.len() == 8 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(&bytes);
                RegData::Qword(u64::from_le_bytes(a))
            }
            _ => RegData::Other { kind, bytes },
        });
    }
    Err(format!("unknown data form '{}'", truncate(data, 24)))
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            u8::from_str_radix(p, 16).map_err(|_| format!("bad hex byte '{}'", truncate(p, 8)))
        })
        .collect()
}

/// String bytes of a `hex(2)`/`hex(1)` value, without the terminating NUL.
fn bytes_to_string(bytes: &[u8], unicode: bool) -> String {
    let mut s = if unicode {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    };
    while s.ends_with('\0') {
        s.pop();
    }
    s
}

fn multi_sz(bytes: &[u8], unicode: bool) -> Vec<String> {
    let all = if unicode {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    };
    // Strings are NUL-terminated and the list ends with an empty string.
    let mut list: Vec<String> = all.split('\0').map(str::to_string).collect();
    while list.last().is_some_and(String::is_empty) {
        list.pop();
    }
    list
}

/// OS facts from the `Windows NT\CurrentVersion` key, when it was exported.
pub fn os_info(registry: &Registry) -> Option<OsInfo> {
    let key = registry.key(KEY_CURRENT_VERSION)?;
    let text = |name: &str| {
        key.value(name)
            .map(|v| v.data.as_text().trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let number = |name: &str| {
        key.value(name)
            .and_then(|v| v.data.as_u64())
            .and_then(|n| u32::try_from(n).ok())
    };
    Some(OsInfo {
        build: number("CurrentBuildNumber").or_else(|| number("CurrentBuild")),
        ubr: number("UBR"),
        display_version: text("DisplayVersion").or_else(|| text("ReleaseId")),
        edition_id: text("EditionID"),
        product_name: text("ProductName"),
        location: key.location.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reg_query_output_is_read() {
        let text = [
            "",
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments\\3A4B5C6D-7E8F-4091-A2B3-C4D5E6F70819",
            "    ProviderID    REG_SZ    MS DM Server",
            "    EnrollmentState    REG_DWORD    0x1",
            "    UPN    REG_SZ    ",
            "    Big One    REG_QWORD    0x100000000",
            "    Bin    REG_BINARY    01AB",
            "    Multi    REG_MULTI_SZ    a\\0b",
            "    (Default)    REG_SZ    x",
            "",
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments\\Status",
            "    Broken    REG_DWORD    zz",
            "",
            "End of search: 7 match(es) found.",
        ]
        .join("\n");
        let text = text.as_str();
        let p = parse_query("q.txt", text);
        assert_eq!(p.keys.len(), 2);
        let k = &p.keys[0];
        assert_eq!(
            k.path,
            "HKLM\\SOFTWARE\\Microsoft\\Enrollments\\3A4B5C6D-7E8F-4091-A2B3-C4D5E6F70819"
        );
        assert_eq!(k.location.line, Some(2));
        let v = |n: &str| {
            k.values
                .iter()
                .find(|v| v.name == n)
                .map(|v| v.data.clone())
        };
        assert_eq!(v("ProviderID"), Some(RegData::Sz("MS DM Server".into())));
        assert_eq!(v("EnrollmentState"), Some(RegData::Dword(1)));
        assert_eq!(v("UPN"), Some(RegData::Sz(String::new())));
        assert_eq!(v("Big One"), Some(RegData::Qword(1 << 32)));
        assert_eq!(v("Bin"), Some(RegData::Binary(vec![1, 0xab])));
        assert_eq!(
            v("Multi"),
            Some(RegData::MultiSz(vec!["a".into(), "b".into()]))
        );
        assert_eq!(v(""), Some(RegData::Sz("x".into())));
        assert_eq!(p.skipped.len(), 1, "{:?}", p.skipped);
        assert_eq!(p.skipped[0].0, 12);
    }

    #[test]
    fn concatenated_exports_repeat_the_header() {
        let text = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\A]\n\"x\"=dword:00000001\n\n\
Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\B]\n\"y\"=\"z\"\n";
        let p = parse("dump.reg", text);
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
        assert_eq!(p.keys.len(), 2);
        assert_eq!(p.keys[1].location.line, Some(8));
    }

    const EXPORT: &str = "Windows Registry Editor Version 5.00\n\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments\\2B8E1F0C-7D6A-4B59-8C3D-E2F1A0B9C8D7]\n\
\"ProviderID\"=\"WorkspaceONE\"\n\
\"Path\"=\"C:\\\\Program Files\\\\x\\\\\"\n\
\"Quote\"=\"say \\\"hi\\\"\"\n\
@=\"default\"\n\
\"EnrollmentState\"=dword:00000001\n\
\"Big\"=qword:0000000100000000\n\
\"SupportedProtocols\"=hex(7):31,00,2e,00,32,00,00,00,31,00,2e,00,33,00,00,00,00,00\n\
\"CertRenewTimeStamp\"=hex(b):00,c0,e8,2c,9e,52,da,01\n\
\"Expand\"=hex(2):25,00,77,00,69,00,6e,00,64,00,69,00,72,00,25,00,5c,00,\\\n\
  78,00,00,00\n\
\"Bin\"=hex:01,02,\\\n  ff\n\
\"None\"=hex(0):\n\
\"D4\"=hex(4):0a,00,00,00\n\
\"Res\"=hex(8):aa,bb\n\
\"Gone\"=-\n\
\n\
[-HKEY_CURRENT_USER\\Software\\Old]\n\
\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]\n\
\"CurrentBuild\"=\"22631\"\n\
\"UBR\"=dword:000017ac\n\
\"ReleaseId\"=\"2009\"\n\
\"EditionID\"=\"Enterprise\"\n\
\"ProductName\"=\"Windows 10 Enterprise\"\n\
garbage line\n";

    #[test]
    fn parses_every_value_form() {
        let r = parse("enrollments.reg", EXPORT);
        assert_eq!(r.keys.len(), 3);
        let k = &r.keys[0];
        assert_eq!(
            k.path,
            "HKLM\\SOFTWARE\\Microsoft\\Enrollments\\2B8E1F0C-7D6A-4B59-8C3D-E2F1A0B9C8D7"
        );
        assert_eq!(k.location.line, Some(3));
        let v = |n: &str| k.values.iter().find(|v| v.name == n).unwrap().data.clone();
        assert_eq!(v("ProviderID"), RegData::Sz("WorkspaceONE".into()));
        assert_eq!(v("Path"), RegData::Sz("C:\\Program Files\\x\\".into()));
        assert_eq!(v("Quote"), RegData::Sz("say \"hi\"".into()));
        assert_eq!(v(""), RegData::Sz("default".into()));
        assert_eq!(v("EnrollmentState"), RegData::Dword(1));
        assert_eq!(v("Big"), RegData::Qword(1 << 32));
        assert_eq!(
            v("SupportedProtocols"),
            RegData::MultiSz(vec!["1.2".into(), "1.3".into()])
        );
        assert_eq!(
            v("CertRenewTimeStamp"),
            RegData::Qword(0x01da_529e_2ce8_c000)
        );
        assert_eq!(v("Expand"), RegData::ExpandSz("%windir%\\x".into()));
        assert_eq!(v("Bin"), RegData::Binary(vec![1, 2, 0xff]));
        assert_eq!(
            v("None"),
            RegData::Other {
                kind: 0,
                bytes: vec![]
            }
        );
        assert_eq!(v("D4"), RegData::Dword(10));
        assert_eq!(
            v("Res"),
            RegData::Other {
                kind: 8,
                bytes: vec![0xaa, 0xbb]
            }
        );
        assert_eq!(v("Gone"), RegData::Deleted);
        assert!(k.value("Gone").is_none());
        // Line of a continued value is its first line.
        let bin = k.values.iter().find(|v| v.name == "Bin").unwrap();
        assert_eq!(bin.location.line, Some(14));
        assert!(r.keys[1].deleted);
        assert_eq!(r.keys[1].path, "HKCU\\Software\\Old");
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.skipped[0].0, 29);

        let reg = Registry { keys: r.keys };
        let os = os_info(&reg).unwrap();
        assert_eq!(os.build, Some(22631));
        assert_eq!(os.ubr, Some(0x17ac));
        assert_eq!(os.display_version.as_deref(), Some("2009"));
        assert_eq!(os.edition_id.as_deref(), Some("Enterprise"));
        assert!(
            reg.key("HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion")
                .is_some()
        );
    }

    #[test]
    fn regedit4_strings_are_bytes() {
        let r = parse(
            "a.reg",
            "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\X]\n\"E\"=hex(2):41,42,00\n",
        );
        assert_eq!(r.keys[0].values[0].data, RegData::ExpandSz("AB".into()));
        assert!(r.skipped.is_empty());
    }

    #[test]
    fn utf16_sample_exports_parse() {
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/mocks/devices/stale-enrollment"
        );
        let bytes = std::fs::read(format!("{root}/enrollments.reg")).unwrap();
        let text = super::super::text::decode(&bytes).unwrap().text;
        let r = parse("enrollments.reg", &text);
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        let reg = Registry { keys: r.keys };
        let stale = reg
            .key(r"HKLM\SOFTWARE\Microsoft\Enrollments\2B8E1F0C-7D6A-4B59-8C3D-E2F1A0B9C8D7")
            .unwrap();
        assert_eq!(
            stale.value("ProviderID").unwrap().data.as_text(),
            "WorkspaceONE"
        );
        assert_eq!(
            reg.subkeys(r"HKLM\SOFTWARE\Microsoft\Enrollments").count(),
            6
        );
    }

    #[test]
    fn continuation_lines_scale_linearly() {
        // Every continuation line used to rescan the value joined so far.
        let make = |n: usize| {
            format!(
                "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\n\"Bin\"=hex:{}00\n\"After\"=dword:00000001\n",
                "01,02,03,04,05,06,07,08,\\\n  ".repeat(n)
            )
        };
        let r = parse("big.reg", &make(2));
        assert_eq!(
            r.keys[0].values[0].data,
            RegData::Binary(
                [1, 2, 3, 4, 5, 6, 7, 8]
                    .repeat(2)
                    .into_iter()
                    .chain([0])
                    .collect()
            )
        );
        assert_eq!(r.keys[0].values[1].location.line, Some(7));
        crate::device::text::assert_scales_linearly(".reg continuation lines", 4000, make, |t| {
            assert!(parse("big.reg", t).skipped.is_empty());
        });
    }

    /// MdmDiagnosticsTool's `MdmDiagReport_RegistryDump.reg`: no header line, values indented,
    /// `DWORD:` in capitals, quotes inside strings left unescaped, and blocks that may repeat
    /// the header when several exports are concatenated.
    #[test]
    fn mdm_diagnostics_registry_dump_is_read() {
        let text = [
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments\\5C1E7A3B-9D24-4E6F-8A1B-2C3D4E5F6071]",
            "    \"EnrollmentState\"=DWORD:00000001",
            "    \"ProviderID\"=\"MS DM Server\"",
            "    \"Json\"=\"{\"a\":\"b\"}\"",
            "    @=\"x\"",
            "",
            "Windows Registry Editor Version 5.00",
            "",
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\MDM]",
            "    \"AutoEnrollMDM\"=dword:00000001",
        ]
        .join("\r\n");
        let r = parse("MdmDiagReport_RegistryDump.reg", &text);
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        assert_eq!(r.keys.len(), 2);
        let k = &r.keys[0];
        assert_eq!(k.values[0].data, RegData::Dword(1));
        assert_eq!(k.values[2].data, RegData::Sz("{\"a\":\"b\"}".into()));
        assert_eq!(k.values[3].name, "");
        assert_eq!(r.keys[1].values[0].data, RegData::Dword(1));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,400}") {
            let _ = parse("x", &s);
        }

        #[test]
        fn value_lines_never_panic(lines in proptest::collection::vec("(\\[[ -~]{0,30}\\]|\"[ -~]{0,10}\"=(hex(\\([0-9a-f]{1,2}\\))?:[0-9a-f, ]{0,30}\\\\?|dword:[0-9a-f]{0,9}|\"[ -~]{0,20}|-)|@=[ -~]{0,10})", 0..30)) {
            let _ = parse("x", &format!("Windows Registry Editor Version 5.00\n{}", lines.join("\n")));
        }
    }
}
