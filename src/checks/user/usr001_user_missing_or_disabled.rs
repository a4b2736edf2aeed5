//! USR001: The user exists and is enabled.

use super::shared::user_location;
use crate::checks::common::*;
use crate::model::{Area, CheckMeta, Severity};
use crate::model::{Evidence, Finding, SkipReason, Status, Subject};
use crate::tenant::snapshot::{TenantSnapshot, User};

pub const META: CheckMeta = CheckMeta {
    id: "USR001",
    name: "user-missing-or-disabled",
    title: "The user exists and is enabled",
    severity: Severity::Critical,
    area: Area::User,
    permissions: USER_READ,
    what_it_checks: "Looks the user up by UPN or object id and fails when no user is found or \
        accountEnabled is false.",
    why_it_matters: "Enrollment with user credentials needs a working Entra account: a disabled or missing \
        account cannot get a token (0x80180002, token broker errors). Enrollment paths: all user-driven ones \
        (gpo-hybrid, entra-join, entra-registered, co-management falling back to the user token).",
    how_to_fix: "Entra admin center > Identity > Users > All users: find the user, check the UPN is the one \
        used on the device, and set \"Account enabled\" (for synced users, enable the account in Active \
        Directory and let it sync).",
    references: &[R_USER_API, R_ERRORS_TS],
};

/// What USR001 sees in a user object: the account states it fails, in the order it tests them
/// (a disabled guest is reported as disabled). Summaries of many users count disabled accounts
/// and guests by this, instead of listing each one's USR001 failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Enabled,
    Disabled,
    Guest,
}

pub fn account_state(user: &User) -> AccountState {
    if user.account_enabled == Some(false) {
        AccountState::Disabled
    } else if user.is_guest() {
        AccountState::Guest
    } else {
        AccountState::Enabled
    }
}

pub(super) fn usr001_for(snap: &TenantSnapshot, upn: &str, user: Option<&User>) -> Finding {
    const ID: &CheckMeta = &META;
    let subj = Subject::User(upn.to_string());
    let endpoint = match snap.sources.users.get() {
        Ok((_, e)) => e,
        Err(r) => return r.finding_of(ID, subj, "the users"),
    };
    match user {
        Some(u) if account_state(u) == AccountState::Disabled => ID.finding(Status::Fail,
            subj,
            "The user account is disabled (accountEnabled = false)",
        )
        .with_evidence(Evidence::new("graph", "accountEnabled = false").at(user_location(u)))
        .with_evidence(paths_evidence(&ALL_PATHS, ""))
        .with_remediation("Enable the account (Entra admin center > Users) before enrolling its devices."),
        Some(u) if account_state(u) == AccountState::Guest => ID.finding(Status::Fail,
            subj,
            "The user is a B2B guest of this tenant: guests cannot enroll Windows devices into its Intune",
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!(
                    "userType = {}, userPrincipalName = {}",
                    u.user_type.as_deref().unwrap_or("(not returned)"),
                    u.user_principal_name
                ),
            )
            .at(user_location(u)),
        )
        .with_evidence(paths_evidence(&ALL_PATHS, ""))
        .with_remediation(
            "Enroll with the person's member account of this tenant (or create one); a guest's \
             devices belong to their home tenant's MDM.",
        ),
        Some(u) => ID.finding(Status::Pass, subj, "The user exists and is enabled").with_evidence(
            Evidence::new(
                "graph",
                format!(
                    "id {}, accountEnabled = {}",
                    u.id,
                    u.account_enabled
                        .map(|b| b.to_string())
                        .unwrap_or_else(|| "(not returned)".into())
                ),
            )
            .at(user_location(u)),
        ),
        None if snap.user_was_looked_up(upn) => ID.finding(Status::Fail,
            subj,
            format!("No user {upn} exists in the tenant"),
        )
        .with_evidence(
            Evidence::new("graph", format!("no user with userPrincipalName {upn}"))
                .at(endpoint.to_string()),
        )
        .with_evidence(paths_evidence(&ALL_PATHS, ""))
        .with_remediation(
            "Check the UPN (the device may have been set up with another account, or the on-premises \
             UPN was not synchronised).",
        ),
        None => ID.skip(subj,
            SkipReason::NoEvidence {
                collect: format!("{upn}: the snapshot does not include this user (run check --user {upn} against Graph)"),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::user::*;

    use crate::checks::user::tests::*;
    use crate::tenant::snapshot::UserScope;

    #[test]
    fn usr001_found_disabled_missing_and_not_looked_up() {
        let s = snap_with(&user_json(""), &[]);
        assert_eq!(
            status(&user_readiness(&s, "JDOE@contoso.com", None), "USR001"),
            Status::Pass
        );
        let s = snap_with(
            &user_json(r#","accountEnabled":false"#).replacen(r#""accountEnabled":true,"#, "", 1),
            &[],
        );
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR001"),
            Status::Fail
        );
        let mut s = snap_with(&user_json(""), &[]);
        s.user_scope = UserScope::Selected {
            upns: vec!["ghost@contoso.com".into()],
        };
        let fs = user_readiness(&s, "ghost@contoso.com", None);
        assert_eq!(status(&fs, "USR001"), Status::Fail);
        assert_eq!(status(&fs, "USR002"), Status::Skip);
        // USR010 is left out: the snapshot has no owned Entra devices read (see `evaluated`).
        assert_eq!(fs.len(), 9);
        let fs = user_readiness(&s, "other@contoso.com", None);
        assert_eq!(status(&fs, "USR001"), Status::Skip);
    }

    #[test]
    fn usr001_guest_fails_by_type_or_ext_upn() {
        let s = snap_with(&user_json(r#","userType":"Guest""#), &[]);
        let fs = user_readiness(&s, "jdoe@contoso.com", None);
        let f = fs.iter().find(|f| f.check == "USR001");
        assert!(
            f.is_some_and(|f| f.status == Status::Fail && f.summary.contains("guest")),
            "{f:#?}"
        );
        let s = snap_with(&user_json(r#","userType":"Member""#), &[]);
        assert_eq!(
            status(&user_readiness(&s, "jdoe@contoso.com", None), "USR001"),
            Status::Pass
        );
        // userType not returned (older snapshot): the #EXT# UPN gives the guest away.
        let ext = "pat_fabrikam.com#EXT#@contoso.onmicrosoft.com";
        let mut s = snap_with(&user_json("").replace("jdoe@contoso.com", ext), &[]);
        s.user_scope = UserScope::Selected {
            upns: vec![ext.into()],
        };
        assert_eq!(
            status(&user_readiness(&s, ext, None), "USR001"),
            Status::Fail
        );
    }
}
