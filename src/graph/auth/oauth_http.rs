//! The bridge between oauth2 5 (which only ships an adapter for reqwest 0.12) and our reqwest
//! 0.13 client, plus the mapping of oauth2's errors into [`AuthError`] without echoing bodies.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use oauth2::{
    AsyncHttpClient, ErrorResponseType, HttpClientError, HttpRequest, HttpResponse,
    RequestTokenError, StandardErrorResponse,
};

use super::error::AuthError;
use crate::graph::trace::log_exchange;

/// A reqwest client for the identity platform: no redirects (oauth2's SSRF advice), a timeout.
#[derive(Clone, Debug)]
pub struct OAuthHttp(reqwest::Client);

impl OAuthHttp {
    pub fn new(timeout: Duration, loopback: bool) -> Result<OAuthHttp, AuthError> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("enroll-doctor/", env!("CARGO_PKG_VERSION")));
        if loopback {
            b = b.no_proxy();
        }
        b.build().map(OAuthHttp).map_err(|e| AuthError::Transport {
            flow: "setup",
            message: error_chain(&e),
        })
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, req: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let started = Instant::now();
            let request = reqwest::Request::try_from(req).map_err(Box::new)?;
            let method = request.method().clone();
            let url = request.url().clone();
            let req_headers = request.headers().clone();
            let resp = self.0.execute(request).await.map_err(Box::new)?;
            let status = resp.status();
            let resp_headers = resp.headers().clone();
            let mut b = http::Response::builder()
                .status(status)
                .version(resp.version());
            for (k, v) in resp.headers() {
                b = b.header(k, v);
            }
            let body = resp.bytes().await.map_err(Box::new)?;
            // The body carries tokens: it is never logged, only its size.
            log_exchange(
                method.as_str(),
                url.as_str(),
                status.as_u16(),
                started.elapsed(),
                &req_headers,
                &resp_headers,
                body.len(),
            );
            b.body(body.to_vec()).map_err(HttpClientError::Http)
        })
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

fn truncate(s: &str, max: usize) -> String {
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
