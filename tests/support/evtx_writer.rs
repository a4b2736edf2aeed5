//! A minimal EVTX writer, for tests only: Windows' binary event log format as MS-EVEN6 (the
//! published specification of `.evtx`) lays it out, so the readers can be tested on files
//! made here from the sample scenarios' events (no real `.evtx` file ships in a package this
//! project may use).
//!
//! What it writes, as Windows does: a 4 KiB file header with its CRC32; 64 KiB chunks, each
//! with its header CRC32, its records' CRC32 and its table of common names; event records
//! whose BinXml is a template instance — the template (`<Event>` with `<System>` and
//! `<EventData>` or `<UserData>`) is defined in the chunk by the first record of its shape and
//! referenced by the later ones, the values (event id, level, time, record id, data) are
//! substitutions of Windows' own types (UInt16, UInt8, FileTime, UInt64, HexInt64, String).
//!
//! Shared by the library's unit tests, the end-to-end tests, the benches and the fuzzer
//! through `#[path]`, so each includer may use only part of it. No dependencies: CRC32 is
//! computed here.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Seek, SeekFrom, Write};

pub const FILE_HEADER_SIZE: usize = 4096;
pub const CHUNK_SIZE: usize = 65536;
pub const CHUNK_HEADER_SIZE: usize = 512;
const RECORD_HEADER_SIZE: usize = 24;
const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

/// Seconds between 1601-01-01 (FILETIME's epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET_S: i64 = 11_644_473_600;

/// FILETIME (100 ns since 1601) of a Unix time in nanoseconds.
pub fn filetime_from_unix_nanos(nanos: i128) -> u64 {
    let ticks = nanos.div_euclid(100) + i128::from(FILETIME_UNIX_OFFSET_S) * 10_000_000;
    u64::try_from(ticks).unwrap_or(0)
}

/// The insertion strings of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// `<EventData><Data Name='…'>…</Data>…</EventData>` (a name of `None`: `<Data>` alone).
    EventData(Vec<(Option<String>, String)>),
    /// `<UserData><ROOT xmlns='…'><NAME>…</NAME>…</ROOT></UserData>`.
    UserData {
        root: String,
        namespace: String,
        values: Vec<(String, String)>,
    },
}

/// One event to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub provider: String,
    pub provider_guid: Option<String>,
    pub channel: String,
    pub computer: String,
    pub event_id: u16,
    pub level: u8,
    /// FILETIME: 100 ns ticks since 1601-01-01 UTC.
    pub time: u64,
    pub record_id: u64,
    pub payload: Payload,
}

impl Event {
    /// An event of PROVIDER in CHANNEL with EventData values, the rest as on a real device.
    pub fn new(provider: &str, channel: &str, event_id: u16, record_id: u64, time: u64) -> Event {
        Event {
            provider: provider.to_string(),
            provider_guid: None,
            channel: channel.to_string(),
            computer: "PC0077.corp.contoso.com".to_string(),
            event_id,
            level: 4,
            time,
            record_id,
            payload: Payload::EventData(Vec::new()),
        }
    }
}

/// An event as the readers report one (provider, channel, id, level, time as Unix nanoseconds,
/// record id, EventData values), for writing; `None` when the format cannot hold it (an event
/// id past UInt16, no time, level or record id).
#[allow(clippy::too_many_arguments)]
pub fn event_from_fields(
    provider: &str,
    channel: Option<&str>,
    event_id: u32,
    level: Option<u8>,
    time_unix_nanos: Option<i128>,
    record_id: Option<u64>,
    data: Vec<(Option<String>, String)>,
) -> Option<Event> {
    let mut e = Event::new(
        provider,
        channel?,
        u16::try_from(event_id).ok()?,
        record_id?,
        filetime_from_unix_nanos(time_unix_nanos?),
    );
    e.level = level?;
    e.payload = Payload::EventData(data);
    Some(e)
}

