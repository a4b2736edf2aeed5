//! The loopback listener of the browser sign-in (RFC 8252 §7.3): bound to 127.0.0.1 only, on a
//! port the OS picks, it waits for exactly one redirect that carries the sign-in's `state`,
//! answers the browser with a short page and closes.
//!
//! What counts as *the* redirect: a `GET /` addressed to this listener (`Host: localhost:PORT`
//! or `127.0.0.1:PORT`) with a `code`, an `error` or a `state`. Anything else (`/favicon.ico`,
//! another host name, another method, `/` without parameters) is answered 4xx and the listener
//! keeps waiting. The first redirect decides: the right `state` with a `code` is the answer,
//! with an `error` a refusal; a missing or wrong `state` ends the sign-in with an error (the
//! code it may carry is never used). Nothing from the request is echoed into the page, and the
//! request is never logged (its query holds the authorization code).
//!
//! The identity platform returns a redirect URI without a path with a trailing slash
//! (`http://localhost:7071` → `http://localhost:7071/`: MicrosoftDocs/entra-docs
//! docs/identity-platform/reply-url.md), so the redirect arrives on `/`.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use secrecy::SecretString;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::graph::auth::error::AuthError;
use crate::graph::auth::oauth_http::truncate;

/// The flow name in errors.
pub(crate) const FLOW: &str = "browser sign-in";

/// The hint of every failure that another try can fix.
const AGAIN: &str = "sign in again with `enroll-doctor auth login --auth browser`";

/// Connections served at once; more wait in the OS backlog until one ends.
const MAX_CONNECTIONS: usize = 16;
/// How long a connection may take to send its request line and headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the page of the deciding request may take to be written after the decision.
const GRACE: Duration = Duration::from_secs(2);

/// What the browser is shown. Static text: nothing from the request is reflected.
const PAGE_DONE: &str = "Signed in. You can close this window and return to enroll-doctor.";
const PAGE_FAILED: &str =
    "The sign-in did not complete. You can close this window; enroll-doctor says why.";
const PAGE_REFUSED: &str = "This answer does not belong to the sign-in enroll-doctor is waiting \
     for, so it was refused. You can close this window.";
const PAGE_NOT_HERE: &str = "Nothing here: enroll-doctor waits for the sign-in's redirect only.";
const PAGE_FINISHED: &str = "This sign-in has already finished. You can close this window.";

/// A listener on `127.0.0.1:<port>`; its redirect URI is `http://localhost:<port>`.
pub(crate) struct Loopback {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Loopback {
    /// Binds 127.0.0.1 (never another interface) on a port the OS picks.
    pub(crate) async fn bind() -> Result<Loopback, AuthError> {
        let failed = |e: std::io::Error| AuthError::Config {
            message: format!(
                "the browser sign-in cannot open a local port on 127.0.0.1 ({e}); sign in with --auth device-code instead"
            ),
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(failed)?;
        let addr = listener.local_addr().map_err(failed)?;
        Ok(Loopback { listener, addr })
    }

    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://localhost:<port>`: the loopback redirect a public client registers as
    /// `http://localhost` ("Mobile and desktop applications"); the identity platform ignores
    /// the port of a localhost redirect URI when matching it (MicrosoftDocs/entra-docs
    /// docs/identity-platform/reply-url.md, "Localhost exceptions"), and recommends
    /// `http://localhost` for apps that use the system browser
    /// (docs/identity-platform/v2-oauth2-auth-code-flow.md, `redirect_uri`). The name, not
    /// `127.0.0.1`, because an `http://127.0.0.1` redirect can only be added through the
    /// manifest; browsers resolve `localhost` to this listener (they try 127.0.0.1 when ::1
    /// refuses), and the identity platform does not support `[::1]` redirects.
    pub(crate) fn redirect_uri(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }

    /// Waits up to `timeout` for the redirect carrying `state`: its authorization code, or
    /// why there is none. The listener is closed when this returns.
    pub(crate) async fn wait(
        self,
        state: &str,
        timeout: Duration,
    ) -> Result<SecretString, AuthError> {
        let (tx, mut rx) = oneshot::channel();
        let judge = Arc::new(Judge {
            state: state.to_string(),
            port: self.addr.port(),
            verdict: Mutex::new(Some(tx)),
        });
        let mut conns: JoinSet<bool> = JoinSet::new();
        // Whether the connection that decided has written its page already.
        let mut page_written = false;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let verdict = loop {
            tokio::select! {
                v = &mut rx => break v.unwrap_or_else(|_| Err(AuthError::BadResponse {
                    flow: FLOW,
                    message: "the local listener stopped before the browser came back".into(),
                })),
                _ = &mut deadline => break Err(timed_out(timeout)),
                Some(done) = conns.join_next(), if !conns.is_empty() => {
                    page_written |= matches!(done, Ok(true));
                }
                accepted = self.listener.accept(), if conns.len() < MAX_CONNECTIONS => {
                    if let Ok((stream, _)) = accepted {
                        conns.spawn(serve(stream, judge.clone()));
                    }
                }
            }
        };
        drop(self.listener);
        if !page_written {
            let _ = tokio::time::timeout(GRACE, async {
                while let Some(done) = conns.join_next().await {
                    if matches!(done, Ok(true)) {
                        break;
                    }
                }
            })
            .await;
        }
        conns.abort_all();
        verdict
    }
}

type Verdict = Result<SecretString, AuthError>;

/// Decides what each request is; holds the one-shot answer channel.
struct Judge {
    state: String,
    port: u16,
    verdict: Mutex<Option<oneshot::Sender<Verdict>>>,
}

/// The redirect's parameters (first occurrence of each).
#[derive(Default)]
struct RedirectParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    error_subcode: Option<String>,
}

impl RedirectParams {
    fn parse(query: &str) -> RedirectParams {
        let mut p = RedirectParams::default();
        for (k, v) in oauth2::url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match k.as_ref() {
                "code" => &mut p.code,
                "state" => &mut p.state,
                "error" => &mut p.error,
                "error_description" => &mut p.error_description,
                "error_subcode" => &mut p.error_subcode,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(v.into_owned());
            }
        }
        p
    }
}

