//! Typed Graph errors. They carry what support needs (status, Graph error code, message,
//! `request-id`) and never a token: URLs are Graph paths and bodies are not echoed except for
//! Graph's own error message.

use crate::graph::auth::AuthError;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an error status (after retries where they apply).
    #[error(
        "{method} {path}: HTTP {status}{}{} (request-id {}{})",
        if code.is_empty() { String::new() } else { format!(" {code}") },
        if message.is_empty() { String::new() } else { format!(": {message}") },
        request_id.as_deref().unwrap_or("none"),
        if *attempts > 1 { format!(", after {attempts} attempts") } else { String::new() }
    )]
    Http {
        method: String,
        /// Path and query relative to the Graph host, e.g. `/v1.0/users?$top=999`.
        path: String,
        status: u16,
        /// Graph's `error.code`, e.g. `Authorization_RequestDenied` (may be empty).
        code: String,
        message: String,
        request_id: Option<String>,
        attempts: u32,
    },
    /// No HTTP answer: connection refused/reset, timeout, body cut off.
    #[error("{method} {path}: {message} (after {attempts} attempts)")]
    Transport {
        method: String,
        path: String,
        message: String,
        attempts: u32,
    },
    /// A 2xx answer whose body is not the expected JSON.
    #[error("{method} {path}: unexpected response body: {message} (request-id {})", request_id.as_deref().unwrap_or("none"))]
    Decode {
        method: String,
        path: String,
        message: String,
        request_id: Option<String>,
    },
    /// `@odata.nextLink` points at another origin; it is not followed (the token would leak).
    #[error(
        "refusing to follow @odata.nextLink to {foreign_origin} (configured Graph is {expected_origin}) while listing {path}"
    )]
    ForeignNextLink {
        path: String,
        foreign_origin: String,
        expected_origin: String,
    },
    /// The body passed the byte limit; reading stopped there. `path` has no query (it may
    /// hold a skip token or a filter value).
    #[error(
        "{method} {path}: the response is larger than {} (the limit set by http.max_response_mib); not read further",
        crate::fsio::show_size(*limit)
    )]
    ResponseTooLarge {
        method: String,
        path: String,
        limit: u64,
    },
    /// A listing went past what it can hold (items, pages, or pages that add nothing).
    #[error("listing {path} stopped: {message}")]
    Listing { path: String, message: String },
    /// The same `@odata.nextLink` came back twice.
    #[error("paging loop while listing {path}: the same @odata.nextLink was returned twice")]
    NextLinkLoop { path: String },
    /// A `$batch` answer that cannot be matched to the requests.
    #[error("$batch: {message}")]
    Batch { message: String },
    #[error("invalid request {path}: {message}")]
    InvalidRequest { path: String, message: String },
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl GraphError {
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Graph's error code (`Authorization_RequestDenied`, `InvalidAuthenticationToken`, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            GraphError::Http { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            GraphError::Http { request_id, .. } | GraphError::Decode { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// 401/403: the token lacks a permission or role (collectors map this to a skip).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// `error.code`, `error.message` and the request id from a Graph error body, if it has one.
pub(crate) fn parse_error_body(body: &[u8]) -> (String, String, Option<String>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (String::new(), String::new(), None);
    };
    let err = v.get("error").unwrap_or(&serde_json::Value::Null);
    let code = err
        .get("code")
        .and_then(|c| c.as_str())
        .unwrap_or_default()
        .to_string();
    let message = err
        .get("message")
        .and_then(|c| c.as_str())
        .map(|m| m.chars().take(500).collect::<String>())
        .unwrap_or_default();
    // `innerError` casing varies between services.
    let inner = err
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("innererror"))
                .map(|(_, v)| v)
        })
        .and_then(|i| i.get("request-id"))
        .and_then(|r| r.as_str())
        .map(str::to_string);
    (code, message, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_graph_error_shape() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2025-02-13T10:17:06","request-id":"93b6f17e-c05d-4f45-ad2a-6665c708d8a0"}}}"#;
        let (code, msg, rid) = parse_error_body(body);
        assert_eq!(code, "Authorization_RequestDenied");
        assert!(msg.starts_with("Insufficient"));
        assert_eq!(rid.as_deref(), Some("93b6f17e-c05d-4f45-ad2a-6665c708d8a0"));
        assert_eq!(parse_error_body(b"<html>").0, "");
    }

    #[test]
    fn display_names_status_code_and_request_id() {
        let e = GraphError::Http {
            method: "GET".into(),
            path: "/v1.0/users".into(),
            status: 503,
            code: "serviceNotAvailable".into(),
            message: "try later".into(),
            request_id: Some("rid-1".into()),
            attempts: 3,
        };
        let s = e.to_string();
        assert!(s.contains("503") && s.contains("serviceNotAvailable") && s.contains("rid-1"));
        assert!(s.contains("after 3 attempts"), "{s}");
        assert_eq!(e.request_id(), Some("rid-1"));
    }
}
