//! Fault rules as text, for the `mock-graph` binary (`--fault`, `--faults FILE`) and anyone who
//! wants to reproduce a fault run without writing Rust.
//!
//! ```text
//! RULE   := [METHOD] [PREFIX] OPTION...
//! METHOD := GET | POST | PUT | PATCH | DELETE | HEAD      (absent: any method)
//! PREFIX := a path prefix starting with '/': /v1.0/users, /beta/policies, /v1.0/$batch,
//!           /{tenant}/oauth2/v2.0/token; absent or '*': every Graph request and batch item
//!           (not the $batch envelope, not the identity endpoints)
//! OPTION := one fault:
//!             status=429            429 TooManyRequests
//!             status=500..599       a Graph server error with that status
//!             expired-token         401 InvalidAuthenticationToken (token expired)
//!             reset                 close the connection without answering
//!             truncated             200 with half the JSON body
//!             html                  200 with an HTML error page
//!             next-link-loop        nextLink = the URL just requested
//!             endless-next-links    empty pages, a new nextLink each time
//!             huge-body=BYTES       200 JSON of BYTES bytes
//!             next-link=URL         nextLink = URL (e.g. another host)
//!             latency=MS            answer MS milliseconds later
//!           and modifiers:
//!             retry-after=SECS      Retry-After in seconds (429 and 5xx)
//!             retry-after=date+SECS Retry-After as an HTTP date SECS from now
//!             times=N               only the first N matching requests
//!             fraction=F            only a share F (0 < F <= 1) of the matching requests,
//!             seed=N                drawn from a generator seeded with N (default: --fault-seed)
//! ```
//!
//! In a rules file every non-empty line not starting with `#` is a rule.

use std::time::Duration;

use crate::faults::{Fault, FaultRule, RetryAfter, Sample};

/// A rule that does not parse: what is wrong, naming the word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultRuleError {
    #[error("fault rule '{rule}': {message}")]
    Rule { rule: String, message: String },
    #[error("{file} line {line}: {source}")]
    File {
        file: String,
        line: usize,
        source: Box<FaultRuleError>,
    },
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// Largest rules file the binary reads.
pub const MAX_RULES_FILE: u64 = 1024 * 1024;

fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{key}={value}: not a whole number"))
}

fn retry_after(value: &str) -> Result<RetryAfter, String> {
    match value.strip_prefix("date+") {
        Some(secs) => Ok(RetryAfter::HttpDate(Duration::from_secs(number(
            "retry-after",
            secs,
        )?))),
        None => Ok(RetryAfter::Seconds(number("retry-after", value)?)),
    }
}

