//! A mock Microsoft Graph and Entra identity platform on loopback HTTP.
//!
//! Serves `{base}/v1.0/…` and `{base}/beta/…` Graph routes and the identity endpoints
//! `{base}/{tenant}/oauth2/v2.0/{token,devicecode}` from fixture tenants (embedded JSON folders
//! under `mocks/tenants/`) or a generated large tenant. Tokens are JWT-shaped and their
//! `roles`/`scp` are enforced per route; faults can be injected per route.
//!
//! Routes (each under `/v1.0` and `/beta` unless marked; `{user}` is an id or UPN; `/me/…` works
//! with delegated tokens):
//!
//! | Route | Permission (any of; higher ones accepted) |
//! |---|---|
//! | `GET /organization`, `/organization/{id}` | `Organization.Read.All` (also `User.Read`, `DeviceManagementServiceConfig.Read.All`) |
//! | `GET /subscribedSkus`, `/subscribedSkus/{id}` | `Organization.Read.All`, `LicenseAssignment.Read.All` |
//! | `GET /users`, `/users/{user}` (`$filter`: id, userPrincipalName, displayName, mail, accountEnabled, usageLocation) | `User.Read.All` |
//! | `GET /users/{user}/licenseDetails` | `User.Read.All`, `LicenseAssignment.Read.All` |
//! | `GET /users/{user}/transitiveMemberOf[/microsoft.graph.group]`, `/memberOf` | `User.Read.All` (groups reduced to id + type without `GroupMember.Read.All`) |
//! | `POST /users/{user}/checkMemberGroups` (≤ 20 ids) | `User.ReadBasic.All` + `GroupMember.Read.All` |
//! | `GET /users/{user}/managedDevices`, `/users/{user}/deviceManagementTroubleshootingEvents` | `DeviceManagementManagedDevices.Read.All` |
//! | `GET /groups`, `/groups/{id}`, `/groups/{id}/transitiveMembers[/microsoft.graph.user]`, `/members` | `GroupMember.Read.All` |
//! | beta `GET /policies/mobileDeviceManagementPolicies[/{id}[/includedGroups]]` (+ `$expand=includedGroups`), MAM equivalents | delegated `Policy.Read.All`; app-only → 401 |
//! | `GET /policies/deviceRegistrationPolicy` | `Policy.Read.DeviceConfiguration` |
//! | `GET /deviceManagement` | `DeviceManagementServiceConfig.Read.All` |
//! | `GET /deviceManagement/deviceEnrollmentConfigurations[/{id}[/assignments]]` (+ `$expand=assignments`; v1.0 hides beta-only types and properties) | `DeviceManagementServiceConfig.Read.All` |
//! | `GET /deviceManagement/managedDevices[/{id}]` (`$filter=azureADDeviceId eq …`) | `DeviceManagementManagedDevices.Read.All` |
//! | `GET /deviceManagement/troubleshootingEvents` | `DeviceManagementManagedDevices.Read.All` |
//! | `GET /devices`, `/devices/{id}`, `/devices(deviceId='…')` (`$filter=deviceId eq …`, `displayName eq …`) | `Device.Read.All` |
//! | `GET /devices/{id}/transitiveMemberOf`, `/devices(deviceId='…')/transitiveMemberOf`, `/memberOf` | `Device.Read.All` (groups reduced to id + type without `GroupMember.Read.All`) |
//! | `GET /identity/conditionalAccess/policies[/{id}]` | `Policy.Read.All` |
//! | `GET …/$count` on users, groups, devices, transitiveMembers (`ConsistencyLevel: eventual`) | as the collection |
//! | `POST /$batch` (≤ 20 items, relative URLs, answered in reverse order) | per item |
//!
//! Query options: `$select` (top-level, `id` and `@odata.type` always kept), `$top` (1–999, capped
//! by the server page size), `$filter` (`prop eq 'text'|true|false|number` on the listed
//! properties; anything else is 400 `BadRequest`), `$count=true` (directory lists need
//! `ConsistencyLevel: eventual`), `$expand` where listed, `$skiptoken` from `@odata.nextLink`.
//!
//! Before any route answers, the path and the names in `$select`, `$expand`, `$filter` and
//! `$orderby` are checked against Graph's metadata for the version called (`validate.rs`,
//! `schema.rs`, data in `mocks/schema/`): what Graph would refuse gets Graph's `400 BadRequest`,
//! and a test whose mock refused a request fails (see [`MockHandle::schema_refusals`]). Fault
//! rules also come as text ([`fault_rules`], the binary's `--fault`, `--faults`, `--throttle`).
//!
//! Every page costs time in its own size, not the tenant's, so benchmarks against a large
//! generated tenant measure the client: key lookups, the `$filter` tables and each group's
//! direct and transitive member lists are built with the tenant (`index.rs`), a page is cut
//! by offset from them, and generated users are built with only the properties answered.
//! (A `$filter` on a group's members is the exception: it resolves the group's members.)
//!
//! Identity: `POST /{tenant}/oauth2/v2.0/token` (`client_credentials` with `client_secret` (post
//! or basic) or a `client_assertion` JWT (RS256/PS256, `x5t#S256` or `x5t`), `refresh_token`,
//! device code, `authorization_code` with PKCE), `POST /{tenant}/oauth2/v2.0/devicecode`,
//! `GET /{tenant}/oauth2/v2.0/authorize` (the browser sign-in: signs the app's user in and
//! redirects to the loopback `redirect_uri`; see [`MockHandle::browser_user_cancels`]),
//! `GET /{tenant}/v2.0/.well-known/openid-configuration`; `{tenant}` is the tenant id, a verified
//! domain, or `organizations`/`common` for delegated flows. A `client_assertion` issued by
//! anyone but the app itself is a federated token, checked against the app's federated
//! credentials (`federated.rs`). Managed identity: `GET /metadata/identity/oauth2/token`
//! (IMDS, `Metadata: true`) and `GET /msi/token` (App Service, `X-IDENTITY-HEADER`), for the
//! apps marked `managedIdentity` (`managed_identity.rs`); GitHub Actions' OIDC service:
//! `GET /github-actions/idtoken` ([`MockHandle::github_oidc_url`]).
//!
//! Several fixture tenants can share one address ([`MultiTenantMock`]): identity requests go to
//! the tenant of their path, Graph requests to the tenant of their token's `tid`, and the home
//! tenant's apps are registered in every tenant (a multi-tenant app).
//!
//! ```no_run
//! # async fn demo() -> Result<(), mock_graph::MockError> {
//! let mock = mock_graph::MockGraph::start(mock_graph::MockConfig::fixture("contoso")).await?;
//! let auditor = mock.app("auditor").expect("fixture app");
//! println!("{} {} {}", mock.base_url(), mock.tenant_id(), auditor.client_id);
//! mock.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod auth_code;
mod devices;
mod error;
pub mod fault_rules;
mod faults;
mod federated;
mod graph;
mod index;
mod managed_identity;
mod multi;
mod odata;
mod relations;
mod reply;
mod schema;
mod server;
mod state;
mod tenant;
mod validate;

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

