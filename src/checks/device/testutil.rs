//! Builders for realistic [`DeviceReport`]s in unit tests (independent of the parsers).

use super::{DeviceAnalysis, evaluate};
use crate::model::{CheckMeta, SkipReason, Status};
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::device::report::*;

pub fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A minimal reading of `dsregcmd /status` text: titled sections of `name : value` lines.
pub fn dsreg(text: &str) -> Dsregcmd {
    let mut sections: Vec<DsregSection> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.starts_with('|') && t.ends_with('|') && t.len() > 2 {
            sections.push(DsregSection {
                title: t.trim_matches('|').trim().to_string(),
                line: n,
                fields: Vec::new(),
            });
            continue;
        }
        if t.starts_with('+') {
            continue;
        }
        if let Some((name, value)) = line.split_once(':')
            && let Some(s) = sections.last_mut()
            && !name.trim().is_empty()
            && !name.contains("http")
        {
            s.fields.push(DsregField {
                name: name.trim().to_string(),
                value: value.trim().to_string(),
                line: n,
            });
        }
    }
    Dsregcmd {
        file: "dsregcmd.txt".to_string(),
        sections,
    }
}

pub fn hybrid_dsreg(mdm_url: &str, prt: &str) -> Dsregcmd {
    dsreg(&format!(
        "+---+
| Device State |
+---+
             AzureAdJoined : YES
          EnterpriseJoined : NO
              DomainJoined : YES
               Device Name : PC0042.corp.contoso.com
+---+
| Device Details |
+---+
                  DeviceId : 3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15
+---+
| Tenant Details |
+---+
                  TenantId : 5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13
                    MdmUrl : {mdm_url}
+---+
| User State |
+---+
           WorkplaceJoined : NO
+---+
| SSO State |
+---+
                AzureAdPrt : {prt}
+---+
| Diagnostic Data |
+---+
    Executing Account Name : CONTOSO\\jdoe, jdoe@contoso.com
"
    ))
}

pub const INTUNE_URL: &str =
    "https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc";
pub const TENANT: &str = "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13";

pub fn loc(file: &str, line: usize) -> Location {
    Location {
        file: file.to_string(),
        line: Some(line),
        record: None,
    }
}

pub fn key(path: &str, values: &[(&str, RegData)]) -> RegKey {
    RegKey {
        path: path.to_string(),
        deleted: false,
        values: values
            .iter()
            .enumerate()
            .map(|(i, (n, d))| RegValue {
                name: n.to_string(),
                data: d.clone(),
                location: loc("reg.reg", i + 2),
            })
            .collect(),
        location: loc("reg.reg", 1),
    }
}

pub fn sz(s: &str) -> RegData {
    RegData::Sz(s.to_string())
}

pub fn dword(d: u32) -> RegData {
    RegData::Dword(d)
}

pub fn mdm_policy(auto: Option<u32>, cred: u32) -> RegKey {
    let mut v = vec![("UseAADCredentialType", dword(cred))];
    if let Some(a) = auto {
        v.insert(0, ("AutoEnrollMDM", dword(a)));
    }
    key(KEY_MDM_POLICY, &v)
}

pub fn placeholder_key() -> RegKey {
    key(
        &format!("{KEY_ENROLLMENTS}\\FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"),
        &[("EnrollmentType", dword(14)), ("EnrollmentState", dword(1))],
    )
}

pub fn intune_key(guid: &str, tenant: &str, upn: &str) -> RegKey {
    key(
        &format!("{KEY_ENROLLMENTS}\\{guid}"),
        &[
            ("EnrollmentState", dword(1)),
            ("EnrollmentType", dword(6)),
            ("ProviderID", sz("MS DM Server")),
            ("UPN", sz(upn)),
            ("AADTenantID", sz(tenant)),
            ("DiscoveryServiceFullURL", sz(INTUNE_URL)),
        ],
    )
}

