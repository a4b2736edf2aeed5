//! The one Graph transport: URLs per cloud and API version, bearer tokens, retries, a global
//! concurrency cap, paging that never leaves the configured Graph origin, and counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::auth::{TokenProvider, error_chain};
use super::body::{BodyError, read_limited, read_prefix};
use super::error::{GraphError, MAX_ERROR_BODY, parse_error_body};
use super::request::{ApiVersion, Query};
use super::retry::{RetryPolicy, is_retryable_status, parse_retry_after};
use super::trace::{log_exchange, log_failure};
use crate::config::{HttpSettings, Settings, is_loopback};

pub(crate) mod paging;

/// Transport settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Requests in flight at once across all tasks sharing this client.
    pub concurrency: usize,
    /// Per-request timeout (connect + headers + body).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// `$top` added when listing.
    pub page_size: u32,
    /// Attempts for each page of a listing (more than `retry.max_attempts`: a lost page
    /// loses the whole listing).
    pub page_attempts: u32,
    /// Largest response body read; a longer one is refused with an error naming the limit.
    pub max_response_bytes: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions::from_http(&HttpSettings::default())
    }
}

impl ClientOptions {
    pub fn from_http(h: &HttpSettings) -> ClientOptions {
        ClientOptions {
            concurrency: h.concurrency.max(1),
            timeout: h.timeout,
            retry: RetryPolicy {
                max_attempts: h.max_attempts.max(1),
                max_wait: h.max_retry_wait,
                ..RetryPolicy::default()
            },
            page_size: 999,
            page_attempts: page_attempts(h.max_attempts),
            max_response_bytes: h.max_response_bytes,
        }
    }
}

/// Attempts per listing page: twice the single-request attempts, at least 8.
pub fn page_attempts(max_attempts: u32) -> u32 {
    max_attempts.max(1).saturating_mul(2).max(8)
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    bytes: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    reauthentications: AtomicU64,
    pages: AtomicU64,
    items: AtomicU64,
    expected_items: AtomicU64,
}

/// What the client did so far (for `-v` and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GraphStats {
    /// HTTP requests sent to Graph (each attempt and each page counts).
    pub requests: u64,
    /// Attempts after the first, for any reason.
    pub retries: u64,
    /// Responses with status 429 (including throttled `$batch` items).
    pub throttled: u64,
    pub bytes_received: u64,
    pub peak_in_flight: u64,
    /// Tokens fetched after a 401 `InvalidAuthenticationToken`.
    pub reauthentications: u64,
    /// Tokens actually fetched from the identity platform (or az, or the cache file).
    pub token_acquisitions: u64,
    /// Collection pages received (each `@odata.nextLink` followed counts).
    pub pages: u64,
    /// Items in those pages.
    pub items: u64,
    /// Items the listings announced with `@odata.count` (0: none did).
    pub expected_items: u64,
    #[serde(serialize_with = "ser_millis")]
    pub elapsed: Duration,
}

fn ser_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl std::fmt::Display for GraphStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Graph: {} requests, {} retries, {} throttled (429), {:.1} KiB received, peak {} in flight, {:.2} s",
            self.requests,
            self.retries,
            self.throttled,
            self.bytes_received as f64 / 1024.0,
            self.peak_in_flight,
            self.elapsed.as_secs_f64()
        )
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    tokens: Arc<TokenProvider>,
    sem: Semaphore,
    options: ClientOptions,
    counters: Counters,
    started: Instant,
    /// The first error that ends the run (Graph rejected the token, or no token could be
    /// obtained): every later request fails with it at once instead of being sent.
    fatal: std::sync::Mutex<Option<GraphError>>,
}

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
}

/// Cheap to clone; all clones share the token, the concurrency cap and the counters.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.inner.base.as_str())
            .field("method", &self.inner.tokens.method())
            .finish_non_exhaustive()
    }
}

