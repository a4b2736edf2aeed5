//! The join keys a device report offers: tenant id, Entra DeviceId, host name, OS version and
//! the enrolling user (with how much each source can be trusted).

use crate::device::report::{DeviceReport, EventRecord, KEY_ENROLLMENTS};
use crate::model::Evidence;

use crate::checks::device::analysis::DeviceAnalysis;
use crate::checks::device::enrolled::{PROVIDER_INTUNE, is_guid};

/// Where the enrolling user's UPN came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UserSource {
    /// `--user` on the command line.
    Flag,
    /// Event 91 (the enrollment attempt names its UPN).
    Event91,
    /// The `UPN` value of an Intune key under `HKLM\SOFTWARE\Microsoft\Enrollments`.
    EnrollmentKey,
    /// dsregcmd's `Executing Account Name`: only whoever ran dsregcmd, often the help desk.
    ExecutingAccount,
}

impl UserSource {
    /// Strong sources name the account the enrollment actually used (or the admin said so).
    pub fn is_strong(self) -> bool {
        self != UserSource::ExecutingAccount
    }

    pub fn describe(self) -> &'static str {
        match self {
            UserSource::Flag => "given with --user",
            UserSource::Event91 => "named by event 91 of the enrollment attempt",
            UserSource::EnrollmentKey => {
                "named by the Intune key under HKLM\\SOFTWARE\\Microsoft\\Enrollments"
            }
            UserSource::ExecutingAccount => "only the account that ran dsregcmd, the weakest hint",
        }
    }
}

/// The user a device enrolls (or tries to enroll) with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollingUser {
    pub upn: String,
    pub source: UserSource,
    pub evidence: Evidence,
}

/// Everything the tenant side is joined on.
#[derive(Debug, Clone, Default)]
pub struct DeviceKeys {
    /// Entra DeviceId (dsregcmd `DeviceId`), lower-cased.
    pub device_id: Option<String>,
    /// dsregcmd `TenantId`, else event 91's tenant, else the live enrollment's `AADTenantID`,
    /// else the one `CloudDomainJoin\TenantInfo\<tenant id>` key.
    pub tenant_id: Option<(String, Evidence)>,
    /// Host name without the DNS suffix (`PC0042`): Entra's displayName for Windows devices.
    pub short_name: Option<String>,
    /// `10.0.<build>.<UBR>` from the CurrentVersion export.
    pub os_version: Option<(String, Evidence)>,
    pub user: Option<EnrollingUser>,
}

const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Reads the join keys. `user_flag` (`--user`) wins over what the files say.
pub fn device_keys(
    report: &DeviceReport,
    analysis: &DeviceAnalysis,
    user_flag: Option<&str>,
) -> DeviceKeys {
    DeviceKeys {
        device_id: analysis
            .device_id
            .as_ref()
            .map(|d| d.trim().to_ascii_lowercase())
            // The nil GUID means "no Entra identity" (Graph reports it for managed devices
            // without one); joining on it would match every such record.
            .filter(|d| !d.is_empty() && d != NIL_GUID),
        tenant_id: tenant_id(report, analysis),
        short_name: short_name(report, analysis),
        os_version: os_version(report),
        user: enrolling_user(report, analysis, user_flag),
    }
}

fn dsreg_field(report: &DeviceReport, section: &str, name: &str) -> Option<(String, Evidence)> {
    let d = report.dsregcmd.as_ref()?;
    let f = d.field(section, name)?;
    let v = f.value.trim();
    if v.is_empty() {
        return None;
    }
    Some((
        v.to_string(),
        Evidence::new("dsregcmd", format!("{} : {}", f.name, f.value))
            .at(d.location(f).to_string()),
    ))
}

fn tenant_id(report: &DeviceReport, analysis: &DeviceAnalysis) -> Option<(String, Evidence)> {
    if let Some(t) = dsreg_field(report, "Tenant Details", "TenantId") {
        return Some(t);
    }
    if let Some(e) = last_event_91(report)
        && let Some(t) = e
            .data
            .iter()
            .map(|d| d.value.trim())
            .find(|v| is_guid(v))
            .or_else(|| message_value(e, "TenantID").filter(|v| is_guid(v)))
    {
        return Some((
            t.to_string(),
            Evidence::new("event-log", format!("event 91 names tenant {t}"))
                .at(e.location.to_string()),
        ));
    }
    if let Some(t) = analysis.enrolled.tenant_id() {
        return Some((
            t.to_string(),
            Evidence::new(
                "registry",
                format!("AADTenantID of the live enrollment = {t}"),
            )
            .at(KEY_ENROLLMENTS),
        ));
    }
    // The joined tenant's CloudDomainJoin\TenantInfo key, when it names exactly one tenant.
    match crate::checks::device::tenant_keys::tenant_info(report).as_slice() {
        [only] => Some((only.tenant_id.clone(), only.evidence.clone())),
        _ => None,
    }
}

fn short_name(report: &DeviceReport, analysis: &DeviceAnalysis) -> Option<String> {
    let full = dsreg_field(report, "Device State", "Device Name")
        .map(|(v, _)| v)
        .or_else(|| report.collector.as_ref().and_then(|c| c.host_name.clone()))
        .unwrap_or_else(|| analysis.device.clone());
    let short = full.split('.').next().unwrap_or("").trim();
    (!short.is_empty()).then(|| short.to_string())
}

