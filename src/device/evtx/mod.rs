//! `.evtx` logs — what Event Viewer's "Save All Events As…" and `wevtutil epl` write, and what
//! MdmDiagnosticsTool bundles hold — read with the `evtx` crate one 64 KiB chunk at a time from
//! any `Read + Seek` (a file, or a zip entry in memory), so a large log is never held whole.
//!
//! Each record is rendered to its event XML and mapped by the `wevtutil` XML reader
//! ([`super::event_xml`]): an `.evtx` gives exactly the [`EventRecord`]s its XML export gives,
//! except the rendered message (an `.evtx` holds none) and the location (file and record id,
//! no line). Only the wanted providers' events are kept; every record counts in the summary
//! of its log. Damage is skipped and counted in notes: chunks that are unreadable or fail
//! their CRC32, records that do not parse, a file cut short (the records before the cut are
//! read).
//!
//! Format: MS-EVEN6 (file header 4 KiB, chunks of 64 KiB with 512-byte headers); the
//! `evtx` crate reads the BinXml. `wevtutil epl <log> <file.evtx>` (export-log) writes such a
//! file: Windows Server docs, `administration/windows-commands/wevtutil.md`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use evtx::{EvtxChunkData, ParserSettings};

use super::event_xml::parse_records;
use super::events::{LogSummary, ParsedEvents, UNKNOWN_LOG, wanted};
use super::report::EventRecord;
use crate::fsio::{self, FileKind};

/// The EVTX writer of the tests (`tests/support/evtx_writer.rs`).
#[cfg(test)]
#[path = "../../../tests/support/evtx_writer.rs"]
pub(crate) mod test_writer;

/// The test writer's form of an event a reader gave (`None`: not writable as EVTX).
#[cfg(test)]
pub(crate) fn writer_event(e: &EventRecord) -> Option<test_writer::Event> {
    test_writer::event_from_fields(
        &e.provider,
        e.channel.as_deref(),
        e.event_id,
        e.level,
        e.time.and_then(|t| t.timestamp_nanos_opt()).map(i128::from),
        e.record_id,
        e.data
            .iter()
            .map(|d| (d.name.clone(), d.value.clone()))
            .collect(),
    )
}

/// The failed-8018002b sample's DMEDP and Task Scheduler exports as one `.evtx`, for the
/// loader's property tests.
#[cfg(test)]
pub(crate) fn sample_for_tests() -> Vec<u8> {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks/devices/failed-8018002b");
    let mut all = Vec::new();
    for f in ["dmedp-admin.xml", "taskscheduler.xml"] {
        let text = std::fs::read_to_string(root.join(f)).unwrap_or_default();
        if let Ok((events, _)) = parse_records(f, &text) {
            all.extend(events.iter().filter_map(writer_event));
        }
    }
    test_writer::write_evtx(&all)
}
#[cfg(test)]
mod tests;

/// The signature an `.evtx` file starts with.
pub const MAGIC: &[u8; 8] = b"ElfFile\0";

const FILE_HEADER_SIZE: u64 = 4096;
const CHUNK_SIZE: u64 = 65536;
const CHUNK_HEADER_SIZE: u64 = 512;

/// An `.evtx` file is read chunk by chunk from disk: it is exempt from the whole-file cap
/// ([`super::MAX_FILE_BYTES`]); [`EvtxLimits`] bounds it instead.
pub(crate) const EVTX_FILE: FileKind = FileKind::fixed("event log (.evtx)", u64::MAX);

/// Whether BYTES start like an `.evtx` file.
pub fn is_evtx(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Whether the regular file at PATH starts like an `.evtx` file (a FIFO or a device is not
/// opened for reading).
pub fn file_is_evtx(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    fsio::open_regular(path, EVTX_FILE)
        .ok()
        .and_then(|(mut f, _)| f.read_exact(&mut magic).ok())
        .is_some_and(|()| is_evtx(&magic))
}

/// How much of one `.evtx` file is read and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvtxLimits {
    /// Events of the wanted providers kept per log: the newest; the older ones still count in
    /// the log's summary.
    pub max_kept_per_log: usize,
    /// Logs (channels) summarised per file; records of further logs count in the total only.
    pub max_logs: usize,
    /// Chunks read per file (64 KiB each); the rest of the file is not read.
    pub max_chunks: u64,
    /// Time spent on one file; past it the rest is not read.
    pub max_time: Duration,
}

/// The limits a device's `.evtx` files are read within: 20,000 enrollment events per log (a
/// full default-size DMEDP Admin log holds a few thousand), 1 GiB and two minutes per file.
pub const LIMITS: EvtxLimits = EvtxLimits {
    max_kept_per_log: 20_000,
    max_logs: 256,
    max_chunks: 16_384,
    max_time: Duration::from_secs(120),
};

/// What one `.evtx` file gave: its events as the other event parsers give them, and notes on
/// what was damaged or left out (empty when the file was read whole and intact).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EvtxEvents {
    pub parsed: ParsedEvents,
    pub notes: Vec<String>,
}

