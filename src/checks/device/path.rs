//! The enrollment path, derived before any check runs: which mechanism is supposed to enroll
//! this device decides which checks apply and what a failure means.

use serde::Serialize;

use crate::device::report::{DeviceReport, KEY_MDM_POLICY, RegKey};
use crate::model::{EnrollmentPath, Evidence};

use super::evidence::{
    device_credential_flag, event_evidence, is_autoenroll_task_path, names_autoenroll_task,
    reg_evidence,
};

/// The path and the facts that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathDecision {
    pub path: EnrollmentPath,
    /// One sentence: why this path.
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

/// ConfigMgr client traces in the registry: the client's own key or its SMS key.
const CONFIGMGR_KEYS: &[&str] = &[
    r"HKLM\SOFTWARE\Microsoft\CCM",
    r"HKLM\SOFTWARE\Microsoft\SMS",
];

pub fn derive_path(report: &DeviceReport) -> PathDecision {
    let dsreg = report.dsregcmd.as_ref();
    let yes = |section: &str, name: &str| -> Option<(bool, Evidence)> {
        let d = dsreg?;
        let f = d.field(section, name)?;
        let v = d.yes_no(section, name)?;
        Some((
            v,
            Evidence::new("dsregcmd", format!("{} : {}", f.name, f.value))
                .at(d.location(f).to_string()),
        ))
    };
    let aad = yes("Device State", "AzureAdJoined");
    let domain = yes("Device State", "DomainJoined");
    let workplace = yes("User State", "WorkplaceJoined");
    let work_account = dsreg.and_then(|d| {
        d.sections
            .iter()
            .find(|s| s.title.to_ascii_lowercase().starts_with("work account"))
            .map(|s| {
                Evidence::new("dsregcmd", format!("section \"{}\"", s.title))
                    .at(format!("{}:{}", d.file, s.line))
            })
    });

    let policy: Option<&RegKey> = report.registry.as_ref().and_then(|r| r.key(KEY_MDM_POLICY));
    let policy_value = |name: &str| -> Option<(u64, Evidence)> {
        let k = policy?;
        let v = k.value(name)?;
        Some((
            v.data.as_u64()?,
            Evidence::new(
                "registry",
                format!("{}\\{} = {}", k.path, v.name, v.data.as_text()),
            )
            .at(v.location.to_string()),
        ))
    };
    let cred_type = policy_value("UseAADCredentialType");
    let auto_enroll = policy_value("AutoEnrollMDM");

    let task_row = report
        .scheduled_tasks
        .as_ref()
        .and_then(|t| t.iter().find(|t| is_autoenroll_task_path(&t.path)));
    let task_event = report
        .events
        .iter()
        .find(|e| e.is_task_scheduler() && names_autoenroll_task(e));

    // 1. Co-management: the device credential is the ConfigMgr (and AVD) way to enroll.
    if let Some((2, ev)) = &cred_type {
        return decision(
            EnrollmentPath::CoManagement,
            "the MDM policy selects the device credential (UseAADCredentialType = 2), which Intune supports with ConfigMgr co-management",
            vec![ev.clone()],
        );
    }
    // A ConfigMgr client is not co-management by itself: `CoManagementFlags` under the CCM key
    // says whether co-management is on (non-zero: bit 1 is co-management itself, the higher
    // bits the workloads moved to Intune) or off (0). Microsoft does not document the bits; only
    // zero against non-zero is read here. Without the value the client's presence decides
    // nothing (issue 10: a ConfigMgr client is not co-management).
    let ccm_flags = report.registry.as_ref().and_then(|r| {
        r.keys
            .iter()
            .filter(|k| !k.deleted && under(&k.path, CONFIGMGR_KEYS[0]))
            .find_map(|k| {
                let v = k.value("CoManagementFlags")?;
                Some((
                    v.data.as_u64()?,
                    Evidence::new(
                        "registry",
                        format!("{}\\{} = {}", k.path, v.name, v.data.as_text()),
                    )
                    .at(v.location.to_string()),
                ))
            })
    });
    if let Some((flags, ev)) = &ccm_flags
        && *flags != 0
    {
        return decision(
            EnrollmentPath::CoManagement,
            "the ConfigMgr client has co-management enabled (CoManagementFlags is not 0), so co-management drives enrollment",
            vec![ev.clone()],
        );
    }
    let configmgr = report
        .registry
        .as_ref()
        .and_then(|r| {
            CONFIGMGR_KEYS
                .iter()
                .find_map(|p| r.keys.iter().find(|k| !k.deleted && under(&k.path, p)))
        })
        .map(|k| reg_evidence(k, format!("ConfigMgr client key {}", k.path)))
        .or_else(|| {
            report.scheduled_tasks.as_ref().and_then(|t| {
                t.iter()
                    .find(|t| {
                        t.path
                            .to_ascii_lowercase()
                            .starts_with("\\microsoft\\configuration manager\\")
                    })
                    .map(|t| {
                        Evidence::new(
                            "scheduled-tasks",
                            format!("ConfigMgr client task {}", t.path),
                        )
                        .at(t.location.to_string())
                    })
            })
        });
    // Without CoManagementFlags the client's presence decides nothing: the path comes from the
    // GPO, the join state and the events, and the evidence says what was not collected.
    let configmgr = configmgr.map(|mut ev| {
        ev.detail = match &ccm_flags {
            Some((_, flags)) => format!(
                "{}; co-management is off ({}): a ConfigMgr client alone is not co-management",
                ev.detail, flags.detail
            ),
            None => format!(
                "{}; CoManagementFlags is not in the report, so the client is not taken for co-management (export HKLM\\SOFTWARE\\Microsoft\\CCM to show whether co-management is on)",
                ev.detail
            ),
        };
        ev
    });
    // The event flag is undocumented and some builds mis-render it: only exactly 1 counts, and
    // only when no GPO says "user credential".
    let user_cred_policy = matches!(&cred_type, Some((1, _)));
    if !user_cred_policy
        && let Some(e) = report.events.iter().find(|e| {
            e.is_dmedp() && matches!(e.event_id, 75 | 76) && device_credential_flag(e) == Some(true)
        })
    {
        return decision(
            EnrollmentPath::CoManagement,
            "an auto-enrollment event used the device credential (Device Credential 0x1) and no GPO selects the user credential",
            vec![event_evidence(
                e,
                format!("event {} with Device Credential (0x1)", e.event_id),
            )],
        );
    }

    // 2. GPO + hybrid join.
    let mut gpo_evidence = Vec::new();
    if let Some((true, ev)) = &domain {
        gpo_evidence.push(ev.clone());
    }
    if let Some(k) = policy {
        match &auto_enroll {
            Some((_, ev)) => gpo_evidence.push(ev.clone()),
            None => gpo_evidence.push(reg_evidence(
                k,
                format!("MDM policy key {} present", k.path),
            )),
        }
    }
    if let Some(t) = task_row {
        gpo_evidence.push(
            Evidence::new(
                "scheduled-tasks",
                format!("auto-enrollment task {}", t.path),
            )
            .at(t.location.to_string()),
        );
    } else if let Some(e) = task_event {
        gpo_evidence.push(event_evidence(
            e,
            format!(
                "Task Scheduler event {} for the auto-enrollment task",
                e.event_id
            ),
        ));
    }
    if !gpo_evidence.is_empty() {
        if let Some(ev) = configmgr {
            gpo_evidence.push(ev);
        }
        return decision(
            EnrollmentPath::GpoHybrid,
            "the device is domain joined or carries the MDM auto-enrollment GPO/task: it enrolls through Group Policy once Entra hybrid joined",
            gpo_evidence,
        );
    }

    // 3. Entra join (no domain, no GPO).
    if let (Some((true, aad_ev)), Some((false, dom_ev))) = (&aad, &domain) {
        let mut ev = vec![aad_ev.clone(), dom_ev.clone()];
        ev.extend(configmgr);
        return decision(
            EnrollmentPath::EntraJoin,
            "Entra joined and not domain joined: MDM enrollment happens during the join through the MDM user scope",
            ev,
        );
    }

    // 4. Entra registered (work account on a device that is not joined).
    let joined = matches!(&aad, Some((true, _)));
    if !joined {
        if let Some((true, ev)) = &workplace {
            let mut ev = vec![ev.clone()];
            ev.extend(configmgr);
            return decision(
                EnrollmentPath::EntraRegistered,
                "a work account is registered (WorkplaceJoined) on a device that is not joined",
                ev,
            );
        }
        if let Some(ev) = work_account {
            let mut ev = vec![ev];
            ev.extend(configmgr);
            return decision(
                EnrollmentPath::EntraRegistered,
                "a work account is registered on a device that is not joined",
                ev,
            );
        }
    }

    let mut evidence = Vec::new();
    if let Some((_, ev)) = aad {
        evidence.push(ev);
    }
    if let Some((_, ev)) = domain {
        evidence.push(ev);
    }
    if evidence.is_empty() {
        evidence.push(Evidence::new(
            "report",
            "no dsregcmd output, MDM policy, task or event says how this device enrolls",
        ));
    }
    evidence.extend(configmgr);
    decision(
        EnrollmentPath::Unknown,
        "the inputs do not show a join state, MDM policy or enrollment task",
        evidence,
    )
}

fn decision(path: EnrollmentPath, reason: &str, evidence: Vec<Evidence>) -> PathDecision {
    PathDecision {
        path,
        reason: reason.to_string(),
        evidence,
    }
}

fn under(path: &str, parent: &str) -> bool {
    let p = crate::device::report::normalize_key_path(path);
    let want = crate::device::report::normalize_key_path(parent);
    p == want || p.starts_with(&format!("{want}\\"))
}
