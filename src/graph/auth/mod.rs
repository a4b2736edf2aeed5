//! Getting a Graph access token: client secret, certificate, device code, Azure CLI, or a
//! token handed over through the environment or a file.
//!
//! [`TokenProvider`] keeps the current token in memory until about five minutes before it
//! expires and serialises acquisition, so concurrent requests trigger one sign-in.

pub mod aadsts;
mod auth_code;
mod azure_cli;
mod cache;
mod cert_formats;
mod certificate;
mod claims;
mod delegated;
mod device_code;
mod error;
pub mod hints;
mod managed_identity;
mod oauth_http;
mod token;
mod workload_identity;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use secrecy::{ExposeSecret, SecretString};

pub use auth_code::AuthCodeFlow;
pub use azure_cli::{AzureCli, parse_az_output};
pub use cache::{CacheKey, CacheSummary, TokenCache, write_private_file};
pub use certificate::CertificateCredential;
pub use claims::{ClaimsError, TokenClaims, TokenKind};
pub use device_code::{DeviceCodeFlow, DeviceCodeTiming};
pub use error::AuthError;
pub use managed_identity::ManagedIdentity;
pub use oauth_http::{OAuthHttp, error_chain};
pub use token::AccessToken;
pub use workload_identity::{FederatedToken, WorkloadIdentity};

use crate::config::{AuthMethod, Settings};

/// App-only credentials for the client-credentials grant.
#[derive(Debug, Clone)]
pub enum ClientCredential {
    Secret(SecretString),
    Certificate(CertificateCredential),
}

/// Where tokens come from.
#[derive(Debug, Clone)]
pub enum TokenSource {
    ClientCredentials {
        http: OAuthHttp,
        token_url: String,
        client_id: String,
        scope: String,
        credential: ClientCredential,
    },
    Browser(AuthCodeFlow),
    DeviceCode(DeviceCodeFlow),
    ManagedIdentity(ManagedIdentity),
    WorkloadIdentity(WorkloadIdentity),
    AzureCli(AzureCli),
    /// A token given by the caller (env var or file). It cannot be renewed.
    Static {
        token: Option<SecretString>,
        file: Option<PathBuf>,
    },
}

impl TokenSource {
    pub fn method(&self) -> AuthMethod {
        match self {
            TokenSource::ClientCredentials {
                credential: ClientCredential::Secret(_),
                ..
            } => AuthMethod::ClientSecret,
            TokenSource::ClientCredentials { .. } => AuthMethod::Certificate,
            TokenSource::Browser(_) => AuthMethod::Browser,
            TokenSource::DeviceCode(_) => AuthMethod::DeviceCode,
            TokenSource::ManagedIdentity(_) => AuthMethod::ManagedIdentity,
            TokenSource::WorkloadIdentity(_) => AuthMethod::WorkloadIdentity,
            TokenSource::AzureCli(_) => AuthMethod::AzureCli,
            TokenSource::Static { .. } => AuthMethod::AccessToken,
        }
    }

    async fn acquire(&self, force: bool) -> Result<AccessToken, AuthError> {
        match self {
            TokenSource::ClientCredentials {
                http,
                token_url,
                client_id,
                scope,
                credential,
            } => client_credentials(http, token_url, client_id, scope, credential).await,
            TokenSource::Browser(flow) => flow.acquire(force).await,
            TokenSource::DeviceCode(flow) => flow.acquire(force).await,
            TokenSource::ManagedIdentity(mi) => mi.acquire().await,
            TokenSource::WorkloadIdentity(wi) => wi.acquire().await,
            TokenSource::AzureCli(cli) => cli.acquire().await,
            TokenSource::Static { token, file } => static_token(token.as_ref(), file.as_ref()),
        }
    }
}