fn os_version(report: &DeviceReport) -> Option<(String, Evidence)> {
    let os = report.os.as_ref()?;
    let build = os.build?;
    let v = format!("10.0.{build}.{}", os.ubr.unwrap_or(0));
    Some((
        v.clone(),
        Evidence::new(
            "registry",
            format!(
                "OS version {v}{}",
                os.display_version
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        )
        .at(os.location.to_string()),
    ))
}

/// A UPN-looking insertion string (`user@domain`, not a URL).
fn upn_in(value: &str) -> Option<&str> {
    let v = value.trim();
    (v.contains('@') && !v.contains('/') && !v.contains(' ') && v.len() > 3).then_some(v)
}

/// A value from an event's rendered message, `Name (value)`, for exports that kept only the
/// message (Event Viewer text, `/f:text`): event 91 reads "… TenantID (guid), Upn (user@domain)".
fn message_value<'a>(e: &'a EventRecord, name: &str) -> Option<&'a str> {
    let msg = e.message.as_deref()?;
    let lower = msg.to_ascii_lowercase();
    let key = format!("{} (", name.to_ascii_lowercase());
    let start = lower.find(&key)? + key.len();
    let len = msg[start..].find(')')?;
    Some(msg[start..start + len].trim()).filter(|v| !v.is_empty())
}

fn last_event_91(report: &DeviceReport) -> Option<&EventRecord> {
    report
        .events
        .iter()
        .rfind(|e| e.is_dmedp() && e.event_id == 91)
}

/// `--user`, else event 91's UPN, else the Intune Enrollments key's UPN, else (weakest) the
/// account that ran dsregcmd.
pub fn enrolling_user(
    report: &DeviceReport,
    analysis: &DeviceAnalysis,
    user_flag: Option<&str>,
) -> Option<EnrollingUser> {
    if let Some(u) = user_flag.map(str::trim).filter(|u| !u.is_empty()) {
        return Some(EnrollingUser {
            upn: u.to_string(),
            source: UserSource::Flag,
            evidence: Evidence::new("input", format!("enrolling user {u} given with --user")),
        });
    }
    if let Some(e) = last_event_91(report)
        && let Some(upn) = e
            .data
            .iter()
            .find_map(|d| upn_in(&d.value))
            .or_else(|| message_value(e, "Upn").and_then(upn_in))
    {
        return Some(EnrollingUser {
            upn: upn.to_string(),
            source: UserSource::Event91,
            evidence: Evidence::new(
                "event-log",
                format!("event 91: the enrollment attempt used {upn}"),
            )
            .at(e.location.to_string()),
        });
    }
    if let Some(reg) = report.registry.as_ref() {
        let device_tenant = analysis.tenant_id.as_deref();
        let mut keys: Vec<_> = reg
            .subkeys(KEY_ENROLLMENTS)
            .filter(|k| is_guid(k.leaf()))
            .filter(|k| {
                k.value("ProviderID").is_some_and(|v| {
                    v.data
                        .as_text()
                        .trim()
                        .eq_ignore_ascii_case(PROVIDER_INTUNE)
                })
            })
            .filter(|k| {
                match (
                    k.value("AADTenantID").map(|v| v.data.as_text()),
                    device_tenant,
                ) {
                    (Some(t), Some(d)) => t.trim().eq_ignore_ascii_case(d),
                    _ => true,
                }
            })
            .filter_map(|k| {
                let upn = k.value("UPN")?.data.as_text();
                let upn = upn_in(&upn)?.to_string();
                let state = k.value("EnrollmentState").and_then(|v| v.data.as_u64());
                Some((state == Some(1), upn, k))
            })
            .collect();
        // The completed enrollment first.
        keys.sort_by_key(|(live, _, _)| !*live);
        if let Some((_, upn, k)) = keys.first() {
            let at = k
                .value("UPN")
                .map(|v| v.location.to_string())
                .unwrap_or_else(|| k.location.to_string());
            return Some(EnrollingUser {
                upn: upn.clone(),
                source: UserSource::EnrollmentKey,
                evidence: Evidence::new("registry", format!("{}\\UPN = {upn}", k.path)).at(at),
            });
        }
    }
    let (acct, ev) = report.dsregcmd.as_ref().and_then(|d| {
        let f = d.any_field("Executing Account Name")?;
        Some((
            f.value.clone(),
            Evidence::new("dsregcmd", format!("{} : {}", f.name, f.value))
                .at(d.location(f).to_string()),
        ))
    })?;
    let upn = acct.split(',').find_map(upn_in)?.to_string();
    Some(EnrollingUser {
        upn: upn.clone(),
        source: UserSource::ExecutingAccount,
        evidence: Evidence::new(
            ev.source,
            format!(
                "{} — only the account that ran dsregcmd (often the help desk), the weakest hint of who enrolls; pass --user to be sure",
                ev.detail
            ),
        )
        .at(ev.location.unwrap_or_default()),
    })
}
