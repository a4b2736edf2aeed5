//! Several fixture tenants behind one address, as Microsoft's endpoints serve every tenant from
//! one host: what a run over many tenants with one multi-tenant app needs.
//!
//! Each tenant keeps its own state (data, issued device codes and refresh tokens, faults,
//! request log, counters), so a test can throttle one tenant and not the others. A request goes
//! to the tenant it names:
//!
//! - identity endpoints (`/{tenant}/oauth2/v2.0/…`, `/{tenant}/v2.0/.well-known/…`): the tenant
//!   whose id or verified domain is the first path segment; `organizations`, `common` and a
//!   tenant no fixture has go to the first tenant (the home tenant), which answers an unknown one
//!   with Entra's `AADSTS90002` "Tenant '…' not found" as the real platform does;
//! - Graph (`/v1.0/…`, `/beta/…`, `$batch`): the tenant named by the bearer token's `tid`
//!   claim (read unverified only to route: the tenant then validates the token, signature
//!   included); a request without a readable token goes to the home tenant, which answers 401.
//!
//! The apps registered in the home tenant are also registered in every other tenant, with the
//! same client id, secret and permissions: a multi-tenant app consented in each customer tenant
//! (<https://learn.microsoft.com/en-us/entra/identity-platform/howto-convert-app-to-be-multi-tenant>),
//! which signs in to each through that tenant's own token endpoint and gets a token with that
//! tenant's `tid`. A tenant's own apps stay registered beside them.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use base64::Engine;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::state::Shared;
use crate::tenant::Tenant;
use crate::{MockConfig, MockError, MockHandle, TenantSource, check_refusals, server};

impl TenantSource {
    /// Loads the tenant this source names.
    pub(crate) fn load(&self) -> Result<Tenant, MockError> {
        match self {
            TenantSource::Fixture(name) => Tenant::load_fixture(name),
            TenantSource::Dir(path) => Tenant::load_dir(path),
            TenantSource::Generated { users, seed } => Tenant::generated(*users, *seed),
            TenantSource::GeneratedFleet {
                users,
                devices,
                seed,
            } => Tenant::generated_fleet(*users, *devices, *seed),
        }
    }
}

/// Several tenants on one loopback address, on their own thread and runtime (for synchronous
/// tests); stops on drop, and like [`crate::BlockingMockGraph`] fails the test when any tenant
/// refused a request Graph would refuse.
pub struct MultiTenantMock {
    tenants: Vec<MockHandle>,
    base_url: String,
    stop: Option<watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MultiTenantMock {
    /// Starts one server for CONFIGS (at least one; the first is the home tenant, and its
    /// settings other than the tenant — port, page size, token lifetime — apply to all).
    pub fn spawn_blocking(configs: Vec<MockConfig>) -> Result<MultiTenantMock, MockError> {
        let Some(home_cfg) = configs.first().cloned() else {
            return Err(MockError::Thread(
                "a multi-tenant mock needs at least one tenant".into(),
            ));
        };
        let mut tenants = configs
            .iter()
            .map(|c| c.tenant.load())
            .collect::<Result<Vec<Tenant>, MockError>>()?;
        let home_apps = tenants[0].apps.clone();
        for t in tenants.iter_mut().skip(1) {
            let own: Vec<_> = std::mem::take(&mut t.apps)
                .into_iter()
                .filter(|a| {
                    !home_apps
                        .iter()
                        .any(|h| h.client_id.eq_ignore_ascii_case(&a.client_id))
                })
                .collect();
            t.apps = home_apps.iter().cloned().chain(own).collect();
        }
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("mock-graph-tenants".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(MockError::Io(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let (listener, addr) = match server::bind(home_cfg.port).await {
                        Ok(b) => b,
                        Err(e) => {
                            let _ = ready_tx.send(Err(MockError::Io(e)));
                            return;
                        }
                    };
                    let base = format!("http://{addr}");
                    let shared: Vec<Arc<Shared>> = tenants
                        .into_iter()
                        .zip(&configs)
                        .map(|(t, c)| {
                            // Every tenant answers with the home tenant's server settings.
                            let cfg = MockConfig {
                                tenant: c.tenant.clone(),
                                ..home_cfg.clone()
                            };
                            Arc::new(Shared::new(t, base.clone(), &cfg))
                        })
                        .collect();
                    let _ = ready_tx.send(Ok((base, shared.clone())));
                    serve(listener, shared, stop_rx).await;
                });
            })?;
        let (base_url, shared) = ready_rx
            .recv()
            .map_err(|e| MockError::Thread(e.to_string()))??;
        Ok(MultiTenantMock {
            tenants: shared
                .into_iter()
                .map(|shared| MockHandle { shared })
                .collect(),
            base_url,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: Graph and the identity platform of every tenant.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The tenants, in the order given (the home tenant first).
    pub fn tenants(&self) -> &[MockHandle] {
        &self.tenants
    }

    /// The tenant at INDEX (panics past the end: a test's own mistake).
    pub fn tenant(&self, index: usize) -> &MockHandle {
        &self.tenants[index]
    }
}

impl Drop for MultiTenantMock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        for t in &self.tenants {
            check_refusals(t);
        }
    }
}

/// The tenant a request is for (see the module docs).
fn route<'a>(tenants: &'a [Arc<Shared>], path: &str, headers: &HeaderMap) -> &'a Arc<Shared> {
    let home = &tenants[0];
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if matches!(first, "v1.0" | "beta") {
        return token_tenant(headers)
            .and_then(|tid| {
                tenants
                    .iter()
                    .find(|t| t.tenant.id.eq_ignore_ascii_case(&tid))
            })
            .unwrap_or(home);
    }
    tenants
        .iter()
        .find(|t| t.is_own_tenant(first))
        .unwrap_or(home)
}