pub use devices::device_file;
pub use error::MockError;
pub use faults::{Fault, FaultRule, RetryAfter, Sample};
pub use federated::{
    FederatedCredential, GITHUB_ISSUER, GITHUB_SUBJECT, KUBERNETES_ISSUER, TOKEN_EXCHANGE_AUDIENCE,
};
pub use managed_identity::ManagedIdentityKind;
pub use multi::MultiTenantMock;
pub use state::{MockStats, RecordedRequest};
pub use tenant::{FleetDevice, MockApp, fixture_names, fleet_device, generated_tenant_id};

use state::Shared;

/// Where the tenant's data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantSource {
    /// An embedded fixture tenant: `contoso`, `fabrikam` or `northwind`.
    Fixture(String),
    /// A folder with the same JSON files as the embedded fixtures.
    Dir(PathBuf),
    /// A large deterministic tenant (users are generated on demand).
    Generated { users: usize, seed: u64 },
    /// A generated tenant whose first `devices` users each own one Windows device (Entra object,
    /// Intune record for Intune-scoped users, a few stale duplicates and failure events): see
    /// [`fleet_device`] for the identifiers a device report needs to match it.
    GeneratedFleet {
        users: usize,
        devices: usize,
        seed: u64,
    },
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub tenant: TenantSource,
    /// Server-side page size; a larger `$top` is capped to it so paging is exercised.
    pub page_size: usize,
    /// Delay added to every response.
    pub latency: Duration,
    /// Lifetime of issued access tokens (`Duration::ZERO` issues already-expired tokens).
    pub token_lifetime: Duration,
    /// How many device-code polls answer `authorization_pending` before the token.
    pub device_code_pending_polls: u32,
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Whether dropping the mock panics when it refused a request Graph would refuse (see
    /// [`MockHandle::schema_refusals`]): on (the default) in tests, so a test fails when its
    /// client sends such a request; off where the mock is embedded in a program (the demo).
    pub fail_on_refusals: bool,
}

