//! The identity platform's AADSTS error codes that a sign-in of enroll-doctor meets, decoded
//! into what to do, with the exact command (and its `--auth`).
//!
//! Meanings from Microsoft Entra's error code reference (MicrosoftDocs/entra-docs,
//! docs/identity-platform/reference-error-codes.md) and the troubleshooting articles of
//! MicrosoftDocs/SupportArticles-docs (support/entra/entra-id/app-integration/…); each entry
//! names its source. Entra puts the code first in `error_description` ("AADSTS7000218: The
//! request body must contain …") and in `error_codes`; the description is what reaches
//! [`AuthError::Rejected`](super::AuthError), so the code is read from there.

/// Which kind of sign-in met the error: the same code asks for other steps in a device code
/// sign-in than in an app-only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The device code flow (`--auth device-code`).
    DeviceCode,
    /// The authorization code flow in a browser (`--auth browser`).
    Browser,
    /// A cached user sign-in being renewed with its refresh token (browser or device code).
    Refresh,
    /// Client credentials: secret, certificate, federated token (`--auth client-secret`,
    /// `certificate`, `workload-identity`).
    AppOnly,
    /// Anything else (managed identity, Azure CLI, a flow not named).
    Other,
}

impl Flow {
    /// The flow of an [`AuthError`](super::AuthError)'s `flow` label ("device code",
    /// "client credentials", "refresh token", …).
    pub fn of(label: &str) -> Flow {
        let l = label.to_ascii_lowercase();
        if l.contains("device code") {
            Flow::DeviceCode
        } else if l.contains("browser") || l.contains("authorization code") {
            Flow::Browser
        } else if l.contains("refresh") {
            Flow::Refresh
        } else if l.contains("client credentials")
            || l.contains("certificate")
            || l.contains("workload")
            || l.contains("federated")
        {
            Flow::AppOnly
        } else {
            Flow::Other
        }
    }

    /// For `explain`: who the hint is for.
    pub fn label(self) -> &'static str {
        match self {
            Flow::DeviceCode => "device code sign-in (--auth device-code)",
            Flow::Browser => "browser sign-in (--auth browser)",
            Flow::Refresh => "a cached user sign-in being renewed",
            Flow::AppOnly => {
                "app-only sign-in (--auth client-secret, certificate or workload-identity)"
            }
            Flow::Other => "any other sign-in",
        }
    }

    /// Every kind, in the order `explain` lists them.
    pub const ALL: [Flow; 5] = [
        Flow::DeviceCode,
        Flow::Browser,
        Flow::Refresh,
        Flow::AppOnly,
        Flow::Other,
    ];
}

/// One decoded code: Entra's name for it and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AadstsCode {
    pub code: u32,
    pub name: &'static str,
    pub meaning: &'static str,
}

/// Entra's reference, for `explain` and the doc comments below.
pub const REFERENCE: &str =
    "https://learn.microsoft.com/entra/identity-platform/reference-error-codes";

