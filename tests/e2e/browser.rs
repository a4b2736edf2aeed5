//! The browser sign-in (`--auth browser`: authorization code + PKCE, loopback redirect) of the
//! binary against the mock identity platform. The test plays the user: it reads the address
//! the binary prints on stderr (`ENROLL_DOCTOR_NO_BROWSER=1`: no browser is launched), requests
//! it from the mock's `/authorize` without following the redirect, and then requests the
//! `Location` — the binary's loopback listener — as the browser would.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mock_graph::{BlockingMockGraph, MockConfig, MockGraph, MockHandle};

/// The binary running in the background, its stderr read line by line.
struct Running {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed test must not leave a child waiting five minutes for its browser.
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn command(mock: &MockHandle, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_enroll-doctor"));
    cmd.args(args)
        .arg("--graph-url")
        .arg(mock.base_url())
        .arg("--login-url")
        .arg(mock.base_url());
    for k in [
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
        "ENROLL_DOCTOR_ACCESS_TOKEN",
        "ENROLL_DOCTOR_ACCESS_TOKEN_FILE",
        "ENROLL_DOCTOR_AUTH",
        "ENROLL_DOCTOR_CONFIG",
        "RUST_LOG",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("AZURE_TENANT_ID", mock.tenant_id())
        .env("ENROLL_DOCTOR_NO_BROWSER", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn start(mock: &MockHandle, args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut child = command(mock, args, env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    Running {
        child: Some(child),
        lines,
        stderr: Some(reader),
    }
}

impl Running {
    /// The authorize address the binary printed (its own line).
    fn authorize_url(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains("/oauth2/v2.0/authorize?") => {
                    return line.trim().to_string();
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("the binary printed no authorize address");
    }

    /// Waits for the exit: (code, stdout, stderr).
    fn finish(mut self) -> (i32, String, String) {
        let child = self.child.take().expect("running");
        let out = child.wait_with_output().expect("the binary ends");
        let stderr = self
            .stderr
            .take()
            .expect("reader")
            .join()
            .expect("stderr read");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        )
    }
}

/// The "browser": one GET, redirects not followed. (status, Location, body); `None` when
/// nothing listens any more.
fn browse(url: &str) -> Option<(u16, String, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let r = client.get(url).send().await.ok()?;
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Some((status, location, r.text().await.unwrap_or_default()))
    })
}

fn param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The mock's answer to the authorize address: the Location it redirects the browser to.
fn sign_in_at_the_mock(authorize: &str) -> String {
    let (status, location, body) = browse(authorize).expect("the mock answers");
    assert_eq!(status, 302, "{body}");
    location
}

fn authorize_requests(mock: &MockHandle) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path_and_query.contains("/oauth2/v2.0/authorize"))
        .count()
}

fn token_requests(mock: &MockHandle) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path_and_query.ends_with("/oauth2/v2.0/token"))
        .count()
}

/// No JWT (`eyJ`: base64url of `{"`), none of `secrets`, no PKCE verifier or code parameter.
fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    assert!(!text.contains("eyJ"), "{what} contains a JWT:\n{text}");
    assert!(
        !text.contains("code_verifier"),
        "{what} mentions the verifier:\n{text}"
    );
    assert!(!text.contains("code="), "{what} holds a code:\n{text}");
    for s in secrets {
        assert!(
            !s.is_empty() && !text.contains(s),
            "{what} contains a secret:\n{text}"
        );
    }
}

fn mock() -> BlockingMockGraph {
    MockGraph::spawn_blocking(MockConfig::fixture("contoso")).expect("mock")
}

#[test]
fn browser_sign_in_caches_0600_and_is_reused_without_leaking() {
    let mock = mock();
    let app = mock.app("cli").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let env = [
        ("AZURE_CLIENT_ID", app.client_id.as_str()),
        ("ENROLL_DOCTOR_TOKEN_CACHE", cache.to_str().unwrap()),
    ];
    let run = start(
        &mock,
        &["auth", "login", "--auth", "browser", "-vv", "--trace-http"],
        &env,
    );
    let authorize = run.authorize_url();
    assert!(
        authorize.starts_with(&format!(
            "{}/{}/oauth2/v2.0/authorize?",
            mock.base_url(),
            mock.tenant_id()
        )),
        "{authorize}"
    );
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let redirect = param(&authorize, "redirect_uri").unwrap();
    assert!(redirect.starts_with("http://localhost:"), "{redirect}");
    // A stray request (the browser's favicon) is answered and does not end the sign-in.
    let (status, _, _) = browse(&format!("{redirect}/favicon.ico")).expect("listening");
    assert_eq!(status, 404);

    let location = sign_in_at_the_mock(&authorize);
    assert!(
        location.starts_with(&format!("{redirect}/?code=")),
        "{location}"
    );
    let code = param(&location, "code").unwrap();
    let (status, _, page) = browse(&location).expect("the listener answers");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You can close this window"), "{page}");
    assert!(!page.contains(&code));

    let (exit, out, err) = run.finish();
    assert_eq!(exit, 0, "{out}\n{err}");
    let upn = app.user_principal_name.clone().unwrap();
    assert!(out.contains(&format!("Signed in as {upn}")), "{out}");
    assert!(err.contains("/oauth2/v2.0/token -> 200"), "traced: {err}");

    let text = std::fs::read_to_string(&cache).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    let cached: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entry = &cached["entries"][0];
    assert_eq!(entry["method"], "browser");
    let refresh = entry["refresh_token"].as_str().unwrap().to_string();
    let access = entry["access_token"].as_str().unwrap().to_string();
    assert_no_secrets(
        "login output",
        &format!("{out}\n{err}"),
        &[&code, &refresh, &access],
    );
    assert_eq!(authorize_requests(&mock), 1);
    assert_eq!(token_requests(&mock), 1);

    // The next runs reuse the cached sign-in: no address, no new authorize or token request.
    let out = command(
        &mock,
        &["auth", "status", "--auth", "browser", "--format", "json"],
        &env,
    )
    .output()
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["token_kind"], "delegated");
    assert_eq!(v["auth_method"], "browser");
    assert!(!stderr.contains("/authorize?"), "{stderr}");

    let out = command(
        &mock,
        &["audit", "--auth", "browser", "-vv", "--trace-http"],
        &env,
    )
    .output()
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let exit = out.status.code().unwrap_or(-1);
    assert!((0..=1).contains(&exit), "{exit}: {stdout}\n{stderr}");
    assert!(stderr.contains("authorization: [REDACTED]"), "{stderr}");
    assert_no_secrets(
        "audit output",
        &format!("{stdout}\n{stderr}"),
        &[&code, &refresh, &access],
    );
    assert_eq!(authorize_requests(&mock), 1);
    assert_eq!(token_requests(&mock), 1);
}