/// CRC32 (IEEE 802.3, the one MS-EVEN6 uses), bit by bit: test data is small.
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for part in parts {
        for &b in *part {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

/// The events as a whole `.evtx` file in memory.
pub fn write_evtx(events: &[Event]) -> Vec<u8> {
    let mut w = EvtxWriter::new(io::Cursor::new(Vec::new())).unwrap();
    for e in events {
        w.push(e).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Writes an `.evtx` file chunk by chunk (one chunk in memory): the file header last, once the
/// chunk count and the next record id are known.
pub struct EvtxWriter<W: Write + Seek> {
    out: W,
    chunk: Chunk,
    chunks: u64,
    next_record_id: u64,
}

impl<W: Write + Seek> EvtxWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&[0u8; FILE_HEADER_SIZE])?;
        Ok(EvtxWriter {
            out,
            chunk: Chunk::new(),
            chunks: 0,
            next_record_id: 1,
        })
    }

    pub fn push(&mut self, e: &Event) -> io::Result<()> {
        if !self.chunk.try_push(e) {
            self.flush_chunk()?;
            if !self.chunk.try_push(e) {
                return Err(io::Error::other("event too large for one chunk"));
            }
        }
        self.next_record_id = self.next_record_id.max(e.record_id + 1);
        Ok(())
    }

    /// Chunks written so far (the one being filled not counted).
    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.chunk.records == 0 {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.chunk, Chunk::new());
        self.out.write_all(&full.finish())?;
        self.chunks += 1;
        Ok(())
    }

    /// Writes the last chunk and the file header; gives the output back.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_chunk()?;
        let mut h = vec![0u8; FILE_HEADER_SIZE];
        h[..8].copy_from_slice(b"ElfFile\0");
        // Oldest chunk, current chunk, next record id.
        put(&mut h, 8, &0u64.to_le_bytes());
        put(&mut h, 16, &self.chunks.saturating_sub(1).to_le_bytes());
        put(&mut h, 24, &self.next_record_id.to_le_bytes());
        put(&mut h, 32, &128u32.to_le_bytes());
        put(&mut h, 36, &1u16.to_le_bytes()); // minor version
        put(&mut h, 38, &3u16.to_le_bytes()); // major version
        put(&mut h, 40, &(FILE_HEADER_SIZE as u16).to_le_bytes());
        put(
            &mut h,
            42,
            &(self.chunks.min(u64::from(u16::MAX)) as u16).to_le_bytes(),
        );
        // Flags 0: clean, not full.
        let crc = crc32(&[&h[..120]]);
        put(&mut h, 124, &crc.to_le_bytes());
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&h)?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

/// What makes two events share a template: everything but their substitution values.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Shape {
    provider: String,
    guid: Option<String>,
    channel: String,
    payload: PayloadShape,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum PayloadShape {
    EventData(Vec<Option<String>>),
    UserData(String, String, Vec<String>),
}

fn shape(e: &Event) -> Shape {
    Shape {
        provider: e.provider.clone(),
        guid: e.provider_guid.clone(),
        channel: e.channel.clone(),
        payload: match &e.payload {
            Payload::EventData(d) => {
                PayloadShape::EventData(d.iter().map(|(n, _)| n.clone()).collect())
            }
            Payload::UserData {
                root,
                namespace,
                values,
            } => PayloadShape::UserData(
                root.clone(),
                namespace.clone(),
                values.iter().map(|(n, _)| n.clone()).collect(),
            ),
        },
    }
}

/// One chunk being filled.
struct Chunk {
    data: Vec<u8>,
    records: u64,
    first_id: u64,
    last_id: u64,
    last_record_offset: u32,
    /// Template definition offset and id by shape (a template is defined once per chunk).
    templates: HashMap<Shape, (u32, u32)>,
    /// Name string offset by name (each name is written once per chunk).
    names: HashMap<String, u32>,
    /// Heads of the 64 common-name buckets.
    string_buckets: [u32; 64],
    /// Heads of the 32 template buckets.
    template_buckets: [u32; 32],
    next_template_id: u32,
}

