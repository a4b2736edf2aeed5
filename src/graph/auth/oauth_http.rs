//! The bridge between oauth2 5 (which only ships an adapter for reqwest 0.12) and our reqwest
//! 0.13 client, plus the mapping of oauth2's errors into [`AuthError`] without echoing bodies.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use oauth2::{
    AsyncHttpClient, ErrorResponseType, HttpClientError, HttpRequest, HttpResponse,
    RequestTokenError, StandardErrorResponse,
};

use reqwest::header::RETRY_AFTER;

use super::error::AuthError;
use crate::config::HttpSettings;
use crate::fsio::show_size;
use crate::graph::body::{BodyError, read_limited, read_prefix};
use crate::graph::error::MAX_ERROR_BODY;
use crate::graph::retry::{RetryPolicy, is_retryable_identity_status, parse_retry_after};
use crate::graph::trace::log_exchange;

/// A reqwest client for the identity platform: no redirects (oauth2's SSRF advice), a timeout,
/// a byte limit on every answer, and retries on Graph's statuses plus 500 and 502
/// ([`IDENTITY_RETRYABLE_STATUSES`](crate::graph::retry::IDENTITY_RETRYABLE_STATUSES)).
#[derive(Clone, Debug)]
pub struct OAuthHttp {
    client: reqwest::Client,
    retry: RetryPolicy,
    max_response_bytes: u64,
    /// Which statuses get another attempt ([`is_retryable_identity_status`] unless set).
    retryable: fn(u16) -> bool,
    /// Whether a connection failure gets another attempt (not for an endpoint on this machine
    /// that may simply not exist: see [`OAuthHttp::local_endpoint`]).
    retry_connect: bool,
}

impl OAuthHttp {
    /// Default retries and byte limit (see [`HttpSettings`]).
    pub fn new(timeout: Duration, loopback: bool) -> Result<OAuthHttp, AuthError> {
        let h = HttpSettings::default();
        Self::build(timeout, loopback, retry_of(&h), h.max_response_bytes)
    }

    /// As configured in `[http]`: the same timeout, attempts, waits and byte limit as Graph.
    pub fn from_http(h: &HttpSettings, loopback: bool) -> Result<OAuthHttp, AuthError> {
        Self::build(h.timeout, loopback, retry_of(h), h.max_response_bytes)
    }

