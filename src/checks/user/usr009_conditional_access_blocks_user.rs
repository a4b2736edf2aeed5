//! USR009: No Conditional Access policy that applies to the user stops their enrollment.

use super::shared::subject;
use crate::checks::common::*;
use crate::checks::tenant::ten009_enrollment_app_conditional_access::{
    Demand, EnrollmentPolicy, R_CA_COMPLIANT_ALL, R_CA_USER_ACTIONS, ca_is_or, enrollment_policies,
};
use crate::model::{Area, CheckMeta, EnrollmentPath, Permissions, Severity};
use crate::model::{Evidence, Finding, Status};
use crate::tenant::snapshot::{
    ConditionalAccessPolicy, GroupMemberships, Membership, TenantSnapshot, User,
};

pub const META: CheckMeta = CheckMeta {
    id: "USR009",
    name: "conditional-access-blocks-user",
    title: "No Conditional Access policy that applies to the user stops their enrollment",
    severity: Severity::High,
    area: Area::User,
    permissions: Permissions {
        application: &["Policy.Read.All", "GroupMember.Read.All"],
        delegated: &["Policy.Read.All", "GroupMember.Read.All"],
        delegated_only: false,
    },
    what_it_checks: "Takes the enforced Conditional Access policies that reach the enrollment sign-in, as \
        TEN009 finds them (the Intune enrollment apps named or reached through All resources, or the \
        \"Register or join devices\" user action; report-only and disabled policies never count), and keeps \
        those that apply to this user: included through All users, the user's own id, guests when the user \
        is a guest, a group the user is a transitive member of, or a directory role the user holds (the \
        active role assignments transitiveMemberOf lists, read for users named in the run), and not excluded \
        the same way. Where the user's roles were not read (whole-tenant runs), a policy that includes or \
        excludes roles is undecided for the user: a warning when it would block, left out when it only prompts \
        (an MFA policy for admin roles is not a warning on every user). Each grant control is then weighed \
        on the device's enrollment path: \
        a co-managed device enrolls with its device credential, so no policy on the user's sign-in applies to \
        it; the \"Register or join devices\" action is not part of hybrid join; \
        \"Require Microsoft Entra hybrid joined device\" is met on the GPO-hybrid and co-management paths and \
        cannot be met by an Entra-joined or registered device; MFA, authentication strength and terms of use \
        can be answered in an interactive Entra join or registration, not in the silent GPO enrollment; \
        \"Require device to be marked as compliant\" on All resources does not block Intune enrollment \
        (entra-docs identity/conditional-access/policy-all-users-device-compliance.md), on the enrollment \
        apps or the register-device action it does; block blocks. With \"require one of the selected \
        controls\" the easiest control decides, with \"require all\" the hardest. Named locations, device \
        filters and risk levels are decided by Entra at sign-in, so a policy that would block under them is a \
        warning.",
    why_it_matters: "TEN009 answers for the tenant in the abstract; a policy aimed at a pilot group, or one that \
        excludes the enrollment service accounts, matters only for the users it covers. For a user a policy \
        covers, an unmet requirement fails the enrollment sign-in: 0x8018002A (or 0x80180030) on the device, \
        AAD log 0xCAA2000C for a silent MFA demand. Enrollment paths: all user-driven ones; which controls \
        enrollment can meet depends on the path.",
    how_to_fix: "Entra admin center > Protection > Conditional Access: in each reported policy, exclude \
        \"Microsoft Intune Enrollment\" and \"Microsoft Intune\" under Target resources, or exclude the user's \
        enrollment (a group) from it, or change the grant to a control the path can meet. Check undecided \
        conditions with the policy's What If tool for this user.",
    references: &[
        R_CA_COMPLIANT_ALL,
        R_CA_USER_ACTIONS,
        R_AUTO_TS,
        R_CA_POLICY_API,
    ],
};

/// Whether a policy's user conditions cover the user.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Applies {
    Yes(String),
    No,
    /// Cannot be decided from what was read (roles, unread memberships).
    Undecided(String),
}

fn has(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(v))
}

/// The first group of `groups` the user is a member of; `Err` names an unknown one.
fn member_of(
    memberships: Option<&GroupMemberships>,
    user: &User,
    groups: &[String],
) -> Result<Option<String>, String> {
    // Names are looked up only for the group the answer names (this runs per user and policy).
    let name = |g: &String| {
        memberships
            .map(|m| m.group_name(g))
            .unwrap_or_else(|| g.clone())
    };
    let mut unknown = None;
    for g in groups {
        match memberships.map(|m| m.is_member(&user.id, g)) {
            Some(Membership::Member) => return Ok(Some(name(g))),
            Some(Membership::NotMember) => {}
            Some(Membership::Unknown) | None => unknown = unknown.or_else(|| Some(name(g))),
        }
    }
    match unknown {
        Some(name) => Err(format!("membership of group {name} not read")),
        None => Ok(None),
    }
}

