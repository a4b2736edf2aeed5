//! Delegated sign-in in the user's browser: the OAuth 2.0 authorization code flow with PKCE
//! (RFC 7636, S256) and a loopback redirect (RFC 8252 §7.3). Sign-ins are kept in the shared
//! [`TokenCache`].
//!
//! The protocol is the identity platform's (MicrosoftDocs/entra-docs
//! docs/identity-platform/v2-oauth2-auth-code-flow.md): the browser is sent to
//! `{login}/{tenant}/oauth2/v2.0/authorize` with `client_id`, `response_type=code`,
//! `redirect_uri`, `scope`, a random `state`, `code_challenge` and `code_challenge_method=S256`;
//! the platform redirects it to `redirect_uri?code=…&state=…` (or `?error=…`), where the
//! [`loopback`] listener takes the code; the code is redeemed at `/token` with
//! `grant_type=authorization_code`, the same `redirect_uri` and the `code_verifier`.
//!
//! Security: the listener binds 127.0.0.1 only and takes one redirect with the right `state`;
//! the PKCE verifier and the code live in this process only (oauth2's secret types, whose
//! `Debug` is redacted; the token request's body is never logged, [`OAuthHttp`] logs sizes);
//! errors never quote them. The address printed and opened holds only public values (client
//! id, redirect URI, scopes, state, and the challenge, a hash of the verifier).

mod loopback;

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl,
};
use secrecy::ExposeSecret;

use super::cache::{CacheKey, TokenCache};
use super::delegated::{UserSignIn, bad_url};
use super::error::AuthError;
use super::oauth_http::{OAuthHttp, map_token_error};
use super::token::AccessToken;
use loopback::{FLOW, Loopback};

/// The method name kept in the cache (`auth status` shows it).
const METHOD: &str = "browser";

/// What the browser sign-in needs.
#[derive(Debug, Clone)]
pub struct AuthCodeFlow {
    pub http: OAuthHttp,
    pub client_id: String,
    /// Tenant id, domain, or `organizations`.
    pub tenant: String,
    pub login_url: String,
    /// `{graph}/.default`; `offline_access` is added to get a refresh token.
    pub scope: String,
    pub cache: TokenCache,
    /// Launch the system browser (else only print the address).
    pub open_browser: bool,
    /// How long the loopback listener waits for the redirect.
    pub timeout: Duration,
}

impl AuthCodeFlow {
    pub fn key(&self) -> CacheKey {
        self.user().key()
    }

    fn user(&self) -> UserSignIn<'_> {
        UserSignIn {
            http: &self.http,
            client_id: &self.client_id,
            tenant: &self.tenant,
            login_url: &self.login_url,
            scope: &self.scope,
            cache: &self.cache,
            method: METHOD,
        }
    }

    /// Cached access token, else refresh token, else an interactive sign-in.
    pub async fn acquire(&self, force_refresh: bool) -> Result<AccessToken, AuthError> {
        match self.user().cached(force_refresh).await? {
            Some(t) => Ok(t),
            None => self.login().await,
        }
    }

    /// Always runs the interactive flow (`auth login`), then caches the result.
    pub async fn login(&self) -> Result<AccessToken, AuthError> {
        let open = self.open_browser;
        self.login_with(move |url: &str| {
            if open {
                launch_browser(url);
            }
        })
        .await
    }

    /// The interactive flow, with `browser` called once with the address the user opens
    /// (after it is printed). Tests play the user through it.
    async fn login_with(&self, browser: impl FnOnce(&str)) -> Result<AccessToken, AuthError> {
        let listener = Loopback::bind().await?;
        let user = self.user();
        let redirect = RedirectUrl::new(listener.redirect_uri()).map_err(bad_url)?;
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::new(user.url("authorize")).map_err(bad_url)?)
            .set_token_uri(user.token_url()?)
            .set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(user.scopes())
            // Let the user pick the account (Azure CLI does the same): several admin accounts
            // are common, and the cache keeps one sign-in per account.
            .add_extra_param("prompt", "select_account")
            .set_pkce_challenge(challenge)
            .url();
        eprintln!(
            "{}",
            sign_in_prompt(url.as_str(), self.open_browser, self.timeout)
        );
        browser(url.as_str());
        let code = listener.wait(state.secret(), self.timeout).await?;
        let scope = user
            .scopes()
            .iter()
            .map(|s| s.as_str().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let token = client
            .exchange_code(AuthorizationCode::new(code.expose_secret().to_string()))
            .set_pkce_verifier(verifier)
            // Optional at the token endpoint (a Microsoft extension): the resource wanted.
            .add_extra_param("scope", scope)
            .request_async(&self.http)
            .await
            .map_err(|e| map_token_error(FLOW, e))?;
        let access = user.keep(&token, None)?;
        eprintln!("Signed in.");
        Ok(access)
    }
}

