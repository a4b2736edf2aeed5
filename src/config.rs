//! Connection settings: a TOML file, the environment and command-line flags, merged with the
//! precedence flags > environment > file > defaults.
//!
//! Secrets (client secret, access tokens) come only from the environment or from files, never
//! from flags: process arguments are visible to every local user. Environment access goes through
//! an injected lookup so tests never mutate the process environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

/// The well-known public client id of "Microsoft Graph Command Line Tools", used for the device
/// code flow when no app registration is configured (it needs no secret and is pre-consented in
/// many tenants; admins can still block it).
pub const DEFAULT_PUBLIC_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// Environment variables read by [`Settings::resolve`].
pub mod env_vars {
    pub const TENANT_ID: &str = "AZURE_TENANT_ID";
    pub const CLIENT_ID: &str = "AZURE_CLIENT_ID";
    pub const CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
    pub const CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
    /// Identity platform base URL (azure-identity convention).
    pub const AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
    pub const ACCESS_TOKEN: &str = "ENROLL_DOCTOR_ACCESS_TOKEN";
    pub const ACCESS_TOKEN_FILE: &str = "ENROLL_DOCTOR_ACCESS_TOKEN_FILE";
    pub const AUTH: &str = "ENROLL_DOCTOR_AUTH";
    pub const CLOUD: &str = "ENROLL_DOCTOR_CLOUD";
    pub const GRAPH_URL: &str = "ENROLL_DOCTOR_GRAPH_URL";
    pub const LOGIN_URL: &str = "ENROLL_DOCTOR_LOGIN_URL";
    pub const GRAPH_RESOURCE: &str = "ENROLL_DOCTOR_GRAPH_RESOURCE";
    pub const TOKEN_CACHE: &str = "ENROLL_DOCTOR_TOKEN_CACHE";
    pub const CONCURRENCY: &str = "ENROLL_DOCTOR_CONCURRENCY";
    pub const TIMEOUT_SECS: &str = "ENROLL_DOCTOR_TIMEOUT_SECS";
    pub const MAX_RETRY_WAIT_SECS: &str = "ENROLL_DOCTOR_MAX_RETRY_WAIT_SECS";
    pub const MAX_RESPONSE_MIB: &str = "ENROLL_DOCTOR_MAX_RESPONSE_MIB";
    /// Password of a PKCS#12/PFX file or an encrypted PKCS#8 key (azure-identity's name).
    pub const CLIENT_CERTIFICATE_PASSWORD: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
    /// A federated (OIDC) token file for workload identity federation (Kubernetes, and any
    /// pipeline that writes one); its presence selects `--auth workload-identity`.
    pub const FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
    /// GitHub Actions' OIDC token service (`permissions: id-token: write`).
    pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
    /// App Service, Functions, Container Apps and Azure Automation managed identity endpoint.
    pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
    pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";
    /// Overrides the Azure Instance Metadata Service base URL (default http://169.254.169.254;
    /// azure-identity's name for the same override).
    pub const IMDS_URL: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
    /// Set to 1 to never launch a browser: the browser sign-in only prints its address.
    pub const NO_BROWSER: &str = "ENROLL_DOCTOR_NO_BROWSER";
}

mod http;
mod token_cache;

pub use token_cache::default_token_cache;

pub use http::{FileHttpConfig, HttpSettings};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "invalid value \"{}\" for {field}: {reason}",
        crate::text_safety::shown(.value)
    )]
    Invalid {
        field: String,
        value: String,
        reason: String,
    },
    #[error("{what} is required for --auth {method}: {hint}")]
    Missing {
        what: &'static str,
        method: &'static str,
        hint: &'static str,
    },
}

/// A national cloud, or `custom` endpoints (tests, the demo, sovereign setups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    #[default]
    Global,
    Usgov,
    UsgovDod,
    China,
    Custom,
}

