use std::io::Cursor;
use std::path::PathBuf;

use proptest::prelude::*;

use super::test_writer::{self as w, Payload};
use super::*;
use crate::device::event_xml::parse_records;
use crate::device::report::{ArtifactKind, Location, PROVIDER_DMEDP, PROVIDER_TASK_SCHEDULER};

const DMEDP_ADMIN: &str =
    "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin";
const TS_OPERATIONAL: &str = "Microsoft-Windows-TaskScheduler/Operational";

fn ft(s: &str) -> u64 {
    let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
    w::filetime_from_unix_nanos(i128::from(t.timestamp_nanos_opt().unwrap()))
}

/// The writer's form of an event a reader gave.
fn to_writer(e: &EventRecord) -> w::Event {
    writer_event(e).unwrap_or_else(|| panic!("not writable as EVTX: {e:?}"))
}

/// N events of PROVIDER in CHANNEL, ids from FIRST, a minute apart.
fn events(provider: &str, channel: &str, first: u64, n: u64) -> Vec<w::Event> {
    (0..n)
        .map(|i| {
            let id = first + i;
            let mut e = w::Event::new(
                provider,
                channel,
                76,
                id,
                ft("2026-11-25T00:00:00Z") + id * 600_000_000,
            );
            e.level = 2;
            e.payload = Payload::EventData(vec![
                (Some("HexInt1".into()), "0x0".into()),
                (Some("HexInt2".into()), format!("0x8018002b {id}")),
            ]);
            e
        })
        .collect()
}

fn read_with(bytes: &[u8], limits: &EvtxLimits) -> Result<EvtxEvents, String> {
    read_evtx("log.evtx", Cursor::new(bytes), limits)
}

fn read(bytes: &[u8]) -> EvtxEvents {
    read_with(bytes, &LIMITS).unwrap()
}

fn ids(r: &EvtxEvents) -> Vec<u64> {
    r.parsed.events.iter().filter_map(|e| e.record_id).collect()
}

/// A file of 3,000 DMEDP events: three chunks or more (written once).
fn big() -> Vec<u8> {
    static BIG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let bytes = BIG.get_or_init(|| w::write_evtx(&events(PROVIDER_DMEDP, DMEDP_ADMIN, 1, 3000)));
    assert!(bytes.len() >= 4096 + 3 * 65536, "{}", bytes.len());
    bytes.clone()
}

/// Events read from the first N chunks of [`big`].
fn in_first_chunks(n: usize) -> usize {
    static COUNTS: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    COUNTS.get_or_init(|| {
        let bytes = big();
        (0..4)
            .map(|k| read(&bytes[..4096 + k * 65536]).parsed.events.len())
            .collect()
    })[n]
}

/// A log of two chunks, DMEDP and Task Scheduler events (written once).
fn two_chunks() -> &'static [u8] {
    static TWO: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    TWO.get_or_init(|| {
        let mut all = events(PROVIDER_DMEDP, DMEDP_ADMIN, 1, 300);
        all.extend(events(PROVIDER_TASK_SCHEDULER, TS_OPERATIONAL, 301, 30));
        let bytes = w::write_evtx(&all);
        assert!(bytes.len() == 4096 + 2 * 65536, "{}", bytes.len());
        bytes
    })
}