/// The `tid` claim of the request's bearer token, read without checking it.
fn token_tenant(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let payload = token.trim().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("tid")?.as_str().map(str::to_string)
}

/// The accept loop of [`server::serve`], routing each request to its tenant.
async fn serve(listener: TcpListener, tenants: Vec<Arc<Shared>>, shutdown: watch::Receiver<bool>) {
    server::serve_routed(
        listener,
        move |req: &hyper::Request<hyper::body::Incoming>| {
            route(&tenants, req.uri().path(), req.headers()).clone()
        },
        shutdown,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_signs_in_and_reads_its_own_graph() {
        let mock = MultiTenantMock::spawn_blocking(vec![
            MockConfig::fixture("contoso"),
            MockConfig::fixture("fabrikam"),
        ])
        .unwrap();
        let (contoso, fabrikam) = (mock.tenant(0), mock.tenant(1));
        assert_eq!(contoso.base_url(), fabrikam.base_url());
        let app = contoso.app("auditor").unwrap();
        // The home tenant's app is registered in fabrikam too; fabrikam's own apps stay.
        assert_eq!(fabrikam.app("auditor").unwrap().client_id, app.client_id);
        assert!(fabrikam.apps().len() > contoso.apps().len());
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let http = reqwest::Client::new();
            for (t, name) in [(contoso, "Contoso"), (fabrikam, "Fabrikam")] {
                let tok: serde_json::Value = http
                    .post(format!(
                        "{}/{}/oauth2/v2.0/token",
                        mock.base_url(),
                        t.tenant_id()
                    ))
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", app.client_id.as_str()),
                        ("client_secret", app.client_secret.as_str()),
                        ("scope", "https://graph.microsoft.com/.default"),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let at = tok["access_token"].as_str().unwrap();
                let org: serde_json::Value = http
                    .get(format!("{}/v1.0/organization", mock.base_url()))
                    .bearer_auth(at)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(org["value"][0]["displayName"], name, "{org}");
                assert_eq!(t.stats().token_requests, 1);
            }
            // A tenant no fixture has: Entra's "not found" from the home tenant.
            let r = http
                .post(format!(
                    "{}/nosuch.example/oauth2/v2.0/token",
                    mock.base_url()
                ))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400);
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error_codes"][0], 90002, "{body}");
            // No token: the home tenant's 401.
            let r = http
                .get(format!("{}/v1.0/organization", mock.base_url()))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
        });
    }
}