fn request_id_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("request-id")
        .or_else(|| headers.get("x-ms-request-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Why one attempt got no usable answer.
enum SendError {
    /// No complete HTTP answer (retried).
    Transport(String),
    /// The body passed the byte limit (not retried: it would be as long again).
    TooLarge,
}

fn path_of(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// `scheme://host[:port]` for messages; credentials in the URL show as a marker, never verbatim.
fn origin_of(url: &Url) -> String {
    let creds = if url.username().is_empty() && url.password().is_none() {
        ""
    } else {
        "[credentials]@"
    };
    format!(
        "{}://{creds}{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

/// Same scheme, host and (effective) port, and the same (normally absent) userinfo: a link
/// that smuggles credentials (`https://user:pw@graph.microsoft.com/…`) is not followed.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.username() == b.username()
        && a.password() == b.password()
        && a.scheme().eq_ignore_ascii_case(b.scheme())
        && a.host_str()
            .zip(b.host_str())
            .is_some_and(|(x, y)| x.eq_ignore_ascii_case(y))
        && a.port_or_known_default() == b.port_or_known_default()
}

impl GraphClient {
    /// `graph_url` is the Graph root without version, e.g. `https://graph.microsoft.com`.
    pub fn new(
        graph_url: &str,
        tokens: Arc<TokenProvider>,
        options: ClientOptions,
    ) -> Result<GraphClient, GraphError> {
        let invalid = |message: String| GraphError::InvalidRequest {
            path: graph_url.to_string(),
            message,
        };
        let base = Url::parse(graph_url.trim_end_matches('/'))
            .map_err(|e| invalid(format!("not a URL: {e}")))?;
        if base.host_str().is_none() || !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("expected an http(s) URL with a host".into()));
        }
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("enroll-doctor/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(30)))
            // Redirects could carry the bearer token to another host.
            .redirect(reqwest::redirect::Policy::none());
        if is_loopback(&base) {
            b = b.no_proxy();
        }
        let http = b
            .build()
            .map_err(|e| invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                base,
                tokens,
                // A library caller's value gets the configuration's bound too (tokio panics
                // past 2^61 permits).
                sem: Semaphore::new(options.concurrency.clamp(1, HttpSettings::MAX_CONCURRENCY)),
                options,
                counters: Counters::default(),
                started: Instant::now(),
                fatal: std::sync::Mutex::new(None),
            }),
        })
    }

    /// A client and token provider for these settings.
    pub fn from_settings(settings: &Settings) -> Result<GraphClient, GraphError> {
        let tokens = Arc::new(TokenProvider::from_settings(settings)?);
        GraphClient::new(
            &settings.endpoints.graph_url,
            tokens,
            ClientOptions::from_http(&settings.http),
        )
    }

    pub fn tokens(&self) -> &Arc<TokenProvider> {
        &self.inner.tokens
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The Graph root this client talks to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    pub fn stats(&self) -> GraphStats {
        let c = &self.inner.counters;
        GraphStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            bytes_received: c.bytes.load(Ordering::Relaxed),
            peak_in_flight: c.peak_in_flight.load(Ordering::Relaxed),
            reauthentications: c.reauthentications.load(Ordering::Relaxed),
            token_acquisitions: self.inner.tokens.acquisitions(),
            pages: c.pages.load(Ordering::Relaxed),
            items: c.items.load(Ordering::Relaxed),
            expected_items: c.expected_items.load(Ordering::Relaxed),
            elapsed: self.inner.started.elapsed(),
        }
    }

    /// The error that ended this client's run, if one did: Graph rejected the token
    /// ([`GraphError::TokenRejected`]) or no token could be obtained ([`GraphError::Auth`]).
    /// Collectors map each request's error to a missing source; they end with this instead.
    pub fn fatal_error(&self) -> Option<GraphError> {
        let guard = self.inner.fatal.lock().ok()?;
        guard.as_ref().and_then(copy_fatal)
    }

    /// Keeps E as the run's fatal error (the first one wins) and returns it.
    fn fail(&self, e: GraphError) -> GraphError {
        if let Ok(mut slot) = self.inner.fatal.lock()
            && slot.is_none()
        {
            *slot = copy_fatal(&e);
        }
        e
    }

    pub(crate) fn count_item_throttle(&self) {
        self.inner
            .counters
            .throttled
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_item_retries(&self, n: u64) {
        self.inner.counters.retries.fetch_add(n, Ordering::Relaxed);
    }

    /// `{base}/{version}{path}?{query}`. `path` starts with `/` and may carry its own query.
    pub fn url(&self, version: ApiVersion, path: &str, query: &Query) -> Result<Url, GraphError> {
        if !path.starts_with('/') || path.contains("://") {
            return Err(GraphError::InvalidRequest {
                path: path.to_string(),
                message: "expected a path relative to the Graph version root, starting with /"
                    .into(),
            });
        }
        let mut s = format!(
            "{}/{}{}",
            self.inner.base.as_str().trim_end_matches('/'),
            version.as_str(),
            path
        );
        let q = query.encode();
        if !q.is_empty() {
            s.push(if path.contains('?') { '&' } else { '?' });
            s.push_str(&q);
        }
        let url = Url::parse(&s).map_err(|e| GraphError::InvalidRequest {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        // Defence in depth: whatever the path holds, the request stays on the Graph origin.
        if !same_origin(&url, &self.inner.base) {
            return Err(GraphError::InvalidRequest {
                path: path.to_string(),
                message: "the path would leave the configured Graph host".into(),
            });
        }
        Ok(url)
    }

    /// GET one resource and deserialize it.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        version: ApiVersion,
        path: &str,
        query: &Query,
    ) -> Result<T, GraphError> {
        let url = self.url(version, path, query)?;
        let (value, _) = self.execute(Method::GET, url, None, query.eventual).await?;
        Ok(value)
    }

    /// POST a JSON body (e.g. `checkMemberGroups`) and deserialize the answer (`null` if empty).
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        version: ApiVersion,
        path: &str,
        body: &B,
    ) -> Result<T, GraphError> {
        let url = self.url(version, path, &Query::new())?;
        let bytes = serde_json::to_vec(body).map_err(|e| GraphError::InvalidRequest {
            path: path.to_string(),
            message: format!("cannot serialise the body: {e}"),
        })?;
        let (value, _) = self.execute(Method::POST, url, Some(bytes), false).await?;
        Ok(value)
    }

    /// Sends one request with retries and deserializes the 2xx body; returns it with the
    /// response's request-id. Retries [`RETRYABLE_STATUSES`](super::retry::RETRYABLE_STATUSES)
    /// (429/503/504), connection failures, and 2xx bodies that are
    /// not well-formed JSON (cut off or an HTML page from a proxy); never valid JSON of the
    /// wrong shape.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        eventual: bool,
    ) -> Result<(T, Option<String>), GraphError> {
        let attempts = self.inner.options.retry.max_attempts;
        self.execute_with(method, url, body, eventual, attempts)
            .await
    }

    /// [`Self::execute`] with its own number of attempts.
    pub(crate) async fn execute_with<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        eventual: bool,
        max_attempts: u32,
    ) -> Result<(T, Option<String>), GraphError> {
        let inner = &self.inner;
        let policy = &inner.options.retry;
        if let Some(e) = self.fatal_error() {
            return Err(e);
        }
        let mut attempt: u32 = 0;
        let mut renewed = false;
        let mut token = match inner.tokens.token().await {
            Ok(t) => t,
            Err(e) => return Err(self.fail(e.into())),
        };
        loop {
            attempt += 1;
            let outcome = self
                .send_once(&method, &url, body.as_ref(), eventual, token.secret())
                .await;
            let (retry_after, failure) = match outcome {
                Ok(resp) if (200..300).contains(&resp.status) => {
                    match decode::<T>(&method, &url, &resp) {
                        Ok(v) => return Ok((v, resp.request_id)),
                        Err(DecodeFailure { error, transient }) => {
                            if !transient {
                                return Err(*error);
                            }
                            (None, *error)
                        }
                    }
                }
                Ok(resp) => {
                    let (code, message, body_rid) = parse_error_body(&resp.body);
                    let request_id = resp.request_id.clone().or(body_rid);
                    let status = resp.status;
                    if status == 429 {
                        inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    let err = GraphError::Http {
                        method: method.to_string(),
                        path: path_of(&url),
                        status,
                        code: code.clone(),
                        message,
                        request_id,
                        attempts: attempt,
                    };
                    let token_refused = status == 401
                        && (code.is_empty()
                            || code.eq_ignore_ascii_case("InvalidAuthenticationToken"));
                    if token_refused && !renewed {
                        // An expired or revoked token: fetch a new one once and try again.
                        renewed = true;
                        inner
                            .counters
                            .reauthentications
                            .fetch_add(1, Ordering::Relaxed);
                        inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                        token = match inner.tokens.renew(&token).await {
                            Ok(t) => t,
                            Err(e) => return Err(self.fail(e.into())),
                        };
                        attempt -= 1;
                        continue;
                    }
                    if token_refused {
                        // Refused again after the renewal (or a token that cannot be renewed
                        // came back the same): the token is not valid for this Graph.
                        let GraphError::Http {
                            message,
                            request_id,
                            ..
                        } = err
                        else {
                            return Err(err);
                        };
                        return Err(self.fail(GraphError::TokenRejected {
                            method: inner.tokens.method(),
                            message,
                            request: format!("{method} {}", url.path()),
                            request_id,
                        }));
                    }
                    if !is_retryable_status(status) {
                        return Err(err);
                    }
                    let ra = resp
                        .headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                    (ra, err)
                }
                Err(SendError::TooLarge) => {
                    return Err(GraphError::ResponseTooLarge {
                        method: method.to_string(),
                        path: url.path().to_string(),
                        limit: inner.options.max_response_bytes,
                    });
                }
                Err(SendError::Transport(message)) => (
                    None,
                    GraphError::Transport {
                        method: method.to_string(),
                        path: path_of(&url),
                        message,
                        attempts: attempt,
                    },
                ),
            };
            if attempt >= max_attempts.max(1) {
                return Err(failure);
            }
            let wait = policy.wait_announced(attempt, retry_after, "Graph");
            tracing::debug!(
                "{method} {}: {failure}; retrying in {} ms",
                url.path(),
                wait.as_millis()
            );
            inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
            // A long wait may outlive the token.
            token = match inner.tokens.token().await {
                Ok(t) => t,
                Err(e) => return Err(self.fail(e.into())),
            };
        }
    }

    /// One attempt under the concurrency cap. `Err` = no complete HTTP answer.
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Vec<u8>>,
        eventual: bool,
        bearer: &str,
    ) -> Result<RawResponse, SendError> {
        let inner = &self.inner;
        let _permit = inner
            .sem
            .acquire()
            .await
            .map_err(|_| SendError::Transport("the client is shutting down".to_string()))?;
        let mut rb = inner
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(bearer)
            .header("client-request-id", uuid::Uuid::new_v4().to_string());
        if eventual {
            rb = rb.header("ConsistencyLevel", "eventual");
        }
        if let Some(b) = body {
            rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
        }
        let request = rb
            .build()
            .map_err(|e| SendError::Transport(error_chain(&e.without_url())))?;
        let req_headers = request.headers().clone();
        let c = &inner.counters;
        c.requests.fetch_add(1, Ordering::Relaxed);
        let now_in_flight = c.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        c.peak_in_flight.fetch_max(now_in_flight, Ordering::Relaxed);
        let started = Instant::now();
        let limit = inner.options.max_response_bytes;
        let result = async {
            let resp = inner.http.execute(request).await.map_err(BodyError::Read)?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = if (200..300).contains(&status) {
                read_limited(resp, limit).await?
            } else {
                // An error answer: its first bytes hold the code and message, if any.
                read_prefix(resp, limit.min(MAX_ERROR_BODY))
                    .await
                    .map_err(BodyError::Read)?
            };
            Ok::<_, BodyError>((status, headers, body))
        }
        .await;
        c.in_flight.fetch_sub(1, Ordering::Relaxed);
        match result {
            Ok((status, headers, body)) => {
                c.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                log_exchange(
                    method.as_str(),
                    url.as_str(),
                    status,
                    started.elapsed(),
                    &req_headers,
                    &headers,
                    body.len(),
                );
                Ok(RawResponse {
                    status,
                    request_id: request_id_of(&headers),
                    headers,
                    body,
                })
            }
            Err(BodyError::TooLarge) => {
                let msg = format!("response larger than {limit} bytes; not read further");
                log_failure(method.as_str(), url.as_str(), started.elapsed(), &msg);
                Err(SendError::TooLarge)
            }
            Err(BodyError::Read(e)) => {
                let kind = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "connection failed"
                } else if e.is_body() || e.is_decode() {
                    "response body interrupted"
                } else {
                    "request failed"
                };
                let msg = format!("{kind}: {}", error_chain(&e.without_url()));
                log_failure(method.as_str(), url.as_str(), started.elapsed(), &msg);
                Err(SendError::Transport(msg))
            }
        }
    }
}

