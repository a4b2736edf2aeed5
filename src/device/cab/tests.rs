use std::io::{Cursor, Write};

use super::*;
use cab::CompressionType;

/// Files `(name, data)`.
pub(crate) type Files = Vec<(String, Vec<u8>)>;

/// A cabinet written by the `cab` crate: FOLDERS of files `(name, data)`, each folder with its
/// compression.
pub(crate) fn cab_bytes(folders: &[(CompressionType, Files)]) -> Vec<u8> {
    let mut builder = cab::CabinetBuilder::new();
    for (ctype, files) in folders {
        let folder = builder.add_folder(*ctype);
        for (name, _) in files {
            folder.add_file(name.as_str());
        }
    }
    let mut writer = builder.build(Cursor::new(Vec::new())).unwrap();
    let mut data = folders.iter().flat_map(|(_, files)| files.iter());
    while let Some(mut file) = writer.next_file().unwrap() {
        let (_, bytes) = data.next().unwrap();
        file.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn files(list: &[(&str, &[u8])]) -> Files {
    list.iter()
        .map(|(n, d)| (n.to_string(), d.to_vec()))
        .collect()
}

const SMALL: Caps = Caps {
    member: FileKind::fixed("device file", 1024),
    // A folder's first block is charged up front (64 KiB), then 8 KiB for the members.
    total: FIRST_BLOCK + 8192,
    archive: "cabinet",
};

type Got = Option<Result<Vec<u8>, String>>;

/// Every member of BYTES as a cabinet, read within CAPS, with the budget left.
fn read_all(
    bytes: &[u8],
    caps: Caps,
    wanted: fn(&CabMember) -> bool,
) -> Result<(Vec<(String, Got)>, u64), String> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("diag.cab");
    std::fs::write(&p, bytes).unwrap();
    let (mut cab, members) = Cab::open_within(&p, caps).map_err(|e| match e {
        CabOpenError::Bad(why) => why,
        CabOpenError::File(e) => e.reason(),
    })?;
    let mut out = Vec::new();
    cab.read_members(&members, wanted, |m, got| out.push((m.name.clone(), got)));
    Ok((out, cab.budget.left))
}

/// Names and notes (bytes shown only by their length) for assertion messages.
fn show(out: &[(String, Got)]) -> Vec<(String, String)> {
    out.iter()
        .map(|(n, g)| match g {
            Some(Ok(b)) => (n.clone(), format!("{} bytes", b.len())),
            other => (n.clone(), text(other).to_string()),
        })
        .collect()
}

fn all(_: &CabMember) -> bool {
    true
}

fn text(got: &Got) -> &str {
    match got {
        Some(Ok(b)) => std::str::from_utf8(b).unwrap(),
        Some(Err(e)) => e,
        None => "(skipped)",
    }
}

#[test]
fn members_come_in_stored_order_each_folder_inflated_once() {
    let big: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let bytes = cab_bytes(&[
        (
            CompressionType::MsZip,
            files(&[
                ("MDMDiagReport.xml", b"<MDMEnterpriseDiagnosticsReport/>"),
                ("trace.etl", &big),
                (
                    "MdmDiagReport_RegistryDump.reg",
                    b"[HKEY_LOCAL_MACHINE\\X]\r\n",
                ),
            ]),
        ),
        (
            CompressionType::None,
            files(&[("DeviceHash_PC1.csv", b"a,b,c\n")]),
        ),
    ]);
    let unbounded = Caps {
        total: u64::MAX / 2,
        ..CAPS
    };
    let (out, left) = read_all(&bytes, unbounded, |m| !m.name.ends_with(".etl")).unwrap();
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "MDMDiagReport.xml",
            "trace.etl",
            "MdmDiagReport_RegistryDump.reg",
            "DeviceHash_PC1.csv"
        ]
    );
    assert_eq!(text(&out[0].1), "<MDMEnterpriseDiagnosticsReport/>");
    assert_eq!(out[1].1, None);
    assert_eq!(text(&out[2].1), "[HKEY_LOCAL_MACHINE\\X]\r\n");
    assert_eq!(text(&out[3].1), "a,b,c\n");
    // What was inflated: the two folders' first blocks, the members, and the trace skipped
    // over once (not once per member after it).
    let spent = unbounded.total - left;
    let data = 33 + big.len() as u64 + 25 + 6;
    assert!(spent >= data && spent <= data + 2 * FIRST_BLOCK, "{spent}");
}

#[test]
fn unsafe_names_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = cab_bytes(&[(
        CompressionType::MsZip,
        files(&[
            ("..\\..\\x", b"AzureAdJoined : YES\nDomainJoined : YES\n"),
            ("C:\\x", b"x"),
            ("/etc/x", b"x"),
            ("ok.txt", b"fine"),
        ]),
    )]);
    let (out, _) = read_all(&bytes, SMALL, all).unwrap();
    for (name, got) in &out[..3] {
        assert_eq!(
            text(got),
            "unsafe path in cabinet (absolute or with '..'): entry not read",
            "{name}"
        );
    }
    assert_eq!(text(&out[3].1), "fine");
    assert!(!dir.path().join("x").exists() && !Path::new("/etc/x").exists());
}

