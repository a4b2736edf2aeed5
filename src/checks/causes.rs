//! How failing findings become a device's cause chain, most fundamental first: the device
//! ranking ([`rank_device_causes`], device-only and under correlation) and the correlation
//! ranking ([`rank_correlation_causes`], the tenant side of one device), side by side so the
//! two orders can be read together.

use crate::catalog::error_codes::{LikelyCause, lookup};
use crate::checks::autopilot::AUTOPILOT_CAUSE_ORDER;
use crate::checks::autopilot::ap005_enrollment_status_page_blocked::META as AP005;
use crate::checks::codes::explaining_checks;
// The correlation family imports this module: its checks are named by their own files, not
// through the family module (which would make a cycle).
use crate::checks::correlate::cor001_device_in_other_tenant::META as COR001;
use crate::checks::correlate::cor002_entra_device_record_missing::META as COR002;
use crate::checks::correlate::cor003_entra_device_record_unhealthy::META as COR003;
use crate::checks::correlate::cor004_intune_record_mismatch::META as COR004;
use crate::checks::correlate::cor005_enrolling_user_not_ready::META as COR005;
use crate::checks::correlate::cor006_restriction_blocks_device_build::META as COR006;
use crate::checks::correlate::cor007_intune_reports_enrollment_failure::META as COR007;
use crate::checks::device::analysis::DeviceAnalysis;
use crate::checks::device::{
    DEV001, DEV002, DEV003, DEV005, DEV006, DEV007, DEV008, DEV009, DEV012, DEV013,
};
use crate::checks::tenant::{TEN001, TEN002, TEN003};
use crate::checks::user::{USR001, USR002, USR003, USR005, USR006, USR008, USR009, USR010};
use crate::model::{Area, CheckMeta, EnrollmentPath, Finding, Status};

// ---------------------------------------------------------------------------------------------
// Device causes

/// Device prerequisites of an enrollment, most fundamental first.
pub const PREREQUISITES: &[&CheckMeta] = &[&DEV001, &DEV002, &DEV003, &DEV005, &DEV006];

/// Device checks in cause order (most fundamental first), the order of Microsoft's "Diagnose
/// MDM enrollment" guide: prerequisites, the failed attempt, "never triggered", then stale
/// keys. DEV009 moves ahead of DEV007 when the failure code or a 7016 says "already enrolled":
/// the stale key is then the root of the failure.
pub const DEVICE_CAUSE_ORDER: &[&CheckMeta] = &[
    &DEV001, &DEV002, &DEV003, &DEV005, &DEV006, &DEV007, &DEV008, &DEV009,
];

/// Device conditions beneath every step of an enrollment: SYSTEM's network path (DEV012) and
/// the clock (DEV013). A failure blocks like a prerequisite and ranks before the device
/// symptoms it produces (no join, no PRT, event 76 with a network error); a skip (not
/// collected) does not hold back a "will enroll". DEV012 moves behind the failed attempt when
/// the attempt's code shows the service answered (a code the catalog does not class as
/// connectivity): the network then was not what stopped it.
pub const ROOT_DEVICE_CAUSES: &[&CheckMeta] = &[&DEV012, &DEV013];

/// Ranks failing findings into a cause chain: tenant causes first, then the device causes in
/// [`DEVICE_CAUSE_ORDER`]. With `sort_by_code` the tenant findings that the failure code's
/// related checks name come before the rest (stable); without it they keep the caller's
/// order (correlation orders them itself, see [`rank_correlation_causes`]).
pub fn rank_device_causes(
    analysis: &DeviceAnalysis,
    tenant_findings: &[Finding],
    sort_by_code: bool,
) -> Vec<String> {
    let failing = |f: &&Finding| f.status == Status::Fail;
    let related = analysis
        .failure_code
        .map(explaining_checks)
        .unwrap_or_default();
    let mut tenant: Vec<&Finding> = tenant_findings.iter().filter(failing).collect();
    // Stable sort: codes' related checks first, the caller's order otherwise.
    if sort_by_code {
        tenant.sort_by_key(|f| !related.iter().any(|r| f.is(r)));
    }
    let mut causes: Vec<String> = Vec::new();
    for f in tenant {
        if !causes.contains(&f.check) {
            causes.push(f.check.clone());
        }
    }
    let already_enrolled = analysis.already_enrolled_event
        || analysis
            .failure_code
            .and_then(lookup)
            .is_some_and(|e| e.likely_cause == LikelyCause::AlreadyEnrolled)
        || analysis.failure_code == Some(0x8018_000A);
    let service_answered = analysis
        .failure_code
        .and_then(lookup)
        .is_some_and(|e| e.likely_cause != LikelyCause::Connectivity);
    let mut order: Vec<&CheckMeta> = ROOT_DEVICE_CAUSES
        .iter()
        .copied()
        .filter(|c| !(service_answered && **c == DEV012))
        .collect();
    order.extend(DEVICE_CAUSE_ORDER.iter().copied());
    if service_answered {
        order.push(&DEV012);
    }
    if already_enrolled {
        order.retain(|c| **c != DEV009);
        let at = order
            .iter()
            .position(|c| **c == DEV007)
            .unwrap_or(order.len());
        order.insert(at, &DEV009);
    }
    for check in order {
        if analysis
            .get(check)
            .is_some_and(|f| f.status == Status::Fail)
        {
            causes.push(check.id.to_string());
        }
    }
    causes
}

// ---------------------------------------------------------------------------------------------
// Correlation causes

