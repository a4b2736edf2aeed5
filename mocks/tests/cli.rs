//! The `mock-graph` binary's fault flags: a mock started with a rule answers as the rule says.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

mod common;
use common::{TestResult, client};

/// A running `mock-graph` child; killed on drop.
struct Running {
    child: Child,
    base_url: String,
    token_url: String,
    client_id: String,
    client_secret: String,
    faults: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Result<Running, Box<dyn std::error::Error>> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-graph"))
        .args(["--print-secrets"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut running = Running {
        child,
        base_url: String::new(),
        token_url: String::new(),
        client_id: String::new(),
        client_secret: String::new(),
        faults: Vec::new(),
    };
    let mut in_auditor = false;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(v) = line.strip_prefix("base_url:") {
            running.base_url = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("token_url:") {
            running.token_url = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("fault:") {
            running.faults.push(v.trim().to_string());
        } else if line.starts_with("app ") {
            in_auditor = line.starts_with("app auditor ");
            if in_auditor {
                let id = line.split("client_id=").nth(1).unwrap_or_default();
                running.client_id = id.split_whitespace().next().unwrap_or_default().into();
            }
        } else if let Some(v) = line.trim().strip_prefix("client_secret=")
            && in_auditor
        {
            running.client_secret = v.to_string();
        } else if line.starts_with("Ctrl-C") {
            return Ok(running);
        }
    }
    Err("mock-graph exited before it was ready".into())
}

async fn token(m: &Running) -> Result<String, Box<dyn std::error::Error>> {
    common::client_credentials_token(&m.token_url, &m.client_id, &m.client_secret).await
}

/// (status, Retry-After) of a GET.
async fn get(url: &str, token: &str) -> Result<(u16, Option<String>), reqwest::Error> {
    let resp = client().get(url).bearer_auth(token).send().await?;
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok((resp.status().as_u16(), retry))
}

#[tokio::test]
async fn fault_flag_rule_is_answered_as_written() -> TestResult {
    let m = start(&[
        "--fault",
        "GET /v1.0/users status=429 retry-after=2 times=3",
    ])?;
    assert_eq!(
        m.faults,
        ["GET /v1.0/users status=429 retry-after=2 times=3"]
    );
    let t = token(&m).await?;
    let users = format!("{}/v1.0/users", m.base_url);
    // Other routes are not affected.
    assert_eq!(
        get(&format!("{}/v1.0/organization", m.base_url), &t)
            .await?
            .0,
        200
    );
    for _ in 0..3 {
        assert_eq!(get(&users, &t).await?, (429, Some("2".to_string())));
    }
    assert_eq!(get(&users, &t).await?, (200, None), "times=3 used up");
    Ok(())
}

#[tokio::test]
async fn faults_file_and_seeded_throttle_reproduce_a_run() -> TestResult {
    let dir = std::env::temp_dir().join(format!("mock-graph-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("faults.txt");
    std::fs::write(
        &file,
        "# a broken groups endpoint\n/v1.0/groups status=503 retry-after=5\n",
    )?;
    let file_arg = file.display().to_string();
    let run = |seed: &'static str| {
        let file_arg = file_arg.clone();
        async move {
            let m = start(&[
                "--faults",
                &file_arg,
                "--throttle",
                "0.5",
                "--fault-seed",
                seed,
            ])?;
            let t = token(&m).await?;
            assert_eq!(
                get(&format!("{}/v1.0/groups", m.base_url), &t).await?,
                (503, Some("5".to_string()))
            );
            let mut statuses = Vec::new();
            for _ in 0..40 {
                statuses.push(get(&format!("{}/v1.0/devices", m.base_url), &t).await?.0);
            }
            Ok::<_, Box<dyn std::error::Error>>(statuses)
        }
    };
    let first = run("7").await?;
    let throttled = first.iter().filter(|s| **s == 429).count();
    assert!(
        (8..=32).contains(&throttled),
        "{throttled} of 40: {first:?}"
    );
    assert!(first.iter().all(|s| *s == 429 || *s == 200), "{first:?}");
    assert_eq!(run("7").await?, first, "same seed, same answers");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn a_bad_rule_stops_the_binary_with_the_word_named() -> TestResult {
    let out = Command::new(env!("CARGO_BIN_EXE_mock-graph"))
        .args(["--fault", "GET /v1.0/users status=404"])
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fault rule 'GET /v1.0/users status=404': status=404: only 429 and 500-599"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mock-graph"))
        .args(["--faults", "/dev/null"])
        .output()?;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--faults /dev/null: not a regular file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
