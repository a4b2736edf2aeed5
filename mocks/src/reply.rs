//! What a handler produces before it becomes an HTTP response (or a `$batch` item): the reply
//! itself, the Graph and Entra error bodies, and what an injected fault does to a reply.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::faults::{Fault, RetryAfter};

/// What a handler produces before it becomes an HTTP response (or a `$batch` item).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: ReplyBody,
}

#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Json(Value),
    Text(String, &'static str),
    /// Drop the connection without answering.
    Reset,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Json(body),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn internal() -> Reply {
        graph_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The mock's state lock is poisoned.",
        )
    }
}

/// Graph OData error body.
pub(crate) fn graph_error(status: StatusCode, code: &str, message: &str) -> Reply {
    let request_id = uuid::Uuid::new_v4().to_string();
    Reply::json(
        status,
        json!({
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": request_id,
                    "client-request-id": request_id,
                }
            }
        }),
    )
}

/// Graph's answer to a path segment its metadata does not have.
pub(crate) fn segment_not_found(segment: &str) -> Reply {
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!("Resource not found for the segment '{segment}'."),
    )
}

/// Entra-style OAuth error body.
pub(crate) fn entra_error(status: StatusCode, error: &str, code: u32, description: &str) -> Reply {
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}"
            ),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

fn retry_after_value(r: &RetryAfter) -> String {
    match r {
        RetryAfter::Seconds(s) => s.to_string(),
        RetryAfter::HttpDate(d) => {
            let when = chrono::Utc::now()
                + chrono::Duration::from_std(*d).unwrap_or_else(|_| chrono::Duration::zero())
                + chrono::Duration::seconds(1);
            when.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
        }
    }
}

/// The reply a "short-circuit" fault produces, if it is one.
pub(crate) fn fault_reply(fault: &Fault) -> Option<Reply> {
    match fault {
        Fault::Throttle { retry_after } => {
            let mut r = graph_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Please retry again later.",
            );
            if let ReplyBody::Json(body) = &mut r.body {
                body["error"]["innerError"]["code"] = json!("429");
                body["error"]["innerError"]["status"] = json!("429");
                body["error"]["innerError"]["message"] = json!("Please retry after");
            }
            if let Some(ra) = retry_after {
                r = r.header("Retry-After", retry_after_value(ra));
            }
            Some(r)
        }
        Fault::ServerError {
            status,
            retry_after,
        } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let code = match status.as_u16() {
                503 => "serviceNotAvailable",
                504 => "gatewayTimeout",
                502 => "badGateway",
                _ => "generalException",
            };
            let mut r = graph_error(
                status,
                code,
                "The service is temporarily unavailable (injected fault).",
            );
            if let Some(ra) = retry_after {
                r = r.header("Retry-After", retry_after_value(ra));
            }
            Some(r)
        }
        Fault::ExpiredToken => Some(graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
        )),
        Fault::ConnectionReset => Some(Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::Reset,
        }),
        _ => None,
    }
}

/// Applies a "body" fault to a normal reply. `self_url` is the absolute URL requested.
pub(crate) fn apply_body_fault(reply: &mut Reply, fault: &Fault, self_url: &str) {
    match fault {
        Fault::TruncatedBody => {
            if let ReplyBody::Json(v) = &reply.body {
                let text = v.to_string();
                let cut = text.len() / 2;
                let mut end = cut.max(1).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                reply.body = ReplyBody::Text(text[..end].to_string(), "application/json");
            }
        }
        Fault::NonJsonBody => {
            reply.status = StatusCode::OK;
            reply.body = ReplyBody::Text(
                "<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>The proxy could not reach the upstream server.</h1></body></html>".into(),
                "text/html; charset=utf-8",
            );
        }
        Fault::ForeignNextLink(url) => set_next_link(reply, url),
        Fault::NextLinkLoop => set_next_link(reply, self_url),
        Fault::EndlessNextLinks => {
            if let ReplyBody::Json(Value::Object(o)) = &mut reply.body
                && o.contains_key("value")
            {
                o.insert("value".into(), json!([]));
                set_next_link(reply, &past_the_end(self_url));
            }
        }
        Fault::HugeBody(bytes) => {
            reply.status = StatusCode::OK;
            let head = "{\"value\":[";
            let pad = bytes.saturating_sub(head.len() + 2);
            reply.body =
                ReplyBody::Text(format!("{head}{}]}}", " ".repeat(pad)), "application/json");
        }
        _ => {}
    }
}

/// `url` with its `$skiptoken` moved one page further past the end of any list (a new URL every
/// time, which the mock answers with an empty page).
fn past_the_end(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut offset = 1_000_000;
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.strip_prefix("$skiptoken=") {
            Some(token) => {
                offset =
                    crate::odata::decode_skiptoken(token).map_or(offset, |o| o.max(offset) + 1);
            }
            None => kept.push(pair),
        }
    }
    kept.push("$skiptoken=");
    format!(
        "{base}?{}{}",
        kept.join("&"),
        crate::odata::encode_skiptoken(offset)
    )
}

fn set_next_link(reply: &mut Reply, url: &str) {
    if let ReplyBody::Json(Value::Object(o)) = &mut reply.body
        && o.contains_key("value")
    {
        let value = o.shift_remove("value").unwrap_or(Value::Null);
        o.insert("@odata.nextLink".into(), json!(url));
        o.insert("value".into(), value);
    }
}
