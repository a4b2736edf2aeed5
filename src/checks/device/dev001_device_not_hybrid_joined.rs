//! DEV001: a device enrolled by the GPO or co-management is Entra (hybrid) joined.

use crate::catalog::error_codes::{
    LikelyCause, describe, format_hresult, hresults_in_text, lookup, parse_hresult,
};
use crate::checks::common::{R_AUTO_TS, R_DSREGCMD, R_HYBRID_MANUAL, R_HYBRID_PLAN};
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::entra_events::{JoinFailure, join_failures};
use super::evidence::COLLECT_DSREGCMD;
use super::facts::Facts;
use super::shared::{finding, no_evidence, no_evidence_with, not_applicable};

pub const META: CheckMeta = CheckMeta {
    id: "DEV001",
    name: "device-not-hybrid-joined",
    title: "A GPO-enrolled device is hybrid joined",
    severity: Severity::Critical,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "On the GPO path (domain joined, or the MDM auto-enrollment policy present), reads \
        dsregcmd /status and fails unless both AzureAdJoined and DomainJoined are YES (an Entra joined device \
        that carries the policy passes: the task uses the user's Entra token); on the co-management \
        path it fails unless AzureAdJoined is YES (hybrid or Entra joined). The join's error comes from \
        dsregcmd's Diagnostic Data and from the User Device Registration/Admin log (events 304 join phase, \
        305 authentication phase, 204 join response, 307 SCP lookup, 309 DRS discovery; 306 success), decoded \
        with the catalog; without dsregcmd, failures of that log with no later success fail the check. \
        Skipped on other paths.",
    why_it_matters: "The auto-enrollment Group Policy needs an Entra identity, which domain joined devices get \
        through hybrid join (an Entra joined device with the policy set locally has it already): without \
        the Entra join there is no device identity or user token to enroll with, and nothing else fails visibly. \
        Enrollment paths: gpo-hybrid (and co-management, which also needs hybrid or Entra join).",
    how_to_fix: "Fix hybrid join first: check the service connection point (dsregcmd \"AD Configuration \
        Test\"), that the computer's OU is synced by Entra Connect, and that the device reaches \
        enterpriseregistration.windows.net and login.microsoftonline.com. Run dsregcmd /status on the device \
        and look at the Diagnostic Data section; wait for the next sync after a first attempt (0x801C03F2).",
    references: &[R_HYBRID_MANUAL, R_HYBRID_PLAN, R_DSREGCMD, R_AUTO_TS],
};

const SCP_FIX: &str = "Configure the service connection point for this forest (Entra Connect → Configure device options → Configure Hybrid Microsoft Entra join), or for a targeted rollout set TenantId/TenantName under HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\CDJ\\AAD; make sure the computer can read CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration Configuration,CN=Services in the configuration partition. Then sign out and in (or run `dsregcmd /join` as SYSTEM) and check that dsregcmd shows AzureAdJoined : YES.";
const SYNC_FIX: &str = "The computer object has not reached Entra ID yet: make sure its OU is in Entra Connect sync scope and that its userCertificate attribute syncs, wait for the next sync cycle, then sign out and in (the device retries the join at sign-in and hourly).";
const JOIN_FIX: &str = "Make sure the computer's OU is in Entra Connect sync scope, the service connection point is configured, and the device reaches enterpriseregistration.windows.net, login.microsoftonline.com and device.login.microsoftonline.com; read the Diagnostic Data of `dsregcmd /status` and the User Device Registration/Admin event log, then sign out and in so the join is retried.";

const NETWORK_FIX: &str = "The registration did not reach Entra ID: the join runs as SYSTEM through the WinHTTP proxy, not the user's proxy. Fix the network path first (DEV012): `netsh winhttp show proxy`, proxy authentication for the computer account, firewall rules and no TLS inspection for enterpriseregistration.windows.net, login.microsoftonline.com and device.login.microsoftonline.com; then sign out and in so the join is retried.";

/// The fix for a failed join, from its codes (dsregcmd's and the registration log's).
fn join_fix(codes: &[u32], udr: &[JoinFailure], scp_failed: bool) -> String {
    if scp_failed || codes.contains(&0x801C_001D) {
        SCP_FIX.to_string()
    } else if codes.contains(&0x801C_03F2) {
        SYNC_FIX.to_string()
    } else if codes
        .iter()
        .any(|c| lookup(*c).is_some_and(|e| e.likely_cause == LikelyCause::Connectivity))
        || udr
            .iter()
            .any(|j| j.cause == Some(LikelyCause::Connectivity))
    {
        NETWORK_FIX.to_string()
    } else {
        JOIN_FIX.to_string()
    }
}

