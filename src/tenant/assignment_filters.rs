//! Intune assignment filters: a rule over device properties that narrows an assignment to the
//! devices it matches (memdocs intune/fundamentals/filters.md). An enrollment restriction
//! assigned through one applies only to the devices its rule selects, which Intune decides at
//! enrollment; `tenant/precedence.rs` keeps such a restriction out of the winner and records
//! it, and the filters themselves are read (beta only) to name them in the evidence.

use serde::{Deserialize, Serialize};

use super::collect::list;
use super::snapshot::{
    AssignmentTarget, EnrollmentConfiguration, Source, TokenKind, empty_as_none,
};
use crate::graph::{ApiVersion, GraphClient, Query};

/// beta `deviceAndAppManagementAssignmentFilter` (v1.0 has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AssignmentFilter {
    pub id: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub platform: Option<String>,
    /// `(device.manufacturer -eq "HP")`.
    #[serde(deserialize_with = "empty_as_none")]
    pub rule: Option<String>,
}

/// An assignment filter on a target: the assignment holds only for the devices it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFilter {
    pub id: String,
    /// True for `include` (devices that match), false for `exclude` (devices that do not).
    pub include: bool,
}

impl AssignmentTarget {
    /// The filter the target carries, if any (`none` and an empty id are no filter).
    pub fn filter(&self) -> Option<TargetFilter> {
        let id = self
            .device_and_app_management_assignment_filter_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty() && *id != "00000000-0000-0000-0000-000000000000")?;
        let include = match self
            .device_and_app_management_assignment_filter_type
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("include") => true,
            Some("exclude") => false,
            _ => return None,
        };
        Some(TargetFilter {
            id: id.to_string(),
            include,
        })
    }
}

/// The tenant's assignment filters, read (one beta request, `DeviceManagementConfiguration.
/// Read.All`) only when an enrollment restriction is assigned through one; `None` otherwise.
pub(crate) async fn read_if_used(
    client: &GraphClient,
    kind: TokenKind,
    configs: &Source<Vec<EnrollmentConfiguration>>,
) -> Option<Source<Vec<AssignmentFilter>>> {
    let used = configs.data().is_some_and(|list| {
        list.iter()
            .flat_map(|c| &c.assignments)
            .any(|a| a.target.filter().is_some())
    });
    if !used {
        return None;
    }
    Some(
        list::<AssignmentFilter>(
            client,
            "assignment_filters",
            kind,
            ApiVersion::Beta,
            "/deviceManagement/assignmentFilters",
            Query::new()
                .select(&["id", "displayName", "platform", "rule"])
                .without_top(),
        )
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: Option<&str>, kind: Option<&str>) -> AssignmentTarget {
        AssignmentTarget {
            device_and_app_management_assignment_filter_id: id.map(str::to_string),
            device_and_app_management_assignment_filter_type: kind.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn a_target_carries_a_filter_only_with_an_id_and_include_or_exclude() {
        let f = target(Some("f1"), Some("Include")).filter();
        assert_eq!(
            f,
            Some(TargetFilter {
                id: "f1".into(),
                include: true
            })
        );
        assert_eq!(
            target(Some("f1"), Some("exclude"))
                .filter()
                .map(|f| f.include),
            Some(false)
        );
        assert_eq!(target(Some("f1"), Some("none")).filter(), None);
        assert_eq!(target(None, Some("include")).filter(), None);
        assert_eq!(
            target(
                Some("00000000-0000-0000-0000-000000000000"),
                Some("include")
            )
            .filter(),
            None
        );
    }
}
