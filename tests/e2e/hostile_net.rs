//! Issue 11 (transport, sign-in, retries): the binary against a Graph or identity platform
//! that throttles, fails a page for good or asks for absurd waits, and configuration values
//! outside their range.

use mock_graph::{BlockingMockGraph, Fault, MockConfig, RetryAfter};

use super::common::bin;
use super::tenant::{Auth, command, fixture, output, run, start};

fn unavailable() -> Fault {
    Fault::ServerError {
        status: 503,
        retry_after: Some(RetryAfter::Seconds(0)),
    }
}

/// `check --all-users` with a ready-made delegated token.
fn check_all_users(mock: &BlockingMockGraph) -> (i32, String, String) {
    run(
        mock,
        Auth::Delegated("cli"),
        &["check", "--all-users", "--as-of", "2026-11-26"],
    )
}

/// No Rust debug dump (`Some(…)`, `GraphError {`, `MissingReason`) in what a user reads.
fn assert_no_debug_dump(text: &str) {
    for dump in [
        "Some(",
        "GraphError {",
        "MissingReason",
        "status: ",
        "{ kind",
    ] {
        assert!(!text.contains(dump), "a debug dump ({dump}):\n{text}");
    }
}

#[test]
fn a_failing_group_page_is_one_aggregated_error() {
    let users = 300;
    let mock = start(MockConfig::generated(users, 3));
    // Every page of the policy group's member listing fails, whatever the retries.
    mock.inject(unavailable().on("/v1.0/groups/"));
    let (code, out, err) = check_all_users(&mock);
    // Checks ended in error: the answer is incomplete (exit code 2).
    assert_eq!(code, 2, "{out}\n{err}");
    // The summary holds one error row with the count.
    assert!(
        out.contains("Errors, users per check: USR003 (300), USR005 (300)"),
        "{out}"
    );
    // The failure is said once, with the count, instead of once per user.
    // (Notes wrap at the terminal width: compare them on one line.)
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        flat.matches("could not be read in this run").count(),
        1,
        "{out}"
    );
    let note = flat
        .split("Note: group memberships")
        .nth(1)
        .unwrap_or_default();
    assert!(
        note.contains("USR003, USR005 ended in error for 300 users.") && note.contains("HTTP 503"),
        "{out}"
    );
    // The users left out of the list for it are counted once.
    assert_eq!(flat.matches("not listed one by one").count(), 1, "{out}");
    assert!(
        flat.contains(
            "230 users whose only open checks ended in error for that reason are counted above"
        ),
        "{out}"
    );
    // Only the users with something else to fix are listed.
    let listed = out
        .lines()
        .filter(|l| l.starts_with("  user") && l.contains("@loadtest3"))
        .count();
    assert!(listed < users / 2, "{listed} users listed:\n{out}");
    assert!(!out.contains("error: USR003 USR005"), "{out}");
    // The failing page was retried harder than a single read (10 attempts, not 5).
    assert!(out.contains("after 10 attempts"), "{out}");
    assert_no_debug_dump(&out);
    assert_no_debug_dump(&err);
}

#[test]
fn outage_users_are_in_the_not_ready_part_of_a_csv() {
    let users = 300;
    let mock = start(MockConfig::generated(users, 3));
    mock.inject(unavailable().on("/v1.0/groups/"));
    let (code, csv, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "--all-users", "--as-of", "2026-11-26", "-f", "csv"],
    );
    assert_eq!(code, 2, "{err}");
    let (_, rows) = super::readiness::csv_records(&csv);
    // The tenant, then every user, the 230 whose only problem is the outage included.
    assert_eq!(rows.len(), 1 + users, "{csv}");
    let verdicts: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    assert!(verdicts.iter().all(|v| *v != "ready"), "{verdicts:?}");
    // None of them is ready, so all are in the not-ready part: one run in user order (they
    // used to follow the others, written where the ready users go).
    let names: Vec<String> = rows[1..]
        .iter()
        .map(|r| r[0].to_ascii_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn users_that_cannot_be_listed_end_the_run_in_words() {
    let mock = fixture("contoso");
    mock.inject(unavailable().on("/v1.0/users"));
    let (code, out, err) = check_all_users(&mock);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("cannot list the users to check: Graph 503 serviceNotAvailable"),
        "{err}"
    );
    assert_no_debug_dump(&err);
}

