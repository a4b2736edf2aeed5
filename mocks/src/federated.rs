//! Workload identity federation: federated credentials registered on fixture apps
//! (`federatedCredentials` in `apps.json`: issuer, subject, audiences), the check of a federated
//! `client_assertion` at the token endpoint, a GitHub Actions style OIDC token service
//! (`GET /github-actions/idtoken?api-version=2.0&audience=…` with `Authorization: bearer
//! {ACTIONS_ID_TOKEN_REQUEST_TOKEN}`, answered `{"count", "value"}` as actions/toolkit
//! `packages/core/src/oidc-utils.ts` reads it), and federated tokens minted for tests.
//!
//! Federated tokens are signed with the mock's own key (HS256): the mock stands in for the
//! issuer's JWKS. The identity platform's refusals, in its error shape: AADSTS70021 when the app
//! has no federated credential at all (the generic "No matching federated identity record found
//! for presented assertion", MicrosoftDocs/entra-docs
//! `docs/workload-id/workload-identity-federation-considerations.md`), AADSTS700211 for an
//! unknown issuer, AADSTS700213 for an unknown subject, AADSTS700212 for a wrong audience (the
//! narrower forms the service answers today), AADSTS700024 for a token outside its valid time
//! range, AADSTS700027 for a bad signature.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::bearer;
use crate::reply::Reply;
use crate::state::Shared;
use crate::tenant::MockApp;

/// GitHub Actions' OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The issuer of contoso's Kubernetes (AKS) federated credential.
pub const KUBERNETES_ISSUER: &str = "https://westeurope.oic.prod-aks.azure.com/5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13/2c9d8e7f-6a5b-4c3d-9e8f-7a6b5c4d3e2f/";
/// The audience Entra accepts in a federated token.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The subject the mock's GitHub OIDC service issues: a push to main of contoso/intune-audit.
pub const GITHUB_SUBJECT: &str = "repo:contoso/intune-audit:ref:refs/heads/main";
/// The `ACTIONS_ID_TOKEN_REQUEST_TOKEN` the mock's GitHub OIDC service expects.
pub const GITHUB_REQUEST_TOKEN: &str = "mock~actions-id-token-request~NOT-A-REAL-SECRET";
const WIF_DOCS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

/// A federated identity credential of an app (`apps.json` `federatedCredentials`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FederatedCredential {
    #[serde(default)]
    pub name: String,
    pub issuer: String,
    pub subject: String,
    #[serde(default = "default_audiences")]
    pub audiences: Vec<String>,
}

fn default_audiences() -> Vec<String> {
    vec![TOKEN_EXCHANGE_AUDIENCE.to_string()]
}

/// A certificate assertion is issued by the app itself (`iss` = `sub` = its client id); any
/// other issuer makes it a federated token.
pub(crate) fn is_federated(app: &MockApp, assertion: &str) -> bool {
    unverified_claims(assertion)
        .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string))
        .is_some_and(|iss| !iss.eq_ignore_ascii_case(&app.client_id))
}