async fn client_credentials(
    http: &OAuthHttp,
    token_url: &str,
    client_id: &str,
    scope: &str,
    credential: &ClientCredential,
) -> Result<AccessToken, AuthError> {
    let bad_url = |e: oauth2::url::ParseError| AuthError::Config {
        message: format!("invalid token URL {token_url}: {e}"),
    };
    let base = BasicClient::new(ClientId::new(client_id.to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::new(token_url.to_string()).map_err(bad_url)?);
    let response = match credential {
        ClientCredential::Secret(secret) => {
            base.set_client_secret(ClientSecret::new(secret.expose_secret().to_string()))
                .exchange_client_credentials()
                .add_scope(Scope::new(scope.to_string()))
                .request_async(http)
                .await
        }
        ClientCredential::Certificate(cert) => {
            let assertion = cert.assertion(client_id, token_url)?;
            base.exchange_client_credentials()
                .add_scope(Scope::new(scope.to_string()))
                .add_extra_param(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .add_extra_param("client_assertion", assertion.expose_secret().to_string())
                .request_async(http)
                .await
        }
    };
    let token = response.map_err(|e| oauth_http::map_token_error("client credentials", e))?;
    Ok(AccessToken::new(
        token.access_token().secret().clone(),
        token.expires_in().map(|d| d.as_secs()),
    ))
}

fn static_token(
    token: Option<&SecretString>,
    file: Option<&PathBuf>,
) -> Result<AccessToken, AuthError> {
    let raw = match (token, file) {
        (Some(t), _) => t.expose_secret().trim().to_string(),
        (None, Some(path)) => crate::fsio::read_regular_string(path, crate::fsio::TOKEN_FILE)
            .map_err(|e| AuthError::AccessToken {
                message: format!("cannot read {}: {}", path.display(), e.reason()),
            })?
            .trim()
            .to_string(),
        (None, None) => {
            return Err(AuthError::AccessToken {
                message: "no token given".into(),
            });
        }
    };
    // Files saved by Windows editors may start with a byte order mark; a pasted header value
    // may keep its scheme in any case.
    let raw = raw.trim_start_matches('\u{feff}').trim();
    let raw = match raw.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => raw,
    }
    .to_string();
    if raw.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(AuthError::AccessToken {
            message: "the token contains spaces or non-ASCII characters; give the bare token"
                .into(),
        });
    }
    if raw.is_empty() {
        return Err(AuthError::AccessToken {
            message: "the token is empty".into(),
        });
    }
    let now = Utc::now();
    let expires_at = TokenClaims::decode(&raw)
        .ok()
        .and_then(|c| c.expires_at)
        .unwrap_or(now + chrono::Duration::hours(1));
    if expires_at <= now {
        return Err(AuthError::AccessToken {
            message: format!("the token expired at {expires_at}; get a new one"),
        });
    }
    Ok(AccessToken {
        secret: SecretString::from(raw),
        expires_at,
        // Its issue time is unknown: treat the whole remaining life as usable.
        obtained_at: expires_at - chrono::Duration::hours(1),
    })
}

/// Hands out tokens, cached in memory until shortly before expiry.
#[derive(Debug)]
pub struct TokenProvider {
    source: TokenSource,
    cached: tokio::sync::Mutex<Option<AccessToken>>,
    acquisitions: AtomicU64,
}

impl TokenProvider {
    pub fn new(source: TokenSource) -> TokenProvider {
        TokenProvider {
            source,
            cached: tokio::sync::Mutex::new(None),
            acquisitions: AtomicU64::new(0),
        }
    }

    /// Builds the provider the settings describe (reads certificate files now, so a bad file
    /// fails before any request).
    pub fn from_settings(settings: &Settings) -> Result<TokenProvider, AuthError> {
        Self::from_settings_with_path(settings, None)
    }

