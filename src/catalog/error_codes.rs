//! HRESULTs seen during Windows MDM enrollment and Entra device registration, with what they
//! mean and what to do about them.
//!
//! The catalog keys on the numeric code: Microsoft's own documents disagree on some symbol
//! names (0x8018002A/0x80180030, 0x8018002B/0x80180031), so symbols are best effort.
//! Texts are written for this tool; the facts come from the sources listed in [`SOURCES`].

use serde::{Serialize, Serializer};

/// Documents the facts in this table come from.
pub const SOURCES: &[&str] = &[
    "https://learn.microsoft.com/windows/client-management/mdm-diagnose-enrollment",
    "https://learn.microsoft.com/windows/win32/mdmreg/mdm-registration-constants",
    "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/troubleshoot-windows-enrollment-errors",
    "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/troubleshoot-windows-auto-enrollment",
    "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/windows10-enroll-error-80180002b",
    "https://learn.microsoft.com/mem/configmgr/comanage/how-to-monitor",
    "https://learn.microsoft.com/entra/identity/devices/troubleshoot-device-dsregcmd",
];

/// The broad reason behind a code, used to correlate a device failure with tenant findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LikelyCause {
    /// An Intune enrollment restriction blocks the platform, ownership or OS version.
    PlatformRestriction,
    /// The user reached the Intune device limit or the Entra device quota.
    DeviceLimit,
    /// The user has no usable Intune license.
    License,
    /// MDM user scope / discovery configuration in Entra (scope None, user not in scope,
    /// UPN suffix not verified).
    MdmScope,
    /// Conditional Access or MFA on the enrollment apps, or a sign-in that needs interaction.
    ConditionalAccess,
    /// The device already carries an enrollment (stale keys, another user, another MDM).
    AlreadyEnrolled,
    /// Entra does not let this user join or register devices.
    JoinNotAllowed,
    /// Token or credential problems between the device and Entra ID (PRT, broker, tenant info).
    Authentication,
    /// DNS, proxy, TLS or timeouts between the device and the service.
    Connectivity,
    /// The service failed or asked the client to come back later; usually transient.
    ServerSide,
    /// Something on the device itself: policy, services, TPM, certificates, edition.
    DeviceConfig,
    /// The Windows version or edition cannot do this kind of enrollment.
    UnsupportedOs,
    Other,
}

impl LikelyCause {
    pub fn as_str(&self) -> &'static str {
        match self {
            LikelyCause::PlatformRestriction => "platform-restriction",
            LikelyCause::DeviceLimit => "device-limit",
            LikelyCause::License => "license",
            LikelyCause::MdmScope => "mdm-scope",
            LikelyCause::ConditionalAccess => "conditional-access",
            LikelyCause::AlreadyEnrolled => "already-enrolled",
            LikelyCause::JoinNotAllowed => "join-not-allowed",
            LikelyCause::Authentication => "authentication",
            LikelyCause::Connectivity => "connectivity",
            LikelyCause::ServerSide => "server-side",
            LikelyCause::DeviceConfig => "device-config",
            LikelyCause::UnsupportedOs => "unsupported-os",
            LikelyCause::Other => "other",
        }
    }
}

impl std::fmt::Display for LikelyCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One catalogued HRESULT.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ErrorCode {
    /// The HRESULT as an unsigned 32-bit value; serialised as `0x8018002B`.
    #[serde(serialize_with = "serialize_hex")]
    pub code: u32,
    /// Best-effort symbolic name (`None` where no SDK symbol exists).
    pub symbol: Option<&'static str>,
    /// What the code means, in one or two sentences.
    pub description: &'static str,
    /// What to do about it.
    pub remediation: &'static str,
    pub likely_cause: LikelyCause,
    /// The text Windows prints instead of the code, where it does (event 76 "Failed (…)").
    pub system_message: Option<&'static str>,
    /// Check IDs whose findings explain or confirm this code.
    pub related_checks: &'static [&'static str],
}

fn serialize_hex<S: Serializer>(code: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_hresult(*code))
}

impl ErrorCode {
    const fn new(
        code: u32,
        symbol: Option<&'static str>,
        likely_cause: LikelyCause,
        description: &'static str,
        remediation: &'static str,
    ) -> ErrorCode {
        ErrorCode {
            code,
            symbol,
            description,
            remediation,
            likely_cause,
            system_message: None,
            related_checks: &[],
        }
    }

    const fn message(mut self, text: &'static str) -> ErrorCode {
        self.system_message = Some(text);
        self
    }

