//! MdmDiagnosticsTool's `MDMDiagReport.xml`: the enrollments it lists, with the MDM server and
//! the last successful and failed server contact. Element names follow the tool's output; the
//! rest of the report (policies, apps) is not needed for enrollment.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::report::{Location, MdmDiagEnrollment};
use super::xml::{Node, walk};

/// Enrollments under `DeviceManagementAccount`, in file order, read in one streaming pass.
pub fn parse(file: &str, text: &str) -> Result<Vec<MdmDiagEnrollment>, String> {
    let body = text.trim_start_matches('\u{feff}');
    // Names of the open elements (to know an enrollment's parent); enrollments being read,
    // innermost last; finished ones by the order of their start tags.
    let mut names: Vec<String> = Vec::new();
    let mut open: Vec<Reading> = Vec::new();
    let mut slots: Vec<Option<MdmDiagEnrollment>> = Vec::new();
    walk(body, |node| match node {
        Node::Open {
            name, depth, line, ..
        } => {
            if let Some(r) = open.last_mut() {
                r.child_opens(name, depth);
            }
            if name == ENROLLMENT && names.last().is_some_and(|p| p == ACCOUNT) {
                open.push(Reading::new(slots.len(), depth, line));
                slots.push(None);
            }
            names.push(name.to_string());
        }
        Node::Text(t) => {
            if let Some(r) = open.last_mut() {
                r.text(t, names.len());
            }
        }
        Node::Other => {
            if let Some(r) = open.last_mut() {
                r.other(names.len());
            }
        }
        Node::Close { depth } => {
            names.pop();
            match open.last_mut() {
                Some(r) if r.depth == depth => {
                    if let Some(r) = open.pop() {
                        let index = r.index;
                        slots[index] = r.finish(file);
                    }
                }
                Some(r) => r.close(depth),
                None => {}
            }
        }
    })?;
    Ok(slots.into_iter().flatten().collect())
}

const ACCOUNT: &str = "DeviceManagementAccount";
const ENROLLMENT: &str = "Enrollment";

/// The leaf elements read from an `Enrollment`: the first of each name, trimmed, if not empty.
const LEAVES: [&str; 4] = [
    "EnrollmentId",
    "MDMServerName",
    "ServerLastSuccessTime",
    "ServerLastFailureTime",
];

/// One `Enrollment` being read. A nested account or enrollment inside it is not entered (a
/// nested enrollment is read on its own).
struct Reading {
    index: usize,
    depth: usize,
    line: usize,
    values: [Option<String>; 4],
    seen: [bool; 4],
    /// Depth of the nested account or enrollment being skipped.
    skipping: Option<usize>,
    /// Leaves whose text is being read: (leaf, depth, text, still before any child node).
    reading: Vec<(usize, usize, String, bool)>,
}

impl Reading {
    fn new(index: usize, depth: usize, line: usize) -> Reading {
        Reading {
            index,
            depth,
            line,
            values: Default::default(),
            seen: [false; 4],
            skipping: None,
            reading: Vec::new(),
        }
    }

    fn child_opens(&mut self, name: &str, depth: usize) {
        if self.skipping.is_some() {
            return;
        }
        if let Some(top) = self.reading.last_mut() {
            top.3 = false;
        }
        if name == ACCOUNT || name == ENROLLMENT {
            self.skipping = Some(depth);
        } else if let Some(i) = LEAVES.iter().position(|n| *n == name)
            && !self.seen[i]
        {
            self.seen[i] = true;
            self.reading.push((i, depth, String::new(), true));
        }
    }

    fn text(&mut self, t: &str, depth: usize) {
        if let Some(top) = self.reading.last_mut()
            && self.skipping.is_none()
            && top.1 == depth
            && top.3
        {
            top.2.push_str(t);
        }
    }

    fn other(&mut self, depth: usize) {
        if let Some(top) = self.reading.last_mut()
            && self.skipping.is_none()
            && top.1 == depth
        {
            top.3 = false;
        }
    }

    fn close(&mut self, depth: usize) {
        if self.skipping == Some(depth) {
            self.skipping = None;
        } else if self.skipping.is_none()
            && self.reading.last().is_some_and(|top| top.1 == depth)
            && let Some((i, _, text, _)) = self.reading.pop()
        {
            let t = text.trim();
            self.values[i] = (!t.is_empty()).then(|| t.to_string());
        }
    }

    fn finish(self, file: &str) -> Option<MdmDiagEnrollment> {
        let [id, mdm_server, last_success, last_failure] = self.values;
        Some(MdmDiagEnrollment {
            enrollment_id: id?,
            mdm_server,
            last_success: last_success.and_then(|t| parse_omadm_time(&t)),
            last_failure: last_failure.and_then(|t| parse_omadm_time(&t)),
            location: Location {
                file: file.to_string(),
                line: Some(self.line),
                record: None,
            },
        })
    }
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
