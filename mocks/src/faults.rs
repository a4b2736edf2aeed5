//! Fault injection: rules that make the mock misbehave like a real, busy or broken Graph.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How a 429/503 tells the client when to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`
    Seconds(u64),
    /// `Retry-After: <IMF-fixdate>`, this far in the future (rounded to whole seconds).
    HttpDate(Duration),
}

/// One way to misbehave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Wait this long before answering (stacks with the server-wide latency).
    Latency(Duration),
    /// `429 TooManyRequests`, optionally with `Retry-After`.
    Throttle { retry_after: Option<RetryAfter> },
    /// A Graph error with this status (500, 502, 503, 504, …), optionally with `Retry-After`.
    ServerError {
        status: u16,
        retry_after: Option<RetryAfter>,
    },
    /// Close the TCP connection without sending any response.
    ConnectionReset,
    /// `200` with `Content-Type: application/json` but only the first half of the body.
    TruncatedBody,
    /// `200` with an HTML error page instead of JSON (like a proxy or gateway would send).
    NonJsonBody,
    /// Collection responses carry this absolute `@odata.nextLink` (e.g. another host).
    ForeignNextLink(String),
    /// Collection responses carry an `@odata.nextLink` equal to the URL just requested.
    NextLinkLoop,
    /// `401 InvalidAuthenticationToken` "Lifetime validation failed, the token is expired."
    ExpiredToken,
    /// Collection responses are emptied and carry an `@odata.nextLink` to the next offset past
    /// the end, a new URL each time: a listing that never ends.
    EndlessNextLinks,
    /// `200` JSON of this many bytes: an empty page padded with whitespace.
    HugeBody(usize),
}

impl Fault {
    /// Faults that only make sense on a real HTTP exchange (not inside a `$batch` item).
    pub(crate) fn is_transport_level(&self) -> bool {
        matches!(
            self,
            Fault::ConnectionReset | Fault::TruncatedBody | Fault::NonJsonBody | Fault::HugeBody(_)
        )
    }

    /// Restrict this fault to requests whose path starts with `prefix` (e.g. `/v1.0/users`).
    pub fn on(self, prefix: &str) -> FaultRule {
        FaultRule::from(self).on(prefix)
    }

    /// Apply this fault (to every Graph request) only `n` times.
    pub fn times(self, n: u32) -> FaultRule {
        FaultRule::from(self).times(n)
    }
}

/// A fault plus where and how often it applies.
///
/// `route_prefix` is matched against the request path (e.g. `/v1.0/users`, `/beta/policies`,
/// `/v1.0/$batch`, `/{tenant}/oauth2/v2.0/token`). Without a prefix the rule applies to every
/// Graph request (`/v1.0/…`, `/beta/…`) including each `$batch` item, but not to the `$batch`
/// envelope itself nor to the identity endpoints. `times: None` means "forever". `method`
/// restricts the rule to one HTTP method (case ignored); `sample` to a seeded share of the
/// matching requests (a throttling storm that hits 30 % of them, reproducibly).
///
/// Rules can also be written as text (`"GET /v1.0/users status=429 retry-after=2 times=3"`,
/// see `fault_rules.rs` and the `mock-graph` binary's `--fault`/`--faults`/`--throttle`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub route_prefix: Option<String>,
    pub times: Option<u32>,
    pub fault: Fault,
    pub method: Option<String>,
    pub sample: Option<Sample>,
}

/// Apply a rule to `per_million` of every million matching requests, drawn from a generator
/// seeded with `seed` (the same requests in the same order see the same faults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub per_million: u32,
    pub seed: u64,
}

impl Sample {
    /// `fraction` of the requests (clamped to 0–1).
    pub fn fraction(fraction: f64, seed: u64) -> Sample {
        let per_million = (fraction.clamp(0.0, 1.0) * 1_000_000.0).round() as u32;
        Sample { per_million, seed }
    }
}

impl FaultRule {
    /// Limit the rule to the first `n` matching requests.
    pub fn times(mut self, n: u32) -> FaultRule {
        self.times = Some(n);
        self
    }

    /// Limit the rule to paths starting with `prefix`.
    pub fn on(mut self, prefix: &str) -> FaultRule {
        self.route_prefix = Some(prefix.to_string());
        self
    }

    /// Limit the rule to requests with this HTTP method.
    pub fn method(mut self, method: &str) -> FaultRule {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Apply the rule to this share of the matching requests only (seeded, reproducible).
    pub fn fraction(mut self, fraction: f64, seed: u64) -> FaultRule {
        self.sample = Some(Sample::fraction(fraction, seed));
        self
    }
}

impl From<Fault> for FaultRule {
    fn from(fault: Fault) -> Self {
        FaultRule {
            route_prefix: None,
            times: None,
            fault,
            method: None,
            sample: None,
        }
    }
}

/// Where a request is being evaluated, for rule matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    /// A Graph request over HTTP (not the `$batch` envelope).
    Graph,
    /// The `$batch` envelope.
    BatchEnvelope,
    /// An item inside a `$batch`.
    BatchItem,
    /// Token / devicecode endpoints.
    Identity,
}

