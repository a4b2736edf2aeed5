//! HTTP plumbing: the accept loop, routing a request to the Graph or identity handlers, and
//! applying faults (shared state and recording live in `state.rs`, replies in `reply.rs`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::auth::bearer;
use crate::faults::Site;
use crate::reply::{Reply, ReplyBody, apply_body_fault, entra_error, fault_reply};
use crate::state::Shared;

/// Largest request body the mock accepts.
const MAX_BODY: usize = 4 * 1024 * 1024;

fn to_response(
    reply: Reply,
    request_id: &str,
    client_request_id: Option<&HeaderValue>,
) -> Response<Body> {
    let (body, content_type) = match reply.body {
        ReplyBody::Json(v) => (Body::from(v.to_string()), Some("application/json")),
        ReplyBody::Text(t, ct) => (Body::from(t), Some(ct)),
        ReplyBody::Reset => (Body::empty(), None),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = reply.status;
    let headers = resp.headers_mut();
    if let Some(ct) = content_type
        && let Ok(v) = HeaderValue::from_str(ct)
    {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("request-id", v);
    }
    if let Some(v) = client_request_id {
        headers.insert("client-request-id", v.clone());
    }
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (
            header::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            headers.insert(k, v);
        }
    }
    resp
}

/// Stamps the response's `request-id` into a Graph error body so both agree.
fn align_request_id(reply: &mut Reply, request_id: &str) {
    if let ReplyBody::Json(body) = &mut reply.body
        && let Some(inner) = body.pointer_mut("/error/innerError")
        && let Value::Object(o) = inner
    {
        o.insert("request-id".into(), json!(request_id));
        o.insert("client-request-id".into(), json!(request_id));
    }
}

