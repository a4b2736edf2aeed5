//! TEN008: Users may join devices to Entra ID, with a usable device quota.

use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Permissions};
use crate::model::{EnrollmentPath, Evidence, Finding, Severity, Status, Subject};
use crate::tenant::snapshot::{MembershipKind, TenantSnapshot};

pub const META: CheckMeta = CheckMeta {
    id: "TEN008",
    name: "users-cannot-join-devices",
    title: "Users may join devices to Entra ID, with a usable device quota",
    severity: Severity::Medium,
    area: Area::Tenant,
    permissions: Permissions {
        application: &["Policy.Read.DeviceConfiguration"],
        delegated: &["Policy.Read.DeviceConfiguration"],
        delegated_only: false,
    },
    what_it_checks: "Reads the device registration policy: fails when azureADJoin.allowedToJoin is \"none\", \
        warns when it is limited to selected users or groups, and warns when userDeviceQuota is very small.",
    why_it_matters: "Users who may not join devices cannot Entra-join a device, and a user who reached the \
        quota cannot join or register another one: the device shows 0x801C0003 or 0x801C000E and never gets \
        to MDM enrollment. Hybrid join does not use these settings. Enrollment paths: entra-join and \
        entra-registered only; never gpo-hybrid or co-management.",
    how_to_fix: "Entra admin center > Identity > Devices > All devices > Device settings: set \"Users may join \
        devices to Microsoft Entra\" to All (or Selected with the right groups) and raise \"Maximum number of \
        devices per user\"; delete stale devices of users who hit the quota.",
    references: &[R_ERRORS_TS, R_DEVICE_REGISTRATION_API],
};

/// Quotas below this stop a user's second or third join (Entra's default is 50).
const TINY_DEVICE_QUOTA: i64 = 5;

pub fn ten008_users_cannot_join_devices(snap: &TenantSnapshot) -> Finding {
    const ID: &CheckMeta = &META;
    let (p, endpoint) = match snap.sources.device_registration_policy.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, Subject::Tenant, "the device registration policy"),
    };
    let paths = paths_evidence(
        &[EnrollmentPath::EntraJoin],
        "not relevant to hybrid join (gpo-hybrid) or co-management",
    );
    let join = p
        .azure_ad_join
        .as_ref()
        .and_then(|j| j.allowed_to_join.as_ref());
    let kind = join.map(|j| j.kind()).unwrap_or(MembershipKind::Unknown);
    let quota = p.user_device_quota;
    let ev = Evidence::new(
        "graph",
        format!(
            "azureADJoin.allowedToJoin = {}, userDeviceQuota = {}",
            join.and_then(|j| j.odata_type.clone())
                .unwrap_or_else(|| "(not returned)".into()),
            quota
                .map(|q| q.to_string())
                .unwrap_or_else(|| "(not returned)".into())
        ),
    )
    .at(endpoint.to_string());
    let (status, summary, fix) = match kind {
        MembershipKind::None => (
            Status::Fail,
            "No user may join devices to Entra ID: Entra join (and its automatic MDM enrollment) is blocked".to_string(),
            "Entra admin center > Devices > Device settings: set \"Users may join devices to Microsoft Entra\" to All or Selected.",
        ),
        MembershipKind::Enumerated => {
            let j = join.cloned().unwrap_or_default();
            (
                Status::Warn,
                format!(
                    "Only selected users ({}) and groups ({}) may join devices to Entra ID",
                    j.users.len(),
                    j.groups.len()
                ),
                "Make sure the users who set up Entra-joined devices are in the selected users or groups.",
            )
        }
        _ if quota.is_some_and(|q| q < TINY_DEVICE_QUOTA) => (
            Status::Warn,
            format!(
                "The Entra per-user device quota is {}: users hit it after a few joins",
                quota.unwrap_or_default()
            ),
            "Raise \"Maximum number of devices per user\" in Entra device settings (default 50).",
        ),
        MembershipKind::All => (
            Status::Pass,
            "All users may join devices to Entra ID".to_string(),
            "",
        ),
        MembershipKind::Unknown => (
            Status::Warn,
            "The device registration policy does not say who may join devices".to_string(),
            "Check Entra admin center > Devices > Device settings.",
        ),
    };
    ID.finding(status, Subject::Tenant, summary)
        .with_evidence(ev)
        .with_evidence(paths)
        .with_remediation(fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::*;
    use crate::tenant::snapshot::Source;

    #[test]
    fn test_ten008_registration() {
        let mut s = base();
        let pol = |t: &str, q: i64| {
            format!(
                r##"{{"id":"deviceRegistrationPolicy","userDeviceQuota":{q},"azureADJoin":{{"isAdminConfigurable":true,"allowedToJoin":{{"@odata.type":"#microsoft.graph.{t}"}}}}}}"##
            )
        };
        s.sources.device_registration_policy = Source::collected(
            "GET /v1.0/policies/deviceRegistrationPolicy",
            json(&pol("allDeviceRegistrationMembership", 50)),
        );
        assert_eq!(ten008_users_cannot_join_devices(&s).status, Status::Pass);
        s.sources.device_registration_policy = Source::collected(
            "GET /v1.0/policies/deviceRegistrationPolicy",
            json(&pol("noDeviceRegistrationMembership", 50)),
        );
        let f = ten008_users_cannot_join_devices(&s);
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("matters for: entra-join"))
        );
        s.sources.device_registration_policy = Source::collected(
            "GET /v1.0/policies/deviceRegistrationPolicy",
            json(&pol("allDeviceRegistrationMembership", 2)),
        );
        assert_eq!(ten008_users_cannot_join_devices(&s).status, Status::Warn);
    }
}
