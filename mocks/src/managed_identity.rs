//! Managed identity token endpoints: the VM's IMDS (`GET /metadata/identity/oauth2/token`,
//! `Metadata: true`) and the App Service style endpoint (`GET /msi/token`, `X-IDENTITY-HEADER`).
//!
//! Shapes follow MicrosoftDocs/entra-docs
//! `docs/identity/managed-identities-azure-resources/how-to-use-vm-token.md` (IMDS: string
//! `expires_in`/`expires_on`, `bad_request_102` without the header, `invalid_resource`, and a 400
//! `invalid_request` "Identity not found" for an identity that is not assigned) and
//! MicrosoftDocs/azure-docs `articles/app-service/overview-managed-identity.md` (App Service:
//! `api-version=2019-08-01`, epoch `expires_on`, `client_id` in the answer; its errors are
//! `{"statusCode","message","correlationId"}`, "Unable to load the proper Managed Identity." for
//! an unassigned identity, and 401 for a missing or wrong header, as Azure/azure-sdk-for-js#11595
//! reports). Both mint app-only tokens for the fixture apps marked `managedIdentity`.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::auth::GRAPH_AUDIENCE;
use crate::reply::Reply;
use crate::state::Shared;
use crate::tenant::MockApp;

/// The `IDENTITY_HEADER` the App Service style endpoint expects.
pub const IDENTITY_HEADER: &str = "mock~identity-header~NOT-A-REAL-SECRET";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// How a fixture app is a managed identity (`"managedIdentity": "system" | "user"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManagedIdentityKind {
    /// The resource's own identity: used when no `client_id` is asked for.
    System,
    /// A user-assigned identity: used when its client id is asked for.
    User,
}

/// Routes `segments` here when they name a managed identity endpoint.
pub(crate) fn route(
    shared: &Shared,
    method: &Method,
    segments: &[&str],
    query: &str,
    headers: &HeaderMap,
) -> Option<Reply> {
    let imds = match segments {
        ["metadata", "identity", "oauth2", "token"] => true,
        ["msi", "token"] => false,
        _ => return None,
    };
    let q: HashMap<String, String> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map(|v| v.into_iter().collect())
        .unwrap_or_default();
    Some(if imds {
        shared.imds_token(method, &q, headers)
    } else {
        shared.app_service_token(method, &q, headers)
    })
}

fn imds_error(status: StatusCode, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn app_service_error(status: StatusCode, message: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "statusCode": status.as_u16(),
            "message": message,
            "correlationId": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

fn is_graph(resource: &str) -> bool {
    let r = resource.trim_end_matches('/');
    r.eq_ignore_ascii_case(GRAPH_AUDIENCE) || r.eq_ignore_ascii_case(GRAPH_APP_ID)
}

impl Shared {
    /// The identity asked for: `client_id` names a user-assigned one, none the system one.
    fn managed_identity(&self, client_id: Option<&str>) -> Option<&MockApp> {
        self.tenant
            .apps
            .iter()
            .find(|a| match (a.managed_identity, client_id) {
                (Some(ManagedIdentityKind::User), Some(id)) => a.client_id.eq_ignore_ascii_case(id),
                (Some(ManagedIdentityKind::System), None) => true,
                _ => false,
            })
    }

    fn imds_token(
        &self,
        method: &Method,
        q: &HashMap<String, String>,
        headers: &HeaderMap,
    ) -> Reply {
        if method != Method::GET {
            return imds_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                "The request method is not supported.",
            );
        }
        // The SSRF guard: exactly "true", lower case.
        if headers.get("Metadata").and_then(|v| v.to_str().ok()) != Some("true") {
            return imds_error(
                StatusCode::BAD_REQUEST,
                "bad_request_102",
                "Required metadata header not specified",
            );
        }
        if q.get("api-version")
            .is_none_or(|v| v.as_str() < "2018-02-01")
        {
            return imds_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Required query variable 'api-version' is missing or older than 2018-02-01",
            );
        }
        let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
            return imds_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Required query variable 'resource' is missing",
            );
        };
        if !is_graph(resource) {
            return imds_error(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                &format!(
                    "AADSTS50001: The application named {resource} was not found in the tenant named {}.",
                    self.tenant.id
                ),
            );
        }
        if q.contains_key("object_id") || q.contains_key("msi_res_id") {
            return imds_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Identity not found",
            );
        }
        let Some(app) = self.managed_identity(q.get("client_id").map(String::as_str)) else {
            return imds_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Identity not found",
            );
        };
        let now = chrono::Utc::now().timestamp();
        let life = self.token_lifetime.as_secs();
        Reply::json(
            StatusCode::OK,
            json!({
                "access_token": self.mint_app_token(app),
                "client_id": app.client_id,
                "expires_in": life.to_string(),
                "expires_on": (now + life as i64).to_string(),
                "ext_expires_in": life.to_string(),
                "not_before": now.to_string(),
                "refresh_token": "",
                "resource": resource,
                "token_type": "Bearer",
            }),
        )
    }

    fn app_service_token(
        &self,
        method: &Method,
        q: &HashMap<String, String>,
        headers: &HeaderMap,
    ) -> Reply {
        if method != Method::GET {
            return app_service_error(StatusCode::METHOD_NOT_ALLOWED, "Only GET is supported.");
        }
        if headers
            .get("X-IDENTITY-HEADER")
            .and_then(|v| v.to_str().ok())
            != Some(IDENTITY_HEADER)
        {
            return app_service_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: the X-IDENTITY-HEADER header is missing or invalid.",
            );
        }
        if q.get("api-version").map(String::as_str) != Some("2019-08-01") {
            return app_service_error(
                StatusCode::BAD_REQUEST,
                "The api-version is missing or not supported; use 2019-08-01.",
            );
        }
        let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
            return app_service_error(
                StatusCode::BAD_REQUEST,
                "The resource parameter is required.",
            );
        };
        if !is_graph(resource) {
            return app_service_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "AADSTS500011: The resource principal named {resource} was not found in the tenant named {}.",
                    self.tenant.id
                ),
            );
        }
        let unsupported = ["principal_id", "object_id", "mi_res_id"]
            .iter()
            .any(|k| q.contains_key(*k));
        let app = (!unsupported)
            .then(|| self.managed_identity(q.get("client_id").map(String::as_str)))
            .flatten();
        let Some(app) = app else {
            return app_service_error(
                StatusCode::BAD_REQUEST,
                "Unable to load the proper Managed Identity.",
            );
        };
        let now = chrono::Utc::now().timestamp();
        Reply::json(
            StatusCode::OK,
            json!({
                "access_token": self.mint_app_token(app),
                "expires_on": (now + self.token_lifetime.as_secs() as i64).to_string(),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": app.client_id,
            }),
        )
    }
}

