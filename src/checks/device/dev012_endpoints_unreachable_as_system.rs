//! DEV012: SYSTEM reaches the enrollment, registration and sign-in endpoints, without TLS
//! inspection.
//!
//! "Expected issuer" is judged on the issuer's common name (the `CN=` of the issuer the probe
//! recorded, or the whole string when it has no `CN=`): it must belong to one of the public CA
//! families Microsoft's cloud endpoints chain to, as listed in "Azure Certificate Authority
//! details" (MicrosoftDocs/azure-docs `articles/security/fundamentals/azure-ca-details.md`):
//! Microsoft's issuing CAs (`Microsoft Azure RSA/ECC TLS Issuing CA NN`, `Microsoft Azure TLS
//! Issuing CA NN`, `Microsoft TLS G2 RSA/ECC CA OCSP NN`, `Microsoft RSA/ECC TLS CA`, the
//! Microsoft root CAs 2017) and DigiCert's public CAs (DigiCert is the root of that hierarchy
//! and issues some Microsoft hosts directly; GeoTrust is a DigiCert brand). Anything else —
//! a corporate "Proxy CA", a firewall vendor's CA — is a certificate the device was shown by
//! something in between: TLS inspection. The list is by family name, not by serial number, so
//! a new CA of a family (`… Issuing CA 09`) needs no update.

use crate::model::{
    Area, CheckMeta, EnrollmentPath, Evidence, Finding, NO_PERMISSIONS, Severity, Status,
};

use crate::device::host::{EndpointProbe, NetworkEvidence};

use super::facts::Facts;
use super::shared::{finding, no_evidence, no_evidence_with};

const R_INTUNE_ENDPOINTS: &str =
    "https://learn.microsoft.com/intune/intune-service/fundamentals/intune-endpoints";
const R_HYBRID_JOIN: &str = "https://learn.microsoft.com/entra/identity/devices/how-to-hybrid-join";
const R_AZURE_CA: &str = "https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details";
const R_NETSH_WINHTTP: &str =
    "https://learn.microsoft.com/windows/win32/winhttp/netsh-exe-commands";

pub const META: CheckMeta = CheckMeta {
    id: "DEV012",
    name: "endpoints-unreachable-as-system",
    title: "SYSTEM reaches the enrollment, registration and sign-in endpoints without TLS inspection",
    severity: Severity::High,
    area: Area::Device,
    permissions: NO_PERMISSIONS,
    what_it_checks: "Reads the collector's probes of the Intune enrollment, Entra device registration and \
        sign-in endpoints made in the SYSTEM context (name resolution, TCP connect through the WinHTTP proxy, \
        TLS handshake, the issuer of the certificate presented) with the WinHTTP and machine proxy settings. \
        It fails when a probe of an endpoint this device's path uses did not resolve, connect or complete TLS, \
        or when the certificate's issuer is not one of the public CA families Microsoft's endpoints chain to \
        (Microsoft's Azure/TLS issuing CAs or DigiCert, as in \"Azure Certificate Authority details\", \
        MicrosoftDocs/azure-docs articles/security/fundamentals/azure-ca-details.md): another issuer means a \
        proxy broke and re-signed the TLS session. The registration endpoint only counts on the paths that \
        still join (gpo-hybrid, co-management, unknown).",
    why_it_matters: "The enrollment client and the hybrid join run as SYSTEM, which uses the WinHTTP proxy, \
        not the user's proxy or PAC file: a browser that works says nothing about them. Microsoft does not \
        support TLS inspection of *.manage.microsoft.com and *.dm.microsoft.com (MicrosoftDocs/memdocs \
        intune/intune-service/fundamentals/intune-endpoints.md), and inspecting device.login.microsoftonline.com \
        or enterpriseregistration.windows.net breaks the client-certificate authentication of device \
        registration (MicrosoftDocs/entra-docs docs/identity/devices/how-to-hybrid-join.md). The symptoms \
        downstream — event 76 with WinHTTP or 0x80190190-style errors, a missing PRT, a failed join — all \
        trace back here. Enrollment paths: gpo-hybrid, co-management, entra-join, entra-registered.",
    how_to_fix: "Let SYSTEM reach the endpoints: set the machine's WinHTTP proxy (`netsh winhttp set proxy \
        proxy-server=\"proxy.contoso.com:8080\" bypass-list=\"<local>\"` as an administrator, `netsh winhttp \
        import proxy source=ie`, or WPAD/Group Policy), make sure the computer account can pass the proxy \
        without an interactive sign-in, allow the documented Intune and Entra endpoints in the firewall, and \
        exclude them from TLS inspection (enrollment.manage.microsoft.com, *.manage.microsoft.com, \
        *.dm.microsoft.com, enterpriseregistration.windows.net, login.microsoftonline.com, \
        device.login.microsoftonline.com). Then run the collector again.",
    references: &[
        R_INTUNE_ENDPOINTS,
        R_HYBRID_JOIN,
        R_AZURE_CA,
        R_NETSH_WINHTTP,
    ],
};

