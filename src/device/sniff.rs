//! Which artifact a decoded text is, judged by its content only.

use super::report::{ArtifactKind, DEVICE_REPORT_SCHEMA};

/// Number of fields in a `schtasks /query /fo csv /v` row (fixed whatever the display language).
pub const SCHTASKS_COLUMNS: usize = 28;

/// How much of the text the sniffer reads; every format announces itself early.
pub(crate) const HEAD: usize = 8 * 1024;

/// Detects the artifact kind of decoded text.
pub fn sniff(text: &str) -> ArtifactKind {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.is_empty() {
        return ArtifactKind::Unrecognised;
    }
    let head = head(body, HEAD);
    match body.as_bytes()[0] {
        // `[HKEY_…]` opens a registry dump without its header line, not a JSON array.
        b'{' | b'[' if !body.starts_with("[HKEY_") => return sniff_json(body, head),
        b'<' => {
            return if head.contains("<MDMEnterpriseDiagnosticsReport") {
                ArtifactKind::MdmDiagReport
            } else if has_event_tag(head) {
                ArtifactKind::EventXml
            } else {
                ArtifactKind::Unrecognised
            };
        }
        _ => {}
    }
    let first_line = head.lines().next().unwrap_or("").trim();
    if first_line.eq_ignore_ascii_case("Windows Registry Editor Version 5.00")
        || first_line.eq_ignore_ascii_case("REGEDIT4")
        // MdmDiagnosticsTool's MdmDiagReport_RegistryDump.reg starts at its first key.
        || (first_line.starts_with("[HKEY_") && first_line.ends_with(']'))
    {
        return ArtifactKind::RegistryExport;
    }
    if looks_like_dsregcmd(head) {
        return ArtifactKind::Dsregcmd;
    }
    if looks_like_reg_query(head) {
        return ArtifactKind::RegistryQuery;
    }
    if looks_like_event_text(head) {
        return ArtifactKind::EventText;
    }
    if let Some(kind) = super::autopilot_files::sniff_text(head) {
        return kind;
    }
    if super::netsh::looks_like(head) {
        return ArtifactKind::WinHttpProxy;
    }
    if super::w32tm::looks_like(head) {
        return ArtifactKind::W32tm;
    }
    sniff_csv(head)
}

/// `reg query`: a full key path (`HKEY_LOCAL_MACHINE\…`) on the first line, then indented
/// `Name    REG_TYPE    data` lines (or more key paths, for a key without values).
fn looks_like_reg_query(head: &str) -> bool {
    let mut lines = head.lines().filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    first.starts_with("HKEY_")
        && !first.contains(['[', '='])
        && lines.take(5).any(|l| {
            let l = l.trim_end();
            l.starts_with("HKEY_") || (l.starts_with("    ") && l.contains("    REG_"))
        })
}

/// `wevtutil qe … /f:text` starts with `Event[0]:`; Event Viewer's "Copy details as text"
/// starts with `Log Name:`. Either way `Event ID:` and `Source:` lines follow.
fn looks_like_event_text(head: &str) -> bool {
    let mut lines = head.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    let starts_block = (first.starts_with("Event[") && first.ends_with("]:"))
        || first.to_ascii_lowercase().starts_with("log name:");
    starts_block
        && head
            .lines()
            .take(20)
            .any(|l| l.trim_start().to_ascii_lowercase().starts_with("event id:"))
}

