//! The tenant-wide parts: the MDM authority and domains, licences and service plans, the MDM
//! and MAM user scopes, enrollment restrictions and the device registration policy.
//!
//! Watched settings (a change the other way is an improvement):
//! - the MDM authority leaves `intune`;
//! - a SKU with an Intune MDM plan is removed, leaves `Enabled`, or its Intune plan stops
//!   being `Success`;
//! - the MDM scope narrows (`all` → `selected` → `none`, or a group leaves it);
//! - the MAM scope widens (`none` → `selected` → `all`, or a group joins it): on a registered
//!   device a user in both scopes gets MAM, not MDM (memdocs
//!   intune/enrollment/windows-enroll.md, "MDM user scope and MAM user scope");
//! - a restriction blocks Windows or personal Windows devices where it did not, raises the
//!   minimum or lowers the maximum OS version, blocks a manufacturer, lowers the device limit,
//!   gains an assignment while blocking, or a blocking one moves up in priority
//!   (memdocs intune/enrollment/enrollment-restrictions-set.md: the lowest priority number
//!   that applies wins);
//! - Entra join or registration stops being allowed for all (or users / groups leave the
//!   allowed list), or the per-user device quota drops (entra-docs
//!   identity/devices/manage-device-identities.md, "Device settings").

use std::collections::{BTreeMap, BTreeSet};

use super::{ChangeArea, Changes, Impact, both, judged, list, opt_bool};
use crate::catalog::service_plans::is_intune_mdm_plan;
use crate::tenant::TenantSnapshot;
use crate::tenant::snapshot::{
    AssignmentTarget, DeviceRegistrationMembership, EnrollmentConfiguration, MembershipKind,
    MobilityPolicy, PlatformRestriction, SubscribedSku, TargetKind,
};

pub(super) fn compare(
    old: &TenantSnapshot,
    new: &TenantSnapshot,
    out: &mut Vec<super::Change>,
    not_compared: &mut Vec<String>,
) {
    let s = (&old.sources, &new.sources);
    if let Some((o, n)) = both(
        "organization",
        &s.0.organization,
        &s.1.organization,
        not_compared,
    ) {
        let mut c = Changes {
            out,
            area: ChangeArea::Organization,
        };
        let name = n.display_name.as_deref().unwrap_or(&n.id);
        let intune = |a: &Option<String>| {
            a.as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("intune"))
        };
        let (was, is) = (
            intune(&o.mobile_device_management_authority),
            intune(&n.mobile_device_management_authority),
        );
        c.field(
            name,
            &n.id,
            "mobileDeviceManagementAuthority",
            o.mobile_device_management_authority.clone(),
            n.mobile_device_management_authority.clone(),
            judged(was && !is, !was && is),
            (
                "Windows devices enroll into Intune only while the MDM authority is intune",
                "the MDM authority is intune now: Windows devices can enroll into Intune",
            ),
        );
        let domains = |org: &crate::tenant::snapshot::Organization| {
            list(org.verified_domains.iter().map(|d| d.name.to_lowercase()))
        };
        c.field(
            name,
            &n.id,
            "verifiedDomains",
            Some(domains(o)),
            Some(domains(n)),
            Impact::Neutral,
            "",
        );
    }
    if let Some((o, n)) = both(
        "subscribed_skus",
        &s.0.subscribed_skus,
        &s.1.subscribed_skus,
        not_compared,
    ) {
        licences(o, n, out);
    }
    if let Some((o, n)) = both(
        "mdm_policies",
        &s.0.mdm_policies,
        &s.1.mdm_policies,
        not_compared,
    ) {
        scopes(old, new, o, n, true, out);
    }
    if let Some((o, n)) = both(
        "mam_policies",
        &s.0.mam_policies,
        &s.1.mam_policies,
        not_compared,
    ) {
        scopes(old, new, o, n, false, out);
    }
    if let Some((o, n)) = both(
        "enrollment_configurations",
        &s.0.enrollment_configurations,
        &s.1.enrollment_configurations,
        not_compared,
    ) {
        restrictions(old, new, o, n, out);
    }
    if let Some((o, n)) = both(
        "device_registration_policy",
        &s.0.device_registration_policy,
        &s.1.device_registration_policy,
        not_compared,
    ) {
        let mut c = Changes {
            out,
            area: ChangeArea::DeviceRegistration,
        };
        let name = n
            .display_name
            .as_deref()
            .unwrap_or("Device Registration Policy");
        let join = |p: &crate::tenant::snapshot::DeviceRegistrationPolicy| {
            p.azure_ad_join
                .as_ref()
                .and_then(|j| j.allowed_to_join.clone())
        };
        let register = |p: &crate::tenant::snapshot::DeviceRegistrationPolicy| {
            p.azure_ad_registration
                .as_ref()
                .and_then(|r| r.allowed_to_register.clone())
        };
        membership(
            &mut c,
            name,
            &n.id,
            "azureADJoin.allowedToJoin",
            join(o),
            join(n),
            (old, new),
            (
                "fewer users may Entra join devices (Entra join enrolls through the MDM scope)",
                "more users may Entra join devices",
            ),
        );
        membership(
            &mut c,
            name,
            &n.id,
            "azureADRegistration.allowedToRegister",
            register(o),
            register(n),
            (old, new),
            (
                "fewer users may register devices",
                "more users may register devices",
            ),
        );
        let (q0, q1) = (o.user_device_quota, n.user_device_quota);
        c.field(
            name,
            &n.id,
            "userDeviceQuota",
            q0.map(|q| q.to_string()),
            q1.map(|q| q.to_string()),
            judged(
                matches!((q0, q1), (Some(a), Some(b)) if b < a),
                matches!((q0, q1), (Some(a), Some(b)) if b > a),
            ),
            (
                "a lower Entra device quota: users at the quota cannot join or register another device",
                "a higher Entra device quota: users at the old quota can join or register again",
            ),
        );
        c.field(
            name,
            &n.id,
            "multiFactorAuthConfiguration",
            o.multi_factor_auth_configuration.clone(),
            n.multi_factor_auth_configuration.clone(),
            Impact::Neutral,
            "",
        );
    }
}

