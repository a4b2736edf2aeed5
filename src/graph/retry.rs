//! When to retry and how long to wait.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Retry policy of the Graph client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request including the first (at least 1).
    pub max_attempts: u32,
    /// First backoff step when the server gave no Retry-After; doubles each attempt.
    pub base_backoff: Duration,
    /// Upper bound of the exponential backoff.
    pub max_backoff: Duration,
    /// Upper bound of any single wait, Retry-After included (keeps tests and CI short).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_wait: Duration::from_secs(120),
        }
    }
}

/// Statuses worth another attempt: throttling and gateway/service unavailability.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs >= 0.0
    {
        // `try_`: a huge or infinite value from the server must not panic; it is capped later.
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    // IMF-fixdate (what servers send) and RFC 2822 variants; then the two obsolete HTTP-date
    // forms RFC 9110 still asks recipients to accept (RFC 850 and asctime).
    let when = DateTime::parse_from_rfc2822(v)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(v, "%A, %d-%b-%y %H:%M:%S GMT")
                .ok()
                .map(|n| n.and_utc())
        })
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(v, "%a %b %e %H:%M:%S %Y")
                .ok()
                .map(|n| n.and_utc())
        })?;
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

impl RetryPolicy {
    /// Wait before attempt `attempt + 1` (`attempt` starts at 1): the server's Retry-After if
    /// any, else `base * 2^(attempt-1)` capped, with "equal jitter" (between half and all of it).
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let d = match retry_after {
            Some(ra) => ra,
            None => {
                let exp = self
                    .base_backoff
                    .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
                let capped = exp.min(self.max_backoff);
                let half = capped / 2;
                half + half.mul_f64(rand::random::<f64>())
            }
        };
        d.min(self.max_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_date() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Fri, 27 Nov 2026 03:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Fri, 27 Nov 2026 02:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(
            parse_retry_after("0.5", now),
            Some(Duration::from_millis(500))
        );
        // Obsolete HTTP-date forms.
        assert_eq!(
            parse_retry_after("Friday, 27-Nov-26 03:00:09 GMT", now),
            Some(Duration::from_secs(9))
        );
        assert_eq!(
            parse_retry_after("Fri Nov 27 03:00:04 2026", now),
            Some(Duration::from_secs(4))
        );
    }

    #[test]
    fn absurd_retry_after_does_not_panic_and_is_capped() {
        let now = Utc::now();
        let p = RetryPolicy::default();
        for v in ["1e300", "inf", "18446744073709551616", "NaN"] {
            let ra = parse_retry_after(v, now);
            assert!(p.wait(1, ra) <= p.max_wait, "{v}");
        }
        assert_eq!(parse_retry_after("inf", now), Some(Duration::MAX));
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            max_wait: Duration::from_secs(10),
        };
        for _ in 0..50 {
            let w1 = p.wait(1, None);
            assert!(w1 >= Duration::from_millis(50) && w1 <= Duration::from_millis(100));
            let w3 = p.wait(3, None);
            assert!(w3 >= Duration::from_millis(175) && w3 <= Duration::from_millis(350));
        }
        // Retry-After wins but is capped by max_wait.
        assert_eq!(
            p.wait(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.wait(1, Some(Duration::from_secs(30))),
            Duration::from_secs(10)
        );
    }
}
