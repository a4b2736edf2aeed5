//! The authorization code flow with PKCE (MicrosoftDocs/entra-docs
//! docs/identity-platform/v2-oauth2-auth-code-flow.md): `GET /{tenant}/oauth2/v2.0/authorize`
//! signs the app's configured user in at once (no page; a test plays the browser by requesting
//! the address and following the `302`) and redirects to the loopback `redirect_uri` with a
//! one-use code; `POST /{tenant}/oauth2/v2.0/token` with `grant_type=authorization_code`
//! redeems it.
//!
//! What the platform cannot send back to the app (unknown tenant or client, a redirect URI the
//! app does not have) is an error answer to the browser; everything else goes to the redirect
//! URI as `?error=…&error_description=AADSTS…&state=…`. The mock is stricter than Entra in one
//! place: it requires PKCE with S256 (Entra only recommends it for desktop apps), so a client
//! that forgets it fails here. AADSTS codes: docs/identity-platform/reference-error-codes.md.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;

use crate::reply::{Reply, ReplyBody, entra_error};
use crate::state::Shared;
use crate::tenant::MockApp;

/// "Authorization codes are short lived. Typically, they expire after about 10 minutes."
/// (v2-oauth2-auth-code-flow.md, successful response).
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// Codes issued, and what the next sign-ins do.
#[derive(Default)]
pub(crate) struct AuthCodes {
    codes: Mutex<HashMap<String, IssuedCode>>,
    /// How many of the next sign-ins the user cancels.
    cancel_next: AtomicU32,
}

impl AuthCodes {
    /// The next `times` sign-ins end with the user cancelling.
    pub fn cancel_next(&self, times: u32) {
        self.cancel_next.store(times, Ordering::SeqCst);
    }