/// A group id as a name: the name a policy gives it, else the snapshot's group table, else
/// the id.
pub(super) fn group_name(snaps: (&TenantSnapshot, &TenantSnapshot), id: &str) -> String {
    for snap in [snaps.1, snaps.0] {
        if let Some(m) = snap.sources.group_memberships.data()
            && let Some(g) = m.groups.get(&id.to_ascii_lowercase())
            && let Some(n) = &g.display_name
        {
            return n.clone();
        }
    }
    id.to_string()
}

fn licences(old: &[SubscribedSku], new: &[SubscribedSku], out: &mut Vec<super::Change>) {
    let mut c = Changes {
        out,
        area: ChangeArea::Licence,
    };
    let by_id = |l: &[SubscribedSku]| -> BTreeMap<String, SubscribedSku> {
        l.iter()
            .map(|s| (s.sku_id.to_ascii_lowercase(), s.clone()))
            .collect()
    };
    let (o, n) = (by_id(old), by_id(new));
    let name = |s: &SubscribedSku| {
        s.sku_part_number
            .clone()
            .unwrap_or_else(|| s.sku_id.clone())
    };
    let intune = |s: &SubscribedSku| {
        s.service_plans.iter().any(|p| {
            is_intune_mdm_plan(&p.service_plan_id, p.service_plan_name.as_deref()).is_some()
        })
    };
    let enabled = |s: &SubscribedSku| {
        s.capability_status
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("enabled"))
    };
    for (id, s) in &o {
        if !n.contains_key(id) {
            c.removed(
                &name(s),
                &s.sku_id,
                judged(intune(s), false),
                "the SKU carried an Intune MDM plan: users licensed only through it lose Intune",
            );
        }
    }
    for (id, s) in &n {
        let Some(before) = o.get(id) else {
            c.added(
                &name(s),
                &s.sku_id,
                judged(false, intune(s)),
                "a SKU with an Intune MDM plan",
            );
            continue;
        };
        let watched = intune(s) || intune(before);
        c.field(
            &name(s),
            &s.sku_id,
            "capabilityStatus",
            before.capability_status.clone(),
            s.capability_status.clone(),
            judged(
                watched && enabled(before) && !enabled(s),
                watched && !enabled(before) && enabled(s),
            ),
            (
                "a SKU with an Intune MDM plan is no longer Enabled (suspended, warning or locked out)",
                "a SKU with an Intune MDM plan is Enabled again",
            ),
        );
        let units = |s: &SubscribedSku| s.prepaid_units.as_ref().and_then(|u| u.enabled);
        c.field(
            &name(s),
            &s.sku_id,
            "prepaidUnits.enabled",
            units(before).map(|u| u.to_string()),
            units(s).map(|u| u.to_string()),
            Impact::Neutral,
            "",
        );
        let plans = |s: &SubscribedSku| -> BTreeMap<String, (String, Option<String>, bool)> {
            s.service_plans
                .iter()
                .map(|p| {
                    (
                        p.service_plan_id.to_ascii_lowercase(),
                        (
                            p.service_plan_name
                                .clone()
                                .unwrap_or_else(|| p.service_plan_id.clone()),
                            p.provisioning_status.clone(),
                            is_intune_mdm_plan(&p.service_plan_id, p.service_plan_name.as_deref())
                                .is_some(),
                        ),
                    )
                })
                .collect()
        };
        let (p0, p1) = (plans(before), plans(s));
        let ok = |st: &Option<String>| {
            st.as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case("success"))
        };
        for (pid, (pname, st1, is_intune)) in &p1 {
            let st0 = p0.get(pid).map(|p| p.1.clone()).unwrap_or(None);
            let present = p0.contains_key(pid);
            c.field(
                &name(s),
                &s.sku_id,
                &format!("servicePlans[{pname}].provisioningStatus"),
                if present {
                    st0.clone().or(Some("(unset)".into()))
                } else {
                    Some("(absent)".into())
                },
                st1.clone().or(Some("(unset)".into())),
                judged(
                    *is_intune && ok(&st0) && !ok(st1),
                    *is_intune && !ok(&st0) && ok(st1),
                ),
                (
                    "the Intune MDM plan of this SKU is no longer provisioned (Success)",
                    "the Intune MDM plan of this SKU is provisioned (Success) now",
                ),
            );
        }
        for (pid, (pname, st0, is_intune)) in &p0 {
            if !p1.contains_key(pid) {
                c.field(
                    &name(s),
                    &s.sku_id,
                    &format!("servicePlans[{pname}].provisioningStatus"),
                    st0.clone().or(Some("(unset)".into())),
                    Some("(absent)".into()),
                    judged(*is_intune && ok(st0), false),
                    "the Intune MDM plan left this SKU",
                );
            }
        }
    }
}