    /// As [`Self::from_settings`], with a PATH for the `az` child process (tests).
    pub fn from_settings_with_path(
        settings: &Settings,
        az_path: Option<OsString>,
    ) -> Result<TokenProvider, AuthError> {
        let ep = &settings.endpoints;
        let loopback = reqwest::Url::parse(&ep.login_url)
            .map(|u| crate::config::is_loopback(&u))
            .unwrap_or(false);
        let missing = |what: &str| AuthError::Config {
            message: format!("{what} is required for --auth {}", settings.auth.as_str()),
        };
        let source = match settings.auth {
            AuthMethod::ClientSecret | AuthMethod::Certificate => {
                let tenant = settings.tenant.clone().ok_or_else(|| missing("a tenant"))?;
                let client_id = settings
                    .client_id
                    .clone()
                    .ok_or_else(|| missing("a client id"))?;
                let credential = if settings.auth == AuthMethod::ClientSecret {
                    ClientCredential::Secret(
                        settings
                            .client_secret
                            .clone()
                            .ok_or_else(|| missing("AZURE_CLIENT_SECRET"))?,
                    )
                } else {
                    let path = settings
                        .certificate
                        .as_ref()
                        .ok_or_else(|| missing("a certificate file"))?;
                    ClientCredential::Certificate(CertificateCredential::load(
                        path,
                        settings.certificate_algorithm,
                        settings.certificate_password.as_ref(),
                    )?)
                };
                TokenSource::ClientCredentials {
                    http: OAuthHttp::from_http(&settings.http, loopback)?,
                    token_url: ep.token_url(&tenant),
                    client_id,
                    scope: ep.default_scope(),
                    credential,
                }
            }
            AuthMethod::Browser => TokenSource::Browser(AuthCodeFlow {
                http: OAuthHttp::from_http(&settings.http, loopback)?,
                client_id: settings.public_client_id().to_string(),
                tenant: settings.tenant_or_organizations().to_string(),
                login_url: ep.login_url.clone(),
                scope: ep.default_scope(),
                cache: TokenCache::new(settings.token_cache.clone()),
                open_browser: settings.browser_available,
                timeout: Duration::from_secs(300),
            }),
            AuthMethod::DeviceCode => TokenSource::DeviceCode(DeviceCodeFlow {
                http: OAuthHttp::from_http(&settings.http, loopback)?,
                client_id: settings.public_client_id().to_string(),
                tenant: settings.tenant_or_organizations().to_string(),
                login_url: ep.login_url.clone(),
                scope: ep.default_scope(),
                cache: TokenCache::new(settings.token_cache.clone()),
                timing: DeviceCodeTiming::default(),
            }),
            AuthMethod::ManagedIdentity => TokenSource::ManagedIdentity(ManagedIdentity {
                http: ManagedIdentity::http_for(&settings.http)?,
                client_id: settings.client_id.clone(),
                env: settings.managed_identity.clone(),
                resource: ep.resource.clone(),
            }),
            AuthMethod::WorkloadIdentity => {
                let tenant = settings.tenant.clone().ok_or_else(|| missing("a tenant"))?;
                let federated = match (&settings.federated_token_file, &settings.github_oidc) {
                    (Some(path), _) => FederatedToken::File(path.clone()),
                    (None, Some(gh)) => FederatedToken::GithubActions {
                        request_url: gh.request_url.clone(),
                        request_token: gh.request_token.clone(),
                        audience: "api://AzureADTokenExchange".into(),
                    },
                    (None, None) => return Err(missing("a federated token")),
                };
                TokenSource::WorkloadIdentity(WorkloadIdentity {
                    http: OAuthHttp::from_http(&settings.http, loopback)?,
                    token_url: ep.token_url(&tenant),
                    client_id: settings
                        .client_id
                        .clone()
                        .ok_or_else(|| missing("a client id"))?,
                    scope: ep.default_scope(),
                    federated,
                })
            }
            AuthMethod::AzureCli => TokenSource::AzureCli(AzureCli {
                tenant: settings.tenant.clone(),
                path_override: az_path,
                timeout: Duration::from_secs(60),
            }),
            AuthMethod::AccessToken => TokenSource::Static {
                token: settings.access_token.clone(),
                file: settings.access_token_file.clone(),
            },
        };
        Ok(TokenProvider::new(source))
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    pub fn method(&self) -> AuthMethod {
        self.source.method()
    }

    /// How many times a token was actually fetched (not served from memory).
    pub fn acquisitions(&self) -> u64 {
        self.acquisitions.load(Ordering::Relaxed)
    }

    /// A fresh token, from memory when possible.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        // The async mutex is held across the fetch on purpose: one sign-in for all waiters.
        let mut guard = self.cached.lock().await;
        if let Some(t) = guard.as_ref()
            && t.is_fresh(Utc::now())
        {
            return Ok(t.clone());
        }
        let t = self.source.acquire(false).await?;
        self.acquisitions.fetch_add(1, Ordering::Relaxed);
        *guard = Some(t.clone());
        Ok(t)
    }

