//! DEV001–DEV011: one finding per check per device, pass included, each with evidence.

use crate::catalog::error_codes::{
    LikelyCause, describe, format_hresult, hresults_in_text, lookup, parse_hresult,
};
use crate::catalog::windows_releases::{is_windows_11, servicing_end};
use crate::device::report::{ArtifactKind, KEY_ENROLLMENTS, KEY_MDM_POLICY, normalize_key_path};
use crate::model::{EnrollmentPath, Evidence, Finding, SkipReason, Status};

use super::enrolled::{KeyClass, class_label, classify_enrollment_keys};
use super::facts::*;

/// Runs every device check, in ID order.
pub fn evaluate(f: &Facts) -> Vec<Finding> {
    vec![
        dev001_not_hybrid_joined(f),
        dev002_no_prt(f),
        dev003_mdm_url_missing(f),
        dev004_windows_out_of_support(f),
        dev005_gpo_not_applied(f),
        dev006_task_missing(f),
        dev007_autoenroll_failed(f),
        dev008_never_triggered(f),
        dev009_stale_keys(f),
        dev010_captured_elevated(f),
        dev011_logs_incomplete(f),
    ]
}

fn not_applicable(f: &Facts, id: &str) -> Finding {
    let mut finding = Finding::skip(
        id,
        f.subject.clone(),
        SkipReason::NotApplicable {
            path: f.path.path.as_str().to_string(),
        },
    );
    finding.evidence = f.path.evidence.clone();
    finding
}

fn no_evidence(f: &Facts, id: &str, collect: &str, missing: impl Into<String>) -> Finding {
    Finding::skip(
        id,
        f.subject.clone(),
        SkipReason::NoEvidence {
            collect: collect.to_string(),
        },
    )
    .with_evidence(Evidence::new("report", missing))
}

fn no_evidence_with(
    f: &Facts,
    id: &str,
    collect: &str,
    summary: String,
    evidence: Vec<Evidence>,
) -> Finding {
    let mut finding = Finding::skip(
        id,
        f.subject.clone(),
        SkipReason::NoEvidence {
            collect: collect.to_string(),
        },
    );
    finding.summary = format!("{summary}; collect {collect}");
    finding.evidence = evidence;
    finding
}

fn finding(
    f: &Facts,
    id: &str,
    status: Status,
    summary: impl Into<String>,
    evidence: Vec<Evidence>,
) -> Finding {
    let mut finding = Finding::new(id, status, f.subject.clone(), summary);
    finding.evidence = evidence;
    finding
}

/// A path on which the GPO (or its device-credential twin) drives enrollment.
fn gpo_driven(f: &Facts) -> bool {
    match f.path.path {
        EnrollmentPath::GpoHybrid => true,
        EnrollmentPath::CoManagement => f.mdm_policy_key().is_some(),
        _ => false,
    }
}

const SCP_FIX: &str = "Configure the service connection point for this forest (Entra Connect → Configure device options → Configure Hybrid Microsoft Entra join), or for a targeted rollout set TenantId/TenantName under HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\CDJ\\AAD; make sure the computer can read CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration Configuration,CN=Services in the configuration partition. Then sign out and in (or run `dsregcmd /join` as SYSTEM) and check that dsregcmd shows AzureAdJoined : YES.";
const SYNC_FIX: &str = "The computer object has not reached Entra ID yet: make sure its OU is in Entra Connect sync scope and that its userCertificate attribute syncs, wait for the next sync cycle, then sign out and in (the device retries the join at sign-in and hourly).";
const JOIN_FIX: &str = "Make sure the computer's OU is in Entra Connect sync scope, the service connection point is configured, and the device reaches enterpriseregistration.windows.net, login.microsoftonline.com and device.login.microsoftonline.com; read the Diagnostic Data of `dsregcmd /status` and the User Device Registration/Admin event log, then sign out and in so the join is retried.";

