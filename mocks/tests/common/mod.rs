//! Helpers shared by the mock's HTTP tests.

use std::time::Duration;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A client for loopback requests (no proxy, short timeout).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

/// A client-credentials access token from `token_url`.
#[allow(dead_code)] // not every test crate that shares this module signs in this way
pub async fn client_credentials_token(
    token_url: &str,
    client_id: &str,
    client_secret: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let resp = client()
        .post(token_url)
        .form(&[
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await?;
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].is_u64(), "expires_in is numeric");
    Ok(body["access_token"].as_str().ok_or("no token")?.to_string())
}
