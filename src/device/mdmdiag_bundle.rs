//! What MdmDiagnosticsTool puts in its bundle (`-cab`, `-zip`, or the folder that Settings,
//! Accounts, Access work or school, "Export your management log files" writes to
//! `C:\Users\Public\Documents\MDMDiagnostics`), by file name: which members are artifacts
//! the parsers read, which are recognised by name only, and which are the tool's many logs
//! and traces that are listed as inputs and otherwise left alone (no note for each).
//!
//! Contents, per Microsoft's "Collect MDM logs" (windows-itpro-docs:
//! windows/client-management/mdm-collect-logs.md, "Understanding zip structure") for the areas
//! `DeviceEnrollment;DeviceProvisioning;Autopilot`: `DiagnosticLogCSP_Collector_*` ETW traces,
//! `MDMDiagHtmlReport.html`, `MdmDiagLogMetadata.json`, `MDMDiagReport.xml`,
//! `MdmDiagReport_RegistryDump.reg`, `MdmLogCollectorFootPrint.txt` and `*.evtx` logs; the
//! Autopilot area adds `DeviceHash_<name>.csv` (memdocs: autopilot/add-devices.md, "the logs
//! include a CSV file with the hardware hash"), `TpmHliInfo_Output.txt`, `LicensingDiag.cab`,
//! the Autopilot profile JSON files, Intune Management Extension logs and `setupact.log`.

use super::report::ArtifactKind;

/// The kind of a file its content left unrecognised, from its name: the bundle's HTML summary
/// and the Autopilot profile files (whose keys vary by Windows release).
pub(crate) fn kind_by_name(name: &str, sniffed: ArtifactKind) -> ArtifactKind {
    if sniffed != ArtifactKind::Unrecognised {
        return sniffed;
    }
    let base = base_name(name).to_ascii_lowercase();
    if base == "mdmdiaghtmlreport.html" || base == "mdmdiagreport.html" {
        ArtifactKind::MdmDiagHtml
    } else if [
        "autopilotddsztdfile.json",
        "autopilotconciergefile.json",
        "autopilotconfigurationfile.json",
    ]
    .contains(&base.as_str())
    {
        ArtifactKind::AutopilotProfile
    } else {
        sniffed
    }
}

/// A member of the bundle that is listed as an input and not read at all: the tool's ETW
/// traces and the licensing cabinet it nests. Binary, holding no facts the checks read, and
/// the largest part of a bundle.
pub(crate) fn skip_unread(name: &str) -> bool {
    let base = base_name(name).to_ascii_lowercase();
    base.starts_with("diagnosticlogcsp_collector_")
        || base.ends_with(".etl")
        || base.ends_with(".etl.merged")
        || base == "licensingdiag.cab"
}

/// A text member that is read and, when no parser recognises it, listed without a note: the
/// tool's own metadata and log, the Intune Management Extension and setup logs and the command
/// outputs (`TpmHliInfo_Output.txt`, …). A bundle has dozens; a recognised one (a dsregcmd
/// output saved as `.log`) is still used.
pub(crate) fn quiet_if_unrecognised(name: &str) -> bool {
    let base = base_name(name).to_ascii_lowercase();
    base.ends_with(".log")
        || base.ends_with("_output.txt")
        || base == "mdmdiaglogmetadata.json"
        || base == "mdmlogcollectorfootprint.txt"
}

/// A note for the HTML summary, once the whole bundle is known: none when the bundle holds
/// `MDMDiagReport.xml` (the same facts, read from there).
pub(crate) fn html_note(has_xml: bool) -> Option<&'static str> {
    (!has_xml).then_some(
        "MdmDiagnosticsTool's HTML summary is written for people and not read; the same \
         enrollment facts are read from MDMDiagReport.xml, which is not in this bundle",
    )
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_by_name() {
        for unread in [
            "DiagnosticLogCSP_Collector_Autopilot_2021_12_22_4_16_20.etl",
            "DiagnosticLogCSP_Collector_DeviceProvisioning_2022_2_24_16_42_27.etl.merged",
            "LicensingDiag.cab",
        ] {
            assert!(skip_unread(unread), "{unread}");
        }
        for quiet in [
            "IntuneManagementExtension-20220803-110145.log",
            "AgentExecutor.log",
            "setupact.log",
            "TpmHliInfo_Output.txt",
            "CertUtil_tpminfo_Output.txt",
            "MdmDiagLogMetadata.json",
            "PC1/MdmLogCollectorFootPrint.txt",
        ] {
            assert!(
                quiet_if_unrecognised(quiet) && !skip_unread(quiet),
                "{quiet}"
            );
        }
        for read in [
            "MDMDiagReport.xml",
            "MdmDiagReport_RegistryDump.reg",
            "microsoft-windows-aad-operational.evtx",
            "DeviceHash_PC0042.csv",
            "AutopilotDDSZTDFile.json",
            "dsregcmd.txt",
            "PC-A.cab",
        ] {
            assert!(!skip_unread(read) && !quiet_if_unrecognised(read), "{read}");
        }
        let u = ArtifactKind::Unrecognised;
        assert_eq!(
            kind_by_name("x/MDMDiagHtmlReport.html", u),
            ArtifactKind::MdmDiagHtml
        );
        assert_eq!(
            kind_by_name("AutopilotConciergeFile.json", u),
            ArtifactKind::AutopilotProfile
        );
        assert_eq!(kind_by_name("notes.json", u), u);
        // Content decides first.
        assert_eq!(
            kind_by_name("AutopilotDDSZTDFile.json", ArtifactKind::EventJson),
            ArtifactKind::EventJson
        );
    }
}
