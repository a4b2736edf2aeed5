//! What the user checks read: the user index built once per snapshot, the facts of one user
//! and what is known about the device they enroll.

use chrono::{DateTime, Utc};

use crate::checks::tenant::ten009_enrollment_app_conditional_access::{
    EnrollmentPolicy, enrollment_policies,
};
use crate::model::{CheckMeta, EnrollmentPath, Evidence, Finding};
use std::collections::HashMap;

use crate::tenant::filter_rule::FilterDevice;
use crate::tenant::snapshot::{EntraDevice, ManagedDevice, TenantSnapshot, User};

/// What is known about the device the user enrolls (all optional).
#[derive(Debug, Clone, Default)]
pub struct DeviceContext {
    pub path: Option<EnrollmentPath>,
    /// OS version the device reports (`10.0.19045.3803`), for the restriction's min/max.
    pub os_version: Option<String>,
    /// Whether the device is registered with Autopilot (lets Entra join pass a personal block).
    pub autopilot_registered: Option<bool>,
    /// Whether the tenant's Windows corporate identifiers list the device: `Some(true)` listed
    /// (corporate at enrollment), `Some(false)` identifiers are uploaded and it is not among
    /// them (personal at enrollment), `None` unknown or none uploaded (memdocs
    /// intune/enrollment/corporate-identifiers-add.md).
    pub corporate_identifier_listed: Option<bool>,
    /// The UPN the device itself signs in with: Entra Connect may have rewritten the cloud UPN
    /// (`joe@contoso.local` → `joe@contoso.onmicrosoft.com`), and the device still presents the
    /// on-premises one.
    pub presented_upn: PresentedUpn,
    /// The evaluation date (`--as-of`, else now); `None` uses the snapshot's collection time.
    /// The device limit counts only devices in contact with Intune within 90 days of it.
    pub as_of: Option<DateTime<Utc>>,
    /// What the device report says for the assignment filters of the restrictions (OS build,
    /// edition, manufacturer, model, Autopilot profile name): `None` without a device, when
    /// every restriction assigned through a filter is only a dependency of the winner.
    pub filter_device: Option<FilterDevice>,
}

/// What the device's own evidence says about the UPN it signs in with.
#[derive(Debug, Clone, Default)]
pub enum PresentedUpn {
    /// No device: a readiness check of the user alone.
    #[default]
    NoDevice,
    /// A device report that names no UPN (no event 91, Enrollments UPN or dsregcmd account).
    NotInEvidence,
    /// The UPN the device presents, with the evidence that names it, and whether that source
    /// names the account the enrollment used (event 91, the Enrollments key) rather than only
    /// whoever ran dsregcmd.
    Seen(String, Evidence, bool),
}

impl DeviceContext {
    pub fn for_path(path: Option<EnrollmentPath>) -> Self {
        DeviceContext {
            path,
            ..Default::default()
        }
    }
}

/// Users and their Intune devices, looked up through the snapshot's tables (built once per
/// snapshot), so N users cost O(N), not O(N²).
pub struct UserIndex<'a> {
    snap: &'a TenantSnapshot,
    /// The enforced Conditional Access policies that reach the enrollment sign-in, worked out
    /// once per snapshot for USR009 (`None` when the policies were not read).
    enrollment_ca: Option<Vec<EnrollmentPolicy<'a>>>,
    /// User id (lower-cased) → the Entra devices they own, from `user_owned_devices`
    /// (USR010), indexed once so N users cost O(N + devices).
    owned_entra: HashMap<String, Vec<&'a EntraDevice>>,
}

impl<'a> UserIndex<'a> {
    pub fn new(snap: &'a TenantSnapshot) -> UserIndex<'a> {
        UserIndex {
            snap,
            enrollment_ca: snap
                .sources
                .conditional_access_policies
                .data()
                .map(|list| enrollment_policies(list)),
            owned_entra: {
                let mut m: HashMap<String, Vec<&'a EntraDevice>> = HashMap::new();
                for d in snap.sources.user_owned_devices.data().into_iter().flatten() {
                    for u in &d.registered_user_ids {
                        m.entry(u.to_ascii_lowercase()).or_default().push(d);
                    }
                }
                m
            },
        }
    }

    /// The Entra devices `user` owns (empty when none, or when they were not read).
    pub fn owned_entra_devices(&self, user: &User) -> &[&'a EntraDevice] {
        self.owned_entra
            .get(&user.id.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// See [`UserIndex::enrollment_ca`].
    pub fn enrollment_ca(&self) -> Option<&[EnrollmentPolicy<'a>]> {
        self.enrollment_ca.as_deref()
    }

    /// A user by UPN or object id (case-insensitive).
    pub fn user(&self, upn_or_id: &str) -> Option<&'a User> {
        self.snap.user(upn_or_id.trim())
    }

    /// The user's Intune-managed devices, matched by user id or UPN.
    pub fn managed_devices(&self, user: &User) -> Vec<&'a ManagedDevice> {
        self.snap.managed_devices_of(user).unwrap_or_default()
    }
}

/// What the user checks read for one user: the snapshot, the user object (found), their
/// Intune devices and what is known about the device they enroll.
pub struct UserFacts<'a> {
    pub snap: &'a TenantSnapshot,
    /// The UPN or object id as the caller named the user.
    pub upn: &'a str,
    pub user: &'a User,
    pub managed_devices: Vec<&'a ManagedDevice>,
    pub device: &'a DeviceContext,
    /// The snapshot's enrollment-relevant Conditional Access policies (see [`UserIndex`]).
    pub enrollment_ca: Option<&'a [EnrollmentPolicy<'a>]>,
    /// The Entra devices the user owns (see [`UserIndex::owned_entra_devices`]).
    pub owned_entra: &'a [&'a EntraDevice],
}

/// One user check: its metadata and its evaluation over [`UserFacts`].
pub struct UserRule {
    pub meta: &'static CheckMeta,
    pub eval: for<'a> fn(&UserFacts<'a>) -> Finding,
}
