//! What to tell the user when a sign-in has to be repeated or Graph refused a token. Every hint
//! names the exact command with its `--auth`: without it, a client secret or certificate in the
//! environment selects an app-only sign-in (`config` infers secret > certificate > federated
//! token > access token > browser > device code), and the command would run app-only again.

use crate::config::AuthMethod;

/// A delegated (user) sign-in, for whatever needs one (the MDM/MAM user scopes): both
/// interactive methods, and the `--auth` to run again with.
pub const DELEGATED_SIGN_IN: &str = "sign in as a user with `enroll-doctor auth login --auth browser` \
     (or `--auth device-code` where no browser can be opened) and run the command again with the \
     same `--auth` (with AZURE_CLIENT_SECRET set, it runs app-only without it)";

/// Sign in again with METHOD and run the command again with it. For an app-only or handed-over
/// method, what renews its credential instead.
pub fn sign_in_again(method: AuthMethod) -> String {
    match method {
        AuthMethod::Browser | AuthMethod::DeviceCode => {
            let m = method.as_str();
            format!(
                "run `enroll-doctor auth login --auth {m}` and run the command again with `--auth {m}`"
            )
        }
        AuthMethod::AzureCli => {
            "run `az login` (with `--tenant <tenant>`; `az cloud set` first for a \
             national cloud) and run the command again with `--auth azure-cli`"
                .to_string()
        }
        AuthMethod::AccessToken => format!(
            "a token from ENROLL_DOCTOR_ACCESS_TOKEN(_FILE) cannot be renewed: give a current \
             Graph token of this tenant and cloud (`az account get-access-token --resource-type \
             ms-graph`), or {DELEGATED_SIGN_IN}"
        ),
        AuthMethod::ClientSecret
        | AuthMethod::Certificate
        | AuthMethod::ManagedIdentity
        | AuthMethod::WorkloadIdentity => {
            format!(
                "check the app's credential and run the command again with `--auth {}`",
                method.as_str()
            )
        }
    }
}

/// What to do when Graph answered 401 `InvalidAuthenticationToken` to a token of METHOD after
/// the one renewal the client makes (or to a token that cannot be renewed). A 401 of this code
/// means the token itself is not valid for this Graph: expired, for another audience (a national
/// cloud's Graph), from another tenant, or not a token at all (Microsoft Graph docs,
/// concepts/resolve-auth-errors.md: "401 Unauthorized error: Is your token valid?").
pub fn token_rejected(method: AuthMethod) -> String {
    let cloud = "check that --cloud (or --graph-url) is the cloud the tenant lives in and --tenant the \
                 tenant you sign in to";
    match method {
        AuthMethod::AccessToken => sign_in_again(method),
        AuthMethod::Browser | AuthMethod::DeviceCode => {
            format!(
                "the sign-in was renewed and Graph still refused it: {}; {cloud}",
                sign_in_again(method)
            )
        }
        AuthMethod::AzureCli => format!(
            "the Azure CLI's token was renewed and Graph still refused it: {}; {cloud}",
            sign_in_again(method)
        ),
        AuthMethod::ClientSecret
        | AuthMethod::Certificate
        | AuthMethod::ManagedIdentity
        | AuthMethod::WorkloadIdentity => format!(
            "a new app-only token was refused as well: {cloud}, then run the command again with \
             `--auth {}`",
            method.as_str()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hint_names_the_auth_method_to_run_with() {
        for m in AuthMethod::ALL {
            let again = sign_in_again(m);
            let rejected = token_rejected(m);
            for text in [&again, &rejected] {
                assert!(text.contains("--auth "), "{m:?}: {text}");
                // A sign-in command always says which method.
                for (i, _) in text.match_indices("auth login") {
                    assert!(text[i..].starts_with("auth login --auth "), "{m:?}: {text}");
                }
            }
        }
        assert!(sign_in_again(AuthMethod::DeviceCode).contains("--auth device-code"));
        assert!(token_rejected(AuthMethod::AccessToken).contains("cannot be renewed"));
        assert!(DELEGATED_SIGN_IN.contains("auth login --auth browser"));
        assert!(DELEGATED_SIGN_IN.contains("--auth device-code"));
    }

    /// Every `enroll-doctor auth login` the user can read (messages, check texts, README, the
    /// example config, docs) names its `--auth`: a sign-in hint without it signs in app-only
    /// again when AZURE_CLIENT_SECRET is set.
    #[test]
    fn every_sign_in_command_in_the_sources_names_its_method() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p
                    .extension()
                    .is_some_and(|x| x == "rs" || x == "md" || x == "toml")
                {
                    out.push(p);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("README.md"), root.join("config.example.toml")];
        walk(&root.join("src"), &mut files);
        walk(&root.join("docs"), &mut files);
        let mut bad = Vec::new();
        for f in files
            .iter()
            .filter(|f| !f.ends_with("src/graph/auth/hints.rs"))
        {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            for (i, _) in text.match_indices("enroll-doctor auth login") {
                let rest: String = text[i..].chars().take(90).collect();
                if !rest.contains("--auth") {
                    bad.push(format!("{}: {rest}", f.display()));
                }
            }
        }
        assert!(files.len() > 100, "{}", files.len());
        assert!(
            bad.is_empty(),
            "sign-in hints without --auth:\n{}",
            bad.join("\n")
        );
    }
}
