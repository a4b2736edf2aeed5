//! Paging benchmark (not a test): a generated 100,000-user tenant on the mock Graph, page size
//! 999, every user listed through `GraphClient::for_each_page` with `$select`, without and with
//! 20 ms of injected latency per response. Run: `cargo bench --bench graph_paging`.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use enroll_doctor::config::{AuthMethod, FlagOverrides, Settings};
use enroll_doctor::graph::{ApiVersion, ClientOptions, GraphClient, Query, TokenProvider};
use mock_graph::{MockConfig, MockGraph};

const USERS: usize = 100_000;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct User {
    id: String,
    #[serde(rename = "userPrincipalName")]
    upn: String,
    #[serde(rename = "accountEnabled")]
    account_enabled: Option<bool>,
}

async fn run(latency: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockGraph::start(MockConfig {
        latency,
        ..MockConfig::generated(USERS, 1)
    })
    .await?;
    let app = mock
        .app("auditor")
        .ok_or("the generated tenant has no `auditor` app")?;
    let env: HashMap<String, String> = [
        ("AZURE_TENANT_ID", mock.tenant_id()),
        ("AZURE_CLIENT_ID", app.client_id.clone()),
        ("AZURE_CLIENT_SECRET", app.client_secret.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let flags = FlagOverrides {
        graph_url: Some(mock.base_url()),
        login_url: Some(mock.base_url()),
        auth: Some(AuthMethod::ClientSecret),
        ..Default::default()
    };
    let settings = Settings::from_map(None, &env, &flags)?;
    let tokens = Arc::new(TokenProvider::from_settings(&settings)?);
    let client = GraphClient::new(
        &settings.endpoints.graph_url,
        tokens.clone(),
        ClientOptions::from_http(&settings.http),
    )?;
    // Sign in before timing so the figures are about paging.
    tokens.token().await?;

    let started = Instant::now();
    let mut users = 0usize;
    let mut pages = 0usize;
    let mut sample_ids: Vec<String> = Vec::new();
    client
        .for_each_page(
            ApiVersion::V1,
            "/users",
            &Query::new().select(&["id", "userPrincipalName", "accountEnabled"]),
            |page: Vec<User>| {
                if sample_ids.len() < 400 {
                    sample_ids.extend(page.iter().take(4).map(|u| u.id.clone()));
                }
                users += page.len();
                pages += 1;
                ControlFlow::Continue(())
            },
        )
        .await?;
    let elapsed = started.elapsed();
    let st = client.stats();
    let secs = elapsed.as_secs_f64();
    println!(
        "latency {:>3} ms: {users} users in {pages} pages, {:.3} s, {} requests, {:.1} req/s, {:.0} users/s, {:.1} MiB, {} retries, peak in-flight {}",
        latency.as_millis(),
        secs,
        st.requests,
        st.requests as f64 / secs,
        users as f64 / secs,
        st.bytes_received as f64 / (1024.0 * 1024.0),
        st.retries,
        st.peak_in_flight,
    );
    if users != USERS {
        return Err(format!("expected {USERS} users, paged {users}").into());
    }

    // Independent GETs run side by side up to the client's concurrency cap (8).
    let before = client.stats();
    let started = Instant::now();
    let gets = sample_ids.iter().map(|id| {
        let c = client.clone();
        let path = format!("/users/{id}");
        async move {
            c.get_json::<User>(
                ApiVersion::V1,
                &path,
                &Query::new().select(&["id", "userPrincipalName"]),
            )
            .await
        }
    });
    let results = futures::future::join_all(gets).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    let secs = started.elapsed().as_secs_f64();
    let st = client.stats();
    println!(
        "latency {:>3} ms: {} concurrent GET /users/{{id}}, {:.3} s, {:.1} req/s, {failed} failed, peak in-flight {}",
        latency.as_millis(),
        st.requests - before.requests,
        secs,
        (st.requests - before.requests) as f64 / secs,
        st.peak_in_flight,
    );
    mock.shutdown().await;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        for ms in [0, 20] {
            run(Duration::from_millis(ms)).await?;
        }
        Ok(())
    })
}
