//! App identities without a stored secret, through the binary against the mock: managed
//! identity (IMDS, the App Service endpoint, user-assigned by client id) and workload identity
//! federation (a token file, inferred; GitHub Actions' OIDC service), their failures, and the
//! no-leak guarantee of `-vv --trace-http`.

use std::time::{Duration, Instant};

use mock_graph::{BlockingMockGraph, KUBERNETES_ISSUER};
use serde_json::Value;

use super::common::bin;
use super::tenant::{fixture, json_of};

/// Every variable that could pick or feed a sign-in method, so the test's own choice counts.
const SIGN_IN_VARS: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "ENROLL_DOCTOR_AUTH",
    "ENROLL_DOCTOR_ACCESS_TOKEN",
    "ENROLL_DOCTOR_ACCESS_TOKEN_FILE",
    "ENROLL_DOCTOR_CONFIG",
    "RUST_LOG",
];

const KUBERNETES_SUBJECT: &str = "system:serviceaccount:enroll-doctor:auditor";

/// enroll-doctor against `mock` with only `env` deciding how it signs in.
fn run(mock: &BlockingMockGraph, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let base = mock.base_url();
    let mut cmd = bin();
    cmd.args(args)
        .args([
            "--cloud",
            "custom",
            "--graph-url",
            &base,
            "--login-url",
            &base,
        ])
        .env(
            "ENROLL_DOCTOR_TOKEN_CACHE",
            std::env::temp_dir().join("enroll-doctor-e2e-app-identity-no-cache"),
        )
        .env("ENROLL_DOCTOR_NO_BROWSER", "1")
        .timeout(Duration::from_secs(60));
    for k in SIGN_IN_VARS {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run enroll-doctor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No JWT (tokens, assertions: base64url JSON starts `eyJ`) and none of `secrets`.
fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    assert!(!text.contains("eyJ"), "{what} contains a JWT:\n{text}");
    for s in secrets {
        assert!(
            !s.is_empty() && !text.contains(s),
            "{what} contains a secret:\n{text}"
        );
    }
}

/// `(check, subject id, status)` of every finding, sorted: two runs with the same permissions
/// give the same list.
fn statuses(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["check"].as_str().unwrap_or_default().to_string(),
                f["subject"]["id"].as_str().unwrap_or_default().to_string(),
                f["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn requested(mock: &BlockingMockGraph, path: &str) -> Vec<String> {
    mock.requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .filter(|p| p.starts_with(path))
        .collect()
}

const AUDIT: &[&str] = &["audit", "-f", "json", "--fail-on", "never"];

#[test]
fn managed_identity_through_imds_audits_like_the_auditor_app() {
    let mock = fixture("contoso");
    let base = mock.base_url();
    let (code, out, err) = run(
        &mock,
        &[
            AUDIT,
            &["--auth", "managed-identity", "-vv", "--trace-http"],
        ]
        .concat(),
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", &base)],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("metadata: true"), "{err}");
    assert_no_secrets("stdout", &out, &[]);
    assert_no_secrets("stderr", &err, &[]);
    let mi = json_of(&out, &err);
    let asked = requested(&mock, "/metadata/identity/oauth2/token");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].contains("resource=https%3A%2F%2Fgraph.microsoft.com"),
        "{asked:?}"
    );
    assert!(
        !asked[0].contains("client_id"),
        "system-assigned: {asked:?}"
    );
    assert!(requested(&mock, "/v1.0/").len() > 3);

    // The managed identity holds the auditor's roles: the same findings as a client secret.
    let app = mock.app("auditor").unwrap();
    let tenant = mock.tenant_id();
    let (code, out, err) = run(
        &mock,
        &[AUDIT, &["--auth", "client-secret", "--tenant", &tenant]].concat(),
        &[
            ("AZURE_CLIENT_ID", &app.client_id),
            ("AZURE_CLIENT_SECRET", &app.client_secret),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let secret = json_of(&out, &err);
    assert_eq!(statuses(&mi), statuses(&secret));
    assert!(!statuses(&mi).is_empty());
}

#[test]
fn imds_unavailable_is_exit_2_at_once_with_a_clear_message() {
    let mock = fixture("contoso");
    // A port nobody listens on stands in for a machine without IMDS.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let (code, out, err) = run(
        &mock,
        &[AUDIT, &["--auth", "managed-identity"]].concat(),
        &[(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            &format!("http://127.0.0.1:{port}"),
        )],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("no managed identity endpoint answered at http://127.0.0.1"),
        "{err}"
    );
    assert!(
        err.contains("not an Azure VM/Function with a managed identity, or IMDS is blocked"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(out.is_empty(), "{out}");
    assert!(requested(&mock, "/v1.0/").is_empty());

    // Plain http to an address that is neither loopback nor link-local is refused unsent.
    let (code, _, err) = run(
        &mock,
        &["auth", "status", "--auth", "managed-identity"],
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://10.1.2.3")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("neither loopback nor link-local"), "{err}");
}

#[test]
fn user_assigned_identity_by_client_id() {
    let mock = fixture("contoso");
    let base = mock.base_url();
    let user = mock.app("managed-identity-user").unwrap();
    let imds = [("AZURE_POD_IDENTITY_AUTHORITY_HOST", base.as_str())];
    let (code, out, err) = run(
        &mock,
        &[
            "auth",
            "status",
            "-f",
            "json",
            "--auth",
            "managed-identity",
            "--client-id",
            &user.client_id,
        ],
        &imds,
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["auth_method"], "managed-identity", "{v}");
    assert_eq!(v["token_kind"], "application");
    assert!(v["identity"].to_string().contains(&user.client_id), "{v}");
    let asked = requested(&mock, "/metadata/identity/oauth2/token");
    assert!(
        asked[0].ends_with(&format!("&client_id={}", user.client_id)),
        "{asked:?}"
    );

    // An identity that is not assigned: IMDS's 400, explained, not retried.
    mock.clear_requests();
    let (code, _, err) = run(
        &mock,
        &[
            "auth",
            "status",
            "--auth",
            "managed-identity",
            "--client-id",
            "0b0b0b0b-1111-2222-3333-444444444444",
        ],
        &imds,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Identity not found"), "{err}");
    assert!(
        err.contains(
            "no user-assigned managed identity with client id 0b0b0b0b-1111-2222-3333-444444444444"
        ),
        "{err}"
    );
    assert_eq!(requested(&mock, "/metadata/identity/oauth2/token").len(), 1);
}

#[test]
fn app_service_endpoint_with_its_header_and_without_leaking_it() {
    let mock = fixture("contoso");
    let endpoint = mock.identity_endpoint();
    let header = mock.identity_header();
    let (code, out, err) = run(
        &mock,
        &[
            AUDIT,
            &["--auth", "managed-identity", "-vv", "--trace-http"],
        ]
        .concat(),
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", header),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("/msi/token?api-version=2019-08-01"), "{err}");
    assert!(err.contains("x-identity-header: [REDACTED]"), "{err}");
    assert_no_secrets("stdout", &out, &[header]);
    assert_no_secrets("stderr", &err, &[header]);
    assert!(
        !json_of(&out, &err)["findings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        requested(&mock, "/metadata/").is_empty(),
        "IMDS is not asked"
    );

    // A wrong (stale, copied) header: the endpoint's 401, explained.
    let (code, _, err) = run(
        &mock,
        &["auth", "status", "--auth", "managed-identity"],
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "stale-header-value"),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("HTTP 401") || err.contains("401"), "{err}");
    assert!(
        err.contains("the endpoint refused IDENTITY_HEADER"),
        "{err}"
    );
    assert!(!err.contains("stale-header-value"), "{err}");
}

#[test]
fn auth_status_names_the_managed_identity_method() {
    let mock = fixture("contoso");
    let base = mock.base_url();
    let (code, out, err) = run(
        &mock,
        &["auth", "status", "--auth", "managed-identity"],
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", &base)],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("signed in with managed-identity"), "{out}");
    assert!(out.contains("Token kind:  application"), "{out}");
    assert!(out.contains(&mock.tenant_id()), "{out}");
    // Which checks the token can run: an app-only token leaves the delegated-only ones out.
    let can_run = out
        .lines()
        .find(|l| l.starts_with("Can run:"))
        .unwrap_or_else(|| panic!("no Can run line: {out}"));
    assert!(
        can_run.contains("checks that read Graph can run with this token"),
        "{can_run}"
    );
    assert!(can_run.contains("need a delegated sign-in"), "{can_run}");
    let (code, out, err) = run(
        &mock,
        &[
            "auth",
            "status",
            "--auth",
            "managed-identity",
            "--format",
            "json",
        ],
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", &base)],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["auth_method"], "managed-identity");
    let runnable = v["can_run"]["runnable"].as_u64().unwrap();
    let checks = v["can_run"]["checks"].as_u64().unwrap();
    assert!(runnable > 0 && runnable < checks, "{v}");
    assert!(v["can_run"]["delegated_only"].as_u64().unwrap() > 0, "{v}");
}

fn workload_env<'a>(client_id: &'a str, tenant: &'a str, file: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AZURE_CLIENT_ID", client_id),
        ("AZURE_TENANT_ID", tenant),
        ("AZURE_FEDERATED_TOKEN_FILE", file),
    ]
}

#[test]
fn a_federated_token_file_is_inferred_and_exchanged() {
    let mock = fixture("contoso");
    let app = mock.app("workload").unwrap();
    let tenant = mock.tenant_id();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    let jwt = mock.federated_token(KUBERNETES_ISSUER, KUBERNETES_SUBJECT, 3600);
    std::fs::write(&file, &jwt).unwrap();
    let file_s = file.to_str().unwrap();
    let env = workload_env(&app.client_id, &tenant, file_s);

    // No --auth: AZURE_FEDERATED_TOKEN_FILE selects workload identity.
    let (code, out, err) = run(&mock, &[AUDIT, &["-vv", "--trace-http"]].concat(), &env);
    assert_eq!(code, 0, "{err}");
    assert!(
        !json_of(&out, &err)["findings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(err.contains("/oauth2/v2.0/token -> 200"), "{err}");
    assert_no_secrets("stdout", &out, &[&jwt]);
    assert_no_secrets("stderr", &err, &[&jwt]);

    let (code, out, err) = run(&mock, &["auth", "status"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("signed in with workload-identity"), "{out}");
}

#[test]
fn an_expired_federated_token_is_exit_2_before_any_request() {
    let mock = fixture("contoso");
    let app = mock.app("workload").unwrap();
    let tenant = mock.tenant_id();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let jwt = mock.federated_token(KUBERNETES_ISSUER, KUBERNETES_SUBJECT, -3600);
    std::fs::write(&file, &jwt).unwrap();
    let env = workload_env(&app.client_id, &tenant, file.to_str().unwrap());
    let (code, out, err) = run(&mock, AUDIT, &env);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("the federated token from"), "{err}");
    assert!(err.contains("expired at"), "{err}");
    assert!(err.contains("so it was not sent"), "{err}");
    assert_no_secrets("stderr", &err, &[&jwt]);
    assert_eq!(mock.stats().token_requests, 0, "{:?}", mock.requests());
}

#[test]
fn an_unregistered_subject_is_explained() {
    let mock = fixture("contoso");
    let app = mock.app("workload").unwrap();
    let tenant = mock.tenant_id();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let subject = "system:serviceaccount:other:intruder";
    let jwt = mock.federated_token(KUBERNETES_ISSUER, subject, 3600);
    std::fs::write(&file, &jwt).unwrap();
    let env = workload_env(&app.client_id, &tenant, file.to_str().unwrap());
    let (code, _, err) = run(&mock, &["auth", "status"], &env);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("AADSTS700213"), "{err}");
    assert!(
        err.contains(&format!("no federated credential of app {}", app.client_id)),
        "{err}"
    );
    assert!(err.contains(&format!("subject {subject}")), "{err}");
    assert_no_secrets("stderr", &err, &[&jwt]);

    // An app with no federated credential at all: the generic AADSTS70021.
    let auditor = mock.app("auditor").unwrap();
    let env = workload_env(&auditor.client_id, &tenant, file.to_str().unwrap());
    let (code, _, err) = run(&mock, &["auth", "status"], &env);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("AADSTS70021"), "{err}");
}

#[test]
fn github_actions_oidc_signs_in_without_leaking() {
    let mock = fixture("contoso");
    let app = mock.app("workload").unwrap();
    let tenant = mock.tenant_id();
    let url = mock.github_oidc_url();
    let request_token = mock.github_oidc_request_token();
    let env = [
        ("AZURE_CLIENT_ID", app.client_id.as_str()),
        ("AZURE_TENANT_ID", tenant.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token),
    ];
    let (code, out, err) = run(
        &mock,
        &[
            AUDIT,
            &["--auth", "workload-identity", "-vv", "--trace-http"],
        ]
        .concat(),
        &env,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("/github-actions/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange -> 200"),
        "{err}"
    );
    assert!(err.contains("authorization: [REDACTED]"), "{err}");
    assert_no_secrets("stdout", &out, &[request_token]);
    assert_no_secrets("stderr", &err, &[request_token]);
    assert!(
        !json_of(&out, &err)["findings"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A request token the service does not accept: explained, and still not shown.
    let env = [
        env[0],
        env[1],
        env[2],
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "expired-request-token"),
    ];
    let (code, _, err) = run(
        &mock,
        &["auth", "status", "--auth", "workload-identity"],
        &env,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("id-token: write"), "{err}");
    assert!(!err.contains("expired-request-token"), "{err}");
}