#[test]
fn an_endless_listing_of_distinct_next_links_ends_with_an_error() {
    let mock = fixture("contoso");
    mock.inject(Fault::EndlessNextLinks.on("/v1.0/users"));
    let (code, out, err) = check_all_users(&mock);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("cannot list the users to check"), "{err}");
    assert!(err.contains("pages"), "the listing bound is named: {err}");
    assert_no_debug_dump(&err);
    // The bound: the listing stopped after 100 empty pages (Graph may send a few), not the
    // endless run of the attack (895 requests in 40 s).
    let pages = mock
        .requests()
        .iter()
        .filter(|r| r.path_and_query.starts_with("/v1.0/users"))
        .count();
    assert!(
        (2..=110).contains(&pages),
        "{pages} requests to /v1.0/users"
    );
}

#[test]
fn a_response_past_the_byte_limit_ends_with_an_error_naming_it() {
    let mock = fixture("contoso");
    // 3 MiB of body against a 1 MiB limit: refused while read.
    mock.inject(Fault::HugeBody(3 << 20).on("/v1.0/users"));
    let mut cmd = command(
        &mock,
        Auth::Delegated("cli"),
        &["check", "--all-users", "--as-of", "2026-11-26"],
    );
    cmd.env("ENROLL_DOCTOR_MAX_RESPONSE_MIB", "1");
    let (code, out, err) = output(cmd);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("cannot list the users to check"), "{err}");
    assert!(err.contains("1 MiB"), "the limit is named: {err}");
    assert_no_debug_dump(&err);
}