fn dev001_not_hybrid_joined(f: &Facts) -> Finding {
    const ID: &str = "DEV001";
    // Co-management enrolls with the device's Entra identity: hybrid or Entra joined both do.
    let co_managed = f.path.path == EnrollmentPath::CoManagement;
    if f.path.path != EnrollmentPath::GpoHybrid && !co_managed {
        return not_applicable(f, ID);
    }
    let Some(d) = f.report.dsregcmd.as_ref() else {
        return no_evidence(
            f,
            ID,
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
            ID,
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
        return finding(f, ID, Status::Pass, summary, evidence);
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
    } else if scp_failed || codes.contains(&0x801C_001D) {
        SCP_FIX.to_string()
    } else if codes.contains(&0x801C_03F2) {
        SYNC_FIX.to_string()
    } else {
        JOIN_FIX.to_string()
    };
    finding(f, ID, Status::Fail, summary, evidence).with_remediation(remediation)
}

fn dev002_no_prt(f: &Facts) -> Finding {
    const ID: &str = "DEV002";
    if !matches!(
        f.path.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::EntraJoin
    ) {
        return not_applicable(f, ID);
    }
    if f.report.dsregcmd.is_none() {
        return no_evidence(
            f,
            ID,
            COLLECT_DSREGCMD,
            "no dsregcmd /status output among the inputs",
        );
    }
    if f.capture.kind == CaptureKind::SystemOrNoUser {
        return no_evidence_with(
            f,
            ID,
            COLLECT_DSREGCMD,
            "dsregcmd ran without the signed-in user's context (see DEV010): the user's PRT cannot be judged".to_string(),
            f.capture.evidence.clone(),
        );
    }
    let Some((field, loc)) = f.dsreg("SSO State", "AzureAdPrt") else {
        return no_evidence(
            f,
            ID,
            COLLECT_DSREGCMD,
            "dsregcmd output has no SSO State AzureAdPrt field",
        );
    };
    let mut evidence =
        vec![Evidence::new("dsregcmd", format!("{} : {}", field.name, field.value)).at(loc)];
    match f
        .report
        .dsregcmd
        .as_ref()
        .and_then(|d| d.yes_no("SSO State", "AzureAdPrt"))
    {
        Some(true) => {
            if let Some(e) = f.dsreg_evidence("SSO State", "AzureAdPrtUpdateTime") {
                evidence.push(e);
            }
            finding(
                f,
                ID,
                Status::Pass,
                "the signed-in user has a Primary Refresh Token (AzureAdPrt YES)",
                evidence,
            )
        }
        // An elevated run may not see the user's PRT: "NO" is then not trustworthy.
        Some(false) if f.capture.kind == CaptureKind::ElevatedUser => {
            let mut ev = f.capture.evidence.clone();
            ev.extend(evidence);
            no_evidence_with(
                f,
                ID,
                COLLECT_DSREGCMD,
                "AzureAdPrt NO in an elevated dsregcmd run (see DEV010): not conclusive"
                    .to_string(),
                ev,
            )
        }
        Some(false) => {
            for name in [
                "Attempt Status",
                "Server Error Code",
                "Server Error Description",
            ] {
                if let Some(mut e) = f.dsreg_evidence("SSO State", name) {
                    // The attempt status is an NTSTATUS/HRESULT: say what it means.
                    if name == "Attempt Status"
                        && let Some((field, _)) = f.dsreg("SSO State", name)
                        && let Some(code) = parse_hresult(&field.value)
                        && lookup(code).is_some()
                    {
                        e.detail = format!("{} ({})", e.detail, describe(code));
                    }
                    evidence.push(e);
                }
            }
            if let Some((df, dloc)) = f.dsreg("Device Details", "DeviceAuthStatus")
                && !df.value.trim().eq_ignore_ascii_case("SUCCESS")
            {
                evidence.push(
                    Evidence::new("dsregcmd", format!("DeviceAuthStatus : {}", df.value)).at(dloc),
                );
            }
            let joined = f
                .report
                .dsregcmd
                .as_ref()
                .and_then(|d| d.yes_no("Device State", "AzureAdJoined"));
            let (summary, remediation) = if joined == Some(false) {
                (
                    "no Primary Refresh Token (AzureAdPrt NO): expected, the device is not Entra joined (see DEV001)",
                    "Fix the join first (DEV001): Entra ID issues a PRT only on a joined device. After the join, sign out and back in and check AzureAdPrt : YES.",
                )
            } else {
                (
                    "no Primary Refresh Token for the signed-in user (AzureAdPrt NO): user-credential auto-enrollment cannot get a token",
                    "Sign out and back in (or lock and unlock) with line of sight to Entra ID, then check AzureAdPrt : YES. If it stays NO, read AcquirePrtDiagnostics in SSO State and the Microsoft-Windows-AAD/Operational log; a disabled or deleted device (DeviceAuthStatus FAILED) must be re-joined, and a device left over from another tenant needs `dsregcmd /leave` and a new join.",
                )
            };
            finding(f, ID, Status::Fail, summary, evidence).with_remediation(remediation)
        }
        None => no_evidence(
            f,
            ID,
            COLLECT_DSREGCMD,
            format!("AzureAdPrt has an unexpected value \"{}\"", field.value),
        ),
    }
}

fn dev003_mdm_url_missing(f: &Facts) -> Finding {
    const ID: &str = "DEV003";
    if f.path.path == EnrollmentPath::EntraRegistered {
        return dev003_registered(f);
    }
    let Some(d) = f.report.dsregcmd.as_ref() else {
        return no_evidence(
            f,
            ID,
            COLLECT_DSREGCMD,
            "no dsregcmd /status output among the inputs",
        );
    };
    if f.capture.kind == CaptureKind::SystemOrNoUser {
        return no_evidence_with(
            f,
            ID,
            COLLECT_DSREGCMD,
            "dsregcmd ran without the signed-in user's context (see DEV010): MdmUrl depends on the user's MDM scope".to_string(),
            f.capture.evidence.clone(),
        );
    }
    let Some((field, loc)) = f.dsreg("Tenant Details", "MdmUrl") else {
        let why = if f.capture.kind == CaptureKind::Truncated {
            "the dsregcmd output is cut short: it has no Tenant Details MdmUrl"
        } else if d.section("Tenant Details").is_none() {
            "dsregcmd has no Tenant Details section: the device is not joined (see DEV001), so no MDM URL was discovered"
        } else {
            "dsregcmd Tenant Details has no MdmUrl field"
        };
        return no_evidence_with(
            f,
            ID,
            "`dsregcmd /status` again once the device is joined",
            why.to_string(),
            vec![Evidence::new("dsregcmd", why).at(d.file.clone())],
        );
    };
    let value = field.value.trim();
    let evidence = vec![Evidence::new("dsregcmd", format!("MdmUrl : {value}")).at(loc)];
    if !value.is_empty() {
        let summary = if value.to_ascii_lowercase().contains("manage.microsoft.com") {
            format!("MDM discovery URL present ({value})")
        } else {
            format!("MDM discovery URL present but not the Intune default ({value})")
        };
        return finding(f, ID, Status::Pass, summary, evidence);
    }
    let who = f.user.as_deref().unwrap_or("the signed-in user");
    let mut evidence = evidence;
    if let Some(e) = f.dsreg_evidence("Diagnostic Data", "Executing Account Name") {
        evidence.push(e);
    }
    finding(
        f,
        ID,
        Status::Fail,
        format!("MdmUrl is empty: MDM is not configured for the tenant, or {who} is not in the MDM user scope"),
        evidence,
    )
    .with_remediation(format!(
        "In the Entra admin center → Mobility (MDM and WIP) → Microsoft Intune, set the MDM user scope to All, or to Some with a group that contains {who} (confirm tenant-side: with a tenant connection enroll-doctor checks this as USR003/TEN003); keep the Intune default MDM discovery URL and make sure the user's UPN suffix is a verified domain. Then sign out and back in and check that `dsregcmd /status` shows an MdmUrl."
    ))
}

/// A registered device has no device-level MdmUrl: each work account carries the MDM URL Entra
/// returned for it (`WorkplaceMdmUrl`, in a "Work Account N" section, or in User State on older
/// builds). Empty means the account was added without an MDM offer.
fn dev003_registered(f: &Facts) -> Finding {
    const ID: &str = "DEV003";
    let Some(d) = f.report.dsregcmd.as_ref() else {
        return no_evidence(
            f,
            ID,
            COLLECT_DSREGCMD,
            "no dsregcmd /status output among the inputs",
        );
    };
    let urls: Vec<(&crate::device::report::DsregField, String)> = d
        .sections
        .iter()
        .filter(|s| {
            let t = s.title.to_ascii_lowercase();
            t.starts_with("work account") || t == "user state"
        })
        .flat_map(|s| s.fields.iter())
        .filter(|fl| fl.name.eq_ignore_ascii_case("WorkplaceMdmUrl"))
        .map(|fl| (fl, d.location(fl).to_string()))
        .collect();
    if urls.is_empty() {
        return no_evidence_with(
            f,
            ID,
            COLLECT_DSREGCMD,
            "the registered work account shows no WorkplaceMdmUrl".to_string(),
            f.path.evidence.clone(),
        );
    }
    let evidence: Vec<Evidence> = urls
        .iter()
        .map(|(fl, loc)| {
            Evidence::new("dsregcmd", format!("{} : {}", fl.name, fl.value)).at(loc.clone())
        })
        .collect();
    if let Some((fl, _)) = urls.iter().find(|(fl, _)| !fl.value.trim().is_empty()) {
        return finding(
            f,
            ID,
            Status::Pass,
            format!(
                "the registered work account has an MDM URL ({}): MDM enrollment is offered for it",
                fl.value.trim()
            ),
            evidence,
        );
    }
    let who = f.user.as_deref().unwrap_or("the user");
    finding(
        f,
        ID,
        Status::Fail,
        format!("the work account is registered without an MDM URL (WorkplaceMdmUrl empty): Entra ID offered no MDM enrollment, so {who} is outside the MDM user scope (or MAM applies instead)"),
        evidence,
    )
    .with_remediation(format!(
        "A registered (BYOD) device enrolls only when its work account gets an MDM URL: put {who} in the MDM user scope and out of the MAM user scope (Entra admin center → Mobility (MDM and WIP) → Microsoft Intune; on a registered device MAM wins when the user is in both), then remove and re-add the account under Settings → Accounts → Access work or school, or use \"Enroll only in device management\" there. Corporate devices should be Entra joined or hybrid joined instead."
    ))
}

fn dev004_windows_out_of_support(f: &Facts) -> Finding {
    const ID: &str = "DEV004";
    let Some(os) = f.report.os.as_ref() else {
        return no_evidence(
            f,
            ID,
            COLLECT_OS,
            "no Windows version information among the inputs",
        );
    };
    let Some(build) = os.build else {
        return no_evidence_with(
            f,
            ID,
            COLLECT_OS,
            "the OS information has no build number".to_string(),
            vec![Evidence::new("registry", "CurrentBuild missing").at(os.location.to_string())],
        );
    };
    let product = if is_windows_11(build) {
        "Windows 11"
    } else {
        "Windows 10"
    };
    let mut detail = format!("CurrentBuild {build}");
    if let Some(u) = os.ubr {
        detail.push_str(&format!(".{u}"));
    }
    detail.push_str(&format!(
        " ({product}: build {} 22000)",
        if is_windows_11(build) { "≥" } else { "<" }
    ));
    if let Some(e) = &os.edition_id {
        detail.push_str(&format!(", EditionID {e}"));
    }
    if let Some(v) = &os.display_version {
        detail.push_str(&format!(", DisplayVersion {v}"));
    }
    let mut evidence = vec![Evidence::new("registry", detail).at(os.location.to_string())];
    if let Some(p) = &os.product_name
        && is_windows_11(build)
        && p.contains("Windows 10")
    {
        evidence.push(
            Evidence::new(
                "registry",
                format!("ProductName \"{p}\" ignored: Windows 11 keeps the Windows 10 product name in the registry"),
            )
            .at(os.location.to_string()),
        );
    }
    let Some(s) = servicing_end(build, os.edition_id.as_deref()) else {
        return no_evidence_with(
            f,
            ID,
            "the servicing date of this build from the Windows release health pages (https://learn.microsoft.com/windows/release-health/)",
            format!(
                "build {build} is not in the release table (Insider, Server or a release newer than the table)"
            ),
            evidence,
        );
    };
    for n in &s.notes {
        evidence.push(Evidence::new("release-catalog", n.clone()));
    }
    let as_of = f.as_of.date_naive();
    let Some(end) = s.end else {
        return no_evidence_with(
            f,
            ID,
            "the servicing date of this release from the Windows release health pages",
            format!("{}: no end-of-servicing date is known", s.label),
            evidence,
        );
    };
    evidence.push(Evidence::new(
        "release-catalog",
        format!("{}: security updates until {end}", s.label),
    ));
    if s.is_past(as_of) {
        let esu = if build == 19045 {
            " Windows 10 22H2 gets security fixes past that date only through Extended Security Updates (ESU): enroll the device in ESU or upgrade it to Windows 11."
        } else {
            ""
        };
        finding(
            f,
            ID,
            Status::Warn,
            format!("{} reached end of servicing on {end} (as of {as_of}); this does not block enrollment", s.label),
            evidence,
        )
        .with_remediation(format!(
            "Install a serviced feature update (for example the current Windows 11 release). Enrollment still works, but the device gets no security fixes and compliance policies with a minimum OS version will flag it.{esu}"
        ))
    } else {
        finding(
            f,
            ID,
            Status::Pass,
            format!("{} is serviced until {end}", s.label),
            evidence,
        )
    }
}

const GPO_FIX: &str = "Link a GPO with Computer Configuration > Policies > Administrative Templates > Windows Components > MDM > \"Enable automatic MDM enrollment using default Microsoft Entra credentials\" (credential type: User Credential) to the computer's OU, run `gpupdate /force` on the device and confirm with `gpresult /h gpresult.html` that it applied; if it still does not, check security filtering, WMI filters and AD/SYSVOL replication.";

fn dev005_gpo_not_applied(f: &Facts) -> Finding {
    const ID: &str = "DEV005";
    if !gpo_driven(f) {
        return not_applicable(f, ID);
    }
    let Some(reg) = f.report.registry.as_ref() else {
        return no_evidence(
            f,
            ID,
            COLLECT_MDM_POLICY,
            "no registry export among the inputs",
        );
    };
    if let Some(k) = f.mdm_policy_key() {
        return match k.value("AutoEnrollMDM") {
            Some(v) if v.data.as_u64() == Some(1) => finding(
                f,
                ID,
                Status::Pass,
                "the auto-enrollment GPO is applied (AutoEnrollMDM = 1)",
                vec![Evidence::new("registry", format!("{}\\AutoEnrollMDM = 1", k.path)).at(v.location.to_string())],
            ),
            Some(v) => finding(
                f,
                ID,
                Status::Fail,
                format!("AutoEnrollMDM is {} (not 1): the auto-enrollment policy is not enabled", v.data.as_text()),
                vec![Evidence::new("registry", format!("{}\\AutoEnrollMDM = {}", k.path, v.data.as_text())).at(v.location.to_string())],
            )
            .with_remediation(GPO_FIX),
            None => finding(
                f,
                ID,
                Status::Fail,
                "the MDM policy key has no AutoEnrollMDM value: the auto-enrollment policy is not enabled",
                vec![reg_evidence(k, format!("{} without AutoEnrollMDM", k.path))],
            )
            .with_remediation(GPO_FIX),
        };
    }
    // The key is absent. That proves the GPO did not apply only if the export looked for it:
    // the collector records "looked, absent" as a deleted key; a `reg export` of the parent
    // would have included the subkey.
    if let Some(k) = reg
        .keys
        .iter()
        .find(|k| k.deleted && normalize_key_path(&k.path) == normalize_key_path(KEY_MDM_POLICY))
    {
        return finding(
            f,
            ID,
            Status::Fail,
            "the MDM policy key does not exist: the auto-enrollment GPO has not reached this device",
            vec![reg_evidence(k, format!("{} absent on the device", k.path))],
        )
        .with_remediation(GPO_FIX);
    }
    let parent = normalize_key_path(KEY_MDM_POLICY_PARENT);
    if let Some(k) = reg
        .keys
        .iter()
        .find(|k| !k.deleted && normalize_key_path(&k.path) == parent)
    {
        return finding(
            f,
            ID,
            Status::Fail,
            "the MDM policy key is absent: the auto-enrollment GPO has not reached this device",
            vec![reg_evidence(
                k,
                format!("{} exported without an MDM subkey", k.path),
            )],
        )
        .with_remediation(GPO_FIX);
    }
    no_evidence(
        f,
        ID,
        COLLECT_MDM_POLICY,
        "the registry export does not include the MDM policy key or its parent",
    )
}

const KEY_MDM_POLICY_PARENT: &str = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion";

fn dev006_task_missing(f: &Facts) -> Finding {
    const ID: &str = "DEV006";
    if !gpo_driven(f) {
        return not_applicable(f, ID);
    }
    let fix = "The task is created when the auto-enrollment GPO applies (see DEV005): run `gpupdate /force`, then look for it under \\Microsoft\\Windows\\EnterpriseMgmt in Task Scheduler (as an administrator). If the GPO is applied but the task never appears, read the DeviceManagement-Enterprise-Diagnostics-Provider Admin log.";
    // An empty list means the tasks could not be read (a real Windows task list is never empty).
    let has_list = f
        .report
        .scheduled_tasks
        .as_ref()
        .is_some_and(|t| !t.is_empty());
    if has_list && let Some(list) = f.autoenroll_task() {
        if let Some(t) = list {
            let mut detail = format!("task {}", t.path);
            match (t.last_result, t.last_result.and_then(task_result_hresult)) {
                (Some(r), Some(c)) => {
                    detail.push_str(&format!(", last result {r} ({})", format_hresult(c)))
                }
                (Some(r), None) => detail.push_str(&format!(", last result {r}")),
                _ => {}
            }
            if let Some(run) = &t.last_run {
                detail.push_str(&format!(", last run {run}"));
            }
            return finding(
                f,
                ID,
                Status::Pass,
                "the auto-enrollment task exists",
                vec![Evidence::new("scheduled-tasks", detail).at(t.location.to_string())],
            );
        }
        let file = f
            .report
            .scheduled_tasks
            .as_ref()
            .and_then(|t| t.first())
            .map(|t| t.location.file.clone())
            .unwrap_or_else(|| "task list".to_string());
        if f.enrolled.is_enrolled() {
            return finding(
                f,
                ID,
                Status::Pass,
                "no auto-enrollment task, which is expected once the device is enrolled",
                vec![
                    Evidence::new(
                        "scheduled-tasks",
                        format!("no \"{AUTOENROLL_TASK_PREFIX}…\" task"),
                    )
                    .at(file),
                ],
            );
        }
        if f.report.collector.as_ref().and_then(|c| c.elevated) == Some(false) {
            return no_evidence_with(
                f,
                ID,
                COLLECT_TASKS,
                "the task list was captured without elevation, which hides EnterpriseMgmt tasks"
                    .to_string(),
                vec![Evidence::new("collector", "elevated = false").at(file)],
            );
        }
        let mut evidence = vec![Evidence::new("scheduled-tasks", format!("no \"{AUTOENROLL_TASK_PREFIX}…\" task under \\Microsoft\\Windows\\EnterpriseMgmt")).at(file.clone())];
        // A raw schtasks list does not say whether it ran elevated; without elevation the whole
        // EnterpriseMgmt folder is hidden, so say so when the list shows none of it.
        let any_enterprise_mgmt = f.report.scheduled_tasks.iter().flatten().any(|t| {
            t.path
                .to_ascii_lowercase()
                .contains("\\microsoft\\windows\\enterprisemgmt\\")
        });
        if f.report.collector.is_none() && !any_enterprise_mgmt {
            evidence.push(
                Evidence::new(
                    "scheduled-tasks",
                    "the list has no \\Microsoft\\Windows\\EnterpriseMgmt task at all: if schtasks ran without elevation that folder is hidden, so run it again as administrator before acting on this",
                )
                .at(file),
            );
        }
        return finding(
            f,
            ID,
            Status::Fail,
            "the auto-enrollment task does not exist: nothing will start enrollment",
            evidence,
        )
        .with_remediation(fix);
    }
    // No task list: Task Scheduler history naming the task proves it existed.
    if let Some((_, e)) = f
        .report
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.is_task_scheduler() && names_autoenroll_task(e))
        .max_by_key(|(i, e)| (matches!(e.event_id, 107 | 102 | 100 | 110), *i))
    {
        return finding(
            f,
            ID,
            Status::Pass,
            format!(
                "the auto-enrollment task exists (Task Scheduler event {} at {})",
                e.event_id,
                event_time(e)
            ),
            vec![event_evidence(
                e,
                format!("event {} names the auto-enrollment task", e.event_id),
            )],
        );
    }
    if f.task_log.events > 0 && f.task_log.enabled == Some(true) && f.logs_prove_absence() {
        return finding(
            f,
            ID,
            Status::Fail,
            "the Task Scheduler log (enabled, covering the last day) never mentions the auto-enrollment task",
            vec![Evidence::new("task-scheduler-log", format!("{} events, none for the task", f.task_log.events)).at(f.task_log.files.join(", "))],
        )
        .with_remediation(fix);
    }
    no_evidence(
        f,
        ID,
        COLLECT_TASKS,
        "no task list, and no Task Scheduler event names the auto-enrollment task",
    )
}

