//! Lookup tables over a [`TenantSnapshot`], built once on first use: users by UPN or object
//! id, Intune devices by user and by Entra DeviceId, Entra objects by DeviceId and by host name,
//! and the UPNs a run asked for. Correlating thousands of devices with a tenant of 100,000 users
//! and devices then costs a hash lookup per device instead of a scan of each collection.
//!
//! The tables hold positions into the snapshot's lists. A list whose length changed since the
//! tables were built is scanned instead (a test that edits a snapshot after a lookup stays
//! correct), and a clone starts without tables.

use std::collections::HashSet;

use super::snapshot::{EntraDevice, ManagedDevice, TenantSnapshot, User, UserScope};
use super::tables::{Keyed, SnapshotIndex, lower, short};

impl SnapshotIndex {
    fn build(snap: &TenantSnapshot) -> SnapshotIndex {
        let users = snap.sources.users.data().map(Vec::as_slice).unwrap_or(&[]);
        let managed = snap
            .sources
            .managed_devices
            .data()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let entra = snap
            .sources
            .entra_devices
            .data()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        SnapshotIndex {
            users: Keyed::build(users, |u: &User| {
                vec![u.user_principal_name.to_lowercase(), u.id.to_lowercase()]
            }),
            managed_by_user: Keyed::build(managed, |d: &ManagedDevice| {
                let mut k = lower(d.user_id.as_deref());
                k.extend(lower(d.user_principal_name.as_deref()));
                k
            }),
            managed_by_device_id: Keyed::build(managed, |d: &ManagedDevice| {
                lower(d.azure_ad_device_id.as_deref())
            }),
            entra_by_device_id: Keyed::build(entra, |d: &EntraDevice| {
                lower(d.device_id.as_deref())
            }),
            entra_by_name: Keyed::build(entra, |d: &EntraDevice| {
                d.display_name
                    .as_deref()
                    .map(|n| vec![n.to_lowercase(), short(n).to_lowercase()])
                    .unwrap_or_default()
            }),
            requested_upns: match &snap.user_scope {
                UserScope::Selected { upns } => upns.iter().map(|u| u.to_lowercase()).collect(),
                _ => HashSet::new(),
            },
        }
    }
}

impl TenantSnapshot {
    /// Drops the lookup tables (after editing the sources in place); the next lookup builds
    /// them again.
    pub fn forget_lookups(&mut self) {
        self.index = Default::default();
    }

    fn index(&self) -> &SnapshotIndex {
        self.index.0.get_or_init(|| SnapshotIndex::build(self))
    }

    /// A user by UPN (case-insensitive) or object id.
    pub fn user(&self, upn_or_id: &str) -> Option<&User> {
        let users = self.sources.users.data()?;
        let key = upn_or_id;
        let matches = |u: &User| {
            u.user_principal_name.to_lowercase() == key.to_lowercase()
                || u.id.to_lowercase() == key.to_lowercase()
        };
        match self.index().users.get(users, key) {
            // A hit is checked against the record, so an edit in place never returns the wrong user.
            Some(found) => found.into_iter().find(|u| matches(u)),
            None => users.iter().find(|u| matches(u)),
        }
    }

    /// Whether a UPN absent from `users` is known not to exist (all users, or it was requested).
    pub fn user_was_looked_up(&self, upn: &str) -> bool {
        match &self.user_scope {
            UserScope::All => true,
            UserScope::Selected { upns } => {
                self.index().requested_upns.contains(&upn.to_lowercase())
                    || upns.iter().any(|u| u.eq_ignore_ascii_case(upn))
            }
            UserScope::None => false,
        }
    }

