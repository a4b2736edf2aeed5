//! Per-object policies: Conditional Access, assignment filters, Autopilot deployment profiles,
//! Enrollment Status Pages, and the Autopilot and corporate device identities (counted, not
//! listed one by one: a tenant holds thousands).
//!
//! Watched settings:
//! - a Conditional Access policy starts to stop enrollment as TEN009 reads it (enforced,
//!   reaching the Intune enrollment apps or "Register or join devices", with a grant an
//!   enrolling device cannot meet: `block`, or a compliant device on the enrollment apps — not
//!   on All resources, which enrollment is exempt from; entra-docs
//!   identity/conditional-access/policy-all-users-device-compliance.md): added so, or changed
//!   into it (a derived `blocksEnrollment` row); the reverse is an improvement;
//! - an Autopilot profile that had assignments is removed, or loses an assignment: the devices
//!   it reached get no profile (memdocs autopilot/profiles.md).
//!
//! Everything else (CA targets and conditions, filter rules, ESP settings, profile settings)
//! is recorded as neutral: what it does to users shows in the readiness part.

use std::collections::{BTreeMap, BTreeSet};

use super::config::group_name;
use super::{Change, ChangeArea, Changes, Impact, both, judged, list, opt_bool};
use crate::checks::tenant::ten009_enrollment_app_conditional_access::{
    Demand, ca_is_or, enrollment_policies,
};
use crate::tenant::TenantSnapshot;
use crate::tenant::snapshot::{AutopilotProfile, EnrollmentStatusPage, TargetKind};
use crate::tenant::snapshot::{CaGrantControls, ConditionalAccessPolicy};

pub(super) fn compare(
    old: &TenantSnapshot,
    new: &TenantSnapshot,
    out: &mut Vec<Change>,
    not_compared: &mut Vec<String>,
) {
    let (a, b) = (&old.sources, &new.sources);
    if let Some((o, n)) = both(
        "conditional_access_policies",
        &a.conditional_access_policies,
        &b.conditional_access_policies,
        not_compared,
    ) {
        conditional_access(o, n, out);
    }
    if let Some((o, n)) = both(
        "assignment_filters",
        &a.assignment_filters,
        &b.assignment_filters,
        not_compared,
    ) {
        let mut c = Changes {
            out,
            area: ChangeArea::AssignmentFilter,
        };
        let (o, n) = (by_id(o, |f| f.id.clone()), by_id(n, |f| f.id.clone()));
        for (id, f) in &o {
            if !n.contains_key(id) {
                c.removed(
                    f.display_name.as_deref().unwrap_or(&f.id),
                    &f.id,
                    Impact::Neutral,
                    "",
                );
            }
        }
        for (id, f) in &n {
            let name = f.display_name.as_deref().unwrap_or(&f.id);
            match o.get(id) {
                None => c.added(name, &f.id, Impact::Neutral, ""),
                Some(before) => {
                    c.field(
                        name,
                        &f.id,
                        "rule",
                        before.rule.clone(),
                        f.rule.clone(),
                        Impact::Neutral,
                        "",
                    );
                    c.field(
                        name,
                        &f.id,
                        "platform",
                        before.platform.clone(),
                        f.platform.clone(),
                        Impact::Neutral,
                        "",
                    );
                }
            }
        }
    }
    if let Some((o, n)) = both(
        "autopilot_profiles",
        &a.autopilot_profiles,
        &b.autopilot_profiles,
        not_compared,
    ) {
        profiles((old, new), o, n, out);
    }
    if let Some((o, n)) = both(
        "enrollment_status_pages",
        &a.enrollment_status_pages,
        &b.enrollment_status_pages,
        not_compared,
    ) {
        status_pages((old, new), o, n, out);
    }
    if let Some((o, n)) = both(
        "autopilot_devices",
        &a.autopilot_devices,
        &b.autopilot_devices,
        not_compared,
    ) {
        let key = |d: &crate::tenant::snapshot::AutopilotDeviceIdentity| {
            d.serial_number.clone().unwrap_or_else(|| d.id.clone())
        };
        counted(
            out,
            "Windows Autopilot devices",
            o.iter().map(key).collect(),
            n.iter().map(key).collect(),
        );
    }
    if let Some((o, n)) = both(
        "imported_device_identities",
        &a.imported_device_identities,
        &b.imported_device_identities,
        not_compared,
    ) {
        let key = |d: &crate::tenant::snapshot::ImportedDeviceIdentity| {
            d.imported_device_identifier
                .clone()
                .unwrap_or_else(|| d.id.clone())
        };
        counted(
            out,
            "Corporate device identifiers",
            o.iter().map(key).collect(),
            n.iter().map(key).collect(),
        );
    }
}