impl MockConfig {
    /// An embedded fixture tenant with default settings (page size 100).
    pub fn fixture(name: &str) -> Self {
        MockConfig {
            tenant: TenantSource::Fixture(name.to_string()),
            page_size: 100,
            latency: Duration::ZERO,
            token_lifetime: Duration::from_secs(3599),
            device_code_pending_polls: 1,
            port: 0,
            fail_on_refusals: true,
        }
    }

    /// A generated tenant with `users` users; the page size is 999 as in real Graph lists.
    pub fn generated(users: usize, seed: u64) -> Self {
        MockConfig {
            tenant: TenantSource::Generated { users, seed },
            page_size: 999,
            ..MockConfig::fixture("contoso")
        }
    }

    /// [`MockConfig::generated`] plus one device per user for the first `devices` users.
    pub fn generated_fleet(users: usize, devices: usize, seed: u64) -> Self {
        MockConfig {
            tenant: TenantSource::GeneratedFleet {
                users,
                devices,
                seed,
            },
            ..MockConfig::generated(users, seed)
        }
    }

    /// A fixture folder on disk.
    pub fn dir(path: impl Into<PathBuf>) -> Self {
        MockConfig {
            tenant: TenantSource::Dir(path.into()),
            ..MockConfig::fixture("contoso")
        }
    }
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig::fixture("contoso")
    }
}

/// Accessors shared by [`MockGraph`] and [`BlockingMockGraph`] (both deref to it).
#[derive(Clone)]
pub struct MockHandle {
    shared: Arc<Shared>,
}

impl MockHandle {
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Graph root for a version: `{base}/v1.0` or `{base}/beta`.
    pub fn graph_url(&self, version: &str) -> String {
        format!("{}/{}", self.shared.base_url, version)
    }