fn unverified_claims(jwt: &str) -> Option<Value> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn audiences(claims: &Value) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Shared {
    /// Signs `claims` as a federated token of some outside issuer (the mock's key).
    pub(crate) fn sign_federated(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("mock-oidc-key".into());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_secret(&self.signing_secret),
        )
        .unwrap_or_default()
    }

    fn federated_claims(
        &self,
        issuer: &str,
        subject: &str,
        audience: &str,
        expires_in: i64,
    ) -> Value {
        let now = now_secs();
        json!({
            "iss": issuer,
            "sub": subject,
            "aud": audience,
            "iat": now.min(now + expires_in) - 60,
            "nbf": now.min(now + expires_in) - 60,
            "exp": now + expires_in,
            "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    /// Checks a federated `client_assertion` against `app`'s federated credentials; `Err`
    /// carries the AADSTS code and description.
    pub(crate) fn verify_federated(
        &self,
        app: &MockApp,
        assertion: &str,
    ) -> Result<(), (u32, String)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Value>(
            assertion,
            &DecodingKey::from_secret(&self.signing_secret),
            &validation,
        )
        .map_err(|_| {
            (
                700027,
                "Client assertion failed signature validation. (Reason - The key was not found.)"
                    .to_string(),
            )
        })?
        .claims;
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (iss, sub) = (text("iss"), text("sub"));
        let aud = audiences(&claims);
        let now = now_secs();
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
        if exp <= now || nbf > now + 300 {
            let at = |s: i64| {
                chrono::DateTime::<chrono::Utc>::from_timestamp(s, 0)
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%S.0000000Z").to_string())
                    .unwrap_or_default()
            };
            return Err((
                700024,
                format!(
                    "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                    at(now),
                    at(nbf),
                    at(exp)
                ),
            ));
        }
        let creds = &app.federated_credentials;
        if creds.is_empty() {
            return Err((
                70021,
                format!(
                    "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'. {WIF_DOCS}",
                    aud.join(",")
                ),
            ));
        }
        let by_issuer: Vec<&FederatedCredential> =
            creds.iter().filter(|c| c.issuer == iss).collect();
        if by_issuer.is_empty() {
            return Err((
                700211,
                format!(
                    "No matching federated identity record found for presented assertion issuer '{iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOCS}"
                ),
            ));
        }
        let matching: Vec<&&FederatedCredential> =
            by_issuer.iter().filter(|c| c.subject == sub).collect();
        if matching.is_empty() {
            return Err((
                700213,
                format!(
                    "No matching federated identity record found for presented assertion subject '{sub}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOCS}"
                ),
            ));
        }
        if !matching
            .iter()
            .any(|c| c.audiences.iter().any(|a| aud.contains(a)))
        {
            return Err((
                700212,
                format!(
                    "No matching federated identity record found for presented assertion audience '{}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {WIF_DOCS}",
                    aud.join(",")
                ),
            ));
        }
        Ok(())
    }

    /// `GET /github-actions/idtoken?api-version=2.0&audience=…`
    fn github_oidc(&self, method: &Method, query: &str, headers: &HeaderMap) -> Reply {
        if method != Method::GET {
            return Reply::json(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"message": "Only GET is supported."}),
            );
        }
        if bearer(headers).as_deref() != Some(GITHUB_REQUEST_TOKEN) {
            return Reply::json(
                StatusCode::UNAUTHORIZED,
                json!({"message": "Unauthorized: the request token is missing, invalid or expired."}),
            );
        }
        let q: HashMap<String, String> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map(|v| v.into_iter().collect())
            .unwrap_or_default();
        // GitHub's default audience is the URL of the repository owner.
        let audience = q
            .get("audience")
            .cloned()
            .unwrap_or_else(|| "https://github.com/contoso".to_string());
        let mut claims = self.federated_claims(GITHUB_ISSUER, GITHUB_SUBJECT, &audience, 300);
        if let Value::Object(o) = &mut claims {
            for (k, v) in [
                ("repository", "contoso/intune-audit"),
                ("repository_owner", "contoso"),
                ("ref", "refs/heads/main"),
                ("event_name", "push"),
                ("workflow", "audit"),
            ] {
                o.insert(k.into(), json!(v));
            }
        }
        let value = self.sign_federated(&claims);
        Reply::json(
            StatusCode::OK,
            json!({"count": value.len(), "value": value}),
        )
    }
}

/// Routes `segments` here when they name the GitHub OIDC service.
pub(crate) fn route(
    shared: &Shared,
    method: &Method,
    segments: &[&str],
    query: &str,
    headers: &HeaderMap,
) -> Option<Reply> {
    match segments {
        ["github-actions", "idtoken"] => Some(shared.github_oidc(method, query, headers)),
        _ => None,
    }
}

impl crate::MockHandle {
    /// A federated token from `issuer` for `subject` with audience `api://AzureADTokenExchange`,
    /// expiring `expires_in_secs` from now (negative: already expired), as a platform would
    /// write it to `AZURE_FEDERATED_TOKEN_FILE`.
    pub fn federated_token(&self, issuer: &str, subject: &str, expires_in_secs: i64) -> String {
        self.federated_token_for_audience(issuer, subject, TOKEN_EXCHANGE_AUDIENCE, expires_in_secs)
    }

    /// [`Self::federated_token`] with another audience.
    pub fn federated_token_for_audience(
        &self,
        issuer: &str,
        subject: &str,
        audience: &str,
        expires_in_secs: i64,
    ) -> String {
        let claims = self
            .shared
            .federated_claims(issuer, subject, audience, expires_in_secs);
        self.shared.sign_federated(&claims)
    }

