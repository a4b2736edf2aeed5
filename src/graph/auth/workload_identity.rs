//! Workload identity federation: a federated (OIDC) token from Kubernetes, a pipeline or
//! GitHub Actions is exchanged for an app-only Graph token as a `client_assertion`.
//!
//! - The grant: client credentials with `client_assertion_type=
//!   urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and the federated token as
//!   `client_assertion` (MicrosoftDocs/entra-docs
//!   `docs/identity-platform/v2-oauth2-client-creds-grant-flow.md`, "Second case: Access token
//!   request with a certificate", which federated credentials reuse;
//!   `docs/workload-id/workload-identity-federation.md`).
//! - The token file (`AZURE_FEDERATED_TOKEN_FILE`) is rotated by the platform, so it is read
//!   again on every acquisition; [`super::TokenProvider`] keeps the Graph token in memory and
//!   acquires again shortly before it expires.
//! - GitHub Actions: `GET {ACTIONS_ID_TOKEN_REQUEST_URL}&audience=api://AzureADTokenExchange`
//!   with `Authorization: bearer {ACTIONS_ID_TOKEN_REQUEST_TOKEN}`, answered with `{"value":
//!   "<jwt>"}` (actions/toolkit `packages/core/src/oidc-utils.ts`, `getIDToken`).
//! - The identity platform's refusals this flow explains: AADSTS70021 "No matching federated
//!   identity record found for presented assertion" (docs/workload-id/
//!   workload-identity-federation-considerations.md), its narrower forms AADSTS700211 (issuer),
//!   AADSTS700213 (subject), AADSTS700212 (audience), and AADSTS700024 "Client assertion is
//!   not within its valid time range".

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, Scope, TokenResponse, TokenUrl};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::claims::TokenClaims;
use super::error::AuthError;
use super::oauth_http::{self, OAuthHttp, error_chain, truncate};
use super::token::AccessToken;

const FLOW: &str = "workload identity";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The audience Entra accepts in a federated token.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Where the federated token comes from.
#[derive(Debug, Clone)]
pub enum FederatedToken {
    /// A file the platform keeps fresh (`AZURE_FEDERATED_TOKEN_FILE`).
    File(PathBuf),
    /// GitHub Actions' OIDC token service.
    GithubActions {
        request_url: String,
        request_token: SecretString,
        /// `api://AzureADTokenExchange`.
        audience: String,
    },
}

impl FederatedToken {
    /// Where the token came from, for messages.
    fn source(&self) -> String {
        match self {
            FederatedToken::File(p) => format!("{} (AZURE_FEDERATED_TOKEN_FILE)", p.display()),
            FederatedToken::GithubActions { .. } => "GitHub Actions' OIDC token service".into(),
        }
    }
}

/// What the federated client-credentials grant needs.
#[derive(Debug, Clone)]
pub struct WorkloadIdentity {
    pub http: OAuthHttp,
    pub token_url: String,
    pub client_id: String,
    pub scope: String,
    pub federated: FederatedToken,
}

