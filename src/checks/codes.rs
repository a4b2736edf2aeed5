//! Which checks explain a failure code, typed by their metadata: the one place that ties
//! codes to checks. The catalog ([`crate::catalog::error_codes`]) keeps the facts of a code
//! (meaning, remediation, likely cause); this module says which checks speak to it, in two
//! views of the same knowledge:
//! - [`related_checks`]: the checks whose findings explain or confirm a code. `explain CODE`
//!   lists them, and the device diagnosis puts failing tenant findings of these checks first.
//! - [`causes_for_code`] and [`TenantCause::checks`]: the tenant-side causes that can produce
//!   a code, in the order to consider them, each with the checks whose findings confirm it
//!   (fail) or rule it out (pass); correlation judges them on the device's enrollment path.
//!
//! A new code goes into the catalog and into the `RELATED` table here (a test keeps both in
//! step); a new check that explains codes goes into the lists below.

use crate::catalog::error_codes::{LikelyCause, lookup};
// The correlation family imports this module: its checks are named by their own files, not
// through the family module (which would make a cycle).
use crate::checks::autopilot::ap003_profile_mode_unsupported_by_device::META as AP003;
use crate::checks::autopilot::ap004_blocked_for_reuse::META as AP004;
use crate::checks::autopilot::ap006_corporate_identifier_makes_personal::META as AP006;
use crate::checks::autopilot::ap007_edition_cannot_use_autopilot::META as AP007;
use crate::checks::correlate::cor001_device_in_other_tenant::META as COR001;
use crate::checks::correlate::cor002_entra_device_record_missing::META as COR002;
use crate::checks::correlate::cor003_entra_device_record_unhealthy::META as COR003;
use crate::checks::correlate::cor004_intune_record_mismatch::META as COR004;
use crate::checks::correlate::cor005_enrolling_user_not_ready::META as COR005;
use crate::checks::correlate::cor006_restriction_blocks_device_build::META as COR006;
use crate::checks::correlate::cor007_intune_reports_enrollment_failure::META as COR007;
use crate::checks::device::{
    DEV001, DEV002, DEV003, DEV004, DEV005, DEV007, DEV009, DEV012, DEV013,
};
use crate::checks::tenant::{TEN001, TEN002, TEN003, TEN004, TEN005, TEN007, TEN008, TEN009};
use crate::checks::user::{USR001, USR002, USR003, USR005, USR006, USR008, USR009, USR010};
use crate::model::{CheckMeta, EnrollmentPath};

/// The checks whose findings explain or confirm `code`, most specific first; empty for a code
/// the catalog does not know.
pub fn related_checks(code: u32) -> &'static [&'static CheckMeta] {
    [RELATED, super::codes_autopilot::RELATED]
        .into_iter()
        .find_map(|t| {
            t.binary_search_by_key(&code, |(c, _)| *c)
                .ok()
                .map(|i| t[i].1)
        })
        .unwrap_or(&[])
}

/// Every check that speaks to `code`: its [`related_checks`], then the checks that decide the
/// tenant causes correlation considers for it ([`causes_for_code`]), without repeats. `explain
/// CODE` and the device ranking use this, so what a reader is shown and what correlation judges
/// cannot disagree.
pub fn explaining_checks(code: u32) -> Vec<&'static CheckMeta> {
    let mut out: Vec<&'static CheckMeta> = related_checks(code).to_vec();
    for cause in causes_for_code(code) {
        let c = cause.checks();
        for check in c.specific.iter().chain(c.fallback).chain(c.general) {
            if !out.iter().any(|o| o.id == check.id) {
                out.push(check);
            }
        }
    }
    out
}

