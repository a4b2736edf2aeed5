//! The Graph client and every sign-in method against the mock Graph over loopback, the fault
//! matrix, the foreign-nextLink guard, `$batch`, and the no-leak guarantees of the binary.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use enroll_doctor::config::{AssertionAlgorithm, AuthMethod, FlagOverrides, Settings};
use enroll_doctor::graph::{
    ApiVersion, AuthError, BatchRequest, ClientOptions, GraphClient, GraphError, Query,
    RetryPolicy, TokenKind, TokenProvider,
};
use mock_graph::{Fault, FaultRule, MockConfig, MockGraph, MockHandle, RetryAfter};
use serde::Deserialize;

use super::common::bin;

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    #[serde(rename = "userPrincipalName")]
    upn: String,
}

fn settings(mock: &MockHandle, auth: AuthMethod, env: &[(&str, &str)]) -> Settings {
    let mut e: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    e.entry("AZURE_TENANT_ID".into())
        .or_insert_with(|| mock.tenant_id());
    let flags = FlagOverrides {
        graph_url: Some(mock.base_url()),
        login_url: Some(mock.base_url()),
        auth: Some(auth),
        ..Default::default()
    };
    Settings::from_map(None, &e, &flags).expect("settings")
}

/// Short waits so no test sleeps long: backoff 20–200 ms, any wait capped at 1.5 s.
fn fast_options(max_attempts: u32) -> ClientOptions {
    ClientOptions {
        concurrency: 8,
        timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            max_attempts,
            base_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            max_wait: Duration::from_millis(1500),
        },
        page_size: 999,
        page_attempts: max_attempts,
        ..ClientOptions::default()
    }
}

fn client_with(s: &Settings, options: ClientOptions) -> GraphClient {
    let tokens = Arc::new(TokenProvider::from_settings(s).expect("provider"));
    GraphClient::new(&s.endpoints.graph_url, tokens, options).expect("client")
}

fn secret_settings(mock: &MockHandle, app: &str) -> Settings {
    let app = mock.app(app).expect("fixture app");
    settings(
        mock,
        AuthMethod::ClientSecret,
        &[
            ("AZURE_CLIENT_ID", &app.client_id),
            ("AZURE_CLIENT_SECRET", &app.client_secret),
        ],
    )
}

async fn list_users(c: &GraphClient) -> Result<Vec<User>, GraphError> {
    c.list_all(
        ApiVersion::V1,
        "/users",
        &Query::new().select(&["id", "userPrincipalName"]),
    )
    .await
}

