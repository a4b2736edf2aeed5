//! The items of a `$batch`: one request as sent, one answer as received.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error::{GraphError, parse_error_body};
use super::request::Query;

/// Graph's limit of requests per batch.
pub const MAX_BATCH: usize = 20;

/// One request inside a batch. `url` is relative to the version root, e.g.
/// `/users/{id}/licenseDetails?$select=servicePlans`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchRequest {
    pub id: String,
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl BatchRequest {
    pub fn get(id: impl Into<String>, url: impl Into<String>) -> BatchRequest {
        BatchRequest {
            id: id.into(),
            method: "GET".into(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
        }
    }

    /// A GET whose path gets the encoded query appended.
    pub fn get_with(id: impl Into<String>, path: &str, query: &Query) -> BatchRequest {
        let q = query.encode();
        let url = if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}{}{q}", if path.contains('?') { '&' } else { '?' })
        };
        BatchRequest::get(id, url)
    }

    pub fn post(
        id: impl Into<String>,
        url: impl Into<String>,
        body: serde_json::Value,
    ) -> BatchRequest {
        let mut headers = BTreeMap::new();
        // Graph requires a Content-Type on items that carry a body.
        headers.insert("Content-Type".to_string(), "application/json".to_string());
        BatchRequest {
            id: id.into(),
            method: "POST".into(),
            url: url.into(),
            headers,
            body: Some(body),
        }
    }
}

/// One answer, in the order of the requests given to [`GraphClient::batch`](super::GraphClient::batch).
#[derive(Debug, Clone, Deserialize)]
pub struct BatchResponse {
    pub id: String,
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The item's body as received, unparsed: it is read typed (and within the page limits)
    /// by [`Self::into_result`], never built as a JSON tree. `None`: no body.
    #[serde(default)]
    pub body: Option<Box<RawValue>>,
    /// Attempts this item took (1 = answered the first time).
    #[serde(skip)]
    pub attempts: u32,
    /// Path of the item, for error messages.
    #[serde(skip)]
    pub url: String,
}

impl BatchResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The item's error as a [`GraphError::Http`], or its body deserialized.
    pub fn into_result<T: DeserializeOwned>(self) -> Result<T, GraphError> {
        if !self.is_success() {
            return Err(self.to_error());
        }
        let text = self.body.as_deref().map_or("null", RawValue::get);
        serde_json::from_str(text).map_err(|e| GraphError::Decode {
            method: "GET".into(),
            path: self.url.clone(),
            message: e.to_string().chars().take(300).collect(),
            request_id: None,
        })
    }

    pub fn to_error(&self) -> GraphError {
        let body = self.body.as_deref().map_or("", RawValue::get);
        let (code, message, rid) = parse_error_body(body.as_bytes());
        GraphError::Http {
            method: "BATCH".into(),
            path: self.url.clone(),
            status: self.status,
            code,
            message,
            request_id: self.header("request-id").map(str::to_string).or(rid),
            attempts: self.attempts,
        }
    }
}
