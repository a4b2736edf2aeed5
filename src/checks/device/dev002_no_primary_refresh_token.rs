//! DEV002: the signed-in user holds a primary refresh token for user-credential enrollment.

use chrono::Duration;

use crate::catalog::error_codes::{LikelyCause, describe, lookup, parse_hresult};
use crate::checks::common::{R_8018002B, R_DIAGNOSE, R_DSREGCMD};
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::entra_events::{TokenFailure, distinct_latest, token_failures};
use super::evidence::COLLECT_DSREGCMD;
use super::facts::{CaptureKind, Facts};
use super::shared::{finding, no_evidence, no_evidence_with, not_applicable, user_dsregcmd};
use super::tenant_keys::{other_tenants, tenant_info};

pub const META: CheckMeta = CheckMeta {
    id: "DEV002",
    name: "no-primary-refresh-token",
    title: "The signed-in user has a primary refresh token",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Reads AzureAdPrt from dsregcmd /status captured in the user's session and fails when it \
        is NO, saying why from the Microsoft-Windows-AAD/Operational log: the failed PRT requests of the CloudAP \
        plug-in (events 1104, 1081, 1084, 1088) and the token broker's failures (1098), each code decoded with the \
        catalog (0xCAA2000C interaction required, 0xCAA20003 refused grant, 0xCAA82EE2 and other network codes, \
        STATUS_ codes), and the TenantInfo key of the joined tenant when it names another tenant. Without a \
        usable dsregcmd (none, or captured as SYSTEM) the AAD log alone decides: recent CloudAP failures, or \
        broker failures that are a refused grant or a network failure, fail the check (older ones warn); an \
        \"interaction required\" answer for one app is not a missing PRT.",
    why_it_matters: "Enrollment with user credentials asks Windows for a token from the user's primary refresh \
        token. Without one the task fails (0x80180002, 0x8018002B, token broker errors). The AAD/Operational \
        log records why a PRT request failed (MicrosoftDocs/entra-docs docs/identity/devices/\
        troubleshoot-primary-refresh-token.md); a stale TenantInfo key of another tenant makes the PRT request \
        go to that tenant (MicrosoftDocs/SupportArticles-docs support/mem/intune/device-enrollment/\
        windows10-enroll-error-80180002b.md). Enrollment paths: gpo-hybrid, entra-join and co-management \
        falling back to the user token.",
    how_to_fix: "Have the user sign out and in again with their Entra-synced account while the device can reach \
        Entra ID. Read the error the check names: interaction required means MFA or terms of use the silent \
        request cannot satisfy (Windows Hello for Business, or exclude the enrollment apps from that control); a \
        refused grant means credentials or a deleted/disabled device; a network code means the proxy or TLS \
        inspection (DEV012). If the device carries TenantInfo of another tenant, run dsregcmd /leave as an \
        administrator, delete the stale key under HKLM\\SYSTEM\\CurrentControlSet\\Control\\CloudDomainJoin\\\
        TenantInfo, re-join and sign in.",
    references: &[R_DSREGCMD, R_8018002B, R_PRT_TS, R_DIAGNOSE],
};

const R_PRT_TS: &str =
    "https://learn.microsoft.com/entra/identity/devices/troubleshoot-primary-refresh-token";
/// How many distinct AAD failures a finding shows.
const MAX_AAD_EVIDENCE: usize = 3;

pub fn evaluate(f: &Facts) -> Finding {
    if !matches!(
        f.path.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::EntraJoin
    ) {
        return not_applicable(f, &META);
    }
    let aad = token_failures(f.report);
    if let Err(skip) = user_dsregcmd(f, &META, "the user's PRT cannot be judged") {
        return from_events(f, &aad).unwrap_or_else(|| with_aad(*skip, &aad));
    }
    let Some((field, loc)) = f.dsreg("SSO State", "AzureAdPrt") else {
        return from_events(f, &aad).unwrap_or_else(|| {
            with_aad(
                no_evidence(
                    f,
                    &META,
                    COLLECT_DSREGCMD,
                    "dsregcmd output has no SSO State AzureAdPrt field",
                ),
                &aad,
            )
        });
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
                &META,
                Status::Pass,
                "the signed-in user has a Primary Refresh Token (AzureAdPrt YES)",
                evidence,
            )
        }
        // An elevated run may not see the user's PRT: "NO" is then not trustworthy.
        Some(false) if f.capture.kind == CaptureKind::ElevatedUser => from_events(f, &aad)
            .unwrap_or_else(|| {
                let mut ev = f.capture.evidence.clone();
                ev.extend(evidence);
                with_aad(
                    no_evidence_with(
                        f,
                        &META,
                        COLLECT_DSREGCMD,
                        "AzureAdPrt NO in an elevated dsregcmd run (see DEV010): not conclusive"
                            .to_string(),
                        ev,
                    ),
                    &aad,
                )
            }),
        Some(false) => no_prt(f, evidence, &aad),
        None => no_evidence(
            f,
            &META,
            COLLECT_DSREGCMD,
            format!("AzureAdPrt has an unexpected value \"{}\"", field.value),
        ),
    }
}