    /// Graph rejected `rejected` (401): fetch a new one unless another task already did.
    pub async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, AuthError> {
        let mut guard = self.cached.lock().await;
        if let Some(t) = guard.as_ref()
            && !t.same_as(rejected)
            && t.is_fresh(Utc::now())
        {
            return Ok(t.clone());
        }
        let t = self.source.acquire(true).await?;
        self.acquisitions.fetch_add(1, Ordering::Relaxed);
        *guard = Some(t.clone());
        Ok(t)
    }

    /// `auth login`: the interactive sign-in (browser or device code), whatever is cached.
    pub async fn login(&self) -> Result<AccessToken, AuthError> {
        let t = match &self.source {
            TokenSource::Browser(flow) => flow.login().await?,
            TokenSource::DeviceCode(flow) => flow.login().await?,
            _ => {
                return Err(AuthError::Config {
                    message: format!(
                        "`auth login` signs in a user with --auth browser or --auth device-code; the configured method is {}",
                        self.method().as_str()
                    ),
                });
            }
        };
        self.acquisitions.fetch_add(1, Ordering::Relaxed);
        *self.cached.lock().await = Some(t.clone());
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn static_token_from_env_and_file() {
        let jwt = claims::fake_jwt(
            &json!({"exp": Utc::now().timestamp() + 3600, "roles": ["User.Read.All"]}),
        );
        let t = static_token(Some(&SecretString::from(format!("Bearer {jwt}\n"))), None).unwrap();
        assert_eq!(t.secret(), jwt);
        assert!(t.is_fresh(Utc::now()));

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok");
        std::fs::write(&p, format!("{jwt}\n")).unwrap();
        let t = static_token(None, Some(&p)).unwrap();
        assert_eq!(t.secret(), jwt);
        // Saved by Notepad (BOM, CRLF), or pasted with a lower-case scheme.
        std::fs::write(&p, format!("\u{feff}{jwt}\r\n")).unwrap();
        assert_eq!(static_token(None, Some(&p)).unwrap().secret(), jwt);
        let t = static_token(Some(&SecretString::from(format!("bearer  {jwt}"))), None).unwrap();
        assert_eq!(t.secret(), jwt);
        let e = static_token(Some(&SecretString::from("two words")), None).unwrap_err();
        assert!(!e.to_string().contains("words"), "{e}");
    }

    #[test]
    fn expired_static_token_is_refused_without_echo() {
        let jwt = claims::fake_jwt(&json!({"exp": 1_000_000_000}));
        let e = static_token(Some(&SecretString::from(jwt.clone())), None).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("expired"), "{msg}");
        assert!(!msg.contains(&jwt));
    }

    #[test]
    fn provider_debug_hides_credentials() {
        let p = TokenProvider::new(TokenSource::ClientCredentials {
            http: OAuthHttp::new(Duration::from_secs(5), true).unwrap(),
            token_url: "http://127.0.0.1:1/t/oauth2/v2.0/token".into(),
            client_id: "c".into(),
            scope: "https://graph.microsoft.com/.default".into(),
            credential: ClientCredential::Secret(SecretString::from("s3cr3t-in-debug")),
        });
        let dbg = format!("{p:?}");
        assert!(!dbg.contains("s3cr3t-in-debug"), "{dbg}");
        assert_eq!(p.method(), AuthMethod::ClientSecret);
        let p = TokenProvider::new(TokenSource::Static {
            token: Some(SecretString::from("raw-token-in-debug")),
            file: None,
        });
        assert!(!format!("{p:?}").contains("raw-token-in-debug"));
    }

