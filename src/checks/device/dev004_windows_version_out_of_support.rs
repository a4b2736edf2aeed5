//! DEV004: the device runs a Windows release that is still serviced on the evaluation date.

use crate::catalog::windows_releases::{is_windows_11, servicing_end};
use crate::checks::common::{R_RELEASE_INFO, R_WIN11_RELEASE_INFO};
use crate::model::{Area, CheckMeta, Evidence, Finding, NO_PERMISSIONS, Severity, Status};

use super::evidence::COLLECT_OS;
use super::facts::Facts;
use super::shared::{finding, no_evidence, no_evidence_with};

pub const META: CheckMeta = CheckMeta {
    id: "DEV004",
    name: "windows-version-out-of-support",
    title: "The Windows release is still serviced",
    severity: Severity::Medium,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Maps the OS build to its Windows release (Windows 11 is build 22000 or later, whatever \
        ProductName says), and the EditionID to its servicing family (Home/Pro, Enterprise/Education, LTSC), \
        and warns when that family's end of servicing is before the evaluation date. When the edition is not \
        known the earliest date is used and the assumption is stated.",
    why_it_matters: "An unserviced release does not stop enrollment by itself, but it gets no security fixes, \
        and builds before Windows 10 1709 cannot auto-enroll at all. Windows 10 22H2 ended on 2025-10-14; such \
        devices are only patched under Extended Security Updates. Enrollment paths: all.",
    how_to_fix: "Upgrade the device to a serviced Windows 11 release (Settings > Windows Update, or a feature \
        update policy in Intune admin center > Devices > Windows updates), or enroll Windows 10 22H2 devices in \
        ESU while you migrate. Check the dates on the Windows release health pages.",
    references: &[R_RELEASE_INFO, R_WIN11_RELEASE_INFO],
};

pub fn evaluate(f: &Facts) -> Finding {
    let Some(os) = f.report.os.as_ref() else {
        return no_evidence(
            f,
            &META,
            COLLECT_OS,
            "no Windows version information among the inputs",
        );
    };
    let Some(build) = os.build else {
        return no_evidence_with(
            f,
            &META,
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
            &META,
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
            &META,
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
            &META,
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
            &META,
            Status::Pass,
            format!("{} is serviced until {end}", s.label),
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;

    use crate::model::SkipReason;

    this_check!(META, evaluate);

    #[test]
    fn dev004_warns_after_end_of_servicing_and_never_trusts_product_name() {
        let f = check(&stale_device());
        assert_eq!(f.status, Status::Warn, "{f:?}");
        assert!(f.summary.contains("2026-11-10"), "{}", f.summary);
        assert!(f.evidence.iter().any(|e| e.detail.contains("ProductName")));
        assert_eq!(check(&enrolled_hybrid()).status, Status::Pass);
        // Windows 10 22H2 past its end: ESU is named.
        let mut r = enrolled_hybrid();
        r.os = Some(os(19045, "Professional"));
        let f = check(&r);
        assert_eq!(f.status, Status::Warn);
        assert!(f.remediation.contains("ESU"));
        r.os = None;
        assert!(matches!(
            check(&r).skip_reason,
            Some(SkipReason::NoEvidence { .. })
        ));
    }

    #[test]
    fn as_of_is_an_input() {
        use chrono::TimeZone;
        let early = chrono::Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(check_as_of(&stale_device(), early).status, Status::Pass);
    }
}