/// Value types of BinXml (MS-EVEN6 2.2.12).
const T_STRING: u8 = 0x01;
const T_UINT8: u8 = 0x04;
const T_UINT16: u8 = 0x06;
const T_UINT32: u8 = 0x08;
const T_UINT64: u8 = 0x0a;
const T_FILETIME: u8 = 0x11;
const T_HEXINT64: u8 = 0x15;

impl Chunk {
    fn new() -> Chunk {
        let mut data = vec![0u8; CHUNK_HEADER_SIZE];
        data.reserve(CHUNK_SIZE - CHUNK_HEADER_SIZE);
        Chunk {
            data,
            records: 0,
            first_id: 0,
            last_id: 0,
            last_record_offset: 0,
            templates: HashMap::new(),
            names: HashMap::new(),
            string_buckets: [0; 64],
            template_buckets: [0; 32],
            next_template_id: 1,
        }
    }

    /// Appends the record, or leaves the chunk as it was when it does not fit.
    fn try_push(&mut self, e: &Event) -> bool {
        let saved = (
            self.data.len(),
            self.templates.clone(),
            self.names.clone(),
            self.string_buckets,
            self.template_buckets,
            self.next_template_id,
        );
        let start = self.data.len();
        self.data.extend_from_slice(b"**\0\0");
        self.data.extend_from_slice(&[0u8; 4]);
        self.data.extend_from_slice(&e.record_id.to_le_bytes());
        self.data.extend_from_slice(&e.time.to_le_bytes());
        self.binxml(e);
        let size = (self.data.len() - start + 4) as u32;
        self.data.extend_from_slice(&size.to_le_bytes());
        put(&mut self.data, start + 4, &size.to_le_bytes());
        if self.data.len() > CHUNK_SIZE {
            self.data.truncate(saved.0);
            self.templates = saved.1;
            self.names = saved.2;
            self.string_buckets = saved.3;
            self.template_buckets = saved.4;
            self.next_template_id = saved.5;
            return false;
        }
        if self.records == 0 {
            self.first_id = e.record_id;
        }
        self.records += 1;
        self.last_id = e.record_id;
        self.last_record_offset = start as u32;
        true
    }

    fn pos(&self) -> u32 {
        self.data.len() as u32
    }
    fn u8(&mut self, v: u8) {
        self.data.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.data.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.data.extend_from_slice(&v.to_le_bytes());
    }
    fn utf16(&mut self, s: &str) {
        for u in s.encode_utf16() {
            self.u16(u);
        }
    }

    /// A name reference: to the name already in the chunk, or the name inline (next name in its
    /// bucket, hash, length, UTF-16, NUL), linked into the common-name table.
    fn name(&mut self, name: &str) {
        if let Some(&at) = self.names.get(name) {
            self.u32(at);
            return;
        }
        let at = self.pos() + 4;
        self.u32(at);
        let hash = name_hash(name);
        let bucket = usize::from(hash) % 64;
        self.u32(self.string_buckets[bucket]);
        self.string_buckets[bucket] = at;
        self.u16(hash);
        self.u16(name.encode_utf16().count() as u16);
        self.utf16(name);
        self.u16(0);
        self.names.insert(name.to_string(), at);
    }

    /// Open start element in a template definition (dependency id: none); with attributes,
    /// their list's size (readers skip it) follows.
    fn open(&mut self, name: &str, attributes: bool) {
        self.u8(if attributes { 0x41 } else { 0x01 });
        self.u16(0xFFFF);
        self.u32(0); // element data size, which readers skip
        self.name(name);
        if attributes {
            self.u32(0);
        }
    }

    /// An attribute whose value follows; `more`: another attribute follows this one.
    fn attribute(&mut self, name: &str, more: bool) {
        self.u8(if more { 0x46 } else { 0x06 });
        self.name(name);
    }

    fn text(&mut self, s: &str) {
        self.u8(0x05);
        self.u8(T_STRING);
        self.u16(s.encode_utf16().count() as u16);
        self.utf16(s);
    }

    fn substitution(&mut self, index: u16, value_type: u8) {
        self.u8(0x0d);
        self.u16(index);
        self.u8(value_type);
    }