pub const COLLECT_NETWORK: &str = "the collector bundle (`enroll-doctor collector > collect.ps1`, run elevated on the device): its network part probes the endpoints as SYSTEM and records `netsh winhttp show proxy`";

/// Issuer common-name prefixes of the public CAs Microsoft's endpoints chain to.
const EXPECTED_ISSUERS: &[&str] = &[
    "microsoft azure rsa tls issuing ca",
    "microsoft azure ecc tls issuing ca",
    "microsoft azure tls issuing ca",
    "microsoft tls g2 rsa ca ocsp",
    "microsoft tls g2 ecc ca ocsp",
    "microsoft rsa tls ca",
    "microsoft ecc tls issuing",
    "microsoft rsa root certificate authority 2017",
    "microsoft ecc root certificate authority 2017",
    "microsoft it tls ca",
    "digicert",
    "geotrust",
];

/// The issuer's common name: the `CN=` part, else the whole string.
fn issuer_cn(issuer: &str) -> &str {
    let upper = issuer.to_ascii_uppercase();
    if let Some(i) = upper.find("CN=") {
        let rest = &issuer[i + 3..];
        return rest
            .split(',')
            .next()
            .unwrap_or(rest)
            .trim()
            .trim_matches('"');
    }
    issuer.trim()
}

/// True for an issuer of one of the expected public CA families.
pub fn expected_issuer(issuer: &str) -> bool {
    let cn = issuer_cn(issuer).to_ascii_lowercase();
    EXPECTED_ISSUERS.iter().any(|p| cn.starts_with(p))
}

