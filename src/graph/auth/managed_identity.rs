//! App-only tokens of an Azure managed identity: the VM's Instance Metadata Service (IMDS), or
//! the App Service / Functions / Automation endpoint (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`).

use super::error::AuthError;
use super::oauth_http::OAuthHttp;
use super::token::AccessToken;
use crate::config::ManagedIdentityEnv;

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

impl ManagedIdentity {
    pub async fn acquire(&self) -> Result<AccessToken, AuthError> {
        Err(AuthError::Config {
            message: "managed identity is not available in this build".into(),
        })
    }
}
