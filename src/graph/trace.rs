//! `--trace-http`: one log line per HTTP exchange (method, URL, status, duration, headers) on the
//! tracing target [`HTTP_TARGET`], with credentials redacted. Bodies are never logged.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// The tracing target of HTTP exchange logs; enable it at `trace` level to see them.
pub const HTTP_TARGET: &str = "enroll_doctor::http";

const REDACTED: &str = "[REDACTED]";

/// Header names whose values are credentials.
fn is_sensitive(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-ms-client-secret"
    )
}

/// `name: value` pairs, credentials replaced by `[REDACTED]`.
pub fn redact_headers(headers: &HeaderMap) -> String {
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let v = value.to_str().unwrap_or("<binary>");
        // Any value that looks like a credential, whatever header carries it.
        let lower = v.trim_start().to_ascii_lowercase();
        let looks_like_credential =
            lower.starts_with("bearer ") || lower.starts_with("basic ") || lower.starts_with("eyj");
        let shown = if is_sensitive(name.as_str()) || looks_like_credential || value.is_sensitive()
        {
            REDACTED
        } else {
            v
        };
        out.push(format!("{}: {}", name.as_str(), shown));
    }
    out.join("; ")
}

/// Logs one exchange when the HTTP target is enabled.
pub fn log_exchange(
    method: &str,
    url: &str,
    status: u16,
    elapsed: Duration,
    request_headers: &HeaderMap,
    response_headers: &HeaderMap,
    body_bytes: usize,
) {
    if tracing::enabled!(target: HTTP_TARGET, tracing::Level::TRACE) {
        tracing::trace!(
            target: HTTP_TARGET,
            "{method} {url} -> {status} in {} ms, {body_bytes} bytes | request: {} | response: {}",
            elapsed.as_millis(),
            redact_headers(request_headers),
            redact_headers(response_headers),
        );
    }
}

/// Logs a request that got no response (connection error, timeout).
pub fn log_failure(method: &str, url: &str, elapsed: Duration, error: &str) {
    tracing::trace!(
        target: HTTP_TARGET,
        "{method} {url} -> failed after {} ms: {error}",
        elapsed.as_millis()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{AUTHORIZATION, HeaderValue};

    #[test]
    fn authorization_and_bearer_values_are_redacted() {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer eyJ0eXAi.abc.def"),
        );
        h.insert("x-custom", HeaderValue::from_static("Bearer leaked"));
        h.insert("request-id", HeaderValue::from_static("1234"));
        h.insert(
            "x-forwarded",
            HeaderValue::from_static("bearer lower-case-leak"),
        );
        h.insert(
            "x-token",
            HeaderValue::from_static("eyJhbGciOi.raw-jwt-leak"),
        );
        let mut marked = HeaderValue::from_static("marked-sensitive-leak");
        marked.set_sensitive(true);
        h.insert("x-other", marked);
        let s = redact_headers(&h);
        assert!(!s.contains("eyJ0eXAi") && !s.contains("leaked"), "{s}");
        assert!(!s.contains("leak"), "{s}");
        assert!(s.contains("request-id: 1234"), "{s}");
        assert!(s.contains("authorization: [REDACTED]"), "{s}");
    }
}
