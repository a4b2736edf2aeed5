//! `dsregcmd /status` text: bordered section titles, then `Name : value` fields.

use super::report::{DsregField, DsregSection, Dsregcmd};
use super::sniff::is_border;

/// A wrapped value continues on the next line only when the line before reached (about) the
/// console width; shorter lines are complete.
const WRAP_MIN_LEN: usize = 64;

/// Parses decoded `dsregcmd /status` text (lines separated by `\n`). Never fails: lines that are
/// neither titles, fields nor continuations are ignored.
pub fn parse(file: &str, text: &str) -> Dsregcmd {
    let mut sections: Vec<DsregSection> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    // Whether the previous physical line was a field (or its continuation) and how long it was.
    let mut prev_field_len: Option<usize> = None;
    let mut prev_was_border = false;
    // Raw (untrimmed-at-end) value of the last field, for joining wrapped lines.
    let mut raw_value = String::new();
    // Whether the last field's value still has to be set from `raw_value` (done once per
    // wrapped value, not per continuation line, so a long wrap stays linear).
    let mut pending = false;

    for (idx, raw_line) in lines.iter().enumerate() {
        let line_no = idx + 1;
        let line = raw_line.trim_start_matches('\u{feff}');
        let trimmed = line.trim();
        if is_border(trimmed) {
            flush(&mut sections, &raw_value, &mut pending);
            prev_was_border = true;
            raw_value.clear();
            prev_field_len = None;
            continue;
        }
        if prev_was_border && trimmed.starts_with('|') {
            prev_was_border = false;
            let title = trimmed.trim_matches('|').trim().to_string();
            flush(&mut sections, &raw_value, &mut pending);
            sections.push(DsregSection {
                title,
                line: line_no,
                fields: Vec::new(),
            });
            continue;
        }
        prev_was_border = false;
        if trimmed.is_empty() {
            flush(&mut sections, &raw_value, &mut pending);
            raw_value.clear();
            prev_field_len = None;
            continue;
        }
        // Only after a line long enough to have wrapped can this line be its continuation.
        let in_flow = prev_field_len.is_some_and(|len| len >= WRAP_MIN_LEN);
        if let Some((name, value)) = split_field(line, in_flow) {
            flush(&mut sections, &raw_value, &mut pending);
            raw_value.clear();
            if sections.is_empty() {
                // Borderless capture (copied fields only): keep them in an untitled section.
                sections.push(DsregSection {
                    title: String::new(),
                    line: line_no,
                    fields: Vec::new(),
                });
            }
            if let Some(section) = sections.last_mut() {
                section.fields.push(DsregField {
                    name: name.to_string(),
                    value: value.trim().to_string(),
                    line: line_no,
                });
            }
            raw_value = value.trim_start().to_string();
            prev_field_len = Some(line.trim_end().chars().count());
            continue;
        }
        match prev_field_len {
            Some(len) if len >= WRAP_MIN_LEN => {
                // Wrapped value: the console split it mid-word, so join without a separator.
                raw_value.push_str(line.trim_end());
                pending = true;
                prev_field_len = Some(line.trim_end().chars().count());
            }
            _ => {
                flush(&mut sections, &raw_value, &mut pending);
                raw_value.clear();
                prev_field_len = None;
            }
        }
    }
    flush(&mut sections, &raw_value, &mut pending);
    Dsregcmd {
        file: file.to_string(),
        sections,
    }
}

/// Sets the last field's value to a wrapped value joined so far.
fn flush(sections: &mut [DsregSection], raw_value: &str, pending: &mut bool) {
    if std::mem::take(pending)
        && let Some(field) = sections.last_mut().and_then(|s| s.fields.last_mut())
    {
        field.value = raw_value.trim().to_string();
    }
}

