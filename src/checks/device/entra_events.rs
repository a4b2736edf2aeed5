//! What the Entra sign-in and device registration logs say, decoded with the error-code
//! catalog: the PRT and token requests of `Microsoft-Windows-AAD/Operational` and the join
//! attempts of `Microsoft-Windows-User Device Registration/Admin`.
//!
//! Sources: MicrosoftDocs/entra-docs `docs/identity/devices/troubleshoot-primary-refresh-token.md`
//! (the CloudAP plug-in, which acquires the PRT, writes its errors to AAD/Operational: 1081 the
//! server's error code and description, 1084 the network sub-error, 1088 the WS-Trust error;
//! 1104 "AAD Cloud AP plugin call Get token returned error"), and
//! `docs/identity/devices/enterprise-state-roaming-troubleshooting.md` (1098 is the token broker
//! plug-in: app token requests, which use the PRT). The registration events: 304 "Automatic
//! registration failed at join phase", 305 "… at authentication phase", 204 "The get join
//! response operation callback failed", 307 "Failed to lookup the registration service
//! information from Active Directory" (the SCP), 309 "Failed to discover the Azure AD DRS
//! service", 306 "Automatic registration Succeeded" (the message table of the User Device
//! Registration provider; 304 and 307 with 0x801C001D in SupportArticles-docs
//! `support/mem/intune/device-enrollment/event-307-and-304-logged-for-deploying.md`).
//! Evidence-level helpers: they import nothing above [`super::evidence`].

use crate::catalog::error_codes::{LikelyCause, describe, lookup};
use crate::device::report::{DeviceReport, EventRecord};
use crate::model::Evidence;

use super::evidence::{event_codes, event_time, events_where, later};

/// CloudAP plug-in events: the PRT request itself.
pub const AAD_PRT_EVENTS: &[u32] = &[1081, 1084, 1085, 1086, 1088, 1104, 1160];
/// Token broker plug-in events: app token requests made with the PRT.
pub const AAD_BROKER_EVENTS: &[u32] = &[1097, 1098];
/// Join failures of the registration log and the success event.
pub const UDR_FAILURE_EVENTS: &[u32] = &[201, 204, 304, 305, 307, 309];
pub const UDR_SUCCESS: u32 = 306;

/// The wrapper code of event 1098: the inner error of the same event is the cause.
const BROKER_WRAPPER: u32 = 0xCAA5_001C;

/// Which plug-in logged a token failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEventKind {
    /// CloudAP: acquiring or renewing the PRT.
    Prt,
    /// Token broker: an app's token request made with the PRT.
    Broker,
}

/// One failed token request of AAD/Operational.
#[derive(Debug, Clone)]
pub struct TokenFailure<'a> {
    pub index: usize,
    pub event: &'a EventRecord,
    pub kind: TokenEventKind,
    /// Every failure code the event carries, the most telling first (the wrapper last).
    pub codes: Vec<u32>,
    /// What the catalog (or the AADSTS code) says the failure is.
    pub cause: Option<LikelyCause>,
    /// `AADSTS50076: …` as the event wrote it (first sentence), if any.
    pub aadsts: Option<String>,
}

impl TokenFailure<'_> {
    /// A failure that says the PRT itself cannot be had or renewed: every CloudAP failure, and
    /// a broker failure that is a refused grant or a network failure (an "interaction
    /// required" answer for one app means that app needs MFA, not that the PRT is missing).
    pub fn is_prt_failure(&self) -> bool {
        match self.kind {
            TokenEventKind::Prt => true,
            TokenEventKind::Broker => matches!(
                self.cause,
                Some(LikelyCause::Authentication | LikelyCause::Connectivity)
            ),
        }
    }

    /// The first code worth naming (not the wrapper).
    pub fn code(&self) -> Option<u32> {
        self.codes.first().copied()
    }

    /// One line: `event 1098 at …: 0xCAA2000C — …; AADSTS50076: …`.
    pub fn evidence(&self) -> Evidence {
        let mut detail = format!(
            "AAD/Operational event {} at {}",
            self.event.event_id,
            event_time(self.event)
        );
        match self.code() {
            Some(c) => detail.push_str(&format!(": {}", describe(c))),
            None => detail.push_str(": no error code in the event"),
        }
        if let Some(a) = &self.aadsts {
            detail.push_str(&format!("; {a}"));
        }
        Evidence::new("event-log", detail).at(self.event.location.to_string())
    }

    /// Why, in a few words, for a summary.
    pub fn reason(&self) -> String {
        let code = self
            .code()
            .map(crate::catalog::error_codes::format_hresult)
            .unwrap_or_else(|| format!("event {}", self.event.event_id));
        let what = match self.cause {
            Some(LikelyCause::ConditionalAccess) => {
                "interaction required: MFA or terms of use that a silent request cannot satisfy"
            }
            Some(LikelyCause::Connectivity) => {
                "the request did not reach Entra ID (network, proxy or TLS inspection)"
            }
            Some(LikelyCause::Authentication) => "Entra ID refused the credential or grant",
            Some(LikelyCause::ServerSide) => "Entra ID answered with a temporary error",
            Some(LikelyCause::MdmScope | LikelyCause::JoinNotAllowed) => {
                "the tenant's configuration refused it"
            }
            _ => "a failure the catalog does not classify",
        };
        match &self.aadsts {
            Some(a) => format!("{code}, {what} ({})", short_aadsts(a)),
            None => format!("{code}, {what}"),
        }
    }
}

