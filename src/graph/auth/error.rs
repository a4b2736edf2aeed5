//! The one error type of token acquisition, shared by every flow.

use std::path::PathBuf;

/// Why no token could be obtained. Messages never contain a secret, token or response body.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("sign-in refused ({flow}): {error}{}", description.as_ref().map(|d| format!(" — {d}")).unwrap_or_default())]
    Rejected {
        flow: &'static str,
        /// OAuth error code, e.g. `invalid_client`.
        error: String,
        description: Option<String>,
    },
    #[error("cannot reach the identity platform ({flow}): {message}")]
    Transport { flow: &'static str, message: String },
    #[error("unexpected answer from the identity platform ({flow}): {message}")]
    BadResponse { flow: &'static str, message: String },
    #[error("certificate {}: {message}", path.display())]
    Certificate { path: PathBuf, message: String },
    #[error("token cache {}: {message}", path.display())]
    Cache { path: PathBuf, message: String },
    #[error("Azure CLI: {message}")]
    AzureCli { message: String },
    #[error("access token: {message}")]
    AccessToken { message: String },
    #[error("{message}")]
    Config { message: String },
}