/// `   Name : value`, `Name: value`, `Name :` (empty). The name is short, made of word characters,
/// and the colon is followed by a space or the end of the line (so `https://…` is no field).
fn split_field(line: &str, in_flow: bool) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let (left, rest) = line.split_at(colon);
    let after = &rest[1..];
    if !(after.is_empty() || after.starts_with(' ') || after.starts_with('\t')) {
        return None;
    }
    let name = left.trim();
    if name.is_empty() || name.chars().count() > 48 {
        return None;
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '(' | ')' | '#'))
    {
        return None;
    }
    // Right after a field, an unindented `word: x` line without the ` : ` spacing is more likely
    // the wrapped tail of that field's value than a new field.
    let indented = line.starts_with(' ') || line.starts_with('\t');
    let spaced = left.ends_with(' ');
    if in_flow && !indented && !spaced {
        return None;
    }
    Some((name, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(title: &str) -> String {
        let border = format!("+{}+", "-".repeat(70));
        format!("{border}\n| {title:<69}|\n{border}\n")
    }

    #[test]
    fn long_wrapped_value_scales_linearly() {
        // Every continuation line used to copy the whole value joined so far.
        let make = |n: usize| {
            format!(
                "+----------------------------------------------------------------------+\n\
| Diagnostic Data                                                      |\n\
+----------------------------------------------------------------------+\n\n\
    Client ErrorCode : {}\n      AzureAdJoined : YES\n",
                "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123\n".repeat(n)
            )
        };
        let d = parse("d.txt", &make(2));
        assert_eq!(d.sections[0].fields[0].value.len(), 2 * 66);
        crate::device::text::assert_scales_linearly("dsregcmd wrapped value", 3000, make, |t| {
            assert_eq!(parse("d.txt", t).sections[0].fields.len(), 2);
        });
    }

    #[test]
    fn sections_fields_and_line_numbers() {
        let text = format!(
            "{}\n             AzureAdJoined : YES\n          EnterpriseJoined : NO\n               Device Name : PC0042.corp.contoso.com\n\n{}\n                    MdmUrl :\n        AadRecoveryEnabled: NO\n    Executing Account Name : CONTOSO\\jdoe, jdoe@contoso.com\n      AzureAdPrtUpdateTime : 2026-11-03 07:58:41.000 UTC\n\nFor more information, please visit https://www.microsoft.com/aadjerrors\n",
            header("Device State"),
            header("Diagnostic Data")
        );
        let d = parse("dsregcmd.txt", &text);
        assert_eq!(d.sections.len(), 2);
        assert_eq!(d.sections[0].title, "Device State");
        assert_eq!(d.sections[0].line, 2);
        let f = d.field("device state", "azureadjoined").unwrap();
        assert_eq!((f.value.as_str(), f.line), ("YES", 5));
        assert_eq!(d.yes_no("Device State", "EnterpriseJoined"), Some(false));
        assert_eq!(
            d.field("Device State", "Device Name").unwrap().value,
            "PC0042.corp.contoso.com"
        );
        assert_eq!(d.field("Diagnostic Data", "MdmUrl").unwrap().value, "");
        assert_eq!(
            d.field("Diagnostic Data", "AadRecoveryEnabled")
                .unwrap()
                .value,
            "NO"
        );
        assert_eq!(
            d.any_field("AzureAdPrtUpdateTime").unwrap().value,
            "2026-11-03 07:58:41.000 UTC"
        );
        assert_eq!(
            d.any_field("Executing Account Name").unwrap().value,
            "CONTOSO\\jdoe, jdoe@contoso.com"
        );
        // The closing URL line is not a field.
        assert!(
            d.any_field("For more information, please visit https")
                .is_none()
        );
        assert_eq!(d.sections[1].fields.len(), 4);
    }

    #[test]
    fn wrapped_value_is_joined() {
        let text = format!(
            "{}\n    Auto Detect PAC Status : Failed to auto-detect the Proxy Auto-Configuration (PAC) script u\nsing WPAD. code: 0x80072f94\n    Executing Account Name : CONTOSO\\jdoe\n",
            header("URL Specific Proxy Config")
        );
        let d = parse("d.txt", &text);
        let s = &d.sections[0];
        assert_eq!(s.fields.len(), 2);
        assert_eq!(
            s.fields[0].value,
            "Failed to auto-detect the Proxy Auto-Configuration (PAC) script using WPAD. code: 0x80072f94"
        );
        assert_eq!(s.fields[1].line, 7);
    }

    #[test]
    fn borderless_unaligned_fields() {
        let d = parse(
            "d.txt",
            "AzureAdJoined: YES\nDomainJoined: YES\nDevice Name: PC1\n",
        );
        assert_eq!(d.sections.len(), 1);
        assert_eq!(d.any_field("DomainJoined").unwrap().value, "YES");
        assert_eq!(d.any_field("Device Name").unwrap().line, 3);
    }

    #[test]
    fn non_field_lines_are_ignored() {
        let text = format!(
            "{}\nWaiting for Diagnostics Task to complete. This could take a few minutes...\n\n      Client ErrorCode : 0x801c001d\n",
            header("Diagnostic Data")
        );
        let d = parse("d.txt", &text);
        assert_eq!(d.sections[0].fields.len(), 1);
        assert_eq!(d.sections[0].fields[0].value, "0x801c001d");
    }

    #[test]
    fn bundled_samples_parse() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/mocks/devices");
        for dev in [
            "hybrid-enrolled",
            "failed-8018002b",
            "never-triggered",
            "not-hybrid-joined",
            "stale-enrollment",
        ] {
            let bytes = std::fs::read(format!("{root}/{dev}/dsregcmd.txt")).unwrap();
            let text = super::super::text::decode(&bytes).unwrap().text;
            let d = parse("dsregcmd.txt", &text);
            assert!(d.section("Device State").is_some(), "{dev}");
            assert!(d.yes_no("Device State", "DomainJoined").is_some(), "{dev}");
        }
        let bytes = std::fs::read(format!("{root}/not-hybrid-joined/dsregcmd.txt")).unwrap();
        let d = parse("d", &super::super::text::decode(&bytes).unwrap().text);
        assert_eq!(d.yes_no("Device State", "AzureAdJoined"), Some(false));
        let bytes = std::fs::read(format!("{root}/failed-8018002b/dsregcmd.txt")).unwrap();
        let d = parse("d", &super::super::text::decode(&bytes).unwrap().text);
        assert_eq!(d.field("Tenant Details", "MdmUrl").unwrap().value, "");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,400}") {
            let _ = parse("x", &s);
        }

        #[test]
        fn parse_never_panics_on_dsreg_like(lines in proptest::collection::vec("( {0,30}[A-Za-z ]{0,20}( ?: ?)[ -~]{0,80}|\\+-{10,70}\\+|\\| [A-Za-z ]{0,20}|)", 0..40)) {
            let _ = parse("x", &lines.join("\n"));
        }
    }
}
