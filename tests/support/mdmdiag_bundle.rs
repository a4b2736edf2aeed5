//! An MdmDiagnosticsTool bundle built from a sample scenario, as `-cab`, `-zip` and the folder it
//! unpacks to: the scenario's registry exports joined into `MdmDiagReport_RegistryDump.reg` (in
//! the dump's own shape: no header line, values indented, `DWORD:` in capitals), its event
//! exports, an `MDMDiagReport.xml`, the Autopilot files, and the tool's logs and traces that are
//! listed and not read. Shared by the end-to-end tests and the benches through `#[path]`.
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::Path;

use crate::utf16 as utf16_codec;

/// Files `(name, data)` of a bundle.
pub type Files = Vec<(String, Vec<u8>)>;

/// The registry dump of the `.reg` exports EXPORTS (UTF-16LE, as `reg export` writes them).
pub fn registry_dump(exports: &[Vec<u8>]) -> Vec<u8> {
    let mut out = String::new();
    for export in exports {
        let text = utf16_codec::decode_bom(export)
            .unwrap_or_else(|| String::from_utf8_lossy(export).into_owned());
        for line in text.lines() {
            let line = line.trim_end();
            if line.eq_ignore_ascii_case("Windows Registry Editor Version 5.00") {
                continue;
            }
            if line.starts_with('"') || line.starts_with('@') {
                out.push_str("    ");
                out.push_str(&line.replace("=dword:", "=DWORD:"));
            } else {
                out.push_str(line);
            }
            out.push_str("\r\n");
        }
    }
    utf16_codec::encode_bom(out.trim_start())
}

/// `MDMDiagReport.xml` listing ENROLLMENTS `(id, server)`.
pub fn mdm_diag_report(enrollments: &[(&str, &str)]) -> Vec<u8> {
    let mut xml = String::from(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<MDMEnterpriseDiagnosticsReport>\r\n  <Version>1.0</Version>\r\n  <DeviceManagementAccount>\r\n",
    );
    for (id, server) in enrollments {
        xml.push_str(&format!(
            "    <Enrollment>\r\n      <EnrollmentId>{id}</EnrollmentId>\r\n      <ProtectedInformation>\r\n        <MDMServerName>{server}</MDMServerName>\r\n      </ProtectedInformation>\r\n    </Enrollment>\r\n"
        ));
    }
    xml.push_str("  </DeviceManagementAccount>\r\n</MDMEnterpriseDiagnosticsReport>\r\n");
    xml.into_bytes()
}

