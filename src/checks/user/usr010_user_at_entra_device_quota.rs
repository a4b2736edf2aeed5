//! USR010: The user is below Entra's per-user device quota.

use super::shared::subject;
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, EnrollmentPath, Permissions, Severity};
use crate::model::{Evidence, Finding, SkipReason, Status};
use crate::tenant::snapshot::{EntraDevice, MissingReason, TenantSnapshot, TrustType, User};

pub const META: CheckMeta = CheckMeta {
    id: "USR010",
    name: "user-at-entra-device-quota",
    title: "The user is below Entra's per-user device quota",
    severity: Severity::Medium,
    area: Area::User,
    permissions: Permissions {
        application: &["User.Read.All", "Policy.Read.DeviceConfiguration"],
        delegated: &["User.Read.All", "Policy.Read.DeviceConfiguration"],
        delegated_only: false,
    },
    what_it_checks: "Counts the Entra devices the user is the registered owner of \
        (/users/{id}/ownedDevices) and compares them with the tenant's \"Maximum number of devices per \
        user\" (deviceRegistrationPolicy.userDeviceQuota). Entra counts Entra joined and Entra registered \
        devices against the quota and not hybrid joined ones (entra-docs \
        identity/devices/manage-device-identities.md); hybrid joined devices have no registered owner, and any \
        that show up are listed as not counted. Fails when the counted devices reach the quota and the device \
        joins or registers with Entra (Entra join, Autopilot, \"Add work account\"); on the GPO-hybrid and \
        co-management paths the quota does not apply. The devices are read in `check` for the users it \
        names (`--user`, a users file), not for whole-tenant or group runs and not for device reports; there \
        the check is skipped as not collected and TEN008 judges the quota for the tenant.",
    why_it_matters: "A user at the quota cannot join or register another device: Entra refuses with \
        DSREG_E_DEVICE_REGISTRATION_QUOTA_EXCCEEDED (0x801C000E), and without an Entra device there is no \
        automatic MDM enrollment. This is not the Intune device limit (USR006), which counts Intune-enrolled \
        devices. Enrollment paths: entra-join (Autopilot included) and entra-registered.",
    how_to_fix: "Delete the user's stale Entra devices (Entra admin center > Identity > Devices > All devices, \
        filter by the user), or raise \"Maximum number of devices per user\" under Devices > Device settings.",
    references: &[R_ENTRA_DEVICE_SETTINGS, R_ERRORS_TS],
};

/// Entra: device settings (maximum number of devices per user).
pub const R_ENTRA_DEVICE_SETTINGS: &str =
    "https://learn.microsoft.com/entra/identity/devices/manage-device-identities";

