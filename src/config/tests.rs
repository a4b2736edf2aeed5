use super::*;
use secrecy::ExposeSecret;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn flags_beat_env_beat_file() {
    let file = FileConfig::parse(
        r#"
tenant = "file-tenant"
client_id = "file-client"
auth = "certificate"
certificate = "/file/cert.pem"
"#,
        Path::new("t.toml"),
    )
    .unwrap();
    let e = env(&[
        ("AZURE_TENANT_ID", "env-tenant"),
        ("AZURE_CLIENT_ID", "env-client"),
        ("AZURE_CLIENT_SECRET", "s3cr3t-value"),
    ]);
    let flags = FlagOverrides {
        tenant: Some("flag-tenant".into()),
        auth: Some(AuthMethod::ClientSecret),
        ..Default::default()
    };
    let s = Settings::from_map(Some(&file), &e, &flags).unwrap();
    assert_eq!(s.tenant.as_deref(), Some("flag-tenant"));
    assert_eq!(s.client_id.as_deref(), Some("env-client"));
    assert_eq!(s.auth, AuthMethod::ClientSecret);
    assert_eq!(s.certificate.as_deref(), Some(Path::new("/file/cert.pem")));
    assert_eq!(
        s.client_secret
            .as_ref()
            .map(|x| x.expose_secret().to_string()),
        Some("s3cr3t-value".to_string())
    );
    // The file's auth applies when neither flag nor env sets one.
    let s2 = Settings::from_map(Some(&file), &env(&[]), &FlagOverrides::default()).unwrap();
    assert_eq!(s2.auth, AuthMethod::Certificate);
    assert_eq!(s2.tenant.as_deref(), Some("file-tenant"));
}

#[test]
fn debug_never_shows_the_secret() {
    let e = env(&[
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_CLIENT_SECRET", "very-secret-value-42"),
        ("ENROLL_DOCTOR_ACCESS_TOKEN", "eyJhbGciOi.token-body"),
    ]);
    let s = Settings::from_map(None, &e, &FlagOverrides::default()).unwrap();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("very-secret-value-42"), "{dbg}");
    assert!(!dbg.contains("token-body"), "{dbg}");
}

#[test]
fn clouds_have_their_endpoints_and_scope() {
    let s = |c| {
        Settings::from_map(
            None,
            &env(&[]),
            &FlagOverrides {
                cloud: Some(c),
                auth: Some(AuthMethod::AzureCli),
                ..Default::default()
            },
        )
        .unwrap()
        .endpoints
    };
    assert_eq!(s(Cloud::Global).graph_url, "https://graph.microsoft.com");
    assert_eq!(
        s(Cloud::Global).default_scope(),
        "https://graph.microsoft.com/.default"
    );
    assert_eq!(
        s(Cloud::Usgov).login_url,
        "https://login.microsoftonline.us"
    );
    assert_eq!(
        s(Cloud::UsgovDod).graph_url,
        "https://dod-graph.microsoft.us"
    );
    assert_eq!(
        s(Cloud::China).graph_url,
        "https://microsoftgraph.chinacloudapi.cn"
    );
    assert_eq!(
        s(Cloud::China).token_url("t1"),
        "https://login.partner.microsoftonline.cn/t1/oauth2/v2.0/token"
    );
}

#[test]
fn custom_cloud_needs_urls_and_graph_url_implies_custom() {
    let flags = FlagOverrides {
        graph_url: Some("http://127.0.0.1:8080/".into()),
        auth: Some(AuthMethod::AzureCli),
        ..Default::default()
    };
    let s = Settings::from_map(None, &env(&[]), &flags).unwrap();
    assert_eq!(s.cloud, Cloud::Custom);
    assert_eq!(s.endpoints.graph_url, "http://127.0.0.1:8080");
    assert_eq!(s.endpoints.login_url, "http://127.0.0.1:8080");
    // A custom endpoint still asks for a token for Microsoft Graph.
    assert_eq!(
        s.endpoints.default_scope(),
        "https://graph.microsoft.com/.default"
    );

    let s = Settings::from_map(
        None,
        &env(&[(
            "ENROLL_DOCTOR_GRAPH_RESOURCE",
            "https://graph.microsoft.us/",
        )]),
        &flags,
    )
    .unwrap();
    assert_eq!(
        s.endpoints.default_scope(),
        "https://graph.microsoft.us/.default"
    );

    let err = Settings::from_map(
        None,
        &env(&[]),
        &FlagOverrides {
            cloud: Some(Cloud::Custom),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("graph_url"), "{err}");
}

#[test]
fn plain_http_only_for_loopback() {
    let flags = FlagOverrides {
        graph_url: Some("http://graph.example.com".into()),
        auth: Some(AuthMethod::AzureCli),
        ..Default::default()
    };
    let err = Settings::from_map(None, &env(&[]), &flags).unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    let flags = FlagOverrides {
        graph_url: Some("https://admin:hunter2@graph.microsoft.com".into()),
        auth: Some(AuthMethod::AzureCli),
        ..Default::default()
    };
    let err = Settings::from_map(None, &env(&[]), &flags)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("credentials") && !err.contains("hunter2"),
        "{err}"
    );
}