/// Opens the system browser on its own thread (a text-mode browser may hold it); a launch
/// that fails leaves the printed address.
fn launch_browser(url: &str) {
    if !may_open(url) {
        eprintln!(
            "enroll-doctor: the sign-in address is not an http(s) address, so no browser is opened for it"
        );
        return;
    }
    let url = url.to_string();
    let spawned = std::thread::Builder::new()
        .name("browser".into())
        .spawn(move || {
            if let Err(e) = webbrowser::open(&url) {
                eprintln!(
                    "enroll-doctor: the browser could not be opened ({}); open the address above yourself",
                    crate::text_safety::shown(&e.to_string())
                );
            }
        });
    if spawned.is_err() {
        eprintln!(
            "enroll-doctor: the browser could not be opened; open the address above yourself"
        );
    }
}

/// Only an http(s) address with a host goes to the system browser: the opener hands anything
/// else (a `file:` path, a custom scheme) to whatever program claims it. The address is built
/// from the configured identity URL (already checked); this holds for any flow built by hand.
fn may_open(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// What the user is told. The address goes on a line of its own so it can be copied; its
/// parts come from the configuration, control characters in it are shown escaped.
fn sign_in_prompt(url: &str, opening: bool, wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60);
    let what = if opening {
        format!(
            "Opening your browser to sign in (waiting up to {minutes} minutes). If it does not open, open this address in a browser on this computer"
        )
    } else {
        format!(
            "To sign in, open this address in a browser on this computer (waiting up to {minutes} minutes)"
        )
    };
    format!(
        "{what}; on another computer, use --auth device-code instead:\n  {}",
        crate::text_safety::shown(url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::test_server::{Answer, TestServer, serve};
    use base64::Engine;
    use secrecy::SecretString;
    use sha2::Digest;
    use std::collections::HashMap;

    const TOKEN: &str = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"at-1\",\"refresh_token\":\"rt-1\"}";

    fn flow(url: &str, cache: Option<std::path::PathBuf>) -> AuthCodeFlow {
        AuthCodeFlow {
            http: OAuthHttp::new(Duration::from_secs(5), true).unwrap(),
            client_id: "the-client".into(),
            tenant: "contoso.com".into(),
            login_url: url.into(),
            scope: "https://graph.microsoft.com/.default".into(),
            cache: TokenCache::new(cache),
            open_browser: false,
            timeout: Duration::from_secs(10),
        }
    }

    fn query(url: &str) -> HashMap<String, String> {
        let u = reqwest::Url::parse(url).unwrap();
        u.query_pairs().into_owned().collect()
    }

    fn form(body: &str) -> HashMap<String, String> {
        oauth2::url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    }

    /// The user: follows the address to the loopback listener with `code` (and the state the
    /// address carries unless `state` says otherwise).
    fn user(code: &'static str, state: Option<&'static str>) -> impl FnOnce(&str) {
        move |url: &str| {
            let q = query(url);
            let redirect = q["redirect_uri"].clone();
            let state = state
                .map(str::to_string)
                .unwrap_or_else(|| q["state"].clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder().no_proxy().build().unwrap();
                let port = reqwest::Url::parse(&redirect).unwrap().port().unwrap();
                // localhost may resolve to ::1 first; the listener is on 127.0.0.1.
                let _ = client
                    .get(format!(
                        "http://127.0.0.1:{port}/?code={code}&state={state}"
                    ))
                    .header("Host", format!("localhost:{port}"))
                    .send()
                    .await;
            });
        }
    }

    fn token_server(answer: &'static str, status: u16) -> TestServer {
        serve(move |_, _| Answer::json(status, answer))
    }

    #[tokio::test]
    async fn the_authorize_address_and_the_redemption_follow_pkce_s256() {
        let server = token_server(TOKEN, 200);
        let dir = tempfile::tempdir().unwrap();
        let f = flow(&server.url, Some(dir.path().join("cache.json")));
        let seen_url = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let keep = seen_url.clone();
        let play = user("the-code-123", None);
        let token = f
            .login_with(move |url: &str| {
                *keep.lock().unwrap() = url.to_string();
                play(url)
            })
            .await
            .unwrap();
        assert_eq!(token.secret(), "at-1");

        let url = seen_url.lock().unwrap().clone();
        assert!(
            url.starts_with(&format!(
                "{}/contoso.com/oauth2/v2.0/authorize?",
                server.url
            )),
            "{url}"
        );
        let q = query(&url);
        assert_eq!(q["client_id"], "the-client");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(
            q["scope"],
            "https://graph.microsoft.com/.default offline_access"
        );
        let redirect = &q["redirect_uri"];
        let port: u16 = redirect
            .strip_prefix("http://localhost:")
            .unwrap()
            .parse()
            .unwrap();
        assert_ne!(port, 0);
        assert!(q["state"].len() >= 16, "a random state");
        assert!(!url.contains("code_verifier"));

        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].path.ends_with("/contoso.com/oauth2/v2.0/token"));
        let body = form(&seen[0].body);
        assert_eq!(body["grant_type"], "authorization_code");
        assert_eq!(body["code"], "the-code-123");
        assert_eq!(&body["redirect_uri"], redirect);
        assert_eq!(body["client_id"], "the-client");
        assert!(!body.contains_key("client_secret"));
        let verifier = &body["code_verifier"];
        assert!((43..=128).contains(&verifier.len()), "{verifier}");
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        assert_eq!(challenge, q["code_challenge"]);
        assert!(
            !url.contains(verifier.as_str()),
            "the verifier never leaves"
        );

        // Cached as a browser sign-in, with its refresh token.
        let cached: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("cache.json")).unwrap())
                .unwrap();
        assert_eq!(cached["entries"][0]["method"], "browser");
        assert_eq!(cached["entries"][0]["refresh_token"], "rt-1");
    }

    #[tokio::test]
    async fn every_sign_in_gets_its_own_state_and_verifier() {
        let server = token_server(TOKEN, 200);
        let f = flow(&server.url, None);
        let mut states = Vec::new();
        for _ in 0..2 {
            let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
            let keep = seen.clone();
            let play = user("c", None);
            f.login_with(move |url: &str| {
                *keep.lock().unwrap() = url.to_string();
                play(url)
            })
            .await
            .unwrap();
            let q = query(&seen.lock().unwrap());
            states.push((q["state"].clone(), q["code_challenge"].clone()));
        }
        assert_ne!(states[0].0, states[1].0);
        assert_ne!(states[0].1, states[1].1);
        let verifiers: Vec<String> = server
            .seen()
            .iter()
            .map(|r| form(&r.body)["code_verifier"].clone())
            .collect();
        assert_ne!(verifiers[0], verifiers[1]);
    }

    #[tokio::test]
    async fn a_wrong_state_never_reaches_the_token_endpoint() {
        let server = token_server(TOKEN, 200);
        let err = flow(&server.url, None)
            .login_with(user("forged-code", Some("not-the-state")))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("state_mismatch"), "{msg}");
        assert!(!msg.contains("forged-code"), "{msg}");
        assert!(server.seen().is_empty());
    }

    #[tokio::test]
    async fn a_refused_code_is_a_typed_error_without_the_code_or_verifier() {
        let server = token_server(
            "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.\\r\\nTrace ID: t\",\"error_codes\":[501481]}",
            400,
        );
        let err = flow(&server.url, None)
            .login_with(user("code-xyz", None))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, AuthError::Rejected { error, .. } if error == "invalid_grant"),
            "{msg}"
        );
        assert!(msg.contains("AADSTS501481"), "{msg}");
        let verifier = form(&server.seen()[0].body)["code_verifier"].clone();
        assert!(
            !msg.contains("code-xyz") && !msg.contains(&verifier),
            "{msg}"
        );
        assert!(!format!("{err:?}").contains(&verifier));
    }

    #[tokio::test]
    async fn no_answer_from_the_browser_times_out() {
        let server = token_server(TOKEN, 200);
        let mut f = flow(&server.url, None);
        f.timeout = Duration::from_millis(200);
        let err = f.login_with(|_: &str| {}).await.unwrap_err();
        assert!(err.to_string().contains("timed_out"), "{err}");
        assert!(server.seen().is_empty());
    }

    fn seed_cache(path: &std::path::Path, f: &AuthCodeFlow, access: &AccessToken) {
        TokenCache::new(Some(path.to_path_buf()))
            .store(&f.key(), METHOD, Some(&SecretString::from("rt-0")), access)
            .unwrap();
    }

    #[tokio::test]
    async fn acquire_uses_the_cache_then_the_refresh_token_then_the_browser() {
        // A fresh cached token: no request at all, no browser.
        let server = token_server(TOKEN, 200);
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("c.json");
        let f = flow(&server.url, Some(cache.clone()));
        seed_cache(
            &cache,
            &f,
            &AccessToken::new("cached-at".into(), Some(3600)),
        );
        assert_eq!(f.acquire(false).await.unwrap().secret(), "cached-at");
        assert!(server.seen().is_empty());

        // Stale: the refresh token, and the rotated one is kept.
        seed_cache(&cache, &f, &AccessToken::new("old".into(), Some(0)));
        assert_eq!(f.acquire(false).await.unwrap().secret(), "at-1");
        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        let body = form(&seen[0].body);
        assert_eq!(body["grant_type"], "refresh_token");
        assert_eq!(body["refresh_token"], "rt-0");
        let text = std::fs::read_to_string(&cache).unwrap();
        assert!(
            text.contains("rt-1") && text.contains("\"browser\""),
            "{text}"
        );

        // A refresh token the platform refuses (invalid_grant): an interactive sign-in.
        let refusing = serve(|_, req| {
            if req.body.contains("grant_type=refresh_token") {
                Answer::json(
                    400,
                    "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: expired\"}",
                )
            } else {
                Answer::json(200, TOKEN)
            }
        });
        let f = flow(&refusing.url, Some(cache.clone()));
        seed_cache(&cache, &f, &AccessToken::new("old".into(), Some(0)));
        let err = f
            .user()
            .refresh(&SecretString::from("rt-0"))
            .await
            .unwrap_err();
        assert!(matches!(&err, AuthError::Rejected { error, .. } if error == "invalid_grant"));
        // acquire() then falls through to the interactive sign-in (which, with nobody at the
        // browser, times out) instead of failing on the refused refresh token.
        let mut f = flow(&refusing.url, Some(cache.clone()));
        f.timeout = Duration::from_millis(100);
        seed_cache(&cache, &f, &AccessToken::new("old".into(), Some(0)));
        let err = f.acquire(false).await.unwrap_err();
        assert!(err.to_string().contains("timed_out"), "{err}");
    }

    /// A refresh the platform answers with `interaction_required` (multifactor authentication
    /// or a Conditional Access policy now asks for the user: AADSTS50076, AADSTS50079), or
    /// `login_required`/`consent_required`, needs the user as much as an expired refresh token
    /// does: the interactive sign-in starts instead of the command failing.
    #[tokio::test]
    async fn a_refresh_that_needs_the_user_starts_the_interactive_sign_in() {
        for error in ["interaction_required", "login_required", "consent_required"] {
            let server = serve(move |_, req| {
                if req.body.contains("grant_type=refresh_token") {
                    Answer::json(
                        400,
                        match error {
                            "interaction_required" => {
                                "{\"error\":\"interaction_required\",\"error_description\":\"AADSTS50076: you must use multi-factor authentication\"}"
                            }
                            "login_required" => {
                                "{\"error\":\"login_required\",\"error_description\":\"AADSTS50058: no session\"}"
                            }
                            _ => {
                                "{\"error\":\"consent_required\",\"error_description\":\"AADSTS65001: no consent\"}"
                            }
                        },
                    )
                } else {
                    Answer::json(200, TOKEN)
                }
            });
            let dir = tempfile::tempdir().unwrap();
            let cache = dir.path().join("c.json");
            let mut f = flow(&server.url, Some(cache.clone()));
            f.timeout = Duration::from_millis(100);
            seed_cache(&cache, &f, &AccessToken::new("old".into(), Some(0)));
            // Nobody is at the browser here, so the interactive sign-in times out.
            let err = f.acquire(false).await.unwrap_err();
            assert!(err.to_string().contains("timed_out"), "{error}: {err}");
            assert_eq!(server.seen().len(), 1, "{error}: only the refresh was sent");
        }
        // Any other refusal is the command's error (a sign-in would not fix it).
        let server = serve(|_, _| {
            Answer::json(
                400,
                "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000218: x\"}",
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("c.json");
        let f = flow(&server.url, Some(cache.clone()));
        seed_cache(&cache, &f, &AccessToken::new("old".into(), Some(0)));
        let err = f.acquire(false).await.unwrap_err();
        assert!(err.to_string().contains("invalid_client"), "{err}");
    }

    #[test]
    fn only_http_addresses_are_handed_to_the_browser() {
        assert!(may_open(
            "https://login.microsoftonline.com/t/oauth2/v2.0/authorize?a=1"
        ));
        assert!(may_open("http://127.0.0.1:5/t/oauth2/v2.0/authorize"));
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ms-settings:privacy",
            "smb://host/share",
            "not a url",
            "",
        ] {
            assert!(!may_open(bad), "{bad}");
        }
    }

    #[test]
    fn the_prompt_puts_the_address_on_its_own_line_escaped() {
        let p = sign_in_prompt(
            "https://login.example/t/oauth2/v2.0/authorize?a=1\u{1b}[2J",
            false,
            Duration::from_secs(300),
        );
        assert!(!p.contains('\u{1b}'), "{p}");
        let last = p.lines().last().unwrap().trim();
        assert!(last.starts_with("https://login.example/"), "{p}");
        assert!(p.contains("5 minutes"), "{p}");
        assert!(p.contains("--auth device-code"), "{p}");
        let opening = sign_in_prompt("https://x/", true, Duration::from_secs(61));
        assert!(opening.starts_with("Opening your browser"), "{opening}");
        assert!(opening.contains("2 minutes"), "{opening}");
    }
}