fn by_id<T: Clone>(l: &[T], id: impl Fn(&T) -> String) -> BTreeMap<String, T> {
    l.iter()
        .map(|x| (id(x).to_ascii_lowercase(), x.clone()))
        .collect()
}

/// The policies of LIST that stop an enrolling device, by id, with what they reach: TEN009's
/// own reading (`enrollment_policies`: enforced, reaching the Intune enrollment apps or the
/// "Register or join devices" action from a modern client), keeping those whose grant an
/// enrolling device cannot meet (`block`, a compliant device on the enrollment apps; with
/// "require one of" every control must be such, with "require all" one is enough).
fn blocking(list: &[ConditionalAccessPolicy]) -> BTreeMap<String, String> {
    enrollment_policies(list)
        .into_iter()
        .filter(|e| {
            let mut hard = e.controls.iter().map(|(_, d)| *d == Demand::Blocking);
            if ca_is_or(e.policy) {
                hard.all(|b| b)
            } else {
                hard.any(|b| b)
            }
        })
        .map(|e| (e.policy.id.to_ascii_lowercase(), e.reaches.clone()))
        .collect()
}

fn grants_text(g: &Option<CaGrantControls>) -> String {
    match g {
        None => "(none)".to_string(),
        Some(g) => {
            let mut parts: Vec<String> = g.built_in_controls.clone();
            parts.extend(g.terms_of_use.iter().map(|t| format!("termsOfUse {t}")));
            if let Some(s) = &g.authentication_strength {
                parts.push(format!(
                    "authenticationStrength {}",
                    s.display_name.as_deref().unwrap_or(&s.id)
                ));
            }
            format!(
                "{} ({})",
                g.operator.as_deref().unwrap_or("OR"),
                list(parts)
            )
        }
    }
}

const BLOCKS: &str = "the policy stops enrollment: it reaches the enrollment sign-in with a grant an \
                      enrolling device cannot meet (block, or a compliant device on the enrollment \
                      apps); whom it reaches shows under readiness";

/// Conditional Access: every property that differs is recorded as neutral; the judgement is
/// one derived row, `blocksEnrollment`, when the policy starts or stops blocking enrollment as
/// TEN009 reads it (or one added or removed that blocks).
fn conditional_access(
    old: &[ConditionalAccessPolicy],
    new: &[ConditionalAccessPolicy],
    out: &mut Vec<Change>,
) {
    let mut c = Changes {
        out,
        area: ChangeArea::ConditionalAccess,
    };
    let (b0, b1) = (blocking(old), blocking(new));
    let (o, n) = (by_id(old, |p| p.id.clone()), by_id(new, |p| p.id.clone()));
    let name = |p: &ConditionalAccessPolicy| p.display_name.clone().unwrap_or_else(|| p.id.clone());
    for (id, p) in &o {
        if !n.contains_key(id) {
            c.removed(
                &name(p),
                &p.id,
                judged(false, b0.contains_key(id)),
                "a policy that stopped enrollment (block, or a compliant device on the enrollment \
                 apps) is gone",
            );
        }
    }
    for (id, p) in &n {
        let Some(before) = o.get(id) else {
            c.added(&name(p), &p.id, judged(b1.contains_key(id), false), BLOCKS);
            continue;
        };
        let nm = name(p);
        c.field(
            &nm,
            &p.id,
            "state",
            before.state.clone(),
            p.state.clone(),
            Impact::Neutral,
            "",
        );
        c.field(
            &nm,
            &p.id,
            "grantControls",
            Some(grants_text(&before.grant_controls)),
            Some(grants_text(&p.grant_controls)),
            Impact::Neutral,
            "",
        );
        conditions(&mut c, &nm, &p.id, before, p);
        let shown = |b: &BTreeMap<String, String>| {
            Some(match b.get(id) {
                Some(reach) => format!("yes ({reach})"),
                None => "no".to_string(),
            })
        };
        let (was, is) = (b0.contains_key(id), b1.contains_key(id));
        if was != is {
            c.field(
                &nm,
                &p.id,
                "blocksEnrollment",
                shown(&b0),
                shown(&b1),
                judged(is, was),
                (
                    BLOCKS,
                    "the policy no longer stops enrollment (as TEN009 reads it: no block, no \
                     compliant device on the enrollment apps, or it no longer reaches them)",
                ),
            );
        }
    }
}

