//! Windows 10/11 client releases: build number → version, GA date and end of servicing per
//! edition family. Used to warn (never block) when a device runs a release that no longer gets
//! security updates.
//!
//! Windows 11 is identified by its build (≥ 22000). `ProductName` in the registry still says
//! "Windows 10" on many Windows 11 installs and must not be trusted.

use chrono::NaiveDate;
use serde::Serialize;

/// Where the dates come from. Microsoft's lifecycle pages are authoritative; the scraped JSON
/// was used to read them and its end dates were moved back one day to the Patch Tuesday.
pub const SOURCE: &[&str] = &[
    "https://learn.microsoft.com/windows/release-health/release-information",
    "https://learn.microsoft.com/windows/release-health/windows11-release-information",
    "https://learn.microsoft.com/lifecycle/products/windows-11-enterprise-and-education",
    "https://learn.microsoft.com/lifecycle/products/windows-11-home-and-pro",
    "https://learn.microsoft.com/lifecycle/products/windows-10-enterprise-and-education",
    "https://learn.microsoft.com/lifecycle/products/windows-10-home-and-pro",
    "https://github.com/altrhombus/DataForGeeks (content/ms/mswin/lifecycle-client.json, releases.json, lifecycle-client-ltsc.json)",
];

/// The date the table was last checked against its sources.
pub const AS_OF: &str = "2026-11-04";

/// Windows 11 starts at build 22000 (21H2).
pub const FIRST_WINDOWS_11_BUILD: u32 = 22000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Product {
    #[serde(rename = "Windows 10")]
    Windows10,
    #[serde(rename = "Windows 11")]
    Windows11,
}

impl Product {
    pub fn as_str(&self) -> &'static str {
        match self {
            Product::Windows10 => "Windows 10",
            Product::Windows11 => "Windows 11",
        }
    }
}

/// Servicing channels that have their own end dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EditionFamily {
    /// Home, Pro, Pro Education, Pro for Workstations (and their N / single-language variants).
    HomePro,
    /// Enterprise, Education, IoT Enterprise (general availability channel), multi-session.
    EnterpriseEducation,
    /// Long-Term Servicing Channel / Branch (EnterpriseS, IoTEnterpriseS).
    Ltsc,
    /// An EditionID this table does not know.
    Unknown,
}

impl EditionFamily {
    pub fn as_str(&self) -> &'static str {
        match self {
            EditionFamily::HomePro => "Home/Pro",
            EditionFamily::EnterpriseEducation => "Enterprise/Education",
            EditionFamily::Ltsc => "LTSC/LTSB",
            EditionFamily::Unknown => "unknown edition",
        }
    }
}

impl std::fmt::Display for EditionFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Long-Term Servicing edition built on a release, if any.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LtscEdition {
    /// e.g. "Windows 10 Enterprise LTSC 2021".
    pub name: &'static str,
    /// End of support for Enterprise LTSC/LTSB.
    pub end: NaiveDate,
    /// End of support for IoT Enterprise LTSC (sometimes five years longer).
    pub iot_end: NaiveDate,
}

/// One client release.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WindowsRelease {
    pub build: u32,
    pub product: Product,
    /// Marketing version: "24H2", "1809".
    pub version: &'static str,
    /// General availability.
    pub ga: Option<NaiveDate>,
    /// End of servicing for Home, Pro, Pro Education and Pro for Workstations.
    pub home_pro_end: Option<NaiveDate>,
    /// End of servicing for Enterprise, Education and IoT Enterprise (GA channel).
    pub enterprise_end: Option<NaiveDate>,
    pub ltsc: Option<LtscEdition>,
    /// Caveats: third-party source, extended security updates, availability.
    pub note: Option<&'static str>,
}

impl WindowsRelease {
    /// "Windows 11 24H2".
    pub fn name(&self) -> String {
        format!("{} {}", self.product.as_str(), self.version)
    }

    /// End of servicing for an edition family (`Unknown` → `None`).
    pub fn end_for(&self, family: EditionFamily) -> Option<NaiveDate> {
        match family {
            EditionFamily::HomePro => self.home_pro_end,
            EditionFamily::EnterpriseEducation => self.enterprise_end,
            EditionFamily::Ltsc => self.ltsc.map(|l| l.end),
            EditionFamily::Unknown => None,
        }
    }
}

