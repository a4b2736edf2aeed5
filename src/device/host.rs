//! Facts about the machine itself rather than its enrollment: hardware identity, TPM, the
//! network path the enrollment client (SYSTEM) takes, and the clock. Plain serde data filled by
//! the collector bundle and by loose command outputs (`netsh winhttp show proxy`,
//! `w32tm /query /status`); read by the device, Autopilot and correlation checks.
//!
//! Every field is optional: `None` means "not collected", never "false".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::report::Location;

/// Manufacturer, model and serial number (`Win32_ComputerSystem` / `Win32_BIOS`), the keys an
/// Autopilot device identity is matched on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HardwareInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `Win32_BIOS.SerialNumber` as reported (trimmed; placeholders such as
    /// "To be filled by O.E.M." are kept as written and judged by the checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Why the collector could not read it, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub location: Location,
}

/// The TPM as `Get-Tpm` and `Win32_Tpm` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TpmInfo {
    /// `TpmPresent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// `TpmReady`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// `TpmEnabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `TpmActivated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated: Option<bool>,
    /// `Win32_Tpm.SpecVersion` as written, e.g. `2.0, 0, 1.59`; the first item is the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    /// `ManufacturerIdTxt` (e.g. `IFX`, `NTC`, `MSFT` for a virtual TPM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// `ManufacturerVersion` (firmware), e.g. `7.2.3.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_version: Option<String>,
    /// Attestation readiness as the device reports it (`Get-TpmEndorsementKeyInfo` /
    /// `tpmtool getdeviceinformation` "Is Capable For Attestation" / "Ready For Attestation").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation_capable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation_ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub location: Location,
}

impl TpmInfo {
    /// Major spec version from `spec_version` (`"2.0, 0, 1.59"` → `Some("2.0")`).
    pub fn major_version(&self) -> Option<&str> {
        let v = self.spec_version.as_deref()?.split(',').next()?.trim();
        (!v.is_empty()).then_some(v)
    }
}

/// The network path as the enrollment client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NetworkEvidence {
    /// The WinHTTP proxy (what SYSTEM services use), from `netsh winhttp show proxy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winhttp_proxy: Option<WinHttpProxy>,
    /// Machine-wide WinINET settings (`HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\
    /// Internet Settings` `ProxySettingsPerUser`, and the machine's `ProxyServer`/`AutoConfigURL`
    /// when per-machine proxy is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_proxy: Option<MachineProxy>,
    /// One probe per endpoint of the device's cloud (enrollment, registration, sign-in).
    #[serde(default)]
    pub probes: Vec<EndpointProbe>,
    /// `true` when the probes ran as SYSTEM (the enrollment client's own context).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probed_as_system: Option<bool>,
    /// Why the network part could not be gathered, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `netsh winhttp show proxy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WinHttpProxy {
    /// `true` for "Direct access (no proxy server)."
    pub direct: bool,
    /// `Proxy Server(s)` as written (`proxy:8080` or `http=…;https=…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_server: Option<String>,
    /// `Bypass List` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass_list: Option<String>,
    pub location: Location,
}

/// Machine-level WinINET proxy facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MachineProxy {
    /// `ProxySettingsPerUser` = 0 means one proxy configuration for the whole machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_user: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_config_url: Option<String>,
    pub location: Location,
}

/// What one endpoint looked like from the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EndpointProbe {
    /// `https://enrollment.manage.microsoft.com/…`
    pub url: String,
    /// What the endpoint is for: `enrollment`, `registration`, `sign-in`, `discovery`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Name resolution succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<bool>,
    /// TCP connect to port 443 succeeded (through the proxy when one is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<bool>,
    /// TLS handshake completed and the chain was trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    /// HTTP status of the response, if one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Issuer of the certificate the device was shown (to spot TLS inspection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_subject: Option<String>,
    /// The proxy the probe went through, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_proxy: Option<String>,
    /// The server's `Date` header and the device's clock at that moment (clock skew).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_time: Option<DateTime<Utc>>,
    /// The error text when the probe failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure class PowerShell reported (`WebExceptionStatus` in 5.1: `NameResolutionFailure`,
    /// `ConnectFailure`, `TrustFailure`, `SecureChannelFailure`, `Timeout`…; `HttpRequestError` in
    /// 7.4: `NameResolutionError`, `ConnectionError`, `SecureConnectionError`, `ProxyTunnelError`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_status: Option<String>,
    /// `SslPolicyErrors` of the presented chain as the device judged it (`None` = trusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_policy_errors: Option<String>,
    /// What the probe could not establish and why (e.g. Constrained Language Mode: no issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub location: Location,
}

/// The device clock, from `w32tm /query /status` (and probe `Date` headers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ClockEvidence {
    /// `Source:` (e.g. `time.windows.com,0x9`, `Local CMOS Clock`, `VM IC Time Synchronization
    /// Provider`, a DC name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `Last Successful Sync Time:` as UTC. w32tm prints local time in the user's date format,
    /// so this is set only when the device's UTC offset is known (the collector records it) and
    /// the date reads one way only; otherwise see `last_sync_text`. None for "unspecified".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<DateTime<Utc>>,
    /// `Last Successful Sync Time:` as written (`unspecified` when the clock never synced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_text: Option<String>,
    /// The device's offset from UTC in minutes when w32tm ran (collector `clock.utcOffsetMinutes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i32>,
    /// `Leap Indicator:` 3 = not synchronized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leap_indicator: Option<u8>,
    /// `Stratum:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stratum: Option<u32>,
    /// `Phase Offset:` in seconds (only with `/verbose`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_offset_seconds: Option<f64>,
    /// When w32tm ran (device clock), to judge how old `last_sync` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queried_at: Option<DateTime<Utc>>,
    /// Why w32tm could not run (e.g. "The service has not been started.").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What was read but could not be used (e.g. a sync time in an unknown date format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub location: Location,
}