    /// `{base}/{tenant}/oauth2/v2.0/token`
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.shared.base_url, self.shared.tenant.id
        )
    }

    pub fn tenant_id(&self) -> String {
        self.shared.tenant.id.clone()
    }

    /// A registered fixture app by short name (`auditor`, `limited`, `directory-reader`,
    /// `cert-only`, `cli`).
    pub fn app(&self, name: &str) -> Option<MockApp> {
        self.shared
            .tenant
            .apps
            .iter()
            .find(|a| a.name == name)
            .cloned()
    }

    pub fn apps(&self) -> Vec<MockApp> {
        self.shared.tenant.apps.clone()
    }

    /// Registers a public certificate (PEM) for `client_id`'s client assertions.
    /// Returns false when the PEM is not an RSA certificate.
    pub fn register_certificate(&self, client_id: &str, cert_pem: &str) -> bool {
        let Some(cert) = auth::parse_certificate(cert_pem) else {
            return false;
        };
        if let Ok(mut m) = self.shared.certificates.lock() {
            m.entry(client_id.to_lowercase()).or_default().push(cert);
            return true;
        }
        false
    }

    /// A ready-made access token for a fixture app (app-only, or delegated for public clients),
    /// bypassing the token endpoint.
    pub fn token_for(&self, app_name: &str) -> Option<String> {
        let app = self.app(app_name)?;
        Some(
            if app.user_principal_name.is_some() && app.roles.is_empty() {
                self.shared.mint_user_token(&app)
            } else {
                self.shared.mint_app_token(&app)
            },
        )
    }

    /// The next `times` browser sign-ins (`/authorize`) end with the user cancelling: the
    /// redirect carries `error=access_denied&error_subcode=cancel` instead of a code.
    pub fn browser_user_cancels(&self, times: u32) {
        self.shared.auth_codes.cancel_next(times);
    }

    pub fn inject(&self, rule: impl Into<FaultRule>) {
        if let Ok(mut t) = self.shared.faults.lock() {
            t.push(rule.into());
        }
    }

    pub fn clear_faults(&self) {
        if let Ok(mut t) = self.shared.faults.lock() {
            t.clear();
        }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    pub fn clear_requests(&self) {
        if let Ok(mut r) = self.shared.requests.lock() {
            r.clear();
        }
    }

    pub fn stats(&self) -> MockStats {
        self.shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Requests the mock refused because Graph's metadata for the version called has no such
    /// path segment, property or navigation ("METHOD /version/path?query → Graph's message").
    pub fn schema_refusals(&self) -> Vec<String> {
        self.shared
            .schema_refusals
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Declares that this test sends requests Graph would refuse on purpose, so dropping a
    /// [`BlockingMockGraph`] does not fail the test over them.
    pub fn expect_schema_refusals(&self) {
        self.shared.refusals_expected.store(true, Ordering::Relaxed);
    }

    pub fn set_latency(&self, d: Duration) {
        self.shared.latency_us.store(
            d.as_micros().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }
}

/// A running mock server (async). Stop it with [`MockGraph::shutdown`]; dropping it also stops
/// accepting connections. Dropping it fails the test when it refused a request Graph would
/// refuse (see [`MockHandle::schema_refusals`]).
pub struct MockGraph {
    handle: MockHandle,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Whether dropping checks the refusals (not for the one inside a `BlockingMockGraph`,
    /// whose owner checks on the test's thread).
    check_on_drop: bool,
}

impl Deref for MockGraph {
    type Target = MockHandle;
    fn deref(&self) -> &MockHandle {
        &self.handle
    }
}

impl MockGraph {
    pub async fn start(cfg: MockConfig) -> Result<MockGraph, MockError> {
        let tenant = cfg.tenant.load()?;
        let (listener, addr) = server::bind(cfg.port).await?;
        let shared = Arc::new(Shared::new(tenant, format!("http://{addr}"), &cfg));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), stop_rx));
        Ok(MockGraph {
            handle: MockHandle { shared },
            stop,
            task: Some(task),
            check_on_drop: true,
        })
    }

    /// Runs the server on its own thread and Tokio runtime (for synchronous tests and the demo).
    pub fn spawn_blocking(cfg: MockConfig) -> Result<BlockingMockGraph, MockError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mock-graph".into())
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
                    match MockGraph::start(cfg).await {
                        Ok(mut mock) => {
                            let _ = ready_tx.send(Ok(mock.handle.clone()));
                            let _ = stop_rx.await;
                            // The owner's drop checks the refusals, on the test's thread.
                            mock.check_on_drop = false;
                            mock.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })?;
        let handle = ready_rx
            .recv()
            .map_err(|e| MockError::Thread(e.to_string()))??;
        Ok(BlockingMockGraph {
            handle,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// A clonable handle to the accessors (for use from other tasks).
    pub fn handle(&self) -> MockHandle {
        self.handle.clone()
    }

    /// Stops accepting, drops open connections and waits for the accept loop to end. Panics
    /// (failing the test) when the mock refused a request Graph would refuse, unless the test
    /// declared it ([`MockHandle::expect_schema_refusals`]).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Dropping (or shutting down) a [`MockGraph`] that refused a request Graph would refuse
/// fails the test, like [`BlockingMockGraph`]'s drop.
impl Drop for MockGraph {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if self.check_on_drop {
            check_refusals(&self.handle);
        }
    }
}

/// A mock server on its own thread; stops on drop.
pub struct BlockingMockGraph {
    handle: MockHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Deref for BlockingMockGraph {
    type Target = MockHandle;
    fn deref(&self) -> &MockHandle {
        &self.handle
    }
}

impl BlockingMockGraph {
    pub fn handle(&self) -> MockHandle {
        self.handle.clone()
    }
}

/// Dropping a [`BlockingMockGraph`] that refused a request Graph would refuse (see
/// [`MockHandle::schema_refusals`]) fails the test that used it, so every test against the mock
/// also checks that the client only sends requests Graph accepts — unless the test declared it
/// with [`MockHandle::expect_schema_refusals`].
impl Drop for BlockingMockGraph {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        check_refusals(&self.handle);
    }
}

/// Fails the calling test when `handle`'s mock refused requests nobody expected it to.
fn check_refusals(handle: &MockHandle) {
    let refusals = handle.schema_refusals();
    let expected = handle.shared.refusals_expected.load(Ordering::Relaxed);
    if !refusals.is_empty() && !expected && !std::thread::panicking() {
        panic!(
            "the mock Graph refused {} request(s) that Graph would refuse (400 BadRequest):\n{}",
            refusals.len(),
            refusals.join("\n")
        );
    }
}