impl Judge {
    /// The answer to one request; `delivered` is set when it decided the sign-in.
    fn answer<B>(&self, req: &Request<B>, delivered: &AtomicBool) -> Response<String> {
        if req.method() != Method::GET {
            return page(StatusCode::METHOD_NOT_ALLOWED, PAGE_NOT_HERE);
        }
        if !self.addressed_to_me(req) {
            return page(StatusCode::BAD_REQUEST, PAGE_NOT_HERE);
        }
        if req.uri().path() != "/" {
            return page(StatusCode::NOT_FOUND, PAGE_NOT_HERE);
        }
        let params = RedirectParams::parse(req.uri().query().unwrap_or_default());
        if params.code.is_none() && params.state.is_none() && params.error.is_none() {
            return page(StatusCode::BAD_REQUEST, PAGE_NOT_HERE);
        }
        let Some(tx) = self.verdict.lock().ok().and_then(|mut v| v.take()) else {
            return page(StatusCode::BAD_REQUEST, PAGE_FINISHED);
        };
        let (verdict, response) = self.decide(params);
        delivered.store(true, Ordering::SeqCst);
        let _ = tx.send(verdict);
        response
    }

    fn decide(&self, p: RedirectParams) -> (Verdict, Response<String>) {
        let state_ok = p
            .state
            .as_deref()
            .is_some_and(|s| same_secret(s, &self.state));
        if !state_ok {
            return (
                Err(AuthError::Rejected {
                    flow: FLOW,
                    error: "state_mismatch".into(),
                    description: Some(format!(
                        "the answer that reached the local listener does not carry this sign-in's state, so it was refused and its code not used; {AGAIN}"
                    )),
                }),
                page(StatusCode::BAD_REQUEST, PAGE_REFUSED),
            );
        }
        if let Some(error) = p.error {
            return (
                Err(redirect_error(
                    &error,
                    p.error_subcode.as_deref(),
                    p.error_description.as_deref(),
                )),
                page(StatusCode::OK, PAGE_FAILED),
            );
        }
        match p.code.filter(|c| !c.is_empty()) {
            Some(code) => (
                Ok(SecretString::from(code)),
                page(StatusCode::OK, PAGE_DONE),
            ),
            None => (
                Err(AuthError::BadResponse {
                    flow: FLOW,
                    message: "the browser came back with neither a code nor an error".into(),
                }),
                page(StatusCode::BAD_REQUEST, PAGE_FAILED),
            ),
        }
    }