/// Parses one rule; a sampled rule without `seed=` uses `default_seed`.
pub fn parse_rule(text: &str, default_seed: u64) -> Result<FaultRule, FaultRuleError> {
    let fail = |message: String| FaultRuleError::Rule {
        rule: text.trim().to_string(),
        message,
    };
    let mut words = text.split_whitespace().peekable();
    let method = words
        .next_if(|w| METHODS.iter().any(|m| m.eq_ignore_ascii_case(w)))
        .map(str::to_ascii_uppercase);
    let prefix = match words.next_if(|w| w.starts_with('/') || *w == "*") {
        Some("*") | None => None,
        Some(p) => Some(p.to_string()),
    };
    let mut fault: Option<Fault> = None;
    let mut status: Option<u16> = None;
    let mut retry: Option<RetryAfter> = None;
    let mut times: Option<u32> = None;
    let mut fraction: Option<f64> = None;
    let mut seed: Option<u64> = None;
    let mut set = |f: Fault, word: &str| match fault.replace(f) {
        None => Ok(()),
        Some(_) => Err(fail(format!("'{word}': a rule has one fault"))),
    };
    for word in words {
        let (key, value) = match word.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v)),
            None => (word.to_ascii_lowercase(), None),
        };
        match (key.as_str(), value) {
            ("status", Some(v)) => {
                let s: u16 = number("status", v).map_err(fail)?;
                if s != 429 && !(500..=599).contains(&s) {
                    return Err(fail(format!(
                        "status={s}: only 429 and 500-599 (use expired-token for a 401)"
                    )));
                }
                status = Some(s);
                // The fault itself is built once retry-after is known.
                set(Fault::ConnectionReset, word)?;
            }
            ("expired-token", None) => set(Fault::ExpiredToken, word)?,
            ("reset", None) => set(Fault::ConnectionReset, word)?,
            ("truncated", None) => set(Fault::TruncatedBody, word)?,
            ("html", None) => set(Fault::NonJsonBody, word)?,
            ("next-link-loop", None) => set(Fault::NextLinkLoop, word)?,
            ("endless-next-links", None) => set(Fault::EndlessNextLinks, word)?,
            ("huge-body", Some(v)) => {
                let bytes: usize = number("huge-body", v).map_err(fail)?;
                // The body is built in memory: past 1 GiB the mock would be what runs out.
                if bytes > 1 << 30 {
                    return Err(fail(format!("huge-body={bytes}: at most 1073741824 bytes")));
                }
                set(Fault::HugeBody(bytes), word)?
            }
            ("next-link", Some(url)) if !url.is_empty() => {
                set(Fault::ForeignNextLink(url.to_string()), word)?
            }
            ("latency", Some(v)) => {
                let ms: u64 = number("latency", v).map_err(fail)?;
                set(Fault::Latency(Duration::from_millis(ms)), word)?
            }
            ("retry-after", Some(v)) => retry = Some(retry_after(v).map_err(fail)?),
            ("times", Some(v)) => times = Some(number("times", v).map_err(fail)?),
            ("seed", Some(v)) => seed = Some(number("seed", v).map_err(fail)?),
            ("fraction", Some(v)) => {
                let f: f64 = v
                    .parse()
                    .ok()
                    .filter(|f: &f64| *f > 0.0 && *f <= 1.0)
                    .ok_or_else(|| fail(format!("fraction={v}: a number above 0 and at most 1")))?;
                fraction = Some(f);
            }
            _ => return Err(fail(format!("'{word}' is not a fault option"))),
        }
    }
    let fault = match (status, fault) {
        (Some(429), _) => Fault::Throttle { retry_after: retry },
        (Some(s), _) => Fault::ServerError {
            status: s,
            retry_after: retry,
        },
        (None, Some(f)) => {
            if retry.is_some() {
                return Err(fail("retry-after goes with status=429 or 5xx".into()));
            }
            f
        }
        (None, None) => {
            return Err(fail(
                "no fault: give status=, expired-token, reset, truncated, html, next-link-loop, endless-next-links, huge-body=, next-link= or latency=".into(),
            ));
        }
    };
    if seed.is_some() && fraction.is_none() {
        return Err(fail("seed= goes with fraction=".into()));
    }
    Ok(FaultRule {
        route_prefix: prefix,
        times,
        fault,
        method,
        sample: fraction.map(|f| Sample::fraction(f, seed.unwrap_or(default_seed))),
    })
}

/// Parses a rules file's text (`file` names it in errors).
pub fn parse_rules(
    file: &str,
    text: &str,
    default_seed: u64,
) -> Result<Vec<FaultRule>, FaultRuleError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            parse_rule(l, default_seed).map_err(|e| FaultRuleError::File {
                file: file.to_string(),
                line: i + 1,
                source: Box::new(e),
            })
        })
        .collect()
}

/// The `--throttle FRACTION` rule: 429 with `Retry-After: 1` on that share of every Graph
/// request and batch item.
pub fn throttle_rule(fraction: f64, seed: u64) -> Result<FaultRule, FaultRuleError> {
    parse_rule(
        &format!("status=429 retry-after=1 fraction={fraction} seed={seed}"),
        seed,
    )
}

