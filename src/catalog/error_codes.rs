//! HRESULTs seen during Windows MDM enrollment and Entra device registration, with what they
//! mean and what to do about them.
//!
//! The catalog keys on the numeric code: Microsoft's own documents disagree on some symbol
//! names (0x8018002A/0x80180030, 0x8018002B/0x80180031), so symbols are best effort.
//! Texts are written for this tool; the facts come from the sources listed in [`SOURCES`].

use std::sync::LazyLock;

use serde::{Serialize, Serializer};

mod entra;

/// Documents the facts in this table come from.
pub const SOURCES: &[&str] = &[
    "https://learn.microsoft.com/windows/client-management/mdm-diagnose-enrollment",
    "https://learn.microsoft.com/windows/win32/mdmreg/mdm-registration-constants",
    "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/troubleshoot-windows-enrollment-errors",
    "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/troubleshoot-windows-auto-enrollment",
    "https://learn.microsoft.com/troubleshoot/mem/intune/device-enrollment/windows10-enroll-error-80180002b",
    "https://learn.microsoft.com/mem/configmgr/comanage/how-to-monitor",
    "https://learn.microsoft.com/entra/identity/devices/troubleshoot-device-dsregcmd",
    "https://learn.microsoft.com/entra/identity/devices/troubleshoot-primary-refresh-token",
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
        }
    }

    const fn message(mut self, text: &'static str) -> ErrorCode {
        self.system_message = Some(text);
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

/// Every catalogued code in one table sorted by code: the enrollment codes here, the Entra
/// sign-in and registration codes ([`entra`]) and the Autopilot/ESP/TPM ones
/// (`catalog/autopilot_codes.rs`).
static ALL: LazyLock<Vec<ErrorCode>> = LazyLock::new(|| {
    let mut all: Vec<ErrorCode> = CODES
        .iter()
        .chain(entra::CODES)
        .chain(super::autopilot_codes::CODES)
        .copied()
        .collect();
    all.sort_by_key(|e| e.code);
    all
});

/// Every catalogued code, sorted by code.
pub fn all() -> &'static [ErrorCode] {
    &ALL
}

/// The catalogue entry for a code.
pub fn lookup(code: u32) -> Option<&'static ErrorCode> {
    let all = all();
    all.binary_search_by_key(&code, |e| e.code)
        .ok()
        .map(|i| &all[i])
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
    // Severity "error" (0xC…) with facility 0 is how NTSTATUS codes look (dsregcmd's PRT
    // Attempt Status, LSA results); an HRESULT of facility 0 starts with 0x8000.
    if code & 0xFFFF_0000 == 0xC000_0000 {
        return format!("NTSTATUS error 0x{low:04X} (Windows logon/LSA status)");
    }
    let facility = (code >> 16) & 0x1FFF;
    match facility {
        0x18 => format!("device enroller (MENROLL) error {low}"),
        0x19 if (100..=599).contains(&low) => format!("HTTP status {low} from the server"),
        0x19 if (12000..=12999).contains(&low) => format!("WinHTTP error {low}"),
        0x19 => format!("MDM registration (MREGISTER, Windows 8.1 era) error {low}"),
        0x1C => format!("device registration (DSREG) error {low}"),
        0x103 => format!("Autopilot / Enrollment Status Page (facility 0x103) error 0x{low:04X}"),
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
    all().iter().find_map(|e| {
        let msg = e.system_message?;
        let needle = msg.trim_end_matches('.').to_ascii_lowercase();
        haystack.contains(&needle).then_some(e.code)
    })
}

use LikelyCause::*;

// Shorthands keep the table readable (also used by `autopilot_codes.rs`).
pub(super) const fn known(
    code: u32,
    symbol: &'static str,
    cause: LikelyCause,
    description: &'static str,
    remediation: &'static str,
) -> ErrorCode {
    ErrorCode::new(code, Some(symbol), cause, description, remediation)
}

pub(super) const fn nosym(
    code: u32,
    cause: LikelyCause,
    description: &'static str,
    remediation: &'static str,
) -> ErrorCode {
    ErrorCode::new(code, None, cause, description, remediation)
}

const RETRY_THEN_SUPPORT: &str = "Usually transient: let the enrollment task retry. If it keeps failing for a day, \
collect MDM diagnostics (MdmDiagnosticsTool.exe -area DeviceEnrollment) and give Microsoft support the failure time.";
const COLLECT_CSP: &str = "Collect MDM diagnostics (MdmDiagnosticsTool.exe -area DeviceEnrollment) and read the \
DeviceManagement-Enterprise-Diagnostics-Provider Admin events around the failure to see which setting failed; \
fix or remove that setting, then retry.";
const CHECK_NETWORK: &str = "Check that the device resolves and reaches enrollment.manage.microsoft.com, \
login.microsoftonline.com and enterpriseregistration.windows.net through its proxy (also in the SYSTEM context), \
and that nothing inspects or rewrites TLS to those hosts. Retry when connectivity is stable.";
const LEGACY_MREGISTER: &str = "Legacy code from the Windows 8.1 MDM registration client. On current Windows \
treat it like the MENROLL_E_ code with the same low word, or as an HTTP/transport error where that reading fits.";