/// AzureAdPrt NO in the user's own dsregcmd: fail, with why.
fn no_prt(f: &Facts, mut evidence: Vec<Evidence>, aad: &[TokenFailure]) -> Finding {
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
        evidence
            .push(Evidence::new("dsregcmd", format!("DeviceAuthStatus : {}", df.value)).at(dloc));
    }
    let shown = distinct_latest(aad, MAX_AAD_EVIDENCE);
    evidence.extend(shown.iter().map(|t| t.evidence()));
    let stale = stale_tenant_info(f);
    if let Some((_, ev)) = &stale {
        evidence.extend(ev.iter().cloned());
    }
    let joined = f
        .report
        .dsregcmd
        .as_ref()
        .and_then(|d| d.yes_no("Device State", "AzureAdJoined"));
    if joined == Some(false) {
        return finding(
            f,
            &META,
            Status::Fail,
            "no Primary Refresh Token (AzureAdPrt NO): expected, the device is not Entra joined (see DEV001)",
            evidence,
        )
        .with_remediation("Fix the join first (DEV001): Entra ID issues a PRT only on a joined device. After the join, sign out and back in and check AzureAdPrt : YES.");
    }
    let mut summary = "no Primary Refresh Token for the signed-in user (AzureAdPrt NO): user-credential auto-enrollment cannot get a token".to_string();
    let why = shown
        .iter()
        .find(|t| t.is_prt_failure())
        .or(shown.first())
        .copied();
    if let Some(t) = why {
        summary.push_str(&format!("; AAD/Operational: {}", t.reason()));
    }
    let remediation = if let Some((text, _)) = stale {
        summary.push_str(&format!("; {text}"));
        stale_fix(f)
    } else {
        why.map(cause_fix).unwrap_or(GENERIC_FIX).to_string()
    };
    finding(f, &META, Status::Fail, summary, evidence).with_remediation(remediation)
}

const GENERIC_FIX: &str = "Sign out and back in (or lock and unlock) with line of sight to Entra ID, then check AzureAdPrt : YES. If it stays NO, read AcquirePrtDiagnostics in SSO State and the Microsoft-Windows-AAD/Operational log; a disabled or deleted device (DeviceAuthStatus FAILED) must be re-joined, and a device left over from another tenant needs `dsregcmd /leave` and a new join.";

/// What to do about the failure the AAD log names.
fn cause_fix(t: &TokenFailure) -> &'static str {
    match t.cause {
        Some(LikelyCause::ConditionalAccess) => {
            "The token request needs interaction (MFA or terms of use) that a silent request cannot give: have the user sign in to Windows with Windows Hello for Business or a method that satisfies MFA, replace enforced per-user MFA by Conditional Access, and keep the Intune enrollment apps out of grant controls the device cannot meet; then lock and unlock and check AzureAdPrt : YES."
        }
        Some(LikelyCause::Connectivity) => {
            "The PRT request did not reach Entra ID: fix the network path first (DEV012) — the WinHTTP proxy for SYSTEM (`netsh winhttp show proxy`), proxy authentication for the computer account, and no TLS inspection of login.microsoftonline.com and device.login.microsoftonline.com; then lock and unlock and check AzureAdPrt : YES."
        }
        Some(LikelyCause::Authentication) => {
            "Entra ID refused the credential or grant: read the AADSTS code (AADSTS50126 wrong password or an unsynced password change, AADSTS50155 the device was deleted or disabled and must be re-joined, AADSTS50034 the user is not in the tenant); fix it, then sign out and in and check AzureAdPrt : YES."
        }
        _ => GENERIC_FIX,
    }
}

