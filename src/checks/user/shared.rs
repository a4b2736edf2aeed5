//! Helpers shared by the user checks: the subject and location of a user, policy coverage and
//! the winning-restriction preamble of USR005/USR006.

use crate::model::{CheckMeta, Evidence, Finding, Status, Subject};
use crate::tenant::precedence::Winner;
use crate::tenant::snapshot::{
    EnrollmentConfiguration, Membership, MobilityPolicy, PolicyScope, TenantSnapshot, User,
};

pub(crate) fn subject(user: &User) -> Subject {
    Subject::User(user.user_principal_name.clone())
}

pub(crate) fn user_location(user: &User) -> String {
    format!("GET /v1.0/users/{}", user.id)
}

/// Is the user covered by a mobility policy? `(covered, via)`; `None` when membership is unknown.
pub(crate) fn covered_by(
    snap: &TenantSnapshot,
    user: &User,
    p: &MobilityPolicy,
) -> Option<(bool, String)> {
    match p.scope() {
        PolicyScope::All => Some((true, "scope All".into())),
        PolicyScope::None | PolicyScope::Unknown => {
            Some((false, format!("scope {}", p.scope().as_str())))
        }
        PolicyScope::Selected => {
            let memberships = snap.sources.group_memberships.data();
            let mut unknown = false;
            for g in &p.included_groups {
                let name = g.display_name.clone().unwrap_or_else(|| g.id.clone());
                match memberships.map(|m| m.is_member(&user.id, &g.id)) {
                    Some(Membership::Member) => {
                        return Some((true, format!("transitive member of included group {name}")));
                    }
                    Some(Membership::NotMember) => {}
                    Some(Membership::Unknown) | None => unknown = true,
                }
            }
            if unknown {
                None
            } else {
                let names: Vec<String> = p
                    .included_groups
                    .iter()
                    .map(|g| g.display_name.clone().unwrap_or_else(|| g.id.clone()))
                    .collect();
                Some((
                    false,
                    format!("not a member of any included group ({})", names.join(", ")),
                ))
            }
        }
    }
}

pub(crate) fn winner_evidence(w: &Winner<'_>) -> Vec<Evidence> {
    let mut out = vec![
        Evidence::new("graph", w.reasoning.first().cloned().unwrap_or_default()).at(w.describe()),
    ];
    out.push(Evidence::new("graph", format!("configuration {}", w.config.id)).at(w.location()));
    for r in w.reasoning.iter().skip(1) {
        out.push(Evidence::new("precedence", r.clone()));
    }
    out
}

/// The winning restriction of one family for the user (USR005, USR006), or the finding that
/// ends the check first: none of that family was returned (`none` says with which status and
/// words), or a restriction may target the user's groups but the memberships could not be read
/// (say why instead of guessing).
pub(crate) fn decided_winner<'a>(
    snap: &TenantSnapshot,
    user: &User,
    check: &CheckMeta,
    winner: Option<Winner<'a>>,
    (configs, endpoint): (&[EnrollmentConfiguration], &str),
    none: (Status, &str),
) -> Result<Winner<'a>, Box<Finding>> {
    let Some(w) = winner else {
        return Err(Box::new(
            check.finding(none.0, subject(user), none.1).with_evidence(
                Evidence::new(
                    "graph",
                    format!("{} enrollment configurations", configs.len()),
                )
                .at(endpoint.to_string()),
            ),
        ));
    };
    if w.uncertain
        && let Err(reason) = snap.sources.group_memberships.get()
    {
        return Err(Box::new(reason.finding_of(
            check,
            subject(user),
            "the user's group memberships",
        )));
    }
    Ok(w)
}
