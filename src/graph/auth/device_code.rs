//! Delegated sign-in with the device code flow, and its token cache file.
//!
//! The cache holds the refresh token (and the last access token) for one tenant + client +
//! authority. It is written with mode 0600 through a temporary file and a rename, so a reader
//! never sees a half-written file and the mode is right from the first byte.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthType, ClientId, DeviceAuthorizationUrl, DeviceCodeErrorResponse,
    DeviceCodeErrorResponseType, RefreshToken, Scope, StandardDeviceAuthorizationResponse,
    TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::error::AuthError;
use super::oauth_http::{OAuthHttp, map_token_error, truncate};
use super::token::AccessToken;

/// How the device code flow paces its polls (RFC 8628 §3.5). Injectable so tests run fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCodeTiming {
    /// The shortest pause between polls, whatever the server's `interval` says (RFC 8628's
    /// default, 5 s: an `interval` of 0 once meant polling hot).
    pub min_interval: Duration,
    /// Added to the pause on each `slow_down` answer (RFC 8628: 5 s).
    pub slow_down_step: Duration,
    /// The longest the sign-in is waited for, whatever the code's `expires_in` says.
    pub max_wait: Duration,
}

impl Default for DeviceCodeTiming {
    fn default() -> Self {
        DeviceCodeTiming {
            min_interval: Duration::from_secs(5),
            slow_down_step: Duration::from_secs(5),
            max_wait: Duration::from_secs(15 * 60),
        }
    }
}

/// One poll's answer.
enum Poll {
    Token(Box<BasicTokenResponse>),
    Pending,
    SlowDown,
}

