//! Which checks speak to the Autopilot, ESP and TPM attestation codes of
//! `catalog/autopilot_codes.rs`: the second half of [`super::codes`]'s `RELATED` table, kept in
//! its own file so the Autopilot family can grow here.
//!
//! Only registered checks may appear (a test in `codes.rs` checks every entry against the
//! registry). The Autopilot checks (`checks/autopilot`) come first where they decide the code:
//!
//! - AP001 registered with Autopilot in this tenant (0x801C03F3, events 807/908)
//! - AP002 exactly one deployment profile applies (events 809/815)
//! - AP003 profile mode vs device: TPM 2.0 attestation for self-deploying and pre-provisioning,
//!   hybrid join without "assign user" (0x800705B4, 0x801C03EA, 0x81039001/23/24, 0x8009xxxx,
//!   0x8028/0x8029 TPM codes, 0x80070774)
//! - AP004 not blocked for reuse (0x80180014 "SDM One Time Limit Check")
//! - AP005 ESP timeout and blocking apps (0x81036502, ESP time-outs)
//! - AP006 corporate identifiers make it personal + the restriction (0x80180014)
//! - AP007 the edition supports the path (0x80180022)
//! - AP008 one MDM configuration for a userless deployment (0xC1036501, 0x81036501)
//!
//! The codes that are also Windows enrollment codes (0x800705B4, 0x80070774, 0x80180014,
//! 0x80180022, 0x801C03EA) keep their rows in `codes.rs`, where the AP checks are listed too.

use crate::checks::autopilot::ap001_not_registered_with_autopilot::META as AP001;
use crate::checks::autopilot::ap003_profile_mode_unsupported_by_device::META as AP003;
use crate::checks::autopilot::ap005_enrollment_status_page_blocked::META as AP005;
use crate::checks::autopilot::ap008_mdm_configuration_for_userless_autopilot::META as AP008;
use crate::checks::correlate::cor001_device_in_other_tenant::META as COR001;
use crate::checks::correlate::cor002_entra_device_record_missing::META as COR002;
use crate::checks::correlate::cor003_entra_device_record_unhealthy::META as COR003;
use crate::checks::correlate::cor007_intune_reports_enrollment_failure::META as COR007;
use crate::checks::device::{DEV001, DEV004, DEV007};
use crate::checks::tenant::{TEN003, TEN004, TEN005};
use crate::checks::user::USR003;
use crate::model::CheckMeta;

// Device registration over the network, and the TPM that holds the device key.
const C_NET_JOIN: &[&CheckMeta] = &[&DEV001, &DEV007];
const C_TPM: &[&CheckMeta] = &[&AP003, &DEV001, &DEV007, &COR007];
const C_ATTESTATION: &[&CheckMeta] = &[&AP003, &DEV007, &COR007];
const C_MDM_CONFIG: &[&CheckMeta] = &[&AP008, &TEN005, &TEN003, &USR003, &TEN004, &DEV007];

/// The Autopilot/ESP/TPM codes with their related checks, sorted by code like
/// `catalog/autopilot_codes.rs`.
pub(super) static RELATED: &[(u32, &[&CheckMeta])] = &[
    (0x8007_000D, C_NET_JOIN),
    (0x8007_2EFE, C_NET_JOIN),
    (0x8009_0030, C_TPM),
    (0x8009_0031, C_TPM),
    (0x801C_001F, C_NET_JOIN),
    (0x801C_0021, C_NET_JOIN),
    (0x801C_0025, C_NET_JOIN),
    (0x801C_003A, &[&DEV001, &COR001, &DEV007]),
    (0x801C_003D, C_NET_JOIN),
    (0x801C_03F3, &[&AP001, &COR002, &COR003, &DEV007]),
    (0x8028_0036, C_TPM),
    (0x8029_0407, C_TPM),
    (0x8103_6501, C_MDM_CONFIG),
    (0x8103_6502, &[&AP005, &DEV007, &COR007]),
    (0x8103_9001, C_ATTESTATION),
    (0x8103_9023, &[&AP003, &DEV004, &DEV007, &COR007]),
    (0x8103_9024, C_ATTESTATION),
    (0xC103_6501, C_MDM_CONFIG),
];
