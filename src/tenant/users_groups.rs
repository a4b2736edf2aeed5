//! Users, their licences and the group memberships the policies refer to, as the snapshot holds them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::serde_helpers::{empty_as_none, null_as_empty};
use super::snapshot::GroupRef;

/// `GET /v1.0/users?$select=…` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    #[serde(deserialize_with = "empty_as_none")]
    pub usage_location: Option<String>,
    #[serde(deserialize_with = "null_as_empty")]
    pub assigned_licenses: Vec<AssignedLicense>,
    #[serde(deserialize_with = "null_as_empty")]
    pub assigned_plans: Vec<AssignedPlan>,
    #[serde(deserialize_with = "null_as_empty")]
    pub license_assignment_states: Vec<LicenseAssignmentState>,
    pub on_premises_sync_enabled: Option<bool>,
    /// `Member` or `Guest` (B2B). Absent in snapshots saved before it was collected.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_type: Option<String>,
}

impl User {
    /// A B2B guest: `userType` Guest, or (when the type was not returned) the `#EXT#` UPN Entra
    /// gives invited accounts.
    pub fn is_guest(&self) -> bool {
        match self.user_type.as_deref() {
            Some(t) => t.eq_ignore_ascii_case("guest"),
            None => self
                .user_principal_name
                .to_ascii_uppercase()
                .contains("#EXT#"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AssignedLicense {
    pub sku_id: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub disabled_plans: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AssignedPlan {
    pub service_plan_id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub capability_status: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub service: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub assigned_date_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LicenseAssignmentState {
    pub sku_id: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub disabled_plans: Vec<String>,
    /// The group the licence came from; `null` for a direct assignment.
    #[serde(deserialize_with = "empty_as_none")]
    pub assigned_by_group: Option<String>,
    /// `Active`, `ActiveWithError`, `Disabled`, `Error`.
    #[serde(deserialize_with = "empty_as_none")]
    pub state: Option<String>,
    /// `None`, `CountViolation`, `MutuallyExclusiveViolation`, `DependencyViolation`, …
    #[serde(deserialize_with = "empty_as_none")]
    pub error: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub last_updated_date_time: Option<String>,
}

impl LicenseAssignmentState {
    /// Group-based licensing reported a problem for this assignment.
    pub fn has_error(&self) -> bool {
        let err = self
            .error
            .as_deref()
            .is_some_and(|e| !e.eq_ignore_ascii_case("none"));
        let state = self
            .state
            .as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().contains("error"));
        err || state
    }
}

/// Transitive group memberships of users, limited to what the checks need.
///
/// Collected either per group (`transitiveMembers` of each group the policies reference: every
/// user is resolved, absence means "not a member") or per user (`transitiveMemberOf` /
/// `checkMemberGroups`: only the listed users are resolved). Either way N users are evaluated
/// in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupMemberships {
    /// True when every user's membership of `relevantGroups` is known (per-group collection):
    /// a user missing from `members` is in none of them.
    pub all_users_resolved: bool,
    /// The groups policies refer to (scope, restrictions, registration, CA), sorted.
    pub relevant_groups: Vec<String>,
    /// Group id → name, for evidence.
    pub groups: BTreeMap<String, GroupRef>,
    /// User id → transitive group ids (sorted).
    pub members: BTreeMap<String, BTreeSet<String>>,
    /// User id → role template ids of the directory roles the user holds (active
    /// assignments, from `transitiveMemberOf`), for the users whose roles were read (per-user
    /// collection); a user missing here has unknown roles.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, BTreeSet<String>>,
}

/// Answer of a membership question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Member,
    NotMember,
    /// The user's memberships were not collected.
    Unknown,
}

impl GroupMemberships {
    /// Is `user_id` a transitive member of `group_id`?
    pub fn is_member(&self, user_id: &str, group_id: &str) -> Membership {
        match self.members.get(&user_id.to_ascii_lowercase()) {
            Some(groups) => {
                if groups.contains(&group_id.to_ascii_lowercase()) {
                    Membership::Member
                } else if !self.relevant_groups_known()
                    || self
                        .relevant_groups
                        .contains(&group_id.to_ascii_lowercase())
                {
                    // Per-user collection lists every group of the user; per-group collection
                    // only knows the groups it listed.
                    Membership::NotMember
                } else {
                    Membership::Unknown
                }
            }
            None if self.all_users_resolved
                && self
                    .relevant_groups
                    .contains(&group_id.to_ascii_lowercase()) =>
            {
                Membership::NotMember
            }
            None => Membership::Unknown,
        }
    }

    /// Does `user_id` hold the directory role with this template id? Known only for users whose
    /// roles were read (their `transitiveMemberOf`, per user).
    pub fn has_role(&self, user_id: &str, role_template_id: &str) -> Membership {
        // An entry, even an empty one, is written only when the user's roles were read.
        match self.roles.get(&user_id.to_ascii_lowercase()) {
            Some(held) if held.contains(&role_template_id.to_ascii_lowercase()) => {
                Membership::Member
            }
            Some(_) => Membership::NotMember,
            None => Membership::Unknown,
        }
    }

    /// Per-user collection fetched every group of the user, so `relevantGroups` is empty.
    fn relevant_groups_known(&self) -> bool {
        !self.relevant_groups.is_empty()
    }

    /// Group name for evidence (the id when the name was not readable).
    pub fn group_name(&self, group_id: &str) -> String {
        self.groups
            .get(&group_id.to_ascii_lowercase())
            .and_then(|g| g.display_name.clone())
            .unwrap_or_else(|| group_id.to_string())
    }
}