    const fn checks(mut self, ids: &'static [&'static str]) -> ErrorCode {
        self.related_checks = ids;
        self
    }

    /// `0x8018002B`.
    pub fn hex(&self) -> String {
        format_hresult(self.code)
    }

    /// The same bits read as a signed 32-bit integer (how some tools print it).
    pub fn signed(&self) -> i32 {
        self.code as i32
    }
}

/// `0x8018002B`: upper-case hex, eight digits, the one format used everywhere in output.
pub fn format_hresult(code: u32) -> String {
    format!("0x{code:08X}")
}

/// Parses an HRESULT written as `0x8018000A`, `0X8018000a`, bare `8018000a` (exactly eight hex
/// digits), unsigned decimal `2149056522` or signed decimal `-2145910774`. Surrounding whitespace,
/// brackets and quotes are ignored. Anything else is `None`.
pub fn parse_hresult(s: &str) -> Option<u32> {
    let t = s.trim().trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>' | '"' | '\''
            )
    });
    if t.is_empty() {
        return None;
    }
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return u32::from_str_radix(hex, 16).ok();
    }
    if let Some(digits) = t.strip_prefix('-') {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return t.parse::<i32>().ok().map(|v| v as u32);
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        // Eight digits with no hex letter is ambiguous; eight-digit decimals are not failure
        // HRESULTs (those are ≥ 2147483648, ten digits), so read an eight-digit run as hex.
        if t.len() == 8 {
            return u32::from_str_radix(t, 16).ok();
        }
        return t.parse::<u32>().ok();
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return u32::from_str_radix(t, 16).ok();
    }
    None
}

/// Every catalogued code, sorted by code.
pub fn all() -> &'static [ErrorCode] {
    CODES
}

/// The catalogue entry for a code.
pub fn lookup(code: u32) -> Option<&'static ErrorCode> {
    CODES
        .binary_search_by_key(&code, |e| e.code)
        .ok()
        .map(|i| &CODES[i])
}

/// Decodes the structure of any HRESULT (facility and code), whether catalogued or not.
pub fn facility_decoding(code: u32) -> String {
    let low = code & 0xFFFF;
    if code & 0xFFF0_0000 == 0xCAA0_0000 {
        return format!(
            "Entra ID token broker (ADAL/WAM, 0xCAA…) error 0x{:05X}",
            code & 0x000F_FFFF
        );
    }
    if code & 0x8000_0000 == 0 {
        return format!("not a failure HRESULT (severity bit clear; value {code})");
    }
    let facility = (code >> 16) & 0x1FFF;
    match facility {
        0x18 => format!("device enroller (MENROLL) error {low}"),
        0x19 if (100..=599).contains(&low) => format!("HTTP status {low} from the server"),
        0x19 if (12000..=12999).contains(&low) => format!("WinHTTP error {low}"),
        0x19 => format!("MDM registration (MREGISTER, Windows 8.1 era) error {low}"),
        0x1C => format!("device registration (DSREG) error {low}"),
        0x07 => format!("Win32 error {low}"),
        0x00 => format!("generic COM error 0x{low:04X}"),
        0x04 => format!("interface-specific (FACILITY_ITF) error 0x{low:04X}"),
        other => format!("facility {other} (0x{other:X}), code {low}"),
    }
}

/// One line for a code: `0x8018002B MENROLL_E_… — description`; for unknown codes a decoding of
/// the facility instead of a description.
pub fn describe(code: u32) -> String {
    let hex = format_hresult(code);
    match lookup(code) {
        Some(e) => match e.symbol {
            Some(sym) => format!("{hex} {sym} — {}", e.description),
            None => format!("{hex} — {}", e.description),
        },
        None => format!("{hex} — not in the catalog: {}", facility_decoding(code)),
    }
}

/// True for facilities worth reporting when a bare number shows up in free text.
fn plausible_enrollment_code(code: u32) -> bool {
    if lookup(code).is_some() || code & 0xFFF0_0000 == 0xCAA0_0000 {
        return true;
    }
    let facility = (code >> 16) & 0x1FFF;
    code & 0x8000_0000 != 0 && matches!(facility, 0x18 | 0x19 | 0x1C)
}

