//! App-only tokens of an Azure managed identity: the VM's Instance Metadata Service (IMDS), or
//! the App Service / Functions / Container Apps / Automation endpoint (`IDENTITY_ENDPOINT` +
//! `IDENTITY_HEADER`).
//!
//! The protocols, as Microsoft documents them:
//! - IMDS (MicrosoftDocs/entra-docs
//!   `docs/identity/managed-identities-azure-resources/how-to-use-vm-token.md`, "Get a token
//!   using HTTP", "Error handling", "Retry guidance"): `GET
//!   http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`
//!   with the header `Metadata: true` (an SSRF guard), `client_id=` for a user-assigned identity.
//!   The answer carries `access_token`, `expires_in` and `expires_on` as *strings*. 404 (IMDS
//!   updating), 410 (updating, back within 70 s), 429 and 5xx are retried with exponential
//!   backoff; any other 4xx is a design-time error and is not. A 400 means the identity asked
//!   for is not assigned to the resource (Azure.Identity's `ImdsManagedIdentitySource.cs`: "The
//!   requested identity has not been assigned to this resource").
//! - App Service and the platforms that copy it (MicrosoftDocs/azure-docs
//!   `articles/app-service/overview-managed-identity.md`, "Using the REST protocol"): `GET
//!   {IDENTITY_ENDPOINT}?resource=…&api-version=2019-08-01` with `X-IDENTITY-HEADER:
//!   {IDENTITY_HEADER}` (rotated by the platform), `client_id=` for a user-assigned identity;
//!   the answer has `expires_on` in epoch seconds (the older 2017-09-01 version sent a date,
//!   which is still parsed).
//!
//! Both endpoints are plain http on purpose (loopback or link-local); any other address must
//! be https. `IDENTITY_HEADER` never reaches a log: its header value is marked sensitive, so
//! `--trace-http` shows it as `[REDACTED]`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::error::AuthError;
use super::oauth_http::{OAuthHttp, error_chain, truncate};
use super::token::AccessToken;
use crate::config::{HttpSettings, ManagedIdentityEnv};
use crate::graph::retry::RetryPolicy;

const FLOW: &str = "managed identity";
/// IMDS when `AZURE_POD_IDENTITY_AUTHORITY_HOST` does not say otherwise.
pub const IMDS_DEFAULT: &str = "http://169.254.169.254";
const IMDS_TOKEN_PATH: &str = "/metadata/identity/oauth2/token";
const IMDS_API_VERSION: &str = "2018-02-01";
const APP_SERVICE_API_VERSION: &str = "2019-08-01";
/// A machine without IMDS does not answer 169.254.169.254 at all: 2 s to connect is plenty for
/// a link-local address (Azure.Identity probes for 1 s) and keeps the failure quick.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a managed identity token request needs.
#[derive(Debug, Clone)]
pub struct ManagedIdentity {
    pub http: OAuthHttp,
    /// A user-assigned identity's client id; `None` for the system-assigned identity.
    pub client_id: Option<String>,
    pub env: ManagedIdentityEnv,
    /// The token audience, e.g. `https://graph.microsoft.com` (no `/.default`).
    pub resource: String,
}

/// Which endpoint answers, from the environment.
enum Endpoint {
    Imds(Url),
    AppService { url: Url, header: SecretString },
}

impl Endpoint {
    fn url(&self) -> &Url {
        match self {
            Endpoint::Imds(u) | Endpoint::AppService { url: u, .. } => u,
        }
    }
}

/// IMDS retry guidance: 404, 410, 429 and every 5xx.
fn imds_retryable(status: u16) -> bool {
    matches!(status, 404 | 410 | 429 | 500..=599)
}