/// What an endpoint is for: the probe's own role, else read from the host.
fn role(p: &EndpointProbe) -> &'static str {
    let host = host_of(&p.url).to_ascii_lowercase();
    let from_role = p.role.as_deref().map(str::to_ascii_lowercase);
    match from_role.as_deref() {
        Some("enrollment" | "discovery") => return "enrollment",
        Some("registration") => return "registration",
        Some("sign-in" | "signin" | "login" | "authentication") => return "sign-in",
        _ => {}
    }
    if host.starts_with("enterpriseregistration.") {
        "registration"
    } else if host.starts_with("login.") || host.starts_with("device.login.") {
        "sign-in"
    } else if host.contains("manage.microsoft.") || host.ends_with("dm.microsoft.com") {
        "enrollment"
    } else {
        "other"
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The endpoint roles the device's path depends on.
fn needed(path: EnrollmentPath, role: &str) -> bool {
    match role {
        "enrollment" | "sign-in" => true,
        "registration" => matches!(
            path,
            EnrollmentPath::GpoHybrid | EnrollmentPath::CoManagement | EnrollmentPath::Unknown
        ),
        _ => false,
    }
}

/// One probe's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Probe {
    Ok,
    /// The stage that failed (`DNS`, `TCP`, `TLS`, `request`) and the error text.
    Failed(&'static str, Option<String>),
    /// An unexpected certificate issuer (TLS inspection).
    Inspected(String),
    /// Not enough recorded to say.
    Incomplete,
}

fn judge(p: &EndpointProbe) -> Probe {
    if let Some(issuer) = p
        .certificate_issuer
        .as_deref()
        .filter(|i| !i.trim().is_empty())
        && !expected_issuer(issuer)
    {
        return Probe::Inspected(issuer.trim().to_string());
    }
    let error = p.error.clone().filter(|e| !e.trim().is_empty());
    for (stage, ok) in [("DNS", p.dns), ("TCP", p.tcp), ("TLS", p.tls)] {
        if ok == Some(false) {
            return Probe::Failed(stage, error);
        }
    }
    if p.tls == Some(true) || p.http_status.is_some() {
        return Probe::Ok;
    }
    if error.is_some() {
        return Probe::Failed("request", error);
    }
    Probe::Incomplete
}

fn probe_evidence(p: &EndpointProbe, verdict: &Probe) -> Evidence {
    let host = host_of(&p.url);
    let via = p
        .via_proxy
        .as_deref()
        .map(|v| format!(" via proxy {v}"))
        .unwrap_or_default();
    let issuer = p
        .certificate_issuer
        .as_deref()
        .map(|i| format!(", issuer \"{}\"", issuer_cn(i)))
        .unwrap_or_default();
    let detail = match verdict {
        Probe::Ok => format!(
            "{host} ({}){via}: reached{}{issuer}",
            role(p),
            p.http_status
                .map(|s| format!(", HTTP {s}"))
                .unwrap_or_default()
        ),
        Probe::Failed(stage, err) => format!(
            "{host} ({}){via}: {stage} failed{}",
            role(p),
            err.as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ),
        Probe::Inspected(i) => format!(
            "{host} ({}){via}: certificate issued by \"{}\", not a Microsoft or DigiCert public CA (TLS inspection)",
            role(p),
            issuer_cn(i)
        ),
        Probe::Incomplete => format!("{host} ({}){via}: the probe recorded no result", role(p)),
    };
    Evidence::new("network-probe", detail).at(p.location.to_string())
}

fn proxy_evidence(net: &NetworkEvidence) -> Vec<Evidence> {
    let mut ev = Vec::new();
    if let Some(w) = &net.winhttp_proxy {
        let detail = if w.direct {
            "WinHTTP proxy (what SYSTEM uses): direct access, no proxy".to_string()
        } else {
            format!(
                "WinHTTP proxy (what SYSTEM uses): {}{}",
                w.proxy_server.as_deref().unwrap_or("(server not recorded)"),
                w.bypass_list
                    .as_deref()
                    .map(|b| format!(", bypass {b}"))
                    .unwrap_or_default()
            )
        };
        ev.push(Evidence::new("winhttp-proxy", detail).at(w.location.to_string()));
    }
    if let Some(m) = &net.machine_proxy {
        let mut parts = Vec::new();
        match m.per_user {
            Some(true) => parts.push("proxy settings per user".to_string()),
            Some(false) => parts.push("one proxy setting for the machine".to_string()),
            None => {}
        }
        if let Some(s) = &m.proxy_server {
            parts.push(format!("ProxyServer {s}"));
        }
        if let Some(u) = &m.auto_config_url {
            parts.push(format!(
                "PAC {u} (WinHTTP does not use it unless configured)"
            ));
        }
        if !parts.is_empty() {
            ev.push(
                Evidence::new("machine-proxy", format!("WinINET: {}", parts.join(", ")))
                    .at(m.location.to_string()),
            );
        }
    }
    ev
}

pub fn evaluate(f: &Facts) -> Finding {
    let Some(net) = f.report.network.as_ref() else {
        return no_evidence(
            f,
            &META,
            COLLECT_NETWORK,
            "no network evidence (endpoint probes, WinHTTP proxy) among the inputs",
        );
    };
    let proxy = proxy_evidence(net);
    if net.probes.is_empty() {
        let why = match net.error.as_deref() {
            Some(e) => format!("the collector could not probe the endpoints ({e})"),
            None => "no endpoint probes among the inputs".to_string(),
        };
        return no_evidence_with(f, &META, COLLECT_NETWORK, why, proxy);
    }
    let path = f.path.path;
    let mut bad: Vec<(String, Probe)> = Vec::new();
    let mut fine: Vec<Evidence> = Vec::new();
    let mut failing: Vec<Evidence> = Vec::new();
    let mut incomplete = 0usize;
    let mut relevant = 0usize;
    for p in &net.probes {
        let verdict = judge(p);
        let ev = probe_evidence(p, &verdict);
        if !needed(path, role(p)) {
            fine.push(ev);
            continue;
        }
        relevant += 1;
        match &verdict {
            Probe::Ok => fine.push(ev),
            Probe::Incomplete => {
                incomplete += 1;
                fine.push(ev);
            }
            Probe::Failed(..) | Probe::Inspected(_) => {
                bad.push((host_of(&p.url).to_string(), verdict));
                failing.push(ev);
            }
        }
    }
    let context = match net.probed_as_system {
        Some(true) => None,
        Some(false) => Some("the probes ran as the signed-in user, not as SYSTEM"),
        None => Some("the collector did not record whether the probes ran as SYSTEM"),
    };
    let mut evidence = failing;
    evidence.extend(proxy);
    evidence.extend(fine);
    if let Some(c) = context {
        evidence.push(Evidence::new("collector", c));
    }
    if !bad.is_empty() {
        return fail(f, &bad, evidence, net);
    }
    if relevant == 0 {
        return no_evidence_with(
            f,
            &META,
            COLLECT_NETWORK,
            format!("no probe of an endpoint the {path} path uses"),
            evidence,
        );
    }
    if incomplete > 0 {
        return no_evidence_with(
            f,
            &META,
            COLLECT_NETWORK,
            format!("{incomplete} of {relevant} endpoint probes recorded no result"),
            evidence,
        );
    }
    if net.probed_as_system == Some(false) {
        return finding(
            f,
            &META,
            Status::Warn,
            "the endpoints answered, but the probes ran as the user: SYSTEM's path (the WinHTTP proxy) is not proven",
            evidence,
        )
        .with_remediation(format!("Run the collector's network part elevated so it probes as SYSTEM: {COLLECT_NETWORK}."));
    }
    finding(
        f,
        &META,
        Status::Pass,
        format!(
            "all {relevant} endpoint probes the {path} path needs succeeded, with Microsoft/DigiCert certificates"
        ),
        evidence,
    )
}

fn fail(
    f: &Facts,
    bad: &[(String, Probe)],
    evidence: Vec<Evidence>,
    net: &NetworkEvidence,
) -> Finding {
    let inspected: Vec<&str> = bad
        .iter()
        .filter(|(_, v)| matches!(v, Probe::Inspected(_)))
        .map(|(h, _)| h.as_str())
        .collect();
    let unreachable: Vec<String> = bad
        .iter()
        .filter_map(|(h, v)| match v {
            Probe::Failed(stage, _) => Some(format!("{h} ({stage})")),
            _ => None,
        })
        .collect();
    let mut parts = Vec::new();
    if !unreachable.is_empty() {
        parts.push(format!("not reachable: {}", unreachable.join(", ")));
    }
    if !inspected.is_empty() {
        parts.push(format!(
            "TLS inspected (certificate not from Microsoft's CAs): {}",
            inspected.join(", ")
        ));
    }
    let summary = format!(
        "the enrollment client's network path is broken — {}",
        parts.join("; ")
    );
    let proxy_now = match &net.winhttp_proxy {
        Some(w) if w.direct => {
            " The WinHTTP proxy is direct access: if the network only lets traffic out through a proxy, SYSTEM cannot get out."
        }
        Some(_) => {
            " The WinHTTP proxy is set: check that it lets the computer account through without an interactive sign-in."
        }
        None => " The WinHTTP proxy was not recorded (`netsh winhttp show proxy`).",
    };
    let mut fix = String::new();
    if !inspected.is_empty() {
        fix.push_str(&format!(
            "Exclude {} from TLS inspection on the proxy or firewall (Microsoft does not support inspecting *.manage.microsoft.com, *.dm.microsoft.com, enterpriseregistration.windows.net or device.login.microsoftonline.com: device registration and enrollment authenticate with client certificates). ",
            inspected.join(", ")
        ));
    }
    if !unreachable.is_empty() {
        fix.push_str(&format!(
            "Let SYSTEM reach {}: set the machine's WinHTTP proxy (`netsh winhttp set proxy proxy-server=\"proxy.contoso.com:8080\" bypass-list=\"<local>\"` as an administrator, or `netsh winhttp import proxy source=ie`, or by Group Policy/WPAD), and allow the documented Intune and Entra endpoints in the firewall.{proxy_now} ",
            unreachable.join(", ")
        ));
    }
    fix.push_str("Then run the collector again and check that every probe succeeds.");
    finding(f, &META, Status::Fail, summary, evidence).with_remediation(fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::testutil::*;
    use crate::device::host::WinHttpProxy;
    use crate::device::report::DeviceReport;
    use crate::model::SkipReason;

    this_check!(META, evaluate);

    fn probe(url: &str, tls: Option<bool>, issuer: Option<&str>) -> EndpointProbe {
        EndpointProbe {
            url: url.to_string(),
            dns: Some(true),
            tcp: tls.map(|_| true),
            tls,
            http_status: (tls == Some(true)).then_some(200),
            certificate_issuer: issuer.map(str::to_string),
            location: loc("bundle.json", 9),
            ..Default::default()
        }
    }

    fn with_probes(mut r: DeviceReport, probes: Vec<EndpointProbe>) -> DeviceReport {
        r.network = Some(NetworkEvidence {
            winhttp_proxy: Some(WinHttpProxy {
                direct: true,
                location: loc("winhttp-proxy.txt", 3),
                ..Default::default()
            }),
            probes,
            probed_as_system: Some(true),
            ..Default::default()
        });
        r
    }

    const MS: &str = "CN=Microsoft Azure RSA TLS Issuing CA 08, O=Microsoft Corporation, C=US";

    fn all_good() -> Vec<EndpointProbe> {
        vec![
            probe(
                "https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc",
                Some(true),
                Some(MS),
            ),
            probe(
                "https://enterpriseregistration.windows.net/",
                Some(true),
                Some("DigiCert Global G2 TLS RSA SHA256 2020 CA1"),
            ),
            probe("https://login.microsoftonline.com/", Some(true), Some(MS)),
        ]
    }

    #[test]
    fn pass_when_every_needed_probe_succeeded_with_microsoft_certificates() {
        let f = check(&with_probes(enrolled_hybrid(), all_good()));
        assert_eq!(f.status, Status::Pass, "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.detail.contains("direct access"))
        );
    }

    #[test]
    fn fail_on_tls_inspection_or_an_unreachable_endpoint() {
        let mut probes = all_good();
        probes[0].certificate_issuer = Some("CN=Contoso Proxy CA, O=Contoso".into());
        let f = check(&with_probes(enrolled_hybrid(), probes));
        assert_eq!(f.status, Status::Fail);
        assert!(f.summary.contains("TLS inspected"), "{}", f.summary);
        assert!(
            f.remediation
                .contains("Exclude enrollment.manage.microsoft.com"),
            "{}",
            f.remediation
        );
        assert!(f.evidence[0].detail.contains("Contoso Proxy CA"));

        let mut probes = all_good();
        probes[2].tcp = Some(false);
        probes[2].tls = None;
        probes[2].error = Some("A connection attempt failed".into());
        let f = check(&with_probes(enrolled_hybrid(), probes));
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.summary.contains("login.microsoftonline.com (TCP)"),
            "{}",
            f.summary
        );
        assert!(f.remediation.contains("netsh winhttp set proxy"));
        assert!(f.remediation.contains("direct access"));
    }

    #[test]
    fn the_registration_endpoint_does_not_count_on_an_entra_joined_device() {
        let mut probes = all_good();
        probes[1].dns = Some(false);
        let mut r = with_probes(enrolled_hybrid(), probes);
        r.dsregcmd = Some(dsreg(
            "| Device State |\n AzureAdJoined : YES\n DomainJoined : NO\n",
        ));
        r.registry = None;
        r.events.clear();
        let f = check(&r);
        assert_eq!(f.status, Status::Pass, "{}", f.summary);
    }

    #[test]
    fn unknown_without_probes_and_warn_when_not_run_as_system() {
        let f = check(&enrolled_hybrid());
        assert!(matches!(f.skip_reason, Some(SkipReason::NoEvidence { .. })));
        let f = check(&with_probes(enrolled_hybrid(), Vec::new()));
        assert!(matches!(f.skip_reason, Some(SkipReason::NoEvidence { .. })));
        assert!(f.evidence.iter().any(|e| e.source == "winhttp-proxy"));
        let mut r = with_probes(enrolled_hybrid(), all_good());
        if let Some(n) = r.network.as_mut() {
            n.probed_as_system = Some(false);
        }
        assert_eq!(check(&r).status, Status::Warn);
    }

    #[test]
    fn issuer_families() {
        for yes in [
            MS,
            "Microsoft Azure ECC TLS Issuing CA 01",
            "CN=Microsoft TLS G2 RSA CA OCSP 04, O=Microsoft Corporation",
            "DigiCert SHA2 Secure Server CA",
        ] {
            assert!(expected_issuer(yes), "{yes}");
        }
        for no in [
            "CN=Zscaler Intermediate Root CA, O=Zscaler",
            "Contoso Inspection CA",
            "",
        ] {
            assert!(!expected_issuer(no), "{no}");
        }
        assert_eq!(
            host_of("https://user@login.microsoftonline.com:443/x"),
            "login.microsoftonline.com"
        );
    }
}