    fn build(
        timeout: Duration,
        loopback: bool,
        retry: RetryPolicy,
        max_response_bytes: u64,
    ) -> Result<OAuthHttp, AuthError> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("enroll-doctor/", env!("CARGO_PKG_VERSION")));
        if loopback {
            b = b.no_proxy();
        }
        let client = b.build().map_err(|e| AuthError::Transport {
            flow: "setup",
            message: error_chain(&e),
        })?;
        Ok(OAuthHttp {
            client,
            retry,
            max_response_bytes,
            retryable: is_retryable_identity_status,
            retry_connect: true,
        })
    }

    /// For a token endpoint on this machine or link-local (a managed identity's IMDS or App
    /// Service endpoint): never through a proxy (IMDS behind a proxy is unsupported), a
    /// connection within `connect_timeout`, and a failed connection is final (no endpoint
    /// there), so a machine without one fails at once. Statuses retried: see
    /// [`Self::with_retryable`].
    pub fn local_endpoint(
        h: &HttpSettings,
        connect_timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<OAuthHttp, AuthError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(h.timeout)
            .connect_timeout(connect_timeout)
            .no_proxy()
            .user_agent(concat!("enroll-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AuthError::Transport {
                flow: "setup",
                message: error_chain(&e),
            })?;
        Ok(OAuthHttp {
            client,
            retry,
            max_response_bytes: h.max_response_bytes,
            retryable: is_retryable_identity_status,
            retry_connect: false,
        })
    }

    /// A connection failure or timeout gets another attempt; for a local endpoint only a
    /// timeout after connecting (a busy IMDS), never a failed connection.
    fn worth_retrying(&self, e: &reqwest::Error) -> bool {
        if self.retry_connect {
            e.is_connect() || e.is_timeout()
        } else {
            e.is_timeout() && !e.is_connect()
        }
    }

    /// Other statuses worth another attempt.
    pub fn with_retryable(mut self, retryable: fn(u16) -> bool) -> OAuthHttp {
        self.retryable = retryable;
        self
    }

    /// Other retry settings (tests use short waits).
    pub fn with_retry(mut self, retry: RetryPolicy) -> OAuthHttp {
        self.retry = retry;
        self
    }

    /// Another byte limit.
    pub fn with_max_response_bytes(mut self, limit: u64) -> OAuthHttp {
        self.max_response_bytes = limit;
        self
    }

    /// Sends `req`, retrying 429/503/504 (honouring `Retry-After`) and connection failures, and
    /// reads the answer within the byte limit.
    pub(super) async fn send(
        &self,
        req: HttpRequest,
    ) -> Result<HttpResponse, HttpClientError<reqwest::Error>> {
        let (parts, body) = req.into_parts();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.max_attempts.max(1);
            let mut rebuilt = http::Request::builder()
                .method(parts.method.clone())
                .uri(parts.uri.clone())
                .version(parts.version);
            for (k, v) in &parts.headers {
                rebuilt = rebuilt.header(k, v);
            }
            let rebuilt = rebuilt.body(body.clone()).map_err(HttpClientError::Http)?;
            let request = reqwest::Request::try_from(rebuilt).map_err(Box::new)?;
            let started = Instant::now();
            let method = request.method().clone();
            let url = request.url().clone();
            let req_headers = request.headers().clone();
            let resp = match self.client.execute(request).await {
                Ok(r) => r,
                Err(e) if !last && self.worth_retrying(&e) => {
                    let wait = self.retry.wait(attempt, None);
                    tracing::debug!(
                        "{method} {}: {}; retrying in {} ms",
                        url.path(),
                        error_chain(&e.without_url()),
                        wait.as_millis()
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(e) => return Err(HttpClientError::Reqwest(Box::new(e))),
            };
            let status = resp.status();
            let resp_headers = resp.headers().clone();
            // The body carries tokens: it is never logged, only its size.
            let log = |size: usize| {
                log_exchange(
                    method.as_str(),
                    url.as_str(),
                    status.as_u16(),
                    started.elapsed(),
                    &req_headers,
                    &resp_headers,
                    size,
                )
            };
            if !last && (self.retryable)(status.as_u16()) {
                let retry_after = resp_headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                log(0);
                let wait = self
                    .retry
                    .wait_announced(attempt, retry_after, "The identity platform");
                tracing::debug!(
                    "{method} {}: HTTP {status}; retrying in {} ms",
                    url.path(),
                    wait.as_millis()
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            let version = resp.version();
            let read = if status.is_success() {
                read_limited(resp, self.max_response_bytes).await
            } else {
                // An OAuth error answer: a code and a description, never large.
                read_prefix(resp, self.max_response_bytes.min(MAX_ERROR_BODY))
                    .await
                    .map_err(BodyError::Read)
            };
            let body = match read {
                Ok(b) => b,
                Err(BodyError::Read(e)) => return Err(HttpClientError::Reqwest(Box::new(e))),
                Err(BodyError::TooLarge) => {
                    // Named by path only: the query is not ours to show.
                    return Err(HttpClientError::Other(format!(
                        "the answer of {} is larger than {} (the limit set by http.max_response_mib); not read further",
                        url.path(),
                        show_size(self.max_response_bytes)
                    )));
                }
            };
            log(body.len());
            let mut b = http::Response::builder().status(status).version(version);
            for (k, v) in &resp_headers {
                b = b.header(k, v);
            }
            return b.body(body).map_err(HttpClientError::Http);
        }
    }
}

fn retry_of(h: &HttpSettings) -> RetryPolicy {
    RetryPolicy {
        max_attempts: h.max_attempts.max(1),
        max_wait: h.max_retry_wait,
        ..RetryPolicy::default()
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, req: HttpRequest) -> Self::Future {
        Box::pin(self.send(req))
    }
}

/// The error and its sources on one line. reqwest errors name the URL, never the form body.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let m = inner.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = inner.source();
    }
    s
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Maps an oauth2 error. The response body (which may hold a token) and serde's message (which
/// may quote a value) are dropped; only the JSON path of a parse failure is kept.
pub fn map_token_error<T>(
    flow: &'static str,
    e: RequestTokenError<HttpClientError<reqwest::Error>, StandardErrorResponse<T>>,
) -> AuthError
where
    T: ErrorResponseType + AsRef<str> + std::fmt::Display + 'static,
{
    match e {
        RequestTokenError::ServerResponse(r) => AuthError::Rejected {
            flow,
            error: r.error().as_ref().to_string(),
            description: r
                .error_description()
                .map(|d| truncate(d.lines().next().unwrap_or_default(), 300)),
        },
        // A refused answer (past the byte limit): the platform was reached.
        RequestTokenError::Request(HttpClientError::Other(message)) => {
            AuthError::BadResponse { flow, message }
        }
        RequestTokenError::Request(inner) => AuthError::Transport {
            flow,
            message: match &inner {
                HttpClientError::Reqwest(r) => error_chain(r.as_ref()),
                other => error_chain(other),
            },
        },
        RequestTokenError::Parse(err, _body) => AuthError::BadResponse {
            flow,
            message: format!(
                "the token response is not the expected JSON (at `{}`)",
                err.path()
            ),
        },
        RequestTokenError::Other(msg) => AuthError::BadResponse {
            flow,
            // oauth2's own messages (status, content type); still bounded.
            message: truncate(&msg, 200),
        },
    }
}