/// User checks that stop an enrollment when they fail (USR004 and USR007 only warn).
pub const BLOCKING_USER_CHECKS: &[&CheckMeta] = &[
    &USR001, &USR002, &USR003, &USR005, &USR006, &USR008, &USR009, &USR010,
];

/// Tenant checks that stop every user-driven enrollment when they fail.
pub const BLOCKING_TENANT_CHECKS: &[&CheckMeta] = &[&TEN001, &TEN002, &TEN003];

/// The findings correlation ranks for one device.
pub struct CorrelationCauses<'a> {
    /// The device's COR findings.
    pub correlation: &'a [Finding],
    /// The run's TEN findings.
    pub tenant: &'a [Finding],
    /// The enrolling user's USR findings.
    pub user: &'a [Finding],
    /// The checks the device's failure code implicates (confirmed or likely causes).
    pub implicated: &'a [&'static CheckMeta],
    pub path: EnrollmentPath,
    /// The report names an Entra DeviceId.
    pub has_device_id: bool,
    /// The enrolling user comes from a source that names the account the enrollment used.
    pub strong_user: bool,
}

/// The tenant-side causes of one device, most fundamental first: a device joined to another
/// tenant (COR001) and nothing else; otherwise its Autopilot causes
/// ([`AUTOPILOT_CAUSE_ORDER`] but the ESP), its missing (COR002) or unhealthy (COR003)
/// Entra record, the tenant and user checks its failure code implicates, the tenant checks
/// that stop every user-driven enrollment, the enrolling user's blocking checks, COR005 when
/// no user check is named, then the OS range (COR006), the Intune record (COR004) and Intune's
/// own failure records (COR007), and last the Enrollment Status Page that held it (AP005).
pub fn rank_correlation_causes(c: &CorrelationCauses) -> Vec<&'static CheckMeta> {
    let mut chosen: Vec<&'static CheckMeta> = Vec::new();
    fn push(chosen: &mut Vec<&'static CheckMeta>, check: &'static CheckMeta) {
        if !chosen.contains(&check) {
            chosen.push(check);
        }
    }
    let fails = |list: &[Finding], check: &CheckMeta| {
        list.iter().any(|f| f.is(check) && f.status == Status::Fail)
    };
    if fails(c.correlation, &COR001) {
        push(&mut chosen, &COR001);
        return chosen;
    }
    // Autopilot comes before the join and the enrollment it drives: the edition, the
    // registration, a reuse block, the profile and its mode, the MDM configuration of a userless
    // deployment and the ownership the corporate identifiers give it (AP checks fail only on
    // the Autopilot path). The Enrollment Status Page runs after enrollment: last.
    // A GPO or co-management enrollment does not go through the Autopilot profile: there its
    // Autopilot failures (a leftover profile of another tenant) stay findings, not causes.
    let autopilot_drives = !matches!(
        c.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement
    );
    if autopilot_drives {
        for check in AUTOPILOT_CAUSE_ORDER.iter().filter(|c| ***c != AP005) {
            if fails(c.correlation, check) {
                push(&mut chosen, check);
            }
        }
    }
    // A device without a DeviceId has no record because it never joined: DEV001 explains it.
    if c.has_device_id && fails(c.correlation, &COR002) {
        push(&mut chosen, &COR002);
    }
    if fails(c.correlation, &COR003) {
        push(&mut chosen, &COR003);
    }
    for check in c.implicated.iter().filter(|i| i.area != Area::Device) {
        push(&mut chosen, check);
    }
    for check in BLOCKING_TENANT_CHECKS {
        // A co-management enrollment is not stopped by TEN003 (the MDM user scope).
        let applies = **check != TEN003 || c.path != EnrollmentPath::CoManagement;
        if applies && fails(c.tenant, check) {
            push(&mut chosen, check);
        }
    }
    for check in BLOCKING_USER_CHECKS {
        // The weakest user hint only counts when the device's own failure confirms it.
        if fails(c.user, check) && (c.strong_user || c.implicated.contains(check)) {
            push(&mut chosen, check);
        }
    }
    if fails(c.correlation, &COR005) && !chosen.iter().any(|i| i.area == Area::User) {
        push(&mut chosen, &COR005);
    }
    for check in [&COR006, &COR004, &COR007] {
        if fails(c.correlation, check) {
            push(&mut chosen, check);
        }
    }
    if autopilot_drives && fails(c.correlation, &AP005) {
        push(&mut chosen, &AP005);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::registry;

    #[test]
    fn the_cause_lists_name_checks_of_their_family_in_registry_order() {
        let position = |c: &CheckMeta| registry::all().iter().position(|r| *r == c);
        for (list, area) in [
            (PREREQUISITES, Area::Device),
            (DEVICE_CAUSE_ORDER, Area::Device),
            (ROOT_DEVICE_CAUSES, Area::Device),
            (BLOCKING_USER_CHECKS, Area::User),
            (BLOCKING_TENANT_CHECKS, Area::Tenant),
        ] {
            for c in list {
                assert_eq!(c.area, area, "{}", c.id);
                assert!(position(c).is_some(), "{} is not registered", c.id);
            }
            assert!(
                list.windows(2).all(|w| position(w[0]) < position(w[1])),
                "{:?}",
                list.iter().map(|c| c.id).collect::<Vec<_>>()
            );
        }
        // Every prerequisite is a cause, ahead of the failed attempt.
        let attempt = DEVICE_CAUSE_ORDER.iter().position(|c| **c == DEV007);
        for p in PREREQUISITES {
            assert!(
                DEVICE_CAUSE_ORDER.iter().position(|c| c == p) < attempt,
                "{}",
                p.id
            );
        }
    }
}