/// An installed rule with its remaining count and its sampling generator.
#[derive(Debug)]
struct Installed {
    rule: FaultRule,
    rng: Option<StdRng>,
}

/// Installed rules with their remaining counts.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    rules: Vec<Installed>,
}

impl FaultTable {
    pub fn push(&mut self, rule: FaultRule) {
        let rng = rule.sample.map(|s| StdRng::seed_from_u64(s.seed));
        self.rules.push(Installed { rule, rng });
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Takes the faults that apply to this request: every matching latency rule plus the first
    /// other matching rule. Counts are consumed here (and a sampled rule draws once per
    /// matching request).
    pub fn take(&mut self, method: &str, path: &str, site: Site) -> (Duration, Option<Fault>) {
        let mut delay = Duration::ZERO;
        let mut chosen = None;
        for Installed { rule, rng } in &mut self.rules {
            if rule.times == Some(0) {
                continue;
            }
            let matches = match &rule.route_prefix {
                Some(prefix) => path.starts_with(prefix.as_str()),
                None => matches!(site, Site::Graph | Site::BatchItem),
            };
            if !matches
                || (site == Site::BatchItem && rule.fault.is_transport_level())
                || rule
                    .method
                    .as_deref()
                    .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            {
                continue;
            }
            let wanted = matches!(rule.fault, Fault::Latency(_)) || chosen.is_none();
            if !wanted {
                continue;
            }
            if let (Some(sample), Some(rng)) = (rule.sample, rng.as_mut())
                && rng.random_range(0..1_000_000u32) >= sample.per_million
            {
                continue;
            }
            match &rule.fault {
                Fault::Latency(d) => delay += *d,
                other => chosen = Some(other.clone()),
            }
            if let Some(n) = rule.times.as_mut() {
                *n -= 1;
            }
        }
        self.rules.retain(|r| r.rule.times != Some(0));
        (delay, chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_rules_expire_and_prefixes_scope() {
        let mut table = FaultTable::default();
        table.push(
            Fault::Throttle { retry_after: None }
                .on("/v1.0/users")
                .times(1),
        );
        table.push(Fault::Latency(Duration::from_millis(5)).into());
        let (d, f) = table.take("GET", "/v1.0/groups", Site::Graph);
        assert_eq!(d, Duration::from_millis(5));
        assert_eq!(f, None);
        let (_, f) = table.take("GET", "/v1.0/users?$top=5", Site::Graph);
        assert_eq!(f, Some(Fault::Throttle { retry_after: None }));
        let (_, f) = table.take("GET", "/v1.0/users", Site::Graph);
        assert_eq!(f, None);
        // global rules never hit the identity endpoints
        let (d, _) = table.take("GET", "/contoso.com/oauth2/v2.0/token", Site::Identity);
        assert_eq!(d, Duration::ZERO);
    }

    #[test]
    fn transport_faults_skip_batch_items_without_consuming() {
        let mut table = FaultTable::default();
        table.push(Fault::ConnectionReset.times(1));
        assert_eq!(table.take("GET", "/v1.0/users", Site::BatchItem).1, None);
        assert_eq!(
            table.take("GET", "/v1.0/users", Site::Graph).1,
            Some(Fault::ConnectionReset)
        );
    }

    #[test]
    fn method_and_sampled_rules() {
        let mut table = FaultTable::default();
        table.push(Fault::ExpiredToken.on("/v1.0/users").method("post"));
        assert_eq!(table.take("GET", "/v1.0/users", Site::Graph).1, None);
        assert_eq!(
            table
                .take("POST", "/v1.0/users/x/checkMemberGroups", Site::Graph)
                .1,
            Some(Fault::ExpiredToken)
        );
        let storm = |seed| {
            let mut t = FaultTable::default();
            t.push(FaultRule::from(Fault::Throttle { retry_after: None }).fraction(0.3, seed));
            (0..1000)
                .map(|_| t.take("GET", "/v1.0/users", Site::Graph).1.is_some())
                .collect::<Vec<_>>()
        };
        let hits = storm(7).iter().filter(|h| **h).count();
        assert!((250..350).contains(&hits), "{hits} of 1000");
        assert_eq!(storm(7), storm(7), "same seed, same storm");
        assert_ne!(storm(7), storm(8));
    }
}