async fn contoso() -> MockGraph {
    MockGraph::start(MockConfig::fixture("contoso"))
        .await
        .expect("mock")
}

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_signs_in_and_pages_users() {
    let mock = contoso().await;
    let s = secret_settings(&mock, "auditor");
    let c = client_with(&s, fast_options(4));
    let users = list_users(&c).await.unwrap();
    assert!(
        users.iter().any(|u| u.upn.starts_with("jdoe@")),
        "{users:?}"
    );
    assert!(users.iter().all(|u| !u.id.is_empty()));
    // The second call reuses the cached token.
    let again = list_users(&c).await.unwrap();
    assert_eq!(again.len(), users.len());
    assert_eq!(c.stats().token_acquisitions, 1);
    assert_eq!(mock.stats().token_requests, 1);
    let tok = c.tokens().token().await.unwrap();
    let claims = tok.claims().unwrap();
    assert_eq!(claims.kind(), TokenKind::Application);
    assert_eq!(claims.tenant_id.as_deref(), Some(mock.tenant_id().as_str()));
    assert!(!claims.roles.is_empty());
    // $select reached the server.
    assert!(
        mock.requests().iter().any(
            |r| r.path_and_query.contains("$select=id,userPrincipalName")
                || r.path_and_query
                    .contains("%24select=id%2CuserPrincipalName")
        ),
        "{:?}",
        mock.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_is_a_typed_error_without_the_secret() {
    let mock = contoso().await;
    let app = mock.app("auditor").unwrap();
    let s = settings(
        &mock,
        AuthMethod::ClientSecret,
        &[
            ("AZURE_CLIENT_ID", &app.client_id),
            ("AZURE_CLIENT_SECRET", "not-the-secret-Zq9"),
        ],
    );
    let c = client_with(&s, fast_options(2));
    let err = list_users(&c).await.unwrap_err();
    let msg = format!("{err} {err:?}");
    assert!(
        matches!(err, GraphError::Auth(AuthError::Rejected { .. })),
        "{msg}"
    );
    assert!(msg.contains("invalid_client"), "{msg}");
    assert!(!msg.contains("not-the-secret-Zq9"), "{msg}");
}

fn rsa_cert() -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let params = rcgen::CertificateParams::new(vec!["enroll-doctor e2e".into()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_assertion_signs_in_with_ps256_and_rs256() {
    let mock = contoso().await;
    let app = mock
        .app("cert-only")
        .or_else(|| mock.app("auditor"))
        .unwrap();
    let (cert, key) = rsa_cert();
    assert!(mock.register_certificate(&app.client_id, &cert));
    let dir = tempfile::tempdir().unwrap();
    let pem_path = dir.path().join("app.pem");
    std::fs::write(&pem_path, format!("{cert}{key}")).unwrap();
    let pem_str = pem_path.to_str().unwrap();
    let mut s = settings(
        &mock,
        AuthMethod::Certificate,
        &[
            ("AZURE_CLIENT_ID", &app.client_id),
            ("AZURE_CLIENT_CERTIFICATE_PATH", pem_str),
        ],
    );
    let c = client_with(&s, fast_options(2));
    let users = list_users(&c).await.unwrap();
    assert!(!users.is_empty());

    s.certificate_algorithm = AssertionAlgorithm::Rs256;
    let c = client_with(&s, fast_options(2));
    assert!(!list_users(&c).await.unwrap().is_empty());

    // A certificate the app does not know is refused by the identity platform.
    let (other_cert, other_key) = rsa_cert();
    let other = dir.path().join("other.pem");
    std::fs::write(&other, format!("{other_key}{other_cert}")).unwrap();
    s.certificate = Some(other);
    s.certificate_algorithm = AssertionAlgorithm::Ps256;
    let c = client_with(&s, fast_options(2));
    let err = list_users(&c).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Auth(AuthError::Rejected { .. })),
        "{err}"
    );
    assert!(!err.to_string().contains("eyJ"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_polls_caches_0600_and_refreshes() {
    let mock = contoso().await;
    let app = mock.app("cli").expect("public client fixture");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache").join("tokens.json");
    let cache_str = cache.to_str().unwrap();
    let s = settings(
        &mock,
        AuthMethod::DeviceCode,
        &[
            ("AZURE_CLIENT_ID", &app.client_id),
            ("ENROLL_DOCTOR_TOKEN_CACHE", cache_str),
        ],
    );
    let started = Instant::now();
    let provider = TokenProvider::from_settings(&s).unwrap();
    let tok = provider.token().await.unwrap();
    // One `authorization_pending` answer: the mock says `interval: 1`, but polls keep RFC
    // 8628's 5 s floor.
    assert!(started.elapsed() >= Duration::from_millis(4900));
    assert!(started.elapsed() < Duration::from_secs(12));
    let claims = tok.claims().unwrap();
    assert_eq!(claims.kind(), TokenKind::Delegated);
    assert!(claims.upn.is_some());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert!(
        cached["entries"][0]["refresh_token"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let device_posts = |m: &MockGraph| {
        m.requests()
            .iter()
            .filter(|r| r.path_and_query.contains("/devicecode"))
            .count()
    };
    assert_eq!(device_posts(&mock), 1);

    // A new process (fresh memory) reuses the cached token without any request.
    let before = mock.stats().token_requests;
    let p2 = TokenProvider::from_settings(&s).unwrap();
    let t2 = p2.token().await.unwrap();
    assert_eq!(t2.secret(), tok.secret());
    assert_eq!(mock.stats().token_requests, before);
    // Graph rejected it: the refresh token gets a new one, no new device code.
    let t3 = p2.renew(&t2).await.unwrap();
    assert_ne!(t3.secret(), t2.secret());
    assert_eq!(device_posts(&mock), 1);
    assert_eq!(mock.stats().token_requests, before + 1);
    // The token works against Graph.
    let c = GraphClient::new(&s.endpoints.graph_url, Arc::new(p2), fast_options(2)).unwrap();
    let me: serde_json::Value = c
        .get_json(ApiVersion::V1, "/me", &Query::new())
        .await
        .unwrap();
    assert!(me.get("userPrincipalName").is_some(), "{me}");
}

#[cfg(unix)]
fn fake_az(dir: &std::path::Path, script_body: &str) -> std::ffi::OsString {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("az");
    std::fs::write(&p, format!("#!/bin/sh\n{script_body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut path = dir.as_os_str().to_owned();
    path.push(":/usr/bin:/bin");
    path
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn azure_cli_token_from_a_fake_az_on_the_child_path() {
    let mock = contoso().await;
    let token = mock.token_for("auditor").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args_file = dir.path().join("args.txt");
    let exp = chrono::Utc::now().timestamp() + 3000;
    let path = fake_az(
        dir.path(),
        &format!(
            "echo \"$@\" > '{}'\necho '{{\"accessToken\":\"{token}\",\"expiresOn\":\"2099-01-01 00:00:00.000000\",\"expires_on\":{exp},\"tokenType\":\"Bearer\"}}'",
            args_file.display()
        ),
    );
    let s = settings(&mock, AuthMethod::AzureCli, &[]);
    let tokens = Arc::new(TokenProvider::from_settings_with_path(&s, Some(path)).unwrap());
    let c = GraphClient::new(&s.endpoints.graph_url, tokens, fast_options(2)).unwrap();
    assert!(!list_users(&c).await.unwrap().is_empty());
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert_eq!(
        args.trim(),
        format!(
            "account get-access-token --resource-type ms-graph -o json --tenant {}",
            mock.tenant_id()
        )
    );
    let t = c.tokens().token().await.unwrap();
    assert_eq!(t.expires_at.timestamp(), exp);

    // az failing (not logged in) is explained.
    let dir2 = tempfile::tempdir().unwrap();
    let path2 = fake_az(
        dir2.path(),
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1",
    );
    let p = TokenProvider::from_settings_with_path(&s, Some(path2)).unwrap();
    let err = p.token().await.unwrap_err();
    assert!(matches!(err, AuthError::AzureCli { .. }), "{err}");
    assert!(err.to_string().contains("az login"), "{err}");
    // No az at all.
    let empty = tempfile::tempdir().unwrap();
    let p = TokenProvider::from_settings_with_path(&s, Some(empty.path().as_os_str().to_owned()))
        .unwrap();
    let err = p.token().await.unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn access_token_from_env_and_file() {
    let mock = contoso().await;
    let token = mock.token_for("auditor").unwrap();
    let s = settings(
        &mock,
        AuthMethod::AccessToken,
        &[("ENROLL_DOCTOR_ACCESS_TOKEN", &token)],
    );
    assert!(
        !list_users(&client_with(&s, fast_options(2)))
            .await
            .unwrap()
            .is_empty()
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("token");
    std::fs::write(&f, format!("{token}\n")).unwrap();
    let s = settings(
        &mock,
        AuthMethod::AccessToken,
        &[("ENROLL_DOCTOR_ACCESS_TOKEN_FILE", f.to_str().unwrap())],
    );
    assert!(
        !list_users(&client_with(&s, fast_options(2)))
            .await
            .unwrap()
            .is_empty()
    );
}

/// What a fault must lead to.
enum Expect {
    /// Retried (at least `min_retries`) and succeeded, having waited at least `min_wait`
    /// (the Retry-After the fault set: proves it was honoured, not replaced by a short backoff).
    Recovers {
        min_retries: u64,
        min_wait: Duration,
    },
    /// Failed with this HTTP status, naming the request-id.
    HttpError(u16),
    /// Failed without an HTTP answer after all attempts.
    TransportError,
    /// Failed as an undecodable body, naming the request-id.
    DecodeError,
    NextLinkLoop,
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_matrix() {
    let mock = contoso().await;
    let s = secret_settings(&mock, "auditor");
    let users = "/v1.0/users";
    let cases: Vec<(&str, FaultRule, Expect)> = vec![
        (
            "latency",
            Fault::Latency(Duration::from_millis(300))
                .on(users)
                .times(1),
            Expect::Recovers {
                min_retries: 0,
                min_wait: Duration::from_millis(300),
            },
        ),
        (
            "429 Retry-After seconds",
            Fault::Throttle {
                retry_after: Some(RetryAfter::Seconds(1)),
            }
            .on(users)
            .times(1),
            Expect::Recovers {
                min_retries: 1,
                min_wait: Duration::from_millis(950),
            },
        ),
        (
            "429 Retry-After HTTP-date",
            Fault::Throttle {
                retry_after: Some(RetryAfter::HttpDate(Duration::from_secs(1))),
            }
            .on(users)
            .times(1),
            Expect::Recovers {
                min_retries: 1,
                min_wait: Duration::from_millis(950),
            },
        ),
        (
            "429 without Retry-After, twice",
            Fault::Throttle { retry_after: None }.on(users).times(2),
            Expect::Recovers {
                min_retries: 2,
                min_wait: Duration::ZERO,
            },
        ),
        (
            "503 with Retry-After",
            Fault::ServerError {
                status: 503,
                retry_after: Some(RetryAfter::Seconds(1)),
            }
            .on(users)
            .times(1),
            Expect::Recovers {
                min_retries: 1,
                min_wait: Duration::from_millis(950),
            },
        ),
        (
            "504",
            Fault::ServerError {
                status: 504,
                retry_after: None,
            }
            .on(users)
            .times(1),
            Expect::Recovers {
                min_retries: 1,
                min_wait: Duration::ZERO,
            },
        ),
        (
            "500 is not retried",
            Fault::ServerError {
                status: 500,
                retry_after: None,
            }
            .on(users)
            .times(1),
            Expect::HttpError(500),
        ),
        (
            "429 forever",
            Fault::Throttle { retry_after: None }.on(users),
            Expect::HttpError(429),
        ),
        (
            "connection reset once",
            Fault::ConnectionReset.on(users).times(1),
            Expect::Recovers {
                min_retries: 1,
                min_wait: Duration::ZERO,
            },
        ),
        (
            "connection reset forever",
            Fault::ConnectionReset.on(users),
            Expect::TransportError,
        ),
        (
            "truncated body once",
            Fault::TruncatedBody.on(users).times(1),
            Expect::Recovers {
                min_retries: 1,
                min_wait: Duration::ZERO,
            },
        ),
        (
            "HTML instead of JSON forever",
            Fault::NonJsonBody.on(users),
            Expect::DecodeError,
        ),
        (
            "expired token",
            Fault::ExpiredToken.on(users).times(1),
            Expect::Recovers {
                min_retries: 1,
                min_wait: Duration::ZERO,
            },
        ),
        (
            "expired token twice: one re-acquisition only",
            Fault::ExpiredToken.on(users),
            Expect::HttpError(401),
        ),
        (
            "nextLink loop",
            Fault::NextLinkLoop.on(users),
            Expect::NextLinkLoop,
        ),
    ];
    for (name, rule, expect) in cases {
        mock.clear_faults();
        mock.inject(rule);
        let c = client_with(&s, fast_options(3));
        let started = Instant::now();
        let result = list_users(&c).await;
        let stats = c.stats();
        // Retry-After values are 1 s and backoff is capped: nothing waits long.
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{name}: took {:?}",
            started.elapsed()
        );
        match expect {
            Expect::Recovers {
                min_retries,
                min_wait,
            } => {
                let users = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(
                    started.elapsed() >= min_wait,
                    "{name}: retried after {:?}, before the {min_wait:?} the server asked for",
                    started.elapsed()
                );
                assert!(!users.is_empty(), "{name}");
                assert!(
                    stats.retries >= min_retries,
                    "{name}: {} retries",
                    stats.retries
                );
            }
            Expect::HttpError(status) => {
                let e = result.err().unwrap_or_else(|| panic!("{name}: succeeded"));
                assert_eq!(e.status(), Some(status), "{name}: {e}");
                let rid = e
                    .request_id()
                    .unwrap_or_else(|| panic!("{name}: no request-id in {e}"));
                assert!(e.to_string().contains(rid), "{name}: {e}");
            }
            Expect::TransportError => {
                let e = result.err().unwrap_or_else(|| panic!("{name}: succeeded"));
                assert!(
                    matches!(e, GraphError::Transport { attempts: 3, .. }),
                    "{name}: {e}"
                );
            }
            Expect::DecodeError => {
                let e = result.err().unwrap_or_else(|| panic!("{name}: succeeded"));
                assert!(matches!(e, GraphError::Decode { .. }), "{name}: {e}");
                assert!(e.request_id().is_some(), "{name}: {e}");
                assert_eq!(stats.retries, 2, "{name}");
            }
            Expect::NextLinkLoop => {
                let e = result.err().unwrap_or_else(|| panic!("{name}: succeeded"));
                assert!(matches!(e, GraphError::NextLinkLoop { .. }), "{name}: {e}");
            }
        }
        if name.starts_with("expired token") {
            assert_eq!(stats.reauthentications, 1, "{name}");
            assert_eq!(stats.token_acquisitions, 2, "{name}");
        }
        if name == "429 forever" {
            assert_eq!(stats.requests, 3, "bounded attempts");
            assert_eq!(stats.throttled, 3);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_next_link_is_never_contacted() {
    let mock = contoso().await;
    // A second listener standing in for an attacker's host.
    let foreign = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    foreign.set_nonblocking(true).unwrap();
    let foreign_url = format!(
        "http://{}/v1.0/users?$skiptoken=steal",
        foreign.local_addr().unwrap()
    );
    mock.inject(Fault::ForeignNextLink(foreign_url).on("/v1.0/users"));
    let c = client_with(&secret_settings(&mock, "auditor"), fast_options(2));
    let err = list_users(&c).await.unwrap_err();
    assert!(matches!(err, GraphError::ForeignNextLink { .. }), "{err}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    match foreign.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the foreign host was contacted: {other:?}"),
    }
    // Same host, other port counts as foreign too.
    let same_host_other_port = "http://127.0.0.1:1/v1.0/users".to_string();
    mock.clear_faults();
    mock.inject(Fault::ForeignNextLink(same_host_other_port).on("/v1.0/users"));
    let err = list_users(&c).await.unwrap_err();
    assert!(matches!(err, GraphError::ForeignNextLink { .. }), "{err}");
}

/// A listener standing in for an attacker's host; `saw_nothing` checks it was never contacted.
struct Trap(std::net::TcpListener);

impl Trap {
    fn new() -> Trap {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Trap(l)
    }
    fn authority(&self) -> String {
        self.0.local_addr().unwrap().to_string()
    }
    async fn assert_saw_nothing(&self, what: &str) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{what}: the foreign host was contacted: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_next_links_in_batches_continuations_and_userinfo_are_refused() {
    let mock = contoso().await;
    let trap = Trap::new();
    let mock_authority = mock.base_url().trim_start_matches("http://").to_string();
    let c = client_with(&secret_settings(&mock, "auditor"), fast_options(2));
    // Warm the token so the request counts below are Graph requests only.
    c.tokens().token().await.unwrap();

    // A `$batch` item whose page links to another host.
    mock.inject(
        Fault::ForeignNextLink(format!(
            "http://{}/v1.0/users?$skiptoken=x",
            trap.authority()
        ))
        .on("/v1.0/users"),
    );
    let answers = c
        .batch(
            ApiVersion::V1,
            vec![BatchRequest::get_with(
                "u",
                "/users",
                &Query::new().select(&["id", "userPrincipalName"]),
            )],
        )
        .await
        .unwrap();
    let item = answers.into_iter().next().unwrap();
    assert_eq!(item.status, 200, "{item:?}");
    let err = c.batch_item_list::<User>(item).await.unwrap_err();
    assert!(matches!(err, GraphError::ForeignNextLink { .. }), "{err}");
    mock.clear_faults();

    // Continuations handed in directly, including userinfo tricks and a scheme change.
    let before = mock.stats().requests;
    let links = [
        format!("http://{}/v1.0/users?$skiptoken=x", trap.authority()),
        // The host is what follows the `@`.
        format!("http://{mock_authority}@{}/v1.0/users", trap.authority()),
        // Right host, but credentials smuggled into the link.
        format!("http://user:pw@{mock_authority}/v1.0/users"),
        // Right host and port, other scheme.
        format!("https://{mock_authority}/v1.0/users"),
    ];
    for link in &links {
        let err = c
            .list_from_next_link::<User>(link, false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::ForeignNextLink { .. }),
            "{link}: {err}"
        );
        assert!(!err.to_string().contains("pw"), "{err}");
    }
    assert_eq!(mock.stats().requests, before, "nothing was sent anywhere");
    trap.assert_saw_nothing("batch item and continuations")
        .await;

    // The same-origin continuation works.
    let ok = c
        .list_from_next_link::<User>(
            &format!(
                "{}/v1.0/users?$select=id,userPrincipalName",
                mock.base_url()
            ),
            false,
        )
        .await
        .unwrap();
    assert!(!ok.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_answer_hits_the_per_request_timeout_and_is_retried() {
    let mock = contoso().await;
    let s = secret_settings(&mock, "auditor");
    let mut opts = fast_options(3);
    opts.timeout = Duration::from_millis(800);
    let c = client_with(&s, opts);
    c.tokens().token().await.unwrap();
    mock.inject(
        Fault::Latency(Duration::from_secs(3))
            .on("/v1.0/users")
            .times(1),
    );
    let started = Instant::now();
    let users = list_users(&c).await.unwrap();
    assert!(!users.is_empty());
    // One timed-out attempt (~0.8 s), then a normal one: less than the 3 s stall.
    assert!(
        started.elapsed() < Duration::from_millis(2800),
        "{:?}",
        started.elapsed()
    );
    assert!(c.stats().retries >= 1);

    // Stalling every time: a typed transport error after the bounded attempts.
    mock.inject(Fault::Latency(Duration::from_secs(3)).on("/v1.0/users"));
    let err = list_users(&c).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Transport { attempts: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn page_callback_sees_pages_and_can_stop() {
    let mock = MockGraph::start(MockConfig {
        page_size: 2,
        ..MockConfig::fixture("contoso")
    })
    .await
    .unwrap();
    let c = client_with(&secret_settings(&mock, "auditor"), fast_options(2));
    let mut pages = Vec::new();
    let total = c
        .for_each_page(
            ApiVersion::V1,
            "/users",
            &Query::new().select(&["id", "userPrincipalName"]),
            |p: Vec<User>| {
                pages.push(p.len());
                ControlFlow::Continue(())
            },
        )
        .await
        .unwrap();
    assert!(pages.len() >= 2, "{pages:?}");
    assert!(pages.iter().all(|&n| n <= 2));
    assert_eq!(total, pages.iter().sum::<usize>() as u64);
    let before = c.stats().requests;
    let mut seen = 0;
    c.for_each_page(ApiVersion::V1, "/users", &Query::new(), |p: Vec<User>| {
        seen += p.len();
        ControlFlow::Break(())
    })
    .await
    .unwrap();
    assert_eq!(c.stats().requests - before, 1, "stopped after one page");
    assert!(seen <= 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_matches_ids_and_retries_throttled_items() {
    let mock = contoso().await;
    let c = client_with(&secret_settings(&mock, "auditor"), fast_options(4));
    let users = list_users(&c).await.unwrap();
    let mut reqs = Vec::new();
    for i in 0..45 {
        let key = match users.get(i % users.len()) {
            Some(u) if i % 5 != 4 => u.id.clone(),
            _ => format!("00000000-0000-0000-0000-{i:012}"),
        };
        reqs.push(BatchRequest::get_with(
            format!("r{i}"),
            &format!("/users/{key}"),
            &Query::new().select(&["id", "userPrincipalName"]),
        ));
    }
    mock.inject(
        Fault::Throttle {
            retry_after: Some(RetryAfter::Seconds(1)),
        }
        .on("/v1.0/users/")
        .times(3),
    );
    let started = Instant::now();
    let out = c.batch(ApiVersion::V1, reqs.clone()).await.unwrap();
    // The throttled items waited for their own Retry-After (1 s), not a short backoff.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.len(), 45);
    for (i, (req, resp)) in reqs.iter().zip(&out).enumerate() {
        assert_eq!(req.id, resp.id, "order preserved");
        if i % 5 == 4 {
            assert_eq!(resp.status, 404, "{resp:?}");
            assert!(
                resp.clone()
                    .into_result::<User>()
                    .unwrap_err()
                    .is_not_found()
            );
        } else {
            assert_eq!(resp.status, 200, "{resp:?}");
            let u: User = resp.clone().into_result().unwrap();
            assert_eq!(u.id, users[i % users.len()].id);
        }
    }
    assert!(
        out.iter().any(|r| r.attempts > 1),
        "throttled items retried"
    );
    assert!(c.stats().throttled >= 3);
    // Never more than 20 per envelope, v1.0 only.
    let envelopes: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path_and_query.contains("$batch"))
        .collect();
    assert!(
        envelopes
            .iter()
            .all(|r| r.path_and_query.starts_with("/v1.0/"))
    );
    // 45 requests = 3 envelopes (20 + 20 + 5), plus at least one resend of throttled items.
    assert!(envelopes.len() >= 4, "{envelopes:?}");

    let err = c
        .batch(
            ApiVersion::V1,
            vec![
                BatchRequest::get("a", "/users"),
                BatchRequest::get("a", "/users"),
            ],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Batch { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrency_cap_holds() {
    let mock = contoso().await;
    mock.set_latency(Duration::from_millis(100));
    let s = secret_settings(&mock, "auditor");
    let mut opts = fast_options(2);
    opts.concurrency = 3;
    let c = client_with(&s, opts);
    let futs = (0..12).map(|_| {
        let c = c.clone();
        async move {
            c.get_json::<serde_json::Value>(ApiVersion::V1, "/organization", &Query::new())
                .await
        }
    });
    for r in futures::future::join_all(futs).await {
        r.unwrap();
    }
    let st = c.stats();
    assert_eq!(st.requests, 12);
    assert!(st.peak_in_flight <= 3 && st.peak_in_flight >= 2, "{st:?}");
    assert!(st.bytes_received > 0);
}

// ---- the binary -----------------------------------------------------------------------------

fn run_bin(mock: &MockHandle, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = bin();
    cmd.args(args)
        .arg("--graph-url")
        .arg(mock.base_url())
        .arg("--login-url")
        .arg(mock.base_url())
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("ENROLL_DOCTOR_ACCESS_TOKEN")
        .env_remove("RUST_LOG")
        .env("AZURE_TENANT_ID", mock.tenant_id())
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("enroll-doctor-e2e-nocache"),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No JWT (tokens, assertions: base64url JSON starting `{"` = `eyJ`), no secret, no device code.
pub(super) fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    assert!(!text.contains("eyJ"), "{what} contains a JWT:\n{text}");
    assert!(
        !text.contains("DAQABIQEAAAD"),
        "{what} contains a device code:\n{text}"
    );
    for s in secrets {
        assert!(
            !s.is_empty() && !text.contains(s),
            "{what} contains a secret:\n{text}"
        );
    }
}

#[test]
fn binary_auth_status_traces_without_leaking() {
    let mock = MockGraph::spawn_blocking(MockConfig::fixture("contoso")).unwrap();
    let app = mock.app("auditor").unwrap();
    let (code, out, err) = run_bin(
        &mock,
        &["auth", "status", "-v", "--trace-http", "--format", "json"],
        &[
            ("AZURE_CLIENT_ID", &app.client_id),
            ("AZURE_CLIENT_SECRET", &app.client_secret),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_no_secrets("stdout", &out, &[&app.client_secret]);
    assert_no_secrets("stderr", &err, &[&app.client_secret]);
    // The trace shows the exchanges with the credential redacted, and -v the counters.
    assert!(err.contains("/oauth2/v2.0/token -> 200"), "{err}");
    assert!(err.contains("/v1.0/organization"), "{err}");
    assert!(err.contains("authorization: [REDACTED]"), "{err}");
    assert!(err.contains("Graph: 1 requests"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["token_kind"], "application");
    assert_eq!(v["tenant_id"], mock.tenant_id());

    // Certificate sign-in: the signed assertion never shows up either.
    let cert_app = mock.app("cert-only").unwrap();
    let (cert, key) = rsa_cert();
    assert!(mock.register_certificate(&cert_app.client_id, &cert));
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("app.pem");
    std::fs::write(&pem, format!("{cert}{key}")).unwrap();
    let (code, out, err) = run_bin(
        &mock,
        &[
            "auth",
            "status",
            "-vv",
            "--trace-http",
            "--auth",
            "certificate",
            "--certificate",
            pem.to_str().unwrap(),
            "--client-id",
            &cert_app.client_id,
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("signed in with certificate"), "{out}");
    assert_no_secrets("certificate flow", &format!("{out}{err}"), &[]);
    assert!(!format!("{out}{err}").contains("PRIVATE KEY"));

    // A wrong secret: the error names the cause, not the secret.
    let (code, out, err) = run_bin(
        &mock,
        &["auth", "status", "-vv", "--trace-http"],
        &[
            ("AZURE_CLIENT_ID", &app.client_id),
            ("AZURE_CLIENT_SECRET", "wrong-secret-8Kx"),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("invalid_client"), "{err}");
    assert_no_secrets("stderr", &format!("{out}{err}"), &["wrong-secret-8Kx"]);
}

#[test]
fn binary_device_code_login_status_logout_without_leaking() {
    let mock = MockGraph::spawn_blocking(MockConfig::fixture("contoso")).unwrap();
    let app = mock.app("cli").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let cache_s = cache.to_str().unwrap();
    let env = [
        ("AZURE_CLIENT_ID", app.client_id.as_str()),
        ("ENROLL_DOCTOR_TOKEN_CACHE", cache_s),
    ];
    let (code, out, err) = run_bin(&mock, &["auth", "login", "-vv", "--trace-http"], &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("enter the code"), "{err}");
    assert!(out.contains("Signed in as"), "{out}");
    assert_no_secrets("login output", &format!("{out}{err}"), &[]);
    let cached = std::fs::read_to_string(&cache).unwrap();
    let refresh =
        serde_json::from_str::<serde_json::Value>(&cached).unwrap()["entries"][0]["refresh_token"]
            .as_str()
            .unwrap()
            .to_string();

    let (code, out, err) = run_bin(
        &mock,
        &[
            "auth",
            "status",
            "--auth",
            "device-code",
            "--format",
            "json",
            "--trace-http",
        ],
        &env,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_no_secrets("status output", &format!("{out}{err}"), &[&refresh]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["token_kind"], "delegated");
    assert!(v["identity"].as_str().unwrap().contains('@'), "{v}");

    let (code, out, _) = run_bin(&mock, &["auth", "logout"], &env);
    assert_eq!(code, 0);
    assert!(out.contains("Removed"), "{out}");
    assert!(!cache.exists());
}

/// `auth status --format json` against the registry, for an app-only and a delegated token.
#[test]
fn binary_auth_status_lists_granted_and_missing_permissions() {
    let mock = MockGraph::spawn_blocking(MockConfig::fixture("contoso")).unwrap();
    let checks_needing_graph: Vec<_> = enroll_doctor::checks::registry::all()
        .iter()
        .filter(|c| {
            !c.permissions.application.is_empty()
                || !c.permissions.delegated.is_empty()
                || c.permissions.delegated_only
        })
        .collect();
    for (app_name, kind) in [
        ("auditor", "application"),
        ("limited", "application"),
        ("cli", "delegated"),
    ] {
        let Some(app) = mock.app(app_name) else {
            continue;
        };
        let token = mock.token_for(app_name).unwrap();
        let (code, out, err) = run_bin(
            &mock,
            &[
                "auth",
                "status",
                "--auth",
                "access-token",
                "--format",
                "json",
            ],
            &[("ENROLL_DOCTOR_ACCESS_TOKEN", &token)],
        );
        assert_eq!(code, 0, "{app_name}: {err}");
        assert_no_secrets(app_name, &format!("{out}{err}"), &[&token]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["token_kind"], kind, "{app_name}");
        let granted: Vec<String> = if kind == "application" {
            app.roles.clone()
        } else {
            app.delegated_scopes.clone()
        };
        let rows = v["checks"].as_array().unwrap();
        assert_eq!(rows.len(), checks_needing_graph.len(), "{app_name}");
        for (row, meta) in rows.iter().zip(&checks_needing_graph) {
            assert_eq!(row["check"], meta.id);
            let needed: &[&str] = if kind == "application" {
                meta.permissions.application
            } else {
                meta.permissions.delegated
            };
            let status = row["status"].as_str().unwrap();
            let missing: Vec<&str> = row["missing"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap())
                .collect();
            if kind == "application" && meta.permissions.delegated_only {
                assert_eq!(status, "app-only-unsupported", "{app_name} {}", meta.id);
                // The row says how to get a delegated token.
                let fix = row["fix"].as_str().unwrap_or_default();
                assert!(
                    fix.contains("enroll-doctor auth login"),
                    "{app_name} {}: {row}",
                    meta.id
                );
                continue;
            }
            // Exact grants are never reported missing; whatever is missing was needed and
            // is not granted verbatim.
            for n in needed {
                if granted.iter().any(|g| g.eq_ignore_ascii_case(n)) {
                    assert!(!missing.contains(n), "{app_name} {}: {n}", meta.id);
                }
            }
            for m in &missing {
                assert!(needed.contains(m), "{app_name} {}: {m}", meta.id);
                assert!(
                    !granted.iter().any(|g| g == m),
                    "{app_name} {}: {m}",
                    meta.id
                );
            }
            assert_eq!(
                status,
                if missing.is_empty() {
                    "granted"
                } else {
                    "missing"
                },
                "{app_name} {}",
                meta.id
            );
            // A missing permission comes with the fix naming it; a granted row has none.
            match row["fix"].as_str() {
                Some(fix) => assert!(
                    !missing.is_empty() && missing.iter().all(|m| fix.contains(m)),
                    "{app_name} {}: {row}",
                    meta.id
                ),
                None => assert!(missing.is_empty(), "{app_name} {}: {row}", meta.id),
            }
        }
        if app_name == "limited" {
            // The table names each missing check with its status.
            let (code, table, _) = run_bin(
                &mock,
                &["auth", "status", "--auth", "access-token"],
                &[("ENROLL_DOCTOR_ACCESS_TOKEN", &token)],
            );
            assert_eq!(code, 0);
            assert!(table.contains("Token kind:  application"), "{table}");
            // Delegated-only checks under an app token point at the delegated sign-in.
            if rows.iter().any(|r| r["status"] == "app-only-unsupported") {
                assert!(
                    table.contains("Note:") && table.contains("enroll-doctor auth login"),
                    "{table}"
                );
            }
            for row in rows.iter().filter(|r| r["status"] == "missing") {
                let id = row["check"].as_str().unwrap();
                assert!(
                    table
                        .lines()
                        .any(|l| l.contains(id) && l.contains("missing")),
                    "{id} not shown as missing:\n{table}"
                );
            }
        }
        if app_name == "limited" && !checks_needing_graph.is_empty() {
            assert!(
                rows.iter().any(|r| r["status"] == "missing"),
                "the limited app lacks something: {out}"
            );
        }
    }
}

/// Full runs (`audit` with a saved snapshot, `check`) with every log level on, under an app
/// secret and under a device-code sign-in, with throttling and an expired token injected so the
/// retry and error paths log too: no output, log line, error or saved file holds a credential.
#[test]
fn full_runs_never_leak_credentials() {
    let mock = MockGraph::spawn_blocking(MockConfig::fixture("contoso")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = mock.app("auditor").unwrap();
    let faults = || {
        mock.clear_faults();
        mock.inject(
            Fault::Throttle {
                retry_after: Some(RetryAfter::Seconds(0)),
            }
            .times(2),
        );
        mock.inject(Fault::ExpiredToken.on("/v1.0/organization").times(1));
        // One source fails for good, so an error message is printed as well.
        mock.inject(
            Fault::ServerError {
                status: 500,
                retry_after: None,
            }
            .on("/v1.0/subscribedSkus"),
        );
    };
    let snapshot = dir.path().join("snap.json");
    let snap_s = snapshot.to_str().unwrap();
    let secret_env = [
        ("AZURE_CLIENT_ID", app.client_id.as_str()),
        ("AZURE_CLIENT_SECRET", app.client_secret.as_str()),
    ];
    faults();
    let (code, out, err) = run_bin(
        &mock,
        &["audit", "-vv", "--trace-http", "--save-snapshot", snap_s],
        &secret_env,
    );
    assert!(code == 1 || code == 2, "{code}: {out}\n{err}");
    assert!(err.contains("authorization: [REDACTED]"), "{err}");
    assert!(
        err.contains("-> 429"),
        "the retry path was exercised: {err}"
    );
    let saved = std::fs::read_to_string(&snapshot).unwrap();
    let all = format!("{out}\n{err}\n{saved}");
    assert_no_secrets("audit (client secret)", &all, &[&app.client_secret]);

    faults();
    let (code, out, err) = run_bin(
        &mock,
        &[
            "check",
            "-vv",
            "--trace-http",
            "--user",
            "jdoe@contoso.com",
            "--user",
            "mgarcia@contoso.com",
        ],
        &secret_env,
    );
    assert!(code <= 2, "{code}: {out}\n{err}");
    assert_no_secrets(
        "check (client secret)",
        &format!("{out}\n{err}"),
        &[&app.client_secret],
    );

    // Delegated: sign in, then a full audit on the cached sign-in.
    let cli = mock.app("cli").unwrap();
    let cache = dir.path().join("tokens.json");
    let env = [
        ("AZURE_CLIENT_ID", cli.client_id.as_str()),
        ("ENROLL_DOCTOR_TOKEN_CACHE", cache.to_str().unwrap()),
    ];
    mock.clear_faults();
    let (code, login_out, login_err) =
        run_bin(&mock, &["auth", "login", "-vv", "--trace-http"], &env);
    assert_eq!(code, 0, "{login_out}\n{login_err}");
    let cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    let refresh = cached["entries"][0]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let access = cached["entries"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    faults();
    let (code, out, err) = run_bin(
        &mock,
        &["audit", "--auth", "device-code", "-vv", "--trace-http"],
        &env,
    );
    assert!(code <= 2, "{code}: {out}\n{err}");
    assert_no_secrets(
        "device-code login + audit",
        &format!("{login_out}\n{login_err}\n{out}\n{err}"),
        &[&refresh, &access],
    );
}

/// A server that answers everything with `307 Temporary Redirect` to `location` (307 keeps the
/// method and body: a followed redirect would resend the client secret or the bearer token).
fn redirecting_server(location: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_never_followed_with_credentials() {
    let trap = Trap::new();
    let redirector = redirecting_server(format!("http://{}/stolen", trap.authority()));
    // The identity platform redirects the client-secret POST.
    let mut e = HashMap::new();
    e.insert("AZURE_TENANT_ID".to_string(), "t1".to_string());
    e.insert("AZURE_CLIENT_ID".to_string(), "c1".to_string());
    e.insert(
        "AZURE_CLIENT_SECRET".to_string(),
        "redirected-secret".to_string(),
    );
    let flags = FlagOverrides {
        graph_url: Some(redirector.clone()),
        login_url: Some(redirector.clone()),
        auth: Some(AuthMethod::ClientSecret),
        ..Default::default()
    };
    let s = Settings::from_map(None, &e, &flags).unwrap();
    let provider = TokenProvider::from_settings(&s).unwrap();
    let err = provider.token().await.unwrap_err();
    assert!(!err.to_string().contains("redirected-secret"), "{err}");

    // Graph redirects a GET carrying the bearer token.
    let mock = contoso().await;
    let token = mock.token_for("auditor").unwrap();
    let tokens = Arc::new(TokenProvider::new(
        enroll_doctor::graph::auth::TokenSource::Static {
            token: Some(token.into()),
            file: None,
        },
    ));
    let c = GraphClient::new(&redirector, tokens, fast_options(2)).unwrap();
    let err = list_users(&c).await.unwrap_err();
    assert_eq!(err.status(), Some(307), "{err}");
    trap.assert_saw_nothing("redirect targets").await;
}

/// The mobility policies refuse app-only tokens with 401 like Graph: a typed permission error
/// with the request-id, and no pointless token re-acquisition (the token is not expired).
#[tokio::test(flavor = "multi_thread")]
async fn app_only_401_on_mobility_policies_is_not_a_token_problem() {
    let mock = contoso().await;
    let c = client_with(&secret_settings(&mock, "auditor"), fast_options(3));
    let err = c
        .list_all::<serde_json::Value>(
            ApiVersion::Beta,
            "/policies/mobileDeviceManagementPolicies",
            &Query::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(err.is_permission_denied());
    assert!(err.request_id().is_some(), "{err}");
    let st = c.stats();
    assert_eq!(
        (st.reauthentications, st.token_acquisitions, st.requests),
        (0, 1, 1)
    );
}

/// A token Graph does not accept (here: signed by another tenant's identity platform) makes
/// `auth status` fail with exit code 2 and say why (Graph's message, the method, what to do),
/// instead of reporting permissions it cannot use.
#[test]
fn binary_auth_status_fails_when_graph_rejects_the_token() {
    let mock = MockGraph::spawn_blocking(MockConfig::fixture("contoso")).unwrap();
    let other = MockGraph::spawn_blocking(MockConfig::fixture("contoso")).unwrap();
    let foreign_token = other.token_for("auditor").unwrap();
    let (code, out, err) = run_bin(
        &mock,
        &["auth", "status", "--auth", "access-token"],
        &[("ENROLL_DOCTOR_ACCESS_TOKEN", &foreign_token)],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(
            "Graph rejected the token: Invalid signature. (signed in with --auth access-token)"
        ),
        "{err}"
    );
    assert_no_secrets("rejected token", &format!("{out}{err}"), &[&foreign_token]);
}
