//! MdmDiagnosticsTool's Autopilot files, given loose, in a folder or in its zip/cab:
//! `AutopilotDDSZTDFile.json` and `AutopilotConciergeFile.json` (the profile the device got),
//! `AutopilotConfigurationFile.json` (Autopilot for existing devices, memdocs
//! autopilot/existing-devices.md), `DeviceHash_*.csv` (serial number, product ID, hardware hash),
//! and `tpmtool getdeviceinformation` output (TPM version and attestation readiness, what
//! self-deploying and pre-provisioning need). Detected by content ([`sniff_json`], [`sniff_text`]);
//! each parser is a plain function from the file's text.

use serde_json::Value;

use super::autopilot::{
    AutopilotEvidence, AutopilotProfile, DeviceHashRecord, ProfileSource, clip, tpm_can_attest,
};
use super::host::TpmInfo;
use super::report::{ArtifactKind, DeviceReport, InputFile, Location};
use crate::model::Evidence;

/// The properties only an Autopilot profile file has (memdocs autopilot/existing-devices.md).
const PROFILE_KEYS: &[&str] = &[
    "\"cloudassignedtenantid\"",
    "\"cloudassignedtenantdomain\"",
    "\"ztdcorrelationid\"",
    "\"cloudassignedoobeconfig\"",
    "\"deploymentprofilename\"",
];

/// JSON that is an Autopilot profile file (called after the bundle and event checks).
pub(crate) fn sniff_json(head: &str) -> Option<ArtifactKind> {
    let lower = head.to_ascii_lowercase();
    PROFILE_KEYS
        .iter()
        .any(|k| lower.contains(k))
        .then_some(ArtifactKind::AutopilotProfile)
}

/// A `DeviceHash_*.csv` header or `tpmtool getdeviceinformation` output.
pub(crate) fn sniff_text(head: &str) -> Option<ArtifactKind> {
    let first = head.lines().map(str::trim).find(|l| !l.is_empty())?;
    let lower = first.to_ascii_lowercase();
    if lower.contains("device serial number") && lower.contains("hardware hash") {
        return Some(ArtifactKind::AutopilotHash);
    }
    if lower.starts_with("-tpm present:") || lower == "tpmtool getdeviceinformation" {
        return Some(ArtifactKind::TpmTool);
    }
    None
}

fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_null())
        .map(|(_, v)| v)
}