fn applies_to(
    p: &ConditionalAccessPolicy,
    user: &User,
    memberships: Option<&GroupMemberships>,
) -> Applies {
    let u = &p.conditions.users;
    let guest = user.is_guest();
    // Exclusions win over inclusions.
    if has(&u.exclude_users, &user.id) {
        return Applies::No;
    }
    if guest && has(&u.exclude_users, "GuestsOrExternalUsers") {
        return Applies::No;
    }
    let excluded_by_group = member_of(memberships, user, &u.exclude_groups);
    if let Ok(Some(_)) = excluded_by_group {
        return Applies::No;
    }
    let role = |r: &String| {
        memberships
            .map(|m| m.has_role(&user.id, r))
            .unwrap_or(Membership::Unknown)
    };
    if u.exclude_roles
        .iter()
        .any(|r| role(r) == Membership::Member)
    {
        return Applies::No;
    }
    let excluded_role_unknown = u
        .exclude_roles
        .iter()
        .filter(|r| role(r) == Membership::Unknown)
        .count();
    let included = if has(&u.include_users, "All") {
        Ok(Some("All users".to_string()))
    } else if has(&u.include_users, &user.id) {
        Ok(Some("the user by id".to_string()))
    } else if guest && has(&u.include_users, "GuestsOrExternalUsers") {
        Ok(Some("guests and external users".to_string()))
    } else {
        member_of(memberships, user, &u.include_groups)
            .map(|g| g.map(|name| format!("group {name}")))
    };
    let included = match included {
        Ok(Some(via)) => via,
        Ok(None)
            if u.include_roles
                .iter()
                .any(|r| role(r) == Membership::Member) =>
        {
            "a directory role the user holds".to_string()
        }
        Ok(None)
            if u.include_roles
                .iter()
                .any(|r| role(r) == Membership::Unknown) =>
        {
            return Applies::Undecided(format!(
                "it includes {} directory role(s), and the user's roles were not read",
                u.include_roles.len()
            ));
        }
        Ok(None) => return Applies::No,
        Err(why) => return Applies::Undecided(why),
    };
    if let Err(why) = excluded_by_group {
        return Applies::Undecided(format!("included through {included}, but {why}"));
    }
    if excluded_role_unknown > 0 {
        return Applies::Undecided(format!(
            "included through {included}, but it excludes {excluded_role_unknown} directory role(s), and the user's roles were not read"
        ));
    }
    Applies::Yes(included)
}

/// How enrollment on a path meets one control, easiest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Met,
    /// Needs an answer the path may not give (a prompt in a silent enrollment, or an unknown path).
    Maybe,
    Blocked,
}

fn on_path(d: Demand, path: Option<EnrollmentPath>) -> Outcome {
    use EnrollmentPath::*;
    match (d, path) {
        (Demand::Exempt, _) => Outcome::Met,
        (Demand::Blocking, _) => Outcome::Blocked,
        (Demand::PathDependent, Some(GpoHybrid | CoManagement)) => Outcome::Met,
        (Demand::PathDependent, Some(EntraJoin | EntraRegistered)) => Outcome::Blocked,
        (Demand::Prompt, Some(EntraJoin | EntraRegistered)) => Outcome::Met,
        (Demand::PathDependent | Demand::Prompt | Demand::Unknown, _) => Outcome::Maybe,
    }
}

fn policy_outcome(ep: &EnrollmentPolicy, path: Option<EnrollmentPath>) -> Outcome {
    match path {
        // A co-managed device enrolls with its device credential: policies on the user's
        // sign-in do not apply (the path's definition, as in USR005).
        Some(EnrollmentPath::CoManagement) => return Outcome::Met,
        // Hybrid join does not go through the "Register or join devices" user action.
        Some(EnrollmentPath::GpoHybrid) if ep.register_device => return Outcome::Met,
        _ => {}
    }
    let it = ep.controls.iter().map(|(_, d)| on_path(*d, path));
    let o = if ca_is_or(ep.policy) {
        it.min()
    } else {
        it.max()
    };
    o.unwrap_or(Outcome::Met)
}