/// CA targets and conditions: neutral (readiness shows whom they reach).
fn conditions(
    c: &mut Changes<'_>,
    name: &str,
    id: &str,
    a: &ConditionalAccessPolicy,
    b: &ConditionalAccessPolicy,
) {
    let (ua, ub) = (&a.conditions.users, &b.conditions.users);
    let (aa, ab) = (&a.conditions.applications, &b.conditions.applications);
    let l = |v: &[String]| Some(list(v.iter().cloned()));
    for (field, x, y) in [
        (
            "conditions.users.includeUsers",
            &ua.include_users,
            &ub.include_users,
        ),
        (
            "conditions.users.excludeUsers",
            &ua.exclude_users,
            &ub.exclude_users,
        ),
        (
            "conditions.users.includeGroups",
            &ua.include_groups,
            &ub.include_groups,
        ),
        (
            "conditions.users.excludeGroups",
            &ua.exclude_groups,
            &ub.exclude_groups,
        ),
        (
            "conditions.users.includeRoles",
            &ua.include_roles,
            &ub.include_roles,
        ),
        (
            "conditions.users.excludeRoles",
            &ua.exclude_roles,
            &ub.exclude_roles,
        ),
        (
            "conditions.applications.includeApplications",
            &aa.include_applications,
            &ab.include_applications,
        ),
        (
            "conditions.applications.excludeApplications",
            &aa.exclude_applications,
            &ab.exclude_applications,
        ),
        (
            "conditions.applications.includeUserActions",
            &aa.include_user_actions,
            &ab.include_user_actions,
        ),
        (
            "conditions.clientAppTypes",
            &a.conditions.client_app_types,
            &b.conditions.client_app_types,
        ),
    ] {
        c.field(name, id, field, l(x), l(y), Impact::Neutral, "");
    }
    let platforms = |p: &ConditionalAccessPolicy| {
        p.conditions.platforms.as_ref().map(|pl| {
            format!(
                "include {}; exclude {}",
                list(pl.include_platforms.iter().cloned()),
                list(pl.exclude_platforms.iter().cloned())
            )
        })
    };
    c.field(
        name,
        id,
        "conditions.platforms",
        platforms(a),
        platforms(b),
        Impact::Neutral,
        "",
    );
    let locations = |p: &ConditionalAccessPolicy| {
        p.conditions.locations.as_ref().map(|l| {
            format!(
                "include {}; exclude {}",
                list(l.include_locations.iter().cloned()),
                list(l.exclude_locations.iter().cloned())
            )
        })
    };
    c.field(
        name,
        id,
        "conditions.locations",
        locations(a),
        locations(b),
        Impact::Neutral,
        "",
    );
    let filter = |p: &ConditionalAccessPolicy| {
        p.conditions
            .devices
            .as_ref()
            .and_then(|d| d.device_filter.as_ref())
            .map(|f| {
                format!(
                    "{} {}",
                    f.mode.as_deref().unwrap_or("include"),
                    f.rule.as_deref().unwrap_or("")
                )
            })
    };
    c.field(
        name,
        id,
        "conditions.devices.deviceFilter",
        filter(a),
        filter(b),
        Impact::Neutral,
        "",
    );
}