fn dev007_autoenroll_failed(f: &Facts) -> Finding {
    const ID: &str = "DEV007";
    let fails = f.dmedp(76);
    let applies = matches!(
        f.path.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement | EnrollmentPath::Unknown
    );
    if !applies && fails.is_empty() {
        return not_applicable(f, ID);
    }
    let successes = f.dmedp(75);
    let Some(&last_fail) = fails.last() else {
        // No event 76, but the task's own last result is the enrollment's HRESULT.
        if successes.is_empty()
            && let Some((task, c)) = f.autoenroll_task_failure()
        {
            let when = task
                .last_run
                .clone()
                .unwrap_or_else(|| "its last run".to_string());
            let mut evidence = vec![
                Evidence::new(
                    "scheduled-tasks",
                    format!(
                        "task {}: last result {} ({}), last run {when}",
                        task.path,
                        task.last_result.unwrap_or_default(),
                        format_hresult(c)
                    ),
                )
                .at(task.location.to_string()),
                Evidence::new(
                    "error-catalog",
                    format!("{} (read from the task's last result)", describe(c)),
                ),
            ];
            if !f.dmedp_log.supplied() {
                evidence.push(Evidence::new(
                    "report",
                    format!("no {LOG_DMEDP} export: collect {COLLECT_DMEDP} for the event 76 text"),
                ));
            }
            let (summary, remediation) = code_summary_and_fix(
                c,
                format!("the auto-enrollment task's last run ({when}) failed"),
                &when,
            );
            return finding(f, ID, Status::Fail, summary, evidence).with_remediation(remediation);
        }
        // A disabled or empty log cannot show a 76: its silence is not a pass.
        let log_silent = f.dmedp_log.enabled == Some(false)
            || (f.dmedp_log.events == 0 && f.dmedp_log.enabled != Some(true));
        if f.dmedp_log.supplied() && log_silent && successes.is_empty() {
            let state = if f.dmedp_log.enabled == Some(false) {
                "disabled"
            } else {
                "empty, and its enabled state is not recorded"
            };
            let collect = if f.dmedp_log.enabled == Some(false) {
                "the log again after enabling it (`wevtutil sl \"Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin\" /e:true`) and the next sign-in"
            } else {
                COLLECT_BUNDLE
            };
            return no_evidence_with(
                f,
                ID,
                collect,
                format!(
                    "the DeviceManagement log is {state}: the absence of event 76 proves nothing"
                ),
                vec![
                    Evidence::new(
                        "event-log",
                        format!("{LOG_DMEDP}: {state}, {} events", f.dmedp_log.events),
                    )
                    .at(f.dmedp_log.files.join(", ")),
                ],
            );
        }
        if f.dmedp_log.supplied() {
            let since = f
                .dmedp_log
                .oldest
                .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            let mut evidence = vec![
                Evidence::new(
                    "event-log",
                    format!(
                        "{} DeviceManagement events{since}, no event 76",
                        f.dmedp_log.events
                    ),
                )
                .at(f.dmedp_log.files.join(", ")),
            ];
            if let Some(&(_, s)) = successes.last() {
                evidence.push(event_evidence(
                    s,
                    format!("event 75 (auto-enrollment succeeded) at {}", event_time(s)),
                ));
            }
            return finding(
                f,
                ID,
                Status::Pass,
                "no failed auto-enrollment (event 76) in the DeviceManagement log",
                evidence,
            );
        }
        return no_evidence(
            f,
            ID,
            COLLECT_DMEDP,
            "the DeviceManagement-Enterprise-Diagnostics-Provider Admin log was not supplied",
        );
    };
    if let Some(&later_ok) = successes.iter().find(|s| later(last_fail, **s)) {
        return finding(
            f,
            ID,
            Status::Pass,
            format!(
                "auto-enrollment failed {} time(s) but then succeeded (event 75 at {})",
                fails.len(),
                event_time(later_ok.1)
            ),
            vec![
                event_evidence(
                    last_fail.1,
                    format!("last event 76 at {}", event_time(last_fail.1)),
                ),
                event_evidence(later_ok.1, "event 75: auto-enrollment succeeded"),
            ],
        );
    }
    let e = last_fail.1;
    let code = failure_code(e);
    let mut evidence = Vec::new();
    let msg = e.message.clone().unwrap_or_else(|| {
        e.data
            .iter()
            .map(|d| d.value.clone())
            .collect::<Vec<_>>()
            .join(", ")
    });
    evidence.push(event_evidence(
        e,
        format!("event 76 at {}: {msg}", event_time(e)),
    ));
    // Event 52 carries the enrollment server's own reason (SOAP fault), logged just before the
    // 76 it caused: it names what the HRESULT only hints at.
    if let Some(&(_, fault)) = f.dmedp(52).iter().rev().find(|(i, f52)| {
        *i < last_fail.0
            && match (f52.time, e.time) {
                (Some(t52), Some(t76)) => t76 >= t52 && t76 - t52 <= chrono::Duration::minutes(10),
                _ => true,
            }
    }) {
        let text = fault.message.clone().unwrap_or_else(|| {
            fault
                .data
                .iter()
                .map(|d| d.value.clone())
                .collect::<Vec<_>>()
                .join(", ")
        });
        evidence.push(event_evidence(
            fault,
            format!(
                "event 52 at {} (the server's answer): {text}",
                event_time(fault)
            ),
        ));
    }
    if fails.len() > 1 {
        let first = fails[0].1;
        evidence.push(event_evidence(
            first,
            format!(
                "first of {} events 76 at {}",
                fails.len(),
                event_time(first)
            ),
        ));
    }
    let (summary, remediation) = match code {
        Some((c, how)) => {
            evidence.push(Evidence::new("error-catalog", format!("{} (read from the {how})", describe(c))));
            code_summary_and_fix(
                c,
                format!("auto-enrollment failed {} time(s), last at {}", fails.len(), event_time(e)),
                &event_time(e),
            )
        }
        None => (
            format!(
                "auto-enrollment failed {} time(s), last at {} (no error code in the export)",
                fails.len(),
                event_time(e)
            ),
            "Export the log with `wevtutil qe ... /f:RenderedXml` to keep the error text, then run `enroll-doctor explain CODE`.".to_string(),
        ),
    };
    if successes.is_empty() {
        evidence.push(
            Evidence::new("event-log", "no event 75 (success) after it")
                .at(e.location.file.clone()),
        );
    }
    finding(f, ID, Status::Fail, summary, evidence).with_remediation(remediation)
}

