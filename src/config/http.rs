//! The `[http]` table: how the Graph and identity clients behave, each value merged from the
//! file and the environment and checked against a range (a value outside it is a
//! [`ConfigError::Invalid`] naming the field, never a panic deep in the transport).

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, FileConfig, env_vars as ev, non_empty};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHttpConfig {
    pub concurrency: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub max_attempts: Option<u64>,
    pub max_retry_wait_secs: Option<u64>,
    pub max_response_mib: Option<u64>,
}

/// HTTP behaviour of the Graph and identity clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Requests in flight at once, across all tasks.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts per request, including the first.
    pub max_attempts: u32,
    /// Cap on any single wait between attempts (Retry-After or backoff).
    pub max_retry_wait: Duration,
    /// Largest response body read from Graph or the identity platform, in bytes.
    pub max_response_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            concurrency: 8,
            timeout: Duration::from_secs(60),
            max_attempts: 5,
            max_retry_wait: Duration::from_secs(120),
            max_response_bytes: 64 * MIB,
        }
    }
}

const MIB: u64 = 1024 * 1024;

impl HttpSettings {
    /// The most requests in flight at once: the top of `http.concurrency`'s range, and the
    /// bound the Graph client puts on any value it is given.
    pub const MAX_CONCURRENCY: usize = 256;
}

/// One `[http]` key: its file name, its environment variable (if any) and its range.
struct Key {
    file_key: &'static str,
    env: Option<&'static str>,
    min: u64,
    max: u64,
    unit: &'static str,
}

/// The accepted ranges. Wider values are never useful and some break the transport (a
/// concurrency of 2^61 overflows tokio's semaphore; a timeout of 0 fails every request).
const CONCURRENCY: Key = Key {
    file_key: "concurrency",
    env: Some(ev::CONCURRENCY),
    min: 1,
    max: HttpSettings::MAX_CONCURRENCY as u64,
    unit: "",
};
const TIMEOUT: Key = Key {
    file_key: "timeout_secs",
    env: Some(ev::TIMEOUT_SECS),
    min: 1,
    max: 3600,
    unit: " seconds",
};
const ATTEMPTS: Key = Key {
    file_key: "max_attempts",
    env: None,
    min: 1,
    max: 20,
    unit: "",
};
const RETRY_WAIT: Key = Key {
    file_key: "max_retry_wait_secs",
    env: Some(ev::MAX_RETRY_WAIT_SECS),
    min: 0,
    max: 3600,
    unit: " seconds",
};
const RESPONSE_MIB: Key = Key {
    file_key: "max_response_mib",
    env: Some(ev::MAX_RESPONSE_MIB),
    min: 1,
    max: 4096,
    unit: " MiB",
};

impl Key {
    /// The value from the environment (which wins) or the file, checked against the range.
    fn resolve(
        &self,
        file: &FileConfig,
        from_file: Option<u64>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<u64>, ConfigError> {
        let (value, field) = match self.env.and_then(|k| non_empty(env(k)).map(|v| (k, v))) {
            Some((k, v)) => {
                let n = v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                    field: k.to_string(),
                    value: v.clone(),
                    reason: format!(
                        "expected a whole number from {} to {}{}",
                        self.min, self.max, self.unit
                    ),
                })?;
                (n, k.to_string())
            }
            None => match from_file {
                Some(n) => (n, file.field(&format!("http.{}", self.file_key))),
                None => return Ok(None),
            },
        };
        if !(self.min..=self.max).contains(&value) {
            return Err(ConfigError::Invalid {
                field,
                value: value.to_string(),
                reason: format!("must be from {} to {}{}", self.min, self.max, self.unit),
            });
        }
        Ok(Some(value))
    }
}