/// Every `wevtutil` XML export among the bundled samples and fixtures.
fn sample_xml_exports() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for base in ["mocks/devices", "tests/fixtures/devices"] {
        let Ok(dirs) = std::fs::read_dir(root.join(base)) else {
            continue;
        };
        for d in dirs.filter_map(Result::ok).map(|e| e.path()) {
            let Ok(files) = std::fs::read_dir(&d) else {
                continue;
            };
            for f in files.filter_map(Result::ok).map(|e| e.path()) {
                if f.extension().is_some_and(|x| x == "xml") {
                    let bytes = std::fs::read(&f).unwrap();
                    let Ok(decoded) = crate::device::text::decode(&bytes) else {
                        continue;
                    };
                    let text = decoded.text;
                    if crate::device::sniff::sniff(&text) == ArtifactKind::EventXml {
                        out.push((f.display().to_string(), text));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_writers_files_are_read_by_the_evtx_crate_with_every_checksum_valid() {
    let mut all = events(PROVIDER_DMEDP, DMEDP_ADMIN, 1, 2500);
    let mut ud = w::Event::new(
        "Microsoft-Windows-AAD",
        "Microsoft-Windows-AAD/Operational",
        1098,
        2501,
        ft("2026-11-26T08:00:00Z"),
    );
    ud.payload = Payload::UserData {
        root: "AadEvent".into(),
        namespace: "urn:test".into(),
        values: vec![("Error".into(), "0xCAA2000C".into())],
    };
    all.push(ud);
    let bytes = w::write_evtx(&all);
    let mut p = evtx::EvtxParser::from_buffer(bytes)
        .unwrap()
        .with_configuration(ParserSettings::new().validate_checksums(true));
    assert!(p.header().validate_checksum());
    let chunks: Vec<_> = p.chunks().collect();
    assert!(chunks.len() >= 2, "{}", chunks.len());
    for c in &chunks {
        let c = c.as_ref().unwrap();
        assert!(c.validate_header_checksum() && c.validate_data_checksum());
    }
    let records: Vec<_> = p.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2501);
    let ids: Vec<u64> = records.iter().map(|r| r.event_record_id).collect();
    assert_eq!(ids, (1..=2501).collect::<Vec<_>>());
    let first = &records[0].data;
    for part in [
        "<Provider Name=\"Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider\"/>",
        "<EventID>76</EventID>",
        "<Level>2</Level>",
        "<EventRecordID>1</EventRecordID>",
        "<TimeCreated SystemTime=\"2026-11-25T00:01:00.0000000Z\"/>",
        "<Data Name=\"HexInt2\">0x8018002b 1</Data>",
    ] {
        assert!(first.contains(part), "{part} not in {first}");
    }
    let last = &records[2500].data;
    assert!(
        last.contains(
            "<UserData><AadEvent xmlns=\"urn:test\"><Error>0xCAA2000C</Error></AadEvent></UserData>"
        ) || last.contains("<Error>0xCAA2000C</Error>"),
        "{last}"
    );
    // The crate's JSON view agrees too.
    let mut p = evtx::EvtxParser::from_buffer(w::write_evtx(&all[..1])).unwrap();
    let json = p.records_json_value().next().unwrap().unwrap().data;
    assert_eq!(json["Event"]["System"]["EventID"], 76);
    assert_eq!(json["Event"]["EventData"]["HexInt2"], "0x8018002b 1");
}

#[test]
fn every_sample_export_as_evtx_gives_the_records_its_xml_gives() {
    let exports = sample_xml_exports();
    assert!(exports.len() >= 5, "{}", exports.len());
    for (name, text) in exports {
        let (all, skipped) = parse_records("log.evtx", &text).unwrap();
        assert!(skipped.is_empty(), "{name}");
        let from_xml = ParsedEvents::from_all("log.evtx", all.clone(), Vec::new());
        let bytes = w::write_evtx(&all.iter().map(to_writer).collect::<Vec<_>>());
        let got = read(&bytes);
        assert!(got.notes.is_empty(), "{name}: {:?}", got.notes);
        assert_eq!(got.parsed.total, from_xml.total, "{name}");
        assert_eq!(got.parsed.logs, from_xml.logs, "{name}");
        // The same events, but for what an .evtx cannot hold (the rendered message) and the
        // location: the record id, no line.
        let expected: Vec<EventRecord> = from_xml
            .events
            .into_iter()
            .map(|mut e| {
                e.message = None;
                e.location = Location {
                    file: "log.evtx".into(),
                    line: None,
                    record: e.record_id.map(|r| r.to_string()),
                };
                e
            })
            .collect();
        assert_eq!(got.parsed.events, expected, "{name}");
    }
}

#[test]
fn user_data_maps_to_named_values_as_in_xml() {
    let mut e = w::Event::new(
        PROVIDER_DMEDP,
        DMEDP_ADMIN,
        201,
        7,
        ft("2026-11-26T08:00:00Z"),
    );
    e.payload = Payload::UserData {
        root: "Enroll".into(),
        namespace: "urn:x".into(),
        values: vec![
            ("Code".into(), "0x80180014".into()),
            ("Server".into(), "".into()),
        ],
    };
    let r = read(&w::write_evtx(&[e]));
    let data: Vec<(Option<&str>, &str)> = r.parsed.events[0]
        .data
        .iter()
        .map(|d| (d.name.as_deref(), d.value.as_str()))
        .collect();
    assert_eq!(data, [(Some("Code"), "0x80180014"), (Some("Server"), "")]);
}

#[test]
fn a_log_of_several_chunks_is_read_whole_in_order() {
    let r = read(&big());
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert_eq!(r.parsed.total, 3000);
    assert_eq!(ids(&r), (1..=3000).collect::<Vec<_>>());
    let log = &r.parsed.logs[0];
    assert_eq!(r.parsed.logs.len(), 1);
    assert_eq!(log.name, DMEDP_ADMIN);
    assert_eq!(log.record_count, Some(3000));
    assert_eq!(log.oldest_record, r.parsed.events[0].time);
    assert_eq!(
        r.parsed.events[41].location.to_string(),
        "log.evtx record 42"
    );
}

#[test]
fn only_the_wanted_providers_are_kept_and_the_newest_within_the_cap() {
    let mut all = events(PROVIDER_DMEDP, DMEDP_ADMIN, 1, 50);
    all.extend(events(PROVIDER_TASK_SCHEDULER, TS_OPERATIONAL, 51, 5));
    all.extend(events("Microsoft-Windows-Kernel-General", "System", 56, 20));
    let limits = EvtxLimits {
        max_kept_per_log: 10,
        ..LIMITS
    };
    let r = read_with(&w::write_evtx(&all), &limits).unwrap();
    assert_eq!(r.parsed.total, 75);
    assert_eq!(ids(&r), (41..=55).collect::<Vec<_>>());
    let counts: Vec<(&str, Option<u64>)> = r
        .parsed
        .logs
        .iter()
        .map(|l| (l.name.as_str(), l.record_count))
        .collect();
    assert_eq!(
        counts,
        [
            (DMEDP_ADMIN, Some(50)),
            (TS_OPERATIONAL, Some(5)),
            ("System", Some(20))
        ]
    );
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(
        r.notes[0].contains("the newest 10") && r.notes[0].contains("40 older"),
        "{}",
        r.notes[0]
    );
    // Past the cap of logs, records still count in the total.
    let limits = EvtxLimits {
        max_logs: 2,
        ..LIMITS
    };
    let r = read_with(&w::write_evtx(&all), &limits).unwrap();
    assert_eq!(r.parsed.logs.len(), 2);
    assert_eq!(r.parsed.total, 75);
    assert!(r.notes[0].contains("more than 2 logs"), "{:?}", r.notes);
}

#[test]
fn a_truncated_file_gives_the_records_before_the_cut() {
    let bytes = big();
    let one_chunk = read(&bytes[..4096 + 65536]);
    let c1 = one_chunk.parsed.events.len();
    assert_eq!(c1, in_first_chunks(1));
    assert!(c1 > 100, "{c1}");
    assert_eq!(ids(&one_chunk), (1..=c1 as u64).collect::<Vec<_>>());
    assert!(
        one_chunk
            .notes
            .iter()
            .any(|n| n.contains("the header lists")),
        "{:?}",
        one_chunk.notes
    );
    // Cut inside the second chunk: its whole records before the cut are read too.
    let cut = read(&bytes[..4096 + 65536 + 30_000]);
    let c = cut.parsed.events.len();
    assert!(c > c1 && c < 3000, "{c1} {c}");
    assert_eq!(ids(&cut), (1..=c as u64).collect::<Vec<_>>());
    assert!(
        cut.notes
            .iter()
            .any(|n| n.contains("truncated: the file ends 30,000 bytes into chunk 2")),
        "{:?}",
        cut.notes
    );
    // Cut inside a chunk's header, at the file header, inside the file header.
    assert_eq!(read(&bytes[..4096 + 65536 + 100]).parsed.events.len(), c1);
    let empty = read(&bytes[..4096]);
    assert_eq!(empty.parsed.total, 0);
    let e = read_with(&bytes[..1000], &LIMITS).unwrap_err();
    assert_eq!(
        e,
        "truncated EVTX event log: 1,000 of its 4,096-byte file header, no records"
    );
    let e = read_with(b"ElfF", &LIMITS).unwrap_err();
    assert!(
        e.contains("does not start with the ElfFile signature"),
        "{e}"
    );
}

#[test]
fn a_chunk_that_fails_its_crc_is_skipped_and_counted_and_the_others_are_read() {
    let bytes = big();
    let whole = read(&bytes).parsed.events.len();
    let second = in_first_chunks(2) - in_first_chunks(1);
    let mut bad = bytes.clone();
    bad[4096 + 65536 + 2000] ^= 0x55;
    let r = read(&bad);
    assert_eq!(r.parsed.events.len(), whole - second);
    assert_eq!(
        r.notes,
        [
            "1 damaged chunk(s) of 64 KiB skipped, first: chunk 2: its CRC32 does not match its content (corrupt): skipped"
        ]
    );
    // A damaged chunk header (its signature).
    let mut bad = bytes.clone();
    bad[4096 + 65536] = b'X';
    let r = read(&bad);
    assert_eq!(r.parsed.events.len(), whole - second);
    assert!(r.notes[0].contains("no chunk signature"), "{:?}", r.notes);
    // The file header's CRC32 alone: a note, every record read.
    let mut bad = bytes;
    bad[124] ^= 1;
    let r = read(&bad);
    assert_eq!(r.parsed.events.len(), whole);
    assert!(r.notes[0].contains("file header's CRC32"), "{:?}", r.notes);
}

/// Deterministic noise.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn random_bytes_after_the_magic_are_no_evtx_log() {
    let mut bytes = MAGIC.to_vec();
    bytes.extend(noise(70_000, 7));
    let e = read_with(&bytes, &LIMITS).unwrap_err();
    assert!(
        e.starts_with("starts with the EVTX signature but is not an EVTX event log"),
        "{e}"
    );
    // A valid header, then noise: the chunks are notes.
    let mut bytes = big()[..4096].to_vec();
    bytes.extend(noise(3 * 65536, 9));
    let r = read(&bytes);
    assert_eq!(r.parsed.total, 0);
    assert!(
        r.notes.iter().any(|n| n.starts_with("3 damaged chunk(s)")),
        "{:?}",
        r.notes
    );
}

/// Sets the CRC32s of the file header and of each whole chunk after an edit.
fn fix_crcs(bytes: &mut [u8]) {
    let crc = w::crc32(&[&bytes[..120]]);
    bytes[124..128].copy_from_slice(&crc.to_le_bytes());
    let mut at = 4096;
    while at + 65536 <= bytes.len() {
        let c = &mut bytes[at..at + 65536];
        let free = u32::from_le_bytes([c[48], c[49], c[50], c[51]]) as usize;
        let crc = w::crc32(&[&c[512..free.clamp(512, 65536)]]);
        c[52..56].copy_from_slice(&crc.to_le_bytes());
        let crc = w::crc32(&[&c[..120], &c[128..512]]);
        c[124..128].copy_from_slice(&crc.to_le_bytes());
        at += 65536;
    }
}

#[test]
fn huge_counts_in_the_headers_neither_hang_nor_panic() {
    let mut bytes = big();
    // File header: 65,535 chunks, next record id at the end of the range.
    bytes[42..44].copy_from_slice(&u16::MAX.to_le_bytes());
    bytes[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
    // First chunk: records numbered to the end of the range.
    bytes[4096 + 16..4096 + 24].copy_from_slice(&u64::MAX.to_le_bytes());
    bytes[4096 + 32..4096 + 40].copy_from_slice(&u64::MAX.to_le_bytes());
    fix_crcs(&mut bytes);
    let r = read(&bytes);
    assert!(r.parsed.total > 2000, "{}", r.parsed.total);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("the header lists 65535 chunks")),
        "{:?}",
        r.notes
    );
}

#[test]
fn the_time_and_chunk_bounds_stop_the_read_with_a_note() {
    let bytes = big();
    let r = read_with(
        &bytes,
        &EvtxLimits {
            max_time: Duration::ZERO,
            ..LIMITS
        },
    )
    .unwrap();
    assert_eq!(r.parsed.total, 0);
    assert!(r.notes[0].starts_with("stopped after 0 s"), "{:?}", r.notes);
    let r = read_with(
        &bytes,
        &EvtxLimits {
            max_chunks: 1,
            ..LIMITS
        },
    )
    .unwrap();
    assert_eq!(r.parsed.events.len(), in_first_chunks(1));
    assert!(
        r.notes[0].starts_with("only the first 1 chunks (64 KiB) read"),
        "{:?}",
        r.notes
    );
}

#[test]
fn an_evtx_is_told_by_its_magic_in_a_device_folder_a_zip_and_memory() {
    let bytes = w::write_evtx(&events(PROVIDER_DMEDP, DMEDP_ADMIN, 1, 3));
    // In memory, whatever its name.
    for name in ["dmedp.evtx", "dmedp.txt"] {
        let r = crate::device::report_from_memory("x", &[(name.to_string(), bytes.clone())]);
        let i = &r.inputs[0];
        assert_eq!(
            (i.kind, i.records, i.problem.as_deref()),
            (ArtifactKind::EventEvtx, 3, None)
        );
        assert_eq!(r.events.len(), 3);
        assert_eq!(r.event_logs[0].record_count, Some(3));
    }
    // A file named .evtx that is no log is not taken for one.
    let r = crate::device::report_from_memory(
        "x",
        &[("fake.evtx".into(), b"hello\0\x01\x02".to_vec())],
    );
    assert_ne!(r.inputs[0].kind, ArtifactKind::EventEvtx);
    // A damaged one is a note naming what is wrong; the device's other files still count.
    let r = crate::device::report_from_memory(
        "x",
        &[
            ("bad.evtx".into(), bytes[..2000].to_vec()),
            (
                "dsregcmd.txt".into(),
                b"AzureAdJoined : YES\nDomainJoined : YES\n".to_vec(),
            ),
        ],
    );
    assert!(r.dsregcmd.is_some());
    assert_eq!(
        r.inputs[0].problem.as_deref(),
        Some("truncated EVTX event log: 2,000 of its 4,096-byte file header, no records")
    );
    // A folder of .evtx files is one device; so is a zip holding them.
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("PC1");
    std::fs::create_dir(&dev).unwrap();
    std::fs::write(dev.join("dmedp.evtx"), &bytes).unwrap();
    std::fs::write(
        dev.join("ts.evtx"),
        w::write_evtx(&events(PROVIDER_TASK_SCHEDULER, TS_OPERATIONAL, 10, 2)),
    )
    .unwrap();
    let reports = crate::device::load_path(&dev).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].events.len(), 5);
    let reports = crate::device::load_path(&dev.join("dmedp.evtx")).unwrap();
    assert_eq!(reports[0].events.len(), 3);
    let zip_path = dir.path().join("PC1.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    z.start_file("logs/dmedp.evtx", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut z, &bytes).unwrap();
    z.finish().unwrap();
    let reports = crate::device::load_path(&zip_path).unwrap();
    assert_eq!(reports[0].events.len(), 3);
    assert_eq!(reports[0].events[0].location.file, "logs/dmedp.evtx");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes after a valid file header: never a panic.
    #[test]
    fn any_bytes_after_a_valid_header_never_panic(rest in proptest::collection::vec(any::<u8>(), 0..70_000)) {
        let mut bytes = w::write_evtx(&events(PROVIDER_DMEDP, DMEDP_ADMIN, 1, 1))[..4096].to_vec();
        bytes.extend(rest);
        let _ = read(&bytes);
    }

    /// A valid log cut short and with bytes changed (CRCs fixed or not): never a panic.
    #[test]
    fn damaged_logs_never_panic(
        cut in 0.0f64..=1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 1..16),
        fix in any::<bool>(),
    ) {
        let mut bytes = two_chunks().to_vec();
        let len = bytes.len();
        for (at, v) in flips {
            let i = 4096 + ((len - 4096) as f64 * at) as usize % (len - 4096);
            bytes[i] = v;
        }
        if fix {
            fix_crcs(&mut bytes);
        }
        bytes.truncate((len as f64 * cut) as usize);
        // Through the loader, which reads it with `read_evtx`: one input, whatever is left.
        let r = crate::device::report_from_memory("x", &[("log.evtx".into(), bytes)]);
        prop_assert_eq!(r.inputs.len(), 1);
    }
}