impl Cloud {
    pub fn parse(s: &str) -> Option<Cloud> {
        match s.trim().to_ascii_lowercase().as_str() {
            "global" | "public" | "azurecloud" => Some(Cloud::Global),
            "usgov" | "gcchigh" | "gcc-high" => Some(Cloud::Usgov),
            "usgov-dod" | "dod" => Some(Cloud::UsgovDod),
            "china" | "azurechinacloud" => Some(Cloud::China),
            "custom" => Some(Cloud::Custom),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::Usgov => "usgov",
            Cloud::UsgovDod => "usgov-dod",
            Cloud::China => "china",
            Cloud::Custom => "custom",
        }
    }

    /// Graph and identity endpoints of a national cloud; `None` for `custom`.
    pub fn endpoints(self) -> Option<CloudEndpoints> {
        let (graph, login) = match self {
            Cloud::Global => (
                "https://graph.microsoft.com",
                "https://login.microsoftonline.com",
            ),
            Cloud::Usgov => (
                "https://graph.microsoft.us",
                "https://login.microsoftonline.us",
            ),
            Cloud::UsgovDod => (
                "https://dod-graph.microsoft.us",
                "https://login.microsoftonline.us",
            ),
            Cloud::China => (
                "https://microsoftgraph.chinacloudapi.cn",
                // login.partner.microsoftonline.cn is the current authority; login.chinacloudapi.cn is the older name.
                "https://login.partner.microsoftonline.cn",
            ),
            Cloud::Custom => return None,
        };
        Some(CloudEndpoints {
            graph_url: graph.to_string(),
            login_url: login.to_string(),
            resource: graph.to_string(),
        })
    }
}

/// Base URLs without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CloudEndpoints {
    /// e.g. `https://graph.microsoft.com`; API versions are appended per call.
    pub graph_url: String,
    /// e.g. `https://login.microsoftonline.com`; `/{tenant}/oauth2/v2.0/token` is appended.
    pub login_url: String,
    /// The token audience (resource) the scope names. Equals the national cloud's Graph URL;
    /// for `custom` endpoints (a proxy, the mock) it stays `https://graph.microsoft.com` unless
    /// `graph_resource` says otherwise, because the URL is not what the token is issued for.
    pub resource: String,
}

impl CloudEndpoints {
    /// The `.default` scope of this cloud's Graph resource.
    pub fn default_scope(&self) -> String {
        format!("{}/.default", self.resource)
    }

    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.login_url)
    }
}

/// How to obtain a Graph access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    ClientSecret,
    Certificate,
    /// Delegated: authorization code flow with PKCE and a loopback redirect.
    Browser,
    DeviceCode,
    ManagedIdentity,
    WorkloadIdentity,
    AzureCli,
    AccessToken,
}

impl AuthMethod {
    pub fn parse(s: &str) -> Option<AuthMethod> {
        match s.trim().to_ascii_lowercase().as_str() {
            "client-secret" => Some(AuthMethod::ClientSecret),
            "certificate" => Some(AuthMethod::Certificate),
            "browser" => Some(AuthMethod::Browser),
            "device-code" => Some(AuthMethod::DeviceCode),
            "managed-identity" => Some(AuthMethod::ManagedIdentity),
            "workload-identity" => Some(AuthMethod::WorkloadIdentity),
            "azure-cli" => Some(AuthMethod::AzureCli),
            "access-token" => Some(AuthMethod::AccessToken),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecret => "client-secret",
            AuthMethod::Certificate => "certificate",
            AuthMethod::Browser => "browser",
            AuthMethod::DeviceCode => "device-code",
            AuthMethod::ManagedIdentity => "managed-identity",
            AuthMethod::WorkloadIdentity => "workload-identity",
            AuthMethod::AzureCli => "azure-cli",
            AuthMethod::AccessToken => "access-token",
        }
    }

