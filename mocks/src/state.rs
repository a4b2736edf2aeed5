//! The state every handler shares: the tenant, issued credentials, injected faults, and the
//! request log and counters tests read back.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use axum::http::Method;
use jsonwebtoken::DecodingKey;

use crate::MockConfig;
use crate::faults::{Fault, FaultTable, Site};
use crate::odata::MAX_TOP;
use crate::tenant::Tenant;

/// Everything the server's handlers read and update, behind one `Arc`.
pub(crate) struct Shared {
    pub tenant: Tenant,
    pub base_url: String,
    pub page_size: usize,
    pub token_lifetime: Duration,
    pub device_code_pending_polls: u32,
    pub latency_us: AtomicU64,
    pub signing_secret: Vec<u8>,
    pub faults: Mutex<FaultTable>,
    pub certificates: Mutex<HashMap<String, Vec<RegisteredCert>>>,
    pub device_codes: Mutex<HashMap<String, DeviceCodeState>>,
    pub refresh_tokens: Mutex<HashMap<String, RefreshGrant>>,
    /// Authorization codes of the browser sign-in (`auth_code.rs`).
    pub auth_codes: crate::auth_code::AuthCodes,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub stats: Mutex<MockStats>,
    /// Requests refused because Graph's metadata has no such segment or member
    /// (`validate.rs`): "METHOD /version/path?query → message".
    pub schema_refusals: Mutex<Vec<String>>,
    /// Set by a test that sends such requests on purpose (see `BlockingMockGraph`'s drop).
    pub refusals_expected: AtomicBool,
    /// Time origin of the request log.
    pub started: Instant,
}

/// One request the mock answered (batch items are recorded individually too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path_and_query: String,
    pub had_bearer: bool,
    /// HTTP status sent; 0 when the connection was dropped (fault).
    pub status: u16,
    /// True for an item inside a `$batch`.
    pub in_batch: bool,
    /// When the request arrived and when its answer was ready, since the server started: tests
    /// count sequential round-trip waves from these (a request that arrives after another was
    /// answered may depend on it).
    pub received: Duration,
    pub answered: Duration,
}

/// Counters since start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MockStats {
    /// HTTP requests received (identity + Graph, `$batch` envelopes counted once).
    pub requests: u64,
    /// Requests to the identity endpoints.
    pub token_requests: u64,
    /// `$batch` envelopes accepted.
    pub batch_requests: u64,
    /// Items executed inside batches.
    pub batch_items: u64,
    /// 429 answers (direct or inside batches).
    pub throttled: u64,
    /// Requests a fault rule was applied to.
    pub faults_injected: u64,
    /// Answers per HTTP status (direct and batch items; 0 = dropped connection).
    pub by_status: BTreeMap<u16, u64>,
}

/// A certificate registered for client assertions.
#[derive(Clone)]
pub(crate) struct RegisteredCert {
    pub sha256: String,
    pub sha1: String,
    pub key: DecodingKey,
}

pub(crate) struct DeviceCodeState {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub polls: u32,
    pub issued: Instant,
}

pub(crate) struct RefreshGrant {
    pub client_id: String,
    pub scopes: Vec<String>,
}

impl Shared {
    /// The state of a server for `tenant` at `base_url` with `cfg`'s settings (its tenant
    /// source and port are the caller's business).
    pub fn new(tenant: Tenant, base_url: String, cfg: &MockConfig) -> Shared {
        let mut secret = uuid::Uuid::new_v4().as_bytes().to_vec();
        secret.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        Shared {
            tenant,
            base_url,
            page_size: cfg.page_size.clamp(1, MAX_TOP),
            token_lifetime: cfg.token_lifetime,
            device_code_pending_polls: cfg.device_code_pending_polls,
            latency_us: AtomicU64::new(cfg.latency.as_micros().min(u64::MAX as u128) as u64),
            signing_secret: secret,
            faults: Mutex::default(),
            certificates: Mutex::new(HashMap::new()),
            device_codes: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            auth_codes: Default::default(),
            requests: Mutex::new(Vec::new()),
            stats: Mutex::default(),
            schema_refusals: Mutex::default(),
            refusals_expected: AtomicBool::new(!cfg.fail_on_refusals),
            started: Instant::now(),
        }
    }

    pub fn record(
        &self,
        method: &Method,
        path_and_query: &str,
        had_bearer: bool,
        status: u16,
        in_batch: bool,
        received: Instant,
    ) {
        if let Ok(mut r) = self.requests.lock() {
            r.push(RecordedRequest {
                method: method.to_string(),
                path_and_query: path_and_query.to_string(),
                had_bearer,
                status,
                in_batch,
                received: received.saturating_duration_since(self.started),
                answered: self.started.elapsed(),
            });
        }
        if let Ok(mut s) = self.stats.lock() {
            if in_batch {
                s.batch_items += 1;
            } else {
                s.requests += 1;
            }
            *s.by_status.entry(status).or_default() += 1;
            if status == 429 {
                s.throttled += 1;
            }
        }
    }

    pub fn note_refusal(&self, method: &Method, path_and_query: &str, message: &str) {
        if let Ok(mut r) = self.schema_refusals.lock() {
            r.push(format!("{method} {path_and_query} → {message}"));
        }
    }

    pub fn count(&self, f: impl FnOnce(&mut MockStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    pub fn take_faults(
        &self,
        method: &Method,
        path: &str,
        site: Site,
    ) -> (Duration, Option<Fault>) {
        let (delay, fault) = self
            .faults
            .lock()
            .map(|mut t| t.take(method.as_str(), path, site))
            .unwrap_or((Duration::ZERO, None));
        if fault.is_some() || !delay.is_zero() {
            self.count(|s| s.faults_injected += 1);
        }
        (delay, fault)
    }
}