/// `none` < `selected` < `all`; unknown values are not ranked.
fn scope_rank(p: &MobilityPolicy) -> Option<u8> {
    match p
        .applies_to
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("none") => Some(0),
        Some("selected") => Some(1),
        Some("all") => Some(2),
        _ => None,
    }
}

fn scopes(
    old_snap: &TenantSnapshot,
    new_snap: &TenantSnapshot,
    old: &[MobilityPolicy],
    new: &[MobilityPolicy],
    mdm: bool,
    out: &mut Vec<super::Change>,
) {
    let mut c = Changes {
        out,
        area: if mdm {
            ChangeArea::MdmScope
        } else {
            ChangeArea::MamScope
        },
    };
    let by_id = |l: &[MobilityPolicy]| -> BTreeMap<String, MobilityPolicy> {
        l.iter()
            .map(|p| (p.id.to_ascii_lowercase(), p.clone()))
            .collect()
    };
    let (o, n) = (by_id(old), by_id(new));
    for (id, p) in &o {
        if !n.contains_key(id) {
            c.removed(
                p.name(),
                &p.id,
                judged(mdm && scope_rank(p).is_some_and(|r| r > 0), false),
                "the MDM policy that put users in scope is gone",
            );
        }
    }
    for (id, p) in &n {
        let Some(before) = o.get(id) else {
            c.added(
                p.name(),
                &p.id,
                judged(!mdm && scope_rank(p).is_some_and(|r| r > 0), false),
                "a MAM scope that reaches users: on registered devices they get MAM, not MDM",
            );
            continue;
        };
        let (r0, r1) = (scope_rank(before), scope_rank(p));
        let narrower = matches!((r0, r1), (Some(a), Some(b)) if b < a);
        let wider = matches!((r0, r1), (Some(a), Some(b)) if b > a);
        c.field(
            p.name(),
            &p.id,
            "appliesTo",
            before.applies_to.clone(),
            p.applies_to.clone(),
            if mdm { judged(narrower, wider) } else { judged(wider, narrower) },
            if mdm {
                (
                    "the MDM user scope reaches fewer users (auto-enrollment starts only inside it)",
                    "the MDM user scope reaches more users",
                )
            } else {
                (
                    "the MAM user scope reaches more users (a user in both gets MAM on a registered device)",
                    "the MAM user scope reaches fewer users",
                )
            },
        );
        let groups = |p: &MobilityPolicy| -> BTreeSet<String> {
            p.included_groups
                .iter()
                .map(|g| g.id.to_ascii_lowercase())
                .collect()
        };
        let (g0, g1) = (groups(before), groups(p));
        let named = |id: &str, pol: &MobilityPolicy| {
            pol.included_groups
                .iter()
                .find(|g| g.id.eq_ignore_ascii_case(id))
                .and_then(|g| g.display_name.clone())
                .unwrap_or_else(|| group_name((old_snap, new_snap), id))
        };
        for g in g0.difference(&g1) {
            c.field(
                p.name(),
                &p.id,
                "includedGroups",
                Some(named(g, before)),
                None,
                if mdm {
                    judged(true, false)
                } else {
                    judged(false, true)
                },
                if mdm {
                    "a group left the MDM user scope: its members no longer auto-enroll"
                } else {
                    "a group left the MAM user scope"
                },
            );
        }
        for g in g1.difference(&g0) {
            c.field(
                p.name(),
                &p.id,
                "includedGroups",
                None,
                Some(named(g, p)),
                if mdm { judged(false, true) } else { judged(true, false) },
                if mdm {
                    "a group joined the MDM user scope"
                } else {
                    "a group joined the MAM user scope: on registered devices its members get MAM, not MDM"
                },
            );
        }
        for (field, a, b) in [
            ("discoveryUrl", &before.discovery_url, &p.discovery_url),
            (
                "termsOfUseUrl",
                &before.terms_of_use_url,
                &p.terms_of_use_url,
            ),
            ("complianceUrl", &before.compliance_url, &p.compliance_url),
        ] {
            c.field(
                p.name(),
                &p.id,
                field,
                a.clone(),
                b.clone(),
                Impact::Neutral,
                "",
            );
        }
    }
}