/// The files MdmDiagnosticsTool would write for the device of the sample folder SCENARIO
/// (`-area "DeviceEnrollment;DeviceProvisioning;Autopilot"`), with its events as the XML
/// exports the sample holds. `noise` adds the tool's logs and traces (listed, not read).
pub fn bundle_files(scenario: &Path, noise: bool) -> Files {
    let read = |name: &str| std::fs::read(scenario.join(name)).unwrap_or_default();
    let regs: Vec<Vec<u8>> = ["enrollments.reg", "mdm-policy.reg", "os.reg"]
        .iter()
        .map(|n| read(n))
        .filter(|b| !b.is_empty())
        .collect();
    let mut files: Files = vec![
        (
            "MDMDiagReport.xml".into(),
            mdm_diag_report(&[("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "")]),
        ),
        ("MdmDiagReport_RegistryDump.reg".into(), registry_dump(&regs)),
        (
            "DeviceHash_PC0099.csv".into(),
            b"Device Serial Number,Windows Product ID,Hardware Hash\r\n5CG1234XYZ,,T0HxAQEAHAAAAAoAzAMBAA==\r\n"
                .to_vec(),
        ),
        (
            "AutopilotDDSZTDFile.json".into(),
            br#"{"CloudAssignedTenantId":"11111111-2222-3333-4444-555555555555","CloudAssignedTenantDomain":"contoso.com","ZtdCorrelationId":"6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b","CloudAssignedDomainJoinMethod":1}"#
                .to_vec(),
        ),
        (
            "AutopilotConciergeFile.json".into(),
            br#"{"CloudAssignedLanguage":"os-default","CloudAssignedRegion":"os-default"}"#.to_vec(),
        ),
        (
            "MDMDiagHtmlReport.html".into(),
            b"<!DOCTYPE html><html><body><h1>MDM Diagnostic Report</h1></body></html>".to_vec(),
        ),
    ];
    for (name, as_name) in [
        (
            "dmedp-admin.xml",
            "microsoft-windows-devicemanagement-enterprise-diagnostics-provider-admin.xml",
        ),
        (
            "taskscheduler.xml",
            "microsoft-windows-taskscheduler-operational.xml",
        ),
        (
            "taskscheduler.json",
            "microsoft-windows-taskscheduler-operational.json",
        ),
    ] {
        let bytes = read(name);
        if !bytes.is_empty() {
            files.push((as_name.to_string(), bytes));
        }
    }
    if noise {
        files.extend(noise_files());
    }
    files
}

/// What the tool writes besides: ETW traces, its metadata and log, IME and setup logs, the
/// TPM output and the licensing cabinet.
pub fn noise_files() -> Files {
    let trace: Vec<u8> = (0..64 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    vec![
        ("DiagnosticLogCSP_Collector_Autopilot_2026_11_26_8_14_55.etl".into(), trace.clone()),
        ("DiagnosticLogCSP_Collector_DeviceProvisioning_2026_11_26_8_15_2.etl".into(), trace),
        (
            "MdmDiagLogMetadata.json".into(),
            br#"{"Arguments":"-area DeviceEnrollment;DeviceProvisioning;Autopilot -cab C:\\Temp\\diag.cab"}"#
                .to_vec(),
        ),
        ("MdmLogCollectorFootPrint.txt".into(), b"Collecting area DeviceEnrollment\r\n".to_vec()),
        (
            "IntuneManagementExtension.log".into(),
            b"<![LOG[[Win32App] ESP checking]LOG]!><time=\"08:15:02.1234567\" date=\"11-26-2026\">\r\n"
                .repeat(200),
        ),
        ("setupact.log".into(), b"2026-11-26 08:00:00, Info  CONX  start\r\n".repeat(50)),
        ("TpmHliInfo_Output.txt".into(), b"TPM Present: true\r\nTPM Version: 2.0\r\n".to_vec()),
        ("LicensingDiag.cab".into(), b"MSCF\0\0\0\0 nested".to_vec()),
    ]
}

/// FILES as a cabinet in one MSZIP folder, as MdmDiagnosticsTool writes it.
pub fn cab_bytes(files: &Files) -> Vec<u8> {
    let mut builder = cab::CabinetBuilder::new();
    // A cabinet of no files has no folder (the writer cannot finish an empty one).
    if !files.is_empty() {
        let folder = builder.add_folder(cab::CompressionType::MsZip);
        for (name, _) in files {
            folder.add_file(name.as_str());
        }
    }
    let mut writer = builder
        .build(Cursor::new(Vec::new()))
        .expect("start cabinet");
    let mut data = files.iter();
    while let Some(mut file) = writer.next_file().expect("next cabinet file") {
        let (_, bytes) = data.next().expect("as many files as names");
        file.write_all(bytes).expect("write cabinet file");
    }
    writer.finish().expect("finish cabinet").into_inner()
}

/// FILES as a flat zip (`-zip`).
pub fn zip_bytes(files: &Files) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        z.start_file(name.as_str(), opts).expect("zip entry");
        z.write_all(data).expect("zip data");
    }
    z.finish().expect("finish zip").into_inner()
}

/// FILES unpacked into DIR.
pub fn write_folder(dir: &Path, files: &Files) {
    std::fs::create_dir_all(dir).expect("bundle folder");
    for (name, data) in files {
        std::fs::write(dir.join(name), data).expect("bundle file");
    }
}