/// App Service documents no retry set: the identity platform's transient statuses.
fn app_service_retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl ManagedIdentity {
    /// The HTTP client for a managed identity endpoint: [`OAuthHttp::local_endpoint`] with
    /// [`CONNECT_TIMEOUT`], and the IMDS guidance's backoff (about 2, 4, 8… s between
    /// attempts, "at least 1 second" after a 5xx), bounded by `[http]` attempts and waits.
    pub fn http_for(h: &HttpSettings) -> Result<OAuthHttp, AuthError> {
        OAuthHttp::local_endpoint(
            h,
            CONNECT_TIMEOUT,
            RetryPolicy {
                max_attempts: h.max_attempts.max(1),
                base_backoff: Duration::from_secs(2),
                max_backoff: Duration::from_secs(30),
                max_wait: h.max_retry_wait,
            },
        )
    }

    pub async fn acquire(&self) -> Result<AccessToken, AuthError> {
        let endpoint = self.endpoint()?;
        let mut url = endpoint.url().clone();
        {
            let mut q = url.query_pairs_mut();
            match &endpoint {
                Endpoint::Imds(_) => q.append_pair("api-version", IMDS_API_VERSION),
                Endpoint::AppService { .. } => {
                    q.append_pair("api-version", APP_SERVICE_API_VERSION)
                }
            };
            q.append_pair("resource", &self.resource);
            if let Some(id) = &self.client_id {
                q.append_pair("client_id", id);
            }
        }
        let mut req = http::Request::builder()
            .method(http::Method::GET)
            .uri(url.as_str())
            .header(http::header::ACCEPT, "application/json");
        let http = match &endpoint {
            Endpoint::Imds(_) => {
                req = req.header("Metadata", "true");
                self.http.clone().with_retryable(imds_retryable)
            }
            Endpoint::AppService { header, .. } => {
                let mut v = http::HeaderValue::from_str(header.expose_secret()).map_err(|_| {
                    AuthError::Config {
                        message: "IDENTITY_HEADER is not a valid HTTP header value".into(),
                    }
                })?;
                // Shown as [REDACTED] by --trace-http.
                v.set_sensitive(true);
                req = req.header("X-IDENTITY-HEADER", v);
                self.http.clone().with_retryable(app_service_retryable)
            }
        };
        let req = req.body(Vec::new()).map_err(|e| AuthError::Config {
            message: format!("cannot build the managed identity request: {e}"),
        })?;
        let resp = http
            .send(req)
            .await
            .map_err(|e| transport_error(&endpoint, e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(self.refused(&endpoint, status, resp.body()));
        }
        parse_token(resp.body(), Utc::now())
    }

    fn endpoint(&self) -> Result<Endpoint, AuthError> {
        match &self.env.identity_endpoint {
            Some(raw) => {
                let url = checked_url(raw, "IDENTITY_ENDPOINT")?;
                let header = self.env.identity_header.clone().ok_or_else(|| AuthError::Config {
                    message: "IDENTITY_ENDPOINT is set but IDENTITY_HEADER is not: the platform sets both (App Service, Functions, Container Apps, Automation); unset IDENTITY_ENDPOINT to use the VM's IMDS".into(),
                })?;
                Ok(Endpoint::AppService { url, header })
            }
            None => {
                let base = self.env.imds_url.as_deref().unwrap_or(IMDS_DEFAULT);
                let base = base.trim_end_matches('/');
                let url = checked_url(
                    &format!("{base}{IMDS_TOKEN_PATH}"),
                    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                )?;
                Ok(Endpoint::Imds(url))
            }
        }
    }

    /// A non-2xx answer, explained.
    fn refused(&self, endpoint: &Endpoint, status: u16, body: &[u8]) -> AuthError {
        let (error, description) = error_fields(body);
        let recognised = error.is_some();
        let error = error.unwrap_or_else(|| format!("HTTP {status}"));
        let said = description.unwrap_or_default();
        let lower = format!("{error} {said}").to_ascii_lowercase();
        let not_assigned = lower.contains("identity not found")
            || lower.contains("unable to load the proper managed identity")
            || (matches!(endpoint, Endpoint::Imds(_))
                && status == 400
                && !lower.contains("invalid_resource")
                && !lower.contains("bad_request_102"));
        let hint = if not_assigned {
            match &self.client_id {
                Some(id) => format!(
                    "no user-assigned managed identity with client id {id} is assigned to this resource: check that --client-id (or AZURE_CLIENT_ID) is the identity's client id, not its object id, and that the identity is attached to this VM or app"
                ),
                None => "the system-assigned managed identity is not enabled on this resource: turn it on (Identity > System assigned), or name a user-assigned identity with --client-id".to_string(),
            }
        } else if lower.contains("invalid_resource") {
            format!(
                "the resource {} is not known in the identity's tenant (check --cloud or ENROLL_DOCTOR_GRAPH_RESOURCE)",
                self.resource
            )
        } else if matches!(endpoint, Endpoint::AppService { .. }) && matches!(status, 401 | 403) {
            "the endpoint refused IDENTITY_HEADER: the platform rotates it, so run with the environment the platform sets now rather than a copied value".to_string()
        } else if matches!(endpoint, Endpoint::Imds(_)) && matches!(status, 404 | 410) {
            "IMDS is updating (it answers again within about 70 s) or this address is not Azure's IMDS; try again shortly".to_string()
        } else if matches!(endpoint, Endpoint::Imds(_)) && !recognised {
            format!(
                "the answer from {} is not Azure IMDS's (no error code in it): this machine may not be an Azure VM, or a proxy or firewall answers for that address",
                endpoint.url().origin().ascii_serialization()
            )
        } else {
            String::new()
        };
        let description = match (said.is_empty(), hint.is_empty()) {
            (true, true) => None,
            (false, true) => Some(said),
            (true, false) => Some(hint),
            (false, false) => Some(format!("{said}; {hint}")),
        };
        AuthError::Rejected {
            flow: FLOW,
            error,
            description,
        }
    }
}

/// `raw` parsed, https, or http to loopback or link-local (169.254.0.0/16, fe80::/10).
fn checked_url(raw: &str, var: &str) -> Result<Url, AuthError> {
    let url = Url::parse(raw.trim()).map_err(|e| AuthError::Config {
        message: format!("{var} is not a URL ({e}): {raw}"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AuthError::Config {
            message: format!("{var}: credentials are not accepted inside the URL"),
        });
    }
    let link_local = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| match ip {
            std::net::IpAddr::V4(v4) => v4.is_link_local(),
            std::net::IpAddr::V6(v6) => v6.is_unicast_link_local(),
        });
    let local = crate::config::is_loopback(&url) || link_local;
    match url.scheme() {
        "https" => Ok(url),
        "http" if local => Ok(url),
        "http" => Err(AuthError::Config {
            message: format!(
                "{var} {raw} uses plain http to a host that is neither loopback nor link-local (169.254.x.x); use https"
            ),
        }),
        other => Err(AuthError::Config {
            message: format!("{var}: unsupported scheme {other}: (expected http or https)"),
        }),
    }
}

fn transport_error(endpoint: &Endpoint, e: oauth2::HttpClientError<reqwest::Error>) -> AuthError {
    let origin = endpoint.url().origin().ascii_serialization();
    match e {
        oauth2::HttpClientError::Reqwest(r) if r.is_connect() => AuthError::Transport {
            flow: FLOW,
            message: match endpoint {
                Endpoint::Imds(_) => format!(
                    "no managed identity endpoint answered at {origin}: this machine is not an Azure VM/Function with a managed identity, or IMDS is blocked"
                ),
                Endpoint::AppService { .. } => format!(
                    "no managed identity endpoint answered at IDENTITY_ENDPOINT ({origin}): the platform's token service is not running here (was IDENTITY_ENDPOINT copied from another machine?)"
                ),
            },
        },
        oauth2::HttpClientError::Reqwest(r) if r.is_timeout() => AuthError::Transport {
            flow: FLOW,
            message: format!(
                "the managed identity endpoint at {origin} did not answer in time (http.timeout_secs)"
            ),
        },
        oauth2::HttpClientError::Reqwest(r) => AuthError::Transport {
            flow: FLOW,
            message: error_chain(r.as_ref()),
        },
        oauth2::HttpClientError::Other(message) => AuthError::BadResponse {
            flow: FLOW,
            message,
        },
        other => AuthError::Transport {
            flow: FLOW,
            message: error_chain(&other),
        },
    }
}

/// `error`/`error_description` (IMDS, OAuth), `error.code`/`error.message`, or App Service's
/// `statusCode`/`message`; each bounded to one line.
fn error_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let line = |s: &str| truncate(s.lines().next().unwrap_or_default().trim(), 300);
    let text = |v: Option<&serde_json::Value>| v.and_then(|x| x.as_str()).map(line);
    match v.get("error") {
        Some(serde_json::Value::String(e)) => (Some(line(e)), text(v.get("error_description"))),
        Some(obj @ serde_json::Value::Object(_)) => {
            (text(obj.get("code")), text(obj.get("message")))
        }
        _ => (None, text(v.get("message")).or(text(v.get("Message")))),
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    expires_on: Option<serde_json::Value>,
}

/// The token and its lifetime: `expires_on` (absolute: right even for a token IMDS had cached)
/// or else `expires_in`, as strings or numbers; clamped by [`AccessToken::new`].
fn parse_token(body: &[u8], now: DateTime<Utc>) -> Result<AccessToken, AuthError> {
    // serde's message may quote a value (the token): only say where it went wrong.
    let answer: TokenAnswer = serde_json::from_slice(body).map_err(|e| AuthError::BadResponse {
        flow: FLOW,
        message: format!(
            "the token response is not the expected JSON (line {}, column {})",
            e.line(),
            e.column()
        ),
    })?;
    let token = answer
        .access_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| AuthError::BadResponse {
            flow: FLOW,
            message: "the token response has no access_token".into(),
        })?;
    let lifetime = answer
        .expires_on
        .as_ref()
        .and_then(parse_expires_on)
        .map(|at| u64::try_from((at - now).num_seconds()).unwrap_or(0))
        .or_else(|| answer.expires_in.as_ref().and_then(parse_seconds));
    Ok(AccessToken::new(token, lifetime))
}

