//! The Enrollment Status Page (ESP): `windows10EnrollmentCompletionPageConfiguration` items of
//! beta `deviceManagement/deviceEnrollmentConfigurations` (read in the same listing as the
//! enrollment restrictions; v1.0 knows the type but none of its settings but
//! `allowNonBlockingAppInstallation`), and which page applies to a device and user.
//!
//! Precedence (memdocs `intune/intune-service/enrollment/windows-enrollment-status.md`,
//! "Prioritize profiles"): the highest-priority page (lowest number) assigned to the device;
//! else, when there is a user (not self-deploying, not pre-provisioning), the highest-priority
//! page assigned to the user; else the default page.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::super::serde_helpers::{empty_as_none, lenient_i64, lenient_priority, null_as_empty};
use super::super::snapshot::{EnrollmentConfigurationAssignment, TargetKind, eq_ci, odata_type_is};

/// `@odata.type` of an ESP configuration.
pub const ESP_TYPE: &str = "microsoft.graph.windows10EnrollmentCompletionPageConfiguration";

/// beta `windows10EnrollmentCompletionPageConfiguration` with `assignments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EnrollmentStatusPage {
    #[serde(
        rename = "@odata.type",
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    /// 0 = the default page; among the others the lowest number wins.
    #[serde(deserialize_with = "lenient_priority")]
    pub priority: i64,
    /// `windows10EnrollmentCompletionPageConfiguration` or its `default…` variant (beta only).
    #[serde(deserialize_with = "empty_as_none")]
    pub device_enrollment_configuration_type: Option<String>,
    /// "Show app and profile configuration progress": false = no ESP at all.
    pub show_installation_progress: Option<bool>,
    /// The time-out of the page (default 60 minutes).
    #[serde(deserialize_with = "lenient_i64")]
    pub install_progress_timeout_in_minutes: Option<i64>,
    /// Graph: "blocks user from retrying the setup on installation failure"; this is where the
    /// admin center's "Block device use until all apps and profiles are installed" is kept.
    pub block_device_setup_retry_by_user: Option<bool>,
    pub allow_device_reset_on_install_failure: Option<bool>,
    pub allow_device_use_on_install_failure: Option<bool>,
    pub allow_log_collection_on_install_failure: Option<bool>,
    /// Pre-provisioning: "Only fail selected blocking apps in technician phase".
    pub allow_non_blocking_app_installation: Option<bool>,
    /// The blocking apps ("Selected"); empty = every assigned app blocks ("All").
    #[serde(deserialize_with = "null_as_empty")]
    pub selected_mobile_app_ids: Vec<String>,
    /// "Only show page to devices provisioned by OOBE".
    pub track_install_progress_for_autopilot_only: Option<bool>,
    pub disable_user_status_tracking_after_first_user: Option<bool>,
    #[serde(deserialize_with = "null_as_empty")]
    pub assignments: Vec<EnrollmentConfigurationAssignment>,
}

/// Whether an enrollment configuration item is an ESP (by its type or configuration type).
pub fn is_esp(odata_type: Option<&str>, configuration_type: Option<&str>) -> bool {
    odata_type_is(odata_type, ESP_TYPE)
        || eq_ci(
            configuration_type,
            "windows10EnrollmentCompletionPageConfiguration",
        )
        || eq_ci(
            configuration_type,
            "defaultWindows10EnrollmentCompletionPageConfiguration",
        )
}

impl EnrollmentStatusPage {
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.id)
    }

    /// The tenant's default page ("All users and all devices"): priority 0, or the id /
    /// configuration type Intune gives it.
    pub fn is_default(&self) -> bool {
        self.priority == 0
            || self
                .id
                .to_ascii_lowercase()
                .ends_with("_defaultwindows10enrollmentcompletionpageconfiguration")
            || eq_ci(
                self.device_enrollment_configuration_type.as_deref(),
                "defaultWindows10EnrollmentCompletionPageConfiguration",
            )
    }

    /// The page is shown at all.
    pub fn shows_progress(&self) -> bool {
        self.show_installation_progress.unwrap_or(false)
    }

    /// The time-out in minutes (Intune's default, 60, when unset).
    pub fn timeout_minutes(&self) -> i64 {
        self.install_progress_timeout_in_minutes.unwrap_or(60)
    }

    /// The apps the page waits for, when a list is selected (empty: all assigned apps).
    pub fn blocking_apps(&self) -> &[String] {
        &self.selected_mobile_app_ids
    }

    /// Who the page is assigned to, for this device (its groups) and user (their groups, or
    /// `None` without a user): device targeting first, as Intune resolves it.
    pub fn target_for(
        &self,
        device_groups: &BTreeSet<String>,
        user_groups: Option<&BTreeSet<String>>,
    ) -> Option<EspTarget> {
        let mut device = false;
        let mut user = false;
        let mut device_excluded = false;
        let mut user_excluded = false;
        let in_user = |g: &str| user_groups.is_some_and(|u| u.contains(g));
        for a in &self.assignments {
            match a.target.kind() {
                TargetKind::AllDevices => device = true,
                TargetKind::AllUsers => user |= user_groups.is_some(),
                TargetKind::Group(g) => {
                    let g = g.to_ascii_lowercase();
                    device |= device_groups.contains(&g);
                    user |= in_user(&g);
                }
                TargetKind::ExcludedGroup(g) => {
                    let g = g.to_ascii_lowercase();
                    device_excluded |= device_groups.contains(&g);
                    user_excluded |= in_user(&g);
                }
                TargetKind::Other(_) => {}
            }
        }
        if device && !device_excluded {
            Some(EspTarget::Device)
        } else if user && !user_excluded {
            Some(EspTarget::User)
        } else {
            None
        }
    }
}

/// How the applying page reached the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EspTarget {
    /// Assigned to one of the device's groups or all devices.
    Device,
    /// Assigned to the user (no page assigned to the device).
    User,
    /// No page is assigned: the default page.
    Default,
}

/// The page that applies and how it was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspResolution<'a> {
    pub page: &'a EnrollmentStatusPage,
    pub target: EspTarget,
}

/// The ESP that applies to a device in `device_groups` (lower-cased group ids, transitive)
/// enrolled by a user in `user_groups` (`None` for self-deploying and pre-provisioning, which
/// apply device-targeted pages only). `None` when the tenant has no page at all.
pub fn resolve_esp<'a>(
    pages: &'a [EnrollmentStatusPage],
    device_groups: &BTreeSet<String>,
    user_groups: Option<&BTreeSet<String>>,
) -> Option<EspResolution<'a>> {
    let best = |want: EspTarget| {
        pages
            .iter()
            .filter(|p| !p.is_default())
            .filter(|p| p.target_for(device_groups, user_groups) == Some(want))
            .min_by(|a, b| a.priority.cmp(&b.priority).then(a.id.cmp(&b.id)))
    };
    if let Some(page) = best(EspTarget::Device) {
        return Some(EspResolution {
            page,
            target: EspTarget::Device,
        });
    }
    if let Some(page) = best(EspTarget::User) {
        return Some(EspResolution {
            page,
            target: EspTarget::User,
        });
    }
    pages
        .iter()
        .find(|p| p.is_default())
        .map(|page| EspResolution {
            page,
            target: EspTarget::Default,
        })
}