// Check sets shared by several codes.
const C_PLATFORM: &[&CheckMeta] = &[&USR005, &TEN007, &COR006, &DEV007];
const C_DEVICE_LIMIT: &[&CheckMeta] = &[&USR006, &DEV007];
const C_LICENSE: &[&CheckMeta] = &[&USR002, &TEN002, &COR005, &DEV007];
const C_SCOPE: &[&CheckMeta] = &[&TEN003, &USR003, &TEN004, &TEN005, &DEV003, &DEV007];
const C_STALE: &[&CheckMeta] = &[&DEV009, &DEV007];
const C_AUTH: &[&CheckMeta] = &[&DEV002, &USR001, &COR001, &DEV007];
const C_CA: &[&CheckMeta] = &[&TEN009, &DEV007, &COR007];
const C_JOIN: &[&CheckMeta] = &[&TEN008, &COR003, &DEV001];
const C_DEVICE: &[&CheckMeta] = &[&DEV007, &COR007];
// The device's network path (DEV012) comes before the failed attempt; a refused certificate
// can also be the device's clock (DEV013: a certificate not yet or no longer valid).
const C_NETWORK: &[&CheckMeta] = &[&DEV012, &DEV007];
const C_TLS: &[&CheckMeta] = &[&DEV012, &DEV013, &DEV007];
const C_PRT_TLS: &[&CheckMeta] = &[&DEV012, &DEV013, &DEV002, &DEV007];
// A PRT request that did not reach Entra ID: the network path, then the missing PRT.
const C_PRT_NETWORK: &[&CheckMeta] = &[&DEV012, &DEV002, &DEV007];
const C_PRT: &[&CheckMeta] = &[&DEV002, &USR001, &DEV007];