/// Whether a restriction blocks Windows MDM enrollment (all or personal devices).
fn blocks_windows(c: &EnrollmentConfiguration) -> bool {
    c.windows().is_some_and(|w| {
        w.platform_blocked == Some(true) || w.personal_device_enrollment_blocked == Some(true)
    })
}

/// A target in words: `group Pilot`, `excluded group X`, `all users`, `all devices`, with its
/// filter (`filter include <id>`).
fn target_text(t: &AssignmentTarget, snaps: (&TenantSnapshot, &TenantSnapshot)) -> String {
    let base = match t.kind() {
        TargetKind::Group(g) => format!("group {}", group_name(snaps, &g)),
        TargetKind::ExcludedGroup(g) => format!("excluded group {}", group_name(snaps, &g)),
        TargetKind::AllUsers => "all users".to_string(),
        TargetKind::AllDevices => "all devices".to_string(),
        TargetKind::Other(o) => o,
    };
    match t.filter() {
        Some(f) => format!(
            "{base} (filter {} {})",
            if f.include { "include" } else { "exclude" },
            filter_name(snaps, &f.id)
        ),
        None => base,
    }
}

fn filter_name(snaps: (&TenantSnapshot, &TenantSnapshot), id: &str) -> String {
    for s in [snaps.1, snaps.0] {
        if let Some(f) = s
            .sources
            .assignment_filters
            .data()
            .and_then(|l| l.iter().find(|f| f.id.eq_ignore_ascii_case(id)))
            && let Some(n) = &f.display_name
        {
            return n.clone();
        }
    }
    id.to_string()
}

/// `10.0.19045` as numbers, for comparing versions.
fn version(v: &Option<String>) -> Option<Vec<u64>> {
    let v = v.as_deref()?.trim();
    if v.is_empty() {
        return None;
    }
    v.split('.').map(|p| p.trim().parse::<u64>().ok()).collect()
}

