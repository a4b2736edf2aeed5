//! Memory bounds of the file readers (issue 11): a counting global allocator measures the peak
//! of live heap bytes while a zip of large entries, a snapshot or a users file is read. One test
//! function runs the measurements one after the other (the allocator counts the whole process).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "support/evtx_writer.rs"]
mod evtx_writer;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const MIB: usize = 1024 * 1024;

/// Peak heap bytes above what was live before F ran, F's result and its time.
fn measure<T>(f: impl FnOnce() -> T) -> (usize, T, Duration) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let out = f();
    let elapsed = t.elapsed();
    (
        PEAK.load(Ordering::Relaxed).saturating_sub(base),
        out,
        elapsed,
    )
}

/// A zip of dsregcmd output and ENTRIES copies of DATA named `NAME{i}.EXT`.
fn write_zip(path: &Path, entries: usize, data: &[u8], name: &str, ext: &str) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("dsregcmd.txt", opts).unwrap();
    z.write_all(b"AzureAdJoined : YES\nDomainJoined : YES\n")
        .unwrap();
    for i in 0..entries {
        z.start_file(format!("{name}{i}.{ext}"), opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

/// About BYTES of text lines this tool does not read.
fn log_text(bytes: usize) -> Vec<u8> {
    let line = b"a line of a log this tool does not read\r\n";
    line.repeat(bytes / line.len())
}

/// About BYTES of `wevtutil qe /f:xml` output: events of a provider the tool reads but does not
/// keep (so what a report holds of each entry is a line of log summary, and the peak is the
/// parse of one entry).
fn event_xml(bytes: usize) -> Vec<u8> {
    let mut s = String::from("<Events>\n");
    let mut i = 0;
    while s.len() < bytes {
        i += 1;
        s.push_str(&format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
             <Provider Name='Microsoft-Windows-Kernel-General'/><EventID>16</EventID>\
             <Level>4</Level><TimeCreated SystemTime='2026-11-25T14:10:02.5512001Z'/>\
             <EventRecordID>{i}</EventRecordID><Channel>System</Channel>\
             <Computer>PC0077.corp.contoso.com</Computer></System><EventData>\
             <Data Name='Reason'>a reason the tool does not read, number {i}</Data>\
             </EventData></Event>\n"
        ));
    }
    s.push_str("</Events>\n");
    s.into_bytes()
}

/// About BYTES of `.evtx` log of events the tool reads but does not keep (as `event_xml`).
fn event_evtx(bytes: usize) -> Vec<u8> {
    let mut w = evtx_writer::EvtxWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    let mut id = 0u64;
    while (w.chunks() as usize) * 65536 < bytes {
        id += 1;
        let mut e = evtx_writer::Event::new(
            "Microsoft-Windows-Kernel-General",
            "System",
            16,
            id,
            133_000_000_000_000_000 + id * 10_000_000,
        );
        e.payload = evtx_writer::Payload::EventData(vec![(
            Some("Reason".into()),
            format!("a reason the tool does not read, number {id}"),
        )]);
        w.push(&e).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A snapshot of the sample tenant with N generated users, as its JSON text.
fn snapshot_with_users(n: usize) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/correlate/contoso-snapshot.json"
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let users = &mut v["sources"]["users"]["data"];
    let first = users[0].clone();
    let plans = first["assignedPlans"][0].clone();
    *users = serde_json::Value::Array(
        (0..n)
            .map(|i| {
                let mut u = first.clone();
                u["id"] = format!("00000000-0000-4000-8000-{i:012}").into();
                u["userPrincipalName"] = format!("user{i}@contoso.com").into();
                u["displayName"] = format!("User {i}").into();
                u["assignedPlans"] = serde_json::Value::Array(vec![plans.clone(); 6]);
                u
            })
            .collect(),
    );
    serde_json::to_string_pretty(&v).unwrap()
}

fn min_time(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap()
}

#[test]
fn readers_stay_within_a_small_multiple_of_their_input() {
    let dir = tempfile::tempdir().unwrap();

    // 1. A zip of several large entries is read one entry at a time: eight 2 MiB entries
    //    take about what one takes (all held at once, they took eight times as much).
    let one = dir.path().join("one.zip");
    let eight = dir.path().join("eight.zip");
    write_zip(&one, 1, &log_text(2 * MIB), "log", "txt");
    write_zip(&eight, 8, &log_text(2 * MIB), "log", "txt");
    let load = |p: &Path| enroll_doctor::device::load_path(p).unwrap();
    let (peak1, r1, _) = measure(|| load(&one));
    let (peak8, r8, t) = measure(|| load(&eight));
    eprintln!("zip: one entry {peak1} B, eight {peak8} B, {t:?}");
    assert_eq!(r1[0].inputs.len(), 2);
    assert_eq!(r8[0].inputs.len(), 9);
    assert!(r8[0].dsregcmd.is_some());
    assert!(
        peak8 <= peak1 + MIB,
        "eight 2 MiB entries peaked at {} MiB, one at {} MiB",
        peak8 / MIB,
        peak1 / MIB
    );

    // 1b. The same with event XML, which is parsed (the case: eight 31 MiB XML
    //     entries peaked at 1.26 GB): eight entries peak within a small multiple of what one
    //     entry takes, not of the sum of the eight.
    let xml = event_xml(2 * MIB);
    write_zip(&one, 1, &xml, "system", "xml");
    write_zip(&eight, 8, &xml, "system", "xml");
    let (peak1, r1, _) = measure(|| load(&one));
    let (peak8, r8, t) = measure(|| load(&eight));
    eprintln!(
        "event xml zip: {} B per entry, one entry {peak1} B, eight {peak8} B, {t:?}",
        xml.len()
    );
    // Every entry was read as event XML, all its events counted.
    let logs = |r: &[enroll_doctor::device::report::DeviceReport]| -> Vec<Option<u64>> {
        r[0].event_logs.iter().map(|l| l.record_count).collect()
    };
    let (l1, l8) = (logs(&r1), logs(&r8));
    assert_eq!(l1.len(), 1, "{l1:?}");
    assert!(l1[0].is_some_and(|n| n > 1_000), "{l1:?}");
    assert_eq!(l8, vec![l1[0]; 8]);
    assert!(
        peak8 <= peak1 + peak1 / 2,
        "eight {} MiB event XML entries peaked at {} MiB, one at {} MiB",
        xml.len() / MIB,
        peak8 / MIB,
        peak1 / MIB
    );

    // 1c. An .evtx log is read chunk by chunk from its file: a log four times the size takes
    //     about what the smaller one takes (its records are summarised, not kept).
    let (small, large) = (dir.path().join("small.evtx"), dir.path().join("large.evtx"));
    std::fs::write(&small, event_evtx(MIB / 2)).unwrap();
    std::fs::write(&large, event_evtx(2 * MIB)).unwrap();
    let (peak1, r1, _) = measure(|| load(&small));
    let (peak4, r4, t) = measure(|| load(&large));
    eprintln!("evtx: 512 KiB log {peak1} B, 2 MiB log {peak4} B, {t:?}");
    let count = |r: &[enroll_doctor::device::report::DeviceReport]| r[0].event_logs[0].record_count;
    assert!(count(&r1).is_some_and(|n| n > 1_500), "{:?}", count(&r1));
    assert!(
        count(&r4).is_some_and(|n| n > 4 * 1_500),
        "{:?}",
        count(&r4)
    );
    // Each 64 KiB chunk is read, parsed and dropped before the next.
    assert!(
        peak4 <= peak1 + MIB / 4 && peak4 < MIB,
        "a 2 MiB .evtx peaked at {} KiB, a 512 KiB one at {} KiB",
        peak4 / 1024,
        peak1 / 1024
    );

    // 2. A snapshot is parsed as it is read: no copy of its text, no tree of values (the
    //    reader used to peak at three times the file); n and 4n users in linear time.
    let small = dir.path().join("small.json");
    let large = dir.path().join("large.json");
    std::fs::write(&small, snapshot_with_users(500)).unwrap();
    std::fs::write(&large, snapshot_with_users(2_000)).unwrap();
    let size = std::fs::metadata(&large).unwrap().len() as usize;
    let read = |p: &Path| enroll_doctor::tenant::TenantSnapshot::load(p).unwrap();
    let (peak, snap, t) = measure(|| read(&large));
    eprintln!("snapshot: {size} B file, peak {peak} B, {t:?}");
    assert_eq!(snap.sources.users.data().map(Vec::len), Some(2_000));
    drop(snap);
    assert!(
        peak <= size * 3 / 2,
        "a {} MiB snapshot peaked at {} MiB",
        size / MIB,
        peak / MIB
    );
    let t1 = min_time(3, || measure(|| read(&small)).2);
    let t4 = min_time(3, || measure(|| read(&large)).2);
    assert!(t4 <= t1 * 8, "4n users took {t4:?}, n took {t1:?}");

    // 3. A users file is streamed line by line: memory grows with the distinct users only
    //    (each named twice here), and 4n lines take within 8x the time of n.
    let write_users = |n: usize, p: &Path| {
        let mut s = String::with_capacity(n * 48);
        for i in 0..n {
            s.push_str(&format!("user{i}@contoso.com\nUSER{i}@CONTOSO.COM\n"));
        }
        std::fs::write(p, s).unwrap();
    };
    let (u1, u4) = (dir.path().join("u1.txt"), dir.path().join("u4.txt"));
    write_users(10_000, &u1);
    write_users(40_000, &u4);
    let size = std::fs::metadata(&u4).unwrap().len() as usize;
    let users = |p: &Path| enroll_doctor::tenant::users_file::read_users_file(p).unwrap();
    let (peak, list, t) = measure(|| users(&u4));
    eprintln!("users: {size} B file, peak {peak} B, {t:?}");
    assert_eq!(list.len(), 40_000);
    drop(list);
    assert!(
        peak <= size * 4,
        "a {} KiB users file peaked at {} KiB",
        size / 1024,
        peak / 1024
    );
    let t1 = min_time(3, || measure(|| users(&u1)).2);
    let t4 = min_time(3, || measure(|| users(&u4)).2);
    assert!(t4 <= t1 * 8, "4n lines took {t4:?}, n took {t1:?}");
}
