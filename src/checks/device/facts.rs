//! Derived facts the rules share: capture context, log coverage, event look-ups. Computed once
//! per report (the path and the enrolled state included) so each rule stays a short, readable
//! function.

use chrono::{DateTime, Duration, Utc};

use crate::device::report::{DeviceReport, DsregField, EventRecord, RegKey, ScheduledTask};
use crate::model::{Evidence, Subject};

use super::enrolled::{self, EnrolledState};
use super::evidence::{
    HRESULT_ALREADY_ENROLLED, event_codes, events_where, failure_code, is_autoenroll_task_path,
    later, names_autoenroll_task, task_result_hresult,
};
use super::path::{self, PathDecision};

/// The correlation checks name this collection hint through this module.
pub use super::evidence::COLLECT_OS;

/// How `dsregcmd /status` was run, which decides whether user-context fields can be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureKind {
    /// Run in the signed-in user's session: User State and SSO State are meaningful.
    User,
    /// Run elevated as the user: user fields present but WAM fields may be off.
    ElevatedUser,
    /// Run as SYSTEM, or the user sections are missing: no user-context facts.
    SystemOrNoUser,
    /// The dsregcmd output ends before the user sections (file cut short): the context is
    /// unknown and the user-context fields are simply missing.
    Truncated,
    /// No dsregcmd output.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub kind: CaptureKind,
    pub evidence: Vec<Evidence>,
}

/// What is known about one event log needed by the checks.
#[derive(Debug, Clone)]
pub struct LogStatus {
    pub name: &'static str,
    /// Events from this provider in the report.
    pub events: usize,
    /// An `event_logs` entry exists for this log.
    pub described: bool,
    pub enabled: Option<bool>,
    /// Oldest record the log held (collector), else the oldest exported event.
    pub oldest: Option<DateTime<Utc>>,
    pub record_count: Option<u64>,
    pub files: Vec<String>,
}

impl LogStatus {
    pub fn supplied(&self) -> bool {
        self.events > 0 || self.described
    }
}

pub const LOG_DMEDP: &str =
    "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin";
pub const LOG_TASKS: &str = "Microsoft-Windows-TaskScheduler/Operational";
pub const LOG_AAD: &str = "Microsoft-Windows-AAD/Operational";
pub const LOG_UDR: &str = "Microsoft-Windows-User Device Registration/Admin";
pub const LOG_AUTOPILOT: &str = "Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot";

pub struct Facts<'a> {
    pub report: &'a DeviceReport,
    pub as_of: DateTime<Utc>,
    pub device: String,
    pub subject: Subject,
    pub device_id: Option<String>,
    pub tenant_id: Option<String>,
    pub user: Option<String>,
    pub capture: Capture,
    pub path: PathDecision,
    pub enrolled: EnrolledState,
    pub dmedp_log: LogStatus,
    pub task_log: LogStatus,
    /// Entra sign-in (PRT) failures.
    pub aad_log: LogStatus,
    /// Device registration (join) attempts.
    pub udr_log: LogStatus,
    pub autopilot_log: LogStatus,
}