/// `owned` are the user's devices from the snapshot's index (looked up here when `None`).
pub fn usr010_entra_device_quota(
    snap: &TenantSnapshot,
    user: &User,
    path: Option<EnrollmentPath>,
    owned: Option<&[&EntraDevice]>,
) -> Finding {
    const ID: &CheckMeta = &META;
    let (policy, policy_at) = match snap.sources.device_registration_policy.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, subject(user), "the device registration policy"),
    };
    let (devices, _) = match snap.sources.user_owned_devices.get() {
        Ok(v) => v,
        // Read only for named users: say how to get it rather than "run against Graph".
        Err(MissingReason::NotCollected) => {
            return ID
                .skip(
                    subject(user),
                    SkipReason::NoEvidence {
                        collect: "the user's owned Entra devices, read by `check --user UPN` (or \
                                  --users-file), not by --all-users, --group or a device report"
                            .into(),
                    },
                )
                .with_evidence(Evidence::new(
                    "collection",
                    "the user's owned Entra devices: not read in this run",
                ));
        }
        Err(r) => return r.finding_of(ID, subject(user), "the user's owned Entra devices"),
    };
    let Some(quota) = policy.user_device_quota else {
        return ID
            .finding(
                Status::Pass,
                subject(user),
                "The tenant sets no per-user device quota",
            )
            .with_evidence(
                Evidence::new("graph", "userDeviceQuota not returned").at(policy_at.to_string()),
            );
    };
    let uid = user.id.to_ascii_lowercase();
    let looked_up: Vec<&EntraDevice>;
    let owned: &[&EntraDevice] = match owned {
        Some(o) => o,
        None => {
            looked_up = devices
                .iter()
                .filter(|d| {
                    d.registered_user_ids
                        .iter()
                        .any(|u| u.eq_ignore_ascii_case(&uid))
                })
                .collect();
            &looked_up
        }
    };
    let mut counted: Vec<String> = Vec::new();
    let mut hybrid: Vec<String> = Vec::new();
    for d in owned {
        let name = d.display_name.clone().unwrap_or_else(|| d.id.clone());
        if d.trust() == TrustType::ServerAd {
            hybrid.push(name);
        } else {
            counted.push(name);
        }
    }
    let count = counted.len() as i64;
    let mut detail = format!(
        "{count} Entra joined or registered device(s) owned by the user [{}], quota {quota}",
        counted.join(", ")
    );
    if !hybrid.is_empty() {
        detail.push_str(&format!(
            "; hybrid joined, not counted: {}",
            hybrid.join(", ")
        ));
    }
    let evidence = vec![
        Evidence::new("graph", detail).at(format!("GET /v1.0/users/{}/ownedDevices", user.id)),
        Evidence::new("graph", format!("userDeviceQuota = {quota}")).at(policy_at.to_string()),
        paths_evidence(
            &[EnrollmentPath::EntraJoin, EnrollmentPath::EntraRegistered],
            "hybrid joined devices do not count and are not stopped by it",
        ),
    ];
    let at_quota = count >= quota;
    let (status, summary, fix) = match (at_quota, path) {
        (false, _) => (
            Status::Pass,
            format!("{count} of {quota} Entra devices used"),
            String::new(),
        ),
        (true, Some(p @ (EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement))) => (
            Status::Pass,
            format!(
                "The user is at Entra's device quota ({count}/{quota}), but hybrid join on the {p} path does not count against it"
            ),
            String::new(),
        ),
        (true, _) => (
            Status::Fail,
            format!(
                "The user is at Entra's per-user device quota ({count}/{quota}): another Entra join or registration is refused (0x801C000E)"
            ),
            "Delete the user's stale Entra devices or raise \"Maximum number of devices per user\" \
             (Entra admin center > Devices > Device settings); hybrid joined devices are not counted."
                .to_string(),
        ),
    };
    ID.finding(status, subject(user), summary)
        .with_remediation(fix)
        .with_all_evidence(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::json;
    use crate::checks::user::tests::*;
    use crate::tenant::snapshot::Source;

    fn with(quota: i64, devices: &str) -> TenantSnapshot {
        let mut s = snap_with(&user_json(""), &[]);
        s.sources.device_registration_policy = Source::collected(
            "GET /v1.0/policies/deviceRegistrationPolicy",
            json(&format!(r#"{{"id":"p","userDeviceQuota":{quota}}}"#)),
        );
        s.sources.user_owned_devices =
            Source::collected("GET /v1.0/users/{upn}/ownedDevices", json(devices));
        s
    }

    const OWNED: &str = r#"[
        {"id":"d1","displayName":"LAPTOP","trustType":"AzureAd","registeredUserIds":["u1"]},
        {"id":"d2","displayName":"PHONE","trustType":"Workplace","registeredUserIds":["u1"]},
        {"id":"d3","displayName":"PC-HYBRID","trustType":"ServerAd","registeredUserIds":["u1"]},
        {"id":"d4","displayName":"OTHER","trustType":"Workplace","registeredUserIds":["someone"]}]"#;

    fn at(s: &TenantSnapshot, path: Option<EnrollmentPath>) -> Finding {
        let u = s.user("jdoe@contoso.com").cloned().unwrap_or_default();
        usr010_entra_device_quota(s, &u, path, None)
    }

    #[test]
    fn joined_and_registered_devices_count_hybrid_ones_do_not() {
        // Two count (the hybrid one and another user's do not): at a quota of 2.
        let s = with(2, OWNED);
        let f = at(&s, Some(EnrollmentPath::EntraJoin));
        assert_eq!(f.status, Status::Fail, "{}", f.summary);
        let ev: String = f.evidence.iter().map(|e| e.detail.as_str()).collect();
        assert!(ev.contains("[LAPTOP, PHONE]"), "{ev}");
        assert!(ev.contains("hybrid joined, not counted: PC-HYBRID"), "{ev}");
        // Below the quota, and on the hybrid path the quota does not apply.
        assert_eq!(at(&with(3, OWNED), None).status, Status::Pass);
        assert_eq!(at(&s, Some(EnrollmentPath::GpoHybrid)).status, Status::Pass);
        // Not read (a whole-tenant run): skipped, saying so.
        let mut s = with(2, OWNED);
        s.sources.user_owned_devices = Source::not_collected();
        assert_eq!(at(&s, None).status, Status::Skip);
    }
}