fn target_set(
    snaps: (&TenantSnapshot, &TenantSnapshot),
    targets: impl Iterator<Item = crate::tenant::snapshot::AssignmentTarget>,
) -> BTreeSet<String> {
    targets
        .map(|t| match t.kind() {
            TargetKind::Group(g) => format!("group {}", group_name(snaps, &g)),
            TargetKind::ExcludedGroup(g) => format!("excluded group {}", group_name(snaps, &g)),
            TargetKind::AllUsers => "all users".to_string(),
            TargetKind::AllDevices => "all devices".to_string(),
            TargetKind::Other(o) => o,
        })
        .collect()
}

fn profiles(
    snaps: (&TenantSnapshot, &TenantSnapshot),
    old: &[AutopilotProfile],
    new: &[AutopilotProfile],
    out: &mut Vec<Change>,
) {
    let mut c = Changes {
        out,
        area: ChangeArea::AutopilotProfile,
    };
    let (o, n) = (by_id(old, |p| p.id.clone()), by_id(new, |p| p.id.clone()));
    for (id, p) in &o {
        if !n.contains_key(id) {
            c.removed(
                p.name(),
                &p.id,
                judged(!p.assignments.is_empty(), false),
                "an assigned Autopilot profile is gone: the devices it reached get no profile",
            );
        }
    }
    for (id, p) in &n {
        let Some(before) = o.get(id) else {
            c.added(p.name(), &p.id, Impact::Neutral, "");
            continue;
        };
        let name = p.name();
        let join = |p: &AutopilotProfile| {
            Some(
                match p.join() {
                    crate::tenant::autopilot::ProfileJoin::EntraJoin => "Entra join",
                    crate::tenant::autopilot::ProfileJoin::HybridJoin => "hybrid join",
                    crate::tenant::autopilot::ProfileJoin::Unknown => "unknown",
                }
                .to_string(),
            )
        };
        c.field(
            name,
            &p.id,
            "@odata.type",
            join(before),
            join(p),
            Impact::Neutral,
            "",
        );
        c.field(
            name,
            &p.id,
            "outOfBoxExperienceSetting.deviceUsageType",
            before.device_usage_type().map(str::to_string),
            p.device_usage_type().map(str::to_string),
            Impact::Neutral,
            "",
        );
        c.field(
            name,
            &p.id,
            "preprovisioningAllowed",
            opt_bool(before.preprovisioning_allowed),
            opt_bool(p.preprovisioning_allowed),
            Impact::Neutral,
            "",
        );
        c.field(
            name,
            &p.id,
            "hardwareHashExtractionEnabled",
            opt_bool(before.hardware_hash_extraction_enabled),
            opt_bool(p.hardware_hash_extraction_enabled),
            Impact::Neutral,
            "",
        );
        c.field(
            name,
            &p.id,
            "deviceNameTemplate",
            before.device_name_template.clone(),
            p.device_name_template.clone(),
            Impact::Neutral,
            "",
        );
        let t = |x: &AutopilotProfile| {
            target_set(snaps, x.assignments.iter().map(|a| a.target.clone()))
        };
        let (t0, t1) = (t(before), t(p));
        for gone in t0.difference(&t1) {
            c.field(
                name,
                &p.id,
                "assignments",
                Some(gone.clone()),
                None,
                judged(!gone.starts_with("excluded"), false),
                "the profile reaches fewer devices: those it no longer reaches get no profile",
            );
        }
        for added in t1.difference(&t0) {
            c.field(
                name,
                &p.id,
                "assignments",
                None,
                Some(added.clone()),
                Impact::Neutral,
                "",
            );
        }
    }
}

