//! The identity-platform side: token and devicecode endpoints, token minting and validation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest;

use crate::reply::{Reply, entra_error};
use crate::state::{DeviceCodeState, RefreshGrant, RegisteredCert, Shared};
use crate::tenant::MockApp;

pub(crate) const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Claims of the access tokens the mock issues (a subset of real Graph v1 tokens).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub appid: String,
    pub app_displayname: String,
    pub idtyp: String,
    pub oid: String,
    pub sub: String,
    pub ver: String,
    pub uti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
}

impl Claims {
    pub fn is_app_only(&self) -> bool {
        self.idtyp == "app"
    }

    /// Granted permission names (roles for app-only, scopes for delegated).
    pub fn permissions(&self) -> Vec<String> {
        if self.is_app_only() {
            self.roles.clone().unwrap_or_default()
        } else {
            self.scp
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect()
        }
    }
}

/// Parses a PEM certificate into thumbprints and its RSA public key.
pub(crate) fn parse_certificate(cert_pem: &str) -> Option<RegisteredCert> {
    let block = pem::parse(cert_pem).ok()?;
    if block.tag() != "CERTIFICATE" {
        return None;
    }
    let der = block.contents();
    let sha256 = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der));
    let sha1 = URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(der));
    // jsonwebtoken reads the SubjectPublicKeyInfo out of a CERTIFICATE PEM block.
    let key = DecodingKey::from_rsa_pem(cert_pem.as_bytes()).ok()?;
    Some(RegisteredCert { sha256, sha1, key })
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Shared {
    /// True when `segment` names this tenant (id or verified domain).
    pub fn is_own_tenant(&self, segment: &str) -> bool {
        segment.eq_ignore_ascii_case(&self.tenant.id)
            || self
                .tenant
                .domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(segment))
    }

    pub fn app_by_client_id(&self, client_id: &str) -> Option<&MockApp> {
        self.tenant
            .apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }

    fn sign(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(&self.signing_secret),
        )
        .unwrap_or_default()
    }

    /// Mints an app-only token for `app`.
    pub fn mint_app_token(&self, app: &MockApp) -> String {
        let now = now_secs();
        let claims = Claims {
            aud: GRAPH_AUDIENCE.into(),
            iss: format!("https://sts.windows.net/{}/", self.tenant.id),
            iat: now,
            nbf: now,
            exp: now + self.token_lifetime.as_secs() as i64,
            tid: self.tenant.id.clone(),
            appid: app.client_id.clone(),
            app_displayname: app.display_name.clone(),
            idtyp: "app".into(),
            oid: uuid::Uuid::new_v4().to_string(),
            sub: app.client_id.clone(),
            ver: "1.0".into(),
            uti: uuid::Uuid::new_v4().simple().to_string(),
            roles: (!app.roles.is_empty()).then(|| app.roles.clone()),
            scp: None,
            upn: None,
        };
        self.sign(&claims)
    }

    /// Mints a delegated token for the app's configured user.
    pub fn mint_user_token(&self, app: &MockApp) -> String {
        let now = now_secs();
        let upn = app.user_principal_name.clone().unwrap_or_default();
        let oid = self
            .tenant
            .find_user(&upn)
            .and_then(|u| u.get("id").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let claims = Claims {
            aud: GRAPH_AUDIENCE.into(),
            iss: format!("https://sts.windows.net/{}/", self.tenant.id),
            iat: now,
            nbf: now,
            exp: now + self.token_lifetime.as_secs() as i64,
            tid: self.tenant.id.clone(),
            appid: app.client_id.clone(),
            app_displayname: app.display_name.clone(),
            idtyp: "user".into(),
            sub: oid.clone(),
            oid,
            ver: "1.0".into(),
            uti: uuid::Uuid::new_v4().simple().to_string(),
            roles: None,
            scp: Some(app.delegated_scopes.join(" ")),
            upn: Some(upn),
        };
        self.sign(&claims)
    }

    /// Validates a bearer token; `Err` carries the Graph 401 message.
    pub fn validate_bearer(&self, token: &str) -> Result<Claims, &'static str> {
        if token.is_empty() {
            return Err("Access token is empty.");
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(&self.signing_secret),
            &validation,
        )
        .map_err(|_| "Invalid signature.")?;
        let claims = data.claims;
        if claims.aud != GRAPH_AUDIENCE && claims.aud != GRAPH_APP_ID {
            return Err("Access token validation failure. Invalid audience.");
        }
        if claims.tid != self.tenant.id {
            return Err("Access token validation failure. Invalid issuer.");
        }
        // A zero lifetime gives tokens that are already expired (handy for tests).
        if claims.exp <= now_secs() {
            return Err("Lifetime validation failed, the token is expired.");
        }
        Ok(claims)
    }

    /// `POST /{tenant}/oauth2/v2.0/token`
    pub fn token_endpoint(&self, tenant_segment: &str, form: &HashMap<String, String>) -> Reply {
        let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
        let delegated_grant = grant == DEVICE_CODE_GRANT || grant == "refresh_token";
        let generic_authority = matches!(tenant_segment, "organizations" | "common");
        let known = self.is_own_tenant(tenant_segment) || (delegated_grant && generic_authority);
        if !known {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90002,
                &format!(
                    "Tenant '{tenant_segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                ),
            );
        }
        let Some(client_id) = form.get("client_id").filter(|c| !c.is_empty()) else {
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
                    "Application with identifier '{client_id}' was not found in the directory '{}'.",
                    self.tenant.id
                ),
            );
        };
        match grant {
            "client_credentials" => self.client_credentials(tenant_segment, app, form),
            DEVICE_CODE_GRANT => self.device_code_grant(app, form),
            "refresh_token" => self.refresh_grant(app, form),
            "" => entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            ),
            other => entra_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            ),
        }
    }

    fn client_credentials(
        &self,
        tenant_segment: &str,
        app: &MockApp,
        form: &HashMap<String, String>,
    ) -> Reply {
        let scope = form.get("scope").map(String::as_str).unwrap_or("");
        if !scope.ends_with("/.default") {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                &format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            );
        }
        let resource = scope.trim_end_matches("/.default").trim_end_matches('/');
        if resource != GRAPH_AUDIENCE && resource != GRAPH_APP_ID {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                &format!(
                    "The resource principal named {resource} was not found in the tenant named {}.",
                    self.tenant.id
                ),
            );
        }
        if let Some(secret) = form.get("client_secret") {
            if app.client_secret.is_empty() || *secret != app.client_secret {
                return entra_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    &format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                        app.client_id
                    ),
                );
            }
        } else if let Some(assertion) = form.get("client_assertion") {
            if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
                return entra_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    50027,
                    "Invalid client_assertion_type; expected urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
                );
            }
            let verified = if crate::federated::is_federated(app, assertion) {
                self.verify_federated(app, assertion)
            } else {
                self.verify_assertion(tenant_segment, app, assertion)
            };
            if let Err((code, msg)) = verified {
                return entra_error(StatusCode::UNAUTHORIZED, "invalid_client", code, &msg);
            }
        } else {
            return entra_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
        let lifetime = self.token_lifetime.as_secs();
        Reply::json(
            StatusCode::OK,
            json!({
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": self.mint_app_token(app),
            }),
        )
    }

    fn verify_assertion(
        &self,
        tenant_segment: &str,
        app: &MockApp,
        assertion: &str,
    ) -> Result<(), (u32, String)> {
        let bad = |code: u32, msg: &str| (code, msg.to_string());
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| bad(50027, "Invalid JWT token. Token format not valid."))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
            return Err(bad(
                5002738,
                "Invalid JWT token. Only RS256 and PS256 client assertions are supported.",
            ));
        }
        let certs = self
            .certificates
            .lock()
            .map(|m| {
                m.get(&app.client_id.to_lowercase())
                    .cloned()
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let cert = certs
            .iter()
            .find(|c| {
                header.x5t_s256.as_deref() == Some(c.sha256.as_str())
                    || header.x5t.as_deref() == Some(c.sha1.as_str())
            })
            .ok_or_else(|| {
                bad(
                    700027,
                    &format!("Client assertion failed signature validation. (Reason - The key was not found., Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.)",
                        header.x5t_s256.as_deref().or(header.x5t.as_deref()).unwrap_or(""), app.client_id),
                )
            })?;
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(assertion, &cert.key, &validation).map_err(|_| {
            bad(
                700027,
                "Client assertion failed signature validation. (Reason - The provided signature value did not match the expected signature value.)",
            )
        })?;
        let claims = data.claims;
        let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
        let accepted = [
            format!("{}/{}/oauth2/v2.0/token", self.base_url, tenant_segment),
            format!("{}/{}/oauth2/v2.0/token", self.base_url, self.tenant.id),
        ];
        if !accepted.iter().any(|a| a.eq_ignore_ascii_case(aud)) {
            return Err(bad(
                700021,
                &format!(
                    "Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials. (expected {})",
                    accepted[0]
                ),
            ));
        }
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
        if !iss.eq_ignore_ascii_case(&app.client_id) || !sub.eq_ignore_ascii_case(&app.client_id) {
            return Err(bad(
                700023,
                "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.",
            ));
        }
        let now = now_secs();
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
        if exp <= now || nbf > now + 300 {
            return Err(bad(
                700024,
                "Client assertion is not within its valid time range.",
            ));
        }
        Ok(())
    }

    /// `POST /{tenant}/oauth2/v2.0/devicecode`
    pub fn devicecode_endpoint(
        &self,
        tenant_segment: &str,
        form: &HashMap<String, String>,
    ) -> Reply {
        if !self.is_own_tenant(tenant_segment)
            && !matches!(tenant_segment, "organizations" | "common")
        {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90002,
                &format!("Tenant '{tenant_segment}' not found."),
            );
        }
        let client_id = form.get("client_id").cloned().unwrap_or_default();
        let Some(app) = self.app_by_client_id(&client_id) else {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'.",
                    self.tenant.id
                ),
            );
        };
        if app.user_principal_name.is_none() {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. (The application is not configured as a public client.)",
            );
        }
        let Some(scope) = form.get("scope").filter(|s| !s.trim().is_empty()) else {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            );
        };
        let device_code = format!(
            "DAQABIQEAAAD{}",
            URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
        );
        let raw = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let user_code = raw[..9].to_string();
        if let Ok(mut codes) = self.device_codes.lock() {
            codes.insert(
                device_code.clone(),
                DeviceCodeState {
                    client_id: app.client_id.clone(),
                    scopes: scope.split_whitespace().map(str::to_string).collect(),
                    polls: 0,
                    issued: Instant::now(),
                },
            );
        }
        let uri = "https://microsoft.com/devicelogin";
        Reply::json(
            StatusCode::OK,
            json!({
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": uri,
                "expires_in": DEVICE_CODE_LIFETIME.as_secs(),
                "interval": 1,
                "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
            }),
        )
    }

    fn device_code_grant(&self, app: &MockApp, form: &HashMap<String, String>) -> Reply {
        let code = form.get("device_code").cloned().unwrap_or_default();
        let outcome = {
            let Ok(mut codes) = self.device_codes.lock() else {
                return Reply::internal();
            };
            match codes.get_mut(&code) {
                None => Err((
                    "invalid_grant",
                    70000,
                    "The provided value for the input parameter 'device_code' is not valid.",
                )),
                Some(state) if !state.client_id.eq_ignore_ascii_case(&app.client_id) => Err((
                    "invalid_grant",
                    70000,
                    "The device code was issued to another client.",
                )),
                Some(state) if state.issued.elapsed() > DEVICE_CODE_LIFETIME => Err((
                    "expired_token",
                    70020,
                    "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
                )),
                Some(state) if state.polls < self.device_code_pending_polls => {
                    state.polls += 1;
                    Err((
                        "authorization_pending",
                        70016,
                        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                    ))
                }
                Some(_) => Ok(codes.remove(&code).map(|s| s.scopes).unwrap_or_default()),
            }
        };
        match outcome {
            Err((error, n, msg)) => entra_error(StatusCode::BAD_REQUEST, error, n, msg),
            Ok(scopes) => self.delegated_token_reply(app, scopes),
        }
    }

    fn refresh_grant(&self, app: &MockApp, form: &HashMap<String, String>) -> Reply {
        let token = form.get("refresh_token").cloned().unwrap_or_default();
        let grant = self.refresh_tokens.lock().ok().and_then(|m| {
            m.get(&token)
                .map(|g| (g.client_id.clone(), g.scopes.clone()))
        });
        match grant {
            Some((client, scopes)) if client.eq_ignore_ascii_case(&app.client_id) => {
                self.delegated_token_reply(app, scopes)
            }
            _ => entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            ),
        }
    }

    pub(crate) fn delegated_token_reply(&self, app: &MockApp, requested: Vec<String>) -> Reply {
        let lifetime = self.token_lifetime.as_secs();
        let granted: Vec<String> = app
            .delegated_scopes
            .iter()
            .map(|s| format!("{GRAPH_AUDIENCE}/{s}"))
            .collect();
        let mut body = json!({
            "token_type": "Bearer",
            "scope": granted.join(" "),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self.mint_user_token(app),
        });
        if requested.iter().any(|s| s == "offline_access") {
            let refresh = format!(
                "1.AQ{}",
                URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
            );
            if let Ok(mut m) = self.refresh_tokens.lock() {
                m.insert(
                    refresh.clone(),
                    RefreshGrant {
                        client_id: app.client_id.clone(),
                        scopes: requested,
                    },
                );
            }
            body["refresh_token"] = json!(refresh);
        }
        Reply::json(StatusCode::OK, body)
    }
}

const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(900);

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}
