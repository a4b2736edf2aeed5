//! HRESULTs of Windows Autopilot, the Enrollment Status Page (ESP) and TPM attestation, kept
//! apart from the enrollment table in [`super::error_codes`] (which merges both into one sorted
//! catalog). Texts are written for this tool; each entry names the document its facts come from:
//!
//! - memdocs `autopilot/known-issues.md` (self-deploying error table, TPM attestation issues,
//!   0x801C03F3 on pre-provisioning)
//! - memdocs `autopilot/troubleshooting-faq.yml` (events 171/172, 807/809/815/908, 0x80180014)
//! - memdocs `autopilot/self-deploying.md` (TPM 2.0 and attestation requirement)
//! - SupportArticles-docs `support/mem/intune/device-enrollment/troubleshoot-windows-enrollment-errors.md`
//! - SupportArticles-docs `support/mem/intune/device-enrollment/understand-troubleshoot-esp.md`
//! - entra-docs `identity/devices/troubleshoot-hybrid-join-windows-current.md` (TPM, network and
//!   discovery errors of device registration)
//!
//! Codes that no Microsoft table lists but that administrators meet on the ESP (0x81036501,
//! 0x81036502) say so in their description.

use super::error_codes::{ErrorCode, LikelyCause::*, known, nosym};

/// The Autopilot, ESP and TPM codes, sorted by code (a unit test of the merged catalog checks
/// order and uniqueness).
pub(super) static CODES: &[ErrorCode] = &[
    known(
        0x8007_000D,
        "E_INVALIDDATA",
        Connectivity,
        "Device registration could not parse the service's JSON answer. The usual reason is a proxy that \
         answers HTTP 200 with its own HTML sign-in or block page instead of passing the request on.",
        "Let the SYSTEM context reach enterpriseregistration.windows.net and login.microsoftonline.com without an \
         interactive proxy: allow them unauthenticated, or make the computer account authenticate silently to the \
         proxy. (entra-docs identity/devices/troubleshoot-hybrid-join-windows-current.md)",
    ),
    known(
        0x8007_2EFE,
        "WININET_E_CONNECTION_ABORTED",
        Connectivity,
        "The connection to the service was closed abnormally (WinINet 12030); often transient.",
        "Retry from a stable network; if it repeats, look for a proxy or TLS inspection that resets the \
         connections. (entra-docs identity/devices/troubleshoot-hybrid-join-windows-current.md)",
    ),
    known(
        0x8009_0030,
        "NTE_DEVICE_NOT_READY",
        DeviceConfig,
        "The key storage device (the TPM behind the Platform Crypto Provider) is not ready for use, so the device \
         key or attestation key could not be created. Self-deploying and pre-provisioning stop at \"Securing your \
         hardware\" when this happens.",
        "Open tpm.msc (or run `tpmtool getdeviceinformation`): the TPM must be present, ready and capable of \
         attestation. Turn it on in the firmware, update the TPM firmware, clear it if it stays not ready, and \
         retry. (Windows SDK winerror.h meaning; memdocs autopilot/self-deploying.md on the TPM 2.0 requirement)",
    ),
    known(
        0x8009_0031,
        "NTE_AUTHENTICATION_IGNORED",
        DeviceConfig,
        "The TPM is locked out (anti-hammering) and refused the operation; it passes once the lockout interval is \
         over.",
        "Wait for the TPM lockout to expire, or reset the lockout from tpm.msc, then retry the join. (entra-docs \
         identity/devices/troubleshoot-hybrid-join-windows-current.md, TPM errors)",
    ),
    known(
        0x801C_001F,
        "DSREG_AUTOJOIN_DISC_WAIT_TIMEOUT",
        Connectivity,
        "Device registration discovery timed out.",
        "Let the SYSTEM context reach https://enterpriseregistration.windows.net (proxy, firewall), then retry. \
         (entra-docs identity/devices/troubleshoot-hybrid-join-windows-current.md)",
    ),
    known(
        0x801C_0021,
        "DSREG_AUTOJOIN_DISC_FAILED",
        Connectivity,
        "Device registration could not get the discovery metadata from the registration service; the sub-error \
         (dsregcmd \"DRS Discovery Test\", User Device Registration event 201) names the reason.",
        "Read the sub-error: a network code (0x80072EE2, 0x80072EFD…) points at the proxy or firewall for the SYSTEM \
         context. (entra-docs identity/devices/troubleshoot-hybrid-join-windows-current.md)",
    ),
    known(
        0x801C_0025,
        "DSREG_SERVER_BUSY",
        ServerSide,
        "The registration service answered HTTP 503: it is busy or unavailable.",
        "Retry later; the next join attempt usually succeeds. (entra-docs \
         identity/devices/troubleshoot-hybrid-join-windows-current.md)",
    ),
    known(
        0x801C_003A,
        "DSREG_DISCOVERY_TENANT_NOT_FOUND",
        DeviceConfig,
        "Discovery found no such tenant: the service connection point names a wrong tenant ID, or the tenant has no \
         active subscription.",
        "Correct the tenant ID in the service connection point (or in HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\CDJ\\AAD \
         for a targeted rollout) and check the tenant's subscriptions. (entra-docs \
         identity/devices/troubleshoot-hybrid-join-windows-current.md)",
    ),
    known(
        0x801C_003D,
        "DSREG_AUTOJOIN_USERREALM_DISCOVERY_FAILED",
        Connectivity,
        "User realm discovery failed: the device could not learn whether the domain is managed or federated.",
        "Let the SYSTEM context reach https://login.microsoftonline.com and read the sub-error for the network \
         cause. (entra-docs identity/devices/troubleshoot-hybrid-join-windows-current.md)",
    ),
    nosym(
        0x801C_03F3,
        JoinNotAllowed,
        "Pre-provisioning (or another device-token join) failed because Entra ID has no device object for this \
         Autopilot device: the object created at import was deleted. Logged in the User Device Registration Admin \
         log.",
        "Remove the device from Entra ID, Intune and Autopilot, then register it with Autopilot again so the Entra \
         device object is created anew; never delete that object by hand. (memdocs autopilot/known-issues.md)",
    ),
    known(
        0x8028_0036,
        "TPM_E_NOTFIPS",
        DeviceConfig,
        "The TPM runs in FIPS mode, which device registration does not support.",
        "Take the TPM out of FIPS mode or disable it for the join; Windows 10 1809 and later fall back to software \
         keys for hybrid join by themselves. Self-deploying and pre-provisioning need a working TPM 2.0. \
         (entra-docs identity/devices/troubleshoot-hybrid-join-windows-current.md, TPM errors)",
    ),
    known(
        0x8029_0407,
        "TPM_E_PCP_INTERNAL_ERROR",
        DeviceConfig,
        "A generic error of the TPM platform crypto provider.",
        "Update the TPM firmware and retry. For hybrid join, Windows 10 1809 and later complete the join without the \
         TPM; self-deploying and pre-provisioning cannot do without it. (entra-docs \
         identity/devices/troubleshoot-hybrid-join-windows-current.md, TPM errors)",
    ),
    nosym(
        0x8103_6501,
        MdmScope,
        "Not in Microsoft's troubleshooting tables; administrators report it on the ESP when automatic MDM \
         enrollment information could not be found for the device, typically at \"Registering your device for \
         mobile management\". The same low word as 0xC1036501, which Microsoft documents: more than one MDM \
         configuration in Entra ID.",
        "Check Entra ID > Mobility (MDM and WIP): only \"Microsoft Intune\" should carry an MDM user scope (not also \
         \"Microsoft Intune Enrollment\"), the scope must include the user, and the MDM URLs must be the Intune \
         defaults. Then reset the device and retry. (memdocs autopilot/known-issues.md, self-deploying table, for \
         the documented 0xC1036501)",
    ),
    nosym(
        0x8103_6502,
        DeviceConfig,
        "Not in Microsoft's troubleshooting tables; administrators report it on the ESP when an app (or policy) \
         the page tracks failed to install, so the page stops with an error instead of timing out.",
        "Find the app that failed: an InstallationState of 4 (Error) under \
         HKLM\\SOFTWARE\\Microsoft\\Windows\\Autopilot\\EnrollmentStatusTracking\\Device\\Setup\\Apps\\Tracking \
         (or under the user's SID), then the Intune Management Extension logs for its exit code. Fix the app's \
         install command or detection rule, or take it off the ESP's blocking list. \
         (SupportArticles-docs support/mem/intune/device-enrollment/understand-troubleshoot-esp.md)",
    ),
    known(
        0x8103_9001,
        "E_AUTOPILOT_CLIENT_TPM_MAX_ATTESTATION_RETRY_EXCEEDED",
        DeviceConfig,
        "TPM attestation failed at \"Securing your hardware\" (self-deploying mode or the pre-provisioning \
         technician flow) after the client ran out of retries. Microsoft describes it as intermittent on some \
         devices.",
        "Retry the deployment; a later attempt often passes. If it keeps failing, update the TPM firmware and check \
         that the device reaches its TPM manufacturer's attestation URLs. (memdocs autopilot/known-issues.md)",
    ),
    nosym(
        0x8103_9023,
        DeviceConfig,
        "TPM attestation failed on Windows 11 (and Windows 10) during self-deploying mode or the pre-provisioning \
         technician flow; a Windows defect fixed in May 2022.",
        "Install the May 2022 cumulative update or later (Windows 11 KB5013943, Windows 10 KB5013942) in the \
         image or through the OOBE update, then retry. (memdocs autopilot/known-issues.md)",
    ),
    nosym(
        0x8103_9024,
        DeviceConfig,
        "TPM attestation failed during self-deploying mode or pre-provisioning because the TPM has firmware with \
         known vulnerabilities.",
        "Update the TPM firmware from the PC manufacturer's site, then retry. (memdocs autopilot/known-issues.md)",
    ),
    nosym(
        0xC103_6501,
        MdmScope,
        "Self-deploying (or pre-provisioning) could not do the automatic MDM enrollment because Entra ID holds more \
         than one MDM configuration: for example both \"Microsoft Intune\" and \"Microsoft Intune Enrollment\" have \
         an MDM user scope.",
        "In Entra ID > Mobility (MDM and WIP) keep the MDM user scope on \"Microsoft Intune\" only and set \
         \"Microsoft Intune Enrollment\" to None (or remove other MDM applications), then reset the device and \
         retry. (memdocs autopilot/known-issues.md, self-deploying table)",
    ),
];

