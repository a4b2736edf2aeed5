//! Delegated sign-in with the device code flow (RFC 8628). Sign-ins are kept in the shared
//! [`TokenCache`].

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthType, ClientId, DeviceAuthorizationUrl, DeviceCodeErrorResponse,
    DeviceCodeErrorResponseType, StandardDeviceAuthorizationResponse,
};

use super::cache::TokenCache;
use super::delegated::{UserSignIn, bad_url};
use super::error::AuthError;
use super::oauth_http::{OAuthHttp, map_token_error, truncate};
use super::token::AccessToken;

/// How the device code flow paces its polls (RFC 8628 §3.5). Injectable so tests run fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCodeTiming {
    /// The shortest pause between polls, whatever the server's `interval` says (RFC 8628's
    /// default, 5 s: an `interval` of 0 once meant polling hot).
    pub min_interval: Duration,
    /// Added to the pause on each `slow_down` answer (RFC 8628: 5 s).
    pub slow_down_step: Duration,
    /// The longest the sign-in is waited for, whatever the code's `expires_in` says.
    pub max_wait: Duration,
}

impl Default for DeviceCodeTiming {
    fn default() -> Self {
        DeviceCodeTiming {
            min_interval: Duration::from_secs(5),
            slow_down_step: Duration::from_secs(5),
            max_wait: Duration::from_secs(15 * 60),
        }
    }
}

/// One poll's answer.
enum Poll {
    Token(Box<BasicTokenResponse>),
    Pending,
    SlowDown,
}

/// What the device code flow needs.
#[derive(Debug, Clone)]
pub struct DeviceCodeFlow {
    pub http: OAuthHttp,
    pub client_id: String,
    /// Tenant id, domain, or `organizations`.
    pub tenant: String,
    pub login_url: String,
    /// `{graph}/.default`; `offline_access` is added to get a refresh token.
    pub scope: String,
    /// The sign-in cache (shared with the browser flow).
    pub cache: TokenCache,
    pub timing: DeviceCodeTiming,
}

