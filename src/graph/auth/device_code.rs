//! Delegated sign-in with the device code flow, and its token cache file.
//!
//! The cache holds the refresh token (and the last access token) for one tenant + client +
//! authority. It is written with mode 0600 through a temporary file and a rename, so a reader
//! never sees a half-written file and the mode is right from the first byte.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, DeviceAuthorizationUrl, RefreshToken, Scope,
    StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::error::AuthError;
use super::oauth_http::{OAuthHttp, map_token_error};
use super::token::AccessToken;

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
    pub cache_path: PathBuf,
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
        // The user code is meant to be shown; the device code is the secret and is not.
        eprintln!(
            "{}",
            sign_in_prompt(
                details.verification_uri().as_str(),
                details.user_code().secret(),
                details.expires_in().as_secs(),
            )
        );
        let token = client
            .exchange_device_access_token(&details)
            .request_async(&self.http, tokio::time::sleep, None)
            .await
            .map_err(|e| map_token_error("device code sign-in", e))?;
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

    fn cache_err(&self, message: String) -> AuthError {
        AuthError::Cache {
            path: self.cache_path.clone(),
            message,
        }
    }

    fn read_cache(&self) -> Result<Option<CacheEntry>, AuthError> {
        match std::fs::symlink_metadata(&self.cache_path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                // Someone else may have planted it; a fresh sign-in replaces it with a file.
                tracing::warn!(
                    "ignoring token cache {}: it is a symbolic link",
                    self.cache_path.display()
                );
                return Ok(None);
            }
            #[cfg(unix)]
            Ok(meta) => {
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(
                        "token cache {} is readable by other users; it is rewritten with mode 0600 on the next sign-in",
                        self.cache_path.display()
                    );
                }
            }
            _ => {}
        }
        let bytes = match std::fs::read(&self.cache_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.cache_err(e.to_string())),
        };
        let Ok(file) = serde_json::from_slice::<CacheFile>(&bytes) else {
            // A corrupt cache is not fatal: sign in again and overwrite it.
            tracing::warn!(
                "ignoring unreadable token cache {}",
                self.cache_path.display()
            );
            return Ok(None);
        };
        if file.login_url != self.login_url
            || file.tenant != self.tenant
            || file.client_id != self.client_id
        {
            return Ok(None);
        }
        let access = match (file.access_token, file.expires_at) {
            (Some(t), Some(exp)) => Some(AccessToken {
                secret: SecretString::from(t),
                expires_at: exp,
                // The issue time is not stored; assume Entra's usual one-hour lifetime.
                obtained_at: exp - ChronoDuration::hours(1),
            }),
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
        let json = serde_json::to_vec_pretty(&file).map_err(|e| self.cache_err(e.to_string()))?;
        write_private_file(&self.cache_path, &json).map_err(|e| self.cache_err(e.to_string()))
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
            cache_path,
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