/// Summary and fix for a decoded failure code: the catalog's meaning and remediation, plus a
/// pointer to the tenant-side checks when the code's usual cause lives in the tenant.
fn code_summary_and_fix(c: u32, lead: String, when: &str) -> (String, String) {
    let entry = lookup(c);
    let tenant_side = entry.is_some_and(|e| {
        matches!(
            e.likely_cause,
            LikelyCause::MdmScope
                | LikelyCause::PlatformRestriction
                | LikelyCause::License
                | LikelyCause::DeviceLimit
                | LikelyCause::ConditionalAccess
                | LikelyCause::JoinNotAllowed
        )
    });
    // The first sentence is enough for a summary; the evidence carries the rest.
    let meaning = entry
        .map(|e| first_sentence(e.description))
        .unwrap_or("not in the error catalog");
    let summary = format!("{lead}, with {}: {meaning}", format_hresult(c));
    let mut fix = entry
                .map(|e| e.remediation.to_string())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| {
                    format!("Run `enroll-doctor explain {}` and read the DeviceManagement-Enterprise-Diagnostics-Provider Admin and Microsoft-Windows-AAD/Operational logs around {when}.", format_hresult(c))
                });
    if tenant_side {
        fix.push_str(" Confirm tenant-side: run `enroll-doctor diagnose` with a tenant connection (or --snapshot) to check the user's license, MDM scope and restrictions.");
    }
    (summary, fix)
}

