//! The one error type of token acquisition, shared by every flow.

use std::path::PathBuf;

/// Why no token could be obtained. Messages never contain a secret, token or response body.
/// A refusal whose description carries an AADSTS code the tool knows ends with what to do
/// about it ([`super::aadsts`]).
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error(
        "sign-in refused ({flow}): {error}{}{}",
        description.as_ref().map(|d| format!(" — {d}")).unwrap_or_default(),
        what_to_do(flow, description.as_deref())
    )]
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

/// `. What to do: …` for a refusal whose AADSTS code is decoded, else nothing.
fn what_to_do(flow: &str, description: Option<&str>) -> String {
    let Some(hint) = super::aadsts::hint_for(flow, description) else {
        return String::new();
    };
    let stop = if description.is_some_and(|d| d.trim_end().ends_with('.')) {
        ""
    } else {
        "."
    };
    format!("{stop} What to do: {hint}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_aadsts_code_says_what_to_do() {
        let e = AuthError::Rejected {
            flow: "device code",
            error: "invalid_client".into(),
            description: Some(
                "AADSTS7000218: The request body must contain the following parameter: \
                 'client_assertion' or 'client_secret'. Trace ID: t Correlation ID: c Timestamp: 2026-01-01 10:00:00Z"
                    .into(),
            ),
        };
        let msg = e.to_string();
        assert!(
            msg.contains(
                "Timestamp: 2026-01-01 10:00:00Z. What to do: the app named by AZURE_CLIENT_ID"
            ),
            "{msg}"
        );
        assert!(msg.ends_with("(AZURE_CLIENT_SECRET)."), "{msg}");
        let e = AuthError::Rejected {
            flow: "device code",
            error: "access_denied".into(),
            description: Some(
                "AADSTS53003: Access has been blocked by Conditional Access policies.".into(),
            ),
        };
        let msg = e.to_string();
        assert!(
            msg.contains("policies. What to do: the tenant blocks the device code flow with Conditional Access: use `enroll-doctor auth login --auth browser`"),
            "{msg}"
        );
        // An unknown code, or none: the message as it was.
        let e = AuthError::Rejected {
            flow: "device code",
            error: "invalid_grant".into(),
            description: Some("AADSTS1: nope".into()),
        };
        assert_eq!(
            e.to_string(),
            "sign-in refused (device code): invalid_grant — AADSTS1: nope"
        );
    }
}