impl DeviceCodeFlow {
    fn user(&self) -> UserSignIn<'_> {
        UserSignIn {
            http: &self.http,
            client_id: &self.client_id,
            tenant: &self.tenant,
            login_url: &self.login_url,
            scope: &self.scope,
            cache: &self.cache,
            method: "device-code",
        }
    }

    /// Cached access token, else refresh token, else an interactive sign-in.
    pub async fn acquire(&self, force_refresh: bool) -> Result<AccessToken, AuthError> {
        match self.user().cached(force_refresh).await? {
            Some(t) => Ok(t),
            None => self.login().await,
        }
    }

    /// Always runs the interactive flow (`auth login`), then caches the result.
    pub async fn login(&self) -> Result<AccessToken, AuthError> {
        let user = self.user();
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(user.token_url()?)
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(user.url("devicecode")).map_err(bad_url)?,
            );
        let details: StandardDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scopes(user.scopes())
            .request_async(&self.http)
            .await
            .map_err(|e| map_token_error("device code", e))?;
        // The user code is meant to be shown; the device code is the secret and is not. The
        // lifetime shown is the one polled for, not the server's (which may say years).
        let lifetime = self.code_lifetime(details.expires_in());
        let prompt = sign_in_prompt(
            details.verification_uri().as_str(),
            details.user_code().secret(),
            lifetime.as_secs(),
        );
        // Wrapped between words to the terminal: the address and the code stay whole.
        eprintln!(
            "{}",
            crate::report::table::wrap_paragraph(&prompt, crate::report::table::width_from_env())
        );
        let token = self.poll_for_token(&details, lifetime).await?;
        let access = user.keep(&token, None)?;
        eprintln!("Signed in.");
        Ok(access)
    }

    /// How long the sign-in is waited for: the code's `expires_in`, at most `timing.max_wait`.
    fn code_lifetime(&self, expires_in: Duration) -> Duration {
        expires_in.min(self.timing.max_wait)
    }

    /// Polls the token endpoint until the user signed in: never faster than
    /// `timing.min_interval`, slower after each `slow_down`, and no longer than `lifetime` in
    /// all — each poll (with the retries [`OAuthHttp`] makes inside it) gets only the time
    /// that is left.
    async fn poll_for_token(
        &self,
        details: &StandardDeviceAuthorizationResponse,
        lifetime: Duration,
    ) -> Result<BasicTokenResponse, AuthError> {
        let t = self.timing;
        let started = tokio::time::Instant::now();
        let expired = || AuthError::Rejected {
            flow: "device code sign-in",
            error: "expired_token".into(),
            description: Some(format!(
                "the code was not entered within {} s; run the sign-in again",
                lifetime.as_secs()
            )),
        };
        let mut interval = details.interval().max(t.min_interval);
        loop {
            let left = lifetime.saturating_sub(started.elapsed());
            let poll = tokio::time::timeout(left, self.poll_once(details))
                .await
                .map_err(|_| expired())?;
            match poll? {
                Poll::Token(token) => return Ok(*token),
                Poll::Pending => {}
                Poll::SlowDown => interval = interval.saturating_add(t.slow_down_step),
            }
            if started.elapsed().saturating_add(interval) > lifetime {
                return Err(expired());
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// One device-code token request (RFC 8628 §3.4).
    async fn poll_once(
        &self,
        details: &StandardDeviceAuthorizationResponse,
    ) -> Result<Poll, AuthError> {
        const FLOW: &str = "device code sign-in";
        let form = oauth2::url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
            .append_pair("device_code", details.device_code().secret())
            .append_pair("client_id", &self.client_id)
            .finish();
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.user().url("token"))
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(form.into_bytes())
            .map_err(bad_url)?;
        let response = self.http.send(request).await.map_err(|e| {
            map_token_error(
                FLOW,
                oauth2::RequestTokenError::<_, DeviceCodeErrorResponse>::Request(e),
            )
        })?;
        let body = response.body();
        if response.status().is_success() {
            return serde_json::from_slice::<BasicTokenResponse>(body)
                .map(|t| Poll::Token(Box::new(t)))
                .map_err(|_| AuthError::BadResponse {
                    flow: FLOW,
                    message: "the token response is not the expected JSON".into(),
                });
        }
        let Ok(err) = serde_json::from_slice::<DeviceCodeErrorResponse>(body) else {
            return Err(AuthError::BadResponse {
                flow: FLOW,
                message: format!("HTTP {} without an OAuth error", response.status().as_u16()),
            });
        };
        match err.error() {
            DeviceCodeErrorResponseType::AuthorizationPending => Ok(Poll::Pending),
            DeviceCodeErrorResponseType::SlowDown => Ok(Poll::SlowDown),
            other => Err(AuthError::Rejected {
                flow: FLOW,
                error: other.as_ref().to_string(),
                description: err
                    .error_description()
                    .map(|d| truncate(d.lines().next().unwrap_or_default(), 300)),
            }),
        }
    }
}

/// What the user is asked to do. The address and the code come from the identity server:
/// control characters in them are shown escaped (`\u{1b}`), never sent to the terminal.
fn sign_in_prompt(verification_uri: &str, user_code: &str, expires_in_secs: u64) -> String {
    format!(
        "To sign in, open {} in a browser and enter the code {} (it expires in {} minutes).",
        crate::text_safety::shown(verification_uri),
        crate::text_safety::shown(user_code),
        expires_in_secs.div_ceil(60)
    )
}

#[cfg(test)]
mod prompt_tests {
    use super::sign_in_prompt;

    #[test]
    fn a_user_code_or_address_with_terminal_escapes_is_shown_escaped() {
        let p = sign_in_prompt(
            "https://microsoft.com/devicelogin\u{1b}]8;;http://evil\u{7}",
            "ABCD\u{1b}[2J\u{9b}1;1H\u{202e}EFGH\nX",
            900,
        );
        assert!(
            !p.bytes()
                .any(|b| b == 0x1b || b == 0x07 || b == 0x9b || b == b'\n'),
            "{p}"
        );
        assert_eq!(
            p,
            "To sign in, open https://microsoft.com/devicelogin\\u{1b}]8;;http://evil\\u{7} in a \
             browser and enter the code ABCD\\u{1b}[2J\\u{9b}1;1H\\u{202e}EFGH\\u{a}X (it expires \
             in 15 minutes)."
        );
        let plain = sign_in_prompt("https://microsoft.com/devicelogin", "ABCD-EFGH", 61);
        assert_eq!(
            plain,
            "To sign in, open https://microsoft.com/devicelogin in a browser and enter the code \
             ABCD-EFGH (it expires in 2 minutes)."
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_flow(url: &str, cache_path: Option<std::path::PathBuf>) -> DeviceCodeFlow {
        DeviceCodeFlow {
            http: OAuthHttp::new(std::time::Duration::from_secs(5), true).unwrap(),
            client_id: "c".into(),
            tenant: "t".into(),
            login_url: url.into(),
            scope: "https://graph.microsoft.com/.default".into(),
            cache: TokenCache::new(cache_path),
            timing: DeviceCodeTiming {
                min_interval: Duration::from_millis(40),
                slow_down_step: Duration::from_millis(40),
                max_wait: Duration::from_millis(400),
            },
        }
    }

    /// A device-code endpoint saying `interval`, then token polls answered by `poll(n)`.
    fn device_server(
        interval: u64,
        expires_in: u64,
        poll: impl Fn(usize) -> crate::graph::test_server::Answer + Send + Sync + 'static,
    ) -> crate::graph::test_server::TestServer {
        use crate::graph::test_server::{Answer, serve};
        let polls = std::sync::atomic::AtomicUsize::new(0);
        serve(move |_, req| {
            if req.path.ends_with("/devicecode") {
                Answer::json(
                    200,
                    &format!(
                        "{{\"device_code\":\"dc\",\"user_code\":\"UC\",\"verification_uri\":\"https://microsoft.com/devicelogin\",\"expires_in\":{expires_in},\"interval\":{interval}}}"
                    ),
                )
            } else {
                poll(polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
            }
        })
    }

    fn token_polls(server: &crate::graph::test_server::TestServer) -> Vec<std::time::Instant> {
        server
            .seen()
            .iter()
            .filter(|r| r.path.ends_with("/token"))
            .inspect(|r| assert!(r.body.contains("device_code=dc"), "{}", r.body))
            .map(|r| r.at)
            .collect()
    }

    #[test]
    fn the_default_pace_is_rfc_8628s() {
        let t = DeviceCodeTiming::default();
        assert_eq!(t.min_interval, Duration::from_secs(5));
        assert_eq!(t.slow_down_step, Duration::from_secs(5));
        assert_eq!(t.max_wait, Duration::from_secs(900));
    }

    #[tokio::test]
    async fn interval_zero_is_not_polled_hot_and_the_wait_is_capped() {
        use crate::graph::test_server::Answer;
        // interval 0 and a code that "lives" for 31,000 years.
        let server = device_server(0, 1_000_000_000_000, |_| {
            Answer::json(400, "{\"error\":\"authorization_pending\"}")
        });
        let flow = fast_flow(&server.url, None);
        let err = flow.login().await.unwrap_err().to_string();
        assert!(
            err.contains("expired_token") && err.contains("not entered"),
            "{err}"
        );
        let polls = token_polls(&server);
        // 400 ms at one poll per 40 ms at most (the first poll is immediate).
        assert!(polls.len() >= 2 && polls.len() <= 11, "{}", polls.len());
        for w in polls.windows(2) {
            let gap = w[1] - w[0];
            assert!(gap >= Duration::from_millis(30), "{gap:?}");
        }
    }

    #[tokio::test]
    async fn retries_inside_one_poll_do_not_outlast_the_wait() {
        use crate::graph::test_server::Answer;
        // Every poll is throttled for 2 s; the identity client would retry it 5 times
        // (8 s in one poll) without the deadline.
        let server = device_server(0, 900, |_| {
            Answer::json(429, "{}").header("Retry-After", "2")
        });
        let mut flow = fast_flow(&server.url, None);
        flow.timing.max_wait = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let err = flow.login().await.unwrap_err().to_string();
        let waited = started.elapsed();
        assert!(err.contains("expired_token"), "{err}");
        // The cap plus slack for the device-code request and scheduling, far below 2 s.
        assert!(waited < Duration::from_millis(1500), "{waited:?}");
        assert_eq!(token_polls(&server).len(), 1);
    }

    #[test]
    fn the_prompt_shows_the_lifetime_that_is_polled_for() {
        let flow = DeviceCodeFlow {
            timing: DeviceCodeTiming::default(),
            ..fast_flow("http://127.0.0.1:1", None)
        };
        // The server says 166,666,666,667 minutes; the sign-in is waited for 15.
        let lifetime = flow.code_lifetime(Duration::from_secs(10_000_000_000_000));
        assert_eq!(lifetime, Duration::from_secs(900));
        let p = sign_in_prompt(
            "https://microsoft.com/devicelogin",
            "UC",
            lifetime.as_secs(),
        );
        assert!(p.ends_with("(it expires in 15 minutes)."), "{p}");
        // A shorter code lifetime is shown as it is.
        let short = flow.code_lifetime(Duration::from_secs(300));
        assert_eq!(short, Duration::from_secs(300));
    }

    #[tokio::test]
    async fn slow_down_widens_the_pause() {
        use crate::graph::test_server::Answer;
        let server = device_server(0, 900, |n| match n {
            0 | 1 => Answer::json(400, "{\"error\":\"slow_down\"}"),
            _ => Answer::json(
                200,
                "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"at\",\"refresh_token\":\"rt\"}",
            ),
        });
        let mut flow = fast_flow(&server.url, None);
        flow.timing.max_wait = Duration::from_secs(5);
        let token = flow.login().await.unwrap();
        assert_eq!(token.secret(), "at");
        let polls = token_polls(&server);
        assert_eq!(polls.len(), 3);
        // 40 + 40 ms after the first slow_down, 40 + 80 ms after the second.
        assert!(polls[1] - polls[0] >= Duration::from_millis(70));
        assert!(polls[2] - polls[1] >= Duration::from_millis(110));
    }

    #[tokio::test]
    async fn a_refused_sign_in_ends_the_polls() {
        use crate::graph::test_server::Answer;
        let server = device_server(0, 900, |_| {
            Answer::json(
                400,
                "{\"error\":\"access_denied\",\"error_description\":\"the user said no\"}",
            )
        });
        let err = fast_flow(&server.url, None).login().await.unwrap_err();
        assert!(err.to_string().contains("access_denied"), "{err}");
        assert_eq!(token_polls(&server).len(), 1);
    }
}