    /// Every method, in the order `--help` lists them.
    pub const ALL: [AuthMethod; 8] = [
        AuthMethod::ClientSecret,
        AuthMethod::Certificate,
        AuthMethod::Browser,
        AuthMethod::DeviceCode,
        AuthMethod::ManagedIdentity,
        AuthMethod::WorkloadIdentity,
        AuthMethod::AzureCli,
        AuthMethod::AccessToken,
    ];

    /// A signed-in user's sign-in that this tool runs and caches itself.
    pub fn is_interactive(self) -> bool {
        matches!(self, AuthMethod::Browser | AuthMethod::DeviceCode)
    }
}

/// Whether a desktop browser can be opened for the user: not over SSH, and on Linux and the
/// BSDs only with a graphical session (`DISPLAY` or `WAYLAND_DISPLAY`).
pub fn browser_available(env: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.trim().is_empty());
    if set(env_vars::NO_BROWSER) || set("SSH_CONNECTION") || set("SSH_TTY") {
        return false;
    }
    if cfg!(any(windows, target_os = "macos")) {
        return true;
    }
    set("DISPLAY") || set("WAYLAND_DISPLAY")
}

/// Where a managed identity token comes from, as the hosting environment says.
#[derive(Debug, Clone, Default)]
pub struct ManagedIdentityEnv {
    /// `IDENTITY_ENDPOINT` (App Service, Functions, Automation); `None`: the VM's IMDS.
    pub identity_endpoint: Option<String>,
    /// `IDENTITY_HEADER`, sent as `X-IDENTITY-HEADER` to that endpoint.
    pub identity_header: Option<SecretString>,
    /// IMDS base URL override; default `http://169.254.169.254`.
    pub imds_url: Option<String>,
}

/// GitHub Actions' OIDC token service, when the job may request one.
#[derive(Debug, Clone)]
pub struct GithubOidcEnv {
    pub request_url: String,
    pub request_token: SecretString,
}

/// Signature algorithm of the certificate client assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AssertionAlgorithm {
    /// Current Entra guidance: PS256 with an `x5t#S256` header.
    #[default]
    Ps256,
    /// Older form: RS256 with `x5t` (SHA-1); `x5t#S256` is sent as well.
    Rs256,
}

/// The config file as written (every field optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub auth: Option<AuthMethod>,
    pub cloud: Option<Cloud>,
    pub graph_url: Option<String>,
    pub login_url: Option<String>,
    pub graph_resource: Option<String>,
    pub certificate: Option<PathBuf>,
    pub certificate_algorithm: Option<AssertionAlgorithm>,
    pub access_token_file: Option<PathBuf>,
    pub token_cache: Option<PathBuf>,
    pub federated_token_file: Option<PathBuf>,
    #[serde(default)]
    pub http: FileHttpConfig,
    /// The file these settings came from (for error messages); set by [`FileConfig::parse`].
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `line L, column C (key): what is wrong`, without toml's source excerpt: that excerpt would
/// echo the offending line, and a misplaced secret (`client_secret = "…"`) must never be printed.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let mut message = e.message().trim().to_string();
    // `invalid type: string "…", expected …` quotes the value: drop it for the same reason.
    if let Some(rest) = message.strip_prefix("invalid type: string \"")
        && let Some(end) = rest.find("\", ")
    {
        message = format!("invalid type: a string, {}", &rest[end + 3..]);
    }
    let lower = message.to_ascii_lowercase();
    if lower.starts_with("unknown field")
        && ["secret", "password", "token`", "key`"]
            .iter()
            .any(|w| lower.split(',').next().is_some_and(|f| f.contains(w)))
    {
        message.push_str(
            "; secrets are never read from the config file: set AZURE_CLIENT_SECRET, \
             ENROLL_DOCTOR_ACCESS_TOKEN(_FILE) or a certificate file instead",
        );
    }
    let Some(span) = e.span() else {
        return message;
    };
    let before = &text[..span.start.min(text.len())];
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    // The key of that line names the field; the value stays out of the message.
    let key = text[line_start..]
        .lines()
        .next()
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim())
        .filter(|k| {
            !k.is_empty()
                && k.len() <= 64
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.\"' ".contains(c))
        });
    match key {
        Some(k) => format!("line {line_no}, column {column} (`{k}`): {message}"),
        None => format!("line {line_no}, column {column}: {message}"),
    }
}