fn dev008_never_triggered(f: &Facts) -> Finding {
    const ID: &str = "DEV008";
    if f.path.path != EnrollmentPath::GpoHybrid {
        return not_applicable(f, ID);
    }
    if f.enrolled.is_enrolled() {
        // The key, then what confirms it is alive (tasks, last server contact).
        let evidence = f.enrolled.evidence().to_vec();
        return finding(
            f,
            ID,
            Status::Pass,
            "the device is enrolled, so auto-enrollment was triggered",
            evidence,
        );
    }
    // Any trace of an attempt.
    let mut attempts: Vec<Evidence> = Vec::new();
    for id in [75u32, 76] {
        if let Some(&(_, e)) = f.dmedp(id).last() {
            attempts.push(event_evidence(
                e,
                format!("event {id} at {}", event_time(e)),
            ));
        }
    }
    for id in [107u32, 102, 100, 110, 7016] {
        if let Some(&(_, e)) = f.task_events(id).last() {
            attempts.push(event_evidence(
                e,
                format!(
                    "Task Scheduler event {id} for the auto-enrollment task at {}",
                    event_time(e)
                ),
            ));
        }
    }
    if let Some(Some(t)) = f.autoenroll_task()
        && t.last_run.is_some()
        && t.last_result.is_some_and(|r| r != 267_011)
    {
        attempts.push(
            Evidence::new(
                "scheduled-tasks",
                format!("task last ran {}", t.last_run.clone().unwrap_or_default()),
            )
            .at(t.location.to_string()),
        );
    }
    if !attempts.is_empty() {
        return finding(
            f,
            ID,
            Status::Pass,
            "auto-enrollment was triggered",
            attempts,
        );
    }
    if f.logs_prove_absence() {
        return finding(
            f,
            ID,
            Status::Fail,
            "auto-enrollment never ran: no event 75/76 and no Task Scheduler 107 for the task, although both logs are enabled and reach back at least a day",
            vec![
                Evidence::new("event-log", format!("{}: enabled, {} events", LOG_DMEDP, f.dmedp_log.events)).at(f.dmedp_log.files.join(", ")),
                Evidence::new("task-scheduler-log", format!("{}: enabled, {} events", LOG_TASKS, f.task_log.events)).at(f.task_log.files.join(", ")),
            ],
        )
        .with_remediation("Nothing started the auto-enrollment task: check that the GPO applied (DEV005) and the task exists (DEV006), then run `gpupdate /force` and sign out and in; the task runs at sign-in and every 5 minutes for a day after the policy applies.");
    }
    let mut evidence = vec![Evidence::new(
        "report",
        "no event 75/76 and no Task Scheduler 107 in the supplied exports",
    )];
    for (log, name) in [(&f.dmedp_log, LOG_DMEDP), (&f.task_log, LOG_TASKS)] {
        let state = match (log.supplied(), log.enabled) {
            (false, _) => "not supplied or empty".to_string(),
            (true, Some(true)) => "enabled, but it does not reach back a full day".to_string(),
            (true, Some(false)) => "disabled".to_string(),
            (true, None) => "exported without its enabled state".to_string(),
        };
        evidence.push(Evidence::new("event-log", format!("{name}: {state}")));
    }
    no_evidence_with(
        f,
        ID,
        COLLECT_BUNDLE,
        "no attempt is recorded, but the exports do not prove the logs were enabled and cover the period".to_string(),
        evidence,
    )
}

