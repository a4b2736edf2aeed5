//! The facts read from one device: the output of the artifact parsers, the input of the
//! device checks. Plain serde data; every fact keeps where it came from (file and line or record).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Schema tag of the collector's JSON bundle (the raw, on-device form of a report).
pub const DEVICE_REPORT_SCHEMA: &str = "enroll-doctor/device-report@1";

/// Where a fact came from: a file name (relative to the report root) and a line or record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Location {
    pub file: String,
    /// 1-based line number, when the format has lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Record identifier (event record id, CSV row, JSON array index) when there are no lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.line, &self.record) {
            (Some(l), _) => write!(f, "{}:{}", self.file, l),
            (None, Some(r)) => write!(f, "{} record {}", self.file, r),
            (None, None) => write!(f, "{}", self.file),
        }
    }
}

/// Everything known about one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DeviceReport {
    /// Human label: host name if known, else the folder/zip/file name.
    pub label: String,
    /// Every input file considered, with its detected kind and encoding, or why it was unreadable.
    pub inputs: Vec<InputFile>,
    /// Present when the report came from the collector bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<CollectorContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsregcmd: Option<Dsregcmd>,
    /// Events from the DeviceManagement-Enterprise-Diagnostics-Provider and Task Scheduler
    /// providers (filtered by provider, not channel), oldest first.
    pub events: Vec<EventRecord>,
    /// What is known about each event log that was exported (one entry per log seen).
    pub event_logs: Vec<EventLogInfo>,
    /// Registry keys from `reg export` files (or the bundle), in file order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Registry>,
    /// EnterpriseMgmt (and any other) scheduled tasks; `None` when no task list was supplied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_tasks: Option<Vec<ScheduledTask>>,
    /// OS facts (from the CurrentVersion registry export or the bundle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    /// Enrollments listed in MdmDiagnosticsTool's `MDMDiagReport.xml`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mdm_diag_enrollments: Vec<MdmDiagEnrollment>,
    /// Manufacturer, model, serial number (collector `hardware`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<super::host::HardwareInfo>,
    /// TPM presence, version and attestation readiness (collector `tpm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<super::host::TpmInfo>,
    /// WinHTTP/machine proxy and endpoint probes (collector `network`, `netsh winhttp show proxy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<super::host::NetworkEvidence>,
    /// `w32tm /query /status` (collector `clock`, or the loose text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<super::host::ClockEvidence>,
    /// Autopilot profile, ESP tracking, FirstSync and Autopilot events
    /// ([`super::autopilot::autopilot_evidence`], derived when the report is assembled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autopilot: Option<super::autopilot::AutopilotEvidence>,
}

/// One `DeviceManagementAccount/Enrollment` of `MDMDiagReport.xml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MdmDiagEnrollment {
    /// Same GUID as the `Enrollments\{GUID}` key (case and braces as written).
    pub enrollment_id: String,
    /// `ProtectedInformation/MDMServerName`, e.g. `Microsoft Intune`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdm_server: Option<String>,
    /// Last successful OMA-DM contact with the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<DateTime<Utc>>,
    pub location: Location,
}

