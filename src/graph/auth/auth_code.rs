//! Delegated sign-in in the user's browser: the OAuth 2.0 authorization code flow with PKCE
//! (RFC 7636, S256) and a loopback redirect (RFC 8252 §7.3). Sign-ins are kept in the shared
//! [`TokenCache`].

use std::time::Duration;

use super::cache::{CacheKey, TokenCache};
use super::error::AuthError;
use super::oauth_http::OAuthHttp;
use super::token::AccessToken;

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
        CacheKey {
            login_url: self.login_url.clone(),
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
        }
    }

    /// Cached access token, else refresh token, else an interactive sign-in.
    pub async fn acquire(&self, force_refresh: bool) -> Result<AccessToken, AuthError> {
        let _ = force_refresh;
        self.login().await
    }

    /// Always runs the interactive flow (`auth login`), then caches the result.
    pub async fn login(&self) -> Result<AccessToken, AuthError> {
        Err(AuthError::Config {
            message: "the browser sign-in is not available in this build".into(),
        })
    }
}
