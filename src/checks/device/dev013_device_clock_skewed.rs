//! DEV013: the device clock is within five minutes of the services' time and is kept in sync.

use chrono::Duration;

use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use super::facts::Facts;
use super::shared::{finding, no_evidence};

const R_CLOCK_TOLERANCE: &str = "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-10/security/threat-protection/security-policy-settings/maximum-tolerance-for-computer-clock-synchronization";
const R_W32TM: &str = "https://learn.microsoft.com/windows-server/networking/windows-time-service/windows-time-service-tools-and-settings";
const R_PRT_TS: &str =
    "https://learn.microsoft.com/entra/identity/devices/troubleshoot-primary-refresh-token";

/// Kerberos' default "Maximum tolerance for computer clock synchronization"; token and
/// certificate validation fail in the same way once a clock drifts this far.
pub const MAX_SKEW_MINUTES: i64 = 5;

pub const META: CheckMeta = CheckMeta {
    id: "DEV013",
    name: "device-clock-skewed",
    title: "The device clock is within five minutes of the services' time and kept in sync",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Compares the device clock with the Date header the Microsoft endpoints sent to the \
        collector's probes (and w32tm's phase offset) and fails when they differ by more than 5 minutes, the \
        default Kerberos tolerance (MicrosoftDocs/windows-itpro-docs windows/security/threat-protection/\
        security-policy-settings/maximum-tolerance-for-computer-clock-synchronization.md). Without a \
        measurable skew it warns when `w32tm /query /status` shows the clock is not kept in sync: source \
        \"Local CMOS Clock\" or \"Free-running System Clock\", Leap Indicator 3 (not synchronized), no \
        successful sync, or the Windows Time service not running.",
    why_it_matters: "Tokens, TLS certificates and Kerberos tickets carry validity times: a clock minutes off \
        makes Entra ID refuse the PRT request, TLS reject valid certificates, and Kerberos to the domain \
        controller fail, so the join, the PRT (MicrosoftDocs/entra-docs docs/identity/devices/\
        troubleshoot-primary-refresh-token.md) and the enrollment all fail with errors that do not name the \
        clock. A domain member takes its time from the domain hierarchy; other devices from an NTP server \
        such as time.windows.com. Enrollment paths: gpo-hybrid, co-management, entra-join, entra-registered.",
    how_to_fix: "Correct the clock and keep it in sync: on a domain member `w32tm /config /syncfromflags:domhier \
        /update` then `w32tm /resync` (and fix the domain's time source, the PDC emulator); elsewhere `w32tm \
        /config /manualpeerlist:time.windows.com /syncfromflags:manual /update` and `w32tm /resync`. Start the \
        Windows Time service if it is stopped, allow UDP 123 to the time source, then sign in again so the join \
        and the PRT are retried.",
    references: &[R_CLOCK_TOLERANCE, R_W32TM, R_PRT_TS],
};

const COLLECT_CLOCK: &str = "the collector bundle (its endpoint probes record the server's Date header) or `w32tm /query /status /verbose > w32tm.txt`";

fn minutes(d: Duration) -> String {
    let s = d.num_seconds().abs();
    if s >= 120 {
        format!("{} minutes", s / 60)
    } else {
        format!("{s} seconds")
    }
}