    /// The Intune devices of a user (by object id or UPN, case-insensitive), each once, in the
    /// snapshot's order; `None` when managed devices were not read.
    pub fn managed_devices_of(&self, user: &User) -> Option<Vec<&ManagedDevice>> {
        let managed = self.sources.managed_devices.data()?;
        let keys = [user.id.as_str(), user.user_principal_name.as_str()];
        let index = &self.index().managed_by_user;
        let mut out: Vec<&ManagedDevice> = Vec::new();
        for k in keys {
            let found = index.get(managed, k).unwrap_or_else(|| {
                managed
                    .iter()
                    .filter(|d| {
                        d.user_id
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(k))
                            || d.user_principal_name
                                .as_deref()
                                .is_some_and(|u| u.eq_ignore_ascii_case(k))
                    })
                    .collect()
            });
            for d in found {
                if !out.iter().any(|o| std::ptr::eq(*o, d)) {
                    out.push(d);
                }
            }
        }
        Some(out)
    }

    /// Intune devices whose Entra DeviceId is `device_id` (case-insensitive), in order.
    pub fn managed_by_device_id<'a>(
        &'a self,
        managed: &'a [ManagedDevice],
        device_id: &str,
    ) -> Vec<&'a ManagedDevice> {
        self.lookup(
            managed,
            &self.index().managed_by_device_id,
            device_id,
            |m| {
                m.azure_ad_device_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(device_id))
            },
        )
    }

    /// Entra objects whose deviceId is `device_id` (case-insensitive), in order.
    pub fn entra_by_device_id<'a>(
        &'a self,
        devices: &'a [EntraDevice],
        device_id: &str,
    ) -> Vec<&'a EntraDevice> {
        self.lookup(devices, &self.index().entra_by_device_id, device_id, |d| {
            d.device_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(device_id))
        })
    }

    /// Entra objects whose display name, or its first label, is `short_name`.
    pub fn entra_by_name<'a>(
        &'a self,
        devices: &'a [EntraDevice],
        short_name: &str,
    ) -> Vec<&'a EntraDevice> {
        let matches = |d: &EntraDevice| {
            d.display_name.as_deref().is_some_and(|n| {
                n.eq_ignore_ascii_case(short_name) || short(n).eq_ignore_ascii_case(short_name)
            })
        };
        self.lookup(devices, &self.index().entra_by_name, short_name, |d| {
            matches(d)
        })
        .into_iter()
        // The table is keyed by the lower-cased name; keep exactly the scan's matches.
        .filter(|d| matches(d))
        .collect()
    }

    /// `items` under `key` through `table` when `items` is the list the table was built from
    /// (same place, same length), else by scanning with `pred`.
    fn lookup<'a, T>(
        &'a self,
        items: &'a [T],
        table: &Keyed,
        key: &str,
        pred: impl Fn(&T) -> bool,
    ) -> Vec<&'a T> {
        let indexed = self.sources_list_ptr(items);
        match indexed.then(|| table.get(items, key)).flatten() {
            Some(found) => found.into_iter().filter(|t| pred(t)).collect(),
            None => items.iter().filter(|t| pred(t)).collect(),
        }
    }

    /// Whether `items` is one of the snapshot's own device lists (the tables index those).
    fn sources_list_ptr<T>(&self, items: &[T]) -> bool {
        let p = items.as_ptr() as *const u8;
        let own = |v: Option<*const u8>| v.is_some_and(|q| std::ptr::eq(q, p));
        own(self
            .sources
            .entra_devices
            .data()
            .map(|v| v.as_ptr() as *const u8))
            || own(self
                .sources
                .managed_devices
                .data()
                .map(|v| v.as_ptr() as *const u8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::snapshot::Source;

    fn snap() -> TenantSnapshot {
        let mut s = TenantSnapshot::from_json(
            include_str!("../../tests/fixtures/correlate/contoso-snapshot.json"),
            "contoso-snapshot.json",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        s.user_scope = UserScope::Selected {
            upns: vec!["TLee@Contoso.com".into()],
        };
        s
    }

    #[test]
    fn lookups_agree_with_a_scan() {
        let s = snap();
        let users = s.sources.users.data().cloned().unwrap_or_default();
        assert!(!users.is_empty());
        for u in &users {
            for key in [u.user_principal_name.to_uppercase(), u.id.clone()] {
                assert_eq!(s.user(&key).map(|x| &x.id), Some(&u.id), "{key}");
            }
            let scanned: Vec<&ManagedDevice> = s
                .sources
                .managed_devices
                .data()
                .into_iter()
                .flatten()
                .filter(|d| {
                    d.user_id.as_deref() == Some(u.id.as_str())
                        || d.user_principal_name
                            .as_deref()
                            .is_some_and(|p| p.eq_ignore_ascii_case(&u.user_principal_name))
                })
                .collect();
            let mut found = s.managed_devices_of(u).unwrap_or_default();
            found.sort_by_key(|d| d.id.clone());
            let mut scanned = scanned;
            scanned.sort_by_key(|d| d.id.clone());
            assert_eq!(found, scanned, "{}", u.user_principal_name);
        }
        assert!(s.user("nobody@contoso.com").is_none());
        assert!(s.user_was_looked_up("tlee@contoso.com"));
        assert!(!s.user_was_looked_up("nobody@contoso.com"));
        let entra = s.sources.entra_devices.data().cloned().unwrap_or_default();
        let own = s
            .sources
            .entra_devices
            .data()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for d in &entra {
            if let Some(id) = &d.device_id {
                let hits = s.entra_by_device_id(own, &id.to_uppercase());
                assert!(hits.iter().any(|h| h.id == d.id), "{id}");
            }
            if let Some(name) = &d.display_name {
                let hits = s.entra_by_name(own, short(name));
                assert!(hits.iter().any(|h| h.id == d.id), "{name}");
            }
        }
    }

    #[test]
    fn a_list_edited_after_the_tables_were_built_is_scanned() {
        let mut s = snap();
        assert!(s.user("late@contoso.com").is_none());
        let mut users = s.sources.users.data().cloned().unwrap_or_default();
        users.push(User {
            id: "late".into(),
            user_principal_name: "late@contoso.com".into(),
            ..Default::default()
        });
        s.sources.users = Source::collected("GET /v1.0/users", users);
        assert_eq!(
            s.user("late@contoso.com").map(|u| u.id.as_str()),
            Some("late")
        );
        // A clone starts without tables and sees the edit too.
        assert_eq!(s.clone().user("LATE").map(|u| u.id.as_str()), Some("late"));
    }

    #[test]
    fn an_edit_in_place_never_returns_the_wrong_user() {
        let mut s = snap();
        let first = s.sources.users.data().and_then(|u| u.first().cloned());
        let Some(first) = first else {
            panic!("the fixture has users")
        };
        assert!(s.user(&first.user_principal_name).is_some());
        if let Some(users) = s.sources.users.data_mut() {
            users[0].user_principal_name = "renamed@contoso.com".into();
            users[0].id = "renamed".into();
        }
        assert!(s.user(&first.user_principal_name).is_none());
        s.forget_lookups();
        assert_eq!(
            s.user("RENAMED@contoso.com").map(|u| u.id.as_str()),
            Some("renamed")
        );
    }
}
