//! Microsoft Graph access: authentication ([`auth`]), the resilient transport
//! ([`GraphClient`]: retries, throttling, paging, `$batch`, concurrency cap, counters) and
//! typed errors ([`GraphError`]). Which checks a token's permissions allow is decided above
//! this layer, in [`crate::preflight`].

pub mod auth;
mod batch;
mod batch_item;
mod body;
mod client;
mod error;
mod request;
pub mod retry;
#[cfg(test)]
mod test_server;
pub mod trace;

pub use auth::{AccessToken, AuthError, TokenClaims, TokenKind, TokenProvider};
pub use batch_item::{BatchRequest, BatchResponse, MAX_BATCH};
pub use client::{ClientOptions, GraphClient, GraphStats, page_attempts, same_origin};
pub use error::GraphError;
pub use request::{ApiVersion, Query, encode_component};
pub use retry::RetryPolicy;