/// Kind of an input file, detected by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    Dsregcmd,
    EventXml,
    EventJson,
    EventCsv,
    /// `wevtutil qe … /f:text` (`Event[n]:` blocks) or Event Viewer's "Copy details as text".
    EventText,
    /// A binary `.evtx` log (Event Viewer's "Save All Events As…", `wevtutil epl`).
    EventEvtx,
    /// MdmDiagnosticsTool's `MDMDiagReport.xml` (root `MDMEnterpriseDiagnosticsReport`).
    MdmDiagReport,
    RegistryExport,
    /// `reg query KEY [/s]` console output.
    RegistryQuery,
    SchtasksCsv,
    Bundle,
    /// An Autopilot profile JSON (`AutopilotDDSZTDFile.json`, `AutopilotConciergeFile.json`,
    /// `AutopilotConfigurationFile.json`).
    AutopilotProfile,
    /// MdmDiagnosticsTool's `DeviceHash_*.csv`.
    AutopilotHash,
    /// `tpmtool getdeviceinformation` output.
    TpmTool,
    /// `netsh winhttp show proxy` output (English).
    WinHttpProxy,
    /// `w32tm /query /status` output (English).
    W32tm,
    /// MdmDiagnosticsTool's HTML summary (`MDMDiagHtmlReport.html`): written for people; the
    /// same facts are read from `MDMDiagReport.xml`.
    MdmDiagHtml,
    /// Read but recognised as none of the above (or empty).
    Unrecognised,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Path relative to the report root (or the file name for a single file).
    pub name: String,
    pub kind: ArtifactKind,
    /// `utf-16le-bom`, `utf-8-bom`, `utf-8`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    pub bytes: u64,
    /// Why the file could not be used (unreadable, truncated, binary, too large…), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Records/lines understood from it (fields, events, keys, tasks).
    pub records: usize,
}

/// The collector script's record of how and where it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CollectorContext {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub host_name: Option<String>,
    /// `DOMAIN\user` the script ran as (the last, elevated part of a two-part run; the
    /// `dsregcmd_*` fields say who ran `dsregcmd /status`).
    #[serde(default)]
    pub user: Option<String>,
    /// Whether the run that gathered logs, registry and tasks was elevated.
    #[serde(default)]
    pub elevated: Option<bool>,
    #[serde(default)]
    pub is_system: Option<bool>,
    #[serde(default)]
    pub collected_at: Option<DateTime<Utc>>,
    /// Artifacts the collector could not gather and why (e.g. tasks need elevation).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Who ran `dsregcmd /status` (part 1 of the two-part run), when it differs from `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsregcmd_user: Option<String>,
    /// Whether `dsregcmd /status` ran elevated (user-context fields may then be missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsregcmd_elevated: Option<bool>,
    /// Whether `dsregcmd /status` ran as SYSTEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsregcmd_is_system: Option<bool>,
}

