//! DEV003: Entra handed the device (or the registered work account) an MDM enrollment URL.

use crate::checks::common::{R_AUTO_TS, R_DSREGCMD, R_WINDOWS_ENROLL};
use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::evidence::COLLECT_DSREGCMD;
use super::facts::{CaptureKind, Facts};
use super::shared::{finding, no_evidence, no_evidence_with, user_dsregcmd};
use crate::checks::common::or_finding;

pub const META: CheckMeta = CheckMeta {
    id: "DEV003",
    name: "mdm-url-missing-on-device",
    title: "The device received an MDM enrollment URL",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Reads MdmUrl (and MdmTouUrl, MdmComplianceUrl) in the Tenant details of dsregcmd /status \
        and fails when it is empty on an Entra or hybrid joined device. On an Entra registered device it reads \
        the work account's WorkplaceMdmUrl instead.",
    why_it_matters: "Entra only hands the MDM URLs to a device whose user is in the MDM user scope of a \
        configured MDM application. An empty MdmUrl means enrollment cannot start: the user is out of scope, \
        the scope is None, or MDM is not configured. Enrollment paths: gpo-hybrid, entra-join, \
        co-management and entra-registered (where MAM wins when the user is in both scopes).",
    how_to_fix: "Check TEN003, TEN005 and USR003 for the tenant side: MDM user scope on \"Microsoft Intune\" \
        must include the user. Then sign out and in (or run dsregcmd /refreshprt) and capture dsregcmd /status \
        again in the user's session.",
    references: &[R_DSREGCMD, R_AUTO_TS, R_WINDOWS_ENROLL],
};

pub fn evaluate(f: &Facts) -> Finding {
    if f.path.path == EnrollmentPath::EntraRegistered {
        return registered(f);
    }
    let d = or_finding!(user_dsregcmd(
        f,
        &META,
        "MdmUrl depends on the user's MDM scope"
    ));
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
            &META,
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
        return finding(f, &META, Status::Pass, summary, evidence);
    }
    let who = f.user.as_deref().unwrap_or("the signed-in user");
    let mut evidence = evidence;
    if let Some(e) = f.dsreg_evidence("Diagnostic Data", "Executing Account Name") {
        evidence.push(e);
    }
    finding(
        f,
        &META,
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
fn registered(f: &Facts) -> Finding {
    let Some(d) = f.report.dsregcmd.as_ref() else {
        return no_evidence(
            f,
            &META,
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
            &META,
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
            &META,
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
        &META,
        Status::Fail,
        format!("the work account is registered without an MDM URL (WorkplaceMdmUrl empty): Entra ID offered no MDM enrollment, so {who} is outside the MDM user scope (or MAM applies instead)"),
        evidence,
    )
    .with_remediation(format!(
        "A registered (BYOD) device enrolls only when its work account gets an MDM URL: put {who} in the MDM user scope and out of the MAM user scope (Entra admin center → Mobility (MDM and WIP) → Microsoft Intune; on a registered device MAM wins when the user is in both), then remove and re-add the account under Settings → Accounts → Access work or school, or use \"Enroll only in device management\" there. Corporate devices should be Entra joined or hybrid joined instead."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;

    this_check!(META, evaluate);

    #[test]
    fn dev003_empty_mdm_url_fails_with_user_and_location() {
        let f = check(&failed_device());
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("jdoe@contoso.com"));
        assert!(
            f.evidence[0]
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("dsregcmd.txt:"))
        );
        assert_eq!(check(&enrolled_hybrid()).status, Status::Pass);
    }
}