#[cfg(test)]
mod tests {
    use super::super::error_codes::{all, describe, format_hresult, lookup};
    use super::CODES;

    #[test]
    fn every_autopilot_and_esp_code_of_the_issue_is_explained() {
        for code in [
            0x8007_05B4u32,
            0x801C_03EA,
            0x8103_9001,
            0x8103_9023,
            0x8103_9024,
            0x8007_0774,
            0x8018_0022,
            0x8103_6501,
            0x8103_6502,
            0xC103_6501,
            0x8018_0014,
            0x8018_0018,
            0x801C_0003,
            0x8018_0005,
            0x8018_002A,
            0x8009_0016,
            0x8009_0030,
            0x8007_06D9,
            0x8007_0490,
            0x801C_03F3,
        ] {
            let e = lookup(code).unwrap_or_else(|| panic!("{} missing", format_hresult(code)));
            assert!(e.description.len() > 40, "{}", e.hex());
            assert!(e.remediation.len() > 40, "{}", e.hex());
        }
        assert!(
            describe(0x8103_9001).contains("E_AUTOPILOT_CLIENT_TPM_MAX_ATTESTATION_RETRY_EXCEEDED")
        );
    }

    #[test]
    fn each_entry_cites_its_source_and_is_merged_once() {
        for e in CODES {
            assert!(
                e.remediation.contains(".md") || e.remediation.contains(".yml"),
                "{} names no document",
                e.hex()
            );
            assert_eq!(
                all().iter().filter(|x| x.code == e.code).count(),
                1,
                "{}",
                e.hex()
            );
        }
        for w in CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} then {}", w[0].hex(), w[1].hex());
        }
    }
}
