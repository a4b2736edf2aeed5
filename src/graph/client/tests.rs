use super::*;
use crate::graph::test_server::{Answer, Body, client_for, serve, small};

#[tokio::test]
async fn an_endless_or_huge_body_stops_at_the_limit() {
    let endless = serve(|_, _| Answer {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Body::EndlessChunked(vec![b' '; 64 * 1024]),
    });
    let c = client_for(&endless.url, small(1024 * 1024));
    let q = Query::new().filter("userPrincipalName eq 'secret-value'");
    let err = c
        .get_json::<serde_json::Value>(ApiVersion::V1, "/users", &q)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GraphError::ResponseTooLarge { .. }), "{msg}");
    assert!(msg.contains("GET /v1.0/users:"), "{msg}");
    assert!(
        msg.contains("1 MiB") && msg.contains("http.max_response_mib"),
        "{msg}"
    );
    // The query (a filter value, a skip token) is not shown.
    assert!(!msg.contains("secret-value"), "{msg}");
    // Not retried: it would be as long again.
    assert_eq!(endless.seen().len(), 1);
    // Received at most the limit plus one chunk.
    assert!(c.stats().bytes_received <= 1024 * 1024);

    // 10 GB announced: refused before the first byte is read.
    let huge = serve(|_, _| Answer {
        status: 200,
        headers: vec![],
        body: Body::Announced {
            announced: 10 * 1024 * 1024 * 1024,
            chunk: vec![b'['; 64 * 1024],
        },
    });
    let c = client_for(&huge.url, small(1024 * 1024));
    let err = c
        .list_all::<serde_json::Value>(ApiVersion::V1, "/devices", &Query::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
}

/// `/users` listed to its (failing) end.
async fn users_listing_error(c: &GraphClient) -> GraphError {
    c.list_all::<serde_json::Value>(ApiVersion::V1, "/users", &Query::new())
        .await
        .unwrap_err()
}

/// A server whose every page links to a new page of itself; `page(n)` is the `value`.
fn endless_listing(
    page: impl Fn(usize) -> String + Send + Sync + 'static,
) -> crate::graph::test_server::TestServer {
    let base = Arc::new(std::sync::Mutex::new(String::new()));
    let b = base.clone();
    let server = serve(move |n, _| {
        let base = b.lock().unwrap().clone();
        Answer::json(
            200,
            &format!(
                "{{{},\"@odata.nextLink\":\"{base}/v1.0/users?$top=999&$skiptoken=s{n}\"}}",
                page(n)
            ),
        )
    });
    *base.lock().unwrap() = server.url.clone();
    server
}

#[tokio::test]
async fn endless_distinct_next_links_stop_with_an_error() {
    // The first page says the listing holds 5 items; the pages never end.
    let server = endless_listing(|n| {
        let count = if n == 0 { "\"@odata.count\":5," } else { "" };
        format!("{count}\"value\":[{{\"id\":\"{n}\"}}]")
    });
    let c = client_for(&server.url, small(1024 * 1024));
    let err = users_listing_error(&c).await;
    let msg = err.to_string();
    assert!(matches!(err, GraphError::Listing { .. }), "{msg}");
    assert!(msg.contains("listing /users stopped"), "{msg}");
    // (5 + 1000 slack) items at 100 per page, plus 101: 112 pages at most.
    let pages = server.seen().len();
    assert!(pages <= 112, "{pages}");

    // Pages that add nothing: given up after a run of them.
    let server = endless_listing(|_| "\"value\":[]".to_string());
    let c = client_for(&server.url, small(1024 * 1024));
    let err = users_listing_error(&c).await;
    assert!(err.to_string().contains("added no item"), "{err}");
    assert_eq!(server.seen().len(), paging::MAX_EMPTY_PAGES as usize);
}

#[tokio::test]
async fn sparse_pages_without_a_count_stop_at_the_average_floor() {
    // No @odata.count, $top=999 asked, one item every other page and a new nextLink every
    // time: fewer than one item a page.
    let server = endless_listing(|n| {
        let value = if n % 2 == 0 {
            format!("{{\"id\":\"{n}\"}}")
        } else {
            String::new()
        };
        format!("\"value\":[{value}]")
    });
    let c = client_for(&server.url, small(1024 * 1024));
    let err = users_listing_error(&c).await;
    let msg = err.to_string();
    assert!(matches!(err, GraphError::Listing { .. }), "{msg}");
    assert!(
        msg.contains(
            "listing /users stopped: 200 pages held 100 items, fewer than one a page on average"
        ),
        "{msg}"
    );
    assert_eq!(server.seen().len(), paging::AVERAGE_AFTER_PAGES as usize);
    assert!(server.seen()[0].path.contains("$top=999"));
}