/// Every catalogued code with its related checks, sorted by code like the catalog (binary
/// search relies on it; a unit test checks both).
static RELATED: &[(u32, &[&CheckMeta])] = &[
    (0x0018_0011, C_DEVICE),
    (0x8000_FFFF, &[&TEN003, &TEN004, &TEN005, &DEV003, &DEV007]),
    (0x8007_0032, &[&DEV004, &DEV007]),
    (0x8007_0490, C_DEVICE),
    (0x8007_05B4, &[&AP003, &DEV004, &DEV007]),
    (0x8007_064C, C_STALE),
    (0x8007_065D, C_DEVICE),
    (0x8007_06D9, C_DEVICE),
    (0x8007_0774, &[&AP003, &DEV001, &DEV007]),
    (0x8007_2EE2, C_NETWORK),
    (0x8007_2EE7, C_NETWORK),
    (0x8007_2EFD, C_NETWORK),
    (0x8007_2F8F, C_TLS),
    (0x8009_0016, &[&DEV001, &DEV007]),
    (0x8018_0001, C_DEVICE),
    (0x8018_0002, C_AUTH),
    (0x8018_0003, &[&USR005, &USR006, &TEN007, &COR006, &DEV007]),
    (0x8018_0004, C_DEVICE),
    (0x8018_0005, C_DEVICE),
    (0x8018_0006, C_DEVICE),
    (0x8018_0007, C_AUTH),
    (0x8018_0008, C_DEVICE),
    (0x8018_0009, C_DEVICE),
    (0x8018_000A, C_STALE),
    (0x8018_000B, C_STALE),
    (0x8018_000D, C_DEVICE),
    (0x8018_000E, C_AUTH),
    (0x8018_000F, &[&TEN009, &DEV002, &DEV007]),
    (0x8018_0010, C_DEVICE),
    (0x8018_0012, C_DEVICE),
    (0x8018_0013, C_DEVICE_LIMIT),
    (
        0x8018_0014,
        &[&USR005, &AP006, &AP004, &TEN007, &COR006, &DEV007],
    ),
    (0x8018_0015, C_PLATFORM),
    (0x8018_0016, C_DEVICE),
    (0x8018_0017, C_DEVICE),
    (0x8018_0018, C_LICENSE),
    (0x8018_0019, &[&TEN001, &TEN004, &DEV003, &DEV007]),
    (0x8018_001A, &[&TEN004, &DEV003, &DEV007]),
    (0x8018_001B, C_STALE),
    (0x8018_001C, &[&DEV004, &DEV007]),
    (0x8018_001D, C_DEVICE),
    (0x8018_001E, C_DEVICE),
    (0x8018_001F, C_DEVICE),
    (0x8018_0020, C_DEVICE),
    (0x8018_0021, C_DEVICE),
    (0x8018_0022, &[&AP007, &DEV004, &DEV007]),
    (0x8018_0023, C_DEVICE),
    (0x8018_0024, C_DEVICE),
    (0x8018_0025, C_DEVICE),
    (0x8018_0026, &[&DEV005, &DEV007]),
    (0x8018_0027, C_DEVICE),
    (0x8018_0028, &[&DEV001, &COR003, &DEV007]),
    (0x8018_0029, C_DEVICE),
    (0x8018_002A, C_CA),
    (
        0x8018_002B,
        &[
            &USR008, &TEN003, &USR003, &TEN005, &COR001, &DEV002, &DEV007,
        ],
    ),
    (0x8018_0030, C_CA),
    (0x8018_0031, C_SCOPE),
    (0x8018_0032, &[&DEV007, &COR007]),
    (0x8018_0033, C_DEVICE),
    (0x8019_0001, C_DEVICE),
    (0x8019_0002, C_AUTH),
    (0x8019_0003, C_PLATFORM),
    (0x8019_0004, C_DEVICE),
    (0x8019_0005, C_DEVICE),
    (0x8019_0006, C_DEVICE),
    (0x8019_0007, C_AUTH),
    (0x8019_0008, C_DEVICE),
    (0x8019_0009, C_DEVICE),
    (0x8019_000A, C_STALE),
    (0x8019_000B, C_DEVICE),
    (0x8019_000C, C_DEVICE),
    (0x8019_000D, C_JOIN),
    (0x8019_000E, C_DEVICE),
    (0x8019_0190, &[&DEV009, &TEN004, &DEV007]),
    (0x8019_0191, C_AUTH),
    (0x8019_0193, &[&USR002, &USR003, &USR005, &DEV007]),
    (0x8019_0194, &[&TEN004, &DEV003, &DEV007]),
    (0x8019_01AD, C_DEVICE),
    (0x8019_01F4, C_DEVICE),
    (0x8019_2EE2, C_NETWORK),
    (0x8019_2EE7, C_NETWORK),
    (0x801C_0001, C_JOIN),
    (0x801C_0002, C_JOIN),
    (0x801C_0003, &[&TEN008, &COR003, &DEV007]),
    (0x801C_0006, C_JOIN),
    (0x801C_000B, C_JOIN),
    (0x801C_000C, C_JOIN),
    (0x801C_000E, &[&TEN008, &DEV007]),
    (0x801C_000F, C_JOIN),
    (0x801C_0010, C_JOIN),
    (0x801C_0011, C_JOIN),
    (0x801C_0012, C_JOIN),
    (0x801C_0013, &[&DEV001, &COR001, &DEV007]),
    (0x801C_0014, C_JOIN),
    (0x801C_001D, &[&DEV001, &DEV007]),
    (0x801C_03EA, &[&AP003, &TEN008, &COR003, &DEV001]),
    (0x801C_03F2, &[&DEV001, &COR002, &COR003, &DEV007]),
    (0x80CF_4017, C_DEVICE),
    (0x82AA_0008, C_DEVICE),
    (0xC000_005F, &[&USR008, &DEV002, &DEV007]),
    (0xC000_006A, C_AUTH),
    (0xC000_006D, C_AUTH),
    (0xC000_0071, C_AUTH),
    (0xC000_0072, C_AUTH),
    (0xC000_00BE, C_PRT_NETWORK),
    (0xC000_00C4, C_PRT_NETWORK),
    (0xC000_00D0, C_AUTH),
    (0xC000_0234, C_AUTH),
    (0xC000_023C, C_PRT_NETWORK),
    (0xC004_8442, C_PRT_NETWORK),
    (0xC004_844C, &[&USR008, &DEV002, &DEV007]),
    (0xC004_84C1, C_AUTH),
    (0xCAA1_0001, C_AUTH),
    (0xCAA2_0003, C_AUTH),
    (0xCAA2_0004, C_AUTH),
    (0xCAA2_0005, C_PRT),
    (0xCAA2_0009, C_PRT),
    (0xCAA2_000C, C_CA),
    (0xCAA5_001C, C_PRT),
    (0xCAA7_0003, C_PRT_NETWORK),
    (0xCAA7_0004, C_PRT_NETWORK),
    (0xCAA7_000A, C_PRT_NETWORK),
    (0xCAA7_0010, C_PRT_TLS),
    (0xCAA8_2EE2, C_PRT_NETWORK),
    (0xCAA8_2EE7, C_PRT_NETWORK),
    (0xCAA8_2EFD, C_PRT_NETWORK),
    (0xCAA8_2EFE, C_PRT_NETWORK),
    (0xCAA8_2F0D, C_PRT_TLS),
    (0xCAA8_2F8F, C_PRT_TLS),
    (0xCAA9_0014, C_AUTH),
    (0xCAA9_001F, C_AUTH),
    (0xCAA9_004D, &[&USR008, &DEV002, &DEV007]),
];