#[test]
fn bombs_are_stopped_by_the_caps() {
    // Declared larger than the member cap: refused from the table, nothing inflated.
    let three = vec![b'a'; 3000];
    let bytes = cab_bytes(&[(
        CompressionType::MsZip,
        files(&[("a.reg", &three), ("b.reg", b"x")]),
    )]);
    let (out, _) = read_all(&bytes, SMALL, all).unwrap();
    assert_eq!(
        text(&out[0].1),
        "is larger than 1 KiB, the limit for a device file: not read"
    );
    assert_eq!(text(&out[1].1), "x");
    // Honest members until the budget is spent: the rest are refused without inflating.
    let thousand = vec![b'z'; 1000];
    let many: Files = (0..20)
        .map(|i| (format!("m{i}.txt"), thousand.clone()))
        .collect();
    let bytes = cab_bytes(&[(CompressionType::MsZip, many)]);
    let (out, left) = read_all(&bytes, SMALL, all).unwrap();
    let read = out.iter().filter(|(_, g)| matches!(g, Some(Ok(_)))).count();
    let spent = out
        .iter()
        .filter(|(_, g)| text(g).contains("the limit for one cabinet"))
        .count();
    assert!(read > 5 && read < 10, "{read}");
    assert_eq!(read + spent, 20);
    assert!(left < 1000, "{left}");
    // A size lie in the table (cbFile of the first member set to 4 GiB - 1): refused.
    let mut lying = cab_bytes(&[(CompressionType::MsZip, files(&[("a.reg", b"abc")]))]);
    let table = u32_at(&lying, AT_COFF_FILES) as usize;
    lying[table..table + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let (out, _) = read_all(&lying, CAPS, all).unwrap();
    assert!(
        text(&out[0].1).contains("the limit for a device file"),
        "{:?}",
        show(&out)
    );
}

#[test]
fn damaged_cabinets_give_notes_not_panics() {
    let reg = b"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments]\r\n".repeat(2000);
    let good = cab_bytes(&[(
        CompressionType::MsZip,
        files(&[
            ("MdmDiagReport_RegistryDump.reg", &reg),
            ("tail.txt", b"end"),
        ]),
    )]);
    // Cut short anywhere: an error opening it, or notes for the members it no longer holds.
    for cut in [0, 3, 20, 40, 60, good.len() / 2, good.len() - 1] {
        match read_all(&good[..cut], CAPS, all) {
            Err(why) => assert!(!why.is_empty()),
            Ok((out, _)) => assert!(
                out.iter().any(|(_, g)| matches!(g, Some(Err(_)))),
                "cut at {cut}: {:?}",
                show(&out)
            ),
        }
    }
    // A data block flipped: its checksum (or inflating it) fails, named as the member's note.
    let mut flipped = good.clone();
    let at = flipped.len() - 40;
    flipped[at] ^= 0xff;
    let (out, _) = read_all(&flipped, CAPS, all).unwrap();
    assert!(
        out.iter().all(|(_, g)| matches!(g, Some(Err(_)))),
        "{:?}",
        show(&out)
    );
    // A member said to start far past the end of its folder, and one overlapping another.
    let mut far = good.clone();
    let table = u32_at(&far, AT_COFF_FILES) as usize;
    let second = table + 16 + "MdmDiagReport_RegistryDump.reg".len() + 1;
    far[second + 4..second + 8].copy_from_slice(&0x0100_0000u32.to_le_bytes());
    let (out, _) = read_all(&far, CAPS, all).unwrap();
    assert!(matches!(out[0].1, Some(Ok(_))));
    assert!(
        text(&out[1].1).contains("ends before this file"),
        "{:?}",
        show(&out)
    );
    let mut overlap = good.clone();
    overlap[second + 4..second + 8].copy_from_slice(&1u32.to_le_bytes());
    let (out, _) = read_all(&overlap, CAPS, all).unwrap();
    assert!(text(&out[1].1).contains("overlaps"), "{:?}", show(&out));
    // Not a cabinet, and a cabinet of no files.
    assert!(
        read_all(
            b"MSCX and more bytes than a header needs to have",
            CAPS,
            all
        )
        .is_err()
    );
    let empty = cab_bytes(&[]);
    assert_eq!(read_all(&empty, CAPS, all).unwrap().0.len(), 0);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Arbitrary bytes after the signature, and real cabinets (stored, MSZIP, and relabelled
    /// LZX) with bytes flipped: never a panic.
    #[test]
    fn never_panics(
        tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        flips in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 0..6),
        kind in 0u8..3,
        lzx in proptest::prelude::any::<bool>(),
    ) {
        let mut random = b"MSCF".to_vec();
        random.extend_from_slice(&tail);
        let _ = read_all(&random, SMALL, all);
        let ctype = [CompressionType::None, CompressionType::MsZip, CompressionType::MsZip][usize::from(kind)];
        let mut bytes = cab_bytes(&[(ctype, files(&[("a.xml", &tail), ("b.reg", b"[HKEY_X]\n")]))]);
        if lzx {
            // typeCompress of the first CFFOLDER (after the 36-byte header): LZX, 2 MiB window.
            bytes[HEADER_LEN + 6..HEADER_LEN + 8].copy_from_slice(&0x1503u16.to_le_bytes());
        }
        let len = bytes.len();
        for (at, v) in flips {
            bytes[((len as f64) * at) as usize % len] = v;
        }
        let _ = read_all(&bytes, SMALL, all);
    }
}
