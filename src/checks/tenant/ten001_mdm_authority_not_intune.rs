//! TEN001: The tenant's MDM authority is Intune.

use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions};
use crate::model::{Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::TenantSnapshot;

pub const META: CheckMeta = CheckMeta {
    id: "TEN001",
    name: "mdm-authority-not-intune",
    title: "The tenant's MDM authority is Intune",
    severity: Severity::Critical,
    area: Area::Tenant,
    permissions: Permissions {
        application: &["Organization.Read.All"],
        delegated: &["User.Read"],
        delegated_only: false,
    },
    what_it_checks: "Reads organization.mobileDeviceManagementAuthority and fails unless it is `intune` \
        (other values: `unknown`, `sccm` for the retired hybrid MDM, `office365` for Basic Mobility and Security).",
    why_it_matters: "Windows devices can only enroll into the service that holds the MDM authority. With no \
        authority or with Basic Mobility and Security, every Intune enrollment is refused whatever the device \
        does. Enrollment paths: all (gpo-hybrid, entra-join, entra-registered, co-management).",
    how_to_fix: "Open the Intune admin center (intune.microsoft.com) > Tenant administration > Tenant status. If \
        the MDM authority is not set, the console offers to set it to Microsoft Intune; choose that. A tenant on \
        Basic Mobility and Security has to be moved to Intune first (the change is supported and keeps devices \
        after they check in again). Re-run the audit afterwards.",
    references: &[R_MDM_AUTHORITY, R_ORGANIZATION_API],
};

pub fn ten001_mdm_authority_not_intune(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let (org, endpoint) = match snap.sources.organization.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, Subject::Tenant, "the organization"),
    };
    let authority = org.mobile_device_management_authority.as_deref();
    let ev = Evidence::new(
        "graph",
        format!(
            "mobileDeviceManagementAuthority = {}",
            authority.unwrap_or("(not returned)")
        ),
    )
    .at(endpoint.to_string());
    let paths = paths_evidence(&ALL_PATHS, "");
    match authority {
        Some(a) if a.eq_ignore_ascii_case("intune") => {
            ID.finding(Status::Pass, Subject::Tenant, "The MDM authority is Intune")
                .with_evidence(ev)
                .with_evidence(paths)
        }
        None => ID.finding(Status::Warn,
            Subject::Tenant,
            "Graph did not return the MDM authority",
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Confirm in the Intune admin center (Tenant administration > Tenant status) that the MDM authority is Intune.",
        ),
        Some(other) => ID.finding(Status::Fail,
            Subject::Tenant,
            format!("The MDM authority is {other}, not Intune: no Windows device can enroll into Intune"),
        )
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(
            "Set the MDM authority to Intune (Intune admin center > Tenant administration); \
             ConfigMgr standalone or Basic Mobility authorities must be migrated first.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;
    use crate::tenant::snapshot::{MissingReason, Source};

    #[test]
    fn test_ten001_pass_fail_and_missing() {
        let mut s = base();
        s.sources.organization = Source::collected(
            "GET /v1.0/organization",
            json(r#"{"id":"t","mobileDeviceManagementAuthority":"intune"}"#),
        );
        assert_eq!(ten001_mdm_authority_not_intune(&s).status, Status::Pass);
        s.sources.organization = Source::collected(
            "GET /v1.0/organization",
            json(r#"{"id":"t","mobileDeviceManagementAuthority":"office365"}"#),
        );
        let f = ten001_mdm_authority_not_intune(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(f.evidence[0].location.as_deref() == Some("GET /v1.0/organization"));
        s.sources.organization = Source::Missing {
            reason: MissingReason::InsufficientPermission {
                needed: vec!["Organization.Read.All".into()],
            },
        };
        let f = ten001_mdm_authority_not_intune(&s);
        assert_eq!(f.status, Status::Skip);
        s.sources.organization = Source::Missing {
            reason: MissingReason::GraphError {
                status: Some(503),
                code: Some("ServiceUnavailable".into()),
                request_id: Some("r-1".into()),
                message: "down".into(),
            },
        };
        let f = ten001_mdm_authority_not_intune(&s);
        assert_eq!(f.status, Status::Error);
        assert!(f.summary.contains("r-1"));
    }
}