/// A tenant-side reason a device's enrollment can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TenantCause {
    /// The winning platform restriction blocks Windows (MDM) or personal Windows devices.
    PlatformRestriction,
    /// The winning restriction's OS version range excludes the device's build.
    OsVersionRange,
    /// The user reached the Intune device limit.
    DeviceLimit,
    /// No usable Intune licence (user) or subscription (tenant).
    License,
    /// MDM user scope None or leaving the user out.
    MdmScope,
    /// The user's UPN suffix is not a verified, routable domain.
    UpnSuffix,
    /// The device is joined to another tenant (stale TenantInfo).
    OtherTenant,
    /// MFA / Conditional Access on the enrollment apps.
    ConditionalAccess,
    /// Entra does not let the user join devices.
    JoinNotAllowed,
    /// The user reached Entra's per-user device quota ("Maximum number of devices per user",
    /// `deviceRegistrationPolicy.userDeviceQuota`): Entra-joined and registered devices count,
    /// hybrid-joined ones do not. Not the Intune device limit.
    EntraDeviceQuota,
    /// An enrollment already exists (stale keys, another user, a leftover Intune record).
    AlreadyEnrolled,
    /// The user account is missing or disabled.
    UserAccount,
}

impl TenantCause {
    pub fn label(self) -> &'static str {
        match self {
            TenantCause::PlatformRestriction => "platform restriction",
            TenantCause::OsVersionRange => "restriction OS version range",
            TenantCause::DeviceLimit => "device limit",
            TenantCause::License => "Intune license",
            TenantCause::MdmScope => "MDM user scope",
            TenantCause::UpnSuffix => "UPN suffix",
            TenantCause::OtherTenant => "device joined to another tenant",
            TenantCause::ConditionalAccess => "MFA / Conditional Access on the enrollment apps",
            TenantCause::JoinNotAllowed => "users may not join devices",
            TenantCause::EntraDeviceQuota => "Entra per-user device quota",
            TenantCause::AlreadyEnrolled => "existing enrollment",
            TenantCause::UserAccount => "user account",
        }
    }

    /// The checks whose findings confirm or rule out this cause.
    pub fn checks(self) -> CauseChecks {
        let c = |specific: &'static [&'static CheckMeta],
                 fallback: &'static [&'static CheckMeta],
                 general: &'static [&'static CheckMeta]| CauseChecks {
            specific,
            fallback,
            general,
        };
        match self {
            // The default restriction is what userless enrollments get: TEN007 stands in for
            // USR005 only when no user is known.
            TenantCause::PlatformRestriction => c(&[&USR005], &[&TEN007], &[]),
            TenantCause::OsVersionRange => c(&[&COR006], &[], &[]),
            TenantCause::DeviceLimit => c(&[&USR006], &[], &[]),
            TenantCause::License => c(&[&USR002], &[], &[&TEN002]),
            TenantCause::MdmScope => c(&[&USR003], &[], &[&TEN003, &TEN005]),
            TenantCause::UpnSuffix => c(&[&USR008], &[], &[]),
            TenantCause::OtherTenant => c(&[&COR001], &[], &[]),
            // The user's own evaluation when there is a user; the tenant-wide one otherwise.
            TenantCause::ConditionalAccess => c(&[&USR009], &[&TEN009], &[]),
            TenantCause::JoinNotAllowed => c(&[&TEN008], &[], &[]),
            // The user's own count (USR010) decides; TEN008 fails on a quota so small users hit
            // it, but its pass says nothing of one user's count: only a general condition.
            TenantCause::EntraDeviceQuota => c(&[&USR010], &[], &[&TEN008]),
            // Stale keys are a device fact; a leftover Intune record is the tenant side of it.
            TenantCause::AlreadyEnrolled => c(&[&DEV009], &[], &[&COR004]),
            TenantCause::UserAccount => c(&[&USR001], &[], &[]),
        }
    }

    /// `Err(reason)` when this cause cannot produce a failure on `path`.
    pub fn applies_on(self, path: EnrollmentPath) -> Result<(), &'static str> {
        match (self, path) {
            (
                TenantCause::DeviceLimit,
                EnrollmentPath::GpoHybrid
                | EnrollmentPath::CoManagement
                | EnrollmentPath::EntraJoin,
            ) => Err(
                "Intune device limits are not enforced for GPO, co-management, Entra join, bulk or Autopilot enrollments",
            ),
            (
                TenantCause::JoinNotAllowed,
                EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement,
            ) => Err(
                "\"users may join devices\" and the per-user device quota do not apply to hybrid join",
            ),
            // 0x801C0003 is the Entra join refusing the user; adding a work account is governed by
            // "users may register devices", which Intune enrollment requires to be All.
            (
                TenantCause::EntraDeviceQuota,
                EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement,
            ) => Err("hybrid-joined devices do not count against the Entra per-user device quota"),
            (TenantCause::JoinNotAllowed, EnrollmentPath::EntraRegistered) => Err(
                "\"users may join devices\" governs Entra join only, not registering a work account",
            ),
            _ => Ok(()),
        }
    }
}

