//! When to retry and how long to wait.

use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// A server's `Retry-After` from this long on is announced on stderr.
const ANNOUNCE_FROM: Duration = Duration::from_secs(10);
/// At most one announcement this often (many requests are throttled together).
const ANNOUNCE_EVERY: Duration = Duration::from_secs(10);
static LAST_ANNOUNCED: Mutex<Option<Instant>> = Mutex::new(None);

/// What to say when `who` asked to wait `asked` and the policy waits `wait`; `None` below
/// [`ANNOUNCE_FROM`].
pub fn wait_note(who: &str, asked: Duration, wait: Duration) -> Option<String> {
    if asked < ANNOUNCE_FROM {
        return None;
    }
    let asked_s = asked.as_secs();
    Some(if wait < asked {
        format!(
            "{who} asked to wait {asked_s} s; waiting up to {} s (http.max_retry_wait_secs)",
            wait.as_secs()
        )
    } else {
        format!("{who} asked to wait {asked_s} s; waiting")
    })
}

/// Statuses worth another attempt, for Graph requests and `$batch` items: throttling (429), service unavailable (503) and gateway timeout (504) —
/// the transient statuses Graph documents, which come with or without `Retry-After`. A 500 or
/// 502 is answered at once: it usually repeats for the same request (a query an endpoint
/// cannot serve), and retrying it only delays the error.
pub const RETRYABLE_STATUSES: [u16; 3] = [429, 503, 504];

/// Whether `status` is one of [`RETRYABLE_STATUSES`].
pub fn is_retryable_status(status: u16) -> bool {
    RETRYABLE_STATUSES.contains(&status)
}

/// The identity endpoints' set: Graph's, plus 500 and 502. A sign-in is one request the whole
/// run waits on, so a transient server error there (the OAuth `server_error` comes as a 500)
/// is worth another attempt; a query Graph cannot serve is not a thing a token request has.
pub const IDENTITY_RETRYABLE_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

/// Whether an identity endpoint's `status` is one of [`IDENTITY_RETRYABLE_STATUSES`].
pub fn is_retryable_identity_status(status: u16) -> bool {
    IDENTITY_RETRYABLE_STATUSES.contains(&status)
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

    /// [`Self::wait`], and a note on stderr when the server asked for a long wait (whether it
    /// is honoured or capped by `max_wait`), at most one every few seconds.
    pub fn wait_announced(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        who: &str,
    ) -> Duration {
        let wait = self.wait(attempt, retry_after);
        if let Some(note) = retry_after.and_then(|ra| wait_note(who, ra, wait)) {
            let now = Instant::now();
            let mut last = LAST_ANNOUNCED.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_none_or(|t| now.duration_since(t) >= ANNOUNCE_EVERY) {
                *last = Some(now);
                eprintln!("enroll-doctor: {note}");
            }
        }
        wait
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
    fn long_waits_are_announced_with_the_cap() {
        let p = RetryPolicy::default();
        let ra = Duration::from_secs(3600);
        let wait = p.wait_announced(1, Some(ra), "Graph");
        assert_eq!(wait, Duration::from_secs(120));
        assert_eq!(
            wait_note("Graph", ra, wait).unwrap(),
            "Graph asked to wait 3600 s; waiting up to 120 s (http.max_retry_wait_secs)"
        );
        assert_eq!(
            wait_note("Graph", Duration::from_secs(30), Duration::from_secs(30)).unwrap(),
            "Graph asked to wait 30 s; waiting"
        );
        assert_eq!(
            wait_note("Graph", Duration::from_secs(2), Duration::from_secs(2)),
            None
        );
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