fn dev009_stale_keys(f: &Facts) -> Finding {
    const ID: &str = "DEV009";
    let sevens = f.already_enrolled_7016();
    let keys = classify_enrollment_keys(f.report, f.tenant_id.as_deref(), f.user.as_deref());
    let covered = f
        .report
        .registry
        .as_ref()
        .is_some_and(|r| r.covers(KEY_ENROLLMENTS));
    let stale: Vec<_> = keys.iter().filter(|k| k.class.is_stale()).collect();
    let review: Vec<_> = keys
        .iter()
        .filter(|k| matches!(k.class, KeyClass::Placeholder | KeyClass::Review { .. }))
        .collect();
    let live = keys.iter().find(|k| k.class == KeyClass::Live);

    let mut evidence: Vec<Evidence> = Vec::new();
    for &(_, e) in sevens.iter().rev().take(1) {
        evidence.push(event_evidence(
            e,
            format!(
                "event 7016 at {}: the auto-enrollment task could not start, error 2149056522 = {}",
                event_time(e),
                code_name(HRESULT_ALREADY_ENROLLED)
            ),
        ));
    }
    for k in &stale {
        evidence.push(reg_evidence(
            k.key,
            format!(
                "{}: {} ({} values)",
                k.key.path,
                class_label(&k.class),
                k.value_count()
            ),
        ));
    }
    let review_note = |evidence: &mut Vec<Evidence>| {
        for k in &review {
            evidence.push(reg_evidence(
                k.key,
                format!(
                    "{}: {} — review, do not delete",
                    k.key.path,
                    class_label(&k.class)
                ),
            ));
        }
    };

    if sevens.is_empty() && stale.is_empty() {
        if !covered {
            return no_evidence(
                f,
                ID,
                COLLECT_ENROLLMENTS,
                "HKLM\\SOFTWARE\\Microsoft\\Enrollments was not exported and no Task Scheduler 7016 was seen",
            );
        }
        let mut evidence = Vec::new();
        if let Some(l) = live {
            evidence.push(reg_evidence(
                l.key,
                format!("{}: live Intune enrollment (kept)", l.key.path),
            ));
        }
        review_note(&mut evidence);
        if evidence.is_empty() {
            let file = f
                .report
                .registry
                .as_ref()
                .and_then(|r| {
                    r.keys.iter().find(|k| {
                        normalize_key_path(&k.path)
                            .starts_with(&normalize_key_path(KEY_ENROLLMENTS))
                    })
                })
                .map(|k| k.location.file.clone())
                .unwrap_or_default();
            evidence.push(Evidence::new("registry", "no enrollment subkeys").at(file));
        }
        return finding(
            f,
            ID,
            Status::Pass,
            "no stale enrollment keys and no Task Scheduler 7016 (0x8018000A)",
            evidence,
        );
    }
    review_note(&mut evidence);

    // Delete the stale key with the most values: the leftover of a real enrollment.
    let target = stale.iter().copied().reduce(|best, k| {
        if k.value_count() > best.value_count() {
            k
        } else {
            best
        }
    });
    let status = if !sevens.is_empty() || !f.enrolled.is_enrolled() {
        Status::Fail
    } else {
        Status::Warn
    };
    let summary = match (target, sevens.is_empty()) {
        (Some(t), false) => format!(
            "the auto-enrollment task cannot start (event 7016, 0x8018000A: already enrolled) because of a stale enrollment: delete {} ({})",
            t.key.path,
            class_label(&t.class)
        ),
        (Some(t), true) => format!("stale enrollment key {} ({})", t.key.path, class_label(&t.class)),
        (None, _) if covered => "event 7016 with 0x8018000A (already enrolled), but the Enrollments export shows no stale key: the leftover may sit under Enrollments\\Status or OMADM\\Accounts".to_string(),
        (None, _) => "event 7016 with 0x8018000A (already enrolled): a stale enrollment blocks the task; export HKLM\\SOFTWARE\\Microsoft\\Enrollments to name it".to_string(),
    };
    let mut remediation = match target {
        Some(t) => {
            let guid = t.key.leaf();
            format!(
                "Back up and delete the stale key: `reg export \"{p}\" stale-enrollment.reg` then `reg delete \"{p}\" /f`; remove the same GUID ({guid}) under Enrollments\\Status, EnterpriseResourceManager\\Tracked, PolicyManager\\AdmxInstalled, PolicyManager\\Providers and Provisioning\\OMADM\\Accounts|Logger|Sessions, and the \\Microsoft\\Windows\\EnterpriseMgmt\\{guid} task folder if present. Then run `gpupdate /force` (or restart) so the auto-enrollment task runs again.",
                p = t.key.path
            )
        }
        None => format!(
            "Collect {COLLECT_ENROLLMENTS}, find the leftover enrollment (another MDM, tenant or user) and delete it, then run `gpupdate /force`."
        ),
    };
    if let Some(l) = live {
        remediation.push_str(&format!(
            " Keep {}: it is the live Intune enrollment.",
            l.key.path
        ));
    }
    let others: Vec<String> = stale
        .iter()
        .filter(|k| target.is_none_or(|t| t.key.path != k.key.path))
        .map(|k| k.key.path.clone())
        .collect();
    if !others.is_empty() {
        remediation.push_str(&format!(
            " Also stale (review and delete the same way): {}.",
            others.join(", ")
        ));
    }
    if !review.is_empty() {
        let names: Vec<&str> = review.iter().map(|k| k.key.leaf()).collect();
        remediation.push_str(&format!(
            " Leave {} alone unless you know who created it (placeholder/incomplete, review only).",
            names.join(", ")
        ));
    }
    finding(f, ID, status, summary, evidence).with_remediation(remediation)
}