/// Which findings decide a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CauseChecks {
    /// Decide the cause: fail confirms it, pass rules it out.
    pub specific: &'static [&'static CheckMeta],
    /// Used like `specific` when none of the specific findings exists (e.g. no user known).
    pub fallback: &'static [&'static CheckMeta],
    /// Tenant-wide conditions that imply the cause when they fail (scope None, no
    /// subscription); their pass proves nothing for one user.
    pub general: &'static [&'static CheckMeta],
}

/// One tenant cause considered for a code on a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub cause: TenantCause,
    /// `Err(reason)`: not applicable on this path.
    pub applies: Result<(), &'static str>,
}

/// The tenant causes that can produce `code`, in the order to consider them.
pub fn causes_for_code(code: u32) -> Vec<TenantCause> {
    use TenantCause::*;
    match code {
        0x8018_0014 | 0x8018_0015 => vec![PlatformRestriction, OsVersionRange],
        0x8018_0013 => vec![DeviceLimit, PlatformRestriction],
        0x8018_0003 => vec![DeviceLimit, PlatformRestriction, OsVersionRange],
        0x8018_0018 => vec![License, UserAccount],
        0x8018_002B | 0x8018_0031 => vec![MdmScope, UpnSuffix, OtherTenant],
        0x8018_002A | 0x8018_0030 => vec![ConditionalAccess],
        0x801C_0003 => vec![JoinNotAllowed],
        // DSREG_E_DEVICE_REGISTRATION_QUOTA_EXCCEEDED: Entra's quota, not the Intune limit.
        0x801C_000E => vec![EntraDeviceQuota],
        0x8018_000A => vec![AlreadyEnrolled],
        other => match lookup(other).map(|e| e.likely_cause) {
            Some(LikelyCause::PlatformRestriction) => vec![PlatformRestriction, OsVersionRange],
            Some(LikelyCause::DeviceLimit) => vec![DeviceLimit],
            Some(LikelyCause::License) => vec![License],
            Some(LikelyCause::MdmScope) => vec![MdmScope, UpnSuffix],
            Some(LikelyCause::ConditionalAccess) => vec![ConditionalAccess],
            Some(LikelyCause::AlreadyEnrolled) => vec![AlreadyEnrolled],
            Some(LikelyCause::JoinNotAllowed) => vec![JoinNotAllowed],
            Some(LikelyCause::Authentication) => vec![UserAccount, OtherTenant],
            _ => Vec::new(),
        },
    }
}