#[tokio::test]
async fn an_endless_error_body_is_cut_and_the_status_kept() {
    // A 403 whose body never ends: its first 64 KiB are read, the status is reported.
    let server = serve(|_, _| Answer {
        status: 403,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Body::EndlessChunked(vec![b' '; 64 * 1024]),
    });
    let c = client_for(&server.url, small(64 * 1024 * 1024));
    let err = c
        .get_json::<serde_json::Value>(ApiVersion::V1, "/organization", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.is_permission_denied());
    // Read: the cap and at most one chunk more in flight, not the 64 MiB response limit.
    assert!(
        c.stats().bytes_received <= MAX_ERROR_BODY,
        "{}",
        c.stats().bytes_received
    );
}

#[tokio::test]
async fn a_failing_page_is_retried_harder_than_a_single_read() {
    // Page 2 fails three times with 503, then answers: listing pages get more attempts.
    let base = Arc::new(std::sync::Mutex::new(String::new()));
    let b = base.clone();
    let server = serve(move |n, _| match n {
        0 => Answer::json(
            200,
            &format!(
                "{{\"value\":[{{\"id\":\"a\"}}],\"@odata.nextLink\":\"{}/v1.0/users?$skiptoken=x\"}}",
                b.lock().unwrap()
            ),
        ),
        1..=3 => Answer::json(503, "{}").header("Retry-After", "0"),
        _ => Answer::json(200, "{\"value\":[{\"id\":\"b\"}]}"),
    });
    *base.lock().unwrap() = server.url.clone();
    let options = ClientOptions {
        page_attempts: page_attempts(2),
        ..small(1024 * 1024)
    };
    let c = client_for(&server.url, options);
    let all: Vec<serde_json::Value> = c
        .list_all(ApiVersion::V1, "/users", &Query::new())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(server.seen().len(), 5);
}

/// Graph answers 401 `InvalidAuthenticationToken` to the token and to its renewal: the
/// client fails with `TokenRejected` (not an HTTP 401 a collector would read as a missing
/// permission), keeps it, and sends nothing more.
#[tokio::test]
async fn a_token_refused_after_its_renewal_ends_the_run() {
    let server = serve(|_, _| {
        Answer::json(
            401,
            r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure. Invalid audience.","innerError":{"request-id":"rid-401"}}}"#,
        )
    });
    let c = client_for(&server.url, small(1024 * 1024));
    let err = c
        .get_json::<serde_json::Value>(ApiVersion::V1, "/organization", &Query::new())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GraphError::TokenRejected { .. }), "{msg}");
    assert!(err.is_fatal() && !err.is_permission_denied(), "{msg}");
    assert_eq!(
        (err.status(), err.request_id()),
        (Some(401), Some("rid-401"))
    );
    assert!(
        msg.starts_with(
            "Graph rejected the token: Access token validation failure. Invalid audience. \
             (signed in with --auth access-token); a token from ENROLL_DOCTOR_ACCESS_TOKEN(_FILE) \
             cannot be renewed"
        ),
        "{msg}"
    );
    assert!(
        msg.ends_with("(GET /v1.0/organization, request-id rid-401)"),
        "{msg}"
    );
    // The request and the one retry after the renewal.
    assert_eq!(server.seen().len(), 2);
    assert_eq!(c.stats().reauthentications, 1);
    // Every later request fails the same way without being sent.
    let again = c
        .list_all::<serde_json::Value>(ApiVersion::V1, "/users", &Query::new())
        .await
        .unwrap_err();
    assert!(matches!(again, GraphError::TokenRejected { .. }), "{again}");
    assert_eq!(server.seen().len(), 2);
    assert!(c.fatal_error().is_some_and(|e| e.to_string() == msg));
}

/// A 401 with another code (an app-only call the endpoint does not serve) is not the token:
/// no renewal, no fatal error.
#[tokio::test]
async fn a_401_of_another_code_is_not_a_rejected_token() {
    let server = serve(|_, _| {
        Answer::json(
            401,
            r#"{"error":{"code":"Unauthorized","message":"Unsupported app-only call."}}"#,
        )
    });
    let c = client_for(&server.url, small(1024 * 1024));
    let err = c
        .get_json::<serde_json::Value>(ApiVersion::Beta, "/policies/x", &Query::new())
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Http { status: 401, .. }), "{err}");
    assert!(err.is_permission_denied() && !err.is_fatal());
    assert!(c.fatal_error().is_none());
    assert_eq!(server.seen().len(), 1);
}