impl FileConfig {
    pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
        // Windows editors may save UTF-8 with a byte order mark, which TOML does not allow.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: describe_toml_error(text, &e),
        })?;
        file.source = Some(path.to_path_buf());
        Ok(file)
    }

    /// `key` as named in error messages: `graph_url (in /etc/enroll-doctor.toml)`.
    fn field(&self, key: &str) -> String {
        match &self.source {
            Some(p) => format!("{key} (in {})", p.display()),
            None => key.to_string(),
        }
    }

    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text =
            crate::fsio::read_regular_string(path, crate::fsio::CONFIG_FILE).map_err(|e| {
                ConfigError::Read {
                    path: path.to_path_buf(),
                    source: e.into_io(),
                }
            })?;
        Self::parse(&text, path)
    }

    /// `explicit` if given (must exist), else `./enroll-doctor.toml` when present.
    pub fn discover(explicit: Option<&Path>) -> Result<Option<FileConfig>, ConfigError> {
        match explicit {
            Some(p) => Self::load(p).map(Some),
            None => {
                let default = Path::new("enroll-doctor.toml");
                if default.is_file() {
                    Self::load(default).map(Some)
                } else {
                    Ok(None)
                }
            }
        }
    }
}

/// Command-line connection flags (mirrors `cli::ConnectionArgs`, which lives in the binary).
#[derive(Debug, Clone, Default)]
pub struct FlagOverrides {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub auth: Option<AuthMethod>,
    pub cloud: Option<Cloud>,
    pub graph_url: Option<String>,
    pub login_url: Option<String>,
    pub certificate: Option<PathBuf>,
}

