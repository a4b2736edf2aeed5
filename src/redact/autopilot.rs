//! Redaction of the Autopilot sources: serial numbers, Entra and Intune ids, UPNs and device
//! names get the same pseudonyms as elsewhere in the snapshot (a serial as in
//! `managedDevices.serialNumber`), so the checks still join them.

use super::Redactor;
use crate::tenant::snapshot::Sources;

impl Redactor {
    pub(super) fn autopilot(&self, s: &mut Sources) {
        // The devices' groups (profile and ESP targets): ids as in the assignments.
        if let Some(m) = s.device_group_memberships.data_mut() {
            m.groups = std::mem::take(&mut m.groups)
                .into_values()
                .map(|mut g| {
                    g.id = self.id(&g.id);
                    self.opt_name("group", &mut g.display_name);
                    (g.id.to_ascii_lowercase(), g)
                })
                .collect();
            m.members = std::mem::take(&mut m.members)
                .into_iter()
                .map(|(d, gs)| (self.id(&d), gs.iter().map(|g| self.id(g)).collect()))
                .collect();
            m.not_found = m.not_found.iter().map(|d| self.id(d)).collect();
        }
        if let Some(list) = s.autopilot_devices.data_mut() {
            for d in list {
                d.id = self.id(&d.id);
                self.opt_serial(&mut d.serial_number);
                self.opt_id(&mut d.azure_active_directory_device_id);
                self.opt_id(&mut d.azure_ad_device_id);
                self.opt_id(&mut d.managed_device_id);
                if let Some(u) = d.user_principal_name.as_mut() {
                    *u = self.upn(u);
                }
                self.opt_name("user", &mut d.addressable_user_name);
                self.opt_name("device", &mut d.display_name);
            }
        }
        let profile_targets = s
            .autopilot_profiles
            .data_mut()
            .into_iter()
            .flatten()
            .flat_map(|p| p.assignments.iter_mut().map(|a| &mut a.target));
        let page_targets = s
            .enrollment_status_pages
            .data_mut()
            .into_iter()
            .flatten()
            .flat_map(|p| p.assignments.iter_mut().map(|a| &mut a.target));
        for t in profile_targets.chain(page_targets) {
            self.opt_id(&mut t.group_id);
        }
        if let Some(list) = s.imported_device_identities.data_mut() {
            for i in list {
                i.id = self.id(&i.id);
                let windows = i
                    .windows_parts()
                    .map(|p| format!("{},{},{}", p.manufacturer, p.model, self.serial(p.serial)));
                i.imported_device_identifier = match windows {
                    Some(w) => Some(w),
                    None => i
                        .imported_device_identifier
                        .as_deref()
                        .map(|x| self.serial(x)),
                };
            }
        }
        if let Some(list) = s.autopilot_events.data_mut() {
            for e in list {
                e.id = self.id(&e.id);
                self.opt_serial(&mut e.device_serial_number);
                self.opt_id(&mut e.device_id);
                if let Some(u) = e.user_principal_name.as_mut() {
                    *u = self.upn(u);
                }
                self.opt_name("device", &mut e.managed_device_name);
            }
        }
    }
}
