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
    /// One answer per request sent: at most [`MAX_BATCH`], refused past it while read.
    #[serde(deserialize_with = "bounded_responses")]
    responses: Vec<BatchResponse>,
}

fn bounded_responses<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<BatchResponse>, D::Error> {
    super::client::paging::bounded_seq(d, MAX_BATCH, "the $batch answer")
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
                    message: format!(
                        "duplicate request id '{}'",
                        crate::text_safety::shown(&r.id)
                    ),
                });
            }
            if !r.url.starts_with('/') || r.url.starts_with("//") {
                return Err(GraphError::Batch {
                    message: format!(
                        "request '{}': url must be relative and start with /",
                        crate::text_safety::shown(&r.id)
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
                        crate::text_safety::shown(&r.id),
                        crate::text_safety::shown(&r.url)
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
                            crate::text_safety::shown(&req.id),
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

    fn client_at(url: &str) -> GraphClient {
        crate::graph::test_server::client_for(url, crate::graph::test_server::small(64 << 20))
    }

    /// The error of listing the page in the answer to a `$batch` of one GET of `path`.
    async fn batch_list_error(c: &GraphClient, path: &str) -> GraphError {
        let mut answers = c
            .batch(ApiVersion::V1, vec![BatchRequest::get("1", path)])
            .await
            .unwrap();
        c.batch_item_list::<serde_json::Value>(answers.remove(0))
            .await
            .unwrap_err()
    }

    /// A `$batch` answer with one item `1` of status 200 and this body.
    fn batch_answer(item_body: &str) -> String {
        format!("{{\"responses\":[{{\"id\":\"1\",\"status\":200,\"body\":{item_body}}}]}}")
    }

    #[tokio::test]
    async fn a_batch_item_page_past_the_item_cap_is_refused_while_read() {
        use crate::graph::client::paging::MAX_PAGE_ITEMS;
        use crate::graph::test_server::{Answer, serve};
        let mut page = String::from("{\"value\":[");
        for i in 0..=MAX_PAGE_ITEMS {
            page.push_str(if i == 0 { "{}" } else { ",{}" });
        }
        page.push_str("]}");
        let server = serve(move |_, _| Answer::json(200, &batch_answer(&page)));
        let c = client_at(&server.url);
        let err = batch_list_error(&c, "/users/u1/transitiveMemberOf").await;
        let msg = err.to_string();
        assert!(matches!(err, GraphError::Decode { .. }), "{msg}");
        assert!(
            msg.contains("/users/u1/transitiveMemberOf")
                && msg.contains("the page holds more than 50000 items"),
            "{msg}"
        );
        assert_eq!(server.seen().len(), 1);
    }

    #[tokio::test]
    async fn a_batch_item_page_follows_its_next_link_within_the_budget() {
        use crate::graph::test_server::{Answer, serve};
        // The item's page links to sparse pages, for ever, with no count.
        let base = Arc::new(std::sync::Mutex::new(String::new()));
        let b = base.clone();
        let server = serve(move |n, _| {
            let next = format!(
                "{}/v1.0/users/u1/memberOf?$top=999&$skiptoken=s{n}",
                b.lock().unwrap()
            );
            // One item every other page: under one a page on average.
            let value = if n % 2 == 0 {
                format!("{{\"id\":\"g{n}\"}}")
            } else {
                String::new()
            };
            let page = format!("{{\"value\":[{value}],\"@odata.nextLink\":\"{next}\"}}");
            Answer::json(200, &if n == 0 { batch_answer(&page) } else { page })
        });
        *base.lock().unwrap() = server.url.clone();
        let c = client_at(&server.url);
        let err = batch_list_error(&c, "/users/u1/memberOf").await;
        let msg = err.to_string();
        assert!(matches!(err, GraphError::Listing { .. }), "{msg}");
        assert!(msg.contains("on average"), "{msg}");
        // The $batch and the pages the average floor allows.
        let requests = server.seen().len();
        assert_eq!(
            requests,
            1 + crate::graph::client::paging::AVERAGE_AFTER_PAGES as usize
        );
    }

    #[tokio::test]
    async fn a_batch_answer_with_more_answers_than_requests_is_refused_while_read() {
        use crate::graph::test_server::{Answer, serve};
        let items: Vec<String> = (0..=MAX_BATCH)
            .map(|i| format!("{{\"id\":\"{i}\",\"status\":204}}"))
            .collect();
        let body = format!("{{\"responses\":[{}]}}", items.join(","));
        let server = serve(move |_, _| Answer::json(200, &body));
        let c = client_at(&server.url);
        let err = c
            .batch(ApiVersion::V1, vec![BatchRequest::get("1", "/users/u1")])
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("the $batch answer holds more than 20 items"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_batch_item_error_is_read_typed() {
        use crate::graph::test_server::{Answer, serve};
        let server = serve(|_, _| {
            Answer::json(
                200,
                "{\"responses\":[{\"id\":\"1\",\"status\":403,\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"error\":{\"code\":\"Authorization_RequestDenied\",\"message\":\"no\",\"innerError\":{\"request-id\":\"rid-7\"}}}},{\"id\":\"2\",\"status\":204}]}",
            )
        });
        let c = client_at(&server.url);
        let answers = c
            .batch(
                ApiVersion::V1,
                vec![
                    BatchRequest::get("1", "/users/u1"),
                    BatchRequest::get("2", "/users/u2"),
                ],
            )
            .await
            .unwrap();
        let err = answers[0]
            .clone()
            .into_result::<serde_json::Value>()
            .unwrap_err();
        assert_eq!(err.code(), Some("Authorization_RequestDenied"));
        assert_eq!(err.request_id(), Some("rid-7"));
        assert!(err.to_string().contains("/users/u1"), "{err}");
        // No body: reads as null.
        let none: Option<serde_json::Value> = answers[1].clone().into_result().unwrap();
        assert_eq!(none, None);
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