impl<'a> Facts<'a> {
    /// `user_hint` (`--user`) is used only when the device's files name no user.
    pub fn new(
        report: &'a DeviceReport,
        as_of: DateTime<Utc>,
        user_hint: Option<&str>,
    ) -> Facts<'a> {
        let device = device_label(report);
        let subject = Subject::Device(device.clone());
        let device_id = dsreg_value(report, "Device Details", "DeviceId");
        let tenant_id = dsreg_value(report, "Tenant Details", "TenantId");
        let user = current_user(report).or_else(|| user_hint.map(str::to_string));
        let capture = capture_kind(report);
        let path = path::derive_path(report);
        let enrolled = enrolled::enrolled_state(report, tenant_id.as_deref(), user.as_deref());
        let tenant_id = tenant_id.or_else(|| enrolled.tenant_id().map(str::to_string));
        let dmedp_log = log_status(
            report,
            LOG_DMEDP,
            "DeviceManagement-Enterprise-Diagnostics",
            |e| e.is_dmedp(),
        );
        let task_log = log_status(report, LOG_TASKS, "TaskScheduler", |e| {
            e.is_task_scheduler()
        });
        let aad_log = log_status(report, LOG_AAD, "Windows-AAD/Operational", |e| e.is_aad());
        let udr_log = log_status(report, LOG_UDR, "User Device Registration/Admin", |e| {
            e.is_device_registration()
        });
        let autopilot_log = log_status(
            report,
            LOG_AUTOPILOT,
            "ModernDeployment-Diagnostics-Provider/Autopilot",
            |e| e.is_autopilot(),
        );
        Facts {
            report,
            as_of,
            device,
            subject,
            device_id,
            tenant_id,
            user,
            capture,
            path,
            enrolled,
            dmedp_log,
            task_log,
            aad_log,
            udr_log,
            autopilot_log,
        }
    }

    /// A dsregcmd field with its evidence location.
    pub fn dsreg(&self, section: &str, name: &str) -> Option<(&'a DsregField, String)> {
        let d = self.report.dsregcmd.as_ref()?;
        let f = d.field(section, name)?;
        Some((f, d.location(f).to_string()))
    }

    /// Evidence for a dsregcmd field as printed (`AzureAdJoined : NO`).
    pub fn dsreg_evidence(&self, section: &str, name: &str) -> Option<Evidence> {
        let (f, loc) = self.dsreg(section, name)?;
        Some(Evidence::new("dsregcmd", format!("{} : {}", f.name, f.value)).at(loc))
    }

    /// DeviceManagement (DMEDP) events with one of these IDs, in time order.
    pub fn dmedp(&self, id: u32) -> Vec<(usize, &'a EventRecord)> {
        events_where(self.report, |e| e.is_dmedp() && e.event_id == id)
    }

    /// Task Scheduler events with this ID that name the auto-enrollment task.
    pub fn task_events(&self, id: u32) -> Vec<(usize, &'a EventRecord)> {
        events_where(self.report, |e| {
            e.is_task_scheduler() && e.event_id == id && names_autoenroll_task(e)
        })
    }

    /// Task Scheduler 7016 events carrying 0x8018000A (2149056522).
    pub fn already_enrolled_7016(&self) -> Vec<(usize, &'a EventRecord)> {
        events_where(self.report, |e| {
            e.is_task_scheduler()
                && e.event_id == 7016
                && event_codes(e).contains(&HRESULT_ALREADY_ENROLLED)
        })
    }

    /// The auto-enrollment task in the supplied task list (`None` when no list was supplied).
    pub fn autoenroll_task(&self) -> Option<Option<&'a ScheduledTask>> {
        let tasks = self.report.scheduled_tasks.as_ref()?;
        Some(tasks.iter().find(|t| is_autoenroll_task_path(&t.path)))
    }

    /// The auto-enrollment task's last run ended with an error HRESULT (deviceenroller.exe
    /// returns the enrollment's HRESULT, e.g. -2145910764 = 0x80180014): an attempt that failed
    /// even when the DeviceManagement log was not exported or has rolled over.
    pub fn autoenroll_task_failure(&self) -> Option<(&'a ScheduledTask, u32)> {
        let task = self.autoenroll_task()??;
        let code = task_result_hresult(task.last_result?)?;
        Some((task, code))
    }

    pub fn mdm_policy_key(&self) -> Option<&'a RegKey> {
        self.report
            .registry
            .as_ref()?
            .key(crate::device::report::KEY_MDM_POLICY)
    }

    /// The evaluation's reference time for "recent": the collector's time, else `as_of`.
    pub fn reference_time(&self) -> DateTime<Utc> {
        self.report
            .collector
            .as_ref()
            .and_then(|c| c.collected_at)
            .unwrap_or(self.as_of)
    }

    /// True when both logs the never-triggered conclusion rests on are known to be enabled and
    /// to reach back at least a day (the auto-enroll task fires every 5 minutes for a day after
    /// the GPO applies, and at every sign-in, so a day of history must show it if it ran).
    pub fn logs_prove_absence(&self) -> bool {
        let horizon = self.reference_time() - Duration::hours(24);
        [&self.dmedp_log, &self.task_log]
            .iter()
            .all(|l| l.enabled == Some(true) && l.oldest.is_some_and(|o| o <= horizon))
    }

    /// The decoded code of the last event 76 not followed by a 75 (for the diagnosis). Without
    /// any event 76 or 75, a failed result of the auto-enrollment task stands in, as in DEV007.
    pub fn last_failure_code(&self) -> Option<u32> {
        let fails = self.dmedp(76);
        let Some(&last) = fails.last() else {
            return if self.dmedp(75).is_empty() {
                self.autoenroll_task_failure().map(|(_, c)| c)
            } else {
                None
            };
        };
        if self.dmedp(75).iter().any(|s| later(last, *s)) {
            return None;
        }
        failure_code(last.1).map(|(c, _)| c)
    }

    /// Outcome of the last auto-enrollment event: `Some(true)` for 75, `Some(false)` for 76.
    pub fn last_outcome(&self) -> Option<bool> {
        let mut all: Vec<_> = self.dmedp(75).into_iter().map(|e| (e, true)).collect();
        all.extend(self.dmedp(76).into_iter().map(|e| (e, false)));
        all.into_iter()
            .reduce(|a, b| if later(a.0, b.0) { b } else { a })
            .map(|(_, ok)| ok)
    }
}