/// The end of servicing that applies to one device.
#[derive(Debug, Clone, Serialize)]
pub struct Servicing {
    pub release: &'static WindowsRelease,
    /// The family whose date was used.
    pub family: EditionFamily,
    /// True when the edition was missing or unknown and `family` is a guess.
    pub family_assumed: bool,
    /// "Windows 11 24H2 Enterprise/Education", "Windows 10 Enterprise LTSC 2021".
    pub label: String,
    /// Last day of security updates; `None` when no source gives it.
    pub end: Option<NaiveDate>,
    /// Assumptions and caveats to print with the date.
    pub notes: Vec<String>,
}

impl Servicing {
    /// Out of servicing on `as_of` (the day after `end`). Unknown end → `false`.
    pub fn is_past(&self, as_of: NaiveDate) -> bool {
        self.end.is_some_and(|end| as_of > end)
    }
}

/// Windows 11 is build 22000 or later; the product name cannot tell.
pub fn is_windows_11(build: u32) -> bool {
    build >= FIRST_WINDOWS_11_BUILD
}

/// The release with this build number (`None` for Insider, Server or unknown builds).
pub fn release_for_build(build: u32) -> Option<&'static WindowsRelease> {
    RELEASES.iter().find(|r| r.build == build)
}

/// Every release in the table, oldest first.
pub fn all() -> &'static [WindowsRelease] {
    RELEASES
}

/// Maps the registry `EditionID` (`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`) to its
/// servicing family. Case-insensitive.
pub fn edition_family(edition_id: &str) -> EditionFamily {
    let id = edition_id.trim().to_ascii_lowercase();
    // LTSC editions end in "S" (EnterpriseS, EnterpriseSN, IoTEnterpriseS, IoTEnterpriseSK).
    const LTSC: &[&str] = &[
        "enterprises",
        "enterprisesn",
        "iotenterprises",
        "iotenterprisesk",
    ];
    const ENTERPRISE: &[&str] = &[
        "enterprise",
        "enterprisen",
        "enterpriseg",
        "enterprisegn",
        "education",
        "educationn",
        "iotenterprise",
        "iotenterprisek",
        // Windows Enterprise multi-session (AVD) reports ServerRdsh.
        "serverrdsh",
    ];
    const HOME_PRO: &[&str] = &[
        "core",
        "coren",
        "corecountryspecific",
        "coresinglelanguage",
        "professional",
        "professionaln",
        "professionaleducation",
        "professionaleducationn",
        "professionalworkstation",
        "professionalworkstationn",
        "professionalcountryspecific",
        "professionalsinglelanguage",
    ];
    if LTSC.contains(&id.as_str()) {
        EditionFamily::Ltsc
    } else if ENTERPRISE.contains(&id.as_str()) {
        EditionFamily::EnterpriseEducation
    } else if HOME_PRO.contains(&id.as_str()) {
        EditionFamily::HomePro
    } else {
        EditionFamily::Unknown
    }
}

/// Server editions (`ServerStandard`, `ServerDatacenter`…), not the client multi-session SKU.
pub fn is_server_edition(edition_id: &str) -> bool {
    let id = edition_id.trim().to_ascii_lowercase();
    id.starts_with("server") && id != "serverrdsh"
}

