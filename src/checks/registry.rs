//! The check catalog as data: every rule's stable ID, name, title, severity, the Graph
//! permissions it needs, and its `explain` text. `enroll-doctor explain ID` renders an entry;
//! the README permission table is generated from it.

use crate::model::Severity;

/// Which part of the product a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Tenant,
    User,
    Device,
    Correlation,
}

/// Least-privilege Microsoft Graph permissions a check needs (empty for device-only checks).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Permissions {
    pub application: &'static [&'static str],
    pub delegated: &'static [&'static str],
    /// The data is served to delegated tokens only (app-only gets 401).
    pub delegated_only: bool,
}

pub const NO_PERMISSIONS: Permissions = Permissions {
    application: &[],
    delegated: &[],
    delegated_only: false,
};

/// One documented rule.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct CheckMeta {
    /// Stable ID, e.g. `DEV007`. Never renumbered.
    pub id: &'static str,
    /// Kebab-case name of the bad condition, e.g. `autoenroll-failed`.
    pub name: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub area: Area,
    pub permissions: Permissions,
    /// Explain text, four sections.
    pub what_it_checks: &'static str,
    pub why_it_matters: &'static str,
    pub how_to_fix: &'static str,
    /// Documentation links.
    pub references: &'static [&'static str],
}

/// Every check, in ID order.
pub fn all() -> &'static [CheckMeta] {
    CHECKS
}

/// A check by ID (case-insensitive) or by kebab name.
pub fn get(id: &str) -> Option<&'static CheckMeta> {
    CHECKS
        .iter()
        .find(|c| c.id.eq_ignore_ascii_case(id) || c.name.eq_ignore_ascii_case(id))
}

static CHECKS: &[CheckMeta] = &[];