#[test]
fn missing_secret_names_the_env_var() {
    let e = env(&[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c")]);
    let flags = FlagOverrides {
        auth: Some(AuthMethod::ClientSecret),
        ..Default::default()
    };
    let err = Settings::from_map(None, &e, &flags).unwrap_err();
    assert!(err.to_string().contains("AZURE_CLIENT_SECRET"), "{err}");
}

#[test]
fn auth_is_inferred_from_what_is_present() {
    let e = env(&[("ENROLL_DOCTOR_ACCESS_TOKEN", "abc")]);
    let s = Settings::from_map(None, &e, &FlagOverrides::default()).unwrap();
    assert_eq!(s.auth, AuthMethod::AccessToken);
    let s = Settings::from_map(None, &env(&[]), &FlagOverrides::default()).unwrap();
    assert_eq!(s.auth, AuthMethod::DeviceCode);
    assert_eq!(s.public_client_id(), DEFAULT_PUBLIC_CLIENT_ID);
    assert_eq!(s.tenant_or_organizations(), "organizations");
}

#[test]
fn bad_file_names_the_file_and_key() {
    let err = FileConfig::parse("tenant = 1\n", Path::new("/etc/ed.toml")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("/etc/ed.toml") && msg.contains("tenant"),
        "{msg}"
    );
    // A misplaced secret is named by its key, never echoed.
    let err = FileConfig::parse(
        "tenant = \"t\"\nclient_secret = \"S3cr3t~value\"\n",
        Path::new("s.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(!err.contains("S3cr3t"), "{err}");
    assert!(
        err.contains("line 2") && err.contains("client_secret"),
        "{err}"
    );
    assert!(err.contains("AZURE_CLIENT_SECRET"), "{err}");
    let err = FileConfig::parse("[http]\ntimeout_secs = \"S3cr3t\"\n", Path::new("h.toml"))
        .unwrap_err()
        .to_string();
    assert!(!err.contains("S3cr3t") && err.contains("line 2"), "{err}");
    let err = FileConfig::parse("tenantt = \"x\"\n", Path::new("x.toml")).unwrap_err();
    assert!(err.to_string().contains("tenantt"), "{err}");
    let f = FileConfig::parse("\u{feff}tenant = \"t\"\r\n", Path::new("bom.toml")).unwrap();
    assert_eq!(f.tenant.as_deref(), Some("t"));
}

#[test]
fn bad_values_name_their_source() {
    let flags = FlagOverrides {
        auth: Some(AuthMethod::AzureCli),
        ..Default::default()
    };
    let file = FileConfig::parse(
        "graph_url = \"ftp://graph.example\"\n",
        Path::new("/etc/ed.toml"),
    )
    .unwrap();
    let msg = Settings::from_map(Some(&file), &env(&[]), &flags)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("graph_url (in /etc/ed.toml)") && msg.contains("ftp://graph.example"),
        "{msg}"
    );
    // The env var wins, and is the one named when it is bad.
    let msg = Settings::from_map(
        Some(&file),
        &env(&[("ENROLL_DOCTOR_GRAPH_URL", "http://graph.example.com")]),
        &flags,
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("ENROLL_DOCTOR_GRAPH_URL"), "{msg}");
    let msg = Settings::from_map(
        None,
        &env(&[]),
        &FlagOverrides {
            login_url: Some("not a url".into()),
            ..flags.clone()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("--login-url"), "{msg}");

    let file = FileConfig::parse("[http]\ntimeout_secs = 0\n", Path::new("c.toml")).unwrap();
    let msg = Settings::from_map(Some(&file), &env(&[]), &flags)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("http.timeout_secs (in c.toml)"), "{msg}");
    let msg = Settings::from_map(None, &env(&[("ENROLL_DOCTOR_CONCURRENCY", "0")]), &flags)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("ENROLL_DOCTOR_CONCURRENCY"), "{msg}");
    let msg = Settings::from_map(
        None,
        &env(&[("ENROLL_DOCTOR_GRAPH_RESOURCE", "http://graph.example")]),
        &flags,
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("ENROLL_DOCTOR_GRAPH_RESOURCE"), "{msg}");
}

#[test]
fn the_example_config_parses() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"));
    let f = FileConfig::load(path).unwrap();
    // As shipped it sets nothing: a copy must not point every command at a made-up tenant.
    let unset = FileConfig {
        source: f.source.clone(),
        ..FileConfig::default()
    };
    assert_eq!(format!("{f:?}"), format!("{unset:?}"));
    // Every key it shows, uncommented, is a real key with a valid value.
    let text = std::fs::read_to_string(path).unwrap();
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with('[')
                    || rest.split_once(" = ").is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) =>
            {
                rest
            }
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let all = FileConfig::parse(&uncommented, path).unwrap();
    assert_eq!(all.auth, Some(AuthMethod::Browser));
    assert!(all.tenant.is_some() && all.client_id.is_some() && all.cloud.is_some());
    assert!(all.graph_url.is_some() && all.login_url.is_some() && all.graph_resource.is_some());
    assert!(all.certificate.is_some() && all.certificate_algorithm.is_some());
    assert!(all.federated_token_file.is_some() && all.access_token_file.is_some());
    assert!(all.token_cache.is_some());
    assert_eq!(all.http.concurrency, Some(8));
    assert_eq!(all.http.max_response_mib, Some(64));
    // And it names every method.
    for m in AuthMethod::ALL {
        assert!(
            text.contains(&format!("#   {}", m.as_str())),
            "{}",
            m.as_str()
        );
    }
}

#[test]
fn no_shared_temp_folder_fallback_for_the_token_cache() {
    // Without a per-user folder (see `token_cache`'s tests) nothing is cached.
    let s = Settings::from_map(
        None,
        &env(&[]),
        &FlagOverrides {
            auth: Some(AuthMethod::DeviceCode),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.token_cache, None);
}
