//! Typed Graph errors. They carry what support needs (status, Graph error code, message,
//! `request-id`) and never a token: URLs are Graph paths and bodies are not echoed except for
//! Graph's own error message.

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::config::AuthMethod;
use crate::graph::auth::AuthError;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an error status (after retries where they apply).
    #[error(
        "{method} {path}: HTTP {status}{}{} (request-id {}{})",
        if code.is_empty() { String::new() } else { format!(" {code}") },
        if message.is_empty() { String::new() } else { format!(": {message}") },
        request_id.as_deref().unwrap_or("none"),
        if *attempts > 1 { format!(", after {attempts} attempts") } else { String::new() }
    )]
    Http {
        method: String,
        /// Path and query relative to the Graph host, e.g. `/v1.0/users?$top=999`.
        path: String,
        status: u16,
        /// Graph's `error.code`, e.g. `Authorization_RequestDenied` (may be empty).
        code: String,
        message: String,
        request_id: Option<String>,
        attempts: u32,
    },
    /// No HTTP answer: connection refused/reset, timeout, body cut off.
    #[error("{method} {path}: {message} (after {attempts} attempts)")]
    Transport {
        method: String,
        path: String,
        message: String,
        attempts: u32,
    },
    /// A 2xx answer whose body is not the expected JSON.
    #[error("{method} {path}: unexpected response body: {message} (request-id {})", request_id.as_deref().unwrap_or("none"))]
    Decode {
        method: String,
        path: String,
        message: String,
        request_id: Option<String>,
    },
    /// `@odata.nextLink` points at another origin; it is not followed (the token would leak).
    #[error(
        "refusing to follow @odata.nextLink to {foreign_origin} (configured Graph is {expected_origin}) while listing {path}"
    )]
    ForeignNextLink {
        path: String,
        foreign_origin: String,
        expected_origin: String,
    },
    /// The body passed the byte limit; reading stopped there. `path` has no query (it may
    /// hold a skip token or a filter value).
    #[error(
        "{method} {path}: the response is larger than {} (the limit set by http.max_response_mib); not read further",
        crate::fsio::show_size(*limit)
    )]
    ResponseTooLarge {
        method: String,
        path: String,
        limit: u64,
    },
    /// A listing went past what it can hold (items, pages, or pages that add nothing).
    #[error("listing {path} stopped: {message}")]
    Listing { path: String, message: String },
    /// The same `@odata.nextLink` came back twice.
    #[error("paging loop while listing {path}: the same @odata.nextLink was returned twice")]
    NextLinkLoop { path: String },
    /// A `$batch` answer that cannot be matched to the requests.
    #[error("$batch: {message}")]
    Batch { message: String },
    #[error("invalid request {path}: {message}")]
    InvalidRequest { path: String, message: String },
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Graph refused the token itself (401 `InvalidAuthenticationToken`, or 401 without a code)
    /// after the client renewed it once, or a token that cannot be renewed. Nothing more can
    /// be read with it: the run ends (exit 2), it is never a permission skip.
    #[error(
        "Graph rejected the token: {} (signed in with --auth {}); {} ({request}{})",
        if message.is_empty() { "HTTP 401 InvalidAuthenticationToken" } else { message.as_str() },
        method.as_str(),
        crate::graph::auth::hints::token_rejected(*method),
        request_id.as_deref().map(|r| format!(", request-id {r}")).unwrap_or_default()
    )]
    TokenRejected {
        /// How the token was obtained.
        method: AuthMethod,
        /// Graph's `error.message`, e.g. "Lifetime validation failed, the token is expired."
        message: String,
        /// The request refused, e.g. `GET /v1.0/organization` (no query).
        request: String,
        request_id: Option<String>,
    },
}

impl GraphError {
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Http { status, .. } => Some(*status),
            GraphError::TokenRejected { .. } => Some(401),
            _ => None,
        }
    }

    /// Graph's error code (`Authorization_RequestDenied`, `InvalidAuthenticationToken`, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            GraphError::Http { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            GraphError::Http { request_id, .. }
            | GraphError::Decode { request_id, .. }
            | GraphError::TokenRejected { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// 401/403: the token lacks a permission or role (collectors map this to a skip). A token
    /// Graph rejected outright ([`GraphError::TokenRejected`]) is not a missing permission.
    pub fn is_permission_denied(&self) -> bool {
        matches!(
            self,
            GraphError::Http {
                status: 401 | 403,
                ..
            }
        )
    }

    /// Whether the run cannot go on: Graph rejected the token, or no token could be obtained.
    pub fn is_fatal(&self) -> bool {
        matches!(self, GraphError::TokenRejected { .. } | GraphError::Auth(_))
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// The most of an error body that is read and parsed: Graph's and the identity platform's
/// error bodies are a few hundred bytes; a longer one is cut here (and then not parsed).
pub(crate) const MAX_ERROR_BODY: u64 = 64 * 1024;

/// `error.code`, `error.message` and the request id from a Graph error body, if it has one.
/// Read typed, everything else skipped unbuilt: a body past [`MAX_ERROR_BODY`] (or not JSON)
/// gives empty fields.
pub(crate) fn parse_error_body(body: &[u8]) -> (String, String, Option<String>) {
    if body.len() as u64 > MAX_ERROR_BODY {
        return (String::new(), String::new(), None);
    }
    let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body) else {
        return (String::new(), String::new(), None);
    };
    (
        error.code.unwrap_or_default(),
        error
            .message
            .map(|m| m.chars().take(500).collect())
            .unwrap_or_default(),
        error.request_id,
    )
}

/// `{"error": {...}, ...}`: only `error` is kept.
#[derive(Default, serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorFields,
}

