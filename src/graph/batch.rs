//! JSON batching: up to 20 requests per `$batch`, one API version per batch, answers matched by
//! id, and throttled or unavailable items (the statuses of
//! [`RETRYABLE_STATUSES`](super::retry::RETRYABLE_STATUSES)) retried on their own `Retry-After`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::batch_item::{BatchRequest, BatchResponse, MAX_BATCH};
use super::client::GraphClient;
use super::error::GraphError;
use super::request::{ApiVersion, Query};
use super::retry::{is_retryable_status, parse_retry_after};

#[derive(Serialize)]
struct BatchBody<'a> {
    requests: Vec<&'a BatchRequest>,
}

#[derive(Deserialize)]
struct BatchAnswer {
    responses: Vec<BatchResponse>,
}

impl GraphClient {
    /// Runs `requests` as `$batch` calls of at most 20 (chunks run concurrently under the
    /// client's cap) and returns one answer per request, in request order. Items answered with a
    /// retryable status (429, 503, 504) are resent in a later batch after their own `Retry-After` (the longest of the
    /// round, capped), up to the retry policy's attempts; their last answer is returned.
    pub async fn batch(
        &self,
        version: ApiVersion,
        requests: Vec<BatchRequest>,
    ) -> Result<Vec<BatchResponse>, GraphError> {
        let mut ids = HashSet::new();
        for r in &requests {
            if !ids.insert(r.id.as_str()) {
                return Err(GraphError::Batch {
                    message: format!("duplicate request id '{}'", r.id.escape_debug()),
                });
            }
            if !r.url.starts_with('/') || r.url.starts_with("//") {
                return Err(GraphError::Batch {
                    message: format!(
                        "request '{}': url must be relative and start with /",
                        r.id.escape_debug()
                    ),
                });
            }
            // The batch's version applies to every item: a versioned item URL would mix
            // v1.0 and beta (Graph resolves it under the batch's version and fails).
            let first = r.url[1..].split(['/', '?']).next().unwrap_or_default();
            if first.eq_ignore_ascii_case("v1.0") || first.eq_ignore_ascii_case("beta") {
                return Err(GraphError::Batch {
                    message: format!(
                        "request '{}': url '{}' names an API version; give it relative to the version root and choose the version per batch",
                        r.id.escape_debug(),
                        r.url.escape_debug()
                    ),
                });
            }
        }
        let order: HashMap<String, usize> = requests
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let chunks: Vec<Vec<BatchRequest>> =
            requests.chunks(MAX_BATCH).map(<[_]>::to_vec).collect();
        let results =
            futures::future::join_all(chunks.into_iter().map(|c| self.batch_chunk(version, c)))
                .await;
        let mut out = Vec::with_capacity(order.len());
        for r in results {
            out.extend(r?);
        }
        out.sort_by_key(|r| order.get(&r.id).copied().unwrap_or(usize::MAX));
        Ok(out)
    }

    async fn batch_chunk(
        &self,
        version: ApiVersion,
        chunk: Vec<BatchRequest>,
    ) -> Result<Vec<BatchResponse>, GraphError> {
        let policy = self.options().retry.clone();
        let url = self.url(version, "/$batch", &Query::new())?;
        let mut done: Vec<BatchResponse> = Vec::with_capacity(chunk.len());
        let mut pending: Vec<BatchRequest> = chunk;
        let mut round: u32 = 0;
        while !pending.is_empty() {
            round += 1;
            let body = serde_json::to_vec(&BatchBody {
                requests: pending.iter().collect(),
            })
            .map_err(|e| GraphError::Batch {
                message: format!("cannot serialise: {e}"),
            })?;
            let (answer, batch_request_id): (BatchAnswer, _) = self
                .execute(Method::POST, url.clone(), Some(body), false)
                .await?;
            let mut by_id: HashMap<String, BatchResponse> = answer
                .responses
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect();
            let mut again = Vec::new();
            let mut longest_wait: Option<Duration> = None;
            for req in pending {
                let Some(mut resp) = by_id.remove(&req.id) else {
                    return Err(GraphError::Batch {
                        message: format!(
                            "no answer for request '{}' ({}) (request-id {})",
                            req.id.escape_debug(),
                            req.url,
                            batch_request_id.as_deref().unwrap_or("none")
                        ),
                    });
                };
                resp.attempts = round;
                resp.url = req.url.clone();
                if is_retryable_status(resp.status) && round < policy.max_attempts {
                    if resp.status == 429 {
                        self.count_item_throttle();
                    }
                    let ra = resp
                        .header("Retry-After")
                        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                    let w = policy.wait_announced(round, ra, "Graph");
                    longest_wait = Some(longest_wait.map_or(w, |l| l.max(w)));
                    again.push(req);
                } else {
                    if resp.status == 429 {
                        self.count_item_throttle();
                    }
                    done.push(resp);
                }
            }
            if let Some(w) = longest_wait {
                tracing::debug!(
                    "$batch: {} item(s) throttled or failed; retrying in {} ms",
                    again.len(),
                    w.as_millis()
                );
                self.count_item_retries(again.len() as u64);
                tokio::time::sleep(w).await;
            }
            pending = again;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::graph::auth::{TokenProvider, TokenSource};
    use crate::graph::client::ClientOptions;

    fn offline_client() -> GraphClient {
        // Port 1 on loopback: any request that slipped through validation would fail loudly.
        let tokens = Arc::new(TokenProvider::new(TokenSource::Static {
            token: Some(secrecy::SecretString::from("not-a-jwt")),
            file: None,
        }));
        GraphClient::new("http://127.0.0.1:1", tokens, ClientOptions::default()).unwrap()
    }

    #[tokio::test]
    async fn item_urls_must_be_relative_and_unversioned() {
        let c = offline_client();
        for bad in [
            "users/x",
            "//evil.example/v1.0/users",
            "/beta/policies/mobileDeviceManagementPolicies",
            "/V1.0/users?$top=1",
            "/v1.0",
        ] {
            let err = c
                .batch(ApiVersion::V1, vec![BatchRequest::get("1", bad)])
                .await
                .unwrap_err();
            assert!(matches!(err, GraphError::Batch { .. }), "{bad}: {err}");
        }
        assert_eq!(c.stats().requests, 0);
        // An empty batch sends nothing.
        assert!(c.batch(ApiVersion::Beta, vec![]).await.unwrap().is_empty());
        assert_eq!(c.stats().requests, 0);
    }
}