/// Why a file that was read is not used: says what it looks like, so nothing is dropped silently.
pub fn why_unrecognised(name: &str, text: &str) -> String {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let lower_head = head(body, HEAD).to_ascii_lowercase();
    let lower_name = name.to_ascii_lowercase();
    if body.is_empty() {
        "empty file".to_string()
    } else if lower_head.starts_with("<!doctype html") || lower_head.starts_with("<html") {
        "an HTML report, written for people and not read here; MdmDiagnosticsTool puts the same \
         facts in MDMDiagReport.xml and MdmDiagReport_RegistryDump.reg (pass the whole zip), and \
         event logs are read as .evtx or as text (`wevtutil qe LOG /f:xml`)"
            .to_string()
    } else if lower_name.ends_with("mdmdiaglogmetadata.json")
        || lower_name.ends_with("mdmlogcollectorfootprint.txt")
    {
        "MdmDiagnosticsTool's own metadata/log: holds no enrollment facts".to_string()
    } else if body.starts_with('{') || body.starts_with('[') {
        "JSON that is neither Get-WinEvent output (no Id/ProviderName) nor a collector bundle"
            .to_string()
    } else if body.starts_with('<') {
        "XML that holds no <Event> records and is not MdmDiagnosticsTool's MDMDiagReport.xml"
            .to_string()
    } else {
        "not recognised as a device artifact (expected dsregcmd /status output, a .reg export, \
         an event export as XML, JSON, CSV or wevtutil text, or schtasks CSV)"
            .to_string()
    }
}

fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `<Event>`, `<Event xmlns=…>` or `<Events>`, not `<EventLog…>` or other look-alikes.
fn has_event_tag(head: &str) -> bool {
    head.match_indices("<Event").any(|(i, _)| {
        let rest = &head[i + "<Event".len()..];
        let rest = rest.strip_prefix('s').unwrap_or(rest);
        rest.starts_with([' ', '>', '/', '\t', '\n'])
    })
}

/// Any version of the bundle schema: another version is still a bundle, and the bundle parser
/// then says which version it found instead of "not recognised".
const DEVICE_REPORT_SCHEMA_ANY_VERSION: &str = "enroll-doctor/device-report@";

fn sniff_json(body: &str, head: &str) -> ArtifactKind {
    debug_assert!(DEVICE_REPORT_SCHEMA.starts_with(DEVICE_REPORT_SCHEMA_ANY_VERSION));
    if head.contains(DEVICE_REPORT_SCHEMA_ANY_VERSION) {
        return ArtifactKind::Bundle;
    }
    // Get-WinEvent objects always carry these property names, in either PowerShell version.
    let has = |k: &str| head.contains(&format!("\"{k}\""));
    if has("Id") && (has("ProviderName") || has("LogName") || has("TimeCreated")) {
        return ArtifactKind::EventJson;
    }
    // An Autopilot profile (AutopilotDDSZTDFile.json, AutopilotConfigurationFile.json).
    if has("CloudAssignedTenantId") || has("ZtdCorrelationId") {
        return ArtifactKind::AutopilotProfile;
    }
    // A bundle written by a newer collector may put `schema` after a long block: look once more.
    if body.len() > head.len()
        && body.contains("\"schema\"")
        && body.contains(DEVICE_REPORT_SCHEMA_ANY_VERSION)
    {
        return ArtifactKind::Bundle;
    }
    super::autopilot_files::sniff_json(head).unwrap_or(ArtifactKind::Unrecognised)
}

/// `+------+` border followed by a `| Title |` line, or (for a capture without borders) field
/// lines of the Device State section.
pub(crate) fn looks_like_dsregcmd(head: &str) -> bool {
    let mut prev_border = false;
    let mut join_fields = 0;
    for line in head.lines() {
        let t = line.trim();
        if prev_border && t.starts_with('|') {
            return true;
        }
        prev_border = is_border(t);
        if let Some((name, _)) = t.split_once(':') {
            let name = name.trim();
            if ["AzureAdJoined", "DomainJoined", "EnterpriseJoined"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n))
            {
                join_fields += 1;
            }
        }
    }
    join_fields >= 2
}

/// `+` + dashes + `+` (70 dashes in real output; any run of at least ten is accepted).
pub(crate) fn is_border(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 12
        && t.starts_with('+')
        && t.ends_with('+')
        && t[1..t.len() - 1].bytes().all(|b| b == b'-')
}