/// The rule in the text form [`parse_rule`] reads.
pub fn describe(rule: &FaultRule) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = &rule.method {
        parts.push(m.clone());
    }
    parts.push(rule.route_prefix.clone().unwrap_or_else(|| "*".into()));
    let retry = |r: &Option<RetryAfter>| match r {
        Some(RetryAfter::Seconds(s)) => Some(format!("retry-after={s}")),
        Some(RetryAfter::HttpDate(d)) => Some(format!("retry-after=date+{}", d.as_secs())),
        None => None,
    };
    match &rule.fault {
        Fault::Latency(d) => parts.push(format!("latency={}", d.as_millis())),
        Fault::Throttle { retry_after } => {
            parts.push("status=429".into());
            parts.extend(retry(retry_after));
        }
        Fault::ServerError {
            status,
            retry_after,
        } => {
            parts.push(format!("status={status}"));
            parts.extend(retry(retry_after));
        }
        Fault::ConnectionReset => parts.push("reset".into()),
        Fault::TruncatedBody => parts.push("truncated".into()),
        Fault::NonJsonBody => parts.push("html".into()),
        Fault::ForeignNextLink(url) => parts.push(format!("next-link={url}")),
        Fault::NextLinkLoop => parts.push("next-link-loop".into()),
        Fault::EndlessNextLinks => parts.push("endless-next-links".into()),
        Fault::HugeBody(bytes) => parts.push(format!("huge-body={bytes}")),
        Fault::ExpiredToken => parts.push("expired-token".into()),
    }
    if let Some(n) = rule.times {
        parts.push(format!("times={n}"));
    }
    if let Some(s) = rule.sample {
        parts.push(format!(
            "fraction={} seed={}",
            f64::from(s.per_million) / 1_000_000.0,
            s.seed
        ));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_print_back() {
        let r = parse_rule("GET /v1.0/users status=429 retry-after=2 times=3", 1).unwrap();
        assert_eq!(
            r,
            Fault::Throttle {
                retry_after: Some(RetryAfter::Seconds(2))
            }
            .on("/v1.0/users")
            .times(3)
            .method("GET")
        );
        assert_eq!(
            describe(&r),
            "GET /v1.0/users status=429 retry-after=2 times=3"
        );
        for text in [
            "* status=503 retry-after=date+30",
            "/v1.0/$batch reset times=1",
            "POST /common/oauth2/v2.0/token status=500",
            "* latency=250",
            "/beta truncated",
            "* next-link=https://evil.example/v1.0/users times=2",
            "* status=429 retry-after=1 fraction=0.3 seed=7",
            "* expired-token",
            "/v1.0/users endless-next-links",
            "/v1.0/users huge-body=3145728",
        ] {
            let rule = parse_rule(text, 1).unwrap();
            assert_eq!(describe(&rule), text);
        }
        let sampled = throttle_rule(0.3, 9).unwrap();
        assert_eq!(sampled.sample, Some(Sample::fraction(0.3, 9)));
        assert_eq!(
            parse_rule("* status=429 fraction=0.5", 42).unwrap().sample,
            Some(Sample::fraction(0.5, 42))
        );
    }

    #[test]
    fn bad_rules_name_the_word() {
        for (text, needle) in [
            ("GET /v1.0/users", "no fault"),
            ("/v1.0/users status=404", "status=404: only 429 and 500-599"),
            ("* status=429 reset", "'reset': a rule has one fault"),
            ("* status=429 times=x", "times=x: not a whole number"),
            ("* status=429 fraction=1.5", "fraction=1.5"),
            ("* reset retry-after=2", "retry-after goes with"),
            ("* status=429 seed=3", "seed= goes with fraction="),
            ("* status=429 bogus", "'bogus' is not a fault option"),
            ("* huge-body=10000000000", "at most 1073741824 bytes"),
        ] {
            let err = parse_rule(text, 1).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
            assert!(err.contains(text), "{err}");
        }
        let err = parse_rules("faults.txt", "# storm\n\n* status=429\n* nope\n", 1)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("faults.txt line 4: fault rule '* nope'"),
            "{err}"
        );
        assert_eq!(
            parse_rules("f", "# only a comment\n* reset\n", 1)
                .unwrap()
                .len(),
            1
        );
    }
}
