//! End-to-end tests of the mock over real HTTP.

use std::time::{Duration, Instant};

use mock_graph::{Fault, FaultRule, MockConfig, MockGraph, RetryAfter};
use serde_json::{Value, json};

mod common;
use common::{TestResult, client};

async fn start(page_size: usize) -> Result<MockGraph, mock_graph::MockError> {
    let mut cfg = MockConfig::fixture("contoso");
    cfg.page_size = page_size;
    MockGraph::start(cfg).await
}

async fn secret_token(mock: &MockGraph, app: &str) -> Result<String, Box<dyn std::error::Error>> {
    let app = mock.app(app).ok_or("no such app")?;
    common::client_credentials_token(&mock.token_url(), &app.client_id, &app.client_secret).await
}

async fn get(
    url: &str,
    token: &str,
) -> Result<(u16, reqwest::header::HeaderMap, String), reqwest::Error> {
    let resp = client().get(url).bearer_auth(token).send().await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Ok((status, headers, resp.text().await?))
}

async fn get_json(url: &str, token: &str) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let (status, headers, text) = get(url, token).await?;
    assert!(
        headers.contains_key("request-id"),
        "request-id header on {url}"
    );
    Ok((status, serde_json::from_str(&text)?))
}

/// Decodes the payload of a JWT without verifying it.
fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

