//! `netsh winhttp show proxy`: the proxy WinHTTP (and so the SYSTEM account, the MDM
//! enrollment client) uses. The user's WinINET proxy and PAC file do not apply to it.
//!
//! English output only. The tool prints its labels in the display language; a localised output
//! is reported as unrecognised rather than guessed at.
//!
//! ```text
//! Current WinHTTP proxy settings:
//!
//!     Direct access (no proxy server).
//! ```
//! or
//! ```text
//! Current WinHTTP proxy settings:
//!
//!     Proxy Server(s) :  proxy.contoso.com:8080
//!     Bypass List     :  *.contoso.com;<local>
//! ```

use super::host::WinHttpProxy;
use super::report::Location;

const HEADER: &str = "current winhttp proxy settings";

/// True when the text opens like English `netsh winhttp show proxy` output (its first
/// non-empty line is `Current WinHTTP proxy settings:`).
pub(crate) fn looks_like(head: &str) -> bool {
    let mut lines = head.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    first.to_ascii_lowercase().starts_with(HEADER) && first.ends_with(':')
}

/// Parses the output. `Err` names what was not understood (e.g. a localised output).
pub fn parse(file: &str, text: &str) -> Result<WinHttpProxy, String> {
    let mut out = WinHttpProxy {
        location: Location {
            file: file.to_string(),
            line: None,
            record: None,
        },
        ..WinHttpProxy::default()
    };
    let mut seen_header = false;
    let mut recognised = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with(HEADER) {
            seen_header = true;
            continue;
        }
        if lower.starts_with("direct access") {
            out.direct = true;
            out.location.line = Some(i + 1);
            recognised = true;
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let label = label.trim().to_ascii_lowercase();
        let value = value.trim();
        if label.starts_with("proxy server") {
            out.direct = false;
            out.proxy_server = (!value.is_empty()).then(|| value.to_string());
            out.location.line = Some(i + 1);
            recognised = true;
        } else if label.starts_with("bypass list") {
            out.bypass_list =
                (!value.is_empty() && !value.eq_ignore_ascii_case("(none)")).then(|| value.into());
        }
    }
    if recognised {
        Ok(out)
    } else if seen_header {
        Err("netsh winhttp output without a 'Direct access' or 'Proxy Server(s)' line".into())
    } else if text.trim().is_empty() {
        Err("empty netsh winhttp output".into())
    } else {
        Err("netsh winhttp output not recognised (only English output is read)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn direct_access() {
        let p = parse(
            "proxy.txt",
            "\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n\r\n",
        )
        .unwrap();
        assert!(p.direct);
        assert_eq!(p.proxy_server, None);
        assert_eq!(p.location.to_string(), "proxy.txt:4");
    }

    #[test]
    fn proxy_and_bypass() {
        let text = "\nCurrent WinHTTP proxy settings:\n\n    Proxy Server(s) :  proxy.contoso.com:8080\n    Bypass List     :  *.contoso.com;<local>\n";
        let p = parse("p", text).unwrap();
        assert!(!p.direct);
        assert_eq!(p.proxy_server.as_deref(), Some("proxy.contoso.com:8080"));
        assert_eq!(p.bypass_list.as_deref(), Some("*.contoso.com;<local>"));
        let p = parse(
            "p",
            "Current WinHTTP proxy settings:\n    Proxy Server(s) :  http=a:80;https=b:443\n    Bypass List     :  (none)\n",
        )
        .unwrap();
        assert_eq!(p.proxy_server.as_deref(), Some("http=a:80;https=b:443"));
        assert_eq!(p.bypass_list, None);
    }

    #[test]
    fn localised_output_is_unrecognised() {
        let de =
            "\nAktuelle WinHTTP-Proxyeinstellungen:\n\n    Direkter Zugriff (kein Proxyserver).\n";
        assert!(parse("p", de).unwrap_err().contains("only English"));
        assert!(!looks_like(de));
        assert!(looks_like("\r\nCurrent WinHTTP proxy settings:\r\n"));
        assert!(parse("p", "").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = parse("x", &s);
            let _ = parse("x", &format!("Current WinHTTP proxy settings:\n{s}"));
            let _ = looks_like(&s);
        }
    }
}
