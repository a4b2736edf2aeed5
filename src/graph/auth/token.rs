//! The access token handed to the transport, and when a cached one counts as fresh.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::claims::{ClaimsError, TokenClaims};

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
    /// `expires_in` seconds from now (one hour when the server did not say).
    pub fn new(secret: String, expires_in: Option<u64>) -> AccessToken {
        let now = Utc::now();
        let secs = i64::try_from(expires_in.unwrap_or(3600)).unwrap_or(3600);
        AccessToken {
            secret: SecretString::from(secret),
            expires_at: now + chrono::Duration::seconds(secs),
            obtained_at: now,
        }
    }

    /// The raw token, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        self.secret.expose_secret()
    }

    /// Still usable: more than the refresh margin (5 min, or half a short lifetime) left.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now + refresh_margin(self.obtained_at, self.expires_at) < self.expires_at
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
    fn access_token_debug_is_redacted() {
        let t = AccessToken::new("super-secret-token".into(), Some(3600));
        assert!(!format!("{t:?}").contains("super-secret-token"));
        assert!(t.is_fresh(Utc::now()));
        assert!(!t.is_fresh(Utc::now() + chrono::Duration::minutes(56)));
    }
}
