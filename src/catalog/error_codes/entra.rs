//! Codes the Entra sign-in and device registration logs carry (`Microsoft-Windows-AAD/Operational`
//! events 1098/1104/1081/1084, `User Device Registration/Admin` events 304/305/204), kept apart
//! from the enrollment codes so each table stays readable. Merged into the one sorted catalog by
//! [`super::all`].
//!
//! Sources (facts only; the texts are this tool's):
//! - MicrosoftDocs/entra-docs `docs/identity/devices/troubleshoot-primary-refresh-token.md`: the
//!   STATUS_ and AAD_CLOUDAP_E_ codes of a failed PRT request, the WinHTTP network codes, and
//!   which AAD event holds what (1081 server error, 1084 network sub-error, 1088 WS-Trust).
//! - MicrosoftDocs/entra-docs `docs/identity/devices/enterprise-state-roaming-troubleshooting.md`:
//!   event 1098 "0xCAA5001C Token broker operation failed" with 1104 / 0xC000005F.
//! - The token broker (ADAL) facilities 0xCAA1…–0xCAAA… and their messages: 0xCAA2000C "requires
//!   user interaction", 0xCAA20003 "authorization grant failed", 0xCAA7…/0xCAA8… the internet
//!   (WinINet/WinHTTP) errors with the Win32 number in the low word (0x2EE2 = 12002 timeout).
//! - WinHTTP errors as HRESULTs (facility 7) from the WinHTTP error list (winhttp.h): 12002,
//!   12007, 12029, 12175.

use super::ErrorCode;
use super::LikelyCause::*;
use super::{known, nosym};

const PRT_NETWORK: &str = "The device could not reach Entra ID for the token. Check that SYSTEM and the \
user reach login.microsoftonline.com, device.login.microsoftonline.com and enterpriseregistration.windows.net \
through the WinHTTP proxy (`netsh winhttp show proxy`), that the computer account can authenticate to that proxy, \
and that nothing inspects TLS to those hosts; DEV012 shows what the collector's probes saw. Then lock and unlock \
the device to retry.";

const TLS_BROKEN: &str = "Something between the device and Entra ID presented a certificate Windows does not \
accept, typically a proxy that breaks and inspects TLS. Exclude login.microsoftonline.com, \
device.login.microsoftonline.com, enterpriseregistration.windows.net and *.manage.microsoft.com from TLS \
inspection (Microsoft does not support inspecting them), then retry.";

const READ_INNER: &str = "Read the inner error of the same event (\"Error: 0x…\" after the operation name) and \
the AADSTS description next to it: that is the real cause. If event 1104 shows 0xC000005F, the token broker's \
files lack their permissions or owner: repair them as KB3196528 describes, or have the user sign out and sign in \
again.";