/// `code`, `message` and `innerError.request-id` (the casing of `innerError` varies between
/// services; `innerError` is read as the same shape, keeping only its `request-id`). A field
/// holding another JSON type than expected reads as absent.
#[derive(Default)]
struct ErrorFields {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

/// A string, or `None` for any other JSON value.
#[derive(Default)]
struct MaybeString(Option<String>);

/// The `visit_*` methods of a visitor whose value is `Default`: any JSON value that is not
/// what the visitor reads gives the default, arrays and objects skipped without being built.
macro_rules! default_for_other_values {
    ($t:ty) => {
        fn visit_bool<E>(self, _: bool) -> Result<$t, E> {
            Ok(<$t>::default())
        }
        fn visit_i64<E>(self, _: i64) -> Result<$t, E> {
            Ok(<$t>::default())
        }
        fn visit_u64<E>(self, _: u64) -> Result<$t, E> {
            Ok(<$t>::default())
        }
        fn visit_f64<E>(self, _: f64) -> Result<$t, E> {
            Ok(<$t>::default())
        }
        fn visit_unit<E>(self) -> Result<$t, E> {
            Ok(<$t>::default())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$t, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(<$t>::default())
        }
    };
}

/// Deserialize through a visitor that accepts any JSON value.
macro_rules! deserialize_any_with {
    ($t:ty, $visitor:ident) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                d.deserialize_any($visitor)
            }
        }
    };
}

struct StringVisitor;
impl<'de> Visitor<'de> for StringVisitor {
    type Value = MaybeString;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<MaybeString, E> {
        Ok(MaybeString(Some(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<MaybeString, E> {
        Ok(MaybeString(Some(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeString, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(MaybeString(None))
    }
    default_for_other_values!(MaybeString);
}
deserialize_any_with!(MaybeString, StringVisitor);

struct FieldsVisitor;
impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = ErrorFields;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Graph error object")
    }
    fn visit_str<E>(self, _: &str) -> Result<ErrorFields, E> {
        Ok(ErrorFields::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorFields, A::Error> {
        let mut out = ErrorFields::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "code" => out.code = map.next_value::<MaybeString>()?.0,
                "message" => out.message = map.next_value::<MaybeString>()?.0,
                "request-id" => out.request_id = map.next_value::<MaybeString>()?.0,
                k if k.eq_ignore_ascii_case("innererror") => {
                    let inner = map.next_value::<ErrorFields>()?;
                    out.request_id = out.request_id.or(inner.request_id);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
    default_for_other_values!(ErrorFields);
}
deserialize_any_with!(ErrorFields, FieldsVisitor);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_graph_error_shape() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2025-02-13T10:17:06","request-id":"93b6f17e-c05d-4f45-ad2a-6665c708d8a0"}}}"#;
        let (code, msg, rid) = parse_error_body(body);
        assert_eq!(code, "Authorization_RequestDenied");
        assert!(msg.starts_with("Insufficient"));
        assert_eq!(rid.as_deref(), Some("93b6f17e-c05d-4f45-ad2a-6665c708d8a0"));
        assert_eq!(parse_error_body(b"<html>").0, "");
    }

    #[test]
    fn odd_error_shapes_read_what_they_can() {
        // Other casing of innerError, fields of other types, extra nesting: skipped, not fatal.
        let body = br#"{"extra":[1,[2,{"x":null}]],"error":{"code":7,"message":"m","details":[{"a":1}],"InnerError":{"request-id":"r1","date":{}}}}"#;
        assert_eq!(
            parse_error_body(body),
            (String::new(), "m".to_string(), Some("r1".to_string()))
        );
        let body = br#"{"error":"nope"}"#;
        assert_eq!(parse_error_body(body), (String::new(), String::new(), None));
        let body = br#"{"error":{"code":"C","innerError":"x"}}"#;
        assert_eq!(parse_error_body(body).0, "C");
    }

    #[test]
    fn an_error_body_past_the_cap_is_not_parsed() {
        let mut body = br#"{"error":{"code":"Big","message":""#.to_vec();
        body.resize(MAX_ERROR_BODY as usize + 1, b'a');
        body.extend_from_slice(br#""}}"#);
        assert_eq!(
            parse_error_body(&body),
            (String::new(), String::new(), None)
        );
        // At the cap it is.
        let mut body = br#"{"error":{"code":"Big","message":""#.to_vec();
        body.resize(MAX_ERROR_BODY as usize - 3, b'a');
        body.extend_from_slice(br#""}}"#);
        let (code, message, _) = parse_error_body(&body);
        assert_eq!(code, "Big");
        assert_eq!(message.chars().count(), 500);
    }

    #[test]
    fn display_names_status_code_and_request_id() {
        let e = GraphError::Http {
            method: "GET".into(),
            path: "/v1.0/users".into(),
            status: 503,
            code: "serviceNotAvailable".into(),
            message: "try later".into(),
            request_id: Some("rid-1".into()),
            attempts: 3,
        };
        let s = e.to_string();
        assert!(s.contains("503") && s.contains("serviceNotAvailable") && s.contains("rid-1"));
        assert!(s.contains("after 3 attempts"), "{s}");
        assert_eq!(e.request_id(), Some("rid-1"));
    }
}