fn short_aadsts(a: &str) -> &str {
    a.split(':').next().unwrap_or(a).trim()
}

/// `AADSTS50076: Due to …` up to the end of its first sentence, from the insertion strings or
/// the message.
fn aadsts_text(e: &EventRecord) -> Option<String> {
    let texts = e
        .data
        .iter()
        .map(|d| d.value.as_str())
        .chain(e.message.as_deref());
    for t in texts {
        if let Some(i) = t.find("AADSTS") {
            let rest = &t[i..];
            let digits = rest["AADSTS".len()..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits == 0 {
                continue;
            }
            let end = rest
                .char_indices()
                .find(|(j, c)| *j > 8 && matches!(c, '.' | '\n' | '\r'))
                .map(|(j, _)| j)
                .unwrap_or(rest.len())
                .min(200);
            let end = (0..=end)
                .rev()
                .find(|j| rest.is_char_boundary(*j))
                .unwrap_or(0);
            return Some(rest[..end].trim().to_string());
        }
    }
    None
}

/// The AADSTS codes whose meaning decides the cause more precisely than the HRESULT.
fn aadsts_cause(a: &str) -> Option<LikelyCause> {
    let n: u32 = a
        .strip_prefix("AADSTS")?
        .bytes()
        .take_while(u8::is_ascii_digit)
        .map(char::from)
        .collect::<String>()
        .parse()
        .ok()?;
    match n {
        // MFA required, MFA registration required, external challenge (terms of use).
        50076 | 50079 | 50158 | 53003 => Some(LikelyCause::ConditionalAccess),
        // Bad credentials, unknown user, device deleted/disabled, grant revoked.
        50126 | 50034 | 50155 | 50173 | 50057 | 50053 => Some(LikelyCause::Authentication),
        _ => None,
    }
}

/// The cause of a set of codes: the first catalogued one, else the token broker's internet
/// facilities (0xCAA7…, 0xCAA8…) as connectivity.
fn codes_cause(codes: &[u32]) -> Option<LikelyCause> {
    codes
        .iter()
        .find_map(|c| lookup(*c).map(|e| e.likely_cause))
        .or_else(|| {
            codes
                .iter()
                .any(|c| matches!(c & 0xFFFF_0000, 0xCAA7_0000 | 0xCAA8_0000))
                .then_some(LikelyCause::Connectivity)
        })
}

/// The codes of an event, the wrapper moved last.
fn ordered_codes(e: &EventRecord) -> Vec<u32> {
    let mut codes = event_codes(e);
    if let Some(i) = codes.iter().position(|c| *c == BROKER_WRAPPER)
        && codes.len() > 1
    {
        let w = codes.remove(i);
        codes.push(w);
    }
    codes
}

/// Every failed token request of AAD/Operational, in time order. An event of these IDs counts
/// when it carries a failure code or an AADSTS error.
pub fn token_failures(report: &DeviceReport) -> Vec<TokenFailure<'_>> {
    events_where(report, |e| {
        e.is_aad()
            && (AAD_PRT_EVENTS.contains(&e.event_id) || AAD_BROKER_EVENTS.contains(&e.event_id))
    })
    .into_iter()
    .filter_map(|(index, e)| {
        let codes = ordered_codes(e);
        let aadsts = aadsts_text(e);
        if codes.is_empty() && aadsts.is_none() {
            return None;
        }
        let kind = if AAD_PRT_EVENTS.contains(&e.event_id) {
            TokenEventKind::Prt
        } else {
            TokenEventKind::Broker
        };
        let cause = aadsts
            .as_deref()
            .and_then(aadsts_cause)
            .or_else(|| codes_cause(&codes));
        Some(TokenFailure {
            index,
            event: e,
            kind,
            codes,
            cause,
            aadsts,
        })
    })
    .collect()
}

/// The failures worth showing: the last one of each distinct code (or AADSTS), newest first,
/// at most `max`.
pub fn distinct_latest<'a, 'b>(
    failures: &'b [TokenFailure<'a>],
    max: usize,
) -> Vec<&'b TokenFailure<'a>> {
    let mut out: Vec<&TokenFailure> = Vec::new();
    for f in failures.iter().rev() {
        let key = (f.code(), f.aadsts.as_deref().map(short_aadsts));
        if out
            .iter()
            .any(|o| (o.code(), o.aadsts.as_deref().map(short_aadsts)) == key)
        {
            continue;
        }
        out.push(f);
        if out.len() == max {
            break;
        }
    }
    out
}

