use super::*;

#[test]
fn permission_errors_map_to_typed_reasons() {
    let e = GraphError::Http {
        method: "GET".into(),
        path: "/v1.0/subscribedSkus".into(),
        status: 403,
        code: "Authorization_RequestDenied".into(),
        message: "Insufficient privileges".into(),
        request_id: Some("r1".into()),
        attempts: 1,
    };
    assert_eq!(
        missing_from_error("subscribed_skus", TokenKind::AppOnly, &e),
        MissingReason::InsufficientPermission {
            needed: vec!["Organization.Read.All".into()]
        }
    );
    let e = GraphError::Http {
        method: "GET".into(),
        path: "/beta/policies/mobileDeviceManagementPolicies".into(),
        status: 401,
        code: "".into(),
        message: "Unsupported app-only call.".into(),
        request_id: None,
        attempts: 1,
    };
    assert_eq!(
        missing_from_error("mdm_policies", TokenKind::AppOnly, &e),
        MissingReason::AppOnlyUnsupported
    );
    let e = GraphError::Http {
        method: "GET".into(),
        path: "/v1.0/users".into(),
        status: 503,
        code: "ServiceUnavailable".into(),
        message: "later".into(),
        request_id: Some("rid".into()),
        attempts: 4,
    };
    assert!(matches!(
        missing_from_error("users", TokenKind::Delegated, &e),
        MissingReason::GraphError { status: Some(503), request_id: Some(ref r), .. } if r == "rid"
    ));
}

#[test]
fn relevant_groups_cover_scope_restrictions_and_ca() {
    let mdm: Vec<MobilityPolicy> = serde_json::from_str(
        r#"[{"id":"0000000a-0000-0000-c000-000000000000","appliesTo":"selected","includedGroups":[{"id":"G1","displayName":"Intune Users"}]}]"#,
    )
    .unwrap_or_default();
    let configs: Vec<EnrollmentConfiguration> = serde_json::from_str(
        r##"[{"id":"c","priority":1,"assignments":[{"id":"a","target":{"@odata.type":"#microsoft.graph.exclusionGroupAssignmentTarget","groupId":"g2"}}]}]"##,
    )
    .unwrap_or_default();
    let ca: Vec<ConditionalAccessPolicy> =
        serde_json::from_str(r#"[{"id":"p","conditions":{"users":{"includeGroups":["g3"]}}}]"#)
            .unwrap_or_default();
    let g = relevant_groups(
        &Source::collected("x", mdm),
        &Source::not_collected(),
        &Source::collected("x", configs),
        &Source::collected("x", ca),
    );
    assert_eq!(
        g.keys().cloned().collect::<Vec<_>>(),
        vec!["g1", "g2", "g3"]
    );
    assert_eq!(g.get("g1"), Some(&Some("Intune Users".to_string())));
}