impl crate::MockHandle {
    /// The `IDENTITY_HEADER` value `GET {base}/msi/token` expects.
    pub fn identity_header(&self) -> &'static str {
        IDENTITY_HEADER
    }

    /// `{base}/msi/token`: an `IDENTITY_ENDPOINT` for the App Service style endpoint. (IMDS
    /// answers at `{base}/metadata/identity/oauth2/token`: set the IMDS base to [`base_url`].)
    ///
    /// [`base_url`]: crate::MockHandle::base_url
    pub fn identity_endpoint(&self) -> String {
        format!("{}/msi/token", self.shared.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MockConfig, MockGraph};
    use serde_json::Value;

    #[tokio::test]
    async fn imds_and_app_service_answer_like_azure() {
        let mock = MockGraph::start(MockConfig::fixture("contoso"))
            .await
            .unwrap();
        let user = mock.app("managed-identity-user").unwrap();
        let system = mock.app("managed-identity").unwrap();
        let http = reqwest::Client::new();
        let imds = |metadata: Option<&str>, extra: &str| {
            let mut r = http.get(format!(
                "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fgraph.microsoft.com{extra}",
                mock.base_url()
            ));
            if let Some(m) = metadata {
                r = r.header("Metadata", m);
            }
            r.send()
        };
        let claims = |jwt: &str| -> Value {
            use base64::Engine;
            let p = jwt.split('.').nth(1).unwrap();
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .unwrap(),
            )
            .unwrap()
        };

        let ok: Value = imds(Some("true"), "").await.unwrap().json().await.unwrap();
        assert!(
            ok["expires_in"].is_string() && ok["expires_on"].is_string(),
            "{ok}"
        );
        assert_eq!(ok["token_type"], "Bearer");
        let c = claims(ok["access_token"].as_str().unwrap());
        assert_eq!(c["appid"], system.client_id);
        assert_eq!(c["idtyp"], "app");
        let ok: Value = imds(Some("true"), &format!("&client_id={}", user.client_id))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            claims(ok["access_token"].as_str().unwrap())["appid"],
            user.client_id
        );

        for (metadata, extra, status, error) in [
            (None, "", 400, "bad_request_102"),
            (Some("True"), "", 400, "bad_request_102"),
            (
                Some("true"),
                "&client_id=00000000-0000-0000-0000-000000000000",
                400,
                "invalid_request",
            ),
        ] {
            let r = imds(metadata, extra).await.unwrap();
            assert_eq!(r.status(), status);
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"], error, "{v}");
        }

        let app_service = |header: &str, extra: &str| {
            http.get(format!(
                "{}?resource=https://graph.microsoft.com&api-version=2019-08-01{extra}",
                mock.identity_endpoint()
            ))
            .header("X-IDENTITY-HEADER", header)
            .send()
        };
        let ok: Value = app_service(IDENTITY_HEADER, "")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ok["client_id"], system.client_id);
        assert!(
            ok["expires_on"].as_str().unwrap().parse::<i64>().is_ok(),
            "{ok}"
        );
        let r = app_service("wrong", "").await.unwrap();
        assert_eq!(r.status(), 401);
        let r = app_service(IDENTITY_HEADER, "&client_id=nobody")
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["message"], "Unable to load the proper Managed Identity.");
        assert_eq!(v["statusCode"], 400);
        mock.shutdown().await;
    }
}