/// The PRT judged from the AAD log alone (no usable dsregcmd): `None` when the log shows no
/// failure that means the PRT itself cannot be had.
fn from_events(f: &Facts, aad: &[TokenFailure]) -> Option<Finding> {
    let prt: Vec<TokenFailure> = aad.iter().filter(|t| t.is_prt_failure()).cloned().collect();
    let last = prt.last()?;
    let horizon = f.reference_time() - Duration::hours(24);
    let recent = last.event.time.is_some_and(|t| t >= horizon);
    let mut evidence: Vec<Evidence> = distinct_latest(&prt, MAX_AAD_EVIDENCE)
        .iter()
        .map(|t| t.evidence())
        .collect();
    evidence.extend(f.capture.evidence.iter().cloned());
    let stale = stale_tenant_info(f);
    if let Some((_, ev)) = &stale {
        evidence.extend(ev.iter().cloned());
    }
    let mut summary = if recent {
        format!(
            "the user's PRT requests fail (AAD/Operational, {} in the last 24 hours; no user-context dsregcmd): {}",
            prt.iter()
                .filter(|t| t.event.time.is_some_and(|x| x >= horizon))
                .count(),
            last.reason()
        )
    } else {
        format!(
            "earlier PRT requests failed (AAD/Operational, last at {}; no user-context dsregcmd to show the current state): {}",
            crate::checks::device::evidence::event_time(last.event),
            last.reason()
        )
    };
    let remediation = match stale {
        Some((text, _)) => {
            summary.push_str(&format!("; {text}"));
            stale_fix(f)
        }
        None => cause_fix(last).to_string(),
    };
    let status = if recent { Status::Fail } else { Status::Warn };
    Some(
        finding(f, &META, status, summary, evidence).with_remediation(format!(
            "{remediation} Capture `dsregcmd /status` in the user's session to confirm ({COLLECT_DSREGCMD})."
        )),
    )
}

/// A skip that shows the AAD failures it saw (none of which proves a missing PRT).
fn with_aad(mut skip: Finding, aad: &[TokenFailure]) -> Finding {
    for t in distinct_latest(aad, MAX_AAD_EVIDENCE) {
        skip.evidence.push(t.evidence());
    }
    skip
}

/// TenantInfo naming a tenant other than dsregcmd's: the PRT is asked of that tenant.
fn stale_tenant_info(f: &Facts) -> Option<(String, Vec<Evidence>)> {
    let infos = tenant_info(f.report);
    let device_tenant = f.tenant_id.as_deref()?;
    let others = other_tenants(&infos, device_tenant);
    if others.is_empty() {
        return None;
    }
    let names: Vec<String> = others.iter().map(|t| t.label()).collect();
    Some((
        format!(
            "HKLM\\SYSTEM\\CurrentControlSet\\Control\\CloudDomainJoin\\TenantInfo names {} besides the tenant {device_tenant} the device reports: its AuthCodeUrl/AccessTokenUrl send the PRT request to the wrong tenant",
            names.join(", ")
        ),
        others.iter().map(|t| t.evidence.clone()).collect(),
    ))
}

