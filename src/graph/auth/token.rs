//! The access token handed to the transport, and when a cached one counts as fresh.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::claims::{ClaimsError, TokenClaims};

/// The longest lifetime a token is believed to have: Entra's configurable maximum is one day.
pub const MAX_TOKEN_LIFETIME_SECS: u64 = 86_400;

/// A bearer token and its expiry. `Debug` shows only the expiry.
#[derive(Clone)]
pub struct AccessToken {
    pub(super) secret: SecretString,
    pub expires_at: DateTime<Utc>,
    pub obtained_at: DateTime<Utc>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl AccessToken {
    /// `expires_in` seconds from now (one hour when the server did not say), at most
    /// [`MAX_TOKEN_LIFETIME_SECS`]: the server's number is not trusted to be sane (10^13 once
    /// overflowed the date arithmetic).
    pub fn new(secret: String, expires_in: Option<u64>) -> AccessToken {
        let now = Utc::now();
        let secs = expires_in.unwrap_or(3600).min(MAX_TOKEN_LIFETIME_SECS);
        let secs = i64::try_from(secs).unwrap_or(3600);
        AccessToken {
            secret: SecretString::from(secret),
            expires_at: now
                .checked_add_signed(ChronoDuration::seconds(secs))
                .unwrap_or(now),
            obtained_at: now,
        }
    }

    /// A token read back from a cache: trusted only while `expires_at` is within
    /// [`MAX_TOKEN_LIFETIME_SECS`] of now (a far-future date is somebody's edit, not Entra's).
    /// Its issue time is not stored; Entra's usual one-hour lifetime is assumed.
    pub fn from_cache(secret: String, expires_at: DateTime<Utc>) -> Option<AccessToken> {
        let now = Utc::now();
        let latest =
            now.checked_add_signed(ChronoDuration::seconds(MAX_TOKEN_LIFETIME_SECS as i64))?;
        if expires_at > latest || expires_at <= now {
            return None;
        }
        Some(AccessToken {
            secret: SecretString::from(secret),
            expires_at,
            obtained_at: expires_at
                .checked_sub_signed(ChronoDuration::hours(1))
                .unwrap_or(now),
        })
    }

    /// The raw token, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        self.secret.expose_secret()
    }

    /// Still usable: more than the refresh margin (5 min, or half a short lifetime) left.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now.checked_add_signed(refresh_margin(self.obtained_at, self.expires_at))
            .is_some_and(|t| t < self.expires_at)
    }

    /// Decoded claims (diagnostics only).
    pub fn claims(&self) -> Result<TokenClaims, ClaimsError> {
        TokenClaims::decode(self.secret())
    }

    pub(super) fn same_as(&self, other: &AccessToken) -> bool {
        self.secret() == other.secret()
    }
}

/// How long a cached token counts as fresh before its expiry.
fn refresh_margin(obtained: DateTime<Utc>, expires: DateTime<Utc>) -> ChronoDuration {
    let lifetime = expires - obtained;
    std::cmp::min(ChronoDuration::minutes(5), lifetime / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_five_minutes_or_half_the_lifetime() {
        let t0 = Utc::now();
        assert_eq!(
            refresh_margin(t0, t0 + ChronoDuration::hours(1)),
            ChronoDuration::minutes(5)
        );
        assert_eq!(
            refresh_margin(t0, t0 + ChronoDuration::minutes(4)),
            ChronoDuration::minutes(2)
        );
    }

    #[test]
    fn absurd_expires_in_does_not_panic_and_is_clamped() {
        // 10^13 s once panicked with "DateTime + TimeDelta overflowed".
        for e in [10_000_000_000_000, i64::MAX as u64, u64::MAX] {
            let t = AccessToken::new("t".into(), Some(e));
            let life = t.expires_at - t.obtained_at;
            assert_eq!(
                life,
                ChronoDuration::seconds(MAX_TOKEN_LIFETIME_SECS as i64)
            );
            assert!(t.is_fresh(Utc::now()));
        }
        let t = AccessToken::new("t".into(), Some(0));
        assert!(!t.is_fresh(Utc::now()));
    }

    #[test]
    fn a_cached_far_future_expiry_is_not_trusted() {
        let now = Utc::now();
        for far in [
            DateTime::<Utc>::MAX_UTC,
            now + ChronoDuration::days(365 * 100),
            now + ChronoDuration::days(2),
        ] {
            assert!(AccessToken::from_cache("t".into(), far).is_none(), "{far}");
        }
        assert!(AccessToken::from_cache("t".into(), DateTime::<Utc>::MIN_UTC).is_none());
        let t = AccessToken::from_cache("t".into(), now + ChronoDuration::minutes(50)).unwrap();
        assert!(t.is_fresh(now));
    }

    #[test]
    fn access_token_debug_is_redacted() {
        let t = AccessToken::new("super-secret-token".into(), Some(3600));
        assert!(!format!("{t:?}").contains("super-secret-token"));
        assert!(t.is_fresh(Utc::now()));
        assert!(!t.is_fresh(Utc::now() + chrono::Duration::minutes(56)));
    }
}