pub fn evaluate(f: &Facts) -> Finding {
    // Co-management enrolls with the device's Entra identity: hybrid or Entra joined both do.
    let co_managed = f.path.path == EnrollmentPath::CoManagement;
    if f.path.path != EnrollmentPath::GpoHybrid && !co_managed {
        return not_applicable(f, &META);
    }
    let udr = join_failures(f.report);
    let Some(d) = f.report.dsregcmd.as_ref() else {
        // Without dsregcmd the registration log still shows a join that keeps failing.
        if let Some(last) = udr.last() {
            let codes: Vec<u32> = udr.iter().flat_map(|j| j.codes.iter().copied()).collect();
            let mut evidence: Vec<Evidence> =
                udr.iter().rev().take(3).map(|j| j.evidence()).collect();
            evidence.extend(
                codes
                    .iter()
                    .take(3)
                    .map(|c| Evidence::new("error-catalog", describe(*c))),
            );
            let summary = format!(
                "the automatic device registration keeps failing (User Device Registration event {} at the {}{}, no later success); no dsregcmd output to confirm the join state",
                last.event.event_id,
                last.phase(),
                last.codes
                    .first()
                    .map(|c| format!(", {}", format_hresult(*c)))
                    .unwrap_or_default()
            );
            return finding(f, &META, Status::Fail, summary, evidence)
                .with_remediation(join_fix(&codes, &udr, false));
        }
        return no_evidence(
            f,
            &META,
            COLLECT_DSREGCMD,
            "no dsregcmd /status output among the inputs",
        );
    };
    let aad = d.yes_no("Device State", "AzureAdJoined");
    let dom = d.yes_no("Device State", "DomainJoined");
    let mut evidence: Vec<Evidence> = ["AzureAdJoined", "DomainJoined"]
        .iter()
        .filter_map(|n| f.dsreg_evidence("Device State", n))
        .collect();
    let (Some(aad), Some(dom)) = (aad, dom) else {
        return no_evidence_with(
            f,
            &META,
            COLLECT_DSREGCMD,
            "dsregcmd output lacks AzureAdJoined/DomainJoined in Device State".to_string(),
            vec![Evidence::new("dsregcmd", "Device State fields missing").at(d.file.clone())],
        );
    };
    // An Entra joined (not domain joined) device that carries the auto-enrollment policy (set
    // locally or by an ADMX profile) enrolls through the same task with the user's PRT: the
    // identity this check guards is there, and "join the domain" would be the wrong advice.
    if aad && (dom || co_managed || f.mdm_policy_key().is_some()) {
        if let Some(e) = f.dsreg_evidence("Device Details", "DeviceId") {
            evidence.push(e);
        }
        let summary = if dom {
            "Entra hybrid joined (AzureAdJoined YES, DomainJoined YES)"
        } else if co_managed {
            "Entra joined (AzureAdJoined YES): co-management can enroll with the device identity"
        } else {
            "Entra joined, not domain joined (AzureAdJoined YES, DomainJoined NO): the auto-enrollment policy present on the device runs with the user's Entra token"
        };
        return finding(f, &META, Status::Pass, summary, evidence);
    }
    // The pre-join Diagnostic Data says why the join failed.
    let mut codes: Vec<u32> = Vec::new();
    let mut scp_failed = false;
    for name in [
        "AD Configuration Test",
        "AD Connectivity Test",
        "DRS Discovery Test",
        "DRS Connectivity Test",
        "Token acquisition Test",
        "Error Phase",
        "Client ErrorCode",
        "Server ErrorCode",
        "Server Message",
    ] {
        let Some((field, loc)) = f.dsreg("Diagnostic Data", name) else {
            continue;
        };
        let v = field.value.trim();
        let interesting = match name {
            "Error Phase" | "Server Message" | "Server ErrorCode" | "Client ErrorCode" => {
                !v.is_empty()
            }
            _ => v.to_ascii_uppercase().starts_with("FAIL"),
        };
        if !interesting {
            continue;
        }
        if name == "AD Configuration Test" {
            scp_failed = true;
        }
        for c in parse_hresult(v).into_iter().chain(hresults_in_text(v)) {
            if c & 0x8000_0000 != 0 && !codes.contains(&c) {
                codes.push(c);
            }
        }
        evidence.push(Evidence::new("dsregcmd", format!("{} : {}", field.name, v)).at(loc));
    }
    // The registration log says what the last automatic attempts ran into.
    evidence.extend(udr.iter().rev().take(3).map(|j| j.evidence()));
    for c in udr.iter().flat_map(|j| j.codes.iter()) {
        if c & 0x8000_0000 != 0 && !codes.contains(c) {
            codes.push(*c);
        }
    }
    if udr.iter().any(|j| j.event.event_id == 307) {
        scp_failed = true;
    }
    for c in &codes {
        evidence.push(Evidence::new("error-catalog", describe(*c)));
    }
    let mut summary = if co_managed {
        "not Entra joined (AzureAdJoined NO): co-management auto-enrollment needs a hybrid or Entra joined device".to_string()
    } else if !dom {
        "not domain joined (DomainJoined NO): Group Policy auto-enrollment needs a domain-joined, Entra hybrid joined device".to_string()
    } else {
        "domain joined but not Entra hybrid joined (AzureAdJoined NO): Group Policy auto-enrollment cannot start".to_string()
    };
    if let Some(c) = codes.first() {
        summary.push_str(&format!("; the join fails with {}", format_hresult(*c)));
        if scp_failed || *c == 0x801C_001D {
            summary.push_str(" (service connection point missing or unreadable)");
        }
    }
    let remediation = if !dom && !co_managed {
        "Join the device to the Active Directory domain (GPO auto-enrollment only serves hybrid-joined devices), or enroll it another way (Entra join / Autopilot).".to_string()
    } else {
        join_fix(&codes, &udr, scp_failed)
    };
    finding(f, &META, Status::Fail, summary, evidence).with_remediation(remediation)
}