#[test]
fn an_absurd_token_lifetime_from_the_identity_platform_does_not_panic() {
    // expires_in = 10^13 s: once "DateTime + TimeDelta overflowed"; now counted as a day.
    let mock = start(MockConfig {
        token_lifetime: std::time::Duration::from_secs(10_u64.pow(13)),
        ..MockConfig::fixture("contoso")
    });
    let (code, out, err) = run(
        &mock,
        Auth::App("auditor"),
        &["audit", "--fail-on", "never"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.contains("TEN001"), "the audit ran: {out}");
}

#[test]
fn a_long_retry_after_is_announced_not_capped_silently() {
    let mock = fixture("contoso");
    mock.inject(
        Fault::Throttle {
            retry_after: Some(RetryAfter::Seconds(3600)),
        }
        .on("/v1.0/organization")
        .times(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ed.toml");
    std::fs::write(&config, "[http]\nmax_retry_wait_secs = 1\n").unwrap();
    let config = config.to_str().unwrap();
    let (code, out, err) = run(&mock, Auth::App("auditor"), &["audit", "--config", config]);
    assert!(
        err.contains("Graph asked to wait 3600 s; waiting up to 1 s (http.max_retry_wait_secs)"),
        "{err}"
    );
    assert!(matches!(code, 0 | 1), "{out}\n{err}");
    // The bound: the retry came after the 1 s cap (plus slack), not after 3600 s or 120 s.
    let requests = mock.requests();
    let throttled = requests
        .iter()
        .position(|r| r.status == 429 && r.path_and_query.starts_with("/v1.0/organization"))
        .expect("the throttled request");
    let first = &requests[throttled];
    let retry = requests[throttled + 1..]
        .iter()
        .find(|r| r.path_and_query == first.path_and_query)
        .expect("the retry");
    let waited = retry.received.saturating_sub(first.answered);
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "waited {} ms",
        waited.as_millis()
    );
    assert!(
        waited <= std::time::Duration::from_millis(1000 + 1500),
        "waited {} ms",
        waited.as_millis()
    );
}

#[test]
fn the_token_endpoint_is_retried_like_graph() {
    let mock = fixture("contoso");
    let token_path = format!("/{}/oauth2/v2.0/token", mock.tenant_id());
    mock.inject(
        Fault::Throttle {
            retry_after: Some(RetryAfter::Seconds(0)),
        }
        .on(&token_path)
        .times(1),
    );
    mock.inject(unavailable().on(&token_path).times(1));
    let (code, out, err) = run(
        &mock,
        Auth::App("auditor"),
        &["audit", "--fail-on", "never"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let posts = mock
        .requests()
        .iter()
        .filter(|r| r.path_and_query.starts_with(&token_path))
        .count();
    assert_eq!(posts, 3, "429, 503, then the token");
}

#[test]
fn a_huge_concurrency_is_a_config_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ed.toml");
    // 2^61 once panicked in tokio's semaphore.
    std::fs::write(&config, "[http]\nconcurrency = 2305843009213693952\n").unwrap();
    let mock = fixture("contoso");
    let out = bin()
        .args(["audit", "--config"])
        .arg(&config)
        .args(["--graph-url", &mock.base_url(), "--auth", "access-token"])
        .env("ENROLL_DOCTOR_ACCESS_TOKEN", "x")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("http.concurrency (in ") && err.contains("from 1 to 256"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let out = bin()
        .args([
            "audit",
            "--graph-url",
            &mock.base_url(),
            "--auth",
            "access-token",
        ])
        .env("ENROLL_DOCTOR_ACCESS_TOKEN", "x")
        .env("ENROLL_DOCTOR_CONCURRENCY", "2305843009213693952")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("ENROLL_DOCTOR_CONCURRENCY"), "{err}");
}

#[test]
fn without_a_per_user_folder_nothing_is_cached_in_the_shared_temp_folder() {
    let out = bin()
        .args(["auth", "logout"])
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("LOCALAPPDATA")
        .env_remove("ENROLL_DOCTOR_TOKEN_CACHE")
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("No cached sign-in: no per-user cache folder is known"),
        "{stdout}"
    );
    let tmp = std::env::temp_dir().display().to_string();
    assert!(!stdout.contains(&tmp), "{stdout}");
}

/// A cache another user could have written (mode 0666) holding a token of theirs is not used:
/// the tool signs in afresh and replaces the file with one of mode 0600.
#[cfg(unix)]
#[test]
fn a_planted_world_writable_cache_is_not_trusted() {
    use std::os::unix::fs::PermissionsExt;
    let mock = fixture("contoso");
    let cli = mock.app("cli").unwrap();
    let planted = mock.token_for("cli").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let expires = chrono::Utc::now() + chrono::Duration::minutes(50);
    let json = serde_json::json!({
        "version": 1,
        "login_url": mock.base_url(),
        "tenant": mock.tenant_id(),
        "client_id": cli.client_id,
        "refresh_token": null,
        "access_token": planted,
        "expires_at": expires,
    });
    std::fs::write(&cache, json.to_string()).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o666)).unwrap();
    let base = mock.base_url();
    let out = bin()
        .args([
            "auth",
            "status",
            "--auth",
            "device-code",
            "--format",
            "json",
        ])
        .args(["--graph-url", &base, "--login-url", &base])
        .args(["--tenant", &mock.tenant_id(), "--client-id", &cli.client_id])
        .env("ENROLL_DOCTOR_TOKEN_CACHE", &cache)
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("ignoring the token cache") && err.contains("other users may write to it"),
        "{err}"
    );
    // A new sign-in happened (the device code was shown) and replaced the file.
    assert!(err.contains("enter the code"), "{err}");
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let now: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    let fresh = now["entries"][0]["access_token"].as_str();
    assert!(fresh.is_some_and(|t| t != planted), "{now}");
}