#[tokio::test]
async fn client_secret_token_and_paged_users_with_select() -> TestResult {
    let mock = start(3).await?;
    let token = secret_token(&mock, "auditor").await?;
    let claims = jwt_claims(&token);
    assert_eq!(claims["tid"], json!(mock.tenant_id()));
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["idtyp"], "app");
    assert!(
        claims["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("User.Read.All")))
    );

    let mut url = format!(
        "{}/v1.0/users?$select=id,userPrincipalName,assignedPlans&$top=999",
        mock.base_url()
    );
    let mut upns = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = get_json(&url, &token).await?;
        assert_eq!(status, 200);
        pages += 1;
        let items = body["value"].as_array().ok_or("value")?;
        assert!(items.len() <= 3, "server page size caps $top");
        for u in items {
            assert!(u.get("displayName").is_none(), "$select projects");
            assert!(u.get("assignedPlans").is_some());
            upns.push(
                u["userPrincipalName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&mock.base_url()),
                    "nextLink on the mock host"
                );
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(upns.len(), 8);
    assert!(upns.contains(&"mgarcia@contoso.com".to_string()));

    // Without $select only the default properties come back.
    let (_, body) = get_json(
        &format!("{}/v1.0/users/jdoe@contoso.com", mock.base_url()),
        &token,
    )
    .await?;
    assert_eq!(body["displayName"], "John Doe");
    assert!(body.get("assignedLicenses").is_none());
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn token_endpoint_errors_use_entra_shape() -> TestResult {
    let mock = start(100).await?;
    let app = mock.app("auditor").ok_or("app")?;
    let resp = client()
        .post(mock.token_url())
        .form(&[
            ("client_id", app.client_id.as_str()),
            ("client_secret", "wrong"),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await?;
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["content-type"]
            .to_str()?
            .starts_with("application/json")
    );
    let body: Value = resp.json().await?;
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.starts_with("AADSTS7000215:"))
    );
    assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());

    // Unknown client and a scope without /.default.
    let resp = client()
        .post(mock.token_url())
        .form(&[
            ("client_id", "00000000-1111-2222-3333-444444444444"),
            ("client_secret", "x"),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await?;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await?["error_codes"], json!([700016]));
    let resp = client()
        .post(mock.token_url())
        .form(&[
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("scope", "User.Read.All"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await?;
    assert_eq!(resp.json::<Value>().await?["error"], "invalid_scope");
    // The tenant can also be named by a verified domain.
    let resp = client()
        .post(format!(
            "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
            mock.base_url()
        ))
        .form(&[
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn device_code_pending_then_token_then_refresh() -> TestResult {
    let mock = start(100).await?;
    let cli = mock.app("cli").ok_or("app")?;
    let base = mock.base_url();
    let dc: Value = client()
        .post(format!("{base}/organizations/oauth2/v2.0/devicecode"))
        .form(&[
            ("client_id", cli.client_id.as_str()),
            (
                "scope",
                "https://graph.microsoft.com/Policy.Read.All offline_access",
            ),
        ])
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(dc["interval"], 1);
    assert!(dc["expires_in"].is_u64());
    assert!(dc["user_code"].is_string() && dc["verification_uri"].is_string());
    let device_code = dc["device_code"].as_str().ok_or("device_code")?;
    let poll = || {
        client()
            .post(mock.token_url())
            .form(&[
                ("client_id", cli.client_id.as_str()),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
            ])
            .send()
    };
    let first = poll().await?;
    assert_eq!(first.status(), 400);
    let first: Value = first.json().await?;
    assert_eq!(first["error"], "authorization_pending");
    assert_eq!(first["error_codes"], json!([70016]));
    let second: Value = poll().await?.json().await?;
    let token = second["access_token"].as_str().ok_or("token")?;
    let claims = jwt_claims(token);
    assert_eq!(claims["idtyp"], "user");
    assert_eq!(claims["upn"], "it-admin@contoso.com");
    assert!(
        claims["scp"]
            .as_str()
            .is_some_and(|s| s.split(' ').any(|x| x == "Policy.Read.All"))
    );
    // The code is single-use.
    assert_eq!(poll().await?.status(), 400);

    // Delegated tokens can read the MDM scope (beta), with includedGroups expanded.
    let (status, body) = get_json(
        &format!("{base}/beta/policies/mobileDeviceManagementPolicies?$expand=includedGroups"),
        token,
    )
    .await?;
    assert_eq!(status, 200);
    let intune = body["value"]
        .as_array()
        .and_then(|v| {
            v.iter()
                .find(|p| p["id"] == "0000000a-0000-0000-c000-000000000000")
        })
        .ok_or("intune policy")?;
    assert_eq!(
        intune["@odata.type"],
        "#microsoft.graph.mobileDeviceManagementPolicy"
    );
    assert_eq!(intune["appliesTo"], "selected");
    assert_eq!(intune["includedGroups"][0]["displayName"], "Intune Users");
    // …but the route does not exist in v1.0 (refused on purpose).
    mock.expect_schema_refusals();
    let (status, _) = get_json(
        &format!("{base}/v1.0/policies/mobileDeviceManagementPolicies"),
        token,
    )
    .await?;
    assert_eq!(status, 400);

    let refresh = second["refresh_token"].as_str().ok_or("refresh_token")?;
    let renewed: Value = client()
        .post(mock.token_url())
        .form(&[
            ("client_id", cli.client_id.as_str()),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            (
                "scope",
                "https://graph.microsoft.com/.default offline_access",
            ),
        ])
        .send()
        .await?
        .json()
        .await?;
    assert!(renewed["access_token"].is_string());
    mock.shutdown().await;
    Ok(())
}

struct TestCert {
    cert_pem: String,
    key_pem: String,
    x5t_s256: String,
}

fn make_cert() -> Result<TestCert, Box<dyn std::error::Error>> {
    use base64::Engine;
    use sha2::Digest;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
    let params = rcgen::CertificateParams::new(vec!["enroll-doctor-test".to_string()])?;
    let cert = params.self_signed(&key)?;
    let x5t_s256 =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(cert.der()));
    Ok(TestCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        x5t_s256,
    })
}

fn assertion(
    cert: &TestCert,
    alg: jsonwebtoken::Algorithm,
    client_id: &str,
    aud: &str,
    exp_offset: i64,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut header = jsonwebtoken::Header::new(alg);
    header.x5t_s256 = Some(cert.x5t_s256.clone());
    let now = chrono_now();
    let claims = json!({"aud": aud, "iss": client_id, "sub": client_id,
                        "jti": format!("{now}-{exp_offset}"), "nbf": now - 5, "exp": now + exp_offset});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(cert.key_pem.as_bytes())?;
    Ok(jsonwebtoken::encode(&header, &claims, &key)?)
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

async fn assertion_status(
    mock: &MockGraph,
    client_id: &str,
    jwt: &str,
) -> Result<(u16, Value), reqwest::Error> {
    let resp = client()
        .post(mock.token_url())
        .form(&[
            ("client_id", client_id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await?))
}

#[tokio::test]
async fn certificate_assertions_accepted_and_rejected() -> TestResult {
    let mock = start(100).await?;
    let app = mock.app("cert-only").ok_or("app")?;
    let id = app.client_id.as_str();
    let aud = mock.token_url();
    let cert = make_cert()?;
    let other = make_cert()?;
    // Not registered yet.
    let jwt = assertion(&cert, jsonwebtoken::Algorithm::PS256, id, &aud, 600)?;
    let (status, body) = assertion_status(&mock, id, &jwt).await?;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (401, json!([700027]))
    );

    assert!(mock.register_certificate(id, &cert.cert_pem));
    for alg in [
        jsonwebtoken::Algorithm::PS256,
        jsonwebtoken::Algorithm::RS256,
    ] {
        let jwt = assertion(&cert, alg, id, &aud, 600)?;
        let (status, body) = assertion_status(&mock, id, &jwt).await?;
        assert_eq!(status, 200, "{alg:?}: {body}");
        assert_eq!(
            jwt_claims(body["access_token"].as_str().unwrap_or_default())["appid"],
            json!(id)
        );
    }
    // Wrong audience, expired, wrong iss/sub, and a signature by another key under the same x5t#S256.
    let wrong_aud = assertion(
        &cert,
        jsonwebtoken::Algorithm::PS256,
        id,
        "https://login.microsoftonline.com/x/oauth2/v2.0/token",
        600,
    )?;
    assert_eq!(assertion_status(&mock, id, &wrong_aud).await?.0, 401);
    let expired = assertion(&cert, jsonwebtoken::Algorithm::RS256, id, &aud, -60)?;
    let (status, body) = assertion_status(&mock, id, &expired).await?;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (401, json!([700024]))
    );
    let other_app = mock.app("auditor").ok_or("app")?;
    let wrong_iss = assertion(
        &cert,
        jsonwebtoken::Algorithm::PS256,
        &other_app.client_id,
        &aud,
        600,
    )?;
    assert_eq!(assertion_status(&mock, id, &wrong_iss).await?.0, 401);
    let forged = TestCert {
        x5t_s256: cert.x5t_s256.clone(),
        ..other
    };
    let forged = assertion(&forged, jsonwebtoken::Algorithm::PS256, id, &aud, 600)?;
    let (status, body) = assertion_status(&mock, id, &forged).await?;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("invalid_client"))
    );
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn permissions_are_enforced_per_route() -> TestResult {
    let mock = start(100).await?;
    let base = mock.base_url();
    let limited = secret_token(&mock, "limited").await?;
    let (status, body) = get_json(&format!("{base}/v1.0/devices"), &limited).await?;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("Authorization_RequestDenied"))
    );
    assert!(body["error"]["innerError"]["request-id"].is_string());
    let (status, body) = get_json(
        &format!("{base}/beta/deviceManagement/deviceEnrollmentConfigurations"),
        &limited,
    )
    .await?;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("Forbidden"))
    );
    let (status, _) = get_json(&format!("{base}/v1.0/users?$select=id"), &limited).await?;
    assert_eq!(status, 200);

    // A higher permission (Directory.Read.All) is accepted for directory reads.
    let reader = secret_token(&mock, "directory-reader").await?;
    assert_eq!(
        get_json(&format!("{base}/v1.0/devices"), &reader).await?.0,
        200
    );
    assert_eq!(
        get_json(
            &format!("{base}/v1.0/deviceManagement/managedDevices"),
            &reader
        )
        .await?
        .0,
        403
    );

    // App-only tokens get 401 on the mobility policies, like real Graph.
    let auditor = secret_token(&mock, "auditor").await?;
    for path in [
        "mobileDeviceManagementPolicies",
        "mobileAppManagementPolicies",
    ] {
        let (status, _) = get_json(&format!("{base}/beta/policies/{path}"), &auditor).await?;
        assert_eq!(status, 401);
    }
    // Delegated token without Policy.Read.All: 403.
    let weak = mock.token_for("cli-limited").ok_or("token")?;
    assert_eq!(
        get_json(
            &format!("{base}/beta/policies/mobileDeviceManagementPolicies"),
            &weak
        )
        .await?
        .0,
        403
    );

    // Missing, forged and expired tokens.
    let (status, body) = get_json(&format!("{base}/v1.0/organization"), "").await?;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("InvalidAuthenticationToken"))
    );
    let (status, _) = get_json(
        &format!("{base}/v1.0/organization"),
        "eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
    )
    .await?;
    assert_eq!(status, 401);
    mock.shutdown().await;

    let mut cfg = MockConfig::fixture("contoso");
    cfg.token_lifetime = Duration::ZERO;
    let mock = MockGraph::start(cfg).await?;
    let token = secret_token(&mock, "auditor").await?;
    let (status, body) =
        get_json(&format!("{}/v1.0/organization", mock.base_url()), &token).await?;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn tenant_routes_filters_and_versions() -> TestResult {
    let mock = start(100).await?;
    let base = mock.base_url();
    let token = mock.token_for("auditor").ok_or("token")?;

    let (_, org) = get_json(
        &format!(
            "{base}/v1.0/organization?$select=id,mobileDeviceManagementAuthority,verifiedDomains"
        ),
        &token,
    )
    .await?;
    assert_eq!(org["value"][0]["mobileDeviceManagementAuthority"], "intune");
    let (_, dm) = get_json(
        &format!("{base}/v1.0/deviceManagement?$select=subscriptionState"),
        &token,
    )
    .await?;
    assert_eq!(dm["subscriptionState"], "active");

    let (_, devices) = get_json(
        &format!("{base}/v1.0/devices?$filter=deviceId eq '3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15'"),
        &token,
    )
    .await?;
    assert_eq!(devices["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(devices["value"][0]["trustType"], "ServerAd");
    let (_, devices) = get_json(
        &format!("{base}/v1.0/devices?$filter=displayName eq 'PC0077'"),
        &token,
    )
    .await?;
    assert_eq!(
        devices["value"][0]["deviceId"],
        "a81d6c0f-3e2b-4f7a-b5c9-0e1d2c3b4a59"
    );
    let (_, md) = get_json(&format!("{base}/v1.0/deviceManagement/managedDevices?$filter=azureADDeviceId eq '3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15'"), &token).await?;
    assert_eq!(md["value"][0]["userPrincipalName"], "jdoe@contoso.com");
    assert!(
        md["value"][0].get("joinType").is_none(),
        "beta-only property hidden in v1.0"
    );
    let (status, body) = get_json(
        &format!("{base}/v1.0/devices?$filter=startswith(displayName,'PC')"),
        &token,
    )
    .await?;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("BadRequest"))
    );

    // Single-platform restrictions exist only in beta.
    let (_, v1) = get_json(
        &format!("{base}/v1.0/deviceManagement/deviceEnrollmentConfigurations"),
        &token,
    )
    .await?;
    let (_, beta) = get_json(
        &format!("{base}/beta/deviceManagement/deviceEnrollmentConfigurations?$expand=assignments"),
        &token,
    )
    .await?;
    let single = "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration";
    assert!(
        v1["value"]
            .as_array()
            .is_some_and(|v| v.iter().all(|c| c["@odata.type"] != single))
    );
    let pilot = beta["value"]
        .as_array()
        .and_then(|v| v.iter().find(|c| c["displayName"] == "Pilot Windows block"))
        .ok_or("pilot restriction")?;
    assert_eq!(pilot["@odata.type"], single);
    assert_eq!(pilot["platformType"], "windows");
    assert_eq!(pilot["platformRestriction"]["platformBlocked"], true);
    assert_eq!(
        pilot["assignments"][0]["target"]["@odata.type"],
        "#microsoft.graph.groupAssignmentTarget"
    );
    let id = pilot["id"].as_str().ok_or("id")?;
    let (_, assignments) = get_json(
        &format!("{base}/beta/deviceManagement/deviceEnrollmentConfigurations/{id}/assignments"),
        &token,
    )
    .await?;
    assert_eq!(assignments["value"].as_array().map(Vec::len), Some(1));

    // Group membership is transitive (kwong is in Intune Users through a nested group).
    let (_, groups) = get_json(
        &format!("{base}/v1.0/groups?$filter=displayName eq 'Intune Users'"),
        &token,
    )
    .await?;
    let scope_group = groups["value"][0]["id"]
        .as_str()
        .ok_or("group")?
        .to_string();
    let check = |user: &'static str| {
        let token = token.clone();
        let url = format!("{base}/v1.0/users/{user}/checkMemberGroups");
        let body = json!({"groupIds": [scope_group.clone()]});
        async move {
            let v: Value = client()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await?
                .json()
                .await?;
            Ok::<usize, reqwest::Error>(v["value"].as_array().map(Vec::len).unwrap_or(0))
        }
    };
    assert_eq!(check("kwong@contoso.com").await?, 1);
    assert_eq!(check("mgarcia@contoso.com").await?, 0);
    let (_, tm) = get_json(
        &format!("{base}/v1.0/groups/{scope_group}/transitiveMembers/microsoft.graph.user"),
        &token,
    )
    .await?;
    assert!(tm["value"].as_array().is_some_and(|v| {
        v.iter()
            .any(|u| u["userPrincipalName"] == "kwong@contoso.com")
    }));

    let (_, lic) = get_json(
        &format!("{base}/v1.0/users/intern@contoso.com/licenseDetails"),
        &token,
    )
    .await?;
    let plans = lic["value"][0]["servicePlans"].as_array().ok_or("plans")?;
    assert!(
        plans.iter().any(|p| p["servicePlanName"] == "INTUNE_O365"
            && p["provisioningStatus"] == "PendingActivation")
    );
    let (_, ev) = get_json(
        &format!("{base}/beta/deviceManagement/troubleshootingEvents"),
        &token,
    )
    .await?;
    assert!(ev["value"].as_array().is_some_and(|v| {
        v.iter()
            .all(|e| e["@odata.type"] == "#microsoft.graph.enrollmentTroubleshootingEvent")
    }));
    let (status, _) = get_json(
        &format!("{base}/v1.0/identity/conditionalAccess/policies"),
        &token,
    )
    .await?;
    assert_eq!(status, 200);
    let (_, reg) = get_json(
        &format!("{base}/v1.0/policies/deviceRegistrationPolicy"),
        &token,
    )
    .await?;
    assert_eq!(
        reg["azureADJoin"]["allowedToJoin"]["@odata.type"],
        "#microsoft.graph.allDeviceRegistrationMembership"
    );
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn batch_answers_out_of_order_and_faults_items_individually() -> TestResult {
    let mock = start(100).await?;
    let base = mock.base_url();
    let token = mock.token_for("auditor").ok_or("token")?;
    mock.inject(
        Fault::Throttle {
            retry_after: Some(RetryAfter::Seconds(2)),
        }
        .on("/v1.0/devices")
        .times(1),
    );
    // Item 3 is beta only: refused on purpose.
    mock.expect_schema_refusals();
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/users/jdoe@contoso.com/licenseDetails"},
        {"id": "2", "method": "GET", "url": "/devices?$select=id,deviceId"},
        {"id": "3", "method": "GET", "url": "/policies/mobileDeviceManagementPolicies"},
        {"id": "4", "method": "POST", "url": "/users/kwong@contoso.com/checkMemberGroups",
         "headers": {"Content-Type": "application/json"}, "body": {"groupIds": ["9c4e2b71-5d3a-4f8e-b6c1-2a7d8e9f0b34"]}}
    ]});
    let resp = client()
        .post(format!("{base}/v1.0/$batch"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await?;
    let responses = out["responses"].as_array().ok_or("responses")?;
    let ids: Vec<&str> = responses.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), 4);
    assert_ne!(
        ids,
        vec!["1", "2", "3", "4"],
        "order differs from the request"
    );
    let by_id = |id: &str| {
        responses
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by_id("1")["status"], 200);
    assert_eq!(by_id("2")["status"], 429);
    assert_eq!(by_id("2")["headers"]["Retry-After"], "2");
    assert_eq!(
        by_id("3")["status"],
        400,
        "beta-only URL inside a v1.0 batch"
    );
    assert_eq!(
        by_id("4")["body"]["value"],
        json!(["9c4e2b71-5d3a-4f8e-b6c1-2a7d8e9f0b34"])
    );
    assert_eq!(mock.stats().batch_items, 4);

    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/organization"}))
        .collect();
    let resp = client()
        .post(format!("{base}/v1.0/$batch"))
        .bearer_auth(&token)
        .json(&json!({"requests": too_many}))
        .send()
        .await?;
    assert_eq!(resp.status(), 400);
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn every_fault_kind() -> TestResult {
    let mock = start(2).await?;
    let base = mock.base_url();
    let token = mock.token_for("auditor").ok_or("token")?;
    let users = format!("{base}/v1.0/users?$select=id");

    mock.inject(
        Fault::Latency(Duration::from_millis(300))
            .on("/v1.0/users")
            .times(1),
    );
    let started = Instant::now();
    assert_eq!(get(&users, &token).await?.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    mock.inject(
        Fault::Throttle {
            retry_after: Some(RetryAfter::Seconds(7)),
        }
        .times(1),
    );
    let (status, headers, body) = get(&users, &token).await?;
    assert_eq!((status, headers["retry-after"].to_str()?), (429, "7"));
    assert_eq!(
        serde_json::from_str::<Value>(&body)?["error"]["code"],
        "TooManyRequests"
    );
    assert_eq!(get(&users, &token).await?.0, 200, "times(1) expires");

    mock.inject(
        Fault::Throttle {
            retry_after: Some(RetryAfter::HttpDate(Duration::from_secs(30))),
        }
        .times(1),
    );
    let (_, headers, _) = get(&users, &token).await?;
    let date = headers["retry-after"].to_str()?;
    assert!(date.ends_with(" GMT"), "{date}");
    // An IMF-fixdate about 30 s ahead (whole seconds, never earlier than asked).
    let ahead = chrono::DateTime::parse_from_rfc2822(date)?.timestamp() - chrono_now();
    assert!((30..=32).contains(&ahead), "{date} is {ahead} s ahead");

    for status in [500u16, 503, 504] {
        mock.inject(
            Fault::ServerError {
                status,
                retry_after: None,
            }
            .times(1),
        );
        assert_eq!(get(&users, &token).await?.0, status);
    }

    mock.inject(Fault::ConnectionReset.times(1));
    assert!(get(&users, &token).await.is_err(), "connection dropped");

    mock.inject(Fault::TruncatedBody.times(1));
    let (status, _, body) = get(&users, &token).await?;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).is_err());

    mock.inject(Fault::NonJsonBody.times(1));
    let (_, headers, body) = get(&users, &token).await?;
    assert!(headers["content-type"].to_str()?.starts_with("text/html"));
    assert!(body.starts_with("<!DOCTYPE html>"));

    mock.inject(Fault::ForeignNextLink("https://evil.example.com/v1.0/users".into()).times(1));
    let (_, body) = get_json(&users, &token).await?;
    assert_eq!(
        body["@odata.nextLink"],
        "https://evil.example.com/v1.0/users"
    );

    mock.inject(FaultRule {
        route_prefix: Some("/v1.0/users".into()),
        times: Some(1),
        fault: Fault::NextLinkLoop,
        method: None,
        sample: None,
    });
    let (_, body) = get_json(&users, &token).await?;
    assert_eq!(body["@odata.nextLink"], json!(users));

    mock.inject(Fault::ExpiredToken.times(1));
    let (status, body) = get_json(&users, &token).await?;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("InvalidAuthenticationToken"))
    );

    mock.inject(Fault::ServerError {
        status: 503,
        retry_after: None,
    });
    mock.clear_faults();
    assert_eq!(get(&users, &token).await?.0, 200);

    // Global latency and request recording.
    mock.set_latency(Duration::from_millis(50));
    let started = Instant::now();
    get(&users, &token).await?;
    assert!(started.elapsed() >= Duration::from_millis(50));
    let recorded = mock.requests();
    assert!(
        recorded.iter().any(|r| r.status == 0),
        "the reset is recorded"
    );
    assert!(recorded.iter().all(|r| r.had_bearer));
    assert!(mock.stats().throttled >= 2);
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn generated_tenant_pages_lazily() -> TestResult {
    let started = Instant::now();
    let mock = MockGraph::start(MockConfig::generated(100_000, 42)).await?;
    let token = mock.token_for("auditor").ok_or("token")?;
    let client = client();
    let (_, first) = {
        let resp = client
            .get(format!(
                "{}/v1.0/users?$select=id,userPrincipalName,assignedPlans&$top=999&$count=true",
                mock.base_url()
            ))
            .bearer_auth(&token)
            .header("ConsistencyLevel", "eventual")
            .send()
            .await?;
        (resp.status(), resp.json::<Value>().await?)
    };
    assert_eq!(first["@odata.count"], 100_000);
    assert_eq!(first["value"].as_array().map(Vec::len), Some(999));
    let upn = first["value"][5]["userPrincipalName"]
        .as_str()
        .ok_or("upn")?;
    let (status, user) = get_json(&format!("{}/v1.0/users/{upn}", mock.base_url()), &token).await?;
    assert_eq!(
        (status, user["userPrincipalName"].as_str()),
        (200, Some(upn))
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // Same seed, same tenant id (whatever the size).
    let again = MockGraph::start(MockConfig::generated(10, 42)).await?;
    assert_eq!(again.tenant_id(), mock.tenant_id());
    again.shutdown().await;
    mock.shutdown().await;
    Ok(())
}

#[test]
fn blocking_server_runs_on_its_own_thread() -> TestResult {
    use std::io::{Read, Write};
    let mock = MockGraph::spawn_blocking(MockConfig::fixture("fabrikam"))?;
    let addr = mock.base_url().trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /v1.0/organization HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.to_ascii_lowercase().contains("request-id:"));
    assert_eq!(mock.requests().len(), 1);
    drop(mock);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "stopped on drop"
    );
    Ok(())
}