#[cfg(test)]
mod tests {
    use crate::checks::device::testutil::*;
    use crate::checks::device::*;
    use crate::device::report::*;
    #[allow(unused_imports)]
    use crate::model::{CheckMeta, EnrollmentPath, Finding, SkipReason, Status, Subject, Verdict};

    #[test]
    fn dev001_pass_fail_with_scp_code_and_not_applicable() {
        let (a, _) = run(&enrolled_hybrid());
        assert_eq!(status(&a, &DEV001), Status::Pass);

        let r = DeviceReport {
            dsregcmd: Some(dsreg(
                "| Device State |\n AzureAdJoined : NO\n DomainJoined : YES\n| User State |\n WorkplaceJoined : NO\n| SSO State |\n AzureAdPrt : NO\n| Diagnostic Data |\n User Context : UN-ELEVATED User\n AD Configuration Test : FAIL [0x801c001d]\n Error Phase : discover\n Client ErrorCode : 0x801c001d\n",
            )),
            ..Default::default()
        };
        let (a, d) = run(&r);
        let f = a.get(&DEV001).cloned().unwrap_or_else(|| panic!("DEV001"));
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("0x801C001D"), "{}", f.summary);
        assert!(f.remediation.contains("service connection point"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("AD Configuration Test"))
        );
        assert_eq!(d.verdict, Verdict::Blocked);
        assert_eq!(d.causes.first().map(String::as_str), Some("DEV001"));
        // No PRT is a consequence of the missing join, reported after it.
        assert_eq!(status(&a, &DEV002), Status::Fail);
        assert!(a.get(&DEV002).is_some_and(|f| f.summary.contains("DEV001")));

        let r = DeviceReport {
            dsregcmd: Some(dsreg(
                "| Device State |\n AzureAdJoined : YES\n DomainJoined : NO\n",
            )),
            ..Default::default()
        };
        let (a, _) = run(&r);
        assert!(
            matches!(skip_reason(&a, &DEV001), Some(SkipReason::NotApplicable { path }) if path == "entra-join")
        );
    }

    #[test]
    fn dev001_reads_the_registration_log() {
        let udr = |id: u32, minute: u32, code: &str| event(PROVIDER_UDR, id, minute, &[code], None);
        // No dsregcmd: repeated 304s with the SCP code and no later 306 fail the join.
        let mut r = failed_device();
        r.dsregcmd = None;
        r.events.push(udr(304, 20, "0x801c001d"));
        r.events.push(udr(307, 21, "0x801c001d"));
        let (a, _) = run(&r);
        let f = a.get(&DEV001).cloned().unwrap_or_else(|| panic!("DEV001"));
        assert_eq!(f.status, Status::Fail, "{}", f.summary);
        assert!(f.summary.contains("event 307"), "{}", f.summary);
        assert!(f.remediation.contains("service connection point"));
        // A later success clears them.
        r.events.push(udr(306, 30, "0x0"));
        assert_eq!(status(&run(&r).0, &DEV001), Status::Skip);
        // dsregcmd says not joined; the log names a network error: fix the network path.
        let mut r = failed_device();
        r.dsregcmd = Some(dsreg(
            "| Device State |\n AzureAdJoined : NO\n DomainJoined : YES\n",
        ));
        r.events.push(udr(304, 20, "0x80072ee2"));
        let (a, _) = run(&r);
        let f = a.get(&DEV001).cloned().unwrap_or_else(|| panic!("DEV001"));
        assert!(f.summary.contains("0x80072EE2"), "{}", f.summary);
        assert!(f.remediation.contains("DEV012"), "{}", f.remediation);
        assert!(f.evidence.iter().any(|e| e.detail.contains("join phase")));
    }
}