#[test]
fn a_cancelled_browser_sign_in_fails_clearly_and_caches_nothing() {
    let mock = mock();
    let app = mock.app("cli").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let env = [
        ("AZURE_CLIENT_ID", app.client_id.as_str()),
        ("ENROLL_DOCTOR_TOKEN_CACHE", cache.to_str().unwrap()),
    ];
    mock.browser_user_cancels(1);
    // Not `auth login`: a command that needs a token signs in the same way.
    let run = start(&mock, &["auth", "status", "--auth", "browser"], &env);
    let location = sign_in_at_the_mock(&run.authorize_url());
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
    let (status, _, page) = browse(&location).expect("the listener answers");
    assert_eq!(status, 200);
    assert!(page.contains("did not complete"), "{page}");
    let (exit, out, err) = run.finish();
    assert_ne!(exit, 0, "{out}\n{err}");
    assert!(err.contains("access_denied"), "{err}");
    assert!(err.contains("cancelled in the browser"), "{err}");
    assert!(!cache.exists());
    assert_eq!(token_requests(&mock), 0);
}

#[test]
fn a_redirect_with_a_wrong_state_is_refused_and_ends_the_sign_in() {
    let mock = mock();
    let app = mock.app("cli").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let env = [
        ("AZURE_CLIENT_ID", app.client_id.as_str()),
        ("ENROLL_DOCTOR_TOKEN_CACHE", cache.to_str().unwrap()),
    ];
    let run = start(
        &mock,
        &["auth", "login", "--auth", "browser", "-vv", "--trace-http"],
        &env,
    );
    let location = sign_in_at_the_mock(&run.authorize_url());
    let state = param(&location, "state").unwrap();
    let code = param(&location, "code").unwrap();
    let forged = location.replace(&format!("state={state}"), "state=forged-state");
    assert_ne!(forged, location);
    let (status, _, page) = browse(&forged).expect("the listener answers");
    assert_eq!(status, 400);
    assert!(page.contains("refused"), "{page}");
    let (exit, out, err) = run.finish();
    assert_ne!(exit, 0, "{out}\n{err}");
    assert!(err.contains("state_mismatch"), "{err}");
    assert_no_secrets("refused sign-in", &format!("{out}\n{err}"), &[&code]);
    // The listener is gone, so the genuine redirect cannot be delivered late either.
    assert!(browse(&location).is_none());
    assert_eq!(token_requests(&mock), 0);
    assert!(!cache.exists());
}

#[test]
fn help_lists_the_browser_sign_in() {
    for args in [&["--help"][..], &["auth", "login", "--help"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_enroll-doctor"))
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("browser:") && text.contains("PKCE"),
            "{args:?}: {text}"
        );
    }
}

/// Step 1's confidential app (AZURE_CLIENT_ID of the client-secret app, its localhost redirect
/// registered as *Web*) in a browser sign-in: the identity platform refuses the code without a
/// secret (AADSTS7000218), and the fix named is the redirect's platform, not "Allow public
/// client flows" (which only the device code flow heeds).
#[test]
fn a_confidential_app_in_the_browser_is_told_to_register_a_desktop_redirect() {
    let mock = mock();
    let app = mock.app("auditor").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("tokens.json");
    let env = [
        ("AZURE_CLIENT_ID", app.client_id.as_str()),
        ("ENROLL_DOCTOR_TOKEN_CACHE", cache.to_str().unwrap()),
    ];
    let run = start(&mock, &["auth", "login", "--auth", "browser"], &env);
    let location = sign_in_at_the_mock(&run.authorize_url());
    let (status, _, _) = browse(&location).expect("the listener answers");
    assert_eq!(status, 200);
    let (exit, out, err) = run.finish();
    assert_ne!(exit, 0, "{out}\n{err}");
    assert!(err.contains("AADSTS7000218"), "{err}");
    assert!(
        err.contains("Mobile and desktop applications") && err.contains("http://localhost"),
        "{err}"
    );
    assert!(!err.contains("Allow public client flows"), "{err}");
    assert!(!cache.exists());
}