    fn take_cancel(&self) -> bool {
        self.cancel_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

struct IssuedCode {
    client_id: String,
    tenant_segment: String,
    redirect_uri: String,
    challenge: String,
    scopes: Vec<String>,
    issued: Instant,
    redeemed: bool,
}

/// A loopback redirect URI the mock's public clients have registered: `http://localhost` or
/// `http://127.0.0.1`, any port (the port of a localhost redirect is ignored when matching:
/// docs/identity-platform/reply-url.md, "Localhost exceptions"), any path, no query or
/// fragment. `[::1]` is not supported, as in Entra.
fn loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    if rest.contains(['?', '#']) {
        return false;
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    port_ok && (host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1")
}

/// `uri?params`: a redirect URI without a path gets its trailing slash back
/// (reply-url.md: "`http://localhost:7071` is returned as `http://localhost:7071/`").
fn redirect_to(uri: &str, params: &[(&str, &str)]) -> Reply {
    let rest = uri.trim_start_matches("http://");
    let base = if rest.contains('/') {
        uri.to_string()
    } else {
        format!("{uri}/")
    };
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    Reply {
        status: StatusCode::FOUND,
        headers: vec![("Location".into(), format!("{base}?{query}"))],
        body: ReplyBody::Text(String::new(), "text/html; charset=utf-8"),
    }
}

/// An error sent to the redirect URI, in the `error_description` shape of the platform.
fn redirect_error(uri: &str, state: Option<&str>, error: &str, code: u32, text: &str) -> Reply {
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let description = format!(
        "AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}"
    );
    let mut params = vec![("error", error), ("error_description", &description)];
    if error == "access_denied" && code == 65004 {
        // What a cancelled sign-in carries (MSAL reads it as "the user cancelled").
        params.push(("error_subcode", "cancel"));
    }
    if let Some(s) = state {
        params.push(("state", s));
    }
    redirect_to(uri, &params)
}

/// The SHA-256 challenge of `verifier` (RFC 7636 §4.2).
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn is_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Shared {
    fn known_authority(&self, tenant_segment: &str) -> bool {
        self.is_own_tenant(tenant_segment) || matches!(tenant_segment, "organizations" | "common")
    }

    /// The same tenant, named by id, domain or the generic authority used at `/authorize`.
    fn same_authority(&self, a: &str, b: &str) -> bool {
        a.eq_ignore_ascii_case(b) || (self.is_own_tenant(a) && self.is_own_tenant(b))
    }

    /// `GET /{tenant}/oauth2/v2.0/authorize?…`
    pub(crate) fn authorize_endpoint(
        &self,
        tenant_segment: &str,
        method: &Method,
        query: Option<&str>,
    ) -> Reply {
        if method != Method::GET {
            return entra_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                900561,
                "The endpoint only accepts GET requests.",
            );
        }
        if !self.known_authority(tenant_segment) {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_tenant",
                90002,
                &format!(
                    "Tenant '{tenant_segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                ),
            );
        }
        let q: HashMap<String, String> =
            serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or_default())
                .map(|v| v.into_iter().collect())
                .unwrap_or_default();
        let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let Some(client_id) = get("client_id") else {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            );
        };
        let Some(app) = self.app_by_client_id(client_id) else {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                    self.tenant.id
                ),
            );
        };
        let redirect = get("redirect_uri").unwrap_or_default();
        if !loopback_redirect(redirect) {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50011,
                &format!(
                    "The redirect URI '{redirect}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.",
                    app.client_id
                ),
            );
        }
        let state = get("state");
        let fail =
            |error: &str, code: u32, text: &str| redirect_error(redirect, state, error, code, text);
        if get("response_type") != Some("code") {
            return fail(
                "unsupported_response_type",
                70005,
                "The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: code.",
            );
        }
        let Some(scope) = get("scope") else {
            return fail(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            );
        };
        let Some(challenge) = get("code_challenge") else {
            return fail(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'code_challenge'.",
            );
        };
        if get("code_challenge_method") != Some("S256") {
            return fail(
                "invalid_request",
                90100,
                "The parameter 'code_challenge_method' is empty or not valid (the mock accepts S256 only).",
            );
        }
        if !is_challenge(challenge) {
            return fail(
                "invalid_request",
                501491,
                "Invalid size of Code_Challenge parameter.",
            );
        }
        if self.auth_codes.take_cancel() {
            return fail(
                "access_denied",
                65004,
                "User declined to consent to access the app.",
            );
        }
        let code = format!(
            "1.AQ{}{}",
            URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes()),
            URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
        );
        if let Ok(mut codes) = self.auth_codes.codes.lock() {
            codes.insert(
                code.clone(),
                IssuedCode {
                    client_id: app.client_id.clone(),
                    tenant_segment: tenant_segment.to_string(),
                    redirect_uri: redirect.to_string(),
                    challenge: challenge.to_string(),
                    scopes: scope.split_whitespace().map(str::to_string).collect(),
                    issued: Instant::now(),
                    redeemed: false,
                },
            );
        }
        let session = uuid::Uuid::new_v4().to_string();
        let mut params = vec![("code", code.as_str())];
        if let Some(s) = state {
            params.push(("state", s));
        }
        params.push(("session_state", &session));
        redirect_to(redirect, &params)
    }

    /// `POST /{tenant}/oauth2/v2.0/token` with `grant_type=authorization_code`.
    pub(crate) fn authorization_code_grant(
        &self,
        tenant_segment: &str,
        form: &HashMap<String, String>,
    ) -> Reply {
        self.redeem_code_at(tenant_segment, form, Instant::now())
    }

    fn redeem_code_at(
        &self,
        tenant_segment: &str,
        form: &HashMap<String, String>,
        now: Instant,
    ) -> Reply {
        let bad = |error: &str, code: u32, text: &str| {
            entra_error(StatusCode::BAD_REQUEST, error, code, text)
        };
        if !self.known_authority(tenant_segment) {
            return bad(
                "invalid_request",
                90002,
                &format!(
                    "Tenant '{tenant_segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                ),
            );
        }
        let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let missing = |name: &str| {
            bad(
                "invalid_request",
                900144,
                &format!("The request body must contain the following parameter: '{name}'."),
            )
        };
        let Some(client_id) = get("client_id") else {
            return missing("client_id");
        };
        let Some(app) = self.app_by_client_id(client_id) else {
            return bad(
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'.",
                    self.tenant.id
                ),
            );
        };
        if let Some(reply) = client_authentication(app, form) {
            return reply;
        }
        let Some(code) = get("code") else {
            return missing("code");
        };
        let Some(redirect) = get("redirect_uri") else {
            return missing("redirect_uri");
        };
        let Some(verifier) = get("code_verifier") else {
            return missing("code_verifier");
        };
        let outcome = {
            let Ok(mut codes) = self.auth_codes.codes.lock() else {
                return Reply::internal();
            };
            match codes.get_mut(code) {
                None => Err((
                    9002313,
                    "Invalid request. Request is malformed or invalid.".to_string(),
                )),
                Some(c) if c.redeemed => Err((
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.".to_string(),
                )),
                Some(c) => {
                    // One use: a failed redemption spends the code too.
                    c.redeemed = true;
                    if now.saturating_duration_since(c.issued) > CODE_LIFETIME {
                        Err((
                            70008,
                            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.".to_string(),
                        ))
                    } else if !c.client_id.eq_ignore_ascii_case(&app.client_id) {
                        Err((
                            70000,
                            "The provided authorization code was issued to another client."
                                .to_string(),
                        ))
                    } else if !self.same_authority(&c.tenant_segment, tenant_segment) {
                        Err((
                            700005,
                            "Provided Authorization Code is intended to use against other tenant, thus rejected.".to_string(),
                        ))
                    } else if c.redirect_uri != redirect {
                        // The older text of the same check said AADSTS50011 ("The reply address
                        // … does not match the reply address … provided when requesting
                        // Authorization code").
                        Err((
                            50011,
                            format!(
                                "The reply address '{redirect}' does not match the reply address '{}' provided when requesting Authorization code.",
                                c.redirect_uri
                            ),
                        ))
                    } else if s256(verifier) != c.challenge {
                        Err((
                            501481,
                            "The Code_Verifier does not match the code_challenge supplied in the authorization request.".to_string(),
                        ))
                    } else {
                        Ok(c.scopes.clone())
                    }
                }
            }
        };
        match outcome {
            Err((n, text)) => bad("invalid_grant", n, &text),
            Ok(scopes) => self.delegated_token_reply(app, scopes),
        }
    }
}

