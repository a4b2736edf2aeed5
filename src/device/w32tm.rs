//! `w32tm /query /status [/verbose]`: where the clock takes its time from and when it last
//! synchronised. A device whose clock is minutes off fails TLS and token validation.
//!
//! English output only: the labels are printed in the display language, and a localised output
//! is reported as unrecognised rather than guessed at. `Last Successful Sync Time` is local time
//! in the user's date format (`11/26/2026 9:05:12 AM`, `26/11/2026 09:05:12`, …): it becomes UTC
//! only when the UTC offset is known and the date reads one way only; it is always kept as text.
//!
//! ```text
//! Leap Indicator: 0(no warning)
//! Stratum: 4 (secondary reference - syncd by (S)NTP)
//! Last Successful Sync Time: 11/26/2026 9:05:12 AM
//! Source: DC01.corp.contoso.com
//! ```

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::host::ClockEvidence;
use super::report::Location;

/// What the collector knows about the run (all optional: a loose `w32tm.txt` has none).
#[derive(Debug, Clone, Default)]
pub struct W32tmContext<'a> {
    /// Minutes east of UTC when w32tm ran (`+60` for CET).
    pub utc_offset_minutes: Option<i32>,
    pub queried_at: Option<DateTime<Utc>>,
    /// .NET patterns of the user's culture (`M/d/yyyy`, `h:mm:ss tt`).
    pub short_date_pattern: Option<&'a str>,
    pub long_time_pattern: Option<&'a str>,
}

/// True when the text opens like English w32tm status output (or its error line).
pub(crate) fn looks_like(head: &str) -> bool {
    let lower = head.to_ascii_lowercase();
    let has = |l: &str| {
        lower
            .lines()
            .take(40)
            .any(|x| x.trim_start().starts_with(l))
    };
    (has("leap indicator:") && (has("stratum:") || has("source:")))
        || (has("the following error occurred:") && lower.contains("w32tm"))
}

/// Parses the output. `Err` says why nothing was recognised.
pub fn parse(file: &str, text: &str, ctx: &W32tmContext<'_>) -> Result<ClockEvidence, String> {
    let mut out = ClockEvidence {
        queried_at: ctx.queried_at,
        utc_offset_minutes: ctx.utc_offset_minutes,
        location: Location {
            file: file.to_string(),
            line: None,
            record: None,
        },
        ..ClockEvidence::default()
    };
    let mut recognised = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        let lower = line.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("the following error occurred:") {
            let start = line.len() - rest.len();
            out.error = Some(line[start..].trim().to_string());
            out.location.line.get_or_insert(i + 1);
            recognised = true;
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match label.trim().to_ascii_lowercase().as_str() {
            "leap indicator" => {
                out.leap_indicator = leading_number(value).and_then(|n| u8::try_from(n).ok());
            }
            "stratum" => out.stratum = leading_number(value).and_then(|n| u32::try_from(n).ok()),
            "source" => {
                out.source = (!value.is_empty()).then(|| value.to_string());
                out.location.line = Some(i + 1);
            }
            "last successful sync time" => {
                out.last_sync_text = Some(value.to_string());
                if !value.eq_ignore_ascii_case("unspecified") {
                    match local_time(value, ctx) {
                        Ok(t) => out.last_sync = t,
                        Err(why) => out.note = Some(why),
                    }
                }
            }
            "phase offset" => {
                out.phase_offset_seconds = value
                    .trim_end_matches('s')
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite());
            }
            _ => continue,
        }
        out.location.line.get_or_insert(i + 1);
        recognised = true;
    }
    if recognised {
        Ok(out)
    } else if text.trim().is_empty() {
        Err("empty w32tm output".into())
    } else {
        Err("w32tm output not recognised (only English output is read)".into())
    }
}

