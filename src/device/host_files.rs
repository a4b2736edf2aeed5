//! Machine facts from loose files (`netsh winhttp show proxy` and `w32tm /query /status`
//! saved as text in a device folder), the merge of a bundle's machine facts into a report, and
//! the machine proxy read from the registry (both forms).

use super::host::{MachineProxy, NetworkEvidence};
use super::netsh;
use super::report::{ArtifactKind, DeviceReport, Registry};
use super::w32tm::{self, W32tmContext};

/// `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings`: the machine's WinINET
/// values (`ProxyEnable`, `ProxyServer`, `AutoConfigURL`), used when proxy settings are per machine.
pub const KEY_MACHINE_INTERNET_SETTINGS: &str =
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings";
/// `HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\Internet Settings`
/// `ProxySettingsPerUser` (0 = one proxy configuration for the whole machine).
pub const KEY_PROXY_POLICY: &str =
    r"HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\Internet Settings";

/// Reads a loose proxy or clock file into the report: the records read, or the problem.
pub(crate) fn add_loose(
    r: &mut DeviceReport,
    kind: ArtifactKind,
    name: &str,
    text: &str,
) -> Result<usize, String> {
    match kind {
        ArtifactKind::WinHttpProxy => {
            let proxy = netsh::parse(name, text)?;
            let net = r.network.get_or_insert_with(NetworkEvidence::default);
            if let Some(first) = &net.winhttp_proxy {
                return Err(format!(
                    "a second WinHTTP proxy output: ignored (using {})",
                    first.location.file
                ));
            }
            net.winhttp_proxy = Some(proxy);
            Ok(1)
        }
        ArtifactKind::W32tm => {
            let clock = w32tm::parse(name, text, &W32tmContext::default())?;
            if let Some(first) = &r.clock {
                return Err(format!(
                    "a second w32tm output: ignored (using {})",
                    first.location.file
                ));
            }
            r.clock = Some(clock);
            Ok(1)
        }
        _ => Ok(0),
    }
}

/// A bundle's machine facts, where the report has none yet (first one wins).
pub(crate) fn merge(r: &mut DeviceReport, b: &mut DeviceReport) {
    if r.hardware.is_none() {
        r.hardware = b.hardware.take();
    }
    if r.tpm.is_none() {
        r.tpm = b.tpm.take();
    }
    if r.clock.is_none() {
        r.clock = b.clock.take();
    }
    match (&mut r.network, b.network.take()) {
        (None, n) => r.network = n,
        (Some(mine), Some(theirs)) => {
            if mine.winhttp_proxy.is_none() {
                mine.winhttp_proxy = theirs.winhttp_proxy;
            }
            if mine.probes.is_empty() {
                mine.probes = theirs.probes;
                mine.probed_as_system = theirs.probed_as_system;
            }
            if mine.error.is_none() {
                mine.error = theirs.error;
            }
        }
        (Some(_), None) => {}
    }
}

/// Fills `network.machine_proxy` from the registry once every file is read (a network section
/// is created when the registry holds the Internet Settings keys).
pub(crate) fn derive(r: &mut DeviceReport) {
    let Some(reg) = r.registry.as_ref() else {
        return;
    };
    let Some(proxy) = machine_proxy(reg) else {
        return;
    };
    let net = r.network.get_or_insert_with(NetworkEvidence::default);
    if net.machine_proxy.is_none() {
        net.machine_proxy = Some(proxy);
    }
}

/// The machine-wide WinINET proxy facts, when either key was exported (or looked for).
pub fn machine_proxy(reg: &Registry) -> Option<MachineProxy> {
    if !reg.covers(KEY_MACHINE_INTERNET_SETTINGS) && !reg.covers(KEY_PROXY_POLICY) {
        return None;
    }
    let policy = reg.key(KEY_PROXY_POLICY);
    let machine = reg.key(KEY_MACHINE_INTERNET_SETTINGS);
    let text = |name: &str| {
        machine
            .and_then(|k| k.value(name))
            .map(|v| v.data.as_text().trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let enabled = machine
        .and_then(|k| k.value("ProxyEnable"))
        .and_then(|v| v.data.as_u64());
    let location = policy
        .filter(|k| k.value("ProxySettingsPerUser").is_some())
        .or(machine)
        .map(|k| k.location.clone())
        .unwrap_or_default();
    Some(MachineProxy {
        per_user: policy
            .and_then(|k| k.value("ProxySettingsPerUser"))
            .and_then(|v| v.data.as_u64())
            .map(|v| v != 0),
        // `ProxyServer` counts only while `ProxyEnable` is not 0.
        proxy_server: text("ProxyServer").filter(|_| enabled != Some(0)),
        auto_config_url: text("AutoConfigURL"),
        location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::registry;

    #[test]
    fn machine_proxy_from_reg_export() {
        let text = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings]\n\"ProxySettingsPerUser\"=dword:00000000\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings]\n\"ProxyEnable\"=dword:00000001\n\"ProxyServer\"=\"proxy.contoso.com:8080\"\n";
        let reg = Registry {
            keys: registry::parse("is.reg", text).keys,
        };
        let p = machine_proxy(&reg).unwrap();
        assert_eq!(p.per_user, Some(false));
        assert_eq!(p.proxy_server.as_deref(), Some("proxy.contoso.com:8080"));
        assert_eq!(p.location.file, "is.reg");
        assert_eq!(machine_proxy(&Registry::default()), None);
    }

    #[test]
    fn loose_files_fill_network_and_clock_once() {
        let mut r = DeviceReport::default();
        let netsh = "Current WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n";
        assert_eq!(
            add_loose(&mut r, ArtifactKind::WinHttpProxy, "proxy.txt", netsh),
            Ok(1)
        );
        assert!(add_loose(&mut r, ArtifactKind::WinHttpProxy, "again.txt", netsh).is_err());
        assert!(
            r.network
                .as_ref()
                .unwrap()
                .winhttp_proxy
                .as_ref()
                .unwrap()
                .direct
        );
        let w = "Leap Indicator: 3(not synchronized)\nStratum: 0 (unspecified)\nSource: Local CMOS Clock\n";
        assert_eq!(
            add_loose(&mut r, ArtifactKind::W32tm, "w32tm.txt", w),
            Ok(1)
        );
        assert_eq!(r.clock.unwrap().source.as_deref(), Some("Local CMOS Clock"));
    }
}
