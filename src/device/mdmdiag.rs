//! MdmDiagnosticsTool's `MDMDiagReport.xml`: the enrollments it lists, with the MDM server and
//! the last successful and failed server contact. Element names follow the tool's output; the
//! rest of the report (policies, apps) is not needed for enrollment.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::report::{Location, MdmDiagEnrollment};

/// Enrollments under `DeviceManagementAccount`, in file order.
pub fn parse(file: &str, text: &str) -> Result<Vec<MdmDiagEnrollment>, String> {
    let body = text.trim_start_matches('\u{feff}');
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("not valid XML: {e}"))?;
    let enrollments: Vec<roxmltree::Node<'_, '_>> = doc
        .descendants()
        .filter(|n| is_named(*n, ACCOUNT))
        .flat_map(|account| account.children().filter(|n| is_named(*n, ENROLLMENT)))
        .collect();
    let starts: Vec<usize> = enrollments.iter().map(|n| n.range().start).collect();
    let lines = super::text::lines_at(body, &starts);
    let mut out = Vec::new();
    for (enrollment, line) in enrollments.into_iter().zip(lines) {
        let [id, mdm_server, last_success, last_failure] = leaves(enrollment);
        let Some(id) = id else {
            continue;
        };
        out.push(MdmDiagEnrollment {
            enrollment_id: id,
            mdm_server,
            last_success: last_success.and_then(|t| parse_omadm_time(&t)),
            last_failure: last_failure.and_then(|t| parse_omadm_time(&t)),
            location: Location {
                file: file.to_string(),
                line: Some(line),
                record: None,
            },
        });
    }
    Ok(out)
}

const ACCOUNT: &str = "DeviceManagementAccount";
const ENROLLMENT: &str = "Enrollment";

fn is_named(node: roxmltree::Node<'_, '_>, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name
}

/// The leaf elements read from an `Enrollment`.
const LEAVES: [&str; 4] = [
    "EnrollmentId",
    "MDMServerName",
    "ServerLastSuccessTime",
    "ServerLastFailureTime",
];

/// The first element of each of [`LEAVES`] in an `Enrollment`, trimmed, if not empty. One walk
/// that does not enter a nested account or enrollment (those are read on their own), so every
/// element of the report is visited once.
fn leaves(enrollment: roxmltree::Node<'_, '_>) -> [Option<String>; 4] {
    let mut values: [Option<String>; 4] = Default::default();
    let mut seen = [false; 4];
    let mut stack: Vec<roxmltree::Node<'_, '_>> = enrollment.children().rev().collect();
    while let Some(node) = stack.pop() {
        if !node.is_element() || is_named(node, ACCOUNT) || is_named(node, ENROLLMENT) {
            continue;
        }
        if let Some(i) = LEAVES.iter().position(|n| *n == node.tag_name().name())
            && !seen[i]
        {
            seen[i] = true;
            values[i] = node
                .text()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty());
        }
        stack.extend(node.children().rev());
    }
    values
}

/// OMA-DM style `20261126T081455Z` (UTC); an ISO-8601 time is accepted too.
pub fn parse_omadm_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let compact = s.trim_end_matches('Z');
    NaiveDateTime::parse_from_str(compact, "%Y%m%dT%H%M%S")
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
        .or_else(|| super::events::parse_time(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<MDMEnterpriseDiagnosticsReport>\n  <Version>1.0</Version>\n  <DeviceManagementAccount>\n\
    <Enrollment>\n      <EnrollmentId>5C1E7A3B-9D24-4E6F-8A1B-2C3D4E5F6071</EnrollmentId>\n\
      <ProtectedInformation>\n        <MDMServerName>Microsoft Intune</MDMServerName>\n\
        <ConnectionInformation>\n          <ServerLastSuccessTime>20261126T081455Z</ServerLastSuccessTime>\n\
          <ServerLastFailureTime></ServerLastFailureTime>\n        </ConnectionInformation>\n\
      </ProtectedInformation>\n    </Enrollment>\n    <Enrollment><ProtectedInformation/></Enrollment>\n\
  </DeviceManagementAccount>\n</MDMEnterpriseDiagnosticsReport>\n";

    #[test]
    fn reads_enrollment_server_and_last_contact() {
        let e = parse("MDMDiagReport.xml", REPORT).expect("valid report");
        assert_eq!(
            e.len(),
            1,
            "an Enrollment without EnrollmentId is not listed"
        );
        assert_eq!(e[0].enrollment_id, "5C1E7A3B-9D24-4E6F-8A1B-2C3D4E5F6071");
        assert_eq!(e[0].mdm_server.as_deref(), Some("Microsoft Intune"));
        assert_eq!(
            e[0].last_success.map(|t| t.to_rfc3339()),
            Some("2026-11-26T08:14:55+00:00".to_string())
        );
        assert_eq!(e[0].last_failure, None);
        assert_eq!(e[0].location.to_string(), "MDMDiagReport.xml:5");
    }

    fn enrollment(i: usize) -> String {
        format!(
            "<Enrollment>\n<EnrollmentId>{i:08X}-9D24-4E6F-8A1B-2C3D4E5F6071</EnrollmentId>\n\
<ProtectedInformation><MDMServerName>Microsoft Intune</MDMServerName>\n<ConnectionInformation>\
<ServerLastSuccessTime>20261126T081455Z</ServerLastSuccessTime></ConnectionInformation>\
</ProtectedInformation>\n</Enrollment>\n"
        )
    }

    #[test]
    fn many_enrollments_scale_linearly() {
        // Each enrollment's line used to be counted from the start of the report.
        let make = |n: usize| {
            let body: String = (0..n).map(enrollment).collect();
            format!(
                "<MDMEnterpriseDiagnosticsReport>\n<DeviceManagementAccount>\n{body}</DeviceManagementAccount>\n</MDMEnterpriseDiagnosticsReport>"
            )
        };
        let e = parse("MDMDiagReport.xml", &make(3)).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[2].location.line, Some(13));
        crate::device::text::assert_scales_linearly("MDMDiagReport enrollments", 1500, make, |t| {
            assert_eq!(parse("MDMDiagReport.xml", t).unwrap().len() % 1500, 0);
        });
    }

    #[test]
    fn nested_enrollments_scale_linearly() {
        // Each enrollment's leaves used to be searched in its whole subtree.
        let make = |n: usize| {
            let open = "<DeviceManagementAccount><Enrollment><EnrollmentId>x</EnrollmentId>";
            format!(
                "<MDMEnterpriseDiagnosticsReport>{}{}</MDMEnterpriseDiagnosticsReport>",
                open.repeat(n),
                "</Enrollment></DeviceManagementAccount>".repeat(n)
            )
        };
        assert_eq!(parse("x", &make(3)).unwrap().len(), 3);
        crate::device::text::assert_scales_linearly("nested enrollments", 1500, make, |t| {
            assert_eq!(parse("x", t).unwrap().len() % 1500, 0);
        });
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse("x", &s);
            let _ = parse_omadm_time(&s);
        }
    }

    #[test]
    fn broken_xml_is_an_error_and_times_are_lenient() {
        assert!(parse("x.xml", "<MDMEnterpriseDiagnosticsReport><oops>").is_err());
        assert!(parse_omadm_time("2026-11-26T08:14:55Z").is_some());
        assert_eq!(parse_omadm_time("yesterday"), None);
    }
}