#[tokio::test]
async fn identity_extras_basic_auth_discovery_and_faults() -> TestResult {
    use base64::Engine;
    let mock = start(100).await?;
    let app = mock.app("auditor").ok_or("app")?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        app.client_id,
        app.client_secret.replace('~', "%7E")
    ));
    let form = [
        ("scope", "https://graph.microsoft.com/.default"),
        ("grant_type", "client_credentials"),
    ];
    let resp = client()
        .post(mock.token_url())
        .header("Authorization", format!("Basic {basic}"))
        .form(&form)
        .send()
        .await?;
    assert_eq!(resp.status(), 200, "client_secret_basic");

    let oidc: Value = client()
        .get(format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            mock.base_url(),
            mock.tenant_id()
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(oidc["token_endpoint"], json!(mock.token_url()));

    // Global rules leave the identity endpoints alone; a prefix targets them.
    mock.inject(
        Fault::ServerError {
            status: 503,
            retry_after: Some(RetryAfter::Seconds(1)),
        }
        .times(1),
    );
    let token = secret_token(&mock, "auditor").await?;
    mock.clear_faults();
    let prefix = format!("/{}/oauth2", mock.tenant_id());
    mock.inject(
        Fault::Throttle {
            retry_after: Some(RetryAfter::Seconds(1)),
        }
        .on(&prefix)
        .times(1),
    );
    let resp = client()
        .post(mock.token_url())
        .header("Authorization", format!("Basic {basic}"))
        .form(&form)
        .send()
        .await?;
    assert_eq!(resp.status(), 429);
    assert!(mock.stats().token_requests >= 3);
    assert_eq!(
        get(&format!("{}/v1.0/organization", mock.base_url()), &token)
            .await?
            .0,
        200
    );
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fabrikam_and_northwind_tell_their_stories() -> TestResult {
    let mock = MockGraph::start(MockConfig::fixture("fabrikam")).await?;
    let base = mock.base_url();
    let app_token = mock.token_for("auditor").ok_or("token")?;
    let user_token = mock.token_for("cli").ok_or("token")?;
    let (_, mdm) = get_json(
        &format!("{base}/beta/policies/mobileDeviceManagementPolicies"),
        &user_token,
    )
    .await?;
    let scope = |id: &str| {
        mdm["value"]
            .as_array()
            .and_then(|v| v.iter().find(|p| p["id"] == id))
            .map(|p| p["appliesTo"].clone())
    };
    assert_eq!(
        scope("0000000a-0000-0000-c000-000000000000"),
        Some(json!("none"))
    );
    assert_eq!(
        scope("d4ebce55-015a-49b5-a083-c84d1797ae8c"),
        Some(json!("selected"))
    );
    let (_, reg) = get_json(
        &format!("{base}/v1.0/policies/deviceRegistrationPolicy"),
        &app_token,
    )
    .await?;
    assert_eq!(
        reg["azureADJoin"]["allowedToJoin"]["@odata.type"],
        "#microsoft.graph.noDeviceRegistrationMembership"
    );
    let (_, ben) = get_json(
        &format!("{base}/v1.0/users/ben.carter@fabrikam.com/managedDevices?$select=id"),
        &app_token,
    )
    .await?;
    // Five personal devices Intune counts and two Entra-joined laptops it does not.
    assert_eq!(ben["value"].as_array().map(Vec::len), Some(7));
    let (_, hana) = get_json(&format!("{base}/v1.0/users/hana.sato@fabrikam.com?$select=licenseAssignmentStates,assignedLicenses"), &app_token).await?;
    assert_eq!(
        hana["licenseAssignmentStates"][0]["error"],
        "CountViolation"
    );
    let (_, dupes) = get_json(
        &format!("{base}/v1.0/devices?$filter=displayName eq 'FAB-PC-0207'"),
        &app_token,
    )
    .await?;
    assert_eq!(dupes["value"].as_array().map(Vec::len), Some(2));
    let (_, ca) = get_json(
        &format!("{base}/v1.0/identity/conditionalAccess/policies"),
        &app_token,
    )
    .await?;
    assert!(ca["value"].as_array().is_some_and(|v| v.iter().any(|p| {
        p["conditions"]["applications"]["includeApplications"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("d4ebce55-015a-49b5-a083-c84d1797ae8c")))
    })));
    mock.shutdown().await;

    let mock = MockGraph::start(MockConfig::fixture("northwind")).await?;
    let base = mock.base_url();
    let token = mock.token_for("auditor").ok_or("token")?;
    let (_, org) = get_json(&format!("{base}/v1.0/organization"), &token).await?;
    assert_eq!(
        org["value"][0]["mobileDeviceManagementAuthority"],
        "office365"
    );
    let (_, configs) = get_json(
        &format!("{base}/v1.0/deviceManagement/deviceEnrollmentConfigurations"),
        &token,
    )
    .await?;
    let default = configs["value"]
        .as_array()
        .and_then(|v| {
            v.iter().find(|c| {
                c["@odata.type"]
                    == "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration"
            })
        })
        .ok_or("default restriction")?;
    assert_eq!(default["windowsRestriction"]["platformBlocked"], true);
    assert!(
        default["windowsRestriction"].get("blockedSkus").is_none(),
        "beta-only field hidden in v1.0"
    );
    let (_, skus) = get_json(&format!("{base}/v1.0/subscribedSkus"), &token).await?;
    assert!(skus["value"].as_array().is_some_and(|v| v.iter().all(|s| {
        s["servicePlans"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p["servicePlanName"] != "INTUNE_A"))
    })));
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn count_segment_me_and_limited_directory_objects() -> TestResult {
    let mock = start(100).await?;
    let base = mock.base_url();
    let token = mock.token_for("auditor").ok_or("token")?;
    let resp = client()
        .get(format!("{base}/v1.0/users/$count"))
        .bearer_auth(&token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await?;
    assert!(
        resp.headers()["content-type"]
            .to_str()?
            .starts_with("text/plain")
    );
    assert_eq!(resp.text().await?, "8");
    assert_eq!(
        get(&format!("{base}/v1.0/users/$count"), &token).await?.0,
        400,
        "needs ConsistencyLevel"
    );

    let me = mock.token_for("cli").ok_or("token")?;
    let (_, body) = get_json(&format!("{base}/v1.0/me?$select=userPrincipalName"), &me).await?;
    assert_eq!(body["userPrincipalName"], "it-admin@contoso.com");
    assert_eq!(
        get(&format!("{base}/v1.0/me"), &token).await?.0,
        400,
        "/me needs a user"
    );

    // Without group permissions, transitiveMemberOf returns only ids and types.
    let limited = mock.token_for("limited").ok_or("token")?;
    let (status, body) = get_json(
        &format!("{base}/v1.0/users/kwong@contoso.com/transitiveMemberOf"),
        &limited,
    )
    .await?;
    assert_eq!(status, 200);
    let groups = body["value"].as_array().ok_or("value")?;
    assert_eq!(
        groups.len(),
        3,
        "engineering, Intune Users (nested), All Staff"
    );
    assert!(groups.iter().all(|g| g.get("displayName").is_none() && g["@odata.type"] == "#microsoft.graph.group"));
    let (_, body) = get_json(
        &format!("{base}/v1.0/users/kwong@contoso.com/transitiveMemberOf"),
        &token,
    )
    .await?;
    assert!(
        body["value"]
            .as_array()
            .is_some_and(|v| v.iter().any(|g| g["displayName"] == "Intune Users"))
    );
    assert_eq!(
        get(&format!("{base}/v1.0/users/nobody@contoso.com"), &token)
            .await?
            .0,
        404
    );
    let resp = client()
        .delete(format!("{base}/v1.0/users/jdoe@contoso.com"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(resp.status(), 405);
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn registered_devices_count_and_beta_only_assignment_filters() -> TestResult {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tenants/wingtip");
    let mock = MockGraph::start(MockConfig::dir(dir)).await?;
    // v1.0 assignmentFilters (beta only) is asked for on purpose.
    mock.expect_schema_refusals();
    let base = mock.base_url();
    let token = mock.token_for("cli").ok_or("token")?;
    // tlee owns two Entra devices (the fixture's registeredOwners, not served as a property).
    let (status, body) = get_json(
        &format!(
            "{base}/v1.0/users/tlee@contoso.com/ownedDevices?$select=id,displayName,trustType"
        ),
        &token,
    )
    .await?;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["displayName"].as_str())
        .collect();
    assert_eq!(names, ["TLEE-SURFACE", "TLEE-OLD-LAPTOP"]);
    assert!(body["value"][0].get("registeredOwners").is_none());
    let resp = client()
        .get(format!(
            "{base}/v1.0/users/tlee@contoso.com/ownedDevices/$count"
        ))
        .bearer_auth(&token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await?;
    assert_eq!(resp.text().await?, "2");
    let (_, body) = get_json(
        &format!("{base}/v1.0/devices?$select=id,displayName"),
        &token,
    )
    .await?;
    assert!(
        body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|d| d.get("registeredOwners").is_none())
    );
    // Assignment filters exist in beta only.
    let (status, body) = get_json(
        &format!("{base}/beta/deviceManagement/assignmentFilters"),
        &token,
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(body["value"][0]["displayName"], "HP devices");
    assert_ne!(
        get(
            &format!("{base}/v1.0/deviceManagement/assignmentFilters"),
            &token
        )
        .await?
        .0,
        200
    );
    Ok(())
}
