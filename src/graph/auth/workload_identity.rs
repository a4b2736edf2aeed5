//! Workload identity federation: a federated (OIDC) token from Kubernetes, a pipeline or
//! GitHub Actions is exchanged for an app-only Graph token as a `client_assertion`.

use std::path::PathBuf;

use secrecy::SecretString;

use super::error::AuthError;
use super::oauth_http::OAuthHttp;
use super::token::AccessToken;

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
        Err(AuthError::Config {
            message: "workload identity federation is not available in this build".into(),
        })
    }
}
