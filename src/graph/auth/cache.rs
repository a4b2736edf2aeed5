//! The delegated sign-in cache: one file, mode 0600, holding one entry per cloud (identity
//! platform URL), tenant, client and account, so `--tenant A` and `--tenant B` each reuse their
//! own sign-in. Device code and browser sign-ins share it.
//!
//! The file is written through a temporary file and a rename, so a reader never sees a
//! half-written file and the mode is right from the first byte. Reads refuse links, FIFOs,
//! files of other users and files others may write. Within one process, a read-modify-write
//! holds a lock, so concurrent sign-ins to several tenants do not lose each other's entries;
//! across processes the last writer wins (an entry lost that way costs one more sign-in).

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::claims::TokenClaims;
use super::error::AuthError;
use super::token::AccessToken;

/// At most this many sign-ins are kept; the least recently used go first.
pub const MAX_CACHE_ENTRIES: usize = 200;

/// Which sign-in is asked for: the identity platform (cloud), the tenant segment as requested
/// (`contoso.com`, a tenant id or `organizations`) and the client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub login_url: String,
    pub tenant: String,
    pub client_id: String,
}

/// A cached sign-in, secrets wrapped.
pub struct CachedSignIn {
    pub refresh_token: Option<SecretString>,
    pub access: Option<AccessToken>,
}

/// What `auth status` lists about a cached sign-in: no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheSummary {
    pub login_url: String,
    pub tenant: String,
    pub tenant_id: Option<String>,
    pub client_id: String,
    pub account: Option<String>,
    pub method: String,
    pub has_refresh_token: bool,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Entry {
    login_url: String,
    tenant: String,
    #[serde(default)]
    tenant_id: Option<String>,
    client_id: String,
    /// The account's object id, else its UPN, from the token; `None` when unreadable.
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    upn: Option<String>,
    #[serde(default = "default_method")]
    method: String,
    refresh_token: Option<String>,
    access_token: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    #[serde(default = "Utc::now")]
    updated_at: DateTime<Utc>,
}

fn default_method() -> String {
    "device-code".into()
}

#[derive(Serialize, Deserialize)]
struct CacheFileV2 {
    version: u32,
    entries: Vec<Entry>,
}

/// Version 1 held a single sign-in at the top level.
#[derive(Deserialize)]
struct CacheFileV1 {
    login_url: String,
    tenant: String,
    client_id: String,
    refresh_token: Option<String>,
    access_token: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

/// Serialises read-modify-write cycles of this process.
static CACHE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Entry {
    fn matches(&self, key: &CacheKey) -> bool {
        self.login_url == key.login_url
            && self.client_id.eq_ignore_ascii_case(&key.client_id)
            && (self.tenant.eq_ignore_ascii_case(&key.tenant)
                || self
                    .tenant_id
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(&key.tenant)))
    }

    fn same_slot(&self, other: &Entry) -> bool {
        self.login_url == other.login_url
            && self.client_id.eq_ignore_ascii_case(&other.client_id)
            && self.tenant.eq_ignore_ascii_case(&other.tenant)
            && self.account == other.account
    }
}

/// The cache file (or none: then nothing is cached and every run signs in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCache {
    path: Option<PathBuf>,
}