/// The end of servicing for a build and (optional) EditionID. When the edition is missing or
/// unknown the Home/Pro date is used — the earliest, so a warning is never late — and a note
/// says so and gives the Enterprise/Education date too.
pub fn servicing_end(build: u32, edition_id: Option<&str>) -> Option<Servicing> {
    // Windows Server shares build numbers with client releases (17763, 26100…) but has its own
    // lifecycle; this table is for clients only. ServerRdsh is client multi-session.
    if edition_id.is_some_and(is_server_edition) {
        return None;
    }
    let release = release_for_build(build)?;
    let detected = edition_id.map(edition_family);
    let mut notes = Vec::new();
    let (family, assumed) = match detected {
        Some(EditionFamily::Unknown) | None => {
            let why = match edition_id {
                Some(id) => format!("edition \"{id}\" is not known to this table"),
                None => "the edition is unknown".to_string(),
            };
            let ent = release
                .enterprise_end
                .map(|d| format!("; Enterprise/Education ends {d}"))
                .unwrap_or_default();
            notes.push(format!(
                "{why}: assumed Home/Pro, the earliest end date{ent}"
            ));
            (EditionFamily::HomePro, true)
        }
        Some(EditionFamily::Ltsc) if release.ltsc.is_none() => {
            notes.push(format!(
                "no LTSC edition is built on {}: used the Enterprise/Education date",
                release.name()
            ));
            (EditionFamily::EnterpriseEducation, true)
        }
        Some(f) => (f, false),
    };
    let (label, end) = match (family, release.ltsc) {
        (EditionFamily::Ltsc, Some(l)) => {
            let iot =
                edition_id.is_some_and(|id| id.trim().to_ascii_lowercase().starts_with("iot"));
            if iot {
                (format!("{} (IoT)", l.name), Some(l.iot_end))
            } else {
                (l.name.to_string(), Some(l.end))
            }
        }
        _ => (
            format!("{} {}", release.name(), family.as_str()),
            release.end_for(family),
        ),
    };
    if let Some(note) = release.note {
        notes.push(note.to_string());
    }
    Some(Servicing {
        release,
        family,
        family_assumed: assumed,
        label,
        end,
        notes,
    })
}

const fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, day) {
        Some(date) => date,
        // Evaluated at compile time for the constant table below.
        None => panic!("invalid date in the release table"),
    }
}

const fn rel(
    build: u32,
    product: Product,
    version: &'static str,
    ga: NaiveDate,
    home_pro_end: NaiveDate,
    enterprise_end: NaiveDate,
) -> WindowsRelease {
    WindowsRelease {
        build,
        product,
        version,
        ga: Some(ga),
        home_pro_end: Some(home_pro_end),
        enterprise_end: Some(enterprise_end),
        ltsc: None,
        note: None,
    }
}

impl WindowsRelease {
    const fn with_ltsc(mut self, name: &'static str, end: NaiveDate, iot_end: NaiveDate) -> Self {
        self.ltsc = Some(LtscEdition { name, end, iot_end });
        self
    }

    const fn with_note(mut self, note: &'static str) -> Self {
        self.note = Some(note);
        self
    }
}

use Product::{Windows10 as W10, Windows11 as W11};

const ESU_NOTE: &str = "Windows 10 reached end of support on 2025-10-14; security updates after that date come only \
through the paid Extended Security Updates (ESU) programme (organisations: yearly, for up to three years; \
consumers: one year). An enrolled ESU device still gets updates — check its ESU licence before treating it as unpatched.";

