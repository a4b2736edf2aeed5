//! The Autopilot files of an MdmDiagnosticsTool bundle: `DeviceHash_<name>.csv`, whose serial
//! number becomes the device's hardware serial number, and the Autopilot profile JSON files,
//! checked to be JSON objects and otherwise left for the Autopilot checks.
//!
//! The CSV is the Autopilot import format (memdocs: autopilot/add-devices.md): header `Device
//! Serial Number,Windows Product ID,Hardware Hash[,Group Tag,Assigned User]`, one row per
//! device. The hardware hash is a 4K blob of identifying data: it is not kept.

use super::host::HardwareInfo;
use super::report::{DeviceReport, Location};

/// The serial number column, as the import format names it.
const SERIAL: &str = "Device Serial Number";

/// The device rows of a DeviceHash CSV, and the serial number of the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceHash {
    pub serial_number: Option<String>,
    pub rows: usize,
    pub location: Location,
}

/// Parses a DeviceHash CSV (decoded text).
pub fn parse_device_hash(file: &str, text: &str) -> Result<DeviceHash, String> {
    let body = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(body.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("not a readable CSV: {e}"))?
        .clone();
    let column = headers
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case(SERIAL))
        .ok_or_else(|| format!("no \"{SERIAL}\" column"))?;
    let mut serial = None;
    let mut line = None;
    let mut rows = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| format!("not a readable CSV: {e}"))?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows += 1;
        if serial.is_none() {
            serial = record
                .get(column)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            // The line the row starts on, from its byte offset (after a CRLF the offset is the
            // LF's: it counts).
            line = record
                .position()
                .and_then(|p| usize::try_from(p.byte()).ok())
                .map(|at| &body.as_bytes()[..(at + 1).min(body.len())])
                .map(|before| before.iter().filter(|&&b| b == b'\n').count() + 1);
        }
    }
    Ok(DeviceHash {
        serial_number: serial,
        rows,
        location: Location {
            file: file.to_string(),
            line: line.or(Some(1)),
            record: None,
        },
    })
}

/// Adds the serial number to the report's hardware facts; a problem when another source
/// already gave a different one.
pub fn apply_device_hash(report: &mut DeviceReport, hash: DeviceHash) -> Option<String> {
    let serial = hash.serial_number?;
    let hw = report.hardware.get_or_insert_with(|| HardwareInfo {
        location: hash.location.clone(),
        ..HardwareInfo::default()
    });
    match &hw.serial_number {
        None => {
            hw.serial_number = Some(serial);
            None
        }
        Some(known) if known.trim().eq_ignore_ascii_case(serial.trim()) => None,
        Some(known) => Some(format!(
            "its serial number {serial} differs from {known} (from {}): kept {known}",
            hw.location.file
        )),
    }
}

/// Top-level keys of an Autopilot profile file, or why it is not a JSON object.
pub fn check_profile(text: &str) -> Result<usize, String> {
    let body = text.trim_start_matches('\u{feff}');
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map.len()),
        Ok(_) => Err("an Autopilot profile file that is not a JSON object".to_string()),
        Err(e) => Err(format!(
            "an Autopilot profile file that is not valid JSON: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_line_with_lf_endings() {
        let h =
            parse_device_hash("x.csv", "Device Serial Number,Hardware Hash\n\nSN1,AA\n").unwrap();
        assert_eq!(h.location.line, Some(3));
    }

    const CSV: &str = "Device Serial Number,Windows Product ID,Hardware Hash\r\n\
                       5CG1234XYZ,,T0HxAQEAHAAAAAoA\r\n";

    #[test]
    fn serial_number_from_the_first_row() {
        let h = parse_device_hash("DeviceHash_PC0042.csv", CSV).unwrap();
        assert_eq!(h.serial_number.as_deref(), Some("5CG1234XYZ"));
        assert_eq!(h.rows, 1);
        assert_eq!(h.location.to_string(), "DeviceHash_PC0042.csv:2");
        let mut r = DeviceReport::default();
        assert_eq!(apply_device_hash(&mut r, h.clone()), None);
        let hw = r.hardware.as_ref().unwrap();
        assert_eq!(hw.serial_number.as_deref(), Some("5CG1234XYZ"));
        // A collector's serial number stays; a different one is a problem.
        r.hardware.as_mut().unwrap().serial_number = Some("OTHER".into());
        assert!(apply_device_hash(&mut r, h).unwrap().contains("differs"));
        assert!(parse_device_hash("x.csv", "a,b,c\n1,2,3\n").is_err());
        let empty = parse_device_hash("x.csv", "Device Serial Number,Hardware Hash\n").unwrap();
        assert_eq!((empty.serial_number, empty.rows), (None, 0));
    }

    #[test]
    fn profiles_are_json_objects() {
        assert_eq!(check_profile("{\"CloudAssignedTenantId\": \"x\"}"), Ok(1));
        assert!(check_profile("[1]").is_err());
        assert!(check_profile("{").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse_device_hash("x", &s);
            let _ = check_profile(&s);
        }
    }
}