/// The codes decoded here, in the reference's words (shortened).
pub const CODES: &[AadstsCode] = &[
    // reference-error-codes.md: "AADSTS50020 | UserUnauthorized - … User account '{email}' from
    // identity provider '{idp}' does not exist in tenant '{tenant}'"; SupportArticles-docs
    // error-code-AADSTS50020-user-account-identity-provider-does-not-exist.md.
    AadstsCode {
        code: 50020,
        name: "UserUnauthorized",
        meaning: "the account signed in with does not exist in this tenant (another tenant's \
                  user or a personal Microsoft account)",
    },
    // reference-error-codes.md: "AADSTS50034 | UserAccountNotFound - To sign into this
    // application, the account must be added to the directory."
    AadstsCode {
        code: 50034,
        name: "UserAccountNotFound",
        meaning: "the account is not in this tenant's directory (a mistyped name, or the wrong tenant)",
    },
    // reference-error-codes.md: "AADSTS50076 | UserStrongAuthClientAuthNRequired - … the user
    // must use multifactor authentication to access the resource."
    AadstsCode {
        code: 50076,
        name: "UserStrongAuthClientAuthNRequired",
        meaning: "the user must complete multifactor authentication for this sign-in",
    },
    // reference-error-codes.md: "AADSTS50079 | UserStrongAuthEnrollmentRequired - … the user is
    // required to use multifactor authentication … needs to register security info".
    AadstsCode {
        code: 50079,
        name: "UserStrongAuthEnrollmentRequired",
        meaning: "the user must register security info for multifactor authentication first",
    },
    // reference-error-codes.md: "AADSTS50126 | InvalidUserNameOrPassword - Error validating
    // credentials due to invalid username or password."
    AadstsCode {
        code: 50126,
        name: "InvalidUserNameOrPassword",
        meaning: "the user name or password was not right",
    },
    // reference-error-codes.md: "AADSTS53003 | BlockedByConditionalAccess - Access has been
    // blocked by Conditional Access policies. The access policy does not allow token issuance."
    // entra-docs identity/conditional-access/concept-authentication-flows.md: "Microsoft
    // recommends blocking device code flow wherever possible."
    AadstsCode {
        code: 53003,
        name: "BlockedByConditionalAccess",
        meaning: "a Conditional Access policy blocks this sign-in (many tenants block the device \
                  code flow, as Microsoft recommends)",
    },
    // reference-error-codes.md: "AADSTS65001 | DelegationDoesNotExist - The user or
    // administrator hasn't consented to use the application with ID X."
    AadstsCode {
        code: 65001,
        name: "DelegationDoesNotExist",
        meaning: "nobody has consented to the app's permissions in this tenant",
    },
    // reference-error-codes.md: "AADSTS90002 | InvalidTenantName - The tenant name wasn't found
    // … Often, this is because a cross-cloud app was used against the wrong cloud".
    AadstsCode {
        code: 90002,
        name: "InvalidTenantName",
        meaning: "no such tenant in this cloud (a mistyped tenant, or a national-cloud tenant \
                  asked of another cloud)",
    },
    // reference-error-codes.md: "AADSTS500011 | InvalidResourceServicePrincipalNotFound - The
    // resource principal named {name} wasn't found in the tenant named {tenant}. … You might
    // have sent your authentication request to the wrong tenant."; SupportArticles-docs
    // error-code-aadsts500011-resource-principal-not-found.md ("The [resource URL] is not
    // correct"). For Graph, this is the other cloud's Graph URL asked of a tenant's cloud.
    AadstsCode {
        code: 500011,
        name: "InvalidResourceServicePrincipalNotFound",
        meaning: "the token was asked for a Graph this tenant does not have: another cloud's Graph",
    },
    // reference-error-codes.md: "AADSTS700016 | UnauthorizedClient_DoesNotMatchRequest - The
    // application wasn't found in the directory/tenant. … You might have misconfigured the
    // identifier value for the application or sent your authentication request to the wrong
    // tenant."
    AadstsCode {
        code: 700016,
        name: "UnauthorizedClient_DoesNotMatchRequest",
        meaning: "the app (client id) is not found in this tenant",
    },
    // reference-error-codes.md: "AADSTS700027 | Client assertion failed signature validation."
    AadstsCode {
        code: 700027,
        name: "InvalidClientAssertionSignature",
        meaning: "the certificate's signature was not accepted: the certificate is not registered \
                  on this app",
    },
    // reference-error-codes.md: "AADSTS700082 | ExpiredOrRevokedGrantInactiveToken - The refresh
    // token has expired due to inactivity."
    AadstsCode {
        code: 700082,
        name: "ExpiredOrRevokedGrantInactiveToken",
        meaning: "the cached sign-in (its refresh token) expired after a time without use",
    },
    // reference-error-codes.md: "AADSTS7000215 | Invalid client secret is provided."
    AadstsCode {
        code: 7000215,
        name: "InvalidClientSecret",
        meaning: "the client secret is not a valid secret of this app",
    },
    // reference-error-codes.md: "AADSTS7000218 | The request body must contain the following
    // parameter: 'client_assertion' or 'client_secret'."; SupportArticles-docs
    // confidential-client-application-authentication-error-aadsts7000218.md: "A confidential
    // client must provide its credentials … [for the] device authorization grant flow … allow
    // public client flows in the App registrations".
    AadstsCode {
        code: 7000218,
        name: "ConfidentialClientWithoutCredential",
        meaning: "the app is a confidential client: its token requests need a secret or \
                  certificate, so a user sign-in (device code, browser) with it is refused",
    },
    // reference-error-codes.md: "AADSTS7000222 | InvalidClientSecretExpiredKeysProvided - The
    // provided client secret keys are expired."
    AadstsCode {
        code: 7000222,
        name: "InvalidClientSecretExpiredKeysProvided",
        meaning: "the client secret has expired",
    },
];