fn device_label(report: &DeviceReport) -> String {
    if let Some(h) = report.collector.as_ref().and_then(|c| c.host_name.clone())
        && !h.trim().is_empty()
    {
        return h;
    }
    if let Some(n) = dsreg_value(report, "Device State", "Device Name") {
        return n;
    }
    report.label.clone()
}

fn dsreg_value(report: &DeviceReport, section: &str, name: &str) -> Option<String> {
    let v = report.dsregcmd.as_ref()?.field(section, name)?.value.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The user the files name: dsregcmd's executing account (UPN part), else event 91's UPN.
fn current_user(report: &DeviceReport) -> Option<String> {
    if let Some(acct) = report
        .dsregcmd
        .as_ref()
        .and_then(|d| d.any_field("Executing Account Name"))
    {
        // "CONTOSO\jdoe, jdoe@contoso.com"
        if let Some(upn) = acct
            .value
            .split(',')
            .map(str::trim)
            .find(|p| p.contains('@'))
        {
            return Some(upn.to_string());
        }
    }
    let ev91 = report
        .events
        .iter()
        .rfind(|e| e.is_dmedp() && e.event_id == 91)?;
    ev91.data
        .iter()
        .map(|d| d.value.trim())
        .find(|v| v.contains('@') && !v.contains('/'))
        .map(str::to_string)
}

/// `NT AUTHORITY\SYSTEM` in any language (`NT-AUTORITÄT\SYSTEM`, `AUTORITE NT\Système`), a bare
/// `SYSTEM`, or its SID — but not a user whose name merely contains "system".
pub fn is_system_account(value: &str) -> bool {
    let account = value.split(',').next().unwrap_or("").trim();
    let name = account.rsplit('\\').next().unwrap_or(account).trim();
    let name = name.to_lowercase();
    name == "system" || name == "système" || name == "sistema" || account == "S-1-5-18"
}

/// Sections dsregcmd prints after User State / SSO State in every context, SYSTEM included.
const SECTIONS_AFTER_USER: &[&str] = &[
    "Diagnostic Data",
    "IE Proxy Config for Current User",
    "WinHttp Default Proxy Config",
    "Ngc Prerequisite Check",
];

fn capture_kind(report: &DeviceReport) -> Capture {
    let mut evidence = Vec::new();
    // A merged bundle records the context of the dsregcmd run separately from the run that
    // wrote the file (part 2 runs elevated but keeps part 1's user-context dsregcmd).
    let c = report.collector.as_ref();
    let dsreg_system = c.and_then(|c| c.dsregcmd_is_system.or(c.is_system));
    let dsreg_elevated = c.and_then(|c| c.dsregcmd_elevated);
    let collector_system = dsreg_system == Some(true);
    if collector_system {
        evidence.push(Evidence::new(
            "collector",
            "the collector ran dsregcmd as SYSTEM (isSystem = true)",
        ));
    }
    let Some(d) = report.dsregcmd.as_ref() else {
        let kind = if collector_system {
            CaptureKind::SystemOrNoUser
        } else {
            CaptureKind::Unknown
        };
        return Capture { kind, evidence };
    };
    let mut system = collector_system;
    let mut elevated = dsreg_elevated == Some(true);
    if elevated && !system {
        evidence.push(Evidence::new(
            "collector",
            "the collector ran dsregcmd elevated (elevated = true)",
        ));
    }
    if let Some(f) = d.any_field("User Context") {
        let v = f.value.to_ascii_uppercase();
        let loc = d.location(f).to_string();
        if v.contains("SYSTEM") {
            system = true;
            evidence.push(Evidence::new("dsregcmd", format!("User Context : {}", f.value)).at(loc));
        } else if v.contains("ELEVATED") && !v.contains("UN-ELEVATED") {
            elevated = true;
            evidence.push(Evidence::new("dsregcmd", format!("User Context : {}", f.value)).at(loc));
        }
    }
    for s in &d.sections {
        for f in s
            .fields
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case("Executing Account Name"))
        {
            if is_system_account(&f.value) {
                system = true;
                evidence.push(
                    Evidence::new("dsregcmd", format!("Executing Account Name : {}", f.value))
                        .at(d.location(f).to_string()),
                );
            }
        }
    }
    let has_device_state = d.section("Device State").is_some();
    let missing: Vec<&str> = ["User State", "SSO State"]
        .into_iter()
        .filter(|t| d.section(t).is_none())
        .collect();
    // Missing user sections mean "no user" only if the output goes on past where they would
    // be; a file cut short (a truncated UTF-16 export, a partial paste) just ends early.
    let damaged = report
        .inputs
        .iter()
        .any(|i| i.name == d.file && i.problem.is_some());
    let reaches_past_user_sections = SECTIONS_AFTER_USER.iter().any(|t| d.section(t).is_some());
    if has_device_state && !missing.is_empty() && !reaches_past_user_sections && !system {
        evidence.push(
            Evidence::new(
                "dsregcmd",
                format!(
                    "the output ends before {}{}: cut short, not proof of a SYSTEM run",
                    missing.join(" / "),
                    if damaged {
                        " and the file is damaged"
                    } else {
                        ""
                    }
                ),
            )
            .at(d.file.clone()),
        );
        return Capture {
            kind: if elevated {
                CaptureKind::ElevatedUser
            } else {
                CaptureKind::Truncated
            },
            evidence,
        };
    }
    if has_device_state && !missing.is_empty() {
        system = true;
        evidence.push(
            Evidence::new(
                "dsregcmd",
                format!(
                    "no {} section: dsregcmd ran without a user context",
                    missing.join(" / ")
                ),
            )
            .at(d.file.clone()),
        );
    }
    let kind = if system {
        CaptureKind::SystemOrNoUser
    } else if elevated {
        CaptureKind::ElevatedUser
    } else {
        CaptureKind::User
    };
    Capture { kind, evidence }
}