impl TokenCache {
    pub fn new(path: Option<PathBuf>) -> TokenCache {
        TokenCache { path }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn cache_err(path: &Path, message: String) -> AuthError {
        AuthError::Cache {
            path: path.to_path_buf(),
            message,
        }
    }

    /// The most recently used sign-in for `key`.
    pub fn load(&self, key: &CacheKey) -> Result<Option<CachedSignIn>, AuthError> {
        let Some(entries) = self.read_entries()? else {
            return Ok(None);
        };
        let Some(e) = entries
            .into_iter()
            .filter(|e| e.matches(key))
            .max_by_key(|e| e.updated_at)
        else {
            return Ok(None);
        };
        let access = match (e.access_token, e.expires_at) {
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
        Ok(Some(CachedSignIn {
            refresh_token: e.refresh_token.map(SecretString::from),
            access,
        }))
    }

    /// Keeps a new sign-in (or a refreshed one) for `key`, replacing the entry of the same
    /// account. `method` says how it was obtained (`browser`, `device-code`).
    pub fn store(
        &self,
        key: &CacheKey,
        method: &str,
        refresh: Option<&SecretString>,
        access: &AccessToken,
    ) -> Result<(), AuthError> {
        let Some(path) = &self.path else {
            eprintln!(
                "enroll-doctor: the sign-in is not cached: no per-user cache folder is known (HOME or XDG_CACHE_HOME, LOCALAPPDATA on Windows); set ENROLL_DOCTOR_TOKEN_CACHE to keep it"
            );
            return Ok(());
        };
        let claims = TokenClaims::decode(access.secret()).ok();
        let entry = Entry {
            login_url: key.login_url.clone(),
            tenant: key.tenant.clone(),
            tenant_id: claims.as_ref().and_then(|c| c.tenant_id.clone()),
            client_id: key.client_id.clone(),
            account: claims
                .as_ref()
                .and_then(|c| c.object_id.clone().or_else(|| c.upn.clone())),
            upn: claims.as_ref().and_then(|c| c.upn.clone()),
            method: method.to_string(),
            refresh_token: refresh.map(|r| r.expose_secret().to_string()),
            access_token: Some(access.secret().to_string()),
            expires_at: Some(access.expires_at),
            updated_at: Utc::now(),
        };
        let _guard = CACHE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let mut entries = self.read_entries()?.unwrap_or_default();
        entries.retain(|e| !e.same_slot(&entry));
        entries.push(entry);
        if entries.len() > MAX_CACHE_ENTRIES {
            entries.sort_by_key(|e| std::cmp::Reverse(e.updated_at));
            entries.truncate(MAX_CACHE_ENTRIES);
        }
        self.write_entries(path, entries)
    }

    /// The cached sign-ins, newest first, without secrets.
    pub fn list(&self) -> Result<Vec<CacheSummary>, AuthError> {
        let mut entries = self.read_entries()?.unwrap_or_default();
        entries.sort_by_key(|e| std::cmp::Reverse(e.updated_at));
        Ok(entries
            .into_iter()
            .map(|e| CacheSummary {
                login_url: e.login_url,
                tenant: e.tenant,
                tenant_id: e.tenant_id,
                client_id: e.client_id,
                account: e.upn.or(e.account),
                method: e.method,
                has_refresh_token: e.refresh_token.is_some(),
                access_expires_at: e.expires_at,
                updated_at: e.updated_at,
            })
            .collect())
    }

    /// `auth logout`: removes the sign-ins for `key` (every account), or all of them with
    /// `None` (the file goes). Returns how many were removed.
    pub fn remove(&self, key: Option<&CacheKey>) -> Result<usize, AuthError> {
        let Some(path) = &self.path else {
            return Ok(0);
        };
        let _guard = CACHE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let entries = self.read_entries()?;
        let Some(key) = key else {
            // A file not trusted (so not read) is deleted all the same: count it as one.
            let n = entries.map_or(1, |e| e.len().max(1));
            return remove_cache(path).map(|existed| if existed { n } else { 0 });
        };
        let Some(mut entries) = entries else {
            return Ok(0);
        };
        let before = entries.len();
        entries.retain(|e| !e.matches(key));
        let removed = before - entries.len();
        if removed > 0 {
            if entries.is_empty() {
                remove_cache(path)?;
            } else {
                self.write_entries(path, entries)?;
            }
        }
        Ok(removed)
    }

    fn write_entries(&self, path: &Path, entries: Vec<Entry>) -> Result<(), AuthError> {
        let json = serde_json::to_vec_pretty(&CacheFileV2 {
            version: 2,
            entries,
        })
        .map_err(|e| Self::cache_err(path, e.to_string()))?;
        write_private_file(path, &json).map_err(|e| Self::cache_err(path, e.to_string()))
    }

    /// The entries of a trusted cache file; `None` when there is none or it is not trusted.
    fn read_entries(&self) -> Result<Option<Vec<Entry>>, AuthError> {
        let Some(path) = &self.path else {
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
            Err(e) => return Err(Self::cache_err(path, e.to_string())),
        };
        let meta = file
            .metadata()
            .map_err(|e| Self::cache_err(path, e.to_string()))?;
        if let Some(why) = untrusted_cache(&meta) {
            return ignore(&why);
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, MAX_CACHE_BYTES + 1),
            &mut bytes,
        )
        .map_err(|e| Self::cache_err(path, e.to_string()))?;
        if bytes.len() as u64 > MAX_CACHE_BYTES {
            return ignore("it is larger than 1 MiB, not a cache this tool wrote");
        }
        if let Ok(v2) = serde_json::from_slice::<CacheFileV2>(&bytes)
            && v2.version == 2
        {
            return Ok(Some(v2.entries));
        }
        if let Ok(v1) = serde_json::from_slice::<CacheFileV1>(&bytes) {
            return Ok(Some(vec![Entry {
                login_url: v1.login_url,
                tenant: v1.tenant,
                tenant_id: None,
                client_id: v1.client_id,
                account: None,
                upn: None,
                method: default_method(),
                refresh_token: v1.refresh_token,
                access_token: v1.access_token,
                expires_at: v1.expires_at,
                updated_at: DateTime::<Utc>::UNIX_EPOCH,
            }]));
        }
        // A corrupt cache is not fatal: sign in again and overwrite it.
        tracing::warn!("ignoring unreadable token cache {}", path.display());
        Ok(None)
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
pub(super) fn remove_cache(path: &Path) -> Result<bool, AuthError> {
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

    fn key(tenant: &str) -> CacheKey {
        CacheKey {
            login_url: "http://127.0.0.1:1".into(),
            tenant: tenant.into(),
            client_id: "c".into(),
        }
    }

    fn jwt(claims: serde_json::Value) -> String {
        super::super::claims::fake_jwt(&claims)
    }

    fn token(tid: &str, oid: &str) -> AccessToken {
        let t = jwt(serde_json::json!({
            "tid": tid, "oid": oid, "upn": format!("{oid}@{tid}"),
            "exp": Utc::now().timestamp() + 3600
        }));
        AccessToken::new(t, Some(3600))
    }

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

    #[test]
    fn tenants_and_accounts_each_keep_their_own_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(Some(dir.path().join("cache.json")));
        let (a, b) = (token("tid-a", "u1"), token("tid-b", "u2"));
        cache
            .store(
                &key("a.example"),
                "browser",
                Some(&SecretString::from("rt-a")),
                &a,
            )
            .unwrap();
        cache
            .store(
                &key("b.example"),
                "device-code",
                Some(&SecretString::from("rt-b")),
                &b,
            )
            .unwrap();
        let got = cache.load(&key("a.example")).unwrap().unwrap();
        assert_eq!(got.refresh_token.unwrap().expose_secret(), "rt-a");
        assert_eq!(got.access.unwrap().secret(), a.secret());
        // The tenant id the token named finds the same sign-in.
        let got = cache.load(&key("tid-b")).unwrap().unwrap();
        assert_eq!(got.refresh_token.unwrap().expose_secret(), "rt-b");
        assert!(cache.load(&key("c.example")).unwrap().is_none());
        let other_client = CacheKey {
            client_id: "d".into(),
            ..key("a.example")
        };
        assert!(cache.load(&other_client).unwrap().is_none());
        // A refresh replaces the account's entry; a second account adds one.
        cache
            .store(
                &key("a.example"),
                "browser",
                Some(&SecretString::from("rt-a2")),
                &a,
            )
            .unwrap();
        let second = token("tid-a", "u3");
        cache
            .store(
                &key("a.example"),
                "browser",
                Some(&SecretString::from("rt-a3")),
                &second,
            )
            .unwrap();
        let list = cache.list().unwrap();
        assert_eq!(list.len(), 3, "{list:?}");
        assert_eq!(list[0].account.as_deref(), Some("u3@tid-a"));
        assert_eq!(list[0].method, "browser");
        assert!(list.iter().all(|e| e.has_refresh_token));
        // The most recent account of a tenant is used.
        let got = cache.load(&key("a.example")).unwrap().unwrap();
        assert_eq!(got.refresh_token.unwrap().expose_secret(), "rt-a3");
        // No secret in what is listed.
        let shown = serde_json::to_string(&list).unwrap();
        assert!(
            !shown.contains("rt-a") && !shown.contains(a.secret()),
            "{shown}"
        );
        assert_eq!(cache.remove(Some(&key("a.example"))).unwrap(), 2);
        assert!(cache.load(&key("a.example")).unwrap().is_none());
        assert!(cache.load(&key("b.example")).unwrap().is_some());
        assert_eq!(cache.remove(None).unwrap(), 1);
        assert!(cache.list().unwrap().is_empty());
        assert_eq!(cache.remove(None).unwrap(), 0);
    }

    #[test]
    fn a_version_1_cache_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let json = "{\"version\":1,\"login_url\":\"http://127.0.0.1:1\",\"tenant\":\"t\",\"client_id\":\"c\",\"refresh_token\":\"rt\",\"access_token\":null,\"expires_at\":null}";
        write_private_file(&path, json.as_bytes()).unwrap();
        let cache = TokenCache::new(Some(path));
        let got = cache.load(&key("t")).unwrap().unwrap();
        assert_eq!(got.refresh_token.unwrap().expose_secret(), "rt");
        // A new sign-in for another tenant keeps the old one.
        cache
            .store(&key("u"), "browser", None, &token("u", "x"))
            .unwrap();
        assert_eq!(cache.list().unwrap().len(), 2);
    }

    #[test]
    fn concurrent_stores_lose_no_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(Some(dir.path().join("cache.json")));
        std::thread::scope(|s| {
            for i in 0..8 {
                let cache = &cache;
                s.spawn(move || {
                    let t = format!("t{i}");
                    cache
                        .store(&key(&t), "browser", None, &token(&t, "u"))
                        .unwrap();
                });
            }
        });
        assert_eq!(cache.list().unwrap().len(), 8);
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_others_own_or_may_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let f = TokenCache::new(Some(path.clone()));
        f.store(
            &key("t"),
            "device-code",
            Some(&SecretString::from("rt")),
            &AccessToken::new("at".into(), Some(3600)),
        )
        .unwrap();
        assert!(f.load(&key("t")).unwrap().is_some());
        // Group- or world-writable: anyone could have put their token in it.
        for mode in [0o666, 0o620, 0o602] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            assert!(f.load(&key("t")).unwrap().is_none(), "{mode:o}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(f.load(&key("t")).unwrap().is_some());
        // A symbolic link to a good cache is not followed, and a FIFO is not waited on.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(
            TokenCache::new(Some(link))
                .load(&key("t"))
                .unwrap()
                .is_none()
        );
        let fifo = dir.path().join("fifo.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(
                TokenCache::new(Some(fifo))
                    .load(&key("t"))
                    .unwrap()
                    .is_none()
            );
        }
        // Owned by another user (only root can make such a file here).
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
            assert!(f.load(&key("t")).unwrap().is_none());
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert!(untrusted_cache(&meta).unwrap().contains("another user"));
        }
    }

    /// `auth logout --all` deletes a cache it does not trust (another user may write to it)
    /// and says so, rather than "no cached sign-in".
    #[cfg(unix)]
    #[test]
    fn logout_all_counts_an_untrusted_cache_it_deletes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let f = TokenCache::new(Some(path.clone()));
        f.store(&key("t"), "browser", None, &token("t", "u"))
            .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(f.load(&key("t")).unwrap().is_none(), "not trusted");
        assert!(f.remove(None).unwrap() >= 1);
        assert!(!path.exists());
        assert_eq!(f.remove(None).unwrap(), 0);
    }

    #[test]
    fn a_far_future_cached_expiry_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        let f = TokenCache::new(Some(path.clone()));
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
                .load(&key("t"))
                .unwrap()
                .expect("the refresh token is still usable");
            assert!(entry.access.is_none(), "{exp}");
            assert!(entry.refresh_token.is_some());
        }
    }
}