/// What the device code flow needs.
#[derive(Debug, Clone)]
pub struct DeviceCodeFlow {
    pub http: OAuthHttp,
    pub client_id: String,
    /// Tenant id, domain, or `organizations`.
    pub tenant: String,
    pub login_url: String,
    /// `{graph}/.default`; `offline_access` is added to get a refresh token.
    pub scope: String,
    /// `None`: no per-user cache folder is known; sign-ins are not cached.
    pub cache_path: Option<PathBuf>,
    pub timing: DeviceCodeTiming,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    login_url: String,
    tenant: String,
    client_id: String,
    refresh_token: Option<String>,
    access_token: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

/// What the cache holds, secrets wrapped.
struct CacheEntry {
    refresh_token: Option<SecretString>,
    access: Option<AccessToken>,
}

impl DeviceCodeFlow {
    fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.login_url, self.tenant)
    }

    fn device_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/devicecode", self.login_url, self.tenant)
    }

    fn scopes(&self) -> [Scope; 2] {
        [
            Scope::new(self.scope.clone()),
            Scope::new("offline_access".to_string()),
        ]
    }

    fn bad_url(e: impl std::fmt::Display) -> AuthError {
        AuthError::Config {
            message: format!("invalid identity URL: {e}"),
        }
    }

    /// Cached access token, else refresh token, else an interactive sign-in.
    pub async fn acquire(&self, force_refresh: bool) -> Result<AccessToken, AuthError> {
        if let Some(entry) = self.read_cache()? {
            if !force_refresh
                && let Some(access) = entry.access
                && access.is_fresh(Utc::now())
            {
                return Ok(access);
            }
            if let Some(rt) = entry.refresh_token {
                match self.refresh(&rt).await {
                    Ok(tok) => return Ok(tok),
                    // An expired or revoked refresh token means: sign in again.
                    Err(AuthError::Rejected { error, .. }) if error == "invalid_grant" => {
                        tracing::info!("the cached sign-in has expired; starting a new one");
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        self.login().await
    }

    /// Always runs the interactive flow (`auth login`), then caches the result.
    pub async fn login(&self) -> Result<AccessToken, AuthError> {
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::new(self.token_url()).map_err(Self::bad_url)?)
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(self.device_url()).map_err(Self::bad_url)?,
            );
        let details: StandardDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scopes(self.scopes())
            .request_async(&self.http)
            .await
            .map_err(|e| map_token_error("device code", e))?;
        // The user code is meant to be shown; the device code is the secret and is not. The
        // lifetime shown is the one polled for, not the server's (which may say years).
        let lifetime = self.code_lifetime(details.expires_in());
        eprintln!(
            "{}",
            sign_in_prompt(
                details.verification_uri().as_str(),
                details.user_code().secret(),
                lifetime.as_secs(),
            )
        );
        let token = self.poll_for_token(&details, lifetime).await?;
        let access = AccessToken::new(
            token.access_token().secret().clone(),
            token.expires_in().map(|d| d.as_secs()),
        );
        let refresh = token
            .refresh_token()
            .map(|r| SecretString::from(r.secret().clone()));
        self.write_cache(refresh.as_ref(), &access)?;
        eprintln!("Signed in.");
        Ok(access)
    }

    /// How long the sign-in is waited for: the code's `expires_in`, at most `timing.max_wait`.
    fn code_lifetime(&self, expires_in: Duration) -> Duration {
        expires_in.min(self.timing.max_wait)
    }

    /// Polls the token endpoint until the user signed in: never faster than
    /// `timing.min_interval`, slower after each `slow_down`, and no longer than `lifetime` in
    /// all — each poll (with the retries [`OAuthHttp`] makes inside it) gets only the time
    /// that is left.
    async fn poll_for_token(
        &self,
        details: &StandardDeviceAuthorizationResponse,
        lifetime: Duration,
    ) -> Result<BasicTokenResponse, AuthError> {
        let t = self.timing;
        let started = tokio::time::Instant::now();
        let expired = || AuthError::Rejected {
            flow: "device code sign-in",
            error: "expired_token".into(),
            description: Some(format!(
                "the code was not entered within {} s; run the sign-in again",
                lifetime.as_secs()
            )),
        };
        let mut interval = details.interval().max(t.min_interval);
        loop {
            let left = lifetime.saturating_sub(started.elapsed());
            let poll = tokio::time::timeout(left, self.poll_once(details))
                .await
                .map_err(|_| expired())?;
            match poll? {
                Poll::Token(token) => return Ok(*token),
                Poll::Pending => {}
                Poll::SlowDown => interval = interval.saturating_add(t.slow_down_step),
            }
            if started.elapsed().saturating_add(interval) > lifetime {
                return Err(expired());
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// One device-code token request (RFC 8628 §3.4).
    async fn poll_once(
        &self,
        details: &StandardDeviceAuthorizationResponse,
    ) -> Result<Poll, AuthError> {
        const FLOW: &str = "device code sign-in";
        let form = oauth2::url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
            .append_pair("device_code", details.device_code().secret())
            .append_pair("client_id", &self.client_id)
            .finish();
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.token_url())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(form.into_bytes())
            .map_err(Self::bad_url)?;
        let response = self.http.send(request).await.map_err(|e| {
            map_token_error(
                FLOW,
                oauth2::RequestTokenError::<_, DeviceCodeErrorResponse>::Request(e),
            )
        })?;
        let body = response.body();
        if response.status().is_success() {
            return serde_json::from_slice::<BasicTokenResponse>(body)
                .map(|t| Poll::Token(Box::new(t)))
                .map_err(|_| AuthError::BadResponse {
                    flow: FLOW,
                    message: "the token response is not the expected JSON".into(),
                });
        }
        let Ok(err) = serde_json::from_slice::<DeviceCodeErrorResponse>(body) else {
            return Err(AuthError::BadResponse {
                flow: FLOW,
                message: format!("HTTP {} without an OAuth error", response.status().as_u16()),
            });
        };
        match err.error() {
            DeviceCodeErrorResponseType::AuthorizationPending => Ok(Poll::Pending),
            DeviceCodeErrorResponseType::SlowDown => Ok(Poll::SlowDown),
            other => Err(AuthError::Rejected {
                flow: FLOW,
                error: other.as_ref().to_string(),
                description: err
                    .error_description()
                    .map(|d| truncate(d.lines().next().unwrap_or_default(), 300)),
            }),
        }
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<AccessToken, AuthError> {
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(TokenUrl::new(self.token_url()).map_err(Self::bad_url)?);
        let rt = RefreshToken::new(refresh_token.expose_secret().to_string());
        let token = client
            .exchange_refresh_token(&rt)
            .add_scopes(self.scopes())
            .request_async(&self.http)
            .await
            .map_err(|e| map_token_error("refresh token", e))?;
        let access = AccessToken::new(
            token.access_token().secret().clone(),
            token.expires_in().map(|d| d.as_secs()),
        );
        // Entra rotates refresh tokens; keep the old one if none came back.
        let new_rt = token
            .refresh_token()
            .map(|r| SecretString::from(r.secret().clone()));
        self.write_cache(Some(new_rt.as_ref().unwrap_or(refresh_token)), &access)?;
        Ok(access)
    }

    fn cache_err(&self, path: &Path, message: String) -> AuthError {
        AuthError::Cache {
            path: path.to_path_buf(),
            message,
        }
    }

    fn read_cache(&self) -> Result<Option<CacheEntry>, AuthError> {
        let Some(path) = &self.cache_path else {
            return Ok(None);
        };
        // Opened once, without following a link or waiting on a FIFO; the trust checks run on
        // the opened handle, so the file cannot be swapped between the check and the read.
        let ignore = |why: &str| {
            // Someone else may have planted it; a fresh sign-in replaces it.
            eprintln!(
                "enroll-doctor: ignoring the token cache {}: {why}",
                crate::text_safety::shown(&path.display().to_string())
            );
            Ok(None)
        };
        let file = match open_cache(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if is_link_refused(&e) => return ignore("it is a symbolic link"),
            Err(e) => return Err(self.cache_err(path, e.to_string())),
        };
        let meta = file
            .metadata()
            .map_err(|e| self.cache_err(path, e.to_string()))?;
        if let Some(why) = untrusted_cache(&meta) {
            return ignore(&why);
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, MAX_CACHE_BYTES + 1),
            &mut bytes,
        )
        .map_err(|e| self.cache_err(path, e.to_string()))?;
        if bytes.len() as u64 > MAX_CACHE_BYTES {
            return ignore("it is larger than 1 MiB, not a cache this tool wrote");
        }
        let Ok(file) = serde_json::from_slice::<CacheFile>(&bytes) else {
            // A corrupt cache is not fatal: sign in again and overwrite it.
            tracing::warn!("ignoring unreadable token cache {}", path.display());
            return Ok(None);
        };
        if file.login_url != self.login_url
            || file.tenant != self.tenant
            || file.client_id != self.client_id
        {
            return Ok(None);
        }
        let access = match (file.access_token, file.expires_at) {
            (Some(t), Some(exp)) => {
                let a = AccessToken::from_cache(t, exp);
                if a.is_none() && exp > Utc::now() {
                    tracing::warn!(
                        "the cached access token claims to live until {exp}, longer than any token does; it is not used"
                    );
                }
                a
            }
            _ => None,
        };
        Ok(Some(CacheEntry {
            refresh_token: file.refresh_token.map(SecretString::from),
            access,
        }))
    }

    fn write_cache(
        &self,
        refresh: Option<&SecretString>,
        access: &AccessToken,
    ) -> Result<(), AuthError> {
        let file = CacheFile {
            version: 1,
            login_url: self.login_url.clone(),
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            refresh_token: refresh.map(|r| r.expose_secret().to_string()),
            access_token: Some(access.secret().to_string()),
            expires_at: Some(access.expires_at),
        };
        let Some(path) = &self.cache_path else {
            eprintln!(
                "enroll-doctor: the sign-in is not cached: no per-user cache folder is known (HOME or XDG_CACHE_HOME, LOCALAPPDATA on Windows); set ENROLL_DOCTOR_TOKEN_CACHE to keep it"
            );
            return Ok(());
        };
        let json =
            serde_json::to_vec_pretty(&file).map_err(|e| self.cache_err(path, e.to_string()))?;
        write_private_file(path, &json).map_err(|e| self.cache_err(path, e.to_string()))
    }
}

/// What the user is asked to do. The address and the code come from the identity server:
/// control characters in them are shown escaped (`\u{1b}`), never sent to the terminal.
fn sign_in_prompt(verification_uri: &str, user_code: &str, expires_in_secs: u64) -> String {
    format!(
        "To sign in, open {} in a browser and enter the code {} (it expires in {} minutes).",
        crate::text_safety::shown(verification_uri),
        crate::text_safety::shown(user_code),
        expires_in_secs.div_ceil(60)
    )
}

#[cfg(test)]
mod prompt_tests {
    use super::sign_in_prompt;

    #[test]
    fn a_user_code_or_address_with_terminal_escapes_is_shown_escaped() {
        let p = sign_in_prompt(
            "https://microsoft.com/devicelogin\u{1b}]8;;http://evil\u{7}",
            "ABCD\u{1b}[2J\u{9b}1;1H\u{202e}EFGH\nX",
            900,
        );
        assert!(
            !p.bytes()
                .any(|b| b == 0x1b || b == 0x07 || b == 0x9b || b == b'\n'),
            "{p}"
        );
        assert_eq!(
            p,
            "To sign in, open https://microsoft.com/devicelogin\\u{1b}]8;;http://evil\\u{7} in a \
             browser and enter the code ABCD\\u{1b}[2J\\u{9b}1;1H\\u{202e}EFGH\\u{a}X (it expires \
             in 15 minutes)."
        );
        let plain = sign_in_prompt("https://microsoft.com/devicelogin", "ABCD-EFGH", 61);
        assert_eq!(
            plain,
            "To sign in, open https://microsoft.com/devicelogin in a browser and enter the code \
             ABCD-EFGH (it expires in 2 minutes)."
        );
    }
}

/// A cache this tool writes is a few KiB; anything past this is not one.
const MAX_CACHE_BYTES: u64 = 1 << 20;

/// Opens the cache for reading without following a symbolic link (`O_NOFOLLOW`) and without
/// waiting for a FIFO's writer (`O_NONBLOCK`).
#[cfg(unix)]
fn open_cache(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_cache(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Whether the open failed because the path is a symbolic link (`ELOOP` under `O_NOFOLLOW`).
fn is_link_refused(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Why a cache file must not be trusted: a symbolic link, not a regular file, owned by another
/// user, or writable by group or others (any of whom could have put a token of theirs in it).
/// Readable by others is only warned about: the next sign-in rewrites it with mode 0600.
fn untrusted_cache(meta: &std::fs::Metadata) -> Option<String> {
    if meta.file_type().is_symlink() {
        return Some("it is a symbolic link".into());
    }
    if !meta.file_type().is_file() {
        return Some("it is not a regular file".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            return Some(format!(
                "it belongs to another user (uid {}, you are {me})",
                meta.uid()
            ));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o022 != 0 {
            return Some(format!(
                "other users may write to it (mode {mode:o}); it is replaced on the next sign-in"
            ));
        }
        if mode & 0o044 != 0 {
            tracing::warn!(
                "the token cache is readable by other users (mode {mode:o}); it is rewritten with mode 0600 on the next sign-in"
            );
        }
    }
    None
}

/// Writes `bytes` to `path` readable by the owner only (0600 on Unix; the parent folder 0700
/// when created). Written to a fresh temporary sibling first, then renamed over the target.
///
/// The temporary file is created exclusively (`O_CREAT|O_EXCL`, which never follows a symlink)
/// under an unpredictable name, so another local user cannot pre-plant a file or symlink there,
/// and it has mode 0600 from its first byte. The rename replaces a symlink at `path` itself
/// rather than writing through it.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(parent)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "token-cache".into());
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    // A clash with an existing name is astronomically unlikely; retry a few times anyway.
    let mut attempt = 0;
    let (tmp, mut file) = loop {
        attempt += 1;
        let tmp = path.with_file_name(format!(
            ".{file_name}.{}.tmp",
            uuid::Uuid::new_v4().simple()
        ));
        match opts.open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 5 => continue,
            Err(e) => return Err(e),
        }
    };
    let result = (|| {
        // The umask can only narrow the mode; make it exact in case the file system widened it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `auth logout`: removes the cache file. Returns whether one existed.
pub fn remove_cache(path: &Path) -> Result<bool, AuthError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(AuthError::Cache {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_file_is_0600_and_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("cache.json");
        write_private_file(&path, b"{\"a\":1}").unwrap();
        write_private_file(&path, b"{\"a\":2}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":2}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dmode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dmode, 0o700);
        }
        assert!(remove_cache(&path).unwrap());
        assert!(!remove_cache(&path).unwrap());
        // No temporary file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn private_file_tightens_an_existing_wide_file_and_replaces_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // A cache left world-readable by some other tool ends up 0600.
        let path = dir.path().join("cache.json");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_file(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");

        // A symlink planted at the cache path is replaced, never written through.
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, b"untouched").unwrap();
        let link = dir.path().join("linked.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_private_file(&link, b"secret").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_file(), "the symlink was replaced");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    fn fast_flow(url: &str, cache_path: Option<PathBuf>) -> DeviceCodeFlow {
        DeviceCodeFlow {
            http: OAuthHttp::new(std::time::Duration::from_secs(5), true).unwrap(),
            client_id: "c".into(),
            tenant: "t".into(),
            login_url: url.into(),
            scope: "https://graph.microsoft.com/.default".into(),
            cache_path,
            timing: DeviceCodeTiming {
                min_interval: Duration::from_millis(40),
                slow_down_step: Duration::from_millis(40),
                max_wait: Duration::from_millis(400),
            },
        }
    }

    /// A device-code endpoint saying `interval`, then token polls answered by `poll(n)`.
    fn device_server(
        interval: u64,
        expires_in: u64,
        poll: impl Fn(usize) -> crate::graph::test_server::Answer + Send + Sync + 'static,
    ) -> crate::graph::test_server::TestServer {
        use crate::graph::test_server::{Answer, serve};
        let polls = std::sync::atomic::AtomicUsize::new(0);
        serve(move |_, req| {
            if req.path.ends_with("/devicecode") {
                Answer::json(
                    200,
                    &format!(
                        "{{\"device_code\":\"dc\",\"user_code\":\"UC\",\"verification_uri\":\"https://microsoft.com/devicelogin\",\"expires_in\":{expires_in},\"interval\":{interval}}}"
                    ),
                )
            } else {
                poll(polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
            }
        })
    }

    fn token_polls(server: &crate::graph::test_server::TestServer) -> Vec<std::time::Instant> {
        server
            .seen()
            .iter()
            .filter(|r| r.path.ends_with("/token"))
            .inspect(|r| assert!(r.body.contains("device_code=dc"), "{}", r.body))
            .map(|r| r.at)
            .collect()
    }

    #[test]
    fn the_default_pace_is_rfc_8628s() {
        let t = DeviceCodeTiming::default();
        assert_eq!(t.min_interval, Duration::from_secs(5));
        assert_eq!(t.slow_down_step, Duration::from_secs(5));
        assert_eq!(t.max_wait, Duration::from_secs(900));
    }

    #[tokio::test]
    async fn interval_zero_is_not_polled_hot_and_the_wait_is_capped() {
        use crate::graph::test_server::Answer;
        // interval 0 and a code that "lives" for 31,000 years.
        let server = device_server(0, 1_000_000_000_000, |_| {
            Answer::json(400, "{\"error\":\"authorization_pending\"}")
        });
        let flow = fast_flow(&server.url, None);
        let err = flow.login().await.unwrap_err().to_string();
        assert!(
            err.contains("expired_token") && err.contains("not entered"),
            "{err}"
        );
        let polls = token_polls(&server);
        // 400 ms at one poll per 40 ms at most (the first poll is immediate).
        assert!(polls.len() >= 2 && polls.len() <= 11, "{}", polls.len());
        for w in polls.windows(2) {
            let gap = w[1] - w[0];
            assert!(gap >= Duration::from_millis(30), "{gap:?}");
        }
    }

    #[tokio::test]
    async fn retries_inside_one_poll_do_not_outlast_the_wait() {
        use crate::graph::test_server::Answer;
        // Every poll is throttled for 2 s; the identity client would retry it 5 times
        // (8 s in one poll) without the deadline.
        let server = device_server(0, 900, |_| {
            Answer::json(429, "{}").header("Retry-After", "2")
        });
        let mut flow = fast_flow(&server.url, None);
        flow.timing.max_wait = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let err = flow.login().await.unwrap_err().to_string();
        let waited = started.elapsed();
        assert!(err.contains("expired_token"), "{err}");
        // The cap plus slack for the device-code request and scheduling, far below 2 s.
        assert!(waited < Duration::from_millis(1500), "{waited:?}");
        assert_eq!(token_polls(&server).len(), 1);
    }

    #[test]
    fn the_prompt_shows_the_lifetime_that_is_polled_for() {
        let flow = DeviceCodeFlow {
            timing: DeviceCodeTiming::default(),
            ..fast_flow("http://127.0.0.1:1", None)
        };
        // The server says 166,666,666,667 minutes; the sign-in is waited for 15.
        let lifetime = flow.code_lifetime(Duration::from_secs(10_000_000_000_000));
        assert_eq!(lifetime, Duration::from_secs(900));
        let p = sign_in_prompt(
            "https://microsoft.com/devicelogin",
            "UC",
            lifetime.as_secs(),
        );
        assert!(p.ends_with("(it expires in 15 minutes)."), "{p}");
        // A shorter code lifetime is shown as it is.
        let short = flow.code_lifetime(Duration::from_secs(300));
        assert_eq!(short, Duration::from_secs(300));
    }

    #[tokio::test]
    async fn slow_down_widens_the_pause() {
        use crate::graph::test_server::Answer;
        let server = device_server(0, 900, |n| match n {
            0 | 1 => Answer::json(400, "{\"error\":\"slow_down\"}"),
            _ => Answer::json(
                200,
                "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"at\",\"refresh_token\":\"rt\"}",
            ),
        });
        let mut flow = fast_flow(&server.url, None);
        flow.timing.max_wait = Duration::from_secs(5);
        let token = flow.login().await.unwrap();
        assert_eq!(token.secret(), "at");
        let polls = token_polls(&server);
        assert_eq!(polls.len(), 3);
        // 40 + 40 ms after the first slow_down, 40 + 80 ms after the second.
        assert!(polls[1] - polls[0] >= Duration::from_millis(70));
        assert!(polls[2] - polls[1] >= Duration::from_millis(110));
    }

    #[tokio::test]
    async fn a_refused_sign_in_ends_the_polls() {
        use crate::graph::test_server::Answer;
        let server = device_server(0, 900, |_| {
            Answer::json(
                400,
                "{\"error\":\"access_denied\",\"error_description\":\"the user said no\"}",
            )
        });
        let err = fast_flow(&server.url, None).login().await.unwrap_err();
        assert!(err.to_string().contains("access_denied"), "{err}");
        assert_eq!(token_polls(&server).len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_others_own_or_may_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let f = fast_flow("http://127.0.0.1:1", Some(path.clone()));
        f.write_cache(
            Some(&SecretString::from("rt")),
            &AccessToken::new("at".into(), Some(3600)),
        )
        .unwrap();
        assert!(f.read_cache().unwrap().is_some());
        // Group- or world-writable: anyone could have put their token in it.
        for mode in [0o666, 0o620, 0o602] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            assert!(f.read_cache().unwrap().is_none(), "{mode:o}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(f.read_cache().unwrap().is_some());
        // A symbolic link to a good cache is not followed, and a FIFO is not waited on.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let via_link = fast_flow("http://127.0.0.1:1", Some(link));
        assert!(via_link.read_cache().unwrap().is_none());
        let fifo = dir.path().join("fifo.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let via_fifo = fast_flow("http://127.0.0.1:1", Some(fifo));
            assert!(via_fifo.read_cache().unwrap().is_none());
        }
        // Owned by another user (only root can make such a file here).
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
            assert!(f.read_cache().unwrap().is_none());
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert!(untrusted_cache(&meta).unwrap().contains("another user"));
        }
    }

    #[test]
    fn a_far_future_cached_expiry_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let f = fast_flow("http://127.0.0.1:1", Some(path.clone()));
        for exp in [
            "+262142-12-31T23:59:59Z",
            "9999-12-31T23:59:59Z",
            "-262143-01-01T00:00:00Z",
        ] {
            let json = format!(
                "{{\"version\":1,\"login_url\":\"http://127.0.0.1:1\",\"tenant\":\"t\",\"client_id\":\"c\",\"refresh_token\":\"rt\",\"access_token\":\"at\",\"expires_at\":\"{exp}\"}}"
            );
            write_private_file(&path, json.as_bytes()).unwrap();
            let entry = f
                .read_cache()
                .unwrap()
                .expect("the refresh token is still usable");
            assert!(entry.access.is_none(), "{exp}");
            assert!(entry.refresh_token.is_some());
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_cache_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let flow = |cache_path: PathBuf| DeviceCodeFlow {
            http: OAuthHttp::new(std::time::Duration::from_secs(1), true).unwrap(),
            client_id: "c".into(),
            tenant: "t".into(),
            login_url: "http://127.0.0.1:1".into(),
            scope: "https://graph.microsoft.com/.default".into(),
            cache_path: Some(cache_path),
            timing: DeviceCodeTiming::default(),
        };
        let real = dir.path().join("real.json");
        let f = flow(real.clone());
        f.write_cache(
            Some(&SecretString::from("rt")),
            &AccessToken::new("at".into(), Some(3600)),
        )
        .unwrap();
        assert!(f.read_cache().unwrap().is_some());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(flow(link).read_cache().unwrap().is_none());
    }
}