/// What the clock evidence says is wrong with keeping time, if anything.
fn sync_problems(f: &Facts) -> (Vec<String>, Vec<Evidence>) {
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    let Some(c) = f.report.clock.as_ref() else {
        return (problems, evidence);
    };
    let loc = c.location.to_string();
    if let Some(e) = c.error.as_deref().filter(|e| !e.trim().is_empty()) {
        problems.push(format!(
            "w32tm could not query the Windows Time service ({e})"
        ));
        evidence.push(Evidence::new("w32tm", format!("error: {e}")).at(loc.clone()));
    }
    if let Some(src) = c.source.as_deref() {
        let l = src.to_ascii_lowercase();
        evidence.push(Evidence::new("w32tm", format!("Source: {src}")).at(loc.clone()));
        if l.contains("local cmos clock") || l.contains("free-running system clock") {
            problems.push(format!("the clock runs on its own (Source: {src})"));
        }
    }
    if let Some(li) = c.leap_indicator {
        evidence.push(Evidence::new("w32tm", format!("Leap Indicator: {li}")).at(loc.clone()));
        if li == 3 {
            problems.push("Leap Indicator 3: not synchronized".to_string());
        }
    }
    match c.last_sync {
        Some(t) => evidence.push(
            Evidence::new(
                "w32tm",
                format!(
                    "Last Successful Sync Time: {}",
                    t.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            )
            .at(loc.clone()),
        ),
        None if c.error.is_none() && (c.source.is_some() || c.leap_indicator.is_some()) => {
            problems.push("no successful sync recorded".to_string());
            evidence.push(
                Evidence::new("w32tm", "Last Successful Sync Time: unspecified").at(loc.clone()),
            );
        }
        None => {}
    }
    (problems, evidence)
}

pub fn evaluate(f: &Facts) -> Finding {
    let tolerance = Duration::minutes(MAX_SKEW_MINUTES);
    // The probes: device clock against the server's Date header.
    let mut measured: Vec<(Duration, Evidence)> = Vec::new();
    if let Some(net) = f.report.network.as_ref() {
        for p in &net.probes {
            let (Some(server), Some(local)) = (p.server_date, p.local_time) else {
                continue;
            };
            let skew = local - server;
            let dir = if skew >= Duration::zero() {
                "ahead of"
            } else {
                "behind"
            };
            measured.push((
                skew,
                Evidence::new(
                    "network-probe",
                    format!(
                        "device clock {} {dir} the Date header of {} (device {}, server {})",
                        minutes(skew),
                        p.url,
                        local.format("%Y-%m-%d %H:%M:%S UTC"),
                        server.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                )
                .at(p.location.to_string()),
            ));
        }
    }
    // w32tm's phase offset is the skew to its own source: it only counts when the source is
    // a real time source.
    if let Some(c) = f.report.clock.as_ref()
        && let Some(off) = c.phase_offset_seconds
        && off.is_finite()
        && !c
            .source
            .as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().contains("local cmos clock"))
    {
        let skew = Duration::milliseconds((off * 1000.0).clamp(-1e15, 1e15) as i64);
        measured.push((
            skew,
            Evidence::new(
                "w32tm",
                format!("Phase Offset: {off:.3}s to its time source"),
            )
            .at(c.location.to_string()),
        ));
    }
    let (problems, mut sync_ev) = sync_problems(f);
    if measured.is_empty() && f.report.clock.is_none() {
        return no_evidence(
            f,
            &META,
            COLLECT_CLOCK,
            "no clock evidence (no probe Date header, no w32tm output)",
        );
    }
    measured.sort_by_key(|(d, _)| std::cmp::Reverse(d.num_milliseconds().abs()));
    let worst = measured.first().map(|(d, _)| *d);
    let mut evidence: Vec<Evidence> = measured.into_iter().map(|(_, e)| e).collect();
    evidence.append(&mut sync_ev);
    let domain_member = matches!(
        f.path.path,
        EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement
    );
    if let Some(w) = worst
        && w.num_milliseconds().abs() > tolerance.num_milliseconds()
    {
        let dir = if w > Duration::zero() {
            "ahead"
        } else {
            "behind"
        };
        let summary = format!(
            "the device clock is {} {dir}, beyond the {MAX_SKEW_MINUTES}-minute tolerance of tokens, certificates and Kerberos{}",
            minutes(w),
            if problems.is_empty() {
                String::new()
            } else {
                format!(" ({})", problems.join("; "))
            }
        );
        return finding(f, &META, Status::Fail, summary, evidence)
            .with_remediation(fix_text(domain_member));
    }
    if !problems.is_empty() {
        let summary = format!(
            "the clock is not kept in sync ({}){}",
            problems.join("; "),
            match worst {
                Some(w) => format!("; it is {} off now, within tolerance", minutes(w)),
                None => String::new(),
            }
        );
        return finding(f, &META, Status::Warn, summary, evidence)
            .with_remediation(fix_text(domain_member));
    }
    let summary = match worst {
        Some(w) => format!(
            "the device clock is {} off the services' time, within {MAX_SKEW_MINUTES} minutes",
            minutes(w)
        ),
        None => "w32tm shows the clock synchronised with its time source".to_string(),
    };
    finding(f, &META, Status::Pass, summary, evidence)
}

fn fix_text(domain_member: bool) -> String {
    if domain_member {
        "This device is a domain member: it should take its time from the domain hierarchy. Run `w32tm /config /syncfromflags:domhier /update` and `w32tm /resync` as an administrator, check that the domain's PDC emulator has a reliable source, start the Windows Time service if it is stopped, then sign out and in so the join and the PRT are retried.".to_string()
    } else {
        "Sync the clock with an NTP server: `w32tm /config /manualpeerlist:time.windows.com /syncfromflags:manual /update`, then `w32tm /resync` as an administrator (allow UDP 123 to the server, start the Windows Time service if it is stopped), then sign in again.".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;
    use crate::device::host::{ClockEvidence, EndpointProbe, NetworkEvidence};
    use crate::device::report::DeviceReport;
    use crate::model::SkipReason;

    this_check!(META, evaluate);

    fn with_skew(seconds: i64) -> DeviceReport {
        let server = as_of();
        let mut r = enrolled_hybrid();
        r.network = Some(NetworkEvidence {
            probes: vec![EndpointProbe {
                url: "https://enrollment.manage.microsoft.com/".into(),
                server_date: Some(server),
                local_time: Some(server + Duration::seconds(seconds)),
                location: loc("bundle.json", 4),
                ..Default::default()
            }],
            ..Default::default()
        });
        r
    }

    fn w32tm(source: &str, leap: u8, synced: bool) -> ClockEvidence {
        ClockEvidence {
            source: Some(source.into()),
            leap_indicator: Some(leap),
            last_sync: synced.then(as_of),
            location: loc("w32tm.txt", 2),
            ..Default::default()
        }
    }

    #[test]
    fn fail_beyond_five_minutes_pass_within() {
        let f = check(&with_skew(-11 * 60));
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("11 minutes behind"), "{}", f.summary);
        assert!(
            f.remediation.contains("domhier"),
            "hybrid device: domain hierarchy"
        );
        let f = check(&with_skew(90));
        assert_eq!(f.status, Status::Pass, "{}", f.summary);
        assert!(f.summary.contains("90 seconds"));
    }

    #[test]
    fn warn_when_w32tm_says_the_clock_is_not_synced() {
        let mut r = with_skew(30);
        r.clock = Some(w32tm("Local CMOS Clock", 3, false));
        let f = check(&r);
        assert_eq!(f.status, Status::Warn);
        assert!(f.summary.contains("Local CMOS Clock") && f.summary.contains("Leap Indicator 3"));
        assert!(f.summary.contains("no successful sync"));
        let mut r = enrolled_hybrid();
        r.clock = Some(w32tm("DC01.corp.contoso.com", 0, true));
        assert_eq!(check(&r).status, Status::Pass);
        r.clock = Some(ClockEvidence {
            error: Some("The service has not been started.".into()),
            location: loc("w32tm.txt", 1),
            ..Default::default()
        });
        assert_eq!(check(&r).status, Status::Warn);
    }

    #[test]
    fn a_phase_offset_to_a_real_source_counts_and_unknown_without_evidence() {
        let mut r = enrolled_hybrid();
        let mut c = w32tm("time.windows.com,0x9", 0, true);
        c.phase_offset_seconds = Some(-420.5);
        r.clock = Some(c);
        assert_eq!(check(&r).status, Status::Fail);
        let f = check(&enrolled_hybrid());
        assert!(matches!(f.skip_reason, Some(SkipReason::NoEvidence { .. })));
    }
}