fn restrictions(
    old_snap: &TenantSnapshot,
    new_snap: &TenantSnapshot,
    old: &[EnrollmentConfiguration],
    new: &[EnrollmentConfiguration],
    out: &mut Vec<super::Change>,
) {
    let snaps = (old_snap, new_snap);
    let mut c = Changes {
        out,
        area: ChangeArea::Restriction,
    };
    let by_id = |l: &[EnrollmentConfiguration]| -> BTreeMap<String, EnrollmentConfiguration> {
        l.iter()
            .map(|p| (p.id.to_ascii_lowercase(), p.clone()))
            .collect()
    };
    let (o, n) = (by_id(old), by_id(new));
    for (id, r) in &o {
        if !n.contains_key(id) {
            c.removed(
                r.name(),
                &r.id,
                judged(false, blocks_windows(r)),
                "a restriction that blocked Windows is gone",
            );
        }
    }
    for (id, r) in &n {
        let Some(before) = o.get(id) else {
            let limit = r.limit.map(|l| format!(" (limit {l})")).unwrap_or_default();
            c.added(
                &format!("{}{limit}", r.name()),
                &r.id,
                judged(blocks_windows(r) && !r.assignments.is_empty(), false),
                "a new assigned restriction blocks Windows (or personal Windows) enrollment",
            );
            continue;
        };
        let name = r.name();
        let (p0, p1) = (before.priority, r.priority);
        c.field(
            name,
            &r.id,
            "priority",
            Some(p0.to_string()),
            Some(p1.to_string()),
            judged(blocks_windows(r) && p1 < p0, blocks_windows(r) && p1 > p0),
            (
                "a restriction that blocks Windows moved up: it now wins over the ones below it",
                "a restriction that blocks Windows moved down: the ones it passed now win over it",
            ),
        );
        c.field(
            name,
            &r.id,
            "displayName",
            before.display_name.clone(),
            r.display_name.clone(),
            Impact::Neutral,
            "",
        );
        let (l0, l1) = (before.limit, r.limit);
        c.field(
            name,
            &r.id,
            "limit",
            l0.map(|l| l.to_string()),
            l1.map(|l| l.to_string()),
            judged(
                matches!((l0, l1), (Some(a), Some(b)) if b < a),
                matches!((l0, l1), (Some(a), Some(b)) if b > a),
            ),
            (
                "a lower device limit: users at it cannot enroll another device",
                "a higher device limit: users at the old limit can enroll another device",
            ),
        );
        windows(&mut c, name, &r.id, before, r);
        let targets = |x: &EnrollmentConfiguration| -> BTreeSet<String> {
            x.assignments
                .iter()
                .map(|a| target_text(&a.target, snaps))
                .collect()
        };
        let (t0, t1) = (targets(before), targets(r));
        let blocking = blocks_windows(r);
        for t in t0.difference(&t1) {
            c.field(
                name,
                &r.id,
                "assignments",
                Some(t.clone()),
                None,
                judged(false, blocking && !t.starts_with("excluded")),
                "a restriction that blocks Windows reaches fewer users",
            );
        }
        for t in t1.difference(&t0) {
            c.field(
                name,
                &r.id,
                "assignments",
                None,
                Some(t.clone()),
                judged(blocking && !t.starts_with("excluded"), false),
                "a restriction that blocks Windows reaches more users",
            );
        }
    }
}