/// A copy of a fatal error ([`GraphError::is_fatal`]); `None` for any other.
fn copy_fatal(e: &GraphError) -> Option<GraphError> {
    match e {
        GraphError::TokenRejected {
            method,
            message,
            request,
            request_id,
        } => Some(GraphError::TokenRejected {
            method: *method,
            message: message.clone(),
            request: request.clone(),
            request_id: request_id.clone(),
        }),
        GraphError::Auth(a) => Some(GraphError::Auth(a.clone())),
        _ => None,
    }
}

pub(crate) struct DecodeFailure {
    error: Box<GraphError>,
    /// Not well-formed JSON (cut off, HTML): worth another attempt.
    transient: bool,
}

/// Deserializes a 2xx body; an empty body reads as JSON `null`.
fn decode<T: DeserializeOwned>(
    method: &Method,
    url: &Url,
    resp: &RawResponse,
) -> Result<T, DecodeFailure> {
    let body: &[u8] = if resp.body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        &resp.body
    };
    serde_json::from_slice(body).map_err(|e| DecodeFailure {
        transient: matches!(
            e.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        ),
        error: Box::new(GraphError::Decode {
            method: method.to_string(),
            path: path_of(url),
            message: e.to_string().chars().take(300).collect(),
            request_id: resp.request_id.clone(),
        }),
    })
}

#[cfg(test)]
mod tests;