fn stale_fix(f: &Facts) -> String {
    let infos = tenant_info(f.report);
    let keys: Vec<String> = f
        .tenant_id
        .as_deref()
        .map(|t| other_tenants(&infos, t))
        .unwrap_or_default()
        .iter()
        .map(|t| format!("{} ({})", t.path, t.label()))
        .collect();
    format!(
        "As an administrator run `dsregcmd /leave`, delete the stale key {}, make sure the SCP (or CDJ\\AAD TenantId/TenantName) names your tenant, join again (sign out and in), then check AzureAdPrt : YES and the TenantId in dsregcmd.",
        keys.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use crate::checks::device::testutil::*;
    use crate::checks::device::*;
    use crate::device::report::*;
    #[allow(unused_imports)]
    use crate::model::{CheckMeta, EnrollmentPath, Finding, SkipReason, Status, Subject, Verdict};

    #[test]
    fn dev002_pass_fail_and_skip_when_captured_as_system() {
        let (a, _) = run(&enrolled_hybrid());
        assert_eq!(status(&a, &DEV002), Status::Pass);
        assert_eq!(status(&a, &DEV010), Status::Pass);

        let mut r = enrolled_hybrid();
        r.dsregcmd = Some(hybrid_dsreg(INTUNE_URL, "NO"));
        let (a, _) = run(&r);
        assert_eq!(status(&a, &DEV002), Status::Fail);

        // Elevated / SYSTEM capture: no user sections. DEV010 fires, DEV002 never says "no PRT".
        let mut r = enrolled_hybrid();
        r.dsregcmd = Some(dsreg(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : YES\n| Tenant Details |\n MdmUrl : \n| Diagnostic Data |\n Executing Account Name : NT AUTHORITY\\SYSTEM\n",
        ));
        let (a, _) = run(&r);
        assert_eq!(status(&a, &DEV010), Status::Fail);
        assert!(matches!(
            skip_reason(&a, &DEV002),
            Some(SkipReason::NoEvidence { .. })
        ));
        assert!(matches!(
            skip_reason(&a, &DEV003),
            Some(SkipReason::NoEvidence { .. })
        ));

        let mut r = enrolled_hybrid();
        r.collector = Some(CollectorContext {
            is_system: Some(true),
            ..Default::default()
        });
        let (a, _) = run(&r);
        assert_eq!(status(&a, &DEV010), Status::Fail);
        assert_eq!(status(&a, &DEV002), Status::Skip);
    }

    fn aad(id: u32, minute: u32, msg: &str) -> EventRecord {
        event(PROVIDER_AAD, id, minute, &[], Some(msg))
    }

    const MFA: &str = "Error: 0xCAA2000C The request requires user interaction. Code: interaction_required Description: AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication to access the resource.";
    const GRANT: &str = "Error: 0xCAA5001C Token broker operation failed. Operation name: GetTokenSilently, Error: -895352829 (0xcaa20003), Description: AADSTS50173: The provided grant has expired due to it being revoked.";
    const TIMEOUT: &str = "AAD Cloud AP plugin call Get token returned error: 0xCAA82EE2";

    #[test]
    fn dev002_says_why_the_prt_is_missing_from_the_aad_log() {
        let no_prt = |msgs: &[(u32, &str)]| {
            let mut r = enrolled_hybrid();
            r.dsregcmd = Some(hybrid_dsreg(INTUNE_URL, "NO"));
            for (i, (id, m)) in msgs.iter().enumerate() {
                r.events.push(aad(*id, 20 + i as u32, m));
            }
            let (a, _) = run(&r);
            a.get(&DEV002).cloned().unwrap_or_else(|| panic!("DEV002"))
        };
        let f = no_prt(&[(1098, MFA)]);
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.summary.contains("0xCAA2000C, interaction required"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("AADSTS50076"), "{}", f.summary);
        assert!(f.remediation.contains("Windows Hello"), "{}", f.remediation);

        let f = no_prt(&[(1098, MFA), (1098, GRANT)]);
        assert!(
            f.summary.contains("0xCAA20003, Entra ID refused"),
            "{}",
            f.summary
        );
        assert!(f.remediation.contains("AADSTS50126"), "{}", f.remediation);

        let f = no_prt(&[(1104, TIMEOUT)]);
        assert!(f.summary.contains("0xCAA82EE2"), "{}", f.summary);
        assert!(f.remediation.contains("DEV012"), "{}", f.remediation);
        assert!(f.evidence.iter().any(|e| e.detail.contains("event 1104")));
    }

    #[test]
    fn dev002_decides_from_the_aad_log_without_a_user_context_dsregcmd() {
        let mut r = enrolled_hybrid();
        r.dsregcmd = None;
        r.events.push(aad(1104, 20, TIMEOUT));
        let (a, _) = run(&r);
        let f = a.get(&DEV002).cloned().unwrap_or_else(|| panic!("DEV002"));
        assert_eq!(f.status, Status::Fail, "{}", f.summary);
        assert!(f.summary.contains("PRT requests fail"), "{}", f.summary);
        // An older failure only warns; an "interaction required" answer alone is no verdict.
        let f = super::evaluate(&crate::checks::device::facts::Facts::new(
            &r,
            as_of() + chrono::Duration::days(3),
            None,
        ));
        assert_eq!(f.status, Status::Warn, "{}", f.summary);
        let mut r = enrolled_hybrid();
        r.dsregcmd = None;
        r.events.push(aad(1098, 20, MFA));
        let (a, _) = run(&r);
        let f = a.get(&DEV002).cloned().unwrap_or_else(|| panic!("DEV002"));
        assert!(matches!(f.skip_reason, Some(SkipReason::NoEvidence { .. })));
        assert!(f.evidence.iter().any(|e| e.detail.contains("0xCAA2000C")));
    }

    #[test]
    fn dev002_names_a_stale_tenant_info_key() {
        let mut r = enrolled_hybrid();
        r.dsregcmd = Some(hybrid_dsreg(INTUNE_URL, "NO"));
        if let Some(reg) = r.registry.as_mut() {
            reg.keys.push(key(
                r"HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\TenantInfo\0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9",
                &[("DisplayName", sz("Fabrikam"))],
            ));
        }
        let (a, _) = run(&r);
        let f = a.get(&DEV002).cloned().unwrap_or_else(|| panic!("DEV002"));
        assert!(f.summary.contains("Fabrikam"), "{}", f.summary);
        assert!(
            f.remediation.contains("TenantInfo\\0d1c2b3a"),
            "{}",
            f.remediation
        );
    }
}
