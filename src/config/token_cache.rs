//! Where the sign-in is cached: a per-user folder only, never a shared one.

use std::path::PathBuf;

use super::non_empty;

/// The per-user token cache file, from the environment: `%LOCALAPPDATA%` (the per-user
/// profile) on Windows, `$XDG_CACHE_HOME` or `$HOME/.cache` elsewhere. `None` when none is set
/// (or only a relative one): there is no shared fallback such as the temp folder, where another
/// local user could plant a cache whose token would be used.
pub fn default_token_cache(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    token_cache_in(env, cfg!(windows))
}

pub(super) fn token_cache_in(
    env: &dyn Fn(&str) -> Option<String>,
    windows: bool,
) -> Option<PathBuf> {
    let absolute = |k: &str| {
        non_empty(env(k))
            .map(PathBuf::from)
            .filter(|p| p.is_absolute() || (windows && p.has_root()))
    };
    let base = if windows {
        absolute("LOCALAPPDATA")
    } else {
        absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".cache")))
    }?;
    Some(base.join("enroll-doctor").join("token-cache.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_cache_default_is_under_the_user_cache_dir() {
        let p = token_cache_in(&|k| (k == "HOME").then(|| "/home/ann".to_string()), false);
        assert_eq!(
            p,
            Some(PathBuf::from(
                "/home/ann/.cache/enroll-doctor/token-cache.json"
            ))
        );
        let p = token_cache_in(
            &|k| (k == "XDG_CACHE_HOME").then(|| "/xdg".to_string()),
            false,
        );
        assert_eq!(
            p,
            Some(PathBuf::from("/xdg/enroll-doctor/token-cache.json"))
        );
    }

    #[test]
    fn no_shared_temp_folder_fallback_for_the_token_cache() {
        // Without HOME / XDG_CACHE_HOME there is no per-user folder: no cache at all, never
        // the shared temp folder.
        assert_eq!(token_cache_in(&|_| None, false), None);
        assert_eq!(token_cache_in(&|_| None, true), None);
        // LOCALAPPDATA is the Windows profile's; elsewhere it is not a reason to cache.
        let local = |k: &str| (k == "LOCALAPPDATA").then(|| "/profiles/ann/AppData/Local".into());
        assert_eq!(token_cache_in(&local, false), None);
        assert!(token_cache_in(&local, true).is_some());
        // A relative HOME would put the cache wherever the tool is run.
        assert_eq!(
            token_cache_in(&|k| (k == "HOME").then(|| "rel".to_string()), false),
            None
        );
    }
}