/// The candidates for `code` on `path`, each marked applicable or not.
pub fn candidates(code: u32, path: EnrollmentPath) -> Vec<Candidate> {
    causes_for_code(code)
        .into_iter()
        .map(|cause| Candidate {
            cause,
            applies: cause.applies_on(path),
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn quota_code_is_entra_quota_not_intune_limit() {
        assert_eq!(
            causes_for_code(0x801C_000E),
            vec![TenantCause::EntraDeviceQuota]
        );
        assert!(
            TenantCause::EntraDeviceQuota
                .applies_on(EnrollmentPath::GpoHybrid)
                .is_err()
        );
        assert!(
            TenantCause::EntraDeviceQuota
                .applies_on(EnrollmentPath::EntraJoin)
                .is_ok()
        );
        let checks = TenantCause::EntraDeviceQuota.checks();
        assert!(checks.specific.iter().all(|m| m.id != "USR006"));
        assert_eq!(checks.general.first().map(|m| m.id), Some("TEN008"));
    }

    use super::*;
    use crate::catalog::error_codes::{all, format_hresult};
    use EnrollmentPath::*;
    use TenantCause::*;

    fn applicable(code: u32, path: EnrollmentPath) -> Vec<TenantCause> {
        candidates(code, path)
            .into_iter()
            .filter(|c| c.applies.is_ok())
            .map(|c| c.cause)
            .collect()
    }

    #[test]
    fn platform_restriction_codes_point_at_restrictions_on_every_path() {
        for path in [GpoHybrid, EntraJoin, EntraRegistered, CoManagement, Unknown] {
            assert_eq!(
                applicable(0x8018_0014, path),
                vec![PlatformRestriction, OsVersionRange]
            );
        }
    }

    #[test]
    fn device_limit_is_not_a_cause_on_gpo_coman_or_entra_join() {
        for path in [GpoHybrid, CoManagement, EntraJoin] {
            assert_eq!(applicable(0x8018_0013, path), vec![PlatformRestriction]);
            assert_eq!(
                applicable(0x8018_0003, path),
                vec![PlatformRestriction, OsVersionRange]
            );
            let c = candidates(0x8018_0013, path);
            assert!(
                c.iter()
                    .any(|c| c.cause == DeviceLimit && c.applies.is_err())
            );
        }
        assert_eq!(
            applicable(0x8018_0013, EntraRegistered),
            vec![DeviceLimit, PlatformRestriction]
        );
        assert_eq!(
            applicable(0x8018_0003, EntraRegistered),
            vec![DeviceLimit, PlatformRestriction, OsVersionRange]
        );
    }

    #[test]
    fn license_scope_ca_and_stale_codes() {
        assert_eq!(
            applicable(0x8018_0018, GpoHybrid),
            vec![License, UserAccount]
        );
        assert_eq!(
            applicable(0x8018_002B, GpoHybrid),
            vec![MdmScope, UpnSuffix, OtherTenant]
        );
        assert_eq!(applicable(0x8018_002A, GpoHybrid), vec![ConditionalAccess]);
        assert_eq!(applicable(0x8018_000A, GpoHybrid), vec![AlreadyEnrolled]);
    }

    #[test]
    fn join_not_allowed_only_on_entra_join_paths() {
        assert_eq!(applicable(0x801C_0003, EntraJoin), vec![JoinNotAllowed]);
        assert!(applicable(0x801C_0003, EntraRegistered).is_empty());
        assert!(applicable(0x801C_0003, GpoHybrid).is_empty());
        assert!(applicable(0x801C_0003, CoManagement).is_empty());
    }

    #[test]
    fn unlisted_codes_fall_back_to_the_catalogue_category() {
        // 0x80180019 is catalogued as an MDM configuration problem.
        assert_eq!(causes_for_code(0x8018_0019), vec![MdmScope, UpnSuffix]);
        // A code the catalogue does not know maps to nothing.
        assert!(causes_for_code(0x1234_5678).is_empty());
    }

    #[test]
    fn every_catalogued_code_relates_to_checks_and_no_other_code_does() {
        let catalogued: Vec<u32> = all().iter().map(|e| e.code).collect();
        let mut related: Vec<u32> = RELATED
            .iter()
            .chain(super::super::codes_autopilot::RELATED)
            .map(|(c, _)| *c)
            .collect();
        for t in [RELATED, super::super::codes_autopilot::RELATED] {
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0), "each table sorted");
        }
        related.sort_unstable();
        assert_eq!(
            related, catalogued,
            "RELATED and the catalog list the same codes in order"
        );
        for e in all() {
            assert!(
                !related_checks(e.code).is_empty(),
                "{} relates to no check",
                e.hex()
            );
        }
        assert!(related_checks(0x1234_5678).is_empty());
    }

    #[test]
    fn related_checks_exist_in_the_registry() {
        for (code, checks) in RELATED.iter().chain(super::super::codes_autopilot::RELATED) {
            for c in *checks {
                assert!(
                    crate::checks::registry::all().contains(c),
                    "{} refers to unregistered check {}",
                    format_hresult(*code),
                    c.id
                );
            }
        }
    }

    #[test]
    fn explaining_checks_hold_every_check_correlation_judges() {
        for e in all() {
            let shown: Vec<&str> = explaining_checks(e.code).iter().map(|c| c.id).collect();
            for cause in causes_for_code(e.code) {
                let c = cause.checks();
                for check in c.specific.iter().chain(c.fallback).chain(c.general) {
                    assert!(
                        shown.contains(&check.id),
                        "{}: {} decides {} but is not shown",
                        format_hresult(e.code),
                        check.id,
                        cause.label()
                    );
                }
            }
        }
        // 0x80180018 (no licence or account): the account check is shown, not only the licence.
        let shown: Vec<&str> = explaining_checks(0x8018_0018)
            .iter()
            .map(|c| c.id)
            .collect();
        assert!(
            shown.contains(&"USR001") && shown.contains(&"USR002"),
            "{shown:?}"
        );
    }
}