impl WorkloadIdentity {
    pub async fn acquire(&self) -> Result<AccessToken, AuthError> {
        let assertion = self.federated_token().await?;
        let presented = Presented::of(assertion.expose_secret());
        self.check_lifetime(assertion.expose_secret())?;
        let bad_url = |e: oauth2::url::ParseError| AuthError::Config {
            message: format!("invalid token URL {}: {e}", self.token_url),
        };
        let response = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::new(self.token_url.clone()).map_err(bad_url)?)
            .exchange_client_credentials()
            .add_scope(Scope::new(self.scope.clone()))
            .add_extra_param("client_assertion_type", ASSERTION_TYPE)
            .add_extra_param("client_assertion", assertion.expose_secret().to_string())
            .request_async(&self.http)
            .await;
        let token =
            response.map_err(|e| self.explain(oauth_http::map_token_error(FLOW, e), &presented))?;
        Ok(AccessToken::new(
            token.access_token().secret().clone(),
            token.expires_in().map(|d| d.as_secs()),
        ))
    }

    /// The federated token, fetched again every time (the platform rotates it).
    async fn federated_token(&self) -> Result<SecretString, AuthError> {
        let raw = match &self.federated {
            FederatedToken::File(path) => {
                crate::fsio::read_regular_string(path, crate::fsio::TOKEN_FILE).map_err(|e| {
                    AuthError::Config {
                        message: format!(
                            "workload identity: cannot read the federated token file {} (AZURE_FEDERATED_TOKEN_FILE): {}",
                            path.display(),
                            e.reason()
                        ),
                    }
                })?
            }
            FederatedToken::GithubActions {
                request_url,
                request_token,
                audience,
            } => github_token(&self.http, request_url, request_token, audience).await?,
        };
        let token = raw.trim_start_matches('\u{feff}').trim();
        if token.is_empty() {
            return Err(AuthError::Config {
                message: format!(
                    "workload identity: the federated token from {} is empty",
                    self.federated.source()
                ),
            });
        }
        if token.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(AuthError::Config {
                message: format!(
                    "workload identity: the federated token from {} contains spaces or non-ASCII characters; it should be one JWT",
                    self.federated.source()
                ),
            });
        }
        Ok(SecretString::from(token.to_string()))
    }

    /// A token that is no JWT, or whose `exp` has passed, is refused before it is sent.
    fn check_lifetime(&self, jwt: &str) -> Result<(), AuthError> {
        let claims = TokenClaims::decode(jwt).map_err(|_| AuthError::Config {
            message: format!(
                "workload identity: the federated token from {} is not a JWT (three base64url parts with a JSON payload)",
                self.federated.source()
            ),
        })?;
        let now = Utc::now();
        if let Some(exp) = claims.expires_at
            && exp <= now
        {
            let ago = (now - exp).num_minutes();
            let fix = match &self.federated {
                FederatedToken::File(_) => {
                    "the platform writes a fresh token before the old one expires: a stale file means it is no longer being renewed (on Kubernetes, check the projected service account token volume of azure-workload-identity) or was copied by hand"
                }
                FederatedToken::GithubActions { .. } => {
                    "request a new one: re-run the job (GitHub's tokens live a few minutes)"
                }
            };
            return Err(AuthError::Config {
                message: format!(
                    "workload identity: the federated token from {} expired at {} ({ago} min ago), so it was not sent; {fix}",
                    self.federated.source(),
                    exp.format("%Y-%m-%d %H:%M:%S UTC"),
                ),
            });
        }
        Ok(())
    }

    /// The refusals of a federated assertion in words: what to register or request instead.
    fn explain(&self, e: AuthError, presented: &Presented) -> AuthError {
        let AuthError::Rejected {
            flow,
            error,
            description,
        } = e
        else {
            return e;
        };
        let code = description.as_deref().and_then(aadsts_code);
        let issuer = presented.issuer.as_deref().unwrap_or("unknown");
        let subject = presented.subject.as_deref().unwrap_or("unknown");
        let audience = presented.audience.as_deref().unwrap_or("unknown");
        let readable = match code {
            Some(c @ (70021 | 700211 | 700213)) => format!(
                "AADSTS{c}: no federated credential of app {} matches this token (issuer {issuer}, subject {subject}); add one with exactly this issuer and subject and audience {TOKEN_EXCHANGE_AUDIENCE} (Entra admin center > App registrations > the app > Certificates & secrets > Federated credentials). A credential added minutes ago may not have replicated yet.",
                self.client_id
            ),
            Some(700212) => format!(
                "AADSTS700212: the token's audience {audience} is not the one the app's federated credential expects: request the token for {TOKEN_EXCHANGE_AUDIENCE} (the projected token's audience on Kubernetes, the audience parameter elsewhere)"
            ),
            Some(700024) => "AADSTS700024: the identity platform found the federated token outside its valid time range: it expired on the way, or this machine's or the issuer's clock is off; get a fresh token".to_string(),
            _ => return AuthError::Rejected {
                flow,
                error,
                description,
            },
        };
        AuthError::Rejected {
            flow,
            error,
            description: Some(readable),
        }
    }
}