    /// An `ACTIONS_ID_TOKEN_REQUEST_URL` for the mock's GitHub OIDC service.
    pub fn github_oidc_url(&self) -> String {
        format!(
            "{}/github-actions/idtoken?api-version=2.0",
            self.shared.base_url
        )
    }

    /// The `ACTIONS_ID_TOKEN_REQUEST_TOKEN` it expects.
    pub fn github_oidc_request_token(&self) -> &'static str {
        GITHUB_REQUEST_TOKEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MockConfig, MockGraph};

    fn workload(mock: &MockGraph) -> MockApp {
        mock.app("workload")
            .expect("contoso registers a workload app")
    }

    #[tokio::test]
    async fn federated_assertions_are_checked_against_the_credentials() {
        let mock = MockGraph::start(MockConfig::fixture("contoso"))
            .await
            .unwrap();
        let app = workload(&mock);
        let shared = &mock.handle().shared;
        let code = |jwt: &str| shared.verify_federated(&app, jwt).err().map(|(c, _)| c);

        let good = mock.federated_token(GITHUB_ISSUER, GITHUB_SUBJECT, 300);
        assert!(is_federated(&app, &good));
        assert_eq!(code(&good), None);
        let k8s = mock.federated_token(
            KUBERNETES_ISSUER,
            "system:serviceaccount:enroll-doctor:auditor",
            300,
        );
        assert_eq!(code(&k8s), None);
        assert_eq!(
            code(&mock.federated_token(GITHUB_ISSUER, GITHUB_SUBJECT, -60)),
            Some(700024)
        );
        assert_eq!(
            code(&mock.federated_token(
                GITHUB_ISSUER,
                "repo:contoso/other:ref:refs/heads/main",
                300
            )),
            Some(700213)
        );
        assert_eq!(
            code(&mock.federated_token("https://issuer.example", GITHUB_SUBJECT, 300)),
            Some(700211)
        );
        assert_eq!(
            code(&mock.federated_token_for_audience(
                GITHUB_ISSUER,
                GITHUB_SUBJECT,
                "https://github.com/contoso",
                300
            )),
            Some(700212)
        );
        // Another key's signature, and an app without federated credentials.
        let mut forged = good.clone();
        forged.push('x');
        assert_eq!(code(&forged), Some(700027));
        let auditor = mock.app("auditor").unwrap();
        assert_eq!(
            shared
                .verify_federated(&auditor, &good)
                .err()
                .map(|(c, _)| c),
            Some(70021)
        );
        mock.shutdown().await;
    }

    #[tokio::test]
    async fn the_token_endpoint_and_the_oidc_service_speak_the_real_shapes() {
        let mock = MockGraph::start(MockConfig::fixture("contoso"))
            .await
            .unwrap();
        let app = workload(&mock);
        let http = reqwest::Client::new();
        let oidc = |token: &'static str| {
            http.get(format!(
                "{}&audience=api%3A%2F%2FAzureADTokenExchange",
                mock.github_oidc_url()
            ))
            .header("Authorization", format!("bearer {token}"))
            .send()
        };
        assert_eq!(oidc("wrong").await.unwrap().status(), 401);
        let v: Value = oidc(GITHUB_REQUEST_TOKEN)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let jwt = v["value"].as_str().unwrap().to_string();
        let claims = unverified_claims(&jwt).unwrap();
        assert_eq!(claims["iss"], GITHUB_ISSUER);
        assert_eq!(claims["sub"], GITHUB_SUBJECT);
        assert_eq!(claims["aud"], TOKEN_EXCHANGE_AUDIENCE);

        let exchange = |assertion: String| {
            http.post(mock.token_url())
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", app.client_id.as_str()),
                    ("scope", "https://graph.microsoft.com/.default"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.as_str()),
                ])
                .send()
        };
        let ok = exchange(jwt).await.unwrap();
        assert_eq!(ok.status(), 200);
        let body: Value = ok.json().await.unwrap();
        assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
        let refused =
            exchange(mock.federated_token(GITHUB_ISSUER, "repo:x/y:ref:refs/heads/z", 300))
                .await
                .unwrap();
        assert_eq!(refused.status(), 401);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert_eq!(body["error_codes"][0], 700213);
        for k in [
            "error_description",
            "timestamp",
            "trace_id",
            "correlation_id",
        ] {
            assert!(body[k].is_string(), "{k}: {body}");
        }
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with("AADSTS700213: No matching federated identity record found")
        );
        mock.shutdown().await;
    }
}