/// Sorted by code within this table; the merged catalog is sorted again.
pub(super) static CODES: &[ErrorCode] = &[
    known(
        0x8007_2EE2,
        "ERROR_WINHTTP_TIMEOUT",
        Connectivity,
        "WinHTTP error 12002 as an HRESULT: the request to the service timed out.",
        PRT_NETWORK,
    ),
    known(
        0x8007_2EE7,
        "ERROR_WINHTTP_NAME_NOT_RESOLVED",
        Connectivity,
        "WinHTTP error 12007 as an HRESULT: the service's host name did not resolve (DNS, or the proxy could \
         not resolve it).",
        PRT_NETWORK,
    ),
    known(
        0x8007_2EFD,
        "ERROR_WINHTTP_CANNOT_CONNECT",
        Connectivity,
        "WinHTTP error 12029 as an HRESULT: no connection to the server could be made (firewall, proxy or \
         routing).",
        PRT_NETWORK,
    ),
    known(
        0x8007_2F8F,
        "ERROR_WINHTTP_SECURE_FAILURE",
        Connectivity,
        "WinHTTP error 12175 as an HRESULT: the server's TLS certificate was not accepted, often the \
         certificate of an inspecting proxy.",
        TLS_BROKEN,
    ),
    known(
        0x8009_0016,
        "NTE_BAD_KEYSET",
        DeviceConfig,
        "Keyset does not exist: the device's registration key is gone (TPM cleared or reset, keys removed), \
         so the join or the device authentication cannot sign. During registration it also comes from a \
         sysprepped image of a machine that was already joined or registered.",
        "Check in tpm.msc that the TPM is ready; then leave and join again (`dsregcmd /leave` as an \
         administrator, then sign in so the device re-registers) so a new device key is created. An image \
         built from a joined or registered machine must be rebuilt from one that never was. (entra-docs \
         identity/devices/troubleshoot-hybrid-join-windows-current.md, TPM errors)",
    ),
    nosym(
        0xC000_005F,
        Authentication,
        "STATUS_NO_SUCH_LOGON_SESSION on a PRT request: user realm discovery failed, Entra ID cannot find \
         the domain of the user's UPN (for example a non-routable .local suffix).",
        "Add the UPN's domain as a verified custom domain in Entra ID, or give users a routable UPN suffix \
         (or Alternate Login ID); then sign out and in.",
    ),
    nosym(
        0xC000_00BE,
        Connectivity,
        "STATUS_BAD_NETWORK_PATH on a PRT request: a network problem to a required endpoint, or a 4xx answer \
         from Entra ID or the federation server.",
        PRT_NETWORK,
    ),
    nosym(
        0xC000_00C4,
        Connectivity,
        "STATUS_UNEXPECTED_NETWORK_ERROR on a PRT request: a network problem to a required endpoint, or a 4xx \
         answer from Entra ID or the federation server.",
        PRT_NETWORK,
    ),
    nosym(
        0xC000_00D0,
        Authentication,
        "STATUS_REQUEST_NOT_ACCEPTED on a PRT request: Entra ID or the WS-Trust endpoint answered 400 Bad \
         Request; the AADSTS code in AAD/Operational event 1081 (or 1088 for WS-Trust) says why.",
        "Read the AADSTS code of event 1081/1088 and fix what it names (device deleted or disabled: \
         AADSTS50155; unknown user: AADSTS50034; wrong password: AADSTS50126).",
    ),
    nosym(
        0xC000_023C,
        Connectivity,
        "STATUS_NETWORK_UNREACHABLE on a PRT request: the device could not reach a required endpoint.",
        PRT_NETWORK,
    ),
    nosym(
        0xC004_8442,
        Authentication,
        "AAD_CLOUDAP_E_OAUTH_USER_SID_IS_EMPTY: the ID token Entra ID returned had no user SID, usually \
         because a proxy changed the answer.",
        "Make sure no proxy interferes with or rewrites the answers of login.microsoftonline.com (exclude it \
         from TLS inspection), then lock and unlock to retry.",
    ),
    nosym(
        0xC004_844C,
        Authentication,
        "AAD_CLOUDAP_E_OAUTH_USERNAME_IS_MALFORMED: the user's UPN is not an internet-style name, so no PRT is \
         requested (on hybrid devices the UPN the domain controller returns).",
        "Give the user an RFC 822 style UPN with a routable, verified suffix (`whoami /upn` shows what the \
         domain returns), or configure Alternate Login ID; then sign out and in.",
    ),
    nosym(
        0xC004_84C1,
        Authentication,
        "AAD_CLOUDAP_E_WSTRUST_SAML_TOKENS_ARE_EMPTY: the federation server's WS-Trust endpoint returned no \
         token.",
        "Read the AADSTS code of AAD/Operational event 1088, check the federation server's WS-Trust \
         endpoints, and that no proxy rewrites their answers.",
    ),
    nosym(
        0xCAA2_0004,
        Authentication,
        "Token broker: the authorization server refused the request (access_denied).",
        "Read the AADSTS description of the same event; check the user's account, Conditional Access \
         policies and the sign-in logs for the correlation ID.",
    ),
    nosym(
        0xCAA2_0005,
        ServerSide,
        "Token broker: Entra ID could not handle the request for now (temporarily_unavailable).",
        "Usually transient: lock and unlock later. If it lasts, check Microsoft's service health.",
    ),
    nosym(
        0xCAA2_0009,
        Authentication,
        "Token broker: client authentication failed (invalid_client), for example an app or redirect URI \
         the tenant does not know (AADSTS50011, AADSTS700016).",
        "Read the AADSTS description of the same event; an app-specific failure does not stop enrollment \
         unless it names the Intune enrollment apps.",
    ),
    nosym(
        0xCAA5_001C,
        Authentication,
        "Token broker operation failed: a wrapper code of event 1098; the inner error in the same event is \
         the cause.",
        READ_INNER,
    ),
    nosym(
        0xCAA7_0003,
        Connectivity,
        "Token broker: the connection to the internet failed.",
        PRT_NETWORK,
    ),
    nosym(
        0xCAA7_000A,
        Connectivity,
        "Token broker: the internet connection timed out.",
        PRT_NETWORK,
    ),
    nosym(
        0xCAA7_0010,
        Connectivity,
        "Token broker: the server's certificate was not valid, often the certificate of an inspecting proxy.",
        TLS_BROKEN,
    ),
    nosym(
        0xCAA8_2EE2,
        Connectivity,
        "Token broker: the request timed out (WinHTTP 12002).",
        PRT_NETWORK,
    ),
    nosym(
        0xCAA8_2EE7,
        Connectivity,
        "Token broker: the server name did not resolve (WinHTTP 12007).",
        PRT_NETWORK,
    ),
    nosym(
        0xCAA8_2EFD,
        Connectivity,
        "Token broker: the connection to the server failed (WinHTTP 12029).",
        PRT_NETWORK,
    ),
    nosym(
        0xCAA8_2EFE,
        Connectivity,
        "Token broker: the connection to the server was broken off (WinHTTP 12030).",
        PRT_NETWORK,
    ),
    nosym(
        0xCAA8_2F0D,
        Connectivity,
        "Token broker: the server's certificate comes from a certification authority Windows does not know \
         (WinHTTP 12045), the mark of TLS inspection with a private CA.",
        TLS_BROKEN,
    ),
    nosym(
        0xCAA8_2F8F,
        Connectivity,
        "Token broker: the server's TLS certificate had errors (WinHTTP 12175), often an inspecting proxy.",
        TLS_BROKEN,
    ),
];