fn leading_number(s: &str) -> Option<u64> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The sync time as UTC: `Ok(None)` when it cannot be placed in time without guessing.
fn local_time(text: &str, ctx: &W32tmContext<'_>) -> Result<Option<DateTime<Utc>>, String> {
    let naive = match (ctx.short_date_pattern, ctx.long_time_pattern) {
        (Some(d), Some(t)) => {
            let fmt = format!("{} {}", chrono_format(d), chrono_format(t));
            NaiveDateTime::parse_from_str(text, &fmt).ok()
        }
        _ => None,
    }
    .or_else(|| unambiguous(text));
    let Some(naive) = naive else {
        return Err(format!(
            "last sync time '{text}' is in a date format that does not read one way only; kept as text"
        ));
    };
    let Some(offset) = ctx.utc_offset_minutes else {
        // Local time of an unknown zone: not placed in time.
        return Ok(None);
    };
    if offset.abs() > 14 * 60 {
        return Err(format!("UTC offset {offset} minutes is out of range"));
    }
    Ok(naive
        .checked_sub_signed(Duration::minutes(i64::from(offset)))
        .map(|t| t.and_utc()))
}

/// Formats that read one way only: ISO, US 12-hour, and day/month orders where a field > 12.
fn unambiguous(text: &str) -> Option<NaiveDateTime> {
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%m/%d/%Y %I:%M:%S %p",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, fmt) {
            return Some(t);
        }
    }
    let day_first = ["%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok());
    let month_first = NaiveDateTime::parse_from_str(text, "%m/%d/%Y %H:%M:%S").ok();
    match (day_first, month_first) {
        (Some(d), None) => Some(d),
        (None, Some(m)) => Some(m),
        _ => None,
    }
}