fn text(obj: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    match field(obj, name)? {
        Value::String(s) => Some(clip(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(obj: &serde_json::Map<String, Value>, name: &str) -> Option<u32> {
    match field(obj, name)? {
        Value::Number(n) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(u32::from(*b)),
        _ => None,
    }
}

/// Which file a profile came from, by its name.
fn source_of(file: &str) -> ProfileSource {
    let lower = file.to_ascii_lowercase();
    if lower.contains("ddsztd") {
        ProfileSource::DdsZtdFile
    } else if lower.contains("concierge") {
        ProfileSource::ConciergeFile
    } else if lower.contains("autopilotconfigurationfile") {
        ProfileSource::ConfigurationFile
    } else {
        ProfileSource::OtherFile
    }
}

/// Parses an Autopilot profile JSON file (`AutopilotDDSZTDFile.json`,
/// `AutopilotConciergeFile.json`, `AutopilotConfigurationFile.json`). Property names are matched
/// case-insensitively; numbers may be written as strings.
pub fn parse_autopilot_json(file: &str, text_in: &str) -> Result<AutopilotProfile, String> {
    let root: Value = serde_json::from_str(text_in.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("not valid JSON: {e}"))?;
    let obj = match &root {
        Value::Object(o) => o,
        // PowerShell may write a one-element array.
        Value::Array(a) => match a.first() {
            Some(Value::Object(o)) => o,
            _ => return Err("a JSON array without an Autopilot profile object".to_string()),
        },
        _ => return Err("JSON that is not an object".to_string()),
    };
    let mut p = AutopilotProfile::new(
        source_of(file),
        Location {
            file: file.to_string(),
            line: None,
            record: None,
        },
    );
    p.tenant_id = text(obj, "CloudAssignedTenantId");
    p.tenant_domain = text(obj, "CloudAssignedTenantDomain");
    p.profile_name = text(obj, "DeploymentProfileName").or_else(|| {
        text(obj, "Comment_File").map(|c| c.strip_prefix("Profile ").unwrap_or(&c).to_string())
    });
    p.oobe_config = number(obj, "CloudAssignedOobeConfig");
    p.domain_join_method = number(obj, "CloudAssignedDomainJoinMethod");
    p.forced_enrollment = number(obj, "CloudAssignedForcedEnrollment");
    p.ztd_correlation_id = text(obj, "ZtdCorrelationId");
    p.ztd_registration_id = text(obj, "ZtdRegistrationId");
    p.device_name = text(obj, "CloudAssignedDeviceName");
    p.downloaded_at = text(obj, "PolicyDownloadDate");
    if p.tenant_id.is_none()
        && p.tenant_domain.is_none()
        && p.ztd_correlation_id.is_none()
        && p.oobe_config.is_none()
        && p.profile_name.is_none()
    {
        return Err(
            "JSON without CloudAssignedTenantId, CloudAssignedTenantDomain, ZtdCorrelationId or \
             CloudAssignedOobeConfig: not an Autopilot profile"
                .to_string(),
        );
    }
    Ok(p)
}

/// Parses `DeviceHash_*.csv` (`Device Serial Number,Windows Product ID,Hardware Hash[,…]`).
pub fn parse_device_hash_csv(file: &str, text_in: &str) -> Result<Vec<DeviceHashRecord>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text_in.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("no CSV header: {e}"))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let serial = col("Device Serial Number")
        .ok_or_else(|| "no \"Device Serial Number\" column".to_string())?;
    let product = col("Windows Product ID");
    let hash = col("Hardware Hash");
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("row {}: {e}", i + 2))?;
        let cell = |c: Option<usize>| {
            c.and_then(|c| row.get(c))
                .map(clip)
                .filter(|s| !s.is_empty())
        };
        out.push(DeviceHashRecord {
            serial_number: cell(Some(serial)),
            product_id: cell(product),
            hash_chars: hash.and_then(|h| row.get(h)).map_or(0, |h| h.trim().len()),
            location: Location {
                file: file.to_string(),
                line: Some(i + 2),
                record: None,
            },
        });
    }
    if out.is_empty() {
        return Err("a device hash CSV without rows".to_string());
    }
    Ok(out)
}

/// Parses `tpmtool getdeviceinformation` (`-Name: value` lines; nested `\t-` lines ignored).
pub fn parse_tpmtool(file: &str, text_in: &str) -> Result<TpmInfo, String> {
    let mut tpm = TpmInfo::default();
    let mut first: Option<usize> = None;
    for (idx, raw) in text_in.lines().enumerate() {
        if raw.starts_with(['\t', ' ']) && raw.trim_start().starts_with('-') && first.is_some() {
            continue;
        }
        let Some(line) = raw.trim().strip_prefix('-') else {
            continue;
        };
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let flag = || match value.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        let known = match name.trim().to_ascii_lowercase().as_str() {
            "tpm present" => {
                tpm.present = flag();
                true
            }
            "tpm version" => {
                tpm.spec_version = Some(clip(value)).filter(|s| !s.is_empty());
                true
            }
            "tpm manufacturer id" => {
                tpm.manufacturer = Some(clip(value)).filter(|s| !s.is_empty());
                true
            }
            "tpm manufacturer version" => {
                tpm.manufacturer_version = Some(clip(value)).filter(|s| !s.is_empty());
                true
            }
            "is capable for attestation" => {
                tpm.attestation_capable = flag();
                true
            }
            "ready for attestation" => {
                tpm.attestation_ready = flag();
                true
            }
            _ => false,
        };
        if known && first.is_none() {
            first = Some(idx + 1);
        }
    }
    let Some(line) = first else {
        return Err("no \"-TPM Present:\" or \"-TPM Version:\" line".to_string());
    };
    tpm.location = Location {
        file: file.to_string(),
        line: Some(line),
        record: None,
    };
    Ok(tpm)
}