/// No token at all during a run (the token file is gone by the renewal): the sign-in error
/// ends the run too.
#[tokio::test]
async fn a_sign_in_that_fails_during_a_run_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "t").unwrap();
    let tokens = Arc::new(TokenProvider::new(
        super::super::auth::TokenSource::Static {
            token: None,
            file: Some(file.clone()),
        },
    ));
    let f = file.clone();
    let server = serve(move |_, _| {
        let _ = std::fs::remove_file(&f);
        Answer::json(
            401,
            r#"{"error":{"code":"InvalidAuthenticationToken","message":"expired"}}"#,
        )
    });
    let c = GraphClient::new(&server.url, tokens, small(1024 * 1024)).unwrap();
    let err = c
        .get_json::<serde_json::Value>(ApiVersion::V1, "/organization", &Query::new())
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Auth(_)), "{err}");
    assert!(err.is_fatal());
    assert!(c.fatal_error().is_some());
    let again = c
        .get_json::<serde_json::Value>(ApiVersion::V1, "/users", &Query::new())
        .await
        .unwrap_err();
    assert!(matches!(again, GraphError::Auth(_)), "{again}");
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn a_library_callers_concurrency_gets_the_configurations_bound() {
    for (asked, got) in [(usize::MAX, 256), (1 << 61, 256), (0, 1), (8, 8)] {
        let c = client_for(
            "http://127.0.0.1:1",
            ClientOptions {
                concurrency: asked,
                ..ClientOptions::default()
            },
        );
        assert_eq!(c.inner.sem.available_permits(), got, "{asked}");
    }
    assert_eq!(HttpSettings::MAX_CONCURRENCY, 256);
}

#[test]
fn built_urls_stay_on_the_graph_origin() {
    let tokens = Arc::new(TokenProvider::new(
        super::super::auth::TokenSource::Static {
            token: Some(secrecy::SecretString::from("t")),
            file: None,
        },
    ));
    let c = GraphClient::new(
        "https://graph.microsoft.com",
        tokens,
        ClientOptions::default(),
    )
    .unwrap();
    let q = Query::new().filter("userPrincipalName eq 'a@b.c'");
    for path in [
        "/users/@evil.example",
        "//evil.example/x",
        "/\\evil.example/x",
        "/../../x",
        "/users?$top=1",
    ] {
        let u = c.url(ApiVersion::V1, path, &q).unwrap();
        assert_eq!(u.host_str(), Some("graph.microsoft.com"), "{path}: {u}");
        assert_eq!(u.scheme(), "https");
    }
    for bad in ["users", "https://evil.example/v1.0/users", ""] {
        assert!(c.url(ApiVersion::V1, bad, &q).is_err(), "{bad}");
    }
}

#[test]
fn origins_compare_scheme_host_and_port() {
    let u = |s: &str| Url::parse(s).unwrap();
    assert!(same_origin(
        &u("https://graph.microsoft.com/v1.0/users?$skiptoken=x"),
        &u("https://GRAPH.microsoft.com:443")
    ));
    assert!(!same_origin(
        &u("http://graph.microsoft.com/v1.0/users"),
        &u("https://graph.microsoft.com")
    ));
    assert!(!same_origin(
        &u("http://127.0.0.1:8081/v1.0/users"),
        &u("http://127.0.0.1:8080")
    ));
    assert!(!same_origin(
        &u("https://graph.microsoft.com.evil.example/v1.0"),
        &u("https://graph.microsoft.com")
    ));
    // Userinfo tricks: the real host is after the `@`.
    let graph = u("https://graph.microsoft.com");
    assert!(!same_origin(
        &u("https://graph.microsoft.com@evil.example/v1.0/users"),
        &graph
    ));
    assert!(!same_origin(
        &u("https://graph.microsoft.com:443@evil.example/v1.0/users"),
        &graph
    ));
    assert!(!same_origin(
        &u("https://evil.example\\@graph.microsoft.com/v1.0/users"),
        &graph
    ));
    // Credentials in the link itself are refused even on the right host.
    assert!(!same_origin(
        &u("https://user:pw@graph.microsoft.com/v1.0/users"),
        &graph
    ));
    // Another scheme or an explicit other port on the same host.
    assert!(!same_origin(
        &u("http://graph.microsoft.com:443/v1.0/users"),
        &graph
    ));
    assert!(!same_origin(
        &u("https://graph.microsoft.com:8443/v1.0/users"),
        &graph
    ));
    assert!(same_origin(
        &u("https://graph.microsoft.com:443/v1.0/users?$skiptoken=a"),
        &graph
    ));
}