fn status_pages(
    snaps: (&TenantSnapshot, &TenantSnapshot),
    old: &[EnrollmentStatusPage],
    new: &[EnrollmentStatusPage],
    out: &mut Vec<Change>,
) {
    let mut c = Changes {
        out,
        area: ChangeArea::EnrollmentStatusPage,
    };
    let (o, n) = (by_id(old, |p| p.id.clone()), by_id(new, |p| p.id.clone()));
    let name = |p: &EnrollmentStatusPage| p.display_name.clone().unwrap_or_else(|| p.id.clone());
    for (id, p) in &o {
        if !n.contains_key(id) {
            c.removed(&name(p), &p.id, Impact::Neutral, "");
        }
    }
    for (id, p) in &n {
        let Some(b) = o.get(id) else {
            c.added(&name(p), &p.id, Impact::Neutral, "");
            continue;
        };
        let nm = name(p);
        let n64 = |v: Option<i64>| v.map(|v| v.to_string());
        for (field, x, y) in [
            (
                "priority",
                Some(b.priority.to_string()),
                Some(p.priority.to_string()),
            ),
            (
                "showInstallationProgress",
                opt_bool(b.show_installation_progress),
                opt_bool(p.show_installation_progress),
            ),
            (
                "installProgressTimeoutInMinutes",
                n64(b.install_progress_timeout_in_minutes),
                n64(p.install_progress_timeout_in_minutes),
            ),
            (
                "blockDeviceSetupRetryByUser",
                opt_bool(b.block_device_setup_retry_by_user),
                opt_bool(p.block_device_setup_retry_by_user),
            ),
            (
                "allowDeviceUseOnInstallFailure",
                opt_bool(b.allow_device_use_on_install_failure),
                opt_bool(p.allow_device_use_on_install_failure),
            ),
            (
                "selectedMobileAppIds",
                Some(list(b.selected_mobile_app_ids.iter().cloned())),
                Some(list(p.selected_mobile_app_ids.iter().cloned())),
            ),
            (
                "trackInstallProgressForAutopilotOnly",
                opt_bool(b.track_install_progress_for_autopilot_only),
                opt_bool(p.track_install_progress_for_autopilot_only),
            ),
        ] {
            c.field(&nm, &p.id, field, x, y, Impact::Neutral, "");
        }
        let t = |x: &EnrollmentStatusPage| {
            target_set(snaps, x.assignments.iter().map(|a| a.target.clone()))
        };
        let (t0, t1) = (t(b), t(p));
        for gone in t0.difference(&t1) {
            c.field(
                &nm,
                &p.id,
                "assignments",
                Some(gone.clone()),
                None,
                Impact::Neutral,
                "",
            );
        }
        for added in t1.difference(&t0) {
            c.field(
                &nm,
                &p.id,
                "assignments",
                None,
                Some(added.clone()),
                Impact::Neutral,
                "",
            );
        }
    }
}

/// How many examples a counted change names.
const EXAMPLES: usize = 3;

/// Identities as counts: `5 → 7`, with up to three added and removed examples.
fn counted(out: &mut Vec<Change>, what: &str, old: BTreeSet<String>, new: BTreeSet<String>) {
    if old == new {
        return;
    }
    let gone: Vec<String> = old.difference(&new).cloned().collect();
    let came: Vec<String> = new.difference(&old).cloned().collect();
    let ex = |v: &[String]| {
        let mut s = v
            .iter()
            .take(EXAMPLES)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if v.len() > EXAMPLES {
            s.push_str(", …");
        }
        s
    };
    let mut detail = Vec::new();
    if !came.is_empty() {
        detail.push(format!("{} added ({})", came.len(), ex(&came)));
    }
    if !gone.is_empty() {
        detail.push(format!("{} removed ({})", gone.len(), ex(&gone)));
    }
    let mut c = Changes {
        out,
        area: ChangeArea::AutopilotDevices,
    };
    c.field(
        what,
        "",
        &detail.join("; "),
        Some(old.len().to_string()),
        Some(new.len().to_string()),
        Impact::Neutral,
        "",
    );
}
