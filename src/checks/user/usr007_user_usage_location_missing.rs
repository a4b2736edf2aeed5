//! USR007: The user has a usage location.

use super::shared::{subject, user_location};
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Severity};
use crate::model::{Evidence, Finding, Status};
use crate::tenant::snapshot::{TenantSnapshot, User};

pub const META: CheckMeta = CheckMeta {
    id: "USR007",
    name: "user-usage-location-missing",
    title: "The user has a usage location",
    severity: Severity::Low,
    area: Area::User,
    permissions: USER_READ,
    what_it_checks: "Warns when the user's usageLocation is empty.",
    why_it_matters: "A license can only be assigned directly to a user with a usage location; group-based \
        licensing falls back to the tenant's country. A missing location can therefore leave a newly added \
        user without the Intune license that enrollment needs. Enrollment paths: all user-driven ones.",
    how_to_fix: "Entra admin center > Identity > Users > the user > Properties > Settings: set Usage location \
        (or set the attribute on-premises and sync it).",
    references: &[R_USER_API, R_LICENSES_ASSIGN],
};

pub fn usr007_user_usage_location_missing(_snap: &TenantSnapshot, user: &User) -> Finding {
    const ID: &CheckMeta = &META;
    let loc = format!("{}?$select=usageLocation", user_location(user));
    match &user.usage_location {
        Some(l) => ID.finding(Status::Pass, subject(user), format!("usageLocation is {l}"))
            .with_evidence(Evidence::new("graph", format!("usageLocation = {l}")).at(loc)),
        None => ID.finding(Status::Warn,
            subject(user),
            "The user has no usageLocation: direct licence assignment fails, group licensing falls back to the tenant's country",
        )
        .with_evidence(Evidence::new("graph", "usageLocation = null").at(loc))
        .with_evidence(paths_evidence(&ALL_PATHS, "through licensing (USR002)"))
        .with_remediation("Set the user's usage location (Entra admin center > Users > Properties)."),
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::user::tests::*;
    use crate::checks::user::*;
    use crate::model::Status;

    #[test]
    fn usage_location_set_passes_and_missing_warns() {
        let s = snap_with(&user_json(""), &[]);
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        assert_eq!(status(&fs, "USR007"), Status::Pass);
        let no_loc = user_json("").replace(r#""usageLocation":"US","#, "");
        let s = snap_with(&no_loc, &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR007"),
            Status::Warn
        );
    }
}
