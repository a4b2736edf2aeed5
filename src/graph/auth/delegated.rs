//! What the two interactive sign-ins (browser and device code) share: the identity URLs and
//! scopes of a user sign-in, the cache lookup with its refresh, and keeping a new sign-in.

use chrono::Utc;
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{AuthType, ClientId, RefreshToken, Scope, TokenResponse, TokenUrl};
use secrecy::{ExposeSecret, SecretString};

use super::cache::{CacheKey, TokenCache};
use super::error::AuthError;
use super::oauth_http::{OAuthHttp, map_token_error};
use super::token::AccessToken;

/// A refresh refusal that only the user can resolve: the refresh token expired or was revoked
/// (`invalid_grant`), or the platform asks for an interactive step (`interaction_required`:
/// multifactor authentication or a Conditional Access policy, `login_required`,
/// `consent_required`; OpenID Connect Core 1.0 §3.1.2.6). MSAL treats the same answers as
/// "UI required".
fn needs_the_user(error: &str) -> bool {
    matches!(
        error,
        "invalid_grant" | "interaction_required" | "login_required" | "consent_required"
    )
}

/// A user sign-in's target, borrowed from the flow that runs it.
pub(super) struct UserSignIn<'a> {
    pub http: &'a OAuthHttp,
    pub client_id: &'a str,
    /// Tenant id, domain, or `organizations`.
    pub tenant: &'a str,
    pub login_url: &'a str,
    /// `{graph}/.default`.
    pub scope: &'a str,
    pub cache: &'a TokenCache,
    /// How the cache names the method (`browser`, `device-code`).
    pub method: &'static str,
}

pub(super) fn bad_url(e: impl std::fmt::Display) -> AuthError {
    AuthError::Config {
        message: format!("invalid identity URL: {e}"),
    }
}

impl UserSignIn<'_> {
    pub fn key(&self) -> CacheKey {
        CacheKey {
            login_url: self.login_url.to_string(),
            tenant: self.tenant.to_string(),
            client_id: self.client_id.to_string(),
        }
    }

    /// `{login}/{tenant}/oauth2/v2.0/{endpoint}`.
    pub fn url(&self, endpoint: &str) -> String {
        format!("{}/{}/oauth2/v2.0/{endpoint}", self.login_url, self.tenant)
    }

    pub fn token_url(&self) -> Result<TokenUrl, AuthError> {
        TokenUrl::new(self.url("token")).map_err(bad_url)
    }

    /// `{graph}/.default offline_access`: every permission consented to the app, and a
    /// refresh token. No `openid`/`profile`: the user is read from the access token.
    pub fn scopes(&self) -> [Scope; 2] {
        [
            Scope::new(self.scope.to_string()),
            Scope::new("offline_access".to_string()),
        ]
    }

    /// The cached access token (unless `force_refresh`), else one from the cached refresh
    /// token; `None` when the user must sign in (nothing cached, or a refresh refused in a way
    /// only the user can resolve: [`needs_the_user`]).
    pub async fn cached(&self, force_refresh: bool) -> Result<Option<AccessToken>, AuthError> {
        let Some(entry) = self.cache.load(&self.key())? else {
            return Ok(None);
        };
        if !force_refresh
            && let Some(access) = entry.access
            && access.is_fresh(Utc::now())
        {
            return Ok(Some(access));
        }
        let Some(rt) = entry.refresh_token else {
            return Ok(None);
        };
        match self.refresh(&rt).await {
            Ok(tok) => Ok(Some(tok)),
            Err(AuthError::Rejected { error, .. }) if needs_the_user(&error) => {
                tracing::info!(
                    "the cached sign-in cannot be renewed without the user ({error}); starting a new one"
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<AccessToken, AuthError> {
        let client = BasicClient::new(ClientId::new(self.client_id.to_string()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(self.token_url()?);
        let rt = RefreshToken::new(refresh_token.expose_secret().to_string());
        let token = client
            .exchange_refresh_token(&rt)
            .add_scopes(self.scopes())
            .request_async(self.http)
            .await
            .map_err(|e| map_token_error("refresh token", e))?;
        // Entra rotates refresh tokens; keep the old one if none came back.
        self.keep(&token, Some(refresh_token))
    }

    /// Caches the token answer (its refresh token, else `previous`) and returns its access
    /// token.
    pub fn keep(
        &self,
        token: &BasicTokenResponse,
        previous: Option<&SecretString>,
    ) -> Result<AccessToken, AuthError> {
        let access = AccessToken::new(
            token.access_token().secret().clone(),
            token.expires_in().map(|d| d.as_secs()),
        );
        let refresh = token
            .refresh_token()
            .map(|r| SecretString::from(r.secret().clone()));
        self.cache.store(
            &self.key(),
            self.method,
            refresh.as_ref().or(previous),
            &access,
        )?;
        Ok(access)
    }
}