/// Finds HRESULTs inside event messages and insertion strings: `0x8018002b`, `(0x80180014)`,
/// unsigned decimal `2149056522`, signed decimal `-2145910774`, bare `8018002b`. Hex with a `0x`
/// prefix is always taken; decimal and bare hex only when they look like an enrollment-related
/// failure code (GUID fragments and record numbers are not codes). Order of first appearance,
/// no duplicates.
pub fn hresults_in_text(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let mut found: Vec<u32> = Vec::new();
    let push = |code: u32, found: &mut Vec<u32>| {
        if !found.contains(&code) {
            found.push(code);
        }
    };
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let prev = if i == 0 { None } else { Some(bytes[i - 1]) };
        let boundary_before = prev.is_none_or(|p| !is_word(p));
        if !boundary_before {
            i += 1;
            continue;
        }
        // 0x… hex
        if bytes[i] == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
            let start = i + 2;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_hexdigit() {
                end += 1;
            }
            let len = end - start;
            let ends_clean = end >= bytes.len() || !is_word(bytes[end]);
            if (1..=8).contains(&len)
                && ends_clean
                && let Ok(code) = u32::from_str_radix(&text[start..end], 16)
                && code & 0x8000_0000 != 0
            {
                push(code, &mut found);
            }
            i = end.max(i + 1);
            continue;
        }
        // Token of word characters (plus a leading '-') for decimal / bare hex.
        let negative = bytes[i] == b'-';
        let start = if negative { i + 1 } else { i };
        let mut end = start;
        while end < bytes.len() && is_word(bytes[end]) {
            end += 1;
        }
        if end == start {
            i += 1;
            continue;
        }
        let token = &text[start..end];
        // A GUID segment is glued to dashes or braces: not a code.
        let next = bytes.get(end).copied();
        let in_guid = matches!(prev, Some(b'{' | b'-')) && !negative || next == Some(b'-');
        if !in_guid {
            let candidate = if negative {
                if token.bytes().all(|b| b.is_ascii_digit()) {
                    format!("-{token}").parse::<i32>().ok().map(|v| v as u32)
                } else {
                    None
                }
            } else if token.len() == 10 && token.bytes().all(|b| b.is_ascii_digit()) {
                token.parse::<u32>().ok()
            } else if token.len() == 8 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
                u32::from_str_radix(token, 16).ok()
            } else {
                None
            };
            if let Some(code) = candidate
                && plausible_enrollment_code(code)
            {
                push(code, &mut found);
            }
        }
        i = end.max(i + 1);
    }
    found
}

/// The code whose Windows message text appears in `text` (event 76 shows
/// "Failed (Mobile Device Management (MDM) is not configured.)" instead of 0x80180031).
pub fn code_for_system_message(text: &str) -> Option<u32> {
    let haystack = text.to_ascii_lowercase();
    CODES.iter().find_map(|e| {
        let msg = e.system_message?;
        let needle = msg.trim_end_matches('.').to_ascii_lowercase();
        haystack.contains(&needle).then_some(e.code)
    })
}

use LikelyCause::*;

// Check-ID sets reused by several codes.
const C_PLATFORM: &[&str] = &["USR005", "TEN007", "COR006", "DEV007"];
const C_DEVICE_LIMIT: &[&str] = &["USR006", "DEV007"];
const C_LICENSE: &[&str] = &["USR002", "TEN002", "COR005", "DEV007"];
const C_SCOPE: &[&str] = &["TEN003", "USR003", "TEN004", "TEN005", "DEV003", "DEV007"];
const C_STALE: &[&str] = &["DEV009", "DEV007"];
const C_AUTH: &[&str] = &["DEV002", "USR001", "COR001", "DEV007"];
const C_CA: &[&str] = &["TEN009", "DEV007", "COR007"];
const C_JOIN: &[&str] = &["TEN008", "COR003", "DEV001"];
const C_DEVICE: &[&str] = &["DEV007", "COR007"];

/// The catalogue, sorted by code (binary search relies on it; a unit test checks).
static CODES: &[ErrorCode] = &[ErrorCode::new(
    0x8018002B,
    None,
    MdmScope,
    "Automatic MDM enrollment could not find a usable MDM configuration for this user.",
    "Check the user's UPN suffix is a verified, routable domain.",
)
.checks(C_SCOPE)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        for s in [
            "0x8018000A",
            "0X8018000a",
            "8018000a",
            "2149056522",
            "-2145910774",
            "  (0x8018000A) ",
            "[2149056522]",
        ] {
            assert_eq!(parse_hresult(s), Some(0x8018000A), "{s}");
        }
        assert_eq!(parse_hresult("0x80180002b"), None, "nine hex digits");
        assert_eq!(parse_hresult("DEV007"), None);
        assert_eq!(parse_hresult(""), None);
        assert_eq!(parse_hresult("-"), None);
        assert_eq!(parse_hresult("4294967296"), None);
    }
}