/// Event Viewer's CSV on a non-English Windows: the five header labels are translated
/// (`Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie`) but the shape is not: five
/// header cells, rows of six with a numeric event id in the fourth.
pub(crate) fn is_localised_event_viewer_csv(head: &str) -> bool {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(head.as_bytes());
    let mut records = reader.records();
    let Some(Ok(header)) = records.next() else {
        return false;
    };
    if header.len() != 5 || header.iter().any(|c| c.trim().is_empty()) {
        return false;
    }
    let Some(Ok(row)) = records.next() else {
        return false;
    };
    row.len() == 6
        && row
            .get(3)
            .is_some_and(|id| !id.is_empty() && id.trim().bytes().all(|b| b.is_ascii_digit()))
        && row.get(2).is_some_and(|src| !src.trim().is_empty())
}

fn sniff_csv(head: &str) -> ArtifactKind {
    let mut lines = head.lines().filter(|l| !l.trim().is_empty());
    let Some(mut first) = lines.next() else {
        return ArtifactKind::Unrecognised;
    };
    if first.trim_start().starts_with("#TYPE") {
        if first.contains("EventLogRecord") || first.contains("EventRecord") {
            return ArtifactKind::EventCsv;
        }
        match lines.next() {
            Some(l) => first = l,
            None => return ArtifactKind::Unrecognised,
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(first.as_bytes());
    let Some(Ok(record)) = reader.records().next() else {
        return ArtifactKind::Unrecognised;
    };
    let cells: Vec<&str> = record.iter().map(str::trim).collect();
    if cells.len() < 3 {
        return ArtifactKind::Unrecognised;
    }
    let has = |name: &str| cells.iter().any(|c| c.eq_ignore_ascii_case(name));
    if (has("Id") && (has("ProviderName") || has("TimeCreated") || has("LogName")))
        || (has("Event ID") && has("Source"))
    {
        return ArtifactKind::EventCsv;
    }
    // The Autopilot import format, as MdmDiagnosticsTool's DeviceHash_<name>.csv writes it.
    if has("Device Serial Number") && has("Hardware Hash") {
        return ArtifactKind::AutopilotHash;
    }
    if is_localised_event_viewer_csv(head) {
        return ArtifactKind::EventCsv;
    }
    // Labels are localised, positions are not: 28 fields, and a task path in column 1 of a
    // data row (or of the first row itself under `/nh`).
    if cells.len() == SCHTASKS_COLUMNS
        && (cells[1].starts_with('\\') || cells[1].eq_ignore_ascii_case("TaskName") || {
            // First row is a (localised) header: look at the next row for a task path.
            head.lines().skip(1).any(|l| l.contains(",\"\\"))
        })
    {
        return ArtifactKind::SchtasksCsv;
    }
    ArtifactKind::Unrecognised
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn detects_each_kind_by_content() {
        let border = format!("+{}+", "-".repeat(70));
        let dsreg = format!(
            "\n{border}\n| Device State{}|\n{border}\n\n             AzureAdJoined : YES\n",
            " ".repeat(58)
        );
        assert_eq!(sniff(&dsreg), ArtifactKind::Dsregcmd);
        assert_eq!(
            sniff("AzureAdJoined : NO\nDomainJoined : YES\n"),
            ArtifactKind::Dsregcmd
        );
        assert_eq!(
            sniff(
                "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System/></Event>"
            ),
            ArtifactKind::EventXml
        );
        assert_eq!(
            sniff("<?xml version=\"1.0\"?>\n<Events><Event></Event></Events>"),
            ArtifactKind::EventXml
        );
        assert_eq!(sniff("<html></html>"), ArtifactKind::Unrecognised);
        assert_eq!(
            sniff("<MDMEnterpriseDiagnosticsReport><EventLogs/></MDMEnterpriseDiagnosticsReport>"),
            ArtifactKind::MdmDiagReport
        );
        assert_eq!(
            sniff("{\n    \"Id\":  75,\n    \"ProviderName\":  \"x\"\n}"),
            ArtifactKind::EventJson
        );
        assert_eq!(
            sniff("{\"schema\": \"enroll-doctor/device-report@1\"}"),
            ArtifactKind::Bundle
        );
        // Another schema version is still a bundle: the parser names the version it found.
        assert_eq!(
            sniff("{\"schema\": \"enroll-doctor/device-report@2\"}"),
            ArtifactKind::Bundle
        );
        assert_eq!(sniff("{\"a\": 1}"), ArtifactKind::Unrecognised);
        assert_eq!(
            sniff("Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\n"),
            ArtifactKind::RegistryExport
        );
        assert_eq!(sniff("REGEDIT4\n"), ArtifactKind::RegistryExport);
        assert_eq!(
            sniff("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments]\n    \"x\"=DWORD:1\n"),
            ArtifactKind::RegistryExport
        );
        assert_eq!(
            sniff("Device Serial Number,Windows Product ID,Hardware Hash\n1,,AA\n"),
            ArtifactKind::AutopilotHash
        );
        assert_eq!(
            sniff("{\"CloudAssignedTenantId\": \"x\", \"ZtdCorrelationId\": \"y\"}"),
            ArtifactKind::AutopilotProfile
        );
        assert_eq!(
            sniff("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\n\"Message\",\"Id\"\n"),
            ArtifactKind::EventCsv
        );
        assert_eq!(
            sniff("\"Message\",\"Id\",\"Version\",\"ProviderName\"\n\"x\",\"75\",\"0\",\"p\"\n"),
            ArtifactKind::EventCsv
        );
        assert_eq!(
            sniff("Level,Date and Time,Source,Event ID,Task Category\n"),
            ArtifactKind::EventCsv
        );
        assert_eq!(
            sniff("\nEvent[0]:\n  Log Name: X/Admin\n  Source: S\n  Event ID: 76\n"),
            ArtifactKind::EventText
        );
        assert_eq!(
            sniff("Log Name: X/Admin\nSource: S\nEvent ID: 76\n"),
            ArtifactKind::EventText
        );
        assert_eq!(
            sniff("Event[0]: nothing else\n"),
            ArtifactKind::Unrecognised
        );
        assert_eq!(
            sniff(
                "\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\MDM\n    AutoEnrollMDM    REG_DWORD    0x1\n"
            ),
            ArtifactKind::RegistryQuery
        );
        assert_eq!(
            sniff("HKEY_LOCAL_MACHINE is a hive\n"),
            ArtifactKind::Unrecognised
        );
        assert_eq!(
            sniff(
                "Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie\nFehler,20.11.2026 09:35:04,DeviceManagement-Enterprise-Diagnostics-Provider,76,Keine,\"x\"\n"
            ),
            ArtifactKind::EventCsv
        );
        assert_eq!(
            sniff("a,b,c,d,e\n1,2,3,x,5,6\n"),
            ArtifactKind::Unrecognised
        );
        assert_eq!(sniff("just some notes\n"), ArtifactKind::Unrecognised);
        assert_eq!(sniff("   \n"), ArtifactKind::Unrecognised);
    }

    #[test]
    fn unrecognised_files_get_a_reason() {
        assert!(why_unrecognised("r.html", "<!DOCTYPE html><html></html>").contains("HTML"));
        assert!(
            why_unrecognised("MdmLogCollectorFootPrint.txt", "started").contains("no enrollment")
        );
        assert!(why_unrecognised("a.json", "{\"a\": 1}").contains("neither Get-WinEvent"));
        assert!(why_unrecognised("notes.txt", "hello").contains("not recognised"));
    }

    #[test]
    fn schtasks_detected_by_shape_even_when_localised() {
        let header: Vec<String> = (0..28).map(|i| format!("\"Spalte {i}\"")).collect();
        let mut row: Vec<String> = (0..28).map(|_| "\"N/A\"".to_string()).collect();
        row[1] = "\"\\Microsoft\\Windows\\EnterpriseMgmt\\x\"".into();
        let text = format!("{}\n{}\n", header.join(","), row.join(","));
        assert_eq!(sniff(&text), ArtifactKind::SchtasksCsv);
        // `/nh`: no header at all.
        assert_eq!(
            sniff(&format!("{}\n", row.join(","))),
            ArtifactKind::SchtasksCsv
        );
    }

    proptest! {
        #[test]
        fn sniff_never_panics(s in "\\PC{0,300}") {
            let _ = sniff(&s);
        }

        #[test]
        fn sniff_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(d) = super::super::text::decode(&bytes) {
                let _ = sniff(&d.text);
            }
        }
    }
}