/// A public client sends no credential; a confidential one must (the mock knows only
/// secrets for authorization codes).
fn client_authentication(app: &MockApp, form: &HashMap<String, String>) -> Option<Reply> {
    let public = app.client_secret.is_empty() && app.user_principal_name.is_some();
    let presented = form.contains_key("client_secret") || form.contains_key("client_assertion");
    if public && presented {
        return Some(entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ));
    }
    if !public {
        let ok = form
            .get("client_secret")
            .is_some_and(|s| !app.client_secret.is_empty() && *s == app.client_secret);
        if !ok {
            return Some(entra_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MockConfig;
    use crate::tenant::Tenant;
    use serde_json::Value;

    fn shared() -> Shared {
        Shared::new(
            Tenant::load_fixture("contoso").unwrap(),
            "http://127.0.0.1:1".into(),
            &MockConfig::fixture("contoso"),
        )
    }

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn authorize_query(client: &str, redirect: &str, challenge: &str) -> String {
        serde_urlencoded::to_string([
            ("client_id", client),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            (
                "scope",
                "https://graph.microsoft.com/.default offline_access",
            ),
            ("state", "st"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .unwrap()
    }

    fn location(r: &Reply) -> String {
        r.headers
            .iter()
            .find(|(k, _)| k == "Location")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn params(location: &str) -> HashMap<String, String> {
        let q = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .unwrap()
            .into_iter()
            .collect()
    }

    fn body(r: &Reply) -> Value {
        match &r.body {
            ReplyBody::Json(v) => v.clone(),
            _ => Value::Null,
        }
    }

    fn cli(s: &Shared) -> MockApp {
        s.tenant
            .apps
            .iter()
            .find(|a| a.name == "cli")
            .unwrap()
            .clone()
    }

    /// Signs in through `/authorize`; the code the redirect carries.
    fn code_for(s: &Shared, redirect: &str) -> String {
        let app = cli(s);
        let r = s.authorize_endpoint(
            "contoso.com",
            &Method::GET,
            Some(&authorize_query(&app.client_id, redirect, &s256(VERIFIER))),
        );
        assert_eq!(r.status, StatusCode::FOUND);
        let p = params(&location(&r));
        assert_eq!(p["state"], "st");
        p["code"].clone()
    }

    fn redeem(s: &Shared, code: &str, redirect: &str, verifier: &str) -> Reply {
        let app = cli(s);
        let form: HashMap<String, String> = [
            ("grant_type", "authorization_code"),
            ("client_id", app.client_id.as_str()),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        s.authorization_code_grant(&s.tenant.id.clone(), &form)
    }

    fn aadsts(r: &Reply) -> (String, u64) {
        let b = body(r);
        assert!(
            b["error_description"]
                .as_str()
                .unwrap()
                .starts_with("AADSTS")
        );
        assert!(b["trace_id"].is_string() && b["correlation_id"].is_string());
        (
            b["error"].as_str().unwrap().to_string(),
            b["error_codes"][0].as_u64().unwrap(),
        )
    }

    #[test]
    fn the_rfc_7636_example_challenge() {
        // RFC 7636 appendix B.
        assert_eq!(
            s256(VERIFIER),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_code_is_redeemed_once_with_the_right_verifier() {
        let s = shared();
        let redirect = "http://localhost:50123";
        let code = code_for(&s, redirect);
        // Without a path the redirect gets its trailing slash.
        let r = redeem(&s, &code, redirect, VERIFIER);
        assert_eq!(r.status, StatusCode::OK, "{:?}", body(&r));
        let b = body(&r);
        assert!(b["access_token"].as_str().unwrap().starts_with("eyJ"));
        assert!(b["refresh_token"].is_string(), "offline_access was asked");
        // Again: already redeemed.
        let again = redeem(&s, &code, redirect, VERIFIER);
        assert_eq!(aadsts(&again), ("invalid_grant".into(), 54005));
    }

    #[test]
    fn each_redemption_check_has_its_aadsts_code() {
        let s = shared();
        let redirect = "http://127.0.0.1:50124/cb";
        let code = code_for(&s, redirect);
        let wrong = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(
            aadsts(&redeem(&s, &code, redirect, wrong)),
            ("invalid_grant".into(), 501481)
        );
        // The failed try spent the code.
        assert_eq!(
            aadsts(&redeem(&s, &code, redirect, VERIFIER)),
            ("invalid_grant".into(), 54005)
        );
        let code = code_for(&s, redirect);
        assert_eq!(
            aadsts(&redeem(&s, &code, "http://127.0.0.1:50125/cb", VERIFIER)),
            ("invalid_grant".into(), 50011)
        );
        assert_eq!(
            aadsts(&redeem(&s, "1.AQnot-a-code", redirect, VERIFIER)),
            ("invalid_grant".into(), 9002313)
        );
        // Expired: redeemed eleven minutes later.
        let code = code_for(&s, redirect);
        let app = cli(&s);
        let form: HashMap<String, String> = [
            ("grant_type", "authorization_code"),
            ("client_id", app.client_id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", VERIFIER),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let later = Instant::now() + Duration::from_secs(660);
        let r = s.redeem_code_at("contoso.com", &form, later);
        assert_eq!(aadsts(&r), ("invalid_grant".into(), 70008));
        // Issued for contoso.com, redeemed at organizations: another authority.
        let code = code_for(&s, redirect);
        let mut form = form.clone();
        form.insert("code".into(), code);
        let r = s.authorization_code_grant("organizations", &form);
        assert_eq!(aadsts(&r), ("invalid_grant".into(), 700005));
        // A missing verifier, an unknown client, a public client sending a secret.
        let mut f = form.clone();
        f.remove("code_verifier");
        assert_eq!(
            aadsts(&s.authorization_code_grant("contoso.com", &f)),
            ("invalid_request".into(), 900144)
        );
        let mut f = form.clone();
        f.insert(
            "client_id".into(),
            "00000000-0000-0000-0000-000000000000".into(),
        );
        assert_eq!(
            aadsts(&s.authorization_code_grant("contoso.com", &f)),
            ("unauthorized_client".into(), 700016)
        );
        let mut f = form.clone();
        f.insert("client_secret".into(), "x".into());
        let r = s.authorization_code_grant("contoso.com", &f);
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(aadsts(&r), ("invalid_client".into(), 700025));
    }

    #[test]
    fn a_confidential_app_without_its_secret_is_not_a_public_client() {
        let s = shared();
        let auditor = s
            .tenant
            .apps
            .iter()
            .find(|a| a.name == "auditor")
            .unwrap()
            .clone();
        let redirect = "http://localhost:50126";
        let r = s.authorize_endpoint(
            &s.tenant.id.clone(),
            &Method::GET,
            Some(&authorize_query(
                &auditor.client_id,
                redirect,
                &s256(VERIFIER),
            )),
        );
        let code = params(&location(&r))["code"].clone();
        let form: HashMap<String, String> = [
            ("grant_type", "authorization_code"),
            ("client_id", auditor.client_id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", VERIFIER),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let r = s.authorization_code_grant("contoso.com", &form);
        assert_eq!(aadsts(&r), ("invalid_client".into(), 7000218));
    }

    #[test]
    fn authorize_errors_go_to_the_browser_or_to_the_redirect() {
        let s = shared();
        let app = cli(&s);
        let ok_challenge = s256(VERIFIER);
        // Unknown client, foreign redirect: answered to the browser, never redirected.
        let r = s.authorize_endpoint(
            "contoso.com",
            &Method::GET,
            Some(&authorize_query(
                "nope",
                "http://localhost:1",
                &ok_challenge,
            )),
        );
        assert_eq!(aadsts(&r), ("unauthorized_client".into(), 700016));
        for redirect in [
            "https://evil.example/cb",
            "http://evil.example:80/",
            "http://[::1]:5000",
            "http://localhost:5000/?x=1",
            "",
        ] {
            let r = s.authorize_endpoint(
                "contoso.com",
                &Method::GET,
                Some(&authorize_query(&app.client_id, redirect, &ok_challenge)),
            );
            assert!(location(&r).is_empty(), "{redirect}");
            assert_eq!(aadsts(&r), ("invalid_request".into(), 50011), "{redirect}");
        }
        let r = s.authorize_endpoint(
            "nowhere.example",
            &Method::GET,
            Some(&authorize_query(
                &app.client_id,
                "http://localhost:1",
                &ok_challenge,
            )),
        );
        assert_eq!(aadsts(&r).1, 90002);
        // Redirected errors: a challenge of the wrong size, the plain method, cancel.
        let r = s.authorize_endpoint(
            "contoso.com",
            &Method::GET,
            Some(&authorize_query(
                &app.client_id,
                "http://localhost:1",
                "short",
            )),
        );
        let p = params(&location(&r));
        assert_eq!(p["error"], "invalid_request");
        assert!(p["error_description"].starts_with("AADSTS501491:"), "{p:?}");
        assert_eq!(p["state"], "st");
        let plain = authorize_query(&app.client_id, "http://localhost:1", &ok_challenge)
            .replace("code_challenge_method=S256", "code_challenge_method=plain");
        let p = params(&location(&s.authorize_endpoint(
            "contoso.com",
            &Method::GET,
            Some(&plain),
        )));
        assert!(p["error_description"].starts_with("AADSTS90100:"), "{p:?}");
        s.auth_codes.cancel_next(1);
        let q = authorize_query(&app.client_id, "http://localhost:1", &ok_challenge);
        let r = s.authorize_endpoint("organizations", &Method::GET, Some(&q));
        let loc = location(&r);
        assert!(loc.starts_with("http://localhost:1/?"), "{loc}");
        let p = params(&loc);
        assert_eq!(p["error"], "access_denied");
        assert_eq!(p["error_subcode"], "cancel");
        assert!(p["error_description"].starts_with("AADSTS65004:"), "{p:?}");
        assert!(!p.contains_key("code"));
        // Only the next one.
        let p = params(&location(&s.authorize_endpoint(
            "organizations",
            &Method::GET,
            Some(&q),
        )));
        assert!(p.contains_key("code"), "{p:?}");
        assert!(p.contains_key("session_state"));
    }

    #[test]
    fn loopback_redirects() {
        for ok in [
            "http://localhost",
            "http://localhost:1234",
            "http://LOCALHOST:1234/MyApp",
            "http://127.0.0.1:5000/",
        ] {
            assert!(loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "https://localhost:1",
            "http://localhost.evil.example:1",
            "http://127.0.0.2:1",
            "http://localhost:99999",
            "http://localhost:",
            "http://[::1]:1",
            "http://localhost:1#f",
        ] {
            assert!(!loopback_redirect(bad), "{bad}");
        }
    }
}