    /// `Host: localhost:PORT` or `127.0.0.1:PORT`: a page that rebinds another name to
    /// 127.0.0.1 is not talking to us.
    fn addressed_to_me<B>(&self, req: &Request<B>) -> bool {
        let Some(host) = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
        else {
            return false;
        };
        let Some((name, port)) = host.rsplit_once(':') else {
            return false;
        };
        port.parse::<u16>().ok() == Some(self.port)
            && (name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1")
    }
}

/// Compares without stopping at the first difference.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An `error` redirect (MicrosoftDocs/entra-docs docs/identity-platform/
/// v2-oauth2-auth-code-flow.md, "Error response" of the authorization endpoint) as a refusal.
/// `access_denied` with `error_subcode=cancel` is the user cancelling.
fn redirect_error(error: &str, subcode: Option<&str>, description: Option<&str>) -> AuthError {
    let detail = description
        .map(|d| d.lines().next().unwrap_or_default().trim())
        .filter(|d| !d.is_empty())
        .map(|d| truncate(d, 300));
    let description = match (error, subcode) {
        ("access_denied", Some("cancel")) => {
            format!("the sign-in was cancelled in the browser; {AGAIN}")
        }
        ("access_denied", _) => format!(
            "access was denied{}; the user or an administrator has to consent to the app's permissions",
            detail.map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        _ => detail.unwrap_or_else(|| "the identity platform gave no description".into()),
    };
    AuthError::Rejected {
        flow: FLOW,
        error: truncate(error, 80),
        description: Some(description),
    }
}

fn timed_out(timeout: Duration) -> AuthError {
    AuthError::Rejected {
        flow: FLOW,
        error: "timed_out".into(),
        description: Some(format!(
            "the browser did not come back within {} s; {AGAIN}, or where no browser on this computer can be used, with --auth device-code. If the browser showed an error page instead, the identity platform does not send it back here: with your own app (--client-id, AZURE_CLIENT_ID), AADSTS50011 means the app lacks the redirect URI `http://localhost` of the Mobile and desktop applications platform (Entra admin center > App registrations > the app > Authentication); add it or unset AZURE_CLIENT_ID to use Microsoft's public client",
            timeout.as_secs()
        )),
    }
}

fn page(status: StatusCode, text: &str) -> Response<String> {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>enroll-doctor sign-in</title></head><body><p>{text}</p></body></html>\n"
    );
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    for (k, v) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    r
}

/// Serves one connection (one request: no keep-alive); true when it decided the sign-in.
async fn serve(stream: TcpStream, judge: Arc<Judge>) -> bool {
    let delivered = Arc::new(AtomicBool::new(false));
    let flag = delivered.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let response = judge.answer(&req, &flag);
        async move { Ok::<_, Infallible>(response) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let _ = builder
        .serve_connection(TokioIo::new(stream), service)
        .await;
    delivered.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// GET `path` on the listener with `Host: host` (default `localhost:PORT`).
    async fn get(addr: SocketAddr, path: &str, host: Option<&str>) -> (u16, String) {
        let mut req = client().get(format!("http://{addr}{path}"));
        if let Some(h) = host {
            req = req.header(header::HOST, h);
        } else {
            req = req.header(header::HOST, format!("localhost:{}", addr.port()));
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    async fn started(
        timeout: Duration,
    ) -> (
        SocketAddr,
        tokio::task::JoinHandle<Result<SecretString, AuthError>>,
    ) {
        let lb = Loopback::bind().await.unwrap();
        let addr = lb.local_addr();
        (addr, tokio::spawn(lb.wait("the-state", timeout)))
    }

    #[tokio::test]
    async fn the_listener_is_bound_to_127_0_0_1_only_on_an_os_port() {
        let lb = Loopback::bind().await.unwrap();
        let addr = lb.local_addr();
        assert_eq!(addr.ip(), std::net::IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_ne!(addr.port(), 0);
        assert_eq!(
            lb.redirect_uri(),
            format!("http://localhost:{}", addr.port())
        );
        // Not on every interface: a wildcard bind of the same port would conflict otherwise.
        let other = Loopback::bind().await.unwrap();
        assert_ne!(other.local_addr().port(), addr.port());
    }

    #[tokio::test]
    async fn stray_requests_do_not_consume_the_one_redirect() {
        let (addr, waiting) = started(Duration::from_secs(10)).await;
        let (s, body) = get(addr, "/favicon.ico", None).await;
        assert_eq!(s, 404, "{body}");
        assert_eq!(get(addr, "/", None).await.0, 400);
        assert_eq!(get(addr, "/?foo=bar", None).await.0, 400);
        // Another host name (a rebound DNS name), even with the right state and a code.
        let rebound = get(addr, "/?code=c&state=the-state", Some("evil.example:80")).await;
        assert_eq!(rebound.0, 400);
        let wrong_port = format!("localhost:{}", addr.port().wrapping_add(1));
        assert_eq!(
            get(addr, "/?code=c&state=the-state", Some(&wrong_port))
                .await
                .0,
            400
        );
        let post = client()
            .post(format!("http://{addr}/?code=c&state=the-state"))
            .send()
            .await
            .unwrap();
        assert_eq!(post.status().as_u16(), 405);
        assert!(!waiting.is_finished());
        // Then the real redirect, with 127.0.0.1 as the host this time.
        let (s, body) = get(
            addr,
            "/?code=the-code&state=the-state&session_state=x",
            Some(&format!("127.0.0.1:{}", addr.port())),
        )
        .await;
        assert_eq!(s, 200);
        assert!(body.contains("You can close this window"), "{body}");
        assert!(!body.contains("the-code"), "{body}");
        let code = waiting.await.unwrap().unwrap();
        assert_eq!(code.expose_secret(), "the-code");
        // One shot: the listener is closed.
        assert!(
            client()
                .get(format!("http://{addr}/"))
                .send()
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_wrong_or_missing_state_ends_the_sign_in_without_using_the_code() {
        for query in [
            "/?code=stolen-code-1&state=another-state",
            "/?code=stolen-code-1",
            "/?code=stolen-code-1&state=the-stat",
        ] {
            let (addr, waiting) = started(Duration::from_secs(10)).await;
            let (s, body) = get(addr, query, None).await;
            assert_eq!(s, 400, "{query}");
            assert!(body.contains("refused"), "{body}");
            let err = waiting.await.unwrap().unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("state_mismatch"), "{msg}");
            assert!(!msg.contains("stolen-code-1"), "{msg}");
            assert!(
                client()
                    .get(format!("http://{addr}/"))
                    .send()
                    .await
                    .is_err()
            );
        }
    }

    #[tokio::test]
    async fn an_error_redirect_is_a_readable_refusal() {
        let (addr, waiting) = started(Duration::from_secs(10)).await;
        let (s, body) = get(
            addr,
            "/?error=access_denied&error_subcode=cancel&error_description=AADSTS65004%3A+User+declined+to+consent+to+access+the+app.&state=the-state",
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert!(body.contains("did not complete"), "{body}");
        let msg = waiting.await.unwrap().unwrap_err().to_string();
        assert!(msg.contains("access_denied"), "{msg}");
        assert!(msg.contains("cancelled in the browser"), "{msg}");

        let (addr, waiting) = started(Duration::from_secs(10)).await;
        get(
            addr,
            "/?error=invalid_request&error_description=AADSTS900144%3A+The+request+body+must+contain+the+following+parameter%3A+%27scope%27.%0D%0ATrace+ID%3A+x&state=the-state",
            None,
        )
        .await;
        let err = waiting.await.unwrap().unwrap_err();
        assert!(matches!(&err, AuthError::Rejected { error, .. } if error == "invalid_request"));
        let msg = err.to_string();
        assert!(msg.contains("AADSTS900144"), "{msg}");
        assert!(!msg.contains("Trace ID"), "only the first line: {msg}");

        // access_denied without the cancel subcode: consent.
        let (addr, waiting) = started(Duration::from_secs(10)).await;
        get(addr, "/?error=access_denied&state=the-state", None).await;
        let msg = waiting.await.unwrap().unwrap_err().to_string();
        assert!(msg.contains("consent"), "{msg}");
    }

    #[tokio::test]
    async fn without_an_answer_the_wait_times_out_and_closes() {
        let started_at = std::time::Instant::now();
        let (addr, waiting) = started(Duration::from_millis(200)).await;
        let err = waiting.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("timed_out"), "{err}");
        // A redirect URI the app lacks is shown in the browser and never comes back here.
        assert!(err.to_string().contains("AADSTS50011"), "{err}");
        assert!(err.to_string().contains("Mobile and desktop"), "{err}");
        assert!(started_at.elapsed() < Duration::from_secs(3));
        assert!(
            client()
                .get(format!("http://{addr}/"))
                .send()
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn an_idle_connection_does_not_hold_the_sign_in() {
        let (addr, waiting) = started(Duration::from_secs(10)).await;
        // A connection that never sends a byte.
        let _idle = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (s, _) = get(addr, "/?code=c&state=the-state", None).await;
        assert_eq!(s, 200);
        let t = std::time::Instant::now();
        assert_eq!(waiting.await.unwrap().unwrap().expose_secret(), "c");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