/// Resolved connection settings. `Debug` never shows secrets (they are `SecretString`s).
#[derive(Debug, Clone)]
pub struct Settings {
    pub auth: AuthMethod,
    pub cloud: Cloud,
    pub endpoints: CloudEndpoints,
    /// Tenant id or domain; `organizations` is used for delegated sign-in when unset.
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub certificate: Option<PathBuf>,
    pub certificate_algorithm: AssertionAlgorithm,
    pub access_token: Option<SecretString>,
    pub access_token_file: Option<PathBuf>,
    /// The delegated sign-in cache; `None` when no per-user folder is known (sign-ins are then
    /// not cached).
    pub token_cache: Option<PathBuf>,
    pub http: HttpSettings,
    /// `AZURE_CLIENT_CERTIFICATE_PASSWORD`: for a PFX or an encrypted PKCS#8 key.
    pub certificate_password: Option<SecretString>,
    /// `AZURE_FEDERATED_TOKEN_FILE` (or `federated_token_file` in the config).
    pub federated_token_file: Option<PathBuf>,
    pub github_oidc: Option<GithubOidcEnv>,
    pub managed_identity: ManagedIdentityEnv,
    /// Whether the browser sign-in may launch a browser (else it prints the address only).
    pub browser_available: bool,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn trim_url(u: String) -> String {
    u.trim().trim_end_matches('/').to_string()
}

fn check_url(field: &str, url: &str) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| ConfigError::Invalid {
        field: field.to_string(),
        value: url.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::Invalid {
            field: field.to_string(),
            value: url.to_string(),
            reason: "expected an http(s) URL with a host".to_string(),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // It would end up in logs and in a Basic header next to the bearer token.
        return Err(ConfigError::Invalid {
            field: field.to_string(),
            value: "(a URL with user:password@, not shown)".to_string(),
            reason: "credentials are not accepted inside URLs".to_string(),
        });
    }
    if parsed.scheme() == "http" && !is_loopback(&parsed) {
        return Err(ConfigError::Invalid {
            field: field.to_string(),
            value: url.to_string(),
            reason: "plain http is only allowed for loopback (127.0.0.1, localhost)".to_string(),
        });
    }
    Ok(())
}

/// True for `localhost`, 127.0.0.0/8 and `::1`.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

impl Settings {
    /// Merges flags > environment > file > defaults and validates what the chosen method needs.
    pub fn resolve(
        file: Option<&FileConfig>,
        env: &dyn Fn(&str) -> Option<String>,
        flags: &FlagOverrides,
    ) -> Result<Settings, ConfigError> {
        use env_vars as ev;
        let default_file = FileConfig::default();
        let file = file.unwrap_or(&default_file);
        let env_s = |k: &str| non_empty(env(k));

        let tenant = non_empty(flags.tenant.clone())
            .or_else(|| env_s(ev::TENANT_ID))
            .or_else(|| non_empty(file.tenant.clone()));
        let client_id = non_empty(flags.client_id.clone())
            .or_else(|| env_s(ev::CLIENT_ID))
            .or_else(|| non_empty(file.client_id.clone()));
        let client_secret = env_s(ev::CLIENT_SECRET).map(SecretString::from);
        let access_token = env_s(ev::ACCESS_TOKEN).map(SecretString::from);
        let access_token_file = env_s(ev::ACCESS_TOKEN_FILE)
            .map(PathBuf::from)
            .or_else(|| file.access_token_file.clone());
        let certificate = flags
            .certificate
            .clone()
            .or_else(|| env_s(ev::CLIENT_CERTIFICATE_PATH).map(PathBuf::from))
            .or_else(|| file.certificate.clone());

        let certificate_password = env(ev::CLIENT_CERTIFICATE_PASSWORD)
            .filter(|p| !p.is_empty())
            .map(SecretString::from);
        let federated_token_file = env_s(ev::FEDERATED_TOKEN_FILE)
            .map(PathBuf::from)
            .or_else(|| file.federated_token_file.clone());
        let github_oidc = match (
            env_s(ev::ACTIONS_ID_TOKEN_REQUEST_URL),
            env_s(ev::ACTIONS_ID_TOKEN_REQUEST_TOKEN),
        ) {
            (Some(request_url), Some(token)) => Some(GithubOidcEnv {
                request_url,
                request_token: SecretString::from(token),
            }),
            _ => None,
        };
        let managed_identity = ManagedIdentityEnv {
            identity_endpoint: env_s(ev::IDENTITY_ENDPOINT).map(trim_url),
            identity_header: env_s(ev::IDENTITY_HEADER).map(SecretString::from),
            imds_url: env_s(ev::IMDS_URL).map(trim_url),
        };
        let browser_available = browser_available(env);

        let env_auth = match env_s(ev::AUTH) {
            Some(v) => Some(AuthMethod::parse(&v).ok_or_else(|| ConfigError::Invalid {
                field: ev::AUTH.to_string(),
                value: v.clone(),
                reason: format!(
                    "expected one of {}",
                    AuthMethod::ALL.map(AuthMethod::as_str).join(", ")
                ),
            })?),
            None => None,
        };
        let env_cloud = match env_s(ev::CLOUD) {
            Some(v) => Some(Cloud::parse(&v).ok_or_else(|| ConfigError::Invalid {
                field: ev::CLOUD.to_string(),
                value: v.clone(),
                reason: "expected global, usgov, usgov-dod, china or custom".to_string(),
            })?),
            None => None,
        };

        // Each URL keeps the name of where it came from, so a bad one is reported there.
        let graph_url = non_empty(flags.graph_url.clone())
            .map(|v| (v, "--graph-url".to_string()))
            .or_else(|| env_s(ev::GRAPH_URL).map(|v| (v, ev::GRAPH_URL.to_string())))
            .or_else(|| non_empty(file.graph_url.clone()).map(|v| (v, file.field("graph_url"))))
            .map(|(v, src)| (trim_url(v), src));
        let login_url = non_empty(flags.login_url.clone())
            .map(|v| (v, "--login-url".to_string()))
            .or_else(|| env_s(ev::LOGIN_URL).map(|v| (v, ev::LOGIN_URL.to_string())))
            .or_else(|| env_s(ev::AUTHORITY_HOST).map(|v| (v, ev::AUTHORITY_HOST.to_string())))
            .or_else(|| non_empty(file.login_url.clone()).map(|v| (v, file.field("login_url"))))
            .map(|(v, src)| (trim_url(v), src));
        if let Some((url, src)) = &graph_url {
            check_url(src, url)?;
        }
        if let Some((url, src)) = &login_url {
            check_url(src, url)?;
        }
        let graph_url = graph_url.map(|(v, _)| v);
        let login_url = login_url.map(|(v, _)| v);

        // Explicit URLs without a cloud mean custom endpoints.
        let cloud = flags
            .cloud
            .or(env_cloud)
            .or(file.cloud)
            .unwrap_or(if graph_url.is_some() {
                Cloud::Custom
            } else {
                Cloud::Global
            });
        let endpoints = match cloud.endpoints() {
            Some(mut e) => {
                // A national cloud with an explicit override (e.g. a proxy) keeps the override.
                if let Some(g) = &graph_url {
                    e.graph_url = g.clone();
                }
                if let Some(l) = &login_url {
                    e.login_url = l.clone();
                }
                e
            }
            None => {
                let graph_url = graph_url.clone().ok_or(ConfigError::Missing {
                    what: "graph_url",
                    method: "(cloud custom)",
                    hint: "set --graph-url, ENROLL_DOCTOR_GRAPH_URL or graph_url in the config",
                })?;
                let login_url = login_url.clone().unwrap_or_else(|| graph_url.clone());
                CloudEndpoints {
                    graph_url,
                    login_url,
                    resource: "https://graph.microsoft.com".to_string(),
                }
            }
        };
        let mut endpoints = endpoints;
        if let Some((r, src)) = env_s(ev::GRAPH_RESOURCE)
            .map(|v| (v, ev::GRAPH_RESOURCE.to_string()))
            .or_else(|| {
                non_empty(file.graph_resource.clone()).map(|v| (v, file.field("graph_resource")))
            })
        {
            let r = trim_url(r);
            // An identifier (Graph's https URI or its app id), not a place we connect to.
            let https =
                reqwest::Url::parse(&r).is_ok_and(|u| u.scheme() == "https" && u.has_host());
            if !https && uuid::Uuid::parse_str(&r).is_err() {
                return Err(ConfigError::Invalid {
                    field: src,
                    value: r,
                    reason:
                        "expected an https URI such as https://graph.microsoft.com or an app id"
                            .into(),
                });
            }
            endpoints.resource = r;
        }
        check_url("graph_url", &endpoints.graph_url)?;
        check_url("login_url", &endpoints.login_url)?;

        let auth = flags
            .auth
            .or(env_auth)
            .or(file.auth)
            .unwrap_or(if client_secret.is_some() {
                AuthMethod::ClientSecret
            } else if certificate.is_some() {
                AuthMethod::Certificate
            } else if federated_token_file.is_some() {
                AuthMethod::WorkloadIdentity
            } else if access_token.is_some() || access_token_file.is_some() {
                AuthMethod::AccessToken
            } else if browser_available {
                AuthMethod::Browser
            } else {
                AuthMethod::DeviceCode
            });

        let token_cache = env_s(ev::TOKEN_CACHE)
            .map(PathBuf::from)
            .or_else(|| file.token_cache.clone())
            .or_else(|| default_token_cache(env));

        let http = HttpSettings::resolve(file, env)?;

        let settings = Settings {
            auth,
            cloud,
            endpoints,
            tenant,
            client_id,
            client_secret,
            certificate,
            certificate_algorithm: file.certificate_algorithm.unwrap_or_default(),
            access_token,
            access_token_file,
            token_cache,
            http,
            certificate_password,
            federated_token_file,
            github_oidc,
            managed_identity,
            browser_available,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Resolves with the real process environment.
    pub fn from_process_env(
        file: Option<&FileConfig>,
        flags: &FlagOverrides,
    ) -> Result<Settings, ConfigError> {
        Self::resolve(file, &|k| std::env::var(k).ok(), flags)
    }

    /// Resolves with a fixed map standing in for the environment (tests).
    pub fn from_map(
        file: Option<&FileConfig>,
        env: &HashMap<String, String>,
        flags: &FlagOverrides,
    ) -> Result<Settings, ConfigError> {
        Self::resolve(file, &|k| env.get(k).cloned(), flags)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let m = self.auth.as_str();
        let need_tenant = ConfigError::Missing {
            what: "a tenant id",
            method: m,
            hint: "use --tenant, AZURE_TENANT_ID or tenant in the config",
        };
        let need_client = ConfigError::Missing {
            what: "a client id",
            method: m,
            hint: "use --client-id, AZURE_CLIENT_ID or client_id in the config",
        };
        match self.auth {
            AuthMethod::ClientSecret => {
                if self.tenant.is_none() {
                    return Err(need_tenant);
                }
                if self.client_id.is_none() {
                    return Err(need_client);
                }
                if self.client_secret.is_none() {
                    return Err(ConfigError::Missing {
                        what: "a client secret",
                        method: m,
                        hint: "set AZURE_CLIENT_SECRET (secrets are never accepted as flags)",
                    });
                }
            }
            AuthMethod::Certificate => {
                if self.tenant.is_none() {
                    return Err(need_tenant);
                }
                if self.client_id.is_none() {
                    return Err(need_client);
                }
                if self.certificate.is_none() {
                    return Err(ConfigError::Missing {
                        what: "a certificate file",
                        method: m,
                        hint: "use --certificate, AZURE_CLIENT_CERTIFICATE_PATH or certificate in the config",
                    });
                }
            }
            AuthMethod::AccessToken => {
                if self.access_token.is_none() && self.access_token_file.is_none() {
                    return Err(ConfigError::Missing {
                        what: "an access token",
                        method: m,
                        hint: "set ENROLL_DOCTOR_ACCESS_TOKEN or ENROLL_DOCTOR_ACCESS_TOKEN_FILE",
                    });
                }
            }
            AuthMethod::WorkloadIdentity => {
                if self.tenant.is_none() {
                    return Err(need_tenant);
                }
                if self.client_id.is_none() {
                    return Err(need_client);
                }
                if self.federated_token_file.is_none() && self.github_oidc.is_none() {
                    return Err(ConfigError::Missing {
                        what: "a federated token",
                        method: m,
                        hint: "set AZURE_FEDERATED_TOKEN_FILE, or run in GitHub Actions with `permissions: id-token: write`",
                    });
                }
            }
            AuthMethod::Browser
            | AuthMethod::DeviceCode
            | AuthMethod::ManagedIdentity
            | AuthMethod::AzureCli => {}
        }
        Ok(())
    }

    /// Tenant segment for identity URLs (`organizations` for a delegated sign-in without one).
    pub fn tenant_or_organizations(&self) -> &str {
        self.tenant.as_deref().unwrap_or("organizations")
    }

    /// The configured client id, or Microsoft's public Graph CLI client for device code.
    pub fn public_client_id(&self) -> &str {
        self.client_id
            .as_deref()
            .unwrap_or(DEFAULT_PUBLIC_CLIENT_ID)
    }
}

#[cfg(test)]
mod tests;