/// Reads an `.evtx` log from READER (a file or a zip entry in memory), named FILE_LABEL in
/// locations and notes. An error when it is no EVTX file at all (no or a broken file header);
/// damage inside it is a note, and the records before and around it are read.
pub fn read_evtx<R: Read + Seek>(
    file_label: &str,
    mut reader: R,
    limits: &EvtxLimits,
) -> Result<EvtxEvents, String> {
    let len = reader
        .seek(SeekFrom::End(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    let header = read_header(&mut reader, len)?;
    let mut run = Run::new(file_label, limits);
    if !header.checksum_ok {
        run.notes.push(
            "the file header's CRC32 does not match: the chunks were read by their own checksums"
                .to_string(),
        );
    }
    let body = len - FILE_HEADER_SIZE;
    let whole = body / CHUNK_SIZE;
    let partial = body % CHUNK_SIZE;
    let chunks_in_file = whole + u64::from(partial > 0);
    run.chunks = chunks_in_file;
    // The header counts the chunks of a clean file; a file cut short holds fewer.
    if header.chunk_count > 0 && u64::from(header.chunk_count) > chunks_in_file {
        run.notes.push(format!(
            "truncated: the header lists {} chunks, the file holds {}",
            header.chunk_count,
            show_count(chunks_in_file)
        ));
    }
    if partial > 0 {
        run.notes.push(format!(
            "truncated: the file ends {} bytes into chunk {} (of 65,536): the records before the cut are read",
            show_count(partial),
            whole + 1
        ));
    }
    let started = Instant::now();
    let settings = Arc::new(ParserSettings::new().indent(false));
    for n in 0..chunks_in_file {
        if n >= limits.max_chunks {
            run.notes.push(format!(
                "only the first {} chunks ({}) read: the rest of the file is not",
                show_count(limits.max_chunks),
                fsio::show_size(limits.max_chunks.saturating_mul(CHUNK_SIZE))
            ));
            break;
        }
        if started.elapsed() >= limits.max_time {
            run.out_of_time(n);
            break;
        }
        let size = if n < whole { CHUNK_SIZE } else { partial };
        let mut data = vec![0u8; CHUNK_SIZE as usize];
        let offset = FILE_HEADER_SIZE + n * CHUNK_SIZE;
        let read = reader
            .seek(SeekFrom::Start(offset))
            .and_then(|_| reader.read_exact(&mut data[..size as usize]));
        if let Err(e) = read {
            run.bad_chunk(n, &format!("cannot read: {e}"));
            continue;
        }
        // Windows leaves unused chunks zeroed.
        if data.iter().all(|&b| b == 0) {
            continue;
        }
        if size < CHUNK_HEADER_SIZE {
            // Cut inside its header: nothing of it can be read.
            continue;
        }
        if run.read_chunk(n, data, size, &settings, started) == Flow::Stop {
            break;
        }
    }
    Ok(run.finish())
}

/// What the file header says.
struct Header {
    chunk_count: u16,
    checksum_ok: bool,
}

/// The file header: the magic, then the fields MS-EVEN6 fixes (header size 128, block size
/// 4096, major version 3). Anything else after the magic is no EVTX file.
fn read_header<R: Read + Seek>(reader: &mut R, len: u64) -> Result<Header, String> {
    let mut h = [0u8; FILE_HEADER_SIZE as usize];
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    let got = read_up_to(reader, &mut h).map_err(|e| format!("cannot read: {e}"))?;
    if !is_evtx(&h[..got]) {
        return Err("not an EVTX event log: it does not start with the ElfFile signature".into());
    }
    if len < FILE_HEADER_SIZE {
        return Err(format!(
            "truncated EVTX event log: {} of its 4,096-byte file header, no records",
            show_count(len)
        ));
    }
    let u16_at = |at: usize| u16::from_le_bytes([h[at], h[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let (header_size, major, block) = (u32_at(32), u16_at(38), u16_at(40));
    if header_size != 128 || major != 3 || u64::from(block) != FILE_HEADER_SIZE {
        return Err(format!(
            "starts with the EVTX signature but is not an EVTX event log: its file header is not \
             one (header size {header_size}, version {major}, block size {block}; a log has 128, \
             3 and 4096)"
        ));
    }
    let flags = u32_at(120);
    // Flag 4: the header carries no CRC32.
    let checksum_ok = flags & 4 != 0 || evtx::checksum_ieee(&h[..120]) == u32_at(124);
    Ok(Header {
        chunk_count: u16_at(42),
        checksum_ok,
    })
}

fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// One kept event, ordered newest last by time (events without one first), then read order.
struct Kept {
    key: (Option<DateTime<Utc>>, u64),
    event: EventRecord,
}

impl PartialEq for Kept {
    fn eq(&self, other: &Kept) -> bool {
        self.key == other.key
    }
}
impl Eq for Kept {}
impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Kept) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Kept {
    fn cmp(&self, other: &Kept) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// The newest events of one log, within the cap.
#[derive(Default)]
struct KeptLog {
    name: String,
    /// Min-heap: the oldest kept event on top, dropped first.
    heap: BinaryHeap<Reverse<Kept>>,
    dropped: u64,
}

/// The reading of one file.
struct Run<'a> {
    file: &'a str,
    limits: &'a EvtxLimits,
    /// Chunks in the file (the last maybe cut short).
    chunks: u64,
    summary: LogSummary,
    /// Kept events by log name (lower case).
    kept: HashMap<String, KeptLog>,
    total: usize,
    /// Records of logs past `max_logs`.
    unlisted: u64,
    seq: u64,
    bad_chunks: u64,
    first_bad_chunk: Option<String>,
    bad_records: u64,
    first_bad_record: Option<String>,
    notes: Vec<String>,
}

impl<'a> Run<'a> {
    fn new(file: &'a str, limits: &'a EvtxLimits) -> Run<'a> {
        Run {
            file,
            limits,
            chunks: 0,
            summary: LogSummary::new(file),
            kept: HashMap::new(),
            total: 0,
            unlisted: 0,
            seq: 0,
            bad_chunks: 0,
            first_bad_chunk: None,
            bad_records: 0,
            first_bad_record: None,
            notes: Vec::new(),
        }
    }

    fn bad_chunk(&mut self, n: u64, why: &str) {
        self.bad_chunks += 1;
        self.first_bad_chunk
            .get_or_insert_with(|| format!("chunk {}: {why}", n + 1));
    }

    fn bad_record(&mut self, why: String) {
        self.bad_records += 1;
        self.first_bad_record.get_or_insert(why);
    }

    /// The note for a read stopped by the time bound with READ chunks done.
    fn out_of_time(&mut self, read: u64) {
        self.notes.push(format!(
            "stopped after {} s with {} of {} chunks read: the rest of the file is not",
            self.limits.max_time.as_secs(),
            show_count(read),
            show_count(self.chunks)
        ));
    }

    /// Reads the records of chunk N (SIZE bytes of it are in the file; past them, zeros).
    fn read_chunk(
        &mut self,
        n: u64,
        data: Vec<u8>,
        size: u64,
        settings: &Arc<ParserSettings>,
        started: Instant,
    ) -> Flow {
        let cut = size < CHUNK_SIZE;
        let mut chunk = match EvtxChunkData::new(data, false) {
            Ok(c) => c,
            Err(e) => {
                self.bad_chunk(n, &chunk_error(&e));
                return Flow::Go;
            }
        };
        // A chunk cut short cannot match its CRC32: its whole records are read all the same.
        if !cut && !chunk.validate_checksum() {
            self.bad_chunk(n, "its CRC32 does not match its content (corrupt): skipped");
            return Flow::Go;
        }
        // The crate forbids unsafe code and bounds its work per record; a panic on a file no
        // test foresaw still must not end the run: the chunk is a note then.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.records_of(n, &mut chunk, size, settings, started)
        }));
        match outcome {
            Ok(flow) => flow,
            Err(_) => {
                self.bad_chunk(n, "the EVTX parser failed on it: skipped");
                Flow::Go
            }
        }
    }

    fn records_of(
        &mut self,
        n: u64,
        chunk: &mut EvtxChunkData,
        size: u64,
        settings: &Arc<ParserSettings>,
        started: Instant,
    ) -> Flow {
        let mut parsed = match chunk.parse(Arc::clone(settings)) {
            Ok(p) => p,
            Err(e) => {
                self.bad_chunk(n, &chunk_error(&e));
                return Flow::Go;
            }
        };
        for record in parsed.iter() {
            if started.elapsed() >= self.limits.max_time {
                self.out_of_time(n);
                return Flow::Stop;
            }
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    self.bad_record(format!("in chunk {}: {}", n + 1, error_text(&e)));
                    continue;
                }
            };
            // In a chunk cut short, only records that end before the cut are whole.
            let end = record.binxml_offset + u64::from(record.binxml_size) + 4;
            if end > size {
                continue;
            }
            let id = record.event_record_id;
            match record.into_xml() {
                Ok(xml) => self.add_xml(id, &xml.data),
                Err(e) => self.bad_record(format!("record {id}: {}", error_text(&e))),
            }
        }
        Flow::Go
    }

    /// One record's XML, mapped as `wevtutil` XML is.
    fn add_xml(&mut self, id: u64, xml: &str) {
        let (events, skipped) = match parse_records(self.file, xml) {
            Ok(r) => r,
            Err(e) => return self.bad_record(format!("record {id}: {e}")),
        };
        if !skipped.is_empty() {
            self.bad_record(format!("record {id}: no provider or event id"));
        }
        for mut e in events {
            e.record_id = e.record_id.or(Some(id));
            e.location.line = None;
            e.location.record = Some(id.to_string());
            self.add(e);
        }
    }

    fn add(&mut self, e: EventRecord) {
        self.total += 1;
        if self.summary.knows(&e) || self.summary.len() < self.limits.max_logs {
            self.summary.add(&e);
        } else {
            self.unlisted += 1;
        }
        if !wanted(&e) {
            return;
        }
        let name = e.channel.clone().unwrap_or_else(|| UNKNOWN_LOG.to_string());
        let log = self
            .kept
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| KeptLog {
                name,
                ..KeptLog::default()
            });
        self.seq += 1;
        log.heap.push(Reverse(Kept {
            key: (e.time, self.seq),
            event: e,
        }));
        if log.heap.len() > self.limits.max_kept_per_log {
            log.heap.pop();
            log.dropped += 1;
        }
    }

    fn finish(mut self) -> EvtxEvents {
        if let Some(first) = &self.first_bad_chunk {
            self.notes.push(format!(
                "{} damaged chunk(s) of 64 KiB skipped, first: {first}",
                show_count(self.bad_chunks)
            ));
        }
        if let Some(first) = &self.first_bad_record {
            self.notes.push(format!(
                "{} record(s) not readable, first: {first}",
                show_count(self.bad_records)
            ));
        }
        if self.unlisted > 0 {
            self.notes.push(format!(
                "more than {} logs in one file: {} record(s) of the others counted in no log",
                self.limits.max_logs,
                show_count(self.unlisted)
            ));
        }
        let mut logs: Vec<KeptLog> = self.kept.into_values().collect();
        logs.sort_by(|a, b| a.name.cmp(&b.name));
        let mut kept: Vec<Kept> = Vec::new();
        for log in logs {
            if log.dropped > 0 {
                self.notes.push(format!(
                    "{}: the newest {} enrollment-related events kept, {} older ones counted but not kept",
                    log.name,
                    show_count(self.limits.max_kept_per_log as u64),
                    show_count(log.dropped)
                ));
            }
            kept.extend(log.heap.into_iter().map(|Reverse(k)| k));
        }
        // Read order (the sequence number) for the events, as the other parsers give them.
        kept.sort_by_key(|k| k.key.1);
        EvtxEvents {
            parsed: ParsedEvents {
                events: kept.into_iter().map(|k| k.event).collect(),
                logs: self.summary.finish(),
                total: self.total,
                skipped: Vec::new(),
            },
            notes: self.notes,
        }
    }
}

