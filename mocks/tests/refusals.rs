//! The mock refuses what Graph refuses (issue 11, item 9): requests naming a path segment,
//! property or navigation that Graph's metadata for the version called does not have get
//! Graph's `400 BadRequest`, directly and inside `$batch`; valid requests are answered.

use mock_graph::{MockConfig, MockGraph};
use serde_json::{Value, json};

mod common;
use common::{TestResult, client};

async fn get(url: &str, token: &str) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let resp = client().get(url).bearer_auth(token).send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await?))
}

fn error_of(body: &Value) -> (String, String) {
    (
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn started() -> Result<(MockGraph, String), Box<dyn std::error::Error>> {
    let mock = MockGraph::start(MockConfig::fixture("contoso")).await?;
    let token = mock.token_for("auditor").ok_or("fixture app")?;
    Ok((mock, token))
}

#[tokio::test]
async fn unknown_select_property_is_refused_with_graphs_message() -> TestResult {
    let (mock, token) = started().await?;
    mock.expect_schema_refusals();
    let url = format!("{}/v1.0/users?$select=id,usageLocatoin", mock.base_url());
    let (status, body) = get(&url, &token).await?;
    assert_eq!(status, 400);
    assert_eq!(
        error_of(&body),
        (
            "BadRequest".into(),
            "Could not find a property named 'usageLocatoin' on type 'microsoft.graph.user'."
                .into()
        )
    );
    // The same property on the type that has it is answered.
    let ok = format!("{}/v1.0/users?$select=id,usageLocation", mock.base_url());
    assert_eq!(get(&ok, &token).await?.0, 200);
    assert_eq!(
        mock.schema_refusals().len(),
        1,
        "{:?}",
        mock.schema_refusals()
    );
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unknown_path_segment_and_version_only_segments_are_refused() -> TestResult {
    let (mock, token) = started().await?;
    mock.expect_schema_refusals();
    let base = mock.base_url();
    let (status, body) = get(&format!("{base}/v1.0/users/x/transitiveMemberOff"), &token).await?;
    assert_eq!(status, 400);
    assert_eq!(
        error_of(&body),
        (
            "BadRequest".into(),
            "Resource not found for the segment 'transitiveMemberOff'.".into()
        )
    );
    // assignmentFilters exist in beta only.
    let (status, body) = get(
        &format!("{base}/v1.0/deviceManagement/assignmentFilters"),
        &token,
    )
    .await?;
    assert_eq!(status, 400);
    assert_eq!(
        error_of(&body).1,
        "Resource not found for the segment 'assignmentFilters'."
    );
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unknown_filter_property_is_refused() -> TestResult {
    let (mock, token) = started().await?;
    mock.expect_schema_refusals();
    let base = mock.base_url();
    let (status, body) = get(
        &format!("{base}/v1.0/devices?$filter=deviceGuid eq 'x'"),
        &token,
    )
    .await?;
    assert_eq!(status, 400);
    assert_eq!(
        error_of(&body),
        (
            "BadRequest".into(),
            "Could not find a property named 'deviceGuid' on type 'microsoft.graph.device'.".into()
        )
    );
    // A derived type's property is not filterable on the base type's collection without a cast.
    let (status, body) = get(
        &format!("{base}/v1.0/groups/x/members?$filter=accountEnabled eq true"),
        &token,
    )
    .await?;
    assert_eq!(status, 400);
    assert_eq!(
        error_of(&body).1,
        "Could not find a property named 'accountEnabled' on type 'microsoft.graph.directoryObject'."
    );
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn derived_type_select_on_a_polymorphic_list_is_answered() -> TestResult {
    let (mock, token) = started().await?;
    let base = mock.base_url();
    let upn = "jdoe@contoso.com";
    // displayName (group, role), roleTemplateId (directoryRole): not on directoryObject itself.
    let (status, body) = get(
        &format!(
            "{base}/v1.0/users/{upn}/transitiveMemberOf?$select=id,displayName,roleTemplateId"
        ),
        &token,
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["value"].as_array().is_some_and(|v| !v.is_empty()),
        "{body}"
    );
    let (status, body) = get(
        &format!("{base}/v1.0/users/{upn}/ownedDevices?$select=id,deviceId,trustType"),
        &token,
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert!(mock.schema_refusals().is_empty());
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn batch_items_are_checked_one_by_one() -> TestResult {
    let (mock, token) = started().await?;
    mock.expect_schema_refusals();
    let resp = client()
        .post(format!("{}/v1.0/$batch", mock.base_url()))
        .bearer_auth(&token)
        .json(&json!({"requests": [
            {"id": "good", "method": "GET", "url": "/devices?$filter=deviceId eq 'x'&$select=id,deviceId"},
            {"id": "bad", "method": "GET", "url": "/devices?$select=id,deviceIdd"},
        ]}))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await?;
    let item = |id: &str| {
        body["responses"]
            .as_array()
            .and_then(|r| r.iter().find(|i| i["id"] == id))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(item("good")["status"], 200);
    assert_eq!(item("bad")["status"], 400);
    assert_eq!(
        error_of(&item("bad")["body"]),
        (
            "BadRequest".into(),
            "Could not find a property named 'deviceIdd' on type 'microsoft.graph.device'.".into()
        )
    );
    mock.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_unexpected_refusal_fails_the_test_that_made_it() -> TestResult {
    let (mock, token) = started().await?;
    let url = format!("{}/v1.0/users?$expand=nope", mock.base_url());
    assert_eq!(get(&url, &token).await?.0, 400);
    let refusals = mock.schema_refusals();
    assert_eq!(refusals.len(), 1);
    assert!(
        refusals[0].contains("GET /v1.0/users?$expand=nope")
            && refusals[0].contains("Could not find a property named 'nope'"),
        "{refusals:?}"
    );
    let outcome = tokio::spawn(mock.shutdown()).await;
    let panic = outcome.err().ok_or("shutdown should fail the test")?;
    let message = panic
        .into_panic()
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(
        message.contains("refused 1 request(s) that Graph would refuse"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn an_embedded_mock_lists_refusals_without_failing() -> TestResult {
    let cfg = MockConfig {
        fail_on_refusals: false,
        ..MockConfig::fixture("contoso")
    };
    let mock = MockGraph::start(cfg).await?;
    let token = mock.token_for("auditor").ok_or("fixture app")?;
    let url = format!("{}/beta/users?$orderby=nope", mock.base_url());
    let (status, body) = get(&url, &token).await?;
    assert_eq!(status, 400);
    assert_eq!(
        error_of(&body).1,
        "Could not find a property named 'nope' on type 'microsoft.graph.user'."
    );
    assert_eq!(mock.schema_refusals().len(), 1);
    // No panic: the shutdown completes.
    tokio::spawn(mock.shutdown()).await?;
    Ok(())
}