/// The decoded code, if it is one of [`CODES`].
pub fn lookup(code: u32) -> Option<&'static AadstsCode> {
    CODES.iter().find(|c| c.code == code)
}

/// The first `AADSTS<digits>` in Entra's `error_description` (`AADSTS` is case-sensitive there;
/// read without case here, since a pasted code may be lower case).
pub fn code_in(text: &str) -> Option<u32> {
    let upper = text.to_ascii_uppercase();
    let at = upper.find("AADSTS")?;
    let digits: String = upper[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The browser flow's fix for a confidential app (AADSTS7000218).
const REDIRECT_AS_DESKTOP: &str = "register `http://localhost` as a redirect URI of the \
     *Mobile and desktop applications* platform, not *Web* (Entra admin center > App \
     registrations > the app > Authentication)";
/// The device code flow's fix for a confidential app (AADSTS7000218).
const PUBLIC_CLIENT_FLOWS: &str = "'Allow public client flows' on the app (Entra admin center \
     > App registrations > the app > Authentication > Advanced settings)";

/// An interactive sign-in again with the same method, for FLOW.
fn sign_in_for(flow: Flow) -> String {
    match flow {
        Flow::DeviceCode => {
            "`enroll-doctor auth login --auth device-code` (and run the command again with \
             `--auth device-code`)"
                .to_string()
        }
        Flow::Browser => "`enroll-doctor auth login --auth browser` (and run the command again \
             with `--auth browser`)"
            .to_string(),
        _ => "`enroll-doctor auth login --auth browser` (or `--auth device-code` where no browser \
             can be opened; run the command again with the same `--auth`)"
            .to_string(),
    }
}

/// What to do about CODE met in a sign-in of FLOW; `None` for a code not decoded here.
pub fn hint(code: u32, flow: Flow) -> Option<String> {
    let user_flow = matches!(flow, Flow::DeviceCode | Flow::Browser | Flow::Refresh);
    let text = match code {
        7000218 if flow == Flow::AppOnly => {
            "the token request carried no credential: set AZURE_CLIENT_SECRET for `--auth \
             client-secret`, or a certificate for `--auth certificate`"
                .to_string()
        }
        // The browser flow sends a redirect URI, and Entra takes the client type from the
        // platform it is registered under (Web: confidential); "Allow public client flows"
        // covers only the flows without one (SupportArticles-docs
        // confidential-client-application-authentication-error-aadsts7000218.md).
        7000218 => {
            let fix = match flow {
                Flow::Browser => REDIRECT_AS_DESKTOP.to_string(),
                Flow::Refresh => format!(
                    "{REDIRECT_AS_DESKTOP} for `--auth browser`, or enable {PUBLIC_CLIENT_FLOWS} \
                     for `--auth device-code`"
                ),
                _ => format!("enable {PUBLIC_CLIENT_FLOWS}"),
            };
            format!(
                "the app named by AZURE_CLIENT_ID (or --client-id, `client_id` in the config) is \
                 a confidential client; for a user sign-in unset AZURE_CLIENT_ID (and \
                 --client-id) to use Microsoft's public client, or {fix}; or run app-only with \
                 `--auth client-secret` (AZURE_CLIENT_SECRET)"
            )
        }
        50076 => format!(
            "sign in again interactively and complete multifactor authentication: {}",
            sign_in_for(flow)
        ),
        50079 => format!(
            "the account registers its security info first (https://aka.ms/mysecurityinfo), then \
             signs in again: {}",
            sign_in_for(flow)
        ),
        53003 if flow == Flow::DeviceCode => {
            "the tenant blocks the device code flow with Conditional Access: use `enroll-doctor \
             auth login --auth browser` and run the command again with `--auth browser` (if that \
             is blocked too, the sign-in logs name the policy: Entra admin center > Monitoring & \
             health > Sign-in logs)"
                .to_string()
        }
        53003 if flow == Flow::AppOnly => {
            "a Conditional Access policy for workload identities blocks this app: the sign-in \
             logs (Entra admin center > Monitoring & health > Sign-in logs > Service principal \
             sign-ins) name the policy; run from a location it allows"
                .to_string()
        }
        53003 => "a Conditional Access policy blocks this sign-in: the sign-in logs (Entra admin \
             center > Monitoring & health > Sign-in logs) name the policy; sign in from a device \
             or location it allows, with the browser flow if the device code flow is what it \
             blocks (`enroll-doctor auth login --auth browser`, then run the command again with \
             `--auth browser`), or run app-only (`--auth client-secret`, `--auth certificate`)"
            .to_string(),
        65001 if flow == Flow::AppOnly => "an administrator grants admin consent for the app's \
             application permissions (Entra admin center > App registrations > the app > API \
             permissions > Grant admin consent), then run the command again"
            .to_string(),
        65001 => format!(
            "an administrator grants consent to the app (Entra admin center > Enterprise \
             applications > the app > Permissions > Grant admin consent), or signs in once and \
             consents: {}",
            sign_in_for(flow)
        ),
        700016 => {
            "check the client id (--client-id or AZURE_CLIENT_ID) and the tenant (--tenant): a \
             single-tenant app is signed in to in its own tenant, a multitenant one needs an \
             administrator's consent in the other tenant first; a tenant of a national cloud \
             also needs --cloud"
                .to_string()
        }
        90002 => "check --tenant (the tenant id or a verified domain) and --cloud: a tenant of a \
             national cloud (usgov, usgov-dod, china) is not found by the global identity platform"
            .to_string(),
        7000215 => {
            "AZURE_CLIENT_SECRET is not a secret of this app: use the secret's Value (not its \
             Secret ID), or add a new secret (App registrations > the app > Certificates & \
             secrets), and run the command again with `--auth client-secret`"
                .to_string()
        }
        7000222 => {
            "add a new client secret (App registrations > the app > Certificates & secrets) \
             and set AZURE_CLIENT_SECRET, then run the command again with `--auth client-secret`; \
             or move to `--auth certificate` or `--auth workload-identity`, which do not expire \
             this way"
                .to_string()
        }
        700027 => "upload the certificate (its public part, .cer or .pem) to the app (App \
             registrations > the app > Certificates & secrets > Certificates), check that \
             --client-id names that app, and run the command again with `--auth certificate`"
            .to_string(),
        50020 | 50034 if user_flow || flow == Flow::Other => format!(
            "sign in with an account of this tenant ({}, and pick the account), check --tenant, \
             or have an administrator invite the account as a guest",
            sign_in_for(flow)
        ),
        50020 | 50034 => "check --tenant: the account is not in this tenant".to_string(),
        500011 => {
            "the token was asked for the wrong cloud's Graph: pass --cloud with the tenant's \
             national cloud (usgov, usgov-dod, china; global is the default), and run the command \
             again"
                .to_string()
        }
        50126 => format!(
            "sign in again with the right password: {}",
            sign_in_for(flow)
        ),
        700082 => format!("the cached sign-in expired: {}", sign_in_for(flow)),
        _ => return None,
    };
    Some(text)
}

/// The hint for an identity-platform error of the flow labelled FLOW whose description is
/// DESCRIPTION (for [`AuthError`](super::AuthError)'s message).
pub fn hint_for(flow: &str, description: Option<&str>) -> Option<String> {
    hint(code_in(description?)?, Flow::of(flow))
}

/// `enroll-doctor explain AADSTS53003`: the code's meaning and what to do in each kind of
/// sign-in (one line per distinct hint).
pub fn explain(code: u32, width: usize) -> Option<String> {
    let wrap = |text: &str, prefix: &str| crate::report::width::wrap_indented(text, prefix, width);
    let c = lookup(code)?;
    let mut meaning = format!("{}.", c.meaning);
    if let Some(first) = meaning.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut out = format!(
        "AADSTS{}  {}\n\n{}\nWhat to do:\n",
        c.code,
        c.name,
        wrap(&meaning, "")
    );
    let mut seen: Vec<String> = Vec::new();
    for flow in Flow::ALL {
        let Some(h) = hint(code, flow) else { continue };
        if seen.contains(&h) {
            continue;
        }
        out.push_str(&format!("  {}:\n{}", flow.label(), wrap(&h, "    ")));
        seen.push(h);
    }
    out.push('\n');
    out.push_str(&wrap(
        &format!("Source: {REFERENCE} (and https://login.microsoftonline.com/error?code={code})."),
        "",
    ));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_from_entras_description() {
        assert_eq!(
            code_in(
                "AADSTS7000218: The request body must contain the following parameter: \
                 'client_assertion' or 'client_secret'. Trace ID: 1"
            ),
            Some(7000218)
        );
        assert_eq!(code_in("aadsts53003"), Some(53003));
        assert_eq!(code_in("no code here"), None);
        assert_eq!(code_in("AADSTS: nothing"), None);
        assert_eq!(code_in("AADSTS99999999999999999999"), None);
    }

    #[test]
    fn flows_are_told_apart_by_their_labels() {
        assert_eq!(Flow::of("device code"), Flow::DeviceCode);
        assert_eq!(Flow::of("device code sign-in"), Flow::DeviceCode);
        assert_eq!(Flow::of("refresh token"), Flow::Refresh);
        assert_eq!(Flow::of("client credentials"), Flow::AppOnly);
        assert_eq!(Flow::of("browser sign-in"), Flow::Browser);
        assert_eq!(Flow::of("managed identity"), Flow::Other);
    }

    #[test]
    fn every_listed_code_has_a_hint_for_every_flow() {
        for c in CODES {
            assert!(!c.meaning.is_empty() && !c.name.is_empty(), "{}", c.code);
            for flow in Flow::ALL {
                let h = hint(c.code, flow).unwrap_or_default();
                assert!(!h.is_empty(), "AADSTS{} {flow:?}", c.code);
                // A sign-in command always names its method.
                for (i, _) in h.match_indices("auth login") {
                    assert!(h[i..].starts_with("auth login --auth "), "{}: {h}", c.code);
                }
            }
            assert!(explain(c.code, 100).is_some_and(|e| e.contains(c.name)));
        }
        assert_eq!(hint(12345, Flow::DeviceCode), None);
        assert_eq!(explain(12345, 100), None);
    }

    #[test]
    fn the_hints_say_what_the_issue_asks_for() {
        let h = |code, flow| hint(code, flow).unwrap_or_default();
        // Public client flows: a confidential app in a user sign-in.
        let t = h(7000218, Flow::DeviceCode);
        assert!(t.contains("confidential client"), "{t}");
        assert!(t.contains("unset AZURE_CLIENT_ID"), "{t}");
        assert!(t.contains("Allow public client flows"), "{t}");
        assert!(t.contains("--auth client-secret"), "{t}");
        // The device code flow blocked by Conditional Access: the browser flow.
        let t = h(53003, Flow::DeviceCode);
        assert!(
            t.starts_with(
                "the tenant blocks the device code flow with Conditional Access: use \
                 `enroll-doctor auth login --auth browser`"
            ),
            "{t}"
        );
        assert!(!h(53003, Flow::Browser).contains("blocks the device code flow with"));
        // MFA, consent, wrong tenant or cloud, secrets, certificate, user, refresh.
        assert!(h(50076, Flow::Browser).contains("--auth browser"));
        assert!(h(50079, Flow::DeviceCode).contains("security info"));
        assert!(h(65001, Flow::DeviceCode).contains("consent"));
        assert!(h(65001, Flow::AppOnly).contains("admin consent"));
        assert!(h(700016, Flow::AppOnly).contains("--client-id"));
        assert!(h(90002, Flow::AppOnly).contains("--tenant"));
        assert!(h(90002, Flow::AppOnly).contains("--cloud"));
        assert!(h(500011, Flow::AppOnly).contains("--cloud"));
        assert!(h(7000215, Flow::AppOnly).contains("Value (not its Secret ID)"));
        assert!(h(7000222, Flow::AppOnly).contains("new client secret"));
        assert!(h(700027, Flow::AppOnly).contains("--auth certificate"));
        assert!(h(50020, Flow::DeviceCode).contains("account of this tenant"));
        assert!(h(50034, Flow::Browser).contains("--tenant"));
        assert!(h(50126, Flow::Browser).contains("password"));
        assert!(h(700082, Flow::Refresh).contains("auth login --auth browser"));
        // Through an AuthError's fields.
        assert_eq!(
            hint_for("device code", Some("AADSTS53003: Access has been blocked")),
            Some(h(53003, Flow::DeviceCode))
        );
        assert_eq!(hint_for("device code", None), None);
    }

    /// In the authorization code flow Entra tells a public client from a confidential one by
    /// the platform the redirect URI is registered under (a Web redirect makes it confidential);
    /// "Allow public client flows" only covers the flows without a redirect (device code,
    /// ROPC): SupportArticles-docs confidential-client-application-authentication-error-
    /// aadsts7000218.md.
    #[test]
    fn a_confidential_app_in_the_browser_flow_is_told_to_fix_its_redirect_platform() {
        let t = hint(7000218, Flow::Browser).unwrap_or_default();
        assert!(t.contains("Mobile and desktop applications"), "{t}");
        assert!(t.contains("http://localhost"), "{t}");
        assert!(t.contains("unset AZURE_CLIENT_ID"), "{t}");
        assert!(!t.contains("Allow public client flows"), "{t}");
        // A refresh may follow either sign-in: both fixes.
        let t = hint(7000218, Flow::Refresh).unwrap_or_default();
        assert!(t.contains("Mobile and desktop applications"), "{t}");
        assert!(t.contains("Allow public client flows"), "{t}");
        // The device code flow keeps the public client flows setting.
        let t = hint(7000218, Flow::DeviceCode).unwrap_or_default();
        assert!(t.contains("Allow public client flows"), "{t}");
        assert!(!t.contains("Mobile and desktop applications"), "{t}");
    }

    #[test]
    fn explain_lists_each_distinct_hint_once() {
        let e = explain(53003, 100).unwrap_or_default();
        assert!(
            e.starts_with("AADSTS53003  BlockedByConditionalAccess"),
            "{e}"
        );
        assert!(
            e.contains("device code sign-in (--auth device-code):"),
            "{e}"
        );
        assert!(e.contains(REFERENCE), "{e}");
        // 90002 says the same for every flow: once.
        let e = explain(90002, 100).unwrap_or_default();
        assert_eq!(e.matches("check --tenant").count(), 1, "{e}");
        assert!(e.lines().all(|l| l.len() <= 100), "{e}");
    }
}