fn log_status(
    report: &DeviceReport,
    name: &'static str,
    needle: &str,
    is_provider: impl Fn(&EventRecord) -> bool,
) -> LogStatus {
    let needle = needle.to_ascii_lowercase();
    let described: Vec<_> = report
        .event_logs
        .iter()
        .filter(|l| l.name.to_ascii_lowercase().contains(&needle))
        .collect();
    let events: Vec<&EventRecord> = report.events.iter().filter(|e| is_provider(e)).collect();
    let oldest_event = events.iter().filter_map(|e| e.time).min();
    let oldest_described = described.iter().filter_map(|l| l.oldest_record).min();
    let enabled = if described.iter().any(|l| l.enabled == Some(false)) {
        Some(false)
    } else if !described.is_empty() && described.iter().all(|l| l.enabled == Some(true)) {
        Some(true)
    } else {
        None
    };
    let record_count = described
        .iter()
        .filter_map(|l| l.record_count)
        .reduce(|a, b| a + b);
    let mut files: Vec<String> = described.iter().map(|l| l.file.clone()).collect();
    for e in &events {
        if !files.contains(&e.location.file) {
            files.push(e.location.file.clone());
        }
    }
    LogStatus {
        name,
        events: events.len(),
        described: !described.is_empty(),
        enabled,
        oldest: oldest_described.or(oldest_event),
        record_count,
        files,
    }
}