fn dev010_captured_elevated(f: &Facts) -> Finding {
    const ID: &str = "DEV010";
    let Some(d) = f.report.dsregcmd.as_ref() else {
        return no_evidence(
            f,
            ID,
            COLLECT_DSREGCMD,
            "no dsregcmd /status output among the inputs",
        );
    };
    let fix = "Run `dsregcmd /status > dsregcmd.txt` again from a normal, non-elevated prompt in the affected user's session (the collector does this in its user-context step), and analyse that output: User State and SSO State (PRT, per-user MDM URL) only describe the user who ran it.";
    // The device credential needs no user session: a SYSTEM capture (what ConfigMgr scripts
    // collect) holds every fact the co-management path uses.
    if f.path.path == EnrollmentPath::CoManagement
        && matches!(
            f.capture.kind,
            CaptureKind::SystemOrNoUser | CaptureKind::ElevatedUser
        )
    {
        return finding(
            f,
            ID,
            Status::Pass,
            "dsregcmd ran without the user's context, which is enough on the co-management path: it enrolls with the device credential, not the user's PRT",
            f.capture.evidence.clone(),
        );
    }
    match f.capture.kind {
        CaptureKind::SystemOrNoUser => finding(
            f,
            ID,
            Status::Fail,
            "dsregcmd ran as SYSTEM or without a user: user-context facts (PRT, MDM URL) are missing or not the user's; DEV002 is not evaluated",
            f.capture.evidence.clone(),
        )
        .with_remediation(fix),
        CaptureKind::ElevatedUser => finding(
            f,
            ID,
            Status::Warn,
            "dsregcmd ran elevated: user fields are present but WAM fields may be wrong",
            f.capture.evidence.clone(),
        )
        .with_remediation(fix),
        CaptureKind::Truncated => no_evidence_with(
            f,
            ID,
            COLLECT_DSREGCMD,
            "the dsregcmd output is cut short before User State / SSO State: the context it ran in is unknown".to_string(),
            f.capture.evidence.clone(),
        ),
        CaptureKind::User | CaptureKind::Unknown => {
            let ev = f
                .dsreg_evidence("Diagnostic Data", "User Context")
                .or_else(|| f.dsreg_evidence("Diagnostic Data", "Executing Account Name"))
                .unwrap_or_else(|| {
                    let line = d.section("SSO State").map(|s| s.line).unwrap_or(1);
                    Evidence::new("dsregcmd", "User State and SSO State present").at(format!("{}:{line}", d.file))
                });
            finding(f, ID, Status::Pass, "dsregcmd ran in the user's context", vec![ev])
        }
    }
}