/// A .NET custom date/time pattern (`dd/MM/yyyy`, `h:mm:ss tt`) as a chrono format.
fn chrono_format(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut run = 1;
        while i + run < chars.len() && chars[i + run] == c {
            run += 1;
        }
        match (c, run) {
            ('d', 1 | 2) => out.push_str("%d"),
            ('M', 1 | 2) => out.push_str("%m"),
            ('M', 3) => out.push_str("%b"),
            ('M', _) => out.push_str("%B"),
            ('y', 1 | 2) => out.push_str("%y"),
            ('y', _) => out.push_str("%Y"),
            ('h', _) => out.push_str("%I"),
            ('H', _) => out.push_str("%H"),
            ('m', _) => out.push_str("%M"),
            ('s', _) => out.push_str("%S"),
            ('t', _) => out.push_str("%p"),
            ('%', _) => out.push_str(&"%%".repeat(run)),
            ('\'' | '"', _) => {}
            _ => out.extend(std::iter::repeat_n(c, run)),
        }
        i += run;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SYNCED: &str = "Leap Indicator: 0(no warning)\r\nStratum: 4 (secondary reference - syncd by (S)NTP)\r\nPrecision: -23 (119.209ns per tick)\r\nRoot Delay: 0.0312500s\r\nRoot Dispersion: 7.7766048s\r\nReferenceId: 0x0A000001 (source IP:  10.0.0.1)\r\nLast Successful Sync Time: 11/26/2026 9:05:12 AM\r\nSource: DC01.corp.contoso.com\r\nPoll Interval: 10 (1024s)\r\nPhase Offset: 0.0012340s\r\n";

    #[test]
    fn synced_clock_with_offset_is_utc() {
        let ctx = W32tmContext {
            utc_offset_minutes: Some(60),
            short_date_pattern: Some("M/d/yyyy"),
            long_time_pattern: Some("h:mm:ss tt"),
            ..W32tmContext::default()
        };
        let c = parse("w32tm.txt", SYNCED, &ctx).unwrap();
        assert_eq!(c.source.as_deref(), Some("DC01.corp.contoso.com"));
        assert_eq!((c.leap_indicator, c.stratum), (Some(0), Some(4)));
        assert_eq!(
            c.last_sync.unwrap().to_rfc3339(),
            "2026-11-26T08:05:12+00:00"
        );
        assert_eq!(c.phase_offset_seconds, Some(0.001234));
        assert_eq!(c.location.to_string(), "w32tm.txt:8");
    }

    #[test]
    fn without_offset_the_time_stays_text() {
        let c = parse("w32tm.txt", SYNCED, &W32tmContext::default()).unwrap();
        assert_eq!(c.last_sync, None);
        assert_eq!(c.last_sync_text.as_deref(), Some("11/26/2026 9:05:12 AM"));
        assert_eq!(c.note, None);
    }

    #[test]
    fn culture_pattern_reads_day_first() {
        let text = "Leap Indicator: 0(no warning)\nStratum: 2 (secondary reference - syncd by (S)NTP)\nLast Successful Sync Time: 05/11/2026 20:21:27\nSource: time.windows.com,0x9\n";
        let gb = W32tmContext {
            utc_offset_minutes: Some(0),
            short_date_pattern: Some("dd/MM/yyyy"),
            long_time_pattern: Some("HH:mm:ss"),
            ..W32tmContext::default()
        };
        let c = parse("w", text, &gb).unwrap();
        assert_eq!(
            c.last_sync.unwrap().to_rfc3339(),
            "2026-11-05T20:21:27+00:00"
        );
        // Without the pattern 05/11 reads two ways: kept as text, with a note.
        let c = parse(
            "w",
            text,
            &W32tmContext {
                utc_offset_minutes: Some(0),
                ..W32tmContext::default()
            },
        )
        .unwrap();
        assert_eq!(c.last_sync, None);
        assert!(c.note.unwrap().contains("one way only"));
    }

    #[test]
    fn never_synced_and_service_stopped() {
        let text = "Leap Indicator: 3(not synchronized)\nStratum: 0 (unspecified)\nLast Successful Sync Time: unspecified\nSource: Local CMOS Clock\nPoll Interval: 6 (64s)\n";
        let c = parse("w", text, &W32tmContext::default()).unwrap();
        assert_eq!(c.leap_indicator, Some(3));
        assert_eq!(c.source.as_deref(), Some("Local CMOS Clock"));
        assert_eq!(c.last_sync_text.as_deref(), Some("unspecified"));
        assert!(looks_like(text));
        let err = "The following error occurred: The service has not been started. (0x80070426)\n";
        let c = parse("w", err, &W32tmContext::default()).unwrap();
        assert_eq!(
            c.error.as_deref(),
            Some("The service has not been started. (0x80070426)")
        );
    }

    #[test]
    fn localised_output_is_unrecognised() {
        let de = "Sprungindikator: 0(keine Warnung)\nStratum: 1\nQuelle: time.windows.com\n";
        assert!(!looks_like(de));
        // "Stratum" is the same word in German, the rest is not: partly read, never guessed.
        let c = parse("w", de, &W32tmContext::default()).unwrap();
        assert_eq!(c.source, None);
        assert!(
            parse("w", "Horloge : inconnue\n", &W32tmContext::default())
                .unwrap_err()
                .contains("only English")
        );
    }

    #[test]
    fn dotnet_patterns_map_to_chrono() {
        assert_eq!(chrono_format("M/d/yyyy h:mm:ss tt"), "%m/%d/%Y %I:%M:%S %p");
        assert_eq!(chrono_format("dd.MM.yyyy HH:mm:ss"), "%d.%m.%Y %H:%M:%S");
        assert_eq!(chrono_format("d MMM yyyy"), "%d %b %Y");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}", d in "\\PC{0,20}", t in "\\PC{0,20}", off in any::<i32>()) {
            let ctx = W32tmContext {
                utc_offset_minutes: Some(off),
                queried_at: None,
                short_date_pattern: Some(&d),
                long_time_pattern: Some(&t),
            };
            let _ = parse("x", &s, &ctx);
            let _ = parse("x", &format!("Leap Indicator: 0\nLast Successful Sync Time: {s}\n"), &ctx);
            let _ = looks_like(&s);
        }
    }
}