impl HttpSettings {
    /// Defaults, overridden by the file's `[http]` table, overridden by the environment.
    pub(super) fn resolve(
        file: &FileConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<HttpSettings, ConfigError> {
        let h = &file.http;
        let mut http = HttpSettings::default();
        if let Some(v) = CONCURRENCY.resolve(file, h.concurrency, env)? {
            // In range (≤ 256), so it fits.
            http.concurrency = usize::try_from(v).unwrap_or(http.concurrency);
        }
        if let Some(v) = TIMEOUT.resolve(file, h.timeout_secs, env)? {
            http.timeout = Duration::from_secs(v);
        }
        if let Some(v) = ATTEMPTS.resolve(file, h.max_attempts, env)? {
            http.max_attempts = u32::try_from(v).unwrap_or(http.max_attempts);
        }
        if let Some(v) = RETRY_WAIT.resolve(file, h.max_retry_wait_secs, env)? {
            http.max_retry_wait = Duration::from_secs(v);
        }
        if let Some(v) = RESPONSE_MIB.resolve(file, h.max_response_mib, env)? {
            http.max_response_bytes = v * MIB;
        }
        Ok(http)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;

    fn resolve(toml: &str, env: &[(&str, &str)]) -> Result<HttpSettings, ConfigError> {
        let file = FileConfig::parse(toml, Path::new("c.toml")).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HttpSettings::resolve(&file, &|k| env.get(k).cloned())
    }

    #[test]
    fn http_settings_from_file_and_env() {
        let file = FileConfig::parse(
            "[http]\nconcurrency = 3\ntimeout_secs = 5\nmax_attempts = 2\nmax_retry_wait_secs = 1\n",
            Path::new("x.toml"),
        )
        .unwrap();
        let flags = super::super::FlagOverrides {
            auth: Some(super::super::AuthMethod::AzureCli),
            ..Default::default()
        };
        let s = super::super::Settings::from_map(
            Some(&file),
            &env_map(&[("ENROLL_DOCTOR_CONCURRENCY", "4")]),
            &flags,
        )
        .unwrap();
        assert_eq!(s.http.concurrency, 4);
        assert_eq!(s.http.timeout, Duration::from_secs(5));
        assert_eq!(s.http.max_attempts, 2);
        assert_eq!(s.http.max_retry_wait, Duration::from_secs(1));
        let err = super::super::Settings::from_map(
            Some(&file),
            &env_map(&[("ENROLL_DOCTOR_CONCURRENCY", "x")]),
            &flags,
        )
        .unwrap_err();
        assert!(err.to_string().contains("ENROLL_DOCTOR_CONCURRENCY"));
    }

    fn env_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn huge_concurrency_is_a_config_error_naming_the_field() {
        // 2^61 once reached tokio's semaphore and panicked.
        let err = resolve("[http]\nconcurrency = 2305843009213693952\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("http.concurrency (in c.toml)"), "{err}");
        assert!(err.contains("from 1 to 256"), "{err}");
        let err = resolve("", &[("ENROLL_DOCTOR_CONCURRENCY", "2305843009213693952")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ENROLL_DOCTOR_CONCURRENCY"), "{err}");
        let err = resolve(
            "",
            &[("ENROLL_DOCTOR_CONCURRENCY", "99999999999999999999999")],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("ENROLL_DOCTOR_CONCURRENCY"), "{err}");
        assert_eq!(
            resolve("[http]\nconcurrency = 256\n", &[])
                .unwrap()
                .concurrency,
            256
        );
    }

    #[test]
    fn every_key_has_a_range() {
        for (toml, field) in [
            ("timeout_secs = 0", "http.timeout_secs"),
            ("timeout_secs = 9223372036854775807", "http.timeout_secs"),
            ("max_attempts = 0", "http.max_attempts"),
            ("max_attempts = 4294967297", "http.max_attempts"),
            ("max_retry_wait_secs = 99999999", "http.max_retry_wait_secs"),
            ("max_response_mib = 0", "http.max_response_mib"),
            ("max_response_mib = 17592186044416", "http.max_response_mib"),
        ] {
            let err = resolve(&format!("[http]\n{toml}\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{toml}: {err}");
        }
        let h = resolve("[http]\nmax_response_mib = 2\n", &[]).unwrap();
        assert_eq!(h.max_response_bytes, 2 * 1024 * 1024);
        let h = resolve("", &[("ENROLL_DOCTOR_MAX_RESPONSE_MIB", "3")]).unwrap();
        assert_eq!(h.max_response_bytes, 3 * 1024 * 1024);
        assert_eq!(resolve("", &[]).unwrap(), HttpSettings::default());
    }
}