pub fn other_mdm_key(guid: &str, provider: &str, extra: usize) -> RegKey {
    let mut values = vec![
        ("EnrollmentState", dword(1)),
        ("ProviderID", sz(provider)),
        ("UPN", sz("kwong@contoso.com")),
        (
            "DiscoveryServiceFullURL",
            sz("https://ds1380.awmdm.com/DeviceServices/Discovery.aws"),
        ),
    ];
    let names = ["A", "B", "C", "D", "E", "F", "G", "H"];
    for n in names.iter().take(extra) {
        values.push((n, dword(1)));
    }
    key(&format!("{KEY_ENROLLMENTS}\\{guid}"), &values)
}

pub fn registry(keys: Vec<RegKey>) -> Registry {
    Registry { keys }
}

pub fn event(
    provider: &str,
    id: u32,
    minute: u32,
    data: &[&str],
    message: Option<&str>,
) -> EventRecord {
    EventRecord {
        provider: provider.to_string(),
        channel: None,
        event_id: id,
        level: None,
        time: Utc.with_ymd_and_hms(2026, 11, 25, 14, minute, 0).single(),
        record_id: Some(u64::from(minute)),
        data: data
            .iter()
            .map(|v| EventData {
                name: None,
                value: v.to_string(),
            })
            .collect(),
        message: message.map(str::to_string),
        location: Location {
            file: "events.xml".to_string(),
            line: None,
            record: Some(minute.to_string()),
        },
    }
}

pub const TASK: &str = "\\Microsoft\\Windows\\EnterpriseMgmt\\Schedule created by enrollment client for automatically enrolling in MDM from AAD";

pub fn dmedp(id: u32, minute: u32, data: &[&str]) -> EventRecord {
    event(PROVIDER_DMEDP, id, minute, data, None)
}

pub fn ts(id: u32, minute: u32, message: Option<&str>) -> EventRecord {
    event(PROVIDER_TASK_SCHEDULER, id, minute, &[TASK], message)
}

pub fn os(build: u32, edition: &str) -> OsInfo {
    OsInfo {
        build: Some(build),
        ubr: Some(1000),
        display_version: None,
        edition_id: Some(edition.to_string()),
        product_name: Some("Windows 10 Enterprise".to_string()),
        location: loc("os.reg", 3),
    }
}

/// A healthy, enrolled hybrid device.
pub fn enrolled_hybrid() -> DeviceReport {
    DeviceReport {
        label: "PC0042".to_string(),
        dsregcmd: Some(hybrid_dsreg(INTUNE_URL, "YES")),
        registry: Some(registry(vec![
            mdm_policy(Some(1), 1),
            placeholder_key(),
            intune_key(
                "6A1F0B57-2C4D-4E8F-9A1B-3C5D7E9F1A2B",
                TENANT,
                "jdoe@contoso.com",
            ),
        ])),
        events: vec![
            ts(107, 5, None),
            dmedp(91, 6, &["x", INTUNE_URL, TENANT, "jdoe@contoso.com"]),
            dmedp(75, 7, &["0x0"]),
        ],
        os: Some(os(26100, "Enterprise")),
        ..Default::default()
    }
}

/// A hybrid joined device whose auto-enrollment failed twice with 0x8018002B (no MDM URL).
pub fn failed_device() -> DeviceReport {
    DeviceReport {
        label: "PC0077".into(),
        dsregcmd: Some(hybrid_dsreg("", "YES")),
        registry: Some(registry(vec![mdm_policy(Some(1), 1), placeholder_key()])),
        events: vec![
            ts(107, 10, None),
            dmedp(76, 10, &["0x0", "0x8018002b"]),
            ts(107, 15, None),
            dmedp(76, 15, &["0x0", "0x8018002b"]),
        ],
        os: Some(os(26100, "Enterprise")),
        ..Default::default()
    }
}