/// A chunk's error in words (the crate's own text, without its byte dumps).
fn chunk_error(e: &evtx::err::ChunkError) -> String {
    use evtx::err::{ChunkError, DeserializationError};
    match e {
        ChunkError::FailedToParseChunkHeader(DeserializationError::InvalidEvtxChunkMagic {
            ..
        }) => "no chunk signature (ElfChnk) where a chunk starts: skipped".to_string(),
        other => format!("{}: skipped", error_chain(other)),
    }
}

/// A record's error in words.
fn error_text(e: &evtx::err::EvtxError) -> String {
    error_chain(e)
}

/// The error and its causes, `a: b: c`, with the crate's signature dumps replaced by words.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    use evtx::err::DeserializationError;
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = match err.downcast_ref::<DeserializationError>() {
            Some(DeserializationError::InvalidEvtxRecordHeaderMagic { .. }) => {
                "no record signature where a record starts".to_string()
            }
            Some(DeserializationError::InvalidEvtxChunkMagic { .. }) => {
                "no chunk signature (ElfChnk) where a chunk starts".to_string()
            }
            Some(DeserializationError::InvalidEvtxFileHeaderMagic { .. }) => {
                "no EVTX file signature".to_string()
            }
            _ => err.to_string(),
        };
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        next = err.source();
        if parts.len() >= 4 {
            break;
        }
    }
    parts.join(": ")
}

/// 12345 → `12,345`.
fn show_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