    fn close_start(&mut self) {
        self.u8(0x02);
    }
    fn close_empty(&mut self) {
        self.u8(0x03);
    }
    fn end(&mut self) {
        self.u8(0x04);
    }

    /// `<NAME>{substitution}</NAME>`.
    fn sub_element(&mut self, name: &str, index: u16, value_type: u8) {
        self.open(name, false);
        self.close_start();
        self.substitution(index, value_type);
        self.end();
    }

    /// The record's BinXml: fragment header, template instance (defined here or referenced),
    /// its values, EOF.
    fn binxml(&mut self, e: &Event) {
        self.data.extend_from_slice(&[0x0f, 0x01, 0x01, 0x00]);
        let key = shape(e);
        self.u8(0x0c);
        self.u8(0x01);
        match self.templates.get(&key).copied() {
            Some((definition, id)) => {
                self.u32(id);
                self.u32(definition);
            }
            None => {
                let id = self.next_template_id;
                self.next_template_id += 1;
                self.u32(id);
                let definition = self.pos() + 4;
                self.u32(definition);
                // Definition header: next template in its bucket, GUID, data size.
                let bucket = (id as usize) % 32;
                self.u32(self.template_buckets[bucket]);
                self.template_buckets[bucket] = definition;
                let mut guid = [0u8; 16];
                guid[..4].copy_from_slice(&id.to_le_bytes());
                guid[4..12].copy_from_slice(b"ENRLDOCT");
                self.data.extend_from_slice(&guid);
                let size_at = self.data.len();
                self.u32(0);
                let body = self.data.len();
                self.template_body(e);
                let size = (self.data.len() - body) as u32;
                put(&mut self.data, size_at, &size.to_le_bytes());
                self.templates.insert(key, (definition, id));
            }
        }
        self.values(e);
        self.u8(0x00);
    }

    /// The template: `<Event>` with `<System>` and the payload, values as substitutions
    /// 0 = EventID, 1 = Version, 2 = Level, 3 = Task, 4 = Opcode, 5 = Keywords,
    /// 6 = TimeCreated, 7 = EventRecordID, 8 = ProcessID, 9 = ThreadID, 10 = Computer,
    /// 11… = the payload's values.
    fn template_body(&mut self, e: &Event) {
        self.data.extend_from_slice(&[0x0f, 0x01, 0x01, 0x00]);
        self.open("Event", true);
        self.attribute("xmlns", false);
        self.text(EVENT_NS);
        self.close_start();
        self.open("System", false);
        self.close_start();
        self.open("Provider", true);
        self.attribute("Name", e.provider_guid.is_some());
        self.text(&e.provider);
        if let Some(g) = &e.provider_guid {
            self.attribute("Guid", false);
            self.text(g);
        }
        self.close_empty();
        self.sub_element("EventID", 0, T_UINT16);
        self.sub_element("Version", 1, T_UINT8);
        self.sub_element("Level", 2, T_UINT8);
        self.sub_element("Task", 3, T_UINT16);
        self.sub_element("Opcode", 4, T_UINT8);
        self.sub_element("Keywords", 5, T_HEXINT64);
        self.open("TimeCreated", true);
        self.attribute("SystemTime", false);
        self.substitution(6, T_FILETIME);
        self.close_empty();
        self.sub_element("EventRecordID", 7, T_UINT64);
        self.open("Correlation", false);
        self.close_empty();
        self.open("Execution", true);
        self.attribute("ProcessID", true);
        self.substitution(8, T_UINT32);
        self.attribute("ThreadID", false);
        self.substitution(9, T_UINT32);
        self.close_empty();
        self.open("Channel", false);
        self.close_start();
        self.text(&e.channel);
        self.end();
        self.sub_element("Computer", 10, T_STRING);
        self.open("Security", false);
        self.close_empty();
        self.end(); // </System>
        match &e.payload {
            Payload::EventData(data) => {
                self.open("EventData", false);
                self.close_start();
                for (i, (name, _)) in data.iter().enumerate() {
                    let index = 11 + i as u16;
                    match name {
                        Some(n) => {
                            self.open("Data", true);
                            self.attribute("Name", false);
                            self.text(n);
                        }
                        None => self.open("Data", false),
                    }
                    self.close_start();
                    self.substitution(index, T_STRING);
                    self.end();
                }
                self.end();
            }
            Payload::UserData {
                root,
                namespace,
                values,
            } => {
                self.open("UserData", false);
                self.close_start();
                self.open(root, true);
                self.attribute("xmlns", false);
                self.text(namespace);
                self.close_start();
                for (i, (name, _)) in values.iter().enumerate() {
                    self.sub_element(name, 11 + i as u16, T_STRING);
                }
                self.end();
                self.end();
            }
        }
        self.end(); // </Event>
        self.u8(0x00);
    }