/// The number of a leading `AADSTS<digits>:`.
fn aadsts_code(description: &str) -> Option<u32> {
    let rest = description.trim_start().strip_prefix("AADSTS")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The claims of the federated token a message may name (none is a secret).
#[derive(Default)]
struct Presented {
    issuer: Option<String>,
    subject: Option<String>,
    audience: Option<String>,
}

impl Presented {
    fn of(jwt: &str) -> Presented {
        #[derive(Deserialize)]
        struct Raw {
            iss: Option<String>,
            sub: Option<String>,
        }
        let raw = jwt
            .split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
            .and_then(|b| serde_json::from_slice::<Raw>(&b).ok());
        let short = |s: String| truncate(&s, 200);
        Presented {
            issuer: raw.as_ref().and_then(|r| r.iss.clone()).map(short),
            subject: raw.and_then(|r| r.sub).map(short),
            audience: TokenClaims::decode(jwt)
                .ok()
                .and_then(|c| c.audience)
                .map(short),
        }
    }
}

/// GitHub Actions' OIDC token for `audience` (see the module docs).
async fn github_token(
    http: &OAuthHttp,
    request_url: &str,
    request_token: &SecretString,
    audience: &str,
) -> Result<String, AuthError> {
    const WHAT: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    let mut url = Url::parse(request_url.trim()).map_err(|e| AuthError::Config {
        message: format!("{WHAT} is not a URL ({e})"),
    })?;
    // The request token travels with it: https, or http to this machine (tests).
    if !(url.scheme() == "https" || url.scheme() == "http" && crate::config::is_loopback(&url)) {
        return Err(AuthError::Config {
            message: format!(
                "{WHAT} must be an https URL (plain http only to loopback): {}",
                url.origin().ascii_serialization()
            ),
        });
    }
    url.query_pairs_mut().append_pair("audience", audience);
    let mut auth =
        http::HeaderValue::from_str(&format!("bearer {}", request_token.expose_secret())).map_err(
            |_| AuthError::Config {
                message: "ACTIONS_ID_TOKEN_REQUEST_TOKEN is not a valid HTTP header value".into(),
            },
        )?;
    auth.set_sensitive(true);
    let req = http::Request::builder()
        .method(http::Method::GET)
        .uri(url.as_str())
        .header(http::header::AUTHORIZATION, auth)
        .header(http::header::ACCEPT, "application/json; api-version=2.0")
        .body(Vec::new())
        .map_err(|e| AuthError::Config {
            message: format!("cannot build the GitHub OIDC request: {e}"),
        })?;
    let resp = http.send(req).await.map_err(|e| match e {
        oauth2::HttpClientError::Other(message) => AuthError::BadResponse {
            flow: FLOW,
            message,
        },
        oauth2::HttpClientError::Reqwest(r) => AuthError::Transport {
            flow: FLOW,
            message: format!(
                "GitHub Actions' OIDC token service: {}",
                error_chain(r.as_ref())
            ),
        },
        other => AuthError::Transport {
            flow: FLOW,
            message: error_chain(&other),
        },
    })?;
    let status = resp.status().as_u16();
    #[derive(Deserialize)]
    struct Answer {
        value: Option<String>,
        message: Option<String>,
    }
    let answer = serde_json::from_slice::<Answer>(resp.body()).ok();
    if !(200..300).contains(&status) {
        let said = answer
            .and_then(|a| a.message)
            .map(|m| format!(": {}", truncate(m.lines().next().unwrap_or_default(), 200)))
            .unwrap_or_default();
        return Err(AuthError::Rejected {
            flow: FLOW,
            error: format!("HTTP {status}"),
            description: Some(format!(
                "GitHub Actions' OIDC token service refused the request{said}; the job needs `permissions: id-token: write` and the ACTIONS_ID_TOKEN_REQUEST_* variables of the current run"
            )),
        });
    }
    answer
        .and_then(|a| a.value)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| AuthError::BadResponse {
            flow: FLOW,
            message: "GitHub Actions' OIDC token service answered without a token (`value`)".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::RetryPolicy;
    use crate::graph::auth::claims::fake_jwt;
    use crate::graph::test_server::{Answer, serve};
    use serde_json::json;
    use std::time::Duration;

    fn parse_form(body: &str) -> std::collections::HashMap<String, String> {
        oauth2::url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    }

    fn http() -> OAuthHttp {
        OAuthHttp::new(Duration::from_secs(5), true)
            .unwrap()
            .with_retry(RetryPolicy {
                max_attempts: 2,
                base_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
                max_wait: Duration::from_millis(50),
            })
    }

    fn federated_jwt(exp_in: i64, sub: &str) -> String {
        fake_jwt(&json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": sub,
            "aud": "api://AzureADTokenExchange",
            "exp": Utc::now().timestamp() + exp_in,
        }))
    }

    fn token_ok() -> Answer {
        Answer::json(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"graph-at"}"#,
        )
    }

    fn wi(url: &str, federated: FederatedToken) -> WorkloadIdentity {
        WorkloadIdentity {
            http: http(),
            token_url: format!("{url}/t/oauth2/v2.0/token"),
            client_id: "app-1".into(),
            scope: "https://graph.microsoft.com/.default".into(),
            federated,
        }
    }

    #[tokio::test]
    async fn the_file_is_sent_as_client_assertion_and_read_again_each_time() {
        let server = serve(|_, _| token_ok());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        let first = federated_jwt(600, "system:serviceaccount:ns:one");
        std::fs::write(&file, format!("{first}\n")).unwrap();
        let flow = wi(&server.url, FederatedToken::File(file.clone()));
        assert_eq!(flow.acquire().await.unwrap().secret(), "graph-at");
        // The platform rotates the file: the next acquisition sends the new token.
        let second = federated_jwt(600, "system:serviceaccount:ns:two");
        std::fs::write(&file, &second).unwrap();
        flow.acquire().await.unwrap();
        let seen = server.seen();
        assert_eq!(seen.len(), 2);
        let form =
            |i: usize| -> std::collections::HashMap<String, String> { parse_form(&seen[i].body) };
        assert_eq!(form(0)["client_assertion"], first);
        assert_eq!(form(1)["client_assertion"], second);
        let f = form(0);
        assert_eq!(f["client_assertion_type"], ASSERTION_TYPE);
        assert_eq!(f["grant_type"], "client_credentials");
        assert_eq!(f["client_id"], "app-1");
        assert_eq!(f["scope"], "https://graph.microsoft.com/.default");
        assert!(!f.contains_key("client_secret"));
    }

    #[tokio::test]
    async fn an_expired_or_malformed_token_is_refused_before_sending() {
        let server = serve(|_, _| token_ok());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        let expired = federated_jwt(-600, "s");
        std::fs::write(&file, &expired).unwrap();
        let flow = wi(&server.url, FederatedToken::File(file.clone()));
        let msg = flow.acquire().await.unwrap_err().to_string();
        assert!(msg.contains("expired at"), "{msg}");
        assert!(msg.contains("AZURE_FEDERATED_TOKEN_FILE"), "{msg}");
        assert!(!msg.contains(&expired), "{msg}");
        std::fs::write(&file, "not-a-jwt").unwrap();
        let msg = flow.acquire().await.unwrap_err().to_string();
        assert!(msg.contains("is not a JWT"), "{msg}");
        assert!(!msg.contains("not-a-jwt"), "{msg}");
        std::fs::write(&file, "").unwrap();
        assert!(
            flow.acquire()
                .await
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        std::fs::remove_file(&file).unwrap();
        let msg = flow.acquire().await.unwrap_err().to_string();
        assert!(
            msg.contains("cannot read the federated token file"),
            "{msg}"
        );
        assert!(server.seen().is_empty());
    }

    fn refusal(code: u32, text: &str) -> Answer {
        Answer::json(
            401,
            &json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS{code}: {text} Trace ID: t Correlation ID: c Timestamp: 2026-01-01 00:00:00Z"),
                "error_codes": [code],
            })
            .to_string(),
        )
    }

    #[tokio::test]
    async fn federation_refusals_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(
            &file,
            federated_jwt(600, "repo:org/repo:ref:refs/heads/dev"),
        )
        .unwrap();
        for (code, text, want) in [
            (
                70021,
                "No matching federated identity record found for presented assertion.",
                "subject repo:org/repo:ref:refs/heads/dev",
            ),
            (
                700213,
                "No matching federated identity record found for presented assertion subject 'x'.",
                "no federated credential of app app-1 matches",
            ),
            (
                700212,
                "No matching federated identity record found for presented assertion audience 'a'.",
                "audience api://AzureADTokenExchange is not the one",
            ),
            (
                700024,
                "Client assertion is not within its valid time range.",
                "outside its valid time range",
            ),
        ] {
            let server = serve(move |_, _| refusal(code, text));
            let err = wi(&server.url, FederatedToken::File(file.clone()))
                .acquire()
                .await
                .unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, AuthError::Rejected { .. }), "{msg}");
            assert!(msg.contains(want), "{code}: {msg}");
            assert!(msg.contains(&format!("AADSTS{code}")), "{msg}");
            assert!(!msg.contains("eyJ"), "{msg}");
        }
        // Another refusal keeps the platform's words.
        let server =
            serve(|_, _| refusal(700016, "Application with identifier 'x' was not found."));
        let msg = wi(&server.url, FederatedToken::File(file))
            .acquire()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("AADSTS700016: Application with identifier"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn github_actions_token_is_requested_with_the_audience() {
        let jwt = federated_jwt(300, "repo:org/repo:ref:refs/heads/main");
        let answer = json!({"count": 1, "value": jwt}).to_string();
        let oidc = serve(move |_, _| Answer::json(200, &answer));
        let server = serve(|_, _| token_ok());
        let flow = wi(
            &server.url,
            FederatedToken::GithubActions {
                request_url: format!("{}/idtoken?api-version=2.0", oidc.url),
                request_token: SecretString::from("gh-request-token"),
                audience: TOKEN_EXCHANGE_AUDIENCE.into(),
            },
        );
        assert_eq!(flow.acquire().await.unwrap().secret(), "graph-at");
        let p = &oidc.seen()[0].path;
        assert_eq!(
            p,
            "/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange"
        );
        let form: std::collections::HashMap<String, String> = parse_form(&server.seen()[0].body);
        assert_eq!(form["client_assertion"], jwt);

        // Refused (no id-token permission) or malformed: explained, the request token unseen.
        let refused = serve(|_, _| Answer::json(403, r#"{"message":"Forbidden"}"#));
        let flow = WorkloadIdentity {
            federated: FederatedToken::GithubActions {
                request_url: format!("{}/idtoken?api-version=2.0", refused.url),
                request_token: SecretString::from("gh-request-token"),
                audience: TOKEN_EXCHANGE_AUDIENCE.into(),
            },
            ..flow
        };
        let msg = flow.acquire().await.unwrap_err().to_string();
        assert!(msg.contains("id-token: write"), "{msg}");
        assert!(msg.contains("HTTP 403"), "{msg}");
        assert!(!msg.contains("gh-request-token"), "{msg}");
        let dbg = format!("{flow:?}");
        assert!(!dbg.contains("gh-request-token"), "{dbg}");

        let remote = WorkloadIdentity {
            federated: FederatedToken::GithubActions {
                request_url: "http://example.com/idtoken?api-version=2.0".into(),
                request_token: SecretString::from("gh-request-token"),
                audience: TOKEN_EXCHANGE_AUDIENCE.into(),
            },
            ..flow
        };
        let msg = remote.acquire().await.unwrap_err().to_string();
        assert!(msg.contains("must be an https URL"), "{msg}");
    }

    #[test]
    fn the_token_file_selects_this_flow_and_github_needs_the_flag() {
        use crate::config::{AuthMethod, FlagOverrides, Settings};
        use crate::graph::auth::{TokenProvider, TokenSource};
        let env = |pairs: &[(&str, &str)]| -> std::collections::HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let ids = [("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c")];
        let file = [
            ids.as_slice(),
            &[("AZURE_FEDERATED_TOKEN_FILE", "/var/run/t")],
        ]
        .concat();
        let s = Settings::from_map(None, &env(&file), &FlagOverrides::default()).unwrap();
        assert_eq!(s.auth, AuthMethod::WorkloadIdentity);

        let gh = [
            ids.as_slice(),
            &[
                (
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    "https://gh.example/idtoken?api-version=2.0",
                ),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "r"),
            ],
        ]
        .concat();
        // GitHub's variables alone do not pick workload identity (any job may have them).
        let s = Settings::from_map(None, &env(&gh), &FlagOverrides::default()).unwrap();
        assert_ne!(s.auth, AuthMethod::WorkloadIdentity);
        let flag = FlagOverrides {
            auth: Some(AuthMethod::WorkloadIdentity),
            ..Default::default()
        };
        let s = Settings::from_map(None, &env(&gh), &flag).unwrap();
        let p = TokenProvider::from_settings(&s).unwrap();
        let TokenSource::WorkloadIdentity(wi) = p.source() else {
            panic!("not workload identity");
        };
        assert!(matches!(
            &wi.federated,
            FederatedToken::GithubActions { audience, .. } if audience == TOKEN_EXCHANGE_AUDIENCE
        ));
        // Neither: the message names both ways.
        let e = Settings::from_map(None, &env(&ids), &flag)
            .unwrap_err()
            .to_string();
        assert!(e.contains("AZURE_FEDERATED_TOKEN_FILE"), "{e}");
        assert!(e.contains("id-token: write"), "{e}");
    }

    #[test]
    fn aadsts_codes_are_read_from_the_description() {
        assert_eq!(aadsts_code("AADSTS70021: No matching"), Some(70021));
        assert_eq!(aadsts_code("AADSTS700212: x"), Some(700212));
        assert_eq!(aadsts_code("something else"), None);
    }
}