/// Adds one Autopilot, device-hash or tpmtool file to the report being built (the loader's hook).
pub(crate) fn add(
    kind: ArtifactKind,
    name: &str,
    text_in: &str,
    r: &mut DeviceReport,
    input: &mut InputFile,
    problems: &mut Vec<String>,
) {
    match kind {
        // The concierge file of a device the service did not know holds only the OOBE language
        // and region: an Autopilot file with no profile in it, not a damaged one.
        ArtifactKind::AutopilotProfile
            if source_of(name) == ProfileSource::ConciergeFile
                && parse_autopilot_json(name, text_in).is_err()
                && serde_json::from_str::<Value>(text_in.trim_start_matches('\u{feff}'))
                    .is_ok_and(|v| v.is_object()) => {}
        ArtifactKind::AutopilotProfile => match parse_autopilot_json(name, text_in) {
            Ok(p) => {
                input.records = 1;
                r.autopilot
                    .get_or_insert_with(Default::default)
                    .profiles
                    .push(p);
            }
            Err(e) => problems.push(e),
        },
        ArtifactKind::AutopilotHash => match parse_device_hash_csv(name, text_in) {
            Ok(rows) => {
                input.records = rows.len();
                if let Some(row) = rows.iter().find(|x| x.serial_number.is_some()) {
                    problems.extend(apply_serial(r, row));
                }
                r.autopilot
                    .get_or_insert_with(Default::default)
                    .device_hashes
                    .extend(rows);
            }
            Err(e) => problems.push(e),
        },
        ArtifactKind::TpmTool => match parse_tpmtool(name, text_in) {
            Ok(t) => {
                input.records = 1;
                match &r.tpm {
                    Some(first) => problems.push(format!(
                        "a second TPM description: ignored (using {})",
                        first.location.file
                    )),
                    None => r.tpm = Some(t),
                }
            }
            Err(e) => problems.push(e),
        },
        _ => {}
    }
}

