//! What the user checks read: the user index built once per snapshot, the facts of one user
//! and what is known about the device they enroll.

use std::collections::HashMap;

use crate::model::{CheckMeta, EnrollmentPath, Finding};
use crate::tenant::snapshot::{ManagedDevice, TenantSnapshot, User};

/// What is known about the device the user enrolls (all optional).
#[derive(Debug, Clone, Default)]
pub struct DeviceContext {
    pub path: Option<EnrollmentPath>,
    /// OS version the device reports (`10.0.19045.3803`), for the restriction's min/max.
    pub os_version: Option<String>,
    /// Whether the device is registered with Autopilot (lets Entra join pass a personal block).
    pub autopilot_registered: Option<bool>,
}

impl DeviceContext {
    pub fn for_path(path: Option<EnrollmentPath>) -> Self {
        DeviceContext {
            path,
            ..Default::default()
        }
    }
}

/// Users and their Intune devices by lower-cased UPN and object id.
pub struct UserIndex<'a> {
    users: HashMap<String, &'a User>,
    managed: HashMap<String, Vec<&'a ManagedDevice>>,
}

impl<'a> UserIndex<'a> {
    pub fn new(snap: &'a TenantSnapshot) -> UserIndex<'a> {
        let mut users = HashMap::new();
        for u in snap.sources.users.data().into_iter().flatten() {
            users.insert(u.user_principal_name.to_lowercase(), u);
            users.insert(u.id.to_lowercase(), u);
        }
        let mut managed: HashMap<String, Vec<&ManagedDevice>> = HashMap::new();
        for d in snap.sources.managed_devices.data().into_iter().flatten() {
            let mut keys: Vec<String> = Vec::new();
            if let Some(id) = &d.user_id {
                keys.push(id.to_lowercase());
            }
            if let Some(upn) = &d.user_principal_name {
                keys.push(upn.to_lowercase());
            }
            keys.dedup();
            for k in keys {
                managed.entry(k).or_default().push(d);
            }
        }
        UserIndex { users, managed }
    }

    /// A user by UPN or object id (case-insensitive).
    pub fn user(&self, upn_or_id: &str) -> Option<&'a User> {
        self.users.get(&upn_or_id.trim().to_lowercase()).copied()
    }

    /// The user's Intune-managed devices, matched by user id or UPN.
    pub fn managed_devices(&self, user: &User) -> Vec<&'a ManagedDevice> {
        let mut out: Vec<&ManagedDevice> = Vec::new();
        for k in [
            user.id.to_lowercase(),
            user.user_principal_name.to_lowercase(),
        ] {
            for d in self.managed.get(&k).into_iter().flatten() {
                if !out.iter().any(|o| o.id == d.id) {
                    out.push(d);
                }
            }
        }
        out
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
}

/// One user check: its metadata and its evaluation over [`UserFacts`].
pub struct UserRule {
    pub meta: &'static CheckMeta,
    pub eval: for<'a> fn(&UserFacts<'a>) -> Finding,
}