pub(crate) async fn entry(
    shared: Arc<Shared>,
    abort: Arc<Notify>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Infallible> {
    let received = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = parts.headers.get("client-request-id").cloned();
    let path = parts.uri.path().to_string();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let had_bearer = bearer(&parts.headers).is_some();

    let latency = Duration::from_micros(shared.latency_us.load(Ordering::Relaxed));
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let body = match axum::body::to_bytes(Body::new(body), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => Bytes::new(),
    };

    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let is_graph = matches!(segments.first(), Some(&"v1.0") | Some(&"beta"));
    let is_batch = is_graph && segments.get(1) == Some(&"$batch") && segments.len() == 2;
    let site = if is_batch {
        Site::BatchEnvelope
    } else if is_graph {
        Site::Graph
    } else {
        Site::Identity
    };

    let (delay, fault) = shared.take_faults(&parts.method, &path_and_query, site);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let mut reply = match fault.as_ref().and_then(fault_reply) {
        Some(r) => r,
        None if is_batch => crate::graph::batch(&shared, &segments, &parts.headers, &body).await,
        None if is_graph => crate::graph::handle(
            &shared,
            &parts.method,
            &path_and_query,
            &parts.headers,
            &body,
        ),
        None => identity(
            &shared,
            &parts.method,
            &segments,
            parts.uri.query().unwrap_or(""),
            &parts.headers,
            &body,
        ),
    };
    if let Some(f) = &fault {
        let self_url = format!("{}{}", shared.base_url, path_and_query);
        apply_body_fault(&mut reply, f, &self_url);
    }
    align_request_id(&mut reply, &request_id);
    if is_graph {
        reply = reply.header("OData-Version", "4.0");
        if reply.status == StatusCode::UNAUTHORIZED {
            reply = reply.header(
                "WWW-Authenticate",
                format!(
                    "Bearer realm=\"\", authorization_uri=\"{}/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
                    shared.base_url
                ),
            );
        }
    }
    if matches!(reply.body, ReplyBody::Reset) {
        shared.record(
            &parts.method,
            &path_and_query,
            had_bearer,
            0,
            false,
            received,
        );
        abort.notify_one();
        // The connection task drops the socket; never answer.
        std::future::pending::<()>().await;
    }
    shared.record(
        &parts.method,
        &path_and_query,
        had_bearer,
        reply.status.as_u16(),
        false,
        received,
    );
    if site == Site::Identity {
        shared.count(|s| s.token_requests += 1);
    }
    Ok(to_response(reply, &request_id, client_request_id.as_ref()))
}

fn identity(
    shared: &Shared,
    method: &Method,
    segments: &[&str],
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Reply {
    if let [tenant, "v2.0", ".well-known", "openid-configuration"] = segments {
        return openid_configuration(shared, tenant);
    }
    if let [tenant, "oauth2", "v2.0", "authorize"] = segments {
        return shared.authorize_endpoint(tenant, method, Some(query).filter(|q| !q.is_empty()));
    }
    if let Some(r) = crate::managed_identity::route(shared, method, segments, query, headers)
        .or_else(|| crate::federated::route(shared, method, segments, query, headers))
    {
        return r;
    }
    let endpoint = match segments {
        [tenant, "oauth2", "v2.0", ep] => Some((*tenant, *ep)),
        _ => None,
    };
    let Some((tenant, ep)) = endpoint.filter(|(_, ep)| matches!(*ep, "token" | "devicecode"))
    else {
        return entra_error(
            StatusCode::NOT_FOUND,
            "invalid_request",
            90000,
            "The mock identity platform serves only /{tenant}/oauth2/v2.0/token, /devicecode and /authorize.",
        );
    };
    if method != Method::POST {
        return entra_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            900561,
            "The endpoint only accepts POST requests.",
        );
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let form: Option<HashMap<String, String>> = if is_form {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()
            .map(|pairs| pairs.into_iter().collect())
    } else {
        None
    };
    let Some(mut form) = form else {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must be application/x-www-form-urlencoded and contain the parameter 'grant_type'.",
        );
    };
    // client_secret_basic: credentials in the Authorization header (what oauth2 clients default to).
    if let Some((id, secret)) = basic_credentials(headers) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }
    match ep {
        "token" if form.get("grant_type").map(String::as_str) == Some("authorization_code") => {
            shared.authorization_code_grant(tenant, &form)
        }
        "token" => shared.token_endpoint(tenant, &form),
        _ => shared.devicecode_endpoint(tenant, &form),
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    let decode = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
    };
    Some((decode(id)?, decode(secret)?))
}

/// OIDC discovery document, so clients that discover endpoints find the mock's own.
fn openid_configuration(shared: &Shared, tenant: &str) -> Reply {
    if !shared.is_own_tenant(tenant) && !matches!(tenant, "organizations" | "common") {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            90002,
            &format!("Tenant '{tenant}' not found."),
        );
    }
    let base = &shared.base_url;
    let tid = &shared.tenant.id;
    Reply::json(
        StatusCode::OK,
        json!({
            "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
            "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
            "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{base}/{tid}/v2.0"),
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": base.trim_start_matches("http://"),
        }),
    )
}

/// Binds 127.0.0.1:`port` (0 = any free port).
pub(crate) async fn bind(port: u16) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Accepts connections until `shutdown` changes (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    serve_routed(listener, move |_| shared.clone(), shutdown).await
}

/// As [`serve`], with `route` picking the tenant state that answers each request (one address
/// for several tenants).
pub(crate) async fn serve_routed<R>(
    listener: TcpListener,
    route: R,
    mut shutdown: watch::Receiver<bool>,
) where
    R: Fn(&Request<hyper::body::Incoming>) -> Arc<Shared> + Send + Sync + 'static,
{
    let route = Arc::new(route);
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let route = route.clone();
                let mut stop = shutdown.clone();
                tokio::spawn(async move {
                    let abort = Arc::new(Notify::new());
                    let abort_for_service = abort.clone();
                    let service = hyper::service::service_fn(move |req| {
                        entry(route(&req), abort_for_service.clone(), req)
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = conn => {}
                        _ = abort.notified() => {}
                        _ = stop.changed() => {}
                    }
                });
            }
        }
    }
}