fn dev011_logs_incomplete(f: &Facts) -> Finding {
    const ID: &str = "DEV011";
    let mut problems: Vec<String> = Vec::new();
    let mut evidence: Vec<Evidence> = Vec::new();
    // Evidence of what is fine goes after the evidence of what is missing.
    let mut fine: Vec<Evidence> = Vec::new();
    // Zero-byte files and event exports with no records are likely empty exports: they show
    // nothing either way.
    let empty: Vec<&str> = f
        .report
        .inputs
        .iter()
        .filter(|i| {
            i.bytes == 0
                || (i.records == 0
                    && matches!(
                        i.kind,
                        ArtifactKind::EventXml
                            | ArtifactKind::EventJson
                            | ArtifactKind::EventCsv
                            | ArtifactKind::EventText
                    ))
        })
        .map(|i| i.name.as_str())
        .collect();
    let last_attempt = [107u32, 102, 7016]
        .iter()
        .filter_map(|id| f.task_events(*id).last().and_then(|(_, e)| e.time))
        .max();
    for e in &empty {
        evidence.push(
            Evidence::new(
                "input",
                format!("{e} is empty: an empty export does not show whether a log is enabled"),
            )
            .at(e.to_string()),
        );
    }
    // Only the GPO task writes Task Scheduler history that matters; on the Entra join and
    // registered paths nothing is concluded from that log, so its absence is no gap.
    let needs_task_log = gpo_driven(f) || f.path.path == EnrollmentPath::Unknown;
    let logs: &[(&LogStatus, &str)] = if needs_task_log {
        &[(&f.dmedp_log, LOG_DMEDP), (&f.task_log, LOG_TASKS)]
    } else {
        &[(&f.dmedp_log, LOG_DMEDP)]
    };
    for &(log, name) in logs {
        let loc = log.files.join(", ");
        if log.enabled == Some(false) {
            problems.push(format!("{name} is disabled"));
            evidence.push(Evidence::new("event-log", format!("{name}: enabled = false")).at(loc));
            continue;
        }
        if !log.supplied() {
            problems.push(format!("no {name} events"));
            evidence.push(Evidence::new(
                "event-log",
                format!("{name}: no events in the inputs"),
            ));
            continue;
        }
        // The collector's record count covers the whole log; without it, zero exported events
        // is all we know.
        let empty_log = match log.record_count {
            Some(n) => n == 0,
            None => log.events == 0,
        };
        if empty_log {
            problems.push(format!("{name} is empty"));
            evidence.push(Evidence::new("event-log", format!("{name}: 0 events")).at(loc));
            continue;
        }
        if name == LOG_DMEDP
            && let (Some(oldest), Some(attempt)) = (log.oldest, last_attempt)
            && oldest > attempt
        {
            problems.push(format!(
                "{name} starts at {} after the last task run at {}",
                oldest.format("%Y-%m-%d %H:%M UTC"),
                attempt.format("%Y-%m-%d %H:%M UTC")
            ));
            evidence.push(
                Evidence::new("event-log", format!("{name}: oldest record {oldest}")).at(loc),
            );
            continue;
        }
        let since = log
            .oldest
            .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        let enabled = match log.enabled {
            Some(true) => "enabled",
            _ => "enabled state not recorded",
        };
        fine.push(
            Evidence::new(
                "event-log",
                format!("{name}: {} events{since} ({enabled})", log.events),
            )
            .at(loc),
        );
    }
    if !empty.is_empty() {
        problems.push(format!("empty exports: {}", empty.join(", ")));
    }
    evidence.extend(fine);
    let nothing = !f.dmedp_log.supplied() && !f.task_log.supplied();
    if nothing && empty.is_empty() {
        return no_evidence_with(
            f,
            ID,
            COLLECT_BUNDLE,
            "no event log exports among the inputs".to_string(),
            vec![Evidence::new(
                "report",
                "no DeviceManagement or Task Scheduler events supplied",
            )],
        );
    }
    if problems.is_empty() {
        return finding(
            f,
            ID,
            Status::Pass,
            if needs_task_log {
                "the DeviceManagement and Task Scheduler logs were supplied"
            } else {
                "the DeviceManagement log was supplied (the Task Scheduler log does not matter on this path)"
            },
            evidence,
        );
    }
    finding(
        f,
        ID,
        Status::Warn,
        format!(
            "event logs incomplete ({}): conclusions drawn from missing events are downgraded",
            problems.join("; ")
        ),
        evidence,
    )
    .with_remediation(format!(
        "Collect both logs with their state: {COLLECT_BUNDLE}; or {COLLECT_DMEDP} and {COLLECT_TASK_LOG}. If Task Scheduler history is disabled, enable it (`wevtutil sl Microsoft-Windows-TaskScheduler/Operational /e:true`) and wait for the next attempt."
    ))
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(i) => &text[..i],
        None => text.trim_end_matches('.'),
    }
}

/// `0x8018000A (MENROLL_E_DEVICE_ALREADY_ENROLLED)`: short enough for an evidence line.
fn code_name(code: u32) -> String {
    match lookup(code).and_then(|e| e.symbol) {
        Some(sym) => format!("{} ({sym})", format_hresult(code)),
        None => format_hresult(code),
    }
}

// Used by the diagnosis: the decoded code of the last unrecovered event 76.
pub fn last_failure_code(f: &Facts) -> Option<u32> {
    let fails = f.dmedp(76);
    let Some(&last) = fails.last() else {
        // As DEV007: without events, a failed task result stands in for the 76.
        return if f.dmedp(75).is_empty() {
            f.autoenroll_task_failure().map(|(_, c)| c)
        } else {
            None
        };
    };
    if f.dmedp(75).iter().any(|s| later(last, *s)) {
        return None;
    }
    failure_code(last.1).map(|(c, _)| c)
}

/// Outcome of the last auto-enrollment event: `Some(true)` for 75, `Some(false)` for 76.
pub fn last_outcome(f: &Facts) -> Option<bool> {
    let mut all: Vec<_> = f.dmedp(75).into_iter().map(|e| (e, true)).collect();
    all.extend(f.dmedp(76).into_iter().map(|e| (e, false)));
    all.into_iter()
        .reduce(|a, b| if later(a.0, b.0) { b } else { a })
        .map(|(_, ok)| ok)
}