/// One failed registration (join) attempt of User Device Registration/Admin.
#[derive(Debug, Clone)]
pub struct JoinFailure<'a> {
    pub index: usize,
    pub event: &'a EventRecord,
    pub codes: Vec<u32>,
    pub cause: Option<LikelyCause>,
}

impl JoinFailure<'_> {
    /// The step that failed, as the event's message names it.
    pub fn phase(&self) -> &'static str {
        match self.event.event_id {
            304 => "join phase",
            305 => "authentication phase",
            204 => "join response",
            201 => "discovery",
            307 => "service connection point lookup",
            309 => "registration service discovery",
            _ => "registration",
        }
    }

    pub fn evidence(&self) -> Evidence {
        let mut detail = format!(
            "User Device Registration event {} ({}) at {}",
            self.event.event_id,
            self.phase(),
            event_time(self.event)
        );
        match self.codes.first() {
            Some(c) => detail.push_str(&format!(": {}", describe(*c))),
            None => detail.push_str(": no numeric exit code in the event"),
        }
        Evidence::new("event-log", detail).at(self.event.location.to_string())
    }
}

/// The registration failures after the last success (event 306), in time order; empty when
/// the last attempt succeeded.
pub fn join_failures(report: &DeviceReport) -> Vec<JoinFailure<'_>> {
    let all = events_where(report, |e| {
        e.is_device_registration()
            && (UDR_FAILURE_EVENTS.contains(&e.event_id) || e.event_id == UDR_SUCCESS)
    });
    let last_success = all
        .iter()
        .rfind(|(_, e)| e.event_id == UDR_SUCCESS)
        .copied();
    all.into_iter()
        .filter(|(_, e)| e.event_id != UDR_SUCCESS)
        .filter(|f| last_success.is_none_or(|s| later(s, *f)))
        .map(|(index, e)| {
            let codes = event_codes(e);
            let cause = codes_cause(&codes);
            JoinFailure {
                index,
                event: e,
                codes,
                cause,
            }
        })
        .collect()
}

/// The last registration success (event 306), if any.
pub fn join_success(report: &DeviceReport) -> Option<&EventRecord> {
    events_where(report, |e| {
        e.is_device_registration() && e.event_id == UDR_SUCCESS
    })
    .last()
    .map(|(_, e)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;
    use crate::device::report::{PROVIDER_AAD, PROVIDER_UDR};

    #[test]
    fn token_failures_are_decoded_and_classified() {
        let r = DeviceReport {
            events: vec![
                event(
                    PROVIDER_AAD,
                    1098,
                    1,
                    &["0xCAA2000C", "The request requires user interaction."],
                    Some(
                        "Error: 0xCAA2000C The request requires user interaction. Code: interaction_required Description: AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.",
                    ),
                ),
                event(
                    PROVIDER_AAD,
                    1098,
                    2,
                    &[],
                    Some(
                        "Error: 0xCAA5001C Token broker operation failed. Operation name: GetTokenSilently, Error: -895352829 (0xcaa20003)",
                    ),
                ),
                event(PROVIDER_AAD, 1104, 3, &["0xcaa82ee2"], None),
                event(PROVIDER_AAD, 1006, 4, &["0xcaa82ee2"], None),
            ],
            ..Default::default()
        };
        let f = token_failures(&r);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].cause, Some(LikelyCause::ConditionalAccess));
        assert!(!f[0].is_prt_failure());
        assert!(
            f[0].aadsts
                .as_deref()
                .is_some_and(|a| a.starts_with("AADSTS50076"))
        );
        assert_eq!(f[1].code(), Some(0xCAA2_0003), "wrapper last");
        assert!(f[1].is_prt_failure());
        assert_eq!(f[2].kind, TokenEventKind::Prt);
        assert_eq!(f[2].cause, Some(LikelyCause::Connectivity));
        assert!(f[2].reason().contains("did not reach Entra ID"));
        assert_eq!(distinct_latest(&f, 2).len(), 2);
    }

    #[test]
    fn join_failures_stop_at_the_last_success() {
        let mut r = DeviceReport {
            events: vec![
                event(PROVIDER_UDR, 304, 1, &["0x801c001d"], None),
                event(PROVIDER_UDR, 306, 2, &[], None),
                event(PROVIDER_UDR, 305, 3, &["0x801c03f2"], None),
            ],
            ..Default::default()
        };
        let f = join_failures(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].phase(), "authentication phase");
        assert!(f[0].evidence().detail.contains("0x801C03F2"));
        r.events.push(event(PROVIDER_UDR, 306, 4, &[], None));
        assert!(join_failures(&r).is_empty());
        assert!(join_success(&r).is_some());
    }

    proptest::proptest! {
        #[test]
        fn aadsts_text_never_panics(text in ".{0,300}") {
            let e = event(PROVIDER_AAD, 1098, 1, &[], Some(&text));
            let _ = aadsts_text(&e);
            let _ = token_failures(&DeviceReport { events: vec![e], ..Default::default() });
        }
    }
}