/// A hybrid joined device whose task cannot start (7016) because of stale enrollment keys.
pub fn stale_device() -> DeviceReport {
    DeviceReport {
        label: "PC0117".into(),
        dsregcmd: Some(hybrid_dsreg(INTUNE_URL, "YES")),
        registry: Some(registry(vec![
            mdm_policy(Some(1), 1),
            placeholder_key(),
            other_mdm_key("1B8E1F0C-7D6A-4B59-8C3D-E2F1A0B9C8D7", "OldMdm", 0),
            other_mdm_key("2B8E1F0C-7D6A-4B59-8C3D-E2F1A0B9C8D7", "WorkspaceONE", 6),
        ])),
        events: vec![
            ts(107, 1, None),
            event(
                PROVIDER_TASK_SCHEDULER,
                7016,
                2,
                &[],
                Some(&format!(
                    "Task Scheduler failed to start instance of \"{TASK}\" . Error code: 2149056522."
                )),
            ),
        ],
        os: Some(os(22631, "Enterprise")),
        ..Default::default()
    }
}

/// A task row of `schtasks /query /fo csv /v` that last ran successfully.
pub fn task(path: &str) -> ScheduledTask {
    ScheduledTask {
        path: path.to_string(),
        status: Some("Ready".into()),
        state: None,
        last_run: Some("11/26/2026 9:05:12 AM".into()),
        last_result: Some(0),
        task_to_run: None,
        location: loc("schtasks.csv", 2),
    }
}

/// What the collector records about one event log, its oldest record `days_back` days before
/// [`as_of`].
pub fn log_info(name: &str, enabled: Option<bool>, days_back: i64) -> EventLogInfo {
    EventLogInfo {
        name: name.to_string(),
        enabled,
        oldest_record: Some(as_of() - Duration::days(days_back)),
        record_count: Some(10),
        file: "bundle.json".to_string(),
    }
}

/// A hybrid joined device with the policy and the task but no event logs supplied.
pub fn quiet_device() -> DeviceReport {
    DeviceReport {
        label: "PC0103".into(),
        dsregcmd: Some(hybrid_dsreg(INTUNE_URL, "YES")),
        registry: Some(registry(vec![mdm_policy(Some(1), 1), placeholder_key()])),
        scheduled_tasks: Some(vec![task(TASK)]),
        os: Some(os(26200, "Enterprise")),
        ..Default::default()
    }
}

/// Every device check and the diagnosis over `r` on the test date.
pub fn run(r: &DeviceReport) -> (DeviceAnalysis, crate::model::Diagnosis) {
    evaluate(r, as_of())
}

pub fn status(a: &DeviceAnalysis, check: &CheckMeta) -> Status {
    a.get(check)
        .map(|f| f.status.clone())
        .unwrap_or(Status::Error)
}

pub fn skip_reason(a: &DeviceAnalysis, check: &CheckMeta) -> Option<SkipReason> {
    a.get(check).and_then(|f| f.skip_reason.clone())
}

/// Defines `check(r)` and `check_as_of(r, as_of)` in a check's test module: that check alone
/// (`$eval` over the facts of `r`), asserting the finding names the check (`$meta`).
macro_rules! this_check {
    ($meta:expr, $eval:expr) => {
        /// This check alone, over the facts of `r` on the test date.
        #[allow(dead_code)]
        fn check(r: &$crate::device::report::DeviceReport) -> $crate::model::Finding {
            check_as_of(r, $crate::checks::device::testutil::as_of())
        }

        fn check_as_of(
            r: &$crate::device::report::DeviceReport,
            as_of: chrono::DateTime<chrono::Utc>,
        ) -> $crate::model::Finding {
            let finding = $eval(&$crate::checks::device::facts::Facts::new(r, as_of, None));
            assert!(
                finding.is(&$meta),
                "{} reported {}",
                $meta.id,
                finding.check
            );
            finding
        }
    };
}
pub(crate) use this_check;