fn parse_seconds(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Epoch seconds (string or number), RFC 3339, or App Service 2017-09-01's
/// `MM/dd/yyyy HH:mm:ss +00:00` (with or without AM/PM).
fn parse_expires_on(v: &serde_json::Value) -> Option<DateTime<Utc>> {
    let epoch = |s: i64| DateTime::<Utc>::from_timestamp(s, 0);
    match v {
        serde_json::Value::Number(n) => n.as_i64().and_then(epoch),
        serde_json::Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return epoch(n);
            }
            if let Ok(d) = DateTime::parse_from_rfc3339(s) {
                return Some(d.with_timezone(&Utc));
            }
            ["%m/%d/%Y %H:%M:%S %:z", "%m/%d/%Y %I:%M:%S %p %:z"]
                .iter()
                .find_map(|f| DateTime::parse_from_str(s, f).ok())
                .map(|d| d.with_timezone(&Utc))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::test_server::{Answer, serve};

    fn quick() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_wait: Duration::from_millis(50),
        }
    }

    fn mi(env: ManagedIdentityEnv, client_id: Option<&str>) -> ManagedIdentity {
        ManagedIdentity {
            http: OAuthHttp::local_endpoint(&HttpSettings::default(), CONNECT_TIMEOUT, quick())
                .unwrap(),
            client_id: client_id.map(str::to_string),
            env,
            resource: "https://graph.microsoft.com".into(),
        }
    }

    fn imds_at(url: &str) -> ManagedIdentityEnv {
        ManagedIdentityEnv {
            imds_url: Some(url.to_string()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn imds_request_shape_and_string_lifetimes() {
        let exp = Utc::now().timestamp() + 1800;
        let server = serve(move |_, _| {
            Answer::json(
                200,
                &format!(
                    r#"{{"access_token":"at-imds","refresh_token":"","expires_in":"3599","expires_on":"{exp}","not_before":"1","resource":"https://graph.microsoft.com","token_type":"Bearer"}}"#
                ),
            )
        });
        let t = mi(
            imds_at(&server.url),
            Some("11111111-2222-3333-4444-555555555555"),
        )
        .acquire()
        .await
        .unwrap();
        assert_eq!(t.secret(), "at-imds");
        // expires_on wins over expires_in (IMDS hands out cached tokens).
        let life = (t.expires_at - t.obtained_at).num_seconds();
        assert!((1795..=1800).contains(&life), "{life}");
        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        let p = &seen[0].path;
        assert!(
            p.starts_with("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fgraph.microsoft.com"),
            "{p}"
        );
        assert!(
            p.ends_with("&client_id=11111111-2222-3333-4444-555555555555"),
            "{p}"
        );
    }

    #[tokio::test]
    async fn app_service_request_shape_and_lifetimes() {
        let server = serve(|_, _| {
            Answer::json(
                200,
                r#"{"access_token":"at-app","expires_in":"600","resource":"https://graph.microsoft.com","token_type":"Bearer"}"#,
            )
        });
        let env = ManagedIdentityEnv {
            identity_endpoint: Some(format!("{}/msi/token", server.url)),
            identity_header: Some(SecretString::from("hdr")),
            imds_url: None,
        };
        let t = mi(env, None).acquire().await.unwrap();
        assert_eq!(t.secret(), "at-app");
        assert_eq!((t.expires_at - t.obtained_at).num_seconds(), 600);
        let p = &server.seen()[0].path;
        assert_eq!(
            p,
            "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fgraph.microsoft.com"
        );
    }

    #[test]
    fn expires_on_in_every_shape() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let life = |body: &str| {
            let t = parse_token(body.as_bytes(), now).unwrap();
            (t.expires_at - t.obtained_at).num_seconds()
        };
        let epoch = now.timestamp() + 3000;
        assert!((2990..=3000).contains(&life(&format!(
            r#"{{"access_token":"a","expires_on":{epoch}}}"#
        ))));
        // App Service 2017-09-01 dates, with and without AM/PM; RFC 3339.
        for on in [
            "05/01/2026 10:50:00 +00:00",
            "05/01/2026 10:50:00 AM +00:00",
            "2026-05-01T10:50:00Z",
        ] {
            let l = life(&format!(r#"{{"access_token":"a","expires_on":"{on}"}}"#));
            assert!(l > 0 && l <= 3000, "{on}: {l}");
        }
        // Absurd values are clamped or fall back; nothing panics.
        for body in [
            r#"{"access_token":"a","expires_on":"99999999999999999999"}"#,
            r#"{"access_token":"a","expires_on":"9223372036854775807"}"#,
            r#"{"access_token":"a","expires_in":"18446744073709551615"}"#,
            r#"{"access_token":"a","expires_on":"soon","expires_in":"-5"}"#,
        ] {
            assert!(life(body) <= 86_400, "{body}");
        }
        // In the past: a token that is not fresh (fetched again next time).
        assert_eq!(life(r#"{"access_token":"a","expires_on":"1000"}"#), 0);
        // Without a lifetime: one hour.
        assert_eq!(life(r#"{"access_token":"a"}"#), 3600);
    }

    #[test]
    fn a_malformed_answer_does_not_echo_the_token() {
        let e = parse_token(br#"{"access_token":42}"#, Utc::now()).unwrap_err();
        assert!(matches!(e, AuthError::BadResponse { .. }), "{e}");
        let e = parse_token(br#"{"access_token":["eyJsecret"]}"#, Utc::now()).unwrap_err();
        assert!(!e.to_string().contains("eyJsecret"), "{e}");
        let e = parse_token(br#"{"token":"x"}"#, Utc::now()).unwrap_err();
        assert!(e.to_string().contains("no access_token"), "{e}");
    }

    #[tokio::test]
    async fn imds_retries_404_410_429_5xx_but_not_400() {
        let server = serve(|n, _| match n {
            0 => Answer::json(404, "{}"),
            1 => Answer::json(410, "{}"),
            2 => Answer::json(503, "{}"),
            _ => Answer::json(200, r#"{"access_token":"late","expires_in":"60"}"#),
        });
        let mut m = mi(imds_at(&server.url), None);
        m.http = m.http.with_retry(RetryPolicy {
            max_attempts: 4,
            ..quick()
        });
        assert_eq!(m.acquire().await.unwrap().secret(), "late");
        assert_eq!(server.seen().len(), 4);

        let missing = serve(|_, _| {
            Answer::json(
                400,
                r#"{"error":"invalid_request","error_description":"Identity not found"}"#,
            )
        });
        let err = mi(imds_at(&missing.url), None).acquire().await.unwrap_err();
        assert_eq!(missing.seen().len(), 1, "{err}");
        let msg = err.to_string();
        assert!(msg.contains("Identity not found"), "{msg}");
        assert!(
            msg.contains("system-assigned managed identity is not enabled"),
            "{msg}"
        );
        let err = mi(imds_at(&missing.url), Some("abc"))
            .acquire()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("client id abc"), "{err}");

        // Something that is not IMDS answers the address.
        let other = serve(|_, _| Answer::json(403, "<html>Forbidden</html>"));
        let err = mi(imds_at(&other.url), None).acquire().await.unwrap_err();
        assert!(err.to_string().contains("HTTP 403"), "{err}");
        assert!(err.to_string().contains("is not Azure IMDS's"), "{err}");

        // Bounded: an IMDS that keeps updating gets max_attempts tries.
        let busy = serve(|_, _| Answer::json(410, "{}"));
        let err = mi(imds_at(&busy.url), None).acquire().await.unwrap_err();
        assert_eq!(busy.seen().len(), 3, "{err}");
        assert!(err.to_string().contains("HTTP 410"), "{err}");
    }

    #[tokio::test]
    async fn app_service_errors_are_explained() {
        let server = serve(|_, _| {
            Answer::json(
                400,
                r#"{"statusCode":400,"message":"Unable to load the proper Managed Identity.","correlationId":"c"}"#,
            )
        });
        let env = ManagedIdentityEnv {
            identity_endpoint: Some(format!("{}/msi/token", server.url)),
            identity_header: Some(SecretString::from("hdr")),
            imds_url: None,
        };
        let err = mi(env.clone(), Some("uami")).acquire().await.unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("Unable to load the proper Managed Identity"),
            "{msg}"
        );
        assert!(msg.contains("client id uami"), "{msg}");
        // 404 from App Service is not retried (only IMDS documents that).
        let gone = serve(|_, _| Answer::json(404, "{}"));
        let env = ManagedIdentityEnv {
            identity_endpoint: Some(format!("{}/msi/token", gone.url)),
            ..env
        };
        let _ = mi(env, None).acquire().await.unwrap_err();
        assert_eq!(gone.seen().len(), 1);
    }

    #[tokio::test]
    async fn nothing_listening_fails_at_once_with_a_clear_message() {
        // A port nobody listens on: refused, not retried.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = std::time::Instant::now();
        let err = mi(imds_at(&format!("http://127.0.0.1:{port}")), None)
            .acquire()
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("no managed identity endpoint answered at http://127.0.0.1"),
            "{msg}"
        );
        assert!(msg.contains("not an Azure VM/Function"), "{msg}");
        assert!(started.elapsed() < Duration::from_secs(2), "{msg}");
    }

    #[test]
    fn endpoints_must_be_local_or_https() {
        for ok in [
            "http://169.254.169.254/metadata/identity/oauth2/token",
            "http://127.0.0.1:41741/MSI/token/",
            "http://localhost:8081/msi/token",
            "https://identity.example.net/token",
        ] {
            assert!(checked_url(ok, "X").is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.4/msi/token",
            "http://example.com/msi/token",
            "ftp://127.0.0.1/x",
            "http://user:pw@127.0.0.1/x",
            "not a url",
        ] {
            let e = checked_url(bad, "IDENTITY_ENDPOINT").unwrap_err();
            assert!(e.to_string().contains("IDENTITY_ENDPOINT"), "{bad}: {e}");
            assert!(!e.to_string().contains("pw@"), "{e}");
        }
    }

    #[tokio::test]
    async fn identity_endpoint_without_header_is_a_config_error() {
        let env = ManagedIdentityEnv {
            identity_endpoint: Some("http://127.0.0.1:1/msi/token".into()),
            identity_header: None,
            imds_url: None,
        };
        let e = mi(env, None).acquire().await.unwrap_err();
        assert!(matches!(e, AuthError::Config { .. }), "{e}");
        assert!(e.to_string().contains("IDENTITY_HEADER"), "{e}");
    }

    #[test]
    fn debug_hides_the_identity_header() {
        let env = ManagedIdentityEnv {
            identity_endpoint: Some("http://127.0.0.1:1/msi/token".into()),
            identity_header: Some(SecretString::from("hdr-secret-value")),
            imds_url: None,
        };
        let dbg = format!("{:?}", mi(env, None));
        assert!(!dbg.contains("hdr-secret-value"), "{dbg}");
    }
}