/// The Windows part of a platform restriction, field by field.
fn windows(
    c: &mut Changes<'_>,
    name: &str,
    id: &str,
    old: &EnrollmentConfiguration,
    new: &EnrollmentConfiguration,
) {
    let empty = PlatformRestriction::default();
    let (w0, w1) = (old.windows(), new.windows());
    if w0.is_none() && w1.is_none() {
        return;
    }
    let (a, b) = (w0.unwrap_or(&empty), w1.unwrap_or(&empty));
    let prefix = if old.windows_restriction.is_some() || new.windows_restriction.is_some() {
        "windowsRestriction"
    } else {
        "platformRestriction"
    };
    let f = |s: &str| format!("{prefix}.{s}");
    let t = |v: Option<bool>| v == Some(true);
    c.field(
        name,
        id,
        &f("platformBlocked"),
        opt_bool(a.platform_blocked),
        opt_bool(b.platform_blocked),
        judged(
            !t(a.platform_blocked) && t(b.platform_blocked),
            t(a.platform_blocked) && !t(b.platform_blocked),
        ),
        (
            "Windows (MDM) enrollment is blocked by this restriction now",
            "Windows (MDM) enrollment is no longer blocked by this restriction",
        ),
    );
    c.field(
        name,
        id,
        &f("personalDeviceEnrollmentBlocked"),
        opt_bool(a.personal_device_enrollment_blocked),
        opt_bool(b.personal_device_enrollment_blocked),
        judged(
            !t(a.personal_device_enrollment_blocked) && t(b.personal_device_enrollment_blocked),
            t(a.personal_device_enrollment_blocked) && !t(b.personal_device_enrollment_blocked),
        ),
        (
            "personally owned Windows devices are blocked now",
            "personally owned Windows devices are no longer blocked",
        ),
    );
    let (min0, min1) = (
        version(&a.os_minimum_version),
        version(&b.os_minimum_version),
    );
    c.field(
        name,
        id,
        &f("osMinimumVersion"),
        a.os_minimum_version.clone(),
        b.os_minimum_version.clone(),
        judged(
            match (&min0, &min1) {
                (None, Some(_)) => true,
                (Some(x), Some(y)) => y > x,
                _ => false,
            },
            match (&min0, &min1) {
                (Some(_), None) => true,
                (Some(x), Some(y)) => y < x,
                _ => false,
            },
        ),
        (
            "a higher minimum Windows version: older builds cannot enroll",
            "a lower (or no) minimum Windows version: older builds can enroll",
        ),
    );
    let (max0, max1) = (
        version(&a.os_maximum_version),
        version(&b.os_maximum_version),
    );
    c.field(
        name,
        id,
        &f("osMaximumVersion"),
        a.os_maximum_version.clone(),
        b.os_maximum_version.clone(),
        judged(
            match (&max0, &max1) {
                (None, Some(_)) => true,
                (Some(x), Some(y)) => y < x,
                _ => false,
            },
            match (&max0, &max1) {
                (Some(_), None) => true,
                (Some(x), Some(y)) => y > x,
                _ => false,
            },
        ),
        (
            "a lower maximum Windows version: newer builds cannot enroll",
            "a higher (or no) maximum Windows version: newer builds can enroll",
        ),
    );
    let set = |v: &[String]| -> BTreeSet<String> { v.iter().map(|m| m.to_lowercase()).collect() };
    let (m0, m1) = (set(&a.blocked_manufacturers), set(&b.blocked_manufacturers));
    c.field(
        name,
        id,
        &f("blockedManufacturers"),
        Some(list(m0.iter().cloned())),
        Some(list(m1.iter().cloned())),
        judged(!m1.is_subset(&m0), m1.is_subset(&m0) && m1 != m0),
        (
            "devices of another manufacturer are blocked now",
            "fewer manufacturers are blocked",
        ),
    );
    c.field(
        name,
        id,
        &f("blockedSkus"),
        Some(list(a.blocked_skus.iter().cloned())),
        Some(list(b.blocked_skus.iter().cloned())),
        Impact::Neutral,
        "",
    );
}

/// Entra join / registration: who may.
#[allow(clippy::too_many_arguments)]
fn membership(
    c: &mut Changes<'_>,
    name: &str,
    id: &str,
    field: &str,
    old: Option<DeviceRegistrationMembership>,
    new: Option<DeviceRegistrationMembership>,
    snaps: (&TenantSnapshot, &TenantSnapshot),
    why: (&str, &str),
) {
    let kind = |m: &Option<DeviceRegistrationMembership>| m.as_ref().map(|m| m.kind());
    let rank = |k: Option<MembershipKind>| match k {
        Some(MembershipKind::None) => Some(0),
        Some(MembershipKind::Enumerated) => Some(1),
        Some(MembershipKind::All) => Some(2),
        _ => None,
    };
    let word = |k: Option<MembershipKind>| {
        k.map(|k| match k {
            MembershipKind::All => "all",
            MembershipKind::None => "none",
            MembershipKind::Enumerated => "selected",
            MembershipKind::Unknown => "unknown",
        })
        .map(str::to_string)
    };
    let (k0, k1) = (kind(&old), kind(&new));
    let (r0, r1) = (rank(k0), rank(k1));
    c.field(
        name,
        id,
        field,
        word(k0),
        word(k1),
        judged(
            matches!((r0, r1), (Some(a), Some(b)) if b < a),
            matches!((r0, r1), (Some(a), Some(b)) if b > a),
        ),
        why,
    );
    if k0 != Some(MembershipKind::Enumerated) || k1 != Some(MembershipKind::Enumerated) {
        return;
    }
    let members = |m: &Option<DeviceRegistrationMembership>| -> BTreeSet<String> {
        m.iter()
            .flat_map(|m| {
                m.users
                    .iter()
                    .map(|u| format!("user {}", u.to_ascii_lowercase()))
                    .chain(
                        m.groups
                            .iter()
                            .map(|g| format!("group {}", group_name(snaps, g))),
                    )
            })
            .collect()
    };
    let (m0, m1) = (members(&old), members(&new));
    for gone in m0.difference(&m1) {
        c.field(
            name,
            id,
            &format!("{field}.members"),
            Some(gone.clone()),
            None,
            Impact::Regression,
            why.0,
        );
    }
    for added in m1.difference(&m0) {
        c.field(
            name,
            id,
            &format!("{field}.members"),
            None,
            Some(added.clone()),
            Impact::Improvement,
            why.1,
        );
    }
}