/// The catalogue, sorted by code (binary search relies on it; a unit test checks).
static CODES: &[ErrorCode] = &[
    known(0x0018_0011, "MENROLL_S_ENROLLMENT_SUSPENDED", Other,
        "A success code, not a failure: the enrollment was suspended. Windows no longer uses it.",
        "Nothing to fix. If enrollment is not progressing, look for a failure code in the same log."),
    known(0x8000_FFFF, "E_UNEXPECTED", MdmScope,
        "Unexpected failure. During automatic or co-management enrollment it typically means Entra ID holds no MDM \
         enrollment configuration yet, or the device received an enrollment URL it did not expect.",
        "In Entra ID > Mobility (MDM and WIP) > Microsoft Intune (or Intune admin center > Devices > Enrollment > \
         Windows > Automatic Enrollment) set the MDM user scope to Some or All and restore the default Intune MDM URLs."),
    known(0x8007_0032, "ERROR_NOT_SUPPORTED", UnsupportedOs,
        "Win32 error 50, \"not supported\". Co-management reports it when the Windows build is too old for automatic \
         MDM enrollment, which needs Windows 10 1709 or later.",
        "Upgrade the device to a supported Windows 10/11 release, then let the enrollment task run again."),
    known(0x8007_0490, "ERROR_NOT_FOUND", Other,
        "Win32 error 1168, \"element not found\". Co-management lists it as a passing client condition. In \
         Autopilot self-deploying or pre-provisioning it is the TPM attestation failure of AMD platforms with the \
         ASP firmware TPM (memdocs autopilot/known-issues.md).",
        "During Autopilot TPM attestation: update the AMD firmware (fTPM) to a release that fixes attestation, as \
         the device manufacturer's notes say. Otherwise usually transient: let the enrollment task retry, and \
         collect MDM diagnostics if it keeps failing."),
    known(0x8007_05B4, "ERROR_TIMEOUT", DeviceConfig,
        "Win32 error 1460, time-out. In Autopilot self-deploying or pre-provisioning the \"Securing your hardware\" step \
         times out when the machine has no physical TPM 2.0 that supports attestation (a TPM 1.2, a virtual machine, a \
         Hyper-V virtual TPM), or runs a build older than 1709 (1809 for hybrid join). A wrong clock can also make \
         attestation or the ESP time out (memdocs autopilot/self-deploying.md, known-issues.md).",
        "Use hardware with a physical TPM 2.0 capable of attestation and a supported Windows build for self-deploying \
         and pre-provisioning, or give the device a user-driven profile. Sync the clock (`w32tm /resync /force`) \
         before retrying. Outside Autopilot, check network reachability and retry."),
    nosym(0x8007_064C, AlreadyEnrolled,
        "Reported by the retired Intune PC agent: the machine is already enrolled, because of an earlier enrollment, \
         a cloned disk image, or an old account certificate still on the device.",
        "Delete the Sc_Online_Issuing certificate from the computer's certificate store and the key \
         HKLM\\SOFTWARE\\Microsoft\\OnlineManagement, then enroll again (through MDM, not the old agent)."),
    known(0x8007_065D, "E_DATATYPE_MISMATCH", Other,
        "Win32 error 1629: a value did not have the data type the receiver expected.",
        "Find the event that carries this code, identify the setting or CSP node it refers to, and correct the value \
         type in the policy that delivers it."),
    known(0x8007_06D9, "EPT_S_NOT_REGISTERED", DeviceConfig,
        "Win32 error 1753: the RPC endpoint mapper has no endpoint for a service the client called. Seen as the raw \
         result next to 0x80180023 when the dmwappushservice service is missing from the device.",
        "Check that the \"Device Management Wireless Application Protocol (WAP) Push message Routing Service\" \
         (dmwappushservice) exists and can start. If it was removed, import its service registry key from a healthy \
         device of the same build, reboot and retry."),
    known(0x8007_0774, "ERROR_DOMAIN_CONTROLLER_NOT_FOUND", Connectivity,
        "Win32 error 1908: no domain controller could be contacted. In hybrid Autopilot it also appears when a user \
         is assigned to the device or its Entra object was deleted.",
        "Give the device line of sight to a domain controller during the Autopilot run, remove user assignments \
         from hybrid Autopilot devices, re-import the hardware hash if the object was deleted, and check that the \
         Intune Connector for Active Directory may create computer objects in the target OU."),
    known(0x8018_0001, "MENROLL_E_DEVICE_MESSAGE_FORMAT_ERROR", ServerSide,
        "The enrollment server's reply did not match the expected message format or schema.",
        CHECK_NETWORK),
    known(0x8018_0002, "MENROLL_E_DEVICE_AUTHENTICATION_ERROR", Authentication,
        "The enrollment service could not authenticate the user. For automatic enrollment this usually means Windows \
         had no Entra ID token for the signed-in user.",
        "Make sure the user can sign in to Entra ID on this device: dsregcmd /status in the user's session should \
         show AzureAdPrt : YES, the account must be enabled, and the device must be joined to your tenant."),
    known(0x8018_0003, "MENROLL_E_DEVICE_AUTHORIZATION_ERROR", PlatformRestriction,
        "The user may not enroll this device (\"This user is not authorized to enroll\"). Intune answers so when the \
         user reached the device limit, when a platform restriction blocks Windows (MDM), or when the edition \
         (Windows Home) cannot be managed.",
        "Check the enrollment restrictions that win for the user in Intune admin center > Devices > Enrollment: allow \
         Windows (MDM) in the platform restriction, and delete stale devices or raise the device limit. Upgrade a \
         Home edition to Pro, Enterprise or Education."),
    known(0x8018_0004, "MENROLL_E_DEVICE_CERTIFCATEREQUEST_ERROR", ServerSide,
        "The certificate request made during enrollment failed: no permission on the certificate template, or the \
         certification authority could not be reached. (The SDK spells the symbol CERTIFCATE.)",
        "With Intune this is a service-side condition: retry later. With an on-premises MDM server, check that its \
         CA is reachable and that the user may enroll for the template."),
    known(0x8018_0005, "MENROLL_E_DEVICE_CONFIGMGRSERVER_ERROR", ServerSide,
        "The management server failed internally, for example on a database access. Normally transient.",
        RETRY_THEN_SUPPORT),
    known(0x8018_0006, "MENROLL_E_DEVICE_INTERNALSERVICE_ERROR", ServerSide,
        "An unhandled exception occurred on the enrollment server. (Microsoft's error table shows the previous \
         symbol for this code by mistake.)",
        RETRY_THEN_SUPPORT),
    known(0x8018_0007, "MENROLL_E_DEVICE_INVALIDSECURITY_ERROR", Authentication,
        "The server did not accept the security information the client sent; Windows shows it as an authentication \
         failure.",
        "Check the device clock and time zone, sign out and in again so the user's token is refreshed, and retry."),
    known(0x8018_0008, "MENROLL_E_DEVICE_UNKNOWN_ERROR", ServerSide,
        "The server reported an error it did not classify.",
        RETRY_THEN_SUPPORT),
    known(0x8018_0009, "MENROLL_E_ENROLLMENT_IN_PROGRESS", Other,
        "Another enrollment was already running on the device.",
        "Wait until it finishes, or restart the device, then retry. Do not start a manual enrollment while the \
         automatic one is running."),
    known(0x8018_000A, "MENROLL_E_DEVICE_ALREADY_ENROLLED", AlreadyEnrolled,
        "The device already has an MDM enrollment: another user enrolled or joined it, another MDM manages it, or \
         stale keys under HKLM\\SOFTWARE\\Microsoft\\Enrollments remain. With stale keys the auto-enrollment task does \
         not start and Task Scheduler logs event 7016 with 2149056522.",
        "If another user enrolled the device, sign in as that user and disconnect the work or school account. \
         Otherwise find the stale subkey under HKLM\\SOFTWARE\\Microsoft\\Enrollments (never the live \"MS DM Server\" \
         enrollment of your tenant), delete it together with its EnterpriseMgmt scheduled tasks, and run \
         gpupdate /force."),
    known(0x8018_000B, "MENROLL_E_DEVICE_NOT_ENROLLED", Other,
        "The operation needs an existing enrollment and the device has none (for example an unenroll or renewal of \
         a device that is not enrolled).",
        "Enroll the device first. If half-removed enrollment keys remain under HKLM\\SOFTWARE\\Microsoft\\Enrollments, \
         clean them up."),
    known(0x8018_000D, "MENROLL_E_DISCOVERY_SEC_CERT_DATE_INVALID", Connectivity,
        "During discovery the server certificate was outside its validity period.",
        "Check the device's date, time and time zone, and that no TLS-inspecting proxy presents its own (expired) \
         certificate for the discovery endpoint."),
    known(0x8018_000E, "MENROLL_E_PASSWORD_NEEDED", Authentication,
        "Enrollment needed a password and none was supplied.",
        "Have the user sign in interactively and retry; for unattended scenarios use a flow that supports the device \
         credential."),
    known(0x8018_000F, "MENROLL_E_WAB_ERROR", Authentication,
        "The web sign-in window (Web Authentication Broker) used during enrollment failed.",
        "Retry the sign-in and watch for blocked pages (proxy, third-party identity provider) or Conditional Access \
         prompts that cannot be satisfied on this device."),
    known(0x8018_0010, "MENROLL_E_CONNECTIVITY", Connectivity,
        "A network failure such as a name-resolution error or a time-out while talking to the enrollment service.",
        CHECK_NETWORK),
    known(0x8018_0012, "MENROLL_E_INVALIDSSLCERT", Connectivity,
        "The TLS certificate the client received for the service was not valid.",
        "Exclude the Intune and Entra endpoints from TLS inspection, make sure the device trusts the issuing root \
         certificates, and check its clock."),
    known(0x8018_0013, "MENROLL_E_DEVICECAPREACHED", DeviceLimit,
        "The user has already enrolled as many devices as the Intune device-limit restriction allows.",
        "Retire or delete the user's old devices in Intune, or raise the limit in Intune admin center > Devices > \
         Enrollment > Device limit restrictions. GPO, co-management, Entra join, bulk and Autopilot enrollments are \
         not counted against this limit."),
    known(0x8018_0014, "MENROLL_E_DEVICENOTSUPPORTED", PlatformRestriction,
        "Intune refused the platform or version (\"Your organization does not support this version of Windows\"): \
         an enrollment restriction blocks Windows (MDM), personally owned Windows devices, or this OS version. \
         Reusing an Autopilot self-deploying or pre-provisioned device can also hit it.",
        "In Intune admin center > Devices > Enrollment > Device platform restriction, find the restriction that \
         wins for the user (lowest priority number among those assigned to the user, otherwise Default) and allow \
         Windows (MDM), allow personal devices if the path counts as personal, or widen the version range. For a \
         reused self-deploying or pre-provisioned Autopilot device (\"Enrollment blocked for AP device by SDM One \
         Time Limit Check\"), look at the Autopilot record's userless enrollment status: blocked is a one-time \
         block, cleared with \"Unblock device\" on the Autopilot device (Graph allowNextEnrollment, \
         windowsAutopilotUserlessEnrollmentStatus, \"Unblocks next autopilot enrollment\"). The older advice to \
         delete the Intune device record before every reuse was rolled back (MicrosoftDocs/memdocs issue #3669)."),
    known(0x8018_0015, "MENROLL_E_NOTSUPPORTED", PlatformRestriction,
        "MDM is not supported for this device. Co-management documentation points at the enrollment restrictions.",
        "Check the platform restriction that wins for the user (as for 0x80180014) and that the edition can be \
         managed (not Windows Home)."),
    known(0x8018_0016, "MENROLL_E_NOTELIGIBLETORENEW", DeviceConfig,
        "The server turned down a renewal of the device's MDM certificate.",
        "Check the device clock. If renewal keeps failing, unenroll the device and enroll it again."),
    known(0x8018_0017, "MENROLL_E_INMAINTENANCE", ServerSide,
        "The account or service is in maintenance.",
        "Retry later; nothing to change on the device."),
    known(0x8018_0018, "MENROLL_E_USERLICENSE", License,
        "The user's license blocks enrollment: no Intune license, or one in a bad state.",
        "Assign a license that contains an Intune service plan (Intune Plan 1, EMS E3/E5, Microsoft 365 E3/E5 or \
         Business Premium…) with that plan enabled, in the Microsoft 365 admin center or Entra ID > Users > Licenses. \
         Wait for the assignment to apply, then retry."),
    known(0x8018_0019, "MENROLL_E_ENROLLMENTDATAINVALID", MdmScope,
        "The server rejected the enrollment data; the service side may not be configured correctly.",
        "Check that the tenant's MDM authority is Intune and that the MDM discovery, terms-of-use and compliance URLs \
         are the Intune defaults; if they are, contact Microsoft support."),
    known(0x8018_001A, "MENROLL_E_INSECUREREDIRECT", Connectivity,
        "The server redirected the client to plain HTTP, which the client refuses.",
        "Make sure the MDM discovery URL is https and that no proxy downgrades or redirects the connection."),
    known(0x8018_001B, "MENROLL_E_PLATFORM_WRONG_STATE", AlreadyEnrolled,
        "The operation does not fit the client's state, such as enrolling a device twice or unenrolling an unknown \
         device.",
        "Look for existing or half-removed enrollments under HKLM\\SOFTWARE\\Microsoft\\Enrollments and remove the \
         stale ones before retrying."),
    known(0x8018_001C, "MENROLL_E_PLATFORM_LICENSE_ERROR", UnsupportedOs,
        "This Windows edition does not support the requested type of enrollment.",
        "Upgrade the edition (Home to Pro, Enterprise or Education)."),
    known(0x8018_001D, "MENROLL_E_PLATFORM_UNKNOWN_ERROR", DeviceConfig,
        "An error on the client that Windows did not classify.",
        COLLECT_CSP),
    known(0x8018_001E, "MENROLL_E_PROV_CSP_CERTSTORE", DeviceConfig,
        "Provisioning failed in the CertificateStore configuration service provider.",
        "Check that the computer certificate store and key storage (TPM) are healthy, then retry. Collect MDM \
         diagnostics if it repeats."),
    known(0x8018_001F, "MENROLL_E_PROV_CSP_W7", DeviceConfig,
        "Provisioning failed in the w7 / DMAcc configuration provider (the OMA-DM account settings).",
        COLLECT_CSP),
    known(0x8018_0020, "MENROLL_E_PROV_CSP_DMCLIENT", DeviceConfig,
        "Provisioning failed in the DMClient configuration service provider.",
        COLLECT_CSP),
    known(0x8018_0021, "MENROLL_E_PROV_CSP_PFW", DeviceConfig,
        "Provisioning failed in the PassportForWork (Windows Hello for Business) configuration service provider.",
        COLLECT_CSP),
    known(0x8018_0022, "MENROLL_E_PROV_CSP_MISC", UnsupportedOs,
        "Provisioning failed in a configuration service provider not covered by the other codes. Autopilot shows it \
         when the device runs Windows Home.",
        "On Windows Home, upgrade to Pro or higher. Otherwise find the failing CSP in the \
         DeviceManagement-Enterprise-Diagnostics-Provider Admin log."),
    known(0x8018_0023, "MENROLL_E_PROV_UNKNOWN", DeviceConfig,
        "Provisioning failed without naming the provider. On hybrid devices the event can read \"OMA-DM client \
         configuration failed\" with RAWResult 0x800706D9: the dmwappushservice service is missing.",
        "If the raw result is 0x800706D9, restore the dmwappushservice service (import its registry key from a \
         healthy device of the same build), reboot and let the device re-register. Otherwise collect MDM \
         diagnostics and read the events around the failure."),
    known(0x8018_0024, "MENROLL_E_PROV_SSLCERTNOTFOUND", DeviceConfig,
        "The enrollment certificate could not be found, either in the provisioning payload or when binding it to \
         its private key.",
        "Check the TPM and key storage, remove leftovers of earlier enrollments, and retry."),
    known(0x8018_0025, "MENROLL_E_PROV_CSP_APPMGMT", DeviceConfig,
        "Provisioning failed in the EnterpriseAppManagement configuration service provider (Windows 10 1709 and later).",
        COLLECT_CSP),
    known(0x8018_0026, "MENROLL_E_DEVICE_MANAGEMENT_BLOCKED", DeviceConfig,
        "MDM enrollment is blocked on the device: the \"Disable MDM Enrollment\" policy (or the equivalent \
         managed-externally setting) is on, or Entra join tried to auto-enroll while the retired Intune PC agent \
         is installed.",
        "Remove the blocking policy (Computer Configuration > Administrative Templates > Windows Components > MDM > \
         Disable MDM Enrollment) and its registry value; uninstall the legacy Intune PC agent, or keep those users \
         out of the MDM user scope while they still use it."),
    known(0x8018_0027, "MENROLL_E_CERTPOLICY_PRIVATEKEYCREATION_FAILED", DeviceConfig,
        "The client could not create the private key for its MDM certificate.",
        "Check the TPM in tpm.msc (it should be ready for use), update its firmware, and clear it if its state is \
         stale; then retry."),
    known(0x8018_0028, "MENROLL_E_CERTAUTH_FAILED_TO_FIND_CERT", Authentication,
        "Certificate-based authentication was requested but the client found no suitable certificate.",
        "Check that the device holds a valid Entra device certificate (dsregcmd /status: DeviceCertificateValidity) \
         and re-join the device if it does not."),
    known(0x8018_0029, "MENROLL_E_EMPTY_MESSAGE", ServerSide,
        "The server answered HTTP 200 with an empty body.",
        "A proxy answering on behalf of the service is a common reason: check the proxy, then retry."),
    known(0x8018_002A, "MENROLL_E_USER_CANCELED", ConditionalAccess,
        "The enrollment was cancelled on the user side. With automatic enrollment it nearly always means MFA was \
         required: the user ignored the enrollment toast, or enforced per-user MFA stops the silent user-credential \
         enrollment of a hybrid device (the AAD Operational log shows 0xCAA2000C / AADSTS50076). Transient when the \
         user answers the next prompt.",
        "Have users sign in to Windows with a strong method (Windows Hello for Business) so the token already \
         satisfies MFA; replace enforced per-user MFA by Conditional Access; and exclude the \"Microsoft Intune \
         Enrollment\" and \"Microsoft Intune\" apps from MFA, compliant-device and terms-of-use grant controls for \
         Windows enrollment, or treat the devices' network as trusted."),
    nosym(0x8018_002B, MdmScope,
        "Automatic MDM enrollment found no usable MDM configuration for the signed-in user (event 76 \"Unknown Win32 \
         Error code: 0x8018002b\"). Documented causes: the UPN suffix is not a verified domain or is non-routable \
         (.local); the MDM user scope is None or leaves the user out; stale CloudDomainJoin TenantInfo of another \
         tenant (AzureAdPrt NO, wrong TenantId); or, briefly, Entra settings not yet applied. Some docs call it \
         MENROLL_E_MDM_NOT_CONFIGURED; the SDK gives that name to 0x80180031.",
        "Give the user a UPN in a verified, routable domain (Entra ID > Custom domain names; change the on-premises \
         UPN suffix and let it sync). Set the MDM user scope of \"Microsoft Intune\" to All or to a group that holds \
         the user, with MAM scope None for them. If dsregcmd shows another tenant, run dsregcmd /leave as an \
         administrator, delete the stale HKLM\\SYSTEM\\CurrentControlSet\\Control\\CloudDomainJoin\\TenantInfo\\<id> key, \
         re-join and sign in again."),
    known(0x8018_0030, "MENROLL_E_USER_CANCELLED", ConditionalAccess,
        "The user cancelled the operation. The SDK metadata puts this name here; Windows documentation uses the same \
         meaning for 0x8018002A.",
        "Retry and complete the prompts. Where MFA prompts are involved, handle it like 0x8018002A."),
    known(0x8018_0031, "MENROLL_E_MDM_NOT_CONFIGURED", MdmScope,
        "Entra ID returned no MDM configuration for the user: no MDM application is set up, or the user is outside \
         its scope.",
        "In Entra ID > Mobility (MDM and WIP) > Microsoft Intune set the MDM user scope to All or to a group that \
         includes the user, keep the default Intune URLs, and configure \"Microsoft Intune\" rather than \"Microsoft \
         Intune Enrollment\".")
        .message("Mobile Device Management (MDM) is not configured."),
    known(0x8018_0032, "MENROLL_E_CUSTOMSERVERERROR", ServerSide,
        "The server answered with its own error text; that text is written to the \
         DeviceManagement-Enterprise-Diagnostics-Provider Admin log.",
        "Read the neighbouring events in that log for the server's message and act on it."),
    known(0x8018_0033, "MENROLL_E_SERVER429", ServerSide,
        "The server throttled the client and asked it to come back later.",
        "Wait; the client retries on its own. Large enrollment waves can cause it, so stagger them."),
    known(0x8019_0001, "MREGISTER_E_DEVICE_MESSAGE_FORMAT_ERROR", ServerSide,
        "Windows 8.1-era MDM registration: the server's reply had the wrong format. The same value is also \
         HTTP_E_STATUS_UNEXPECTED (an unexpected HTTP status) on current Windows.",
        LEGACY_MREGISTER),
    known(0x8019_0002, "MREGISTER_E_DEVICE_AUTHENTICATION_ERROR", Authentication,
        "Windows 8.1-era MDM registration: the server could not authenticate the user.",
        LEGACY_MREGISTER),
    known(0x8019_0003, "MREGISTER_E_DEVICE_AUTHORIZATION_ERROR", PlatformRestriction,
        "Windows 8.1-era MDM registration: the user may not register the device. The same value is also \
         HTTP_E_STATUS_UNEXPECTED_REDIRECTION on current Windows.",
        LEGACY_MREGISTER),
    known(0x8019_0004, "MREGISTER_E_DEVICE_CERTIFCATEREQUEST_ERROR", ServerSide,
        "Windows 8.1-era MDM registration: the certificate request failed. The same value is also \
         HTTP_E_STATUS_UNEXPECTED_CLIENT_ERROR (an unexpected 4xx) on current Windows.",
        LEGACY_MREGISTER),
    known(0x8019_0005, "MREGISTER_E_DEVICE_CONFIGMGRSERVER_ERROR", ServerSide,
        "Windows 8.1-era MDM registration: the management server failed internally. The same value is also \
         HTTP_E_STATUS_UNEXPECTED_SERVER_ERROR (an unexpected 5xx) on current Windows.",
        LEGACY_MREGISTER),
    known(0x8019_0006, "MREGISTER_E_DEVICE_INTERNALSERVICE_ERROR", ServerSide,
        "Windows 8.1-era MDM registration: unhandled exception on the server.",
        LEGACY_MREGISTER),
    known(0x8019_0007, "MREGISTER_E_DEVICE_INVALIDSECURITY_ERROR", Authentication,
        "Windows 8.1-era MDM registration: the server did not accept the client's security information.",
        LEGACY_MREGISTER),
    known(0x8019_0008, "MREGISTER_E_DEVICE_UNKNOWN_ERROR", ServerSide,
        "Windows 8.1-era MDM registration: unclassified server error.",
        LEGACY_MREGISTER),
    known(0x8019_0009, "MREGISTER_E_REGISTRATION_IN_PROGRESS", Other,
        "Windows 8.1-era MDM registration: another registration was already running.",
        LEGACY_MREGISTER),
    known(0x8019_000A, "MREGISTER_E_DEVICE_ALREADY_REGISTERED", AlreadyEnrolled,
        "Windows 8.1-era MDM registration: the device was already registered. Marked as no longer used.",
        LEGACY_MREGISTER),
    known(0x8019_000B, "MREGISTER_E_DEVICE_NOT_REGISTERED", Other,
        "Windows 8.1-era MDM registration: the device was not registered. Marked as no longer used.",
        LEGACY_MREGISTER),
    known(0x8019_000C, "MREGISTER_E_DISCOVERY_REDIRECTED", Connectivity,
        "Windows 8.1-era MDM registration: discovery was redirected. Marked as no longer used.",
        LEGACY_MREGISTER),
    known(0x8019_000D, "MREGISTER_E_DEVICE_NOT_AD_REGISTERED_ERROR", JoinNotAllowed,
        "Windows 8.1-era MDM registration: the device was not registered with the directory. Marked as no longer used.",
        LEGACY_MREGISTER),
    known(0x8019_000E, "MREGISTER_E_DISCOVERY_FAILED", Connectivity,
        "Windows 8.1-era MDM registration: discovery failed. Marked as no longer used.",
        LEGACY_MREGISTER),
    known(0x8019_0190, "HTTP_E_STATUS_BAD_REQUEST", DeviceConfig,
        "HTTP 400 from the enrollment server. Reported by administrators (not documented by Microsoft) with \
         device-credential auto-enrollment when HKLM\\SOFTWARE\\Microsoft\\Enrollments\\MmpcEnrollmentFlag is 2, a \
         leftover of Defender for Endpoint security settings management.",
        "Look at that registry value: deleting it, or setting it to 0, and retrying is the reported fix. Otherwise \
         compare the MDM discovery URL with the Intune default.")
        .message("Bad request (400)."),
    known(0x8019_0191, "HTTP_E_STATUS_DENIED", Authentication,
        "HTTP 401 from the server: the request carried no acceptable credentials.",
        "Check that the user or device has a valid Entra token for your tenant (dsregcmd: AzureAdPrt, TenantId) and \
         that the MDM URLs point at Intune."),
    known(0x8019_0193, "HTTP_E_STATUS_FORBIDDEN", Other,
        "HTTP 403 from the server: it understood the request and refused it.",
        "Check the user's license, MDM scope and enrollment restrictions; a proxy that blocks the enrollment hosts \
         can also answer 403."),
    known(0x8019_0194, "HTTP_E_STATUS_NOT_FOUND", MdmScope,
        "HTTP 404: the address the device called does not exist. Microsoft's enrollment articles do not describe it; \
         a wrong or custom MDM discovery URL is the first thing to rule out.",
        "Compare the MDM discovery URL in Entra ID (and MdmUrl in dsregcmd /status) with the Intune default \
         https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc, and check the proxy.")
        .message("Not found (404)."),
    nosym(0x8019_01AD, ServerSide,
        "HTTP 429, too many requests. Co-management calls it a generic HTTP issue; it passes.",
        "Wait; the client retries. Stagger large enrollment waves."),
    known(0x8019_01F4, "HTTP_E_STATUS_SERVER_ERROR", ServerSide,
        "HTTP 500, an internal error on the server.",
        RETRY_THEN_SUPPORT),
    known(0x8019_2EE2, "ERROR_WINHTTP_TIMEOUT", Connectivity,
        "WinHTTP error 12002 carried in the HTTP facility: the request to the service timed out. Usually passing.",
        CHECK_NETWORK),
    known(0x8019_2EE7, "ERROR_WINHTTP_NAME_NOT_RESOLVED", Connectivity,
        "WinHTTP error 12007 carried in the HTTP facility: the service's host name could not be resolved.",
        "Check the device's DNS configuration and that it resolves enrollment.manage.microsoft.com and \
         login.microsoftonline.com (also through the proxy used in the SYSTEM context)."),
    known(0x801C_0001, "DSREG_E_DEVICE_MESSAGE_FORMAT_ERROR", ServerSide,
        "Device registration: the registration service's reply had an unexpected format.",
        CHECK_NETWORK),
    known(0x801C_0002, "DSREG_E_DEVICE_AUTHENTICATION_ERROR", Authentication,
        "Device registration: Entra ID could not authenticate the registration request.",
        "Check that the user or computer can authenticate to Entra ID (for federated domains, that the federation \
         server issues the device-registration claims), then retry."),
    known(0x801C_0003, "DSREG_E_DEVICE_AUTHORIZATION_ERROR", JoinNotAllowed,
        "The user may not join or register devices (\"This user is not allowed to enroll\"): \"Users may join \
         devices to Microsoft Entra ID\" is None or leaves the user out, or the user reached the Entra per-user \
         device quota.",
        "In the Entra admin center > Devices > Device settings set \"Users may join devices to Microsoft Entra ID\" \
         to All, or to Selected including the user, and check \"Maximum number of devices per user\"; delete the \
         user's stale devices. Hybrid join is not affected by these settings."),
    known(0x801C_0006, "DSREG_E_DEVICE_INTERNALSERVICE_ERROR", ServerSide,
        "Device registration: an unhandled error in the registration service.",
        RETRY_THEN_SUPPORT),
    known(0x801C_000B, "DSREG_E_DISCOVERY_REDIRECTION_NOT_TRUSTED", Connectivity,
        "Device registration discovery was redirected to a server the client does not trust.",
        "Check the service connection point and federation configuration, and that no proxy redirects the \
         registration endpoints."),
    known(0x801C_000C, "DSREG_E_DISCOVERY_FAILED", Connectivity,
        "Device registration discovery failed.",
        CHECK_NETWORK),
    known(0x801C_000E, "DSREG_E_DEVICE_REGISTRATION_QUOTA_EXCCEEDED", JoinNotAllowed,
        "Entra refused the join or registration: the user reached Entra's per-user device quota (\"Maximum \
         number of devices per user\", which counts Entra-joined and registered devices, not hybrid-joined ones; \
         entra-docs identity/devices/manage-device-identities.md). This is not the Intune enrollment device \
         limit. (The symbol's misspelling is Microsoft's.)",
        "Delete the user's stale devices in Entra ID or raise \"Maximum number of devices per user\" in Entra admin \
         center > Devices > Device settings. Hybrid-joined devices do not count."),
    known(0x801C_000F, "DSREG_E_DEVICE_REQUIRES_REBOOT", DeviceConfig,
        "Device registration needs a restart to finish.",
        "Restart the device and sign in again."),
    known(0x801C_0010, "DSREG_E_DEVICE_AIK_VALIDATION_ERROR", DeviceConfig,
        "The TPM's attestation identity key could not be validated.",
        "Update the TPM firmware, check in tpm.msc that the TPM is ready, and retry."),
    known(0x801C_0011, "DSREG_E_DEVICE_ATTESTATION_ERROR", DeviceConfig,
        "TPM attestation failed during device registration.",
        "Update the TPM firmware, check in tpm.msc that the TPM is ready, and retry."),
    known(0x801C_0012, "DSREG_E_DISCOVERY_BAD_MESSAGE_ERROR", Connectivity,
        "The device registration discovery reply could not be read.",
        CHECK_NETWORK),
    known(0x801C_0013, "DSREG_E_TENANTID_NOT_FOUND", DeviceConfig,
        "Device registration could not determine the tenant ID.",
        "Check the service connection point (keywords azureADId and azureADName) in the forest, or the client-side \
         values TenantId/TenantName under HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\CDJ\\AAD."),
    known(0x801C_0014, "DSREG_E_USERSID_NOT_FOUND", Authentication,
        "Device registration could not find the user's SID.",
        "Sign out and in again with the domain account; check that the account is synchronised to Entra ID."),
    nosym(0x801C_001D, DeviceConfig,
        "Hybrid join could not find or read the service connection point (SCP) in the discover phase; dsregcmd \
         reports \"AD Configuration Test : FAIL\".",
        "Create or repair the SCP (Entra Connect > Configure device options, or the manual steps), check that \
         computers can read the Configuration partition, or set TenantId/TenantName under \
         HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\CDJ\\AAD for a targeted rollout."),
    nosym(0x801C_03EA, DeviceConfig,
        "TPM attestation failed, so the Entra join with a device token (self-deploying, pre-provisioning) failed at \
         \"Registering your device for mobile management\"; the documented reason is a TPM that can run version 2.0 \
         but still has older firmware (memdocs autopilot/known-issues.md; troubleshoot-windows-enrollment-errors.md).",
        "Upgrade the TPM firmware to 2.0 and check that no conflicting Autopilot profiles are assigned."),
    nosym(0x801C_03F2, DeviceConfig,
        "Entra ID has no synchronised object for this computer yet (DirectoryError: public key / userCertificate \
         not found). Expected on managed domains until Entra Connect has synced the computer; the device retries.",
        "Wait for the next Entra Connect sync, and check that the computer's OU is in the sync scope and its \
         userCertificate attribute is populated."),
    nosym(0x80CF_4017, Other,
        "The retired Intune PC client software on the device is out of date.",
        "Remove the legacy Intune PC agent; Windows devices enroll through MDM."),
    nosym(0x82AA_0008, Other,
        "Not enough memory was available to process the command. Co-management treats it as transient.",
        "Let the client retry; free memory or restart the device if it repeats."),
    // NTSTATUS codes that dsregcmd prints as the PRT "Attempt Status" (AcquirePrtDiagnostics).
    nosym(0xC000_006A, Authentication,
        "STATUS_WRONG_PASSWORD: the PRT request was refused because the password was wrong (often a cached, \
         outdated password after a change made elsewhere).",
        "Have the user sign in to Windows with the current password (lock and unlock with line of sight to a domain \
         controller or Entra ID), then check AzureAdPrt : YES."),
    nosym(0xC000_006D, Authentication,
        "STATUS_LOGON_FAILURE: the PRT request was refused: bad user name or credentials. The Server Error \
         Description (AADSTS…) next to it says which, e.g. AADSTS50126 invalid user name or password.",
        "Read the AADSTS code in dsregcmd's SSO State; have the user sign in with the current password, and check \
         that the UPN suffix is a verified domain and that password hash sync or federation works for the user."),
    nosym(0xC000_0071, Authentication,
        "STATUS_PASSWORD_EXPIRED: the user's password has expired, so no PRT is issued.",
        "Have the user change the password and sign in again, then check AzureAdPrt : YES."),
    nosym(0xC000_0072, Authentication,
        "STATUS_ACCOUNT_DISABLED: the user account is disabled, so no PRT is issued.",
        "Enable the account (on premises and, after sync, in Entra ID) or sign in with the right user."),
    nosym(0xC000_0234, Authentication,
        "STATUS_ACCOUNT_LOCKED_OUT: the user account is locked out, so no PRT is issued.",
        "Unlock the account, find the source of the bad password attempts, and have the user sign in again."),
    nosym(0xCAA1_0001, Authentication,
        "Token broker: the user needs to sign in. Transient when the user signs out before the enrollment task runs.",
        "Let the user stay signed in until enrollment has run; check that dsregcmd shows AzureAdPrt : YES in the \
         user's session."),
    nosym(0xCAA2_0003, Authentication,
        "Token broker (ADAL): the authorisation grant for this assertion was refused.",
        "Check the Entra ID and federation configuration and that the user can authenticate; for federated domains, \
         check the claims the federation server issues."),
    nosym(0xCAA2_000C, ConditionalAccess,
        "Token broker: the request needs user interaction (interaction_required, e.g. AADSTS50076: MFA required). \
         Logged in AAD Operational next to 0x8018002A on hybrid devices with enforced MFA.",
        "Treat like 0x8018002A: satisfy MFA at Windows sign-in (Windows Hello for Business), replace enforced \
         per-user MFA by Conditional Access, and exclude the Intune enrollment apps from MFA grant controls."),
    nosym(0xCAA7_0004, Connectivity,
        "Token broker: the server or proxy could not be found. Transient when the device was briefly offline.",
        CHECK_NETWORK),
    nosym(0xCAA9_0014, Authentication,
        "Token broker (ADAL): the security token request failed (WS-Trust request to the federation server).",
        "Check the Entra ID and federation configuration and that the user can authenticate."),
    nosym(0xCAA9_001F, Authentication,
        "Token broker: integrated Windows authentication works only for federated domains, and the user's domain is \
         managed.",
        "For managed domains, hybrid join (with password hash sync or pass-through authentication) must provide the \
         primary refresh token; do not rely on integrated Windows authentication. Review the hybrid join plan."),
    nosym(0xCAA9_004D, Authentication,
        "Token broker (ADAL): user realm discovery returned an unknown account type.",
        "Check that the user's UPN domain is verified in Entra ID and correctly set up as managed or federated."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntstatus_from_prt_diagnostics_is_named_as_such() {
        assert!(facility_decoding(0xC000_006D).starts_with("NTSTATUS"));
        assert!(facility_decoding(0xC000_0999).starts_with("NTSTATUS"));
        assert!(describe(0xC000_006D).contains("STATUS_LOGON_FAILURE"));
        assert!(facility_decoding(0x8000_4005).starts_with("generic COM"));
    }

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

    #[test]
    fn table_is_sorted_unique_and_complete() {
        for w in all().windows(2) {
            assert!(w[0].code < w[1].code, "{} then {}", w[0].hex(), w[1].hex());
        }
        for e in all() {
            assert!(!e.description.trim().is_empty(), "{}", e.hex());
            assert!(!e.remediation.trim().is_empty(), "{}", e.hex());
            assert_eq!(lookup(e.code).map(|x| x.code), Some(e.code));
        }
        // The codes Microsoft's enrollment troubleshooting articles lean on.
        for code in [
            0x8018000A, 0x8018002B, 0x8018002A, 0x80180014, 0x80180018, 0x80180031, 0x801C0003,
            0x80190190, 0x80190194, 0xCAA2000C, 0x801C03F2,
        ] {
            assert!(lookup(code).is_some(), "{}", format_hresult(code));
        }
    }

    #[test]
    fn describe_known_and_unknown_codes() {
        let d = describe(0x8018000A);
        assert!(
            d.starts_with("0x8018000A MENROLL_E_DEVICE_ALREADY_ENROLLED — "),
            "{d}"
        );
        assert!(describe(0x8018002B).starts_with("0x8018002B — "));
        assert!(describe(0x8018FFF0).contains("device enroller"));
        assert!(describe(0x80190199).contains("HTTP status 409"));
        assert!(describe(0x801C0099).contains("DSREG"));
        assert!(describe(0xCAA50021).contains("token broker"));
        assert!(describe(0x80070005).contains("Win32 error 5"));
        assert!(describe(0x80192EFD).contains("WinHTTP error 12029"));
    }

    #[test]
    fn finds_codes_in_event_text() {
        assert_eq!(
            hresults_in_text("Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x8018002b)"),
            vec![0x8018002B]
        );
        assert_eq!(
            hresults_in_text(
                "MDM Enroll: OMA-DM client configuration failed. RAWResult: (0x800706D9) Result: (Unknown Win32 Error code: 0x80180023)"
            ),
            vec![0x800706D9, 0x80180023]
        );
        assert_eq!(
            hresults_in_text(
                "Task Scheduler failed to start task. Additional Data: Error Value: 2149056522."
            ),
            vec![0x8018000A]
        );
        assert_eq!(
            hresults_in_text("Last Result: -2145910774"),
            vec![0x8018000A]
        );
        assert_eq!(hresults_in_text("error 8018002b shown"), vec![0x8018002B]);
        // GUIDs, record ids, timestamps and success codes are not failure codes.
        assert!(
            hresults_in_text(
                "{80180014-1111-2222-3333-444455556666} EventRecordID 2149056 at 1732700000123"
            )
            .is_empty()
        );
        assert!(hresults_in_text("Result: 0x0").is_empty());
        // Repeats are reported once, in order of first appearance.
        assert_eq!(
            hresults_in_text("0x80180014 then 0x8018000a then 0x80180014"),
            vec![0x80180014, 0x8018000A]
        );
    }

    #[test]
    fn system_message_maps_back_to_its_code() {
        assert_eq!(
            code_for_system_message(
                "Auto MDM Enroll: Failed (Mobile Device Management (MDM) is not configured.)"
            ),
            Some(0x80180031)
        );
        assert_eq!(
            code_for_system_message(
                "Auto MDM Enroll: Device Credential (0x1), Failed (Bad request (400).)"
            ),
            Some(0x80190190)
        );
        assert_eq!(code_for_system_message("Auto MDM Enroll: Succeeded"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_code_parses_back_from_every_notation(code in proptest::num::u32::ANY) {
            proptest::prop_assert_eq!(parse_hresult(&format_hresult(code)), Some(code));
            proptest::prop_assert_eq!(parse_hresult(&format!("{code:08x}")), Some(code));
            // Decimal forms are unambiguous for failure codes (ten digits, or negative); an
            // eight-digit decimal would be read as hex, as documented on parse_hresult.
            let failure = code | 0x8000_0000;
            proptest::prop_assert_eq!(parse_hresult(&format!(" ({failure}) ")), Some(failure));
            proptest::prop_assert_eq!(parse_hresult(&(failure as i32).to_string()), Some(failure));
        }

        #[test]
        fn scanning_arbitrary_text_never_panics(text in ".{0,200}") {
            let found = hresults_in_text(&text);
            let mut seen = std::collections::HashSet::new();
            for code in found {
                proptest::prop_assert!(seen.insert(code), "duplicate {}", format_hresult(code));
            }
        }
    }

    #[test]
    fn roundtrip_all_formats() {
        for e in all() {
            let forms = [
                e.hex(),
                format!("{:08x}", e.code),
                e.code.to_string(),
                e.signed().to_string(),
            ];
            for f in forms {
                assert_eq!(parse_hresult(&f), Some(e.code), "{f}");
            }
        }
    }
}