    /// The template instance's values: count, descriptors (size, type, 0), then the bytes.
    fn values(&mut self, e: &Event) {
        let mut values: Vec<(u8, Vec<u8>)> = vec![
            (T_UINT16, e.event_id.to_le_bytes().to_vec()),
            (T_UINT8, vec![0]),
            (T_UINT8, vec![e.level]),
            (T_UINT16, 0u16.to_le_bytes().to_vec()),
            (T_UINT8, vec![0]),
            (T_HEXINT64, 0x8000_0000_0000_0000u64.to_le_bytes().to_vec()),
            (T_FILETIME, e.time.to_le_bytes().to_vec()),
            (T_UINT64, e.record_id.to_le_bytes().to_vec()),
            (T_UINT32, 7724u32.to_le_bytes().to_vec()),
            (T_UINT32, 8120u32.to_le_bytes().to_vec()),
            (T_STRING, utf16_bytes(&e.computer)),
        ];
        match &e.payload {
            Payload::EventData(data) => {
                values.extend(data.iter().map(|(_, v)| (T_STRING, utf16_bytes(v))));
            }
            Payload::UserData { values: v, .. } => {
                values.extend(v.iter().map(|(_, v)| (T_STRING, utf16_bytes(v))));
            }
        }
        self.u32(values.len() as u32);
        for (t, bytes) in &values {
            self.u16(bytes.len() as u16);
            self.u8(*t);
            self.u8(0);
        }
        for (_, bytes) in values {
            self.data.extend_from_slice(&bytes);
        }
    }

    /// The chunk's 64 KiB: header with record numbers, offsets, name and template tables and
    /// both CRC32s.
    fn finish(mut self) -> Vec<u8> {
        let free = self.data.len();
        self.data.resize(CHUNK_SIZE, 0);
        let d = &mut self.data;
        d[..8].copy_from_slice(b"ElfChnk\0");
        // Record numbers (log order) and record ids: the same here.
        put(d, 8, &self.first_id.to_le_bytes());
        put(d, 16, &self.last_id.to_le_bytes());
        put(d, 24, &self.first_id.to_le_bytes());
        put(d, 32, &self.last_id.to_le_bytes());
        put(d, 40, &128u32.to_le_bytes());
        put(d, 44, &self.last_record_offset.to_le_bytes());
        put(d, 48, &(free as u32).to_le_bytes());
        for (i, at) in self.string_buckets.iter().enumerate() {
            put(d, 128 + 4 * i, &at.to_le_bytes());
        }
        for (i, at) in self.template_buckets.iter().enumerate() {
            put(d, 384 + 4 * i, &at.to_le_bytes());
        }
        let records_crc = crc32(&[&d[CHUNK_HEADER_SIZE..free]]);
        put(d, 52, &records_crc.to_le_bytes());
        let header_crc = crc32(&[&d[..120], &d[128..CHUNK_HEADER_SIZE]]);
        put(d, 124, &header_crc.to_le_bytes());
        self.data
    }
}

fn utf16_bytes(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The name hash MS-EVEN6 stores with each name: the low 16 bits of `h = h * 65599 + unit`
/// over its UTF-16 code units.
fn name_hash(name: &str) -> u16 {
    let mut h: u32 = 0;
    for u in name.encode_utf16() {
        h = h.wrapping_mul(65599).wrapping_add(u32::from(u));
    }
    h as u16
}
