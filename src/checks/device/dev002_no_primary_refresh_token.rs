//! DEV002: the signed-in user holds a primary refresh token for user-credential enrollment.

use crate::catalog::error_codes::{describe, lookup, parse_hresult};
use crate::checks::common::{R_8018002B, R_DIAGNOSE, R_DSREGCMD};
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::evidence::COLLECT_DSREGCMD;
use super::facts::{CaptureKind, Facts};
use super::shared::{finding, no_evidence, no_evidence_with, not_applicable, user_dsregcmd};
use crate::checks::common::or_finding;

pub const META: CheckMeta = CheckMeta {
    id: "DEV002",
    name: "no-primary-refresh-token",
    title: "The signed-in user has a primary refresh token",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Reads AzureAdPrt from dsregcmd /status captured in the user's session and fails when it \
        is NO.",
    why_it_matters: "Enrollment with user credentials asks Windows for a token from the user's primary refresh \
        token. Without one the task fails (0x80180002, 0x8018002B, token broker errors). A stale TenantInfo key \
        of another tenant is a known cause. Enrollment paths: gpo-hybrid, entra-join and co-management falling \
        back to the user token.",
    how_to_fix: "Have the user sign out and in again with their Entra-synced account while the device can reach \
        Entra ID. Look at the SSO State and Diagnostic Data sections of dsregcmd /status for the error. If the \
        device carries TenantInfo of another tenant, run dsregcmd /leave as an administrator, delete the stale \
        key under HKLM\\SYSTEM\\CurrentControlSet\\Control\\CloudDomainJoin\\TenantInfo, re-join and sign in.",
    references: &[R_DSREGCMD, R_8018002B, R_DIAGNOSE],
};

pub fn evaluate(f: &Facts) -> Finding {
    if !matches!(
        f.path.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::EntraJoin
    ) {
        return not_applicable(f, &META);
    }
    or_finding!(user_dsregcmd(f, &META, "the user's PRT cannot be judged"));
    let Some((field, loc)) = f.dsreg("SSO State", "AzureAdPrt") else {
        return no_evidence(
            f,
            &META,
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
                &META,
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
                &META,
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
            finding(f, &META, Status::Fail, summary, evidence).with_remediation(remediation)
        }
        None => no_evidence(
            f,
            &META,
            COLLECT_DSREGCMD,
            format!("AzureAdPrt has an unexpected value \"{}\"", field.value),
        ),
    }
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
}