/// The device hash's serial number as the report's hardware serial number (the key an
/// Autopilot identity is looked up by); a problem when another source gave a different one.
fn apply_serial(report: &mut DeviceReport, row: &DeviceHashRecord) -> Option<String> {
    let serial = row.serial_number.clone()?;
    let hw = report
        .hardware
        .get_or_insert_with(|| crate::device::host::HardwareInfo {
            location: row.location.clone(),
            ..Default::default()
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

/// The Autopilot facts of a report in words, with the TPM and the edition the Autopilot checks
/// weigh them against; empty when the report shows nothing of Autopilot.
pub fn facts(report: &DeviceReport) -> Vec<Evidence> {
    let Some(ev) = &report.autopilot else {
        return Vec::new();
    };
    let mut out = evidence_of(ev);
    if let Some(t) = &report.tpm {
        let attest = match tpm_can_attest(t) {
            Some(true) => "capable of attestation",
            Some(false) => {
                "not capable of the attestation self-deploying and pre-provisioning need"
            }
            None => "attestation not known",
        };
        let version = t.major_version().unwrap_or("version not known");
        out.push(
            Evidence::new("autopilot", format!("TPM {version}: {attest}"))
                .at(t.location.to_string()),
        );
    }
    if let Some(os) = &report.os
        && let Some(edition) = os.edition_id.as_deref()
        && super::autopilot::edition_supports_autopilot(edition) == Some(false)
    {
        out.push(
            Evidence::new(
                "autopilot",
                format!("Windows edition {edition}: Home cannot use Autopilot or Entra join"),
            )
            .at(os.location.to_string()),
        );
    }
    out
}

/// The Autopilot facts in words, each with where it was read.
pub(crate) fn evidence_of(ev: &AutopilotEvidence) -> Vec<Evidence> {
    let mut out = Vec::new();
    let at = |l: &Location| l.to_string();
    let item = |detail: String, l: &Location| Evidence::new("autopilot", detail).at(at(l));
    for p in &ev.profiles {
        let mut d = String::from("Autopilot profile");
        if let Some(n) = p.profile_name.as_deref().filter(|n| !n.is_empty()) {
            d.push_str(&format!(" \"{n}\""));
        }
        if p.has_tenant() {
            let domain = p.tenant_domain.as_deref().unwrap_or("").trim();
            let id = p.tenant_id.as_deref().unwrap_or("").trim();
            d.push_str(&format!(" for tenant {domain} ({id})"));
        } else {
            d.push_str(": no tenant assigned (not registered, or no profile downloaded)");
        }
        if p.autopilot_disabled == Some(true) {
            d.push_str("; IsAutopilotDisabled = 1");
        }
        if p.tenant_matched == Some(false) {
            d.push_str("; TenantMatched = 0 (the user signed in to another tenant)");
        }
        match p.domain_join_method {
            Some(0) => d.push_str("; Entra join"),
            Some(1) => d.push_str("; hybrid join"),
            _ => {}
        }
        if let Some(o) = p.oobe_config {
            d.push_str(&format!("; CloudAssignedOobeConfig {o}"));
        }
        out.push(item(d, &p.location));
    }
    for h in &ev.device_hashes {
        out.push(item(
            format!(
                "device hash: serial {}, {} hash characters",
                h.serial_number.as_deref().unwrap_or("(none)"),
                h.hash_chars
            ),
            &h.location,
        ));
    }
    if let Some(app) = ev.esp_blocking_app() {
        out.push(item(
            format!(
                "ESP held by {} app {} ({}): InstallationState {}",
                app.scope,
                app.app,
                app.provider,
                app.state_label()
            ),
            &app.location,
        ));
    }
    for f in &ev.first_sync {
        let state = match f.done() {
            Some(true) => "done",
            Some(false) => "not done",
            None => "state not recorded",
        };
        let mut d = format!("FirstSync of enrollment {}: {state}", f.enrollment_id);
        if let Some(t) = f.timeout_minutes {
            d.push_str(&format!(", ESP timeout {t} minutes"));
        }
        if f.done() == Some(false) && ev.first_sync_timed_out() == Some(true) {
            d.push_str(", timed out");
        }
        out.push(item(d, &f.location));
    }
    for e in &ev.errors {
        out.push(item(
            format!("{}: {}", e.origin, e.description),
            &e.location,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn added(name: &str, text: &str) -> (DeviceReport, Vec<String>) {
        let mut r = DeviceReport::default();
        let mut input = InputFile {
            name: name.to_string(),
            kind: ArtifactKind::AutopilotProfile,
            encoding: None,
            bytes: text.len() as u64,
            problem: None,
            records: 0,
        };
        let mut problems = Vec::new();
        add(
            ArtifactKind::AutopilotProfile,
            name,
            text,
            &mut r,
            &mut input,
            &mut problems,
        );
        (r, problems)
    }

    #[test]
    fn a_concierge_file_without_a_profile_is_no_problem_but_another_file_is() {
        let oobe_only =
            r#"{"CloudAssignedLanguage":"os-default","CloudAssignedRegion":"os-default"}"#;
        let (r, problems) = added("AutopilotConciergeFile.json", oobe_only);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(r.autopilot.is_none());
        let (_, problems) = added("AutopilotDDSZTDFile.json", oobe_only);
        assert_eq!(problems.len(), 1);
        let (_, problems) = added("AutopilotConciergeFile.json", "[1, 2]");
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn profile_json_in_the_documented_shape() {
        let text = r#"{
            "CloudAssignedTenantId": "1537de22-988c-4e93-b8a5-83890f34a69b",
            "CloudAssignedForcedEnrollment": 1,
            "Version": 2049,
            "Comment_File": "Profile Autopilot Profile",
            "CloudAssignedTenantDomain": "M365x373186.onmicrosoft.com",
            "CloudAssignedDomainJoinMethod": "1",
            "CloudAssignedOobeConfig": 28,
            "ZtdCorrelationId": "7F9E6025-1E13-45F3-BF82-A3E8C5B59EAC"
        }"#;
        assert_eq!(sniff_json(text), Some(ArtifactKind::AutopilotProfile));
        let p = parse_autopilot_json("AutopilotConfigurationFile.json", text).unwrap();
        assert_eq!(p.source, ProfileSource::ConfigurationFile);
        assert_eq!(
            p.tenant_domain.as_deref(),
            Some("M365x373186.onmicrosoft.com")
        );
        assert_eq!(p.profile_name.as_deref(), Some("Autopilot Profile"));
        assert_eq!(p.domain_join_method, Some(1));
        assert_eq!(p.oobe_config, Some(28));
        assert!(parse_autopilot_json("x.json", "{\"a\": 1}").is_err());
        assert!(parse_autopilot_json("x.json", "[1]").is_err());
        assert!(
            parse_autopilot_json("x.json", "{")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn device_hash_csv_and_tpmtool() {
        let csv = "Device Serial Number,Windows Product ID,Hardware Hash\nPF3ABC12,00330-80000-00000-AA123,T0FBQUFB\n";
        assert_eq!(sniff_text(csv), Some(ArtifactKind::AutopilotHash));
        let rows = parse_device_hash_csv("DeviceHash_PC.csv", csv).unwrap();
        assert_eq!(rows[0].serial_number.as_deref(), Some("PF3ABC12"));
        assert_eq!(rows[0].hash_chars, 8);
        assert_eq!(rows[0].location.line, Some(2));
        assert!(parse_device_hash_csv("x.csv", "Device Serial Number,Hardware Hash\n").is_err());

        let tpm = "\r\n-TPM Present: True\r\n-TPM Version: 1.2\r\n-TPM Manufacturer ID: IFX\r\n-Ready For Attestation: False\r\n-Is Capable For Attestation: False\r\n-Lockout Information:\r\n\t-Is Locked Out: False\r\n";
        assert_eq!(sniff_text(tpm), Some(ArtifactKind::TpmTool));
        let t = parse_tpmtool("tpmtool.txt", tpm).unwrap();
        assert_eq!(t.present, Some(true));
        assert_eq!(t.major_version(), Some("1.2"));
        assert_eq!(t.attestation_capable, Some(false));
        assert_eq!(t.manufacturer.as_deref(), Some("IFX"));
        assert_eq!(t.location.line, Some(2));
        assert!(parse_tpmtool("x", "hello\n").is_err());
        assert_eq!(sniff_text("just notes\n"), None);
    }

    proptest! {
        #[test]
        fn parse_autopilot_json_never_panics(s in "\\PC{0,300}") {
            let _ = parse_autopilot_json("AutopilotDDSZTDFile.json", &s);
            let _ = sniff_json(&s);
        }

        #[test]
        fn profile_like_json_never_panics(
            keys in proptest::collection::vec("(CloudAssignedTenantId|CloudAssignedOobeConfig|CloudAssignedDomainJoinMethod|ZtdCorrelationId|Comment_File|x)", 0..6),
            vals in proptest::collection::vec("(\"[ -~]{0,12}\"|-?[0-9]{1,12}|true|null|\\[\\]|\\{\\})", 0..6),
        ) {
            let body: Vec<String> = keys.iter().zip(vals.iter()).map(|(k, v)| format!("\"{k}\": {v}")).collect();
            let _ = parse_autopilot_json("f.json", &format!("{{{}}}", body.join(",")));
        }

        #[test]
        fn parse_device_hash_csv_never_panics(s in "\\PC{0,300}") {
            let _ = parse_device_hash_csv("DeviceHash_x.csv", &format!("Device Serial Number,Windows Product ID,Hardware Hash\n{s}"));
            let _ = parse_device_hash_csv("DeviceHash_x.csv", &s);
            let _ = sniff_text(&s);
        }

        #[test]
        fn parse_tpmtool_never_panics(s in "\\PC{0,300}") {
            let _ = parse_tpmtool("tpm.txt", &s);
            let _ = parse_tpmtool("tpm.txt", &format!("-TPM Present: True\n{s}"));
        }
    }
}
