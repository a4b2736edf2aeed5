//! DEV005: the MDM auto-enrollment Group Policy (AutoEnrollMDM = 1) reached the device.

use crate::checks::common::{R_AUTO_TS, R_DIAGNOSE, R_GPO};
use crate::device::report::{KEY_MDM_POLICY, normalize_key_path};
use crate::model::{Area, CheckMeta, Evidence, Finding, NO_PERMISSIONS, Severity, Status};

use super::evidence::{COLLECT_MDM_POLICY, reg_evidence};
use super::facts::Facts;
use super::shared::{finding, gpo_driven, no_evidence, not_applicable};

pub const META: CheckMeta = CheckMeta {
    id: "DEV005",
    name: "autoenroll-gpo-not-applied",
    title: "The MDM auto-enrollment policy is applied",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Reads HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\MDM and fails when \
        AutoEnrollMDM is not 1 on a domain joined device. Reports UseAADCredentialType (1 user, 2 device \
        credential) and a DisableRegistration value that blocks MDM.",
    why_it_matters: "Without the policy, a hybrid joined device never creates the enrollment task and never \
        tries to enroll. Enrollment paths: gpo-hybrid only (entra-join enrolls during join, co-management is \
        triggered by ConfigMgr).",
    how_to_fix: "In Group Policy Management, link a GPO to the computers' OU with Computer Configuration > \
        Policies > Administrative Templates > Windows Components > MDM > \"Enable automatic MDM enrollment \
        using default Azure AD credentials\" = Enabled, credential type User Credential (or Device Credential \
        for co-management/AVD). Make sure \"Disable MDM Enrollment\" is not enabled. Run gpupdate /force and \
        check gpresult /h.",
    references: &[R_GPO, R_DIAGNOSE, R_AUTO_TS],
};

const GPO_FIX: &str = "Link a GPO with Computer Configuration > Policies > Administrative Templates > Windows Components > MDM > \"Enable automatic MDM enrollment using default Microsoft Entra credentials\" (credential type: User Credential) to the computer's OU, run `gpupdate /force` on the device and confirm with `gpresult /h gpresult.html` that it applied; if it still does not, check security filtering, WMI filters and AD/SYSVOL replication.";

const KEY_MDM_POLICY_PARENT: &str = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion";

pub fn evaluate(f: &Facts) -> Finding {
    if !gpo_driven(f) {
        return not_applicable(f, &META);
    }
    let Some(reg) = f.report.registry.as_ref() else {
        return no_evidence(
            f,
            &META,
            COLLECT_MDM_POLICY,
            "no registry export among the inputs",
        );
    };
    if let Some(k) = f.mdm_policy_key() {
        return match k.value("AutoEnrollMDM") {
            Some(v) if v.data.as_u64() == Some(1) => finding(
                f,
                &META,
                Status::Pass,
                "the auto-enrollment GPO is applied (AutoEnrollMDM = 1)",
                vec![Evidence::new("registry", format!("{}\\AutoEnrollMDM = 1", k.path)).at(v.location.to_string())],
            ),
            Some(v) => finding(
                f,
                &META,
                Status::Fail,
                format!("AutoEnrollMDM is {} (not 1): the auto-enrollment policy is not enabled", v.data.as_text()),
                vec![Evidence::new("registry", format!("{}\\AutoEnrollMDM = {}", k.path, v.data.as_text())).at(v.location.to_string())],
            )
            .with_remediation(GPO_FIX),
            None => finding(
                f,
                &META,
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
            &META,
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
            &META,
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
        &META,
        COLLECT_MDM_POLICY,
        "the registry export does not include the MDM policy key or its parent",
    )
}

#[cfg(test)]
mod tests {
    use crate::checks::device::testutil::*;
    use crate::checks::device::*;

    #[allow(unused_imports)]
    use crate::model::{CheckMeta, EnrollmentPath, Finding, SkipReason, Status, Subject, Verdict};

    #[test]
    fn dev005_value_absent_key_and_missing_export() {
        let (a, _) = run(&enrolled_hybrid());
        assert_eq!(status(&a, &DEV005), Status::Pass);

        let mut r = failed_device();
        r.registry = Some(registry(vec![mdm_policy(Some(0), 1)]));
        let (a, _) = run(&r);
        assert_eq!(status(&a, &DEV005), Status::Fail);

        // The parent was exported and holds no MDM key: the GPO did not apply.
        let mut r = failed_device();
        r.events.clear();
        r.registry = Some(registry(vec![key(
            r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion",
            &[],
        )]));
        let (a, d) = run(&r);
        let f = a.get(&DEV005).cloned().unwrap_or_else(|| panic!("DEV005"));
        assert_eq!(f.status, Status::Fail);
        assert!(f.remediation.contains("gpupdate /force"));
        assert_eq!(d.causes.first().map(String::as_str), Some("DEV003"));

        let mut r = failed_device();
        r.registry = None;
        let (a, _) = run(&r);
        assert!(matches!(
            skip_reason(&a, &DEV005),
            Some(SkipReason::NoEvidence { .. })
        ));
    }
}