    fn quick_retries() -> crate::graph::RetryPolicy {
        crate::graph::RetryPolicy {
            max_attempts: 3,
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_wait: Duration::from_millis(50),
        }
    }

    async fn secret_grant(http: &OAuthHttp, url: &str) -> Result<AccessToken, AuthError> {
        client_credentials(
            http,
            &format!("{url}/t/oauth2/v2.0/token"),
            "c",
            "https://graph.microsoft.com/.default",
            &ClientCredential::Secret(SecretString::from("s")),
        )
        .await
    }

    fn token_json(expires_in: &str) -> String {
        format!("{{\"token_type\":\"Bearer\",\"expires_in\":{expires_in},\"access_token\":\"at\"}}")
    }

    #[tokio::test]
    async fn the_token_endpoint_is_retried_on_429_and_5xx() {
        use crate::graph::test_server::{Answer, serve};
        let server = serve(|n, _| match n {
            0 => Answer::json(429, "{}").header("Retry-After", "0"),
            1 => Answer::json(503, "{}"),
            2 => Answer::json(500, "{\"error\":\"server_error\"}"),
            _ => Answer::json(200, &token_json("3599")),
        });
        let http = OAuthHttp::new(Duration::from_secs(5), true)
            .unwrap()
            .with_retry(crate::graph::RetryPolicy {
                max_attempts: 4,
                ..quick_retries()
            });
        let t = secret_grant(&http, &server.url).await.unwrap();
        assert_eq!(t.secret(), "at");
        assert_eq!(server.seen().len(), 4);
        // A status that is no transient failure (501) is answered at once.
        let broken = serve(|_, _| Answer::json(501, "{\"error\":\"not_implemented\"}"));
        let err = secret_grant(&http, &broken.url).await.unwrap_err();
        assert_eq!(broken.seen().len(), 1, "{err}");
        assert!(server.seen()[0].path.ends_with("/oauth2/v2.0/token"));
        // Bounded: a platform that keeps refusing gets max_attempts tries, then the error.
        let busy = serve(|_, _| Answer::json(429, "{}").header("Retry-After", "0"));
        let err = secret_grant(&http, &busy.url).await.unwrap_err();
        assert_eq!(busy.seen().len(), 4, "{err}");
    }

    #[tokio::test]
    async fn absurd_expires_in_from_the_server_does_not_panic() {
        use crate::graph::test_server::{Answer, serve};
        for e in [
            "10000000000000",
            "9223372036854775807",
            "18446744073709551615",
        ] {
            let server = serve(move |_, _| Answer::json(200, &token_json(e)));
            let http = OAuthHttp::new(Duration::from_secs(5), true).unwrap();
            let t = secret_grant(&http, &server.url).await.unwrap();
            let life = t.expires_at - t.obtained_at;
            assert_eq!(life.num_seconds(), 86_400, "{e}");
        }
    }

    #[tokio::test]
    async fn an_endless_token_answer_stops_at_the_limit() {
        use crate::graph::test_server::{Answer, Body, serve};
        let server = serve(|_, _| Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Body::EndlessChunked(vec![b' '; 64 * 1024]),
        });
        let http = OAuthHttp::new(Duration::from_secs(5), true)
            .unwrap()
            .with_max_response_bytes(256 * 1024);
        let err = secret_grant(&http, &server.url).await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, AuthError::BadResponse { .. }), "{msg}");
        assert!(
            msg.contains("/t/oauth2/v2.0/token is larger than 256 KiB"),
            "{msg}"
        );
        assert_eq!(server.seen().len(), 1);
    }

    #[tokio::test]
    async fn provider_caches_until_renewed() {
        let jwt = claims::fake_jwt(&json!({"exp": Utc::now().timestamp() + 3600}));
        let p = TokenProvider::new(TokenSource::Static {
            token: Some(SecretString::from(jwt)),
            file: None,
        });
        let a = p.token().await.unwrap();
        let _ = p.token().await.unwrap();
        assert_eq!(p.acquisitions(), 1);
        let _ = p.renew(&a).await.unwrap();
        assert_eq!(p.acquisitions(), 2);
    }
}