/// `dsregcmd /status`, as sections of fields, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Dsregcmd {
    pub file: String,
    pub sections: Vec<DsregSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsregSection {
    /// Title as printed (`Device State`, `SSO State`, `Work Account 1`…).
    pub title: String,
    pub line: usize,
    pub fields: Vec<DsregField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsregField {
    /// Name as printed (case preserved; compare case-insensitively).
    pub name: String,
    /// Value with wrapped continuation lines joined; "" for an empty value.
    pub value: String,
    pub line: usize,
}

impl Dsregcmd {
    /// The section whose title matches case-insensitively.
    pub fn section(&self, title: &str) -> Option<&DsregSection> {
        self.sections
            .iter()
            .find(|s| s.title.eq_ignore_ascii_case(title))
    }

    /// A field in a given section, names matched case-insensitively.
    pub fn field(&self, section: &str, name: &str) -> Option<&DsregField> {
        self.section(section)?
            .fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The first field with this name in any section.
    pub fn any_field(&self, name: &str) -> Option<&DsregField> {
        self.sections
            .iter()
            .flat_map(|s| s.fields.iter())
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// `Some(true)` for YES, `Some(false)` for NO, `None` when absent or something else.
    pub fn yes_no(&self, section: &str, name: &str) -> Option<bool> {
        let v = self.field(section, name)?.value.trim();
        if v.eq_ignore_ascii_case("YES") {
            Some(true)
        } else if v.eq_ignore_ascii_case("NO") {
            Some(false)
        } else {
            None
        }
    }

    pub fn location(&self, field: &DsregField) -> Location {
        Location {
            file: self.file.clone(),
            line: Some(field.line),
            record: None,
        }
    }
}

/// One event from an exported log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Provider name as exported (`Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider`,
    /// `Microsoft-Windows-TaskScheduler`).
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub event_id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    /// Insertion strings in order, with their `Data Name` where the export had one.
    pub data: Vec<EventData>,
    /// The rendered message, when the export carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub value: String,
}

/// Well-known provider names (compare case-insensitively; some exports drop `Microsoft-Windows-`).
pub const PROVIDER_DMEDP: &str =
    "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider";
pub const PROVIDER_TASK_SCHEDULER: &str = "Microsoft-Windows-TaskScheduler";
/// Entra sign-in on the device (channel `Microsoft-Windows-AAD/Operational`): PRT failures
/// (events 1098, 1104 with 0xCAA… codes).
pub const PROVIDER_AAD: &str = "Microsoft-Windows-AAD";
/// Device registration / join (channel `Microsoft-Windows-User Device Registration/Admin`):
/// events 304, 305 and the join errors.
pub const PROVIDER_UDR: &str = "Microsoft-Windows-User Device Registration";
/// Autopilot (channel
/// `Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot`).
pub const PROVIDER_AUTOPILOT: &str = "Microsoft-Windows-ModernDeployment-Diagnostics-Provider";

impl EventRecord {
    /// True when the provider is the MDM enrollment provider (DMEDP), however the export spells it.
    pub fn is_dmedp(&self) -> bool {
        provider_matches(&self.provider, PROVIDER_DMEDP)
    }

    pub fn is_task_scheduler(&self) -> bool {
        provider_matches(&self.provider, PROVIDER_TASK_SCHEDULER)
    }

    /// `Microsoft-Windows-AAD` (PRT and token events).
    pub fn is_aad(&self) -> bool {
        provider_matches(&self.provider, PROVIDER_AAD)
    }

    /// `Microsoft-Windows-User Device Registration` (join and registration events).
    pub fn is_device_registration(&self) -> bool {
        provider_matches(&self.provider, PROVIDER_UDR)
    }

    /// `Microsoft-Windows-ModernDeployment-Diagnostics-Provider` (Autopilot events).
    pub fn is_autopilot(&self) -> bool {
        provider_matches(&self.provider, PROVIDER_AUTOPILOT)
    }
}

fn provider_matches(actual: &str, canonical: &str) -> bool {
    let short = canonical.trim_start_matches("Microsoft-Windows-");
    actual.eq_ignore_ascii_case(canonical) || actual.eq_ignore_ascii_case(short)
}

/// What is known about one exported log (from the collector, or inferred from an export).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLogInfo {
    /// `Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin`,
    /// `Microsoft-Windows-TaskScheduler/Operational`.
    pub name: String,
    /// Whether the log was enabled; `None` when the export does not say (raw exports never do).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Oldest record the log held when exported (from the collector), else the oldest exported.
    #[serde(default)]
    pub oldest_record: Option<DateTime<Utc>>,
    #[serde(default)]
    pub record_count: Option<u64>,
    /// The file it was read from.
    pub file: String,
}

/// Registry keys from one or more exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Registry {
    pub keys: Vec<RegKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegKey {
    /// Full path with the hive abbreviated: `HKLM\SOFTWARE\Microsoft\Enrollments\{GUID}`.
    pub path: String,
    /// `[-KEY]` deletion line.
    #[serde(default)]
    pub deleted: bool,
    pub values: Vec<RegValue>,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegValue {
    /// Value name; "" is the default value (`@`).
    pub name: String,
    pub data: RegData,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum RegData {
    Sz(String),
    ExpandSz(String),
    MultiSz(Vec<String>),
    Dword(u32),
    Qword(u64),
    Binary(Vec<u8>),
    /// Any other `hex(N):` type, kept as bytes.
    Other {
        kind: u32,
        bytes: Vec<u8>,
    },
    /// `"name"=-` deletion.
    Deleted,
}

impl RegData {
    /// String form for comparisons and evidence.
    pub fn as_text(&self) -> String {
        match self {
            RegData::Sz(s) | RegData::ExpandSz(s) => s.clone(),
            RegData::MultiSz(v) => v.join(";"),
            RegData::Dword(d) => d.to_string(),
            RegData::Qword(q) => q.to_string(),
            RegData::Binary(b) | RegData::Other { bytes: b, .. } => b
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(","),
            RegData::Deleted => "(deleted)".to_string(),
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            RegData::Dword(d) => Some(u64::from(*d)),
            RegData::Qword(q) => Some(*q),
            RegData::Sz(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl Registry {
    /// A key by full path, case-insensitively (hive spelled `HKLM` or `HKEY_LOCAL_MACHINE`).
    pub fn key(&self, path: &str) -> Option<&RegKey> {
        let want = normalize_key_path(path);
        self.keys
            .iter()
            .find(|k| !k.deleted && normalize_key_path(&k.path) == want)
    }

    /// Direct subkeys of `parent` (one level down), case-insensitively.
    pub fn subkeys<'a>(&'a self, parent: &str) -> impl Iterator<Item = &'a RegKey> + 'a {
        let prefix = format!("{}\\", normalize_key_path(parent));
        self.keys.iter().filter(move |k| {
            let p = normalize_key_path(&k.path);
            !k.deleted && p.starts_with(&prefix) && !p[prefix.len()..].contains('\\')
        })
    }

    /// True when any key at or below `path` was exported (so absence of a value means something).
    pub fn covers(&self, path: &str) -> bool {
        let want = normalize_key_path(path);
        let prefix = format!("{want}\\");
        self.keys.iter().any(|k| {
            let p = normalize_key_path(&k.path);
            p == want || p.starts_with(&prefix)
        })
    }
}

impl RegKey {
    pub fn value(&self, name: &str) -> Option<&RegValue> {
        self.values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name) && v.data != RegData::Deleted)
    }

    /// Last path component (the enrollment GUID for Enrollments subkeys).
    pub fn leaf(&self) -> &str {
        self.path.rsplit('\\').next().unwrap_or(&self.path)
    }
}

/// Upper-cased path with the hive abbreviated, for comparisons.
pub fn normalize_key_path(path: &str) -> String {
    let p = path.trim().trim_end_matches('\\');
    let upper = p.to_ascii_uppercase();
    for (long, short) in [
        ("HKEY_LOCAL_MACHINE", "HKLM"),
        ("HKEY_CURRENT_USER", "HKCU"),
        ("HKEY_USERS", "HKU"),
        ("HKEY_CLASSES_ROOT", "HKCR"),
    ] {
        if let Some(rest) = upper.strip_prefix(long) {
            return format!("{short}{rest}");
        }
    }
    upper
}

/// Registry paths the device checks read.
pub const KEY_ENROLLMENTS: &str = r"HKLM\SOFTWARE\Microsoft\Enrollments";
pub const KEY_MDM_POLICY: &str = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\MDM";
pub const KEY_CURRENT_VERSION: &str = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion";

/// One scheduled task (one row per task; several trigger rows are merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTask {
    /// Full path: `\Microsoft\Windows\EnterpriseMgmt\<GUID>\Schedule #1 created by enrollment client`.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// As printed (local culture); `None` for `N/A`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<String>,
    /// `Last Result` as a number (0 success, 267011 = has not yet run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_to_run: Option<String>,
    pub location: Location,
}

/// Operating-system facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OsInfo {
    /// `CurrentBuildNumber` / `CurrentBuild` (e.g. 26100).
    #[serde(default)]
    pub build: Option<u32>,
    /// `UBR` (update build revision).
    #[serde(default)]
    pub ubr: Option<u32>,
    /// `DisplayVersion` (e.g. 24H2) or `ReleaseId` on older builds.
    #[serde(default)]
    pub display_version: Option<String>,
    /// `EditionID` (Enterprise, Professional, EnterpriseS, …).
    #[serde(default)]
    pub edition_id: Option<String>,
    /// `ProductName` (unreliable: says Windows 10 on Windows 11; kept for evidence only).
    #[serde(default)]
    pub product_name: Option<String>,
    pub location: Location,
}