/// `prepared` is the snapshot's [`enrollment_policies`], worked out once for many users
/// (computed here when `None`).
pub fn usr009_conditional_access(
    snap: &TenantSnapshot,
    user: &User,
    path: Option<EnrollmentPath>,
    prepared: Option<&[EnrollmentPolicy]>,
) -> Finding {
    const ID: &CheckMeta = &META;
    let (list, endpoint) = match snap.sources.conditional_access_policies.get() {
        Ok(v) => v,
        Err(r) => return r.finding_of(ID, subject(user), "the Conditional Access policies"),
    };
    let memberships = snap.sources.group_memberships.data();
    let path_name = path.map(|p| p.as_str()).unwrap_or("unknown");
    let mut blocked = Vec::new();
    let mut maybe = Vec::new();
    let mut why: Vec<&str> = Vec::new();
    let mut left_out: Vec<String> = Vec::new();
    let mut met = 0usize;
    let computed;
    let policies: &[EnrollmentPolicy] = match prepared {
        Some(p) => p,
        None => {
            computed = enrollment_policies(list);
            &computed
        }
    };
    for ep in policies {
        let applies = applies_to(ep.policy, user, memberships);
        let via = match &applies {
            Applies::No => continue,
            Applies::Yes(via) => format!("applies through {via}"),
            Applies::Undecided(why) => format!("may apply: {why}"),
        };
        let outcome = policy_outcome(ep, path);
        if outcome == Outcome::Met {
            met += 1;
            continue;
        }
        // A prompt in a policy that may not cover the user (an admin-role policy, typically)
        // is not worth a warning on every user; a block that may cover them is.
        if matches!(applies, Applies::Undecided(_)) && outcome != Outcome::Blocked {
            left_out.push(format!("\"{}\" ({via})", ep.name()));
            continue;
        }
        let joiner = if ca_is_or(ep.policy) { " or " } else { " and " };
        let controls: Vec<&str> = ep.controls.iter().map(|(c, _)| c.as_str()).collect();
        let mut detail = format!(
            "Conditional Access \"{}\" targets {}, {via}, requires {}",
            ep.name(),
            ep.reaches,
            controls.join(joiner)
        );
        let path_unknown = matches!(path, None | Some(EnrollmentPath::Unknown));
        let unweighed = ep.controls.iter().any(|(_, d)| *d == Demand::Unknown);
        let tail: &str = match outcome {
            Outcome::Blocked => ": enrollment on this path cannot meet it",
            _ if path_unknown => ": whether enrollment meets it depends on the path",
            _ if unweighed => {
                ": it has a grant control whose effect on enrollment is not weighed here"
            }
            _ => {
                ": a silent enrollment cannot answer the prompt unless the sign-in already carries it"
            }
        };
        detail.push_str(tail);
        if !ep.undecidable.is_empty() {
            detail.push_str(&format!(
                "; only under {} (decided by Entra at sign-in)",
                ep.undecidable.join(", ")
            ));
        }
        let e = Evidence::new("graph", detail).at(ep.location());
        let decided = matches!(applies, Applies::Yes(_)) && ep.undecidable.is_empty();
        let reason = if !ep.undecidable.is_empty() {
            "conditions Entra decides at sign-in"
        } else if !matches!(applies, Applies::Yes(_)) {
            "roles or group memberships that were not read"
        } else if path_unknown {
            "a requirement only some enrollment paths meet"
        } else if unweighed {
            "a grant control not weighed here"
        } else {
            "a prompt a silent enrollment cannot answer"
        };
        if (outcome != Outcome::Blocked || !decided) && !why.contains(&reason) {
            why.push(reason);
        }
        if outcome == Outcome::Blocked && decided {
            blocked.push(e);
        } else {
            maybe.push(e);
        }
    }
    let upn = &user.user_principal_name;
    let mut f = if !blocked.is_empty() {
        ID.finding(
            Status::Fail,
            subject(user),
            format!(
                "{} Conditional Access polic(ies) that apply to {upn} stop the enrollment sign-in on the {path_name} path (0x8018002A)",
                blocked.len()
            ),
        )
        .with_remediation(
            "Exclude \"Microsoft Intune Enrollment\" and \"Microsoft Intune\" from the reported policies, \
             exclude the user's group from them, or grant a control this enrollment path can meet.",
        )
    } else if !maybe.is_empty() {
        ID.finding(
            Status::Warn,
            subject(user),
            format!(
                "{} Conditional Access polic(ies) may stop {upn}'s enrollment sign-in on the {path_name} path ({})",
                maybe.len(),
                why.join("; ")
            ),
        )
        .with_remediation(
            "Run Conditional Access What If for the user and the Microsoft Intune Enrollment app; \
             exclude the enrollment apps from policies that demand a prompt of a silent enrollment.",
        )
    } else {
        ID.finding(
            Status::Pass,
            subject(user),
            format!(
                "No enforced Conditional Access policy that applies to {upn} stops the enrollment sign-in on the {path_name} path"
            ),
        )
        .with_evidence(
            Evidence::new(
                "graph",
                format!(
                    "{} Conditional Access policies read; {} enforced ones reach the enrollment sign-in; {met} of those cover the user with requirements this path meets",
                    list.len(),
                    policies.len()
                ),
            )
            .at(endpoint.to_string()),
        )
    };
    for e in blocked.into_iter().chain(maybe) {
        f = f.with_evidence(e);
    }
    if !left_out.is_empty() {
        // Said, so a pass is not read as "no policy could prompt this user".
        f = f.with_evidence(Evidence::new(
            "graph",
            format!(
                "not counted, as they only prompt and may not cover the user: {}",
                left_out.join("; ")
            ),
        ));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tenant::tests::json;
    use crate::checks::user::tests::*;
    use crate::tenant::snapshot::Source;
    use EnrollmentPath::*;

    fn with_ca(policies: &str, groups: &[&str]) -> TenantSnapshot {
        let mut s = snap_with(&user_json(""), groups);
        s.sources.conditional_access_policies = Source::collected(
            "GET /v1.0/identity/conditionalAccess/policies",
            json(policies),
        );
        s
    }

    fn policy(users: &str, apps: &str, controls: &str, op: &str) -> String {
        format!(
            r#"[{{"id":"p1","displayName":"P","state":"enabled",
            "conditions":{{"users":{users},"applications":{{"includeApplications":[{apps}]}}}},
            "grantControls":{{"operator":"{op}","builtInControls":[{controls}]}}}}]"#
        )
    }

    const ENROLL: &str = r#""d4ebce55-015a-49b5-a083-c84d1797ae8c""#;

    fn at(s: &TenantSnapshot, path: Option<EnrollmentPath>) -> Status {
        let u = s.user("jdoe@contoso.com").cloned().unwrap_or_default();
        usr009_conditional_access(s, &u, path, None).status
    }

    #[test]
    fn a_blocking_policy_counts_only_for_the_users_it_covers() {
        let compliant = |users: &str| policy(users, ENROLL, r#""compliantDevice""#, "OR");
        // All users: blocks jdoe.
        let s = with_ca(&compliant(r#"{"includeUsers":["All"]}"#), &[]);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Fail);
        // Excluded by id, or through a group jdoe is in: does not apply.
        let s = with_ca(
            &compliant(r#"{"includeUsers":["All"],"excludeUsers":["u1"]}"#),
            &[],
        );
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Pass);
        let s = with_ca(
            &compliant(&format!(
                r#"{{"includeUsers":["All"],"excludeGroups":["{PILOT}"]}}"#
            )),
            &[PILOT],
        );
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Pass);
        // Included through the Pilot group only: applies to a member, not to others.
        let pilot_only = compliant(&format!(r#"{{"includeGroups":["{PILOT}"]}}"#));
        assert_eq!(
            at(&with_ca(&pilot_only, &[PILOT]), Some(GpoHybrid)),
            Status::Fail
        );
        assert_eq!(
            at(&with_ca(&pilot_only, &[]), Some(GpoHybrid)),
            Status::Pass
        );
        // Directory roles, read per user: a Global Administrator is covered, jdoe is not.
        const GA: &str = "62e90394-69f5-4237-9190-012177145e10";
        let roles_read = |mut s: TenantSnapshot| {
            if let Source::Collected { data, .. } = &mut s.sources.group_memberships {
                data.roles.entry("u1".into()).or_default();
            }
            s
        };
        let with_ca = |p: &str, g: &[&str]| roles_read(with_ca(p, g));
        let roles = compliant(&format!(r#"{{"includeRoles":["{GA}"]}}"#));
        assert_eq!(at(&with_ca(&roles, &[]), Some(GpoHybrid)), Status::Pass);
        let admin = |s: &mut TenantSnapshot| {
            if let Source::Collected { data, .. } = &mut s.sources.group_memberships {
                data.roles.entry("u1".into()).or_default().insert(GA.into());
            }
        };
        let mut s = with_ca(&roles, &[]);
        admin(&mut s);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Fail);
        let all_but_admins = compliant(&format!(
            r#"{{"includeUsers":["All"],"excludeRoles":["{GA}"]}}"#
        ));
        assert_eq!(
            at(&with_ca(&all_but_admins, &[]), Some(GpoHybrid)),
            Status::Fail
        );
        let mut s = with_ca(&all_but_admins, &[]);
        admin(&mut s);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Pass);
        // Roles not read (memberships listed per group for a whole tenant): undecided, a
        // warning for a block ...
        let bulk = |s: &mut TenantSnapshot| {
            if let Source::Collected { data, .. } = &mut s.sources.group_memberships {
                data.all_users_resolved = true;
                data.relevant_groups = vec![PILOT.into()];
                data.roles.clear();
            }
        };
        let mut s = with_ca(&roles, &[]);
        bulk(&mut s);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Warn);
        let mut s = with_ca(&all_but_admins, &[]);
        bulk(&mut s);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Warn);
        // ... but an MFA prompt for admin roles is not a warning on every user.
        let admin_mfa = policy(
            &format!(r#"{{"includeRoles":["{GA}"]}}"#),
            ENROLL,
            r#""mfa""#,
            "OR",
        );
        let mut s = with_ca(&admin_mfa, &[]);
        bulk(&mut s);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Pass);
    }

    #[test]
    fn co_management_and_the_register_action_on_hybrid_join_are_not_held_to_user_ca() {
        let all = r#"{"includeUsers":["All"]}"#;
        let block = with_ca(&policy(all, ENROLL, r#""block""#, "OR"), &[]);
        assert_eq!(at(&block, Some(CoManagement)), Status::Pass);
        let register = policy(all, "", r#""mfa""#, "OR").replace(
            r#""includeApplications":[]"#,
            r#""includeApplications":[],"includeUserActions":["urn:user:registerdevice"]"#,
        );
        let s = with_ca(&register, &[]);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Pass);
        assert_eq!(at(&s, None), Status::Warn);
        // A control not weighed here is not dropped: with AND it may be the hard one.
        let unknown = with_ca(
            &policy(all, ENROLL, r#""mfa","approvedApplication""#, "AND"),
            &[],
        );
        assert_eq!(at(&unknown, Some(EntraJoin)), Status::Warn);
        let u = unknown
            .user("jdoe@contoso.com")
            .cloned()
            .unwrap_or_default();
        let f = usr009_conditional_access(&unknown, &u, Some(EntraJoin), None);
        assert!(
            f.summary.contains("a grant control not weighed here"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn controls_are_weighed_on_the_devices_path() {
        let all = r#"{"includeUsers":["All"]}"#;
        // Hybrid-joined device: met on GPO-hybrid, not on Entra join.
        let s = with_ca(&policy(all, ENROLL, r#""domainJoinedDevice""#, "OR"), &[]);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Pass);
        assert_eq!(at(&s, Some(EntraJoin)), Status::Fail);
        assert_eq!(at(&s, None), Status::Warn);
        // MFA: answered in an interactive join, a risk for silent GPO enrollment.
        let s = with_ca(&policy(all, ENROLL, r#""mfa""#, "OR"), &[]);
        assert_eq!(at(&s, Some(EntraJoin)), Status::Pass);
        assert_eq!(at(&s, Some(GpoHybrid)), Status::Warn);
        // OR: the easier control on the path decides; AND: the harder.
        let either = policy(all, ENROLL, r#""mfa","domainJoinedDevice""#, "OR");
        assert_eq!(at(&with_ca(&either, &[]), Some(EntraJoin)), Status::Pass);
        assert_eq!(at(&with_ca(&either, &[]), Some(GpoHybrid)), Status::Pass);
        let both = policy(all, ENROLL, r#""mfa","domainJoinedDevice""#, "AND");
        assert_eq!(at(&with_ca(&both, &[]), Some(EntraJoin)), Status::Fail);
        // Compliant device on All resources is no blocker; report-only never counts.
        let s = with_ca(&policy(all, r#""All""#, r#""compliantDevice""#, "OR"), &[]);
        assert_eq!(at(&s, Some(EntraJoin)), Status::Pass);
        let report_only = policy(all, ENROLL, r#""block""#, "OR").replace(
            r#""state":"enabled""#,
            r#""state":"enabledForReportingButNotEnforced""#,
        );
        assert_eq!(
            at(&with_ca(&report_only, &[]), Some(GpoHybrid)),
            Status::Pass
        );
        let s = with_ca(&policy(all, ENROLL, r#""block""#, "OR"), &[]);
        let u = s.user("jdoe@contoso.com").cloned().unwrap_or_default();
        let f = usr009_conditional_access(&s, &u, Some(GpoHybrid), None);
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("applies through All users")),
            "{:?}",
            f.evidence
        );
    }
}
