//! Microsoft Graph access: authentication ([`auth`]), the resilient transport
//! ([`GraphClient`]: retries, throttling, paging, `$batch`, concurrency cap, counters),
//! typed errors ([`GraphError`]) and the permission preflight ([`preflight`]).

pub mod auth;
mod batch;
mod client;
mod error;
pub mod preflight;
pub mod retry;
pub mod trace;

pub use auth::{AccessToken, AuthError, TokenClaims, TokenKind, TokenProvider};
pub use batch::{BatchRequest, BatchResponse, MAX_BATCH};
pub use client::{
    ApiVersion, ClientOptions, GraphClient, GraphStats, Query, encode_component, same_origin,
};
pub use error::GraphError;
pub use preflight::{AuthStatus, PermissionRow, PermissionStatus, permission_gaps};
pub use retry::RetryPolicy;
