//! Tokens from the Azure CLI (`az account get-access-token --resource-type ms-graph`).

use std::ffi::OsString;
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use secrecy::SecretString;

use super::error::AuthError;
use super::token::AccessToken;

/// Runs the Azure CLI found on PATH.
#[derive(Debug, Clone)]
pub struct AzureCli {
    pub tenant: Option<String>,
    /// PATH for the child process only (tests put a fake `az` first); `None` inherits ours.
    pub path_override: Option<OsString>,
    pub timeout: Duration,
}

fn program() -> &'static str {
    // On Windows `az` is a batch file, which Command does not find without its extension.
    if cfg!(windows) { "az.cmd" } else { "az" }
}

impl AzureCli {
    pub async fn acquire(&self) -> Result<AccessToken, AuthError> {
        let mut cmd = tokio::process::Command::new(program());
        cmd.args([
            "account",
            "get-access-token",
            "--resource-type",
            "ms-graph",
            "-o",
            "json",
        ]);
        if let Some(t) = &self.tenant {
            cmd.args(["--tenant", t]);
        }
        if let Some(p) = &self.path_override {
            cmd.env("PATH", p);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let err = |message: String| AuthError::AzureCli { message };
        let child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                err("`az` was not found on PATH; install the Azure CLI and run `az login`, or choose another --auth method".into())
            } else {
                err(format!("cannot run `az`: {e}"))
            }
        })?;
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| {
                err(format!(
                    "`az` did not answer within {} s",
                    self.timeout.as_secs()
                ))
            })?
            .map_err(|e| err(format!("cannot run `az`: {e}")))?;
        if !out.status.success() {
            // az's stderr explains (e.g. "Please run 'az login'"); it does not carry tokens.
            let stderr = String::from_utf8_lossy(&out.stderr);
            let first: String = stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            return Err(err(format!(
                "`az account get-access-token` failed ({}): {}",
                out.status,
                first.chars().take(400).collect::<String>()
            )));
        }
        parse_az_output(&out.stdout, Utc::now()).map_err(err)
    }
}

/// Parses az's JSON: `accessToken`, and `expires_on` (epoch seconds, newer az) or `expiresOn`
/// (local time without zone, older az).
pub fn parse_az_output(stdout: &[u8], now: DateTime<Utc>) -> Result<AccessToken, String> {
    let v: serde_json::Value = serde_json::from_slice(stdout)
        .map_err(|_| "`az` printed something that is not JSON".to_string())?;
    let token = v
        .get("accessToken")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or("`az` output has no accessToken")?;
    let epoch = match v.get("expires_on") {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    let expires_at = epoch
        .and_then(|e| DateTime::<Utc>::from_timestamp(e, 0))
        .or_else(|| {
            let s = v.get("expiresOn")?.as_str()?;
            let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok()?;
            Local
                .from_local_datetime(&naive)
                .earliest()
                .map(|d| d.with_timezone(&Utc))
        })
        .unwrap_or(now + chrono::Duration::minutes(30));
    Ok(AccessToken {
        secret: SecretString::from(token.to_string()),
        expires_at,
        obtained_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_expiry_wins() {
        let now = Utc::now();
        let t = parse_az_output(
            br#"{"accessToken":"abc.def.ghi","expiresOn":"2020-01-01 00:00:00.000000","expires_on":1900000000,"tokenType":"Bearer"}"#,
            now,
        )
        .unwrap();
        assert_eq!(t.secret(), "abc.def.ghi");
        assert_eq!(t.expires_at.timestamp(), 1_900_000_000);
    }

    #[test]
    fn older_az_local_time() {
        let now = Utc::now();
        let t = parse_az_output(
            br#"{"accessToken":"x","expiresOn":"2030-06-01 12:30:00.123456"}"#,
            now,
        )
        .unwrap();
        let local = Local
            .from_local_datetime(
                &NaiveDateTime::parse_from_str("2030-06-01 12:30:00", "%Y-%m-%d %H:%M:%S").unwrap(),
            )
            .earliest()
            .unwrap();
        assert_eq!(t.expires_at.timestamp(), local.timestamp());
    }

    #[test]
    fn garbage_is_an_error_without_echo() {
        let e = parse_az_output(b"ERROR: secret-looking output", Utc::now()).unwrap_err();
        assert!(!e.contains("secret-looking"), "{e}");
        assert!(parse_az_output(br#"{"tokenType":"Bearer"}"#, Utc::now()).is_err());
    }
}