/// Oldest first. Rows from 1809 on follow Microsoft's release information pages
/// (learn.microsoft.com/windows/release-health/release-information and
/// windows11-release-information). 1507–1803 and 1903 carry Microsoft's published lifecycle
/// dates as remembered, not re-checked against a page; all of them are long past, so only
/// "out of support" depends on them.
static RELEASES: &[WindowsRelease] = &[
    rel(10240, W10, "1507", d(2015, 7, 29), d(2017, 5, 9), d(2017, 5, 9))
        .with_ltsc("Windows 10 Enterprise LTSB 2015", d(2025, 10, 14), d(2025, 10, 14)),
    rel(10586, W10, "1511", d(2015, 11, 10), d(2017, 10, 10), d(2018, 4, 10)),
    rel(14393, W10, "1607", d(2016, 8, 2), d(2018, 4, 10), d(2019, 4, 9))
        .with_ltsc("Windows 10 Enterprise LTSB 2016", d(2026, 10, 13), d(2026, 10, 13)),
    rel(15063, W10, "1703", d(2017, 4, 5), d(2018, 10, 9), d(2019, 10, 8)),
    rel(16299, W10, "1709", d(2017, 10, 17), d(2019, 4, 9), d(2020, 10, 13)),
    rel(17134, W10, "1803", d(2018, 4, 30), d(2019, 11, 12), d(2021, 5, 11)),
    rel(17763, W10, "1809", d(2018, 11, 13), d(2020, 11, 10), d(2021, 5, 11))
        .with_ltsc("Windows 10 Enterprise LTSC 2019", d(2029, 1, 9), d(2029, 1, 9)),
    rel(18362, W10, "1903", d(2019, 5, 21), d(2020, 12, 8), d(2020, 12, 8)),
    rel(18363, W10, "1909", d(2019, 11, 12), d(2021, 5, 11), d(2022, 5, 10)),
    rel(19041, W10, "2004", d(2020, 5, 27), d(2021, 12, 14), d(2021, 12, 14)),
    rel(19042, W10, "20H2", d(2020, 10, 20), d(2022, 5, 10), d(2023, 5, 9)),
    rel(19043, W10, "21H1", d(2021, 5, 18), d(2022, 12, 13), d(2022, 12, 13)),
    rel(19044, W10, "21H2", d(2021, 11, 16), d(2023, 6, 13), d(2024, 6, 11))
        .with_ltsc("Windows 10 Enterprise LTSC 2021", d(2027, 1, 12), d(2032, 1, 13)),
    rel(19045, W10, "22H2", d(2022, 10, 18), d(2025, 10, 14), d(2025, 10, 14)).with_note(ESU_NOTE),
    rel(22000, W11, "21H2", d(2021, 10, 4), d(2023, 10, 10), d(2024, 10, 8)),
    rel(22621, W11, "22H2", d(2022, 9, 20), d(2024, 10, 8), d(2025, 10, 14)),
    rel(22631, W11, "23H2", d(2023, 10, 31), d(2025, 11, 11), d(2026, 11, 10)),
    rel(26100, W11, "24H2", d(2024, 10, 1), d(2026, 10, 13), d(2027, 10, 12))
        .with_ltsc("Windows 11 Enterprise LTSC 2024", d(2029, 10, 9), d(2034, 10, 10)),
    rel(26200, W11, "25H2", d(2025, 9, 30), d(2027, 10, 12), d(2028, 10, 10)),
    WindowsRelease {
        build: 26300,
        product: W11,
        version: "26H2",
        ga: None,
        home_pro_end: Some(d(2028, 10, 10)),
        enterprise_end: None,
        ltsc: None,
        note: Some(
            "build number and Home/Pro date come from third-party notes and are unverified; \
             the Enterprise/Education date is not published in the sources used",
        ),
    },
    rel(28000, W11, "26H1", d(2026, 2, 10), d(2028, 3, 14), d(2029, 3, 13)).with_note(
        "26H1 ships on new devices only and is not offered to existing PCs; dates agree with a third-party note",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_builds_map_to_versions() {
        let name = |b| release_for_build(b).map(|r| r.name());
        assert_eq!(name(26100).as_deref(), Some("Windows 11 24H2"));
        assert_eq!(name(22631).as_deref(), Some("Windows 11 23H2"));
        assert_eq!(name(22621).as_deref(), Some("Windows 11 22H2"));
        assert_eq!(name(22000).as_deref(), Some("Windows 11 21H2"));
        assert_eq!(name(19045).as_deref(), Some("Windows 10 22H2"));
        assert_eq!(name(19044).as_deref(), Some("Windows 10 21H2"));
        assert_eq!(name(17763).as_deref(), Some("Windows 10 1809"));
        assert_eq!(name(26200).as_deref(), Some("Windows 11 25H2"));
        assert_eq!(name(10240).as_deref(), Some("Windows 10 1507"));
        assert!(
            release_for_build(20348).is_none(),
            "Server 2022 is not a client release"
        );
    }

    #[test]
    fn windows_11_is_decided_by_build() {
        assert!(!is_windows_11(19045));
        assert!(is_windows_11(22000));
        assert!(is_windows_11(26100));
        for r in all() {
            assert_eq!(
                is_windows_11(r.build),
                r.product == Product::Windows11,
                "{}",
                r.build
            );
        }
    }

    #[test]
    fn end_dates_per_edition_family() {
        let s = servicing_end(22631, Some("Enterprise")).expect("23H2 known");
        assert_eq!(s.end, Some(d(2026, 11, 10)));
        assert!(!s.family_assumed);
        let s = servicing_end(26100, Some("Education")).expect("24H2 known");
        assert_eq!(s.end, Some(d(2027, 10, 12)));
        let s = servicing_end(26100, Some("Professional")).expect("24H2 known");
        assert_eq!(s.end, Some(d(2026, 10, 13)));
        let s = servicing_end(19044, Some("EnterpriseS")).expect("LTSC 2021");
        assert_eq!(s.end, Some(d(2027, 1, 12)));
        assert_eq!(s.label, "Windows 10 Enterprise LTSC 2021");
        let s = servicing_end(19044, Some("IoTEnterpriseS")).expect("IoT LTSC 2021");
        assert_eq!(s.end, Some(d(2032, 1, 13)));
        let s = servicing_end(14393, Some("EnterpriseS")).expect("LTSB 2016");
        assert_eq!(s.end, Some(d(2026, 10, 13)));
    }

    #[test]
    fn unknown_edition_is_stated_as_an_assumption() {
        let s = servicing_end(22631, None).expect("23H2 known");
        assert!(s.family_assumed);
        assert_eq!(s.family, EditionFamily::HomePro);
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("assumed Home/Pro") && n.contains("2026-11-10"))
        );
        let s = servicing_end(22631, Some("SomethingNew")).expect("23H2 known");
        assert!(s.family_assumed);
        assert!(s.notes[0].contains("SomethingNew"));
        // LTSC edition on a release without one falls back to Enterprise/Education.
        let s = servicing_end(22631, Some("EnterpriseS")).expect("23H2 known");
        assert_eq!(s.family, EditionFamily::EnterpriseEducation);
        assert!(s.family_assumed);
    }

    #[test]
    fn windows_10_22h2_mentions_esu_and_is_past_in_2026() {
        let s = servicing_end(19045, Some("Professional")).expect("22H2 known");
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("Extended Security Updates"))
        );
        assert!(s.is_past(d(2026, 11, 27)));
        assert!(
            !s.is_past(d(2025, 10, 14)),
            "the end date itself is still serviced"
        );
    }

    #[test]
    fn server_editions_are_not_given_client_dates() {
        assert!(servicing_end(17763, Some("ServerStandard")).is_none());
        assert!(servicing_end(26100, Some("ServerDatacenter")).is_none());
        let avd = servicing_end(26100, Some("ServerRdsh")).expect("multi-session is a client");
        assert_eq!(avd.family, EditionFamily::EnterpriseEducation);
    }

    #[test]
    fn edition_ids_map_to_families() {
        assert_eq!(edition_family("Core"), EditionFamily::HomePro);
        assert_eq!(edition_family("CoreN"), EditionFamily::HomePro);
        assert_eq!(edition_family("Professional"), EditionFamily::HomePro);
        assert_eq!(
            edition_family("ProfessionalWorkstation"),
            EditionFamily::HomePro
        );
        assert_eq!(
            edition_family("Enterprise"),
            EditionFamily::EnterpriseEducation
        );
        assert_eq!(
            edition_family("education"),
            EditionFamily::EnterpriseEducation
        );
        assert_eq!(edition_family("EnterpriseS"), EditionFamily::Ltsc);
        assert_eq!(edition_family("IoTEnterpriseS"), EditionFamily::Ltsc);
        assert_eq!(edition_family("ServerStandard"), EditionFamily::Unknown);
    }

    #[test]
    fn table_is_sorted_and_dates_are_consistent() {
        for w in all().windows(2) {
            assert!(w[0].build < w[1].build);
        }
        for r in all() {
            if let (Some(ga), Some(end)) = (r.ga, r.home_pro_end) {
                assert!(ga < end, "{}", r.build);
            }
            if let (Some(hp), Some(ent)) = (r.home_pro_end, r.enterprise_end) {
                assert!(hp <= ent, "{}", r.build);
            }
        }
    }
}
