//! `wevtutil qe /f:xml` exports (concatenated `<Event>` records, or an `<Events>` root, with
//! RenderingInfo or not), read in one streaming pass: memory holds the records read and the
//! elements of the record being read, never a tree of the document.

use super::events::{ParsedEvents, parse_time};
use super::report::{EventData, EventRecord, Location};
use super::xml::{Node, attribute, walk};

/// Parses `wevtutil` XML: every `<Event>` element, at any depth, in document order.
pub fn parse_xml(file: &str, text: &str) -> Result<ParsedEvents, String> {
    let (all, skipped) = parse_records(file, text)?;
    Ok(ParsedEvents::from_all(file, all, skipped))
}

/// The records of `wevtutil` XML in document order, and those not understood (`record:
/// reason`); also what an `.evtx` record renders to (`device/evtx`).
pub(crate) fn parse_records(
    file: &str,
    text: &str,
) -> Result<(Vec<EventRecord>, Vec<String>), String> {
    // Records read, with the order of their start tags (a nested record closes first).
    let mut all: Vec<(usize, EventRecord)> = Vec::new();
    let mut skipped: Vec<(usize, String)> = Vec::new();
    let mut started = 0usize;
    // The records being read, innermost last.
    let mut open: Vec<Record> = Vec::new();
    walk(text.trim_start_matches('\u{feff}'), |node| match node {
        Node::Open {
            name,
            depth,
            line,
            attributes,
        } => {
            if name == "Event" {
                if let Some(outer) = open.last_mut() {
                    outer.child_opens();
                }
                open.push(Record::new(started, depth, line));
                started += 1;
            } else if let Some(r) = open.last_mut() {
                r.open(name, attributes);
            }
        }
        Node::Text(t) => {
            if let Some(r) = open.last_mut() {
                r.text(t);
            }
        }
        Node::Other => {
            if let Some(r) = open.last_mut() {
                r.other();
            }
        }
        Node::Close { depth } => match open.last_mut() {
            Some(r) if r.depth == depth => {
                if let Some(r) = open.pop() {
                    let index = r.index;
                    match r.finish(file) {
                        Ok(e) => all.push((index, e)),
                        Err(why) => skipped.push((index, why)),
                    }
                }
            }
            Some(r) => r.close(),
            None => {}
        },
    })?;
    // Only nested records come out of order; sorting is stable and cheap when already sorted.
    all.sort_by_key(|(i, _)| *i);
    skipped.sort_by_key(|(i, _)| *i);
    Ok((
        all.into_iter().map(|(_, e)| e).collect(),
        skipped.into_iter().map(|(_, s)| s).collect(),
    ))
}

/// An element inside the record being read.
struct Frame {
    name: String,
    /// Its character data before its first child node (what a tree's `text()` gives).
    text: String,
    text_open: bool,
    has_child: bool,
    /// The first element of its name among its siblings (the one a tree's `child()` finds).
    first: bool,
    /// `Name` attribute (EventData's `<Data Name=…>`).
    data_name: Option<String>,
}

/// One `<Event>` being read. Fields mirror `EventRecord`; what is read comes from the first
/// `System`, `EventData` (else `UserData`) and `RenderingInfo` children, like the tree reader
/// did.
struct Record {
    index: usize,
    depth: usize,
    line: usize,
    /// Elements open inside the record; `frames[0]` is a direct child of `<Event>`.
    frames: Vec<Frame>,
    /// Names of the direct children and of the first `System`'s children already seen.
    seen: Vec<String>,
    seen_in_system: Vec<String>,
    provider: Option<String>,
    event_id: Option<String>,
    level: Option<String>,
    time: Option<String>,
    record_id: Option<String>,
    channel: Option<String>,
    event_data: Option<Vec<EventData>>,
    user_data: Vec<EventData>,
    message: Option<String>,
    message_seen: bool,
}

impl Record {
    fn new(index: usize, depth: usize, line: usize) -> Record {
        Record {
            index,
            depth,
            line,
            frames: Vec::new(),
            seen: Vec::new(),
            seen_in_system: Vec::new(),
            provider: None,
            event_id: None,
            level: None,
            time: None,
            record_id: None,
            channel: None,
            event_data: None,
            user_data: Vec::new(),
            message: None,
            message_seen: false,
        }
    }

    /// Whether the innermost frame is inside the first direct child named `name`.
    fn in_first(&self, name: &str) -> bool {
        self.frames
            .first()
            .is_some_and(|f| f.first && f.name == name)
    }

    /// A child node (element, comment) opens in the innermost frame.
    fn child_opens(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.has_child = true;
            f.text_open = false;
        }
    }

    fn open(&mut self, name: &str, attributes: &[(&str, std::borrow::Cow<'_, str>)]) {
        self.child_opens();
        let level = self.frames.len();
        let first = match level {
            0 if RECORD_PARTS.contains(&name) => first_time(&mut self.seen, name),
            1 if self.in_first("System") && SYSTEM_PARTS.contains(&name) => {
                first_time(&mut self.seen_in_system, name)
            }
            _ => false,
        };
        if level == 0 && first && name == "EventData" {
            self.event_data = Some(Vec::new());
        }
        if level == 1 && first && self.in_first("System") {
            match name {
                "Provider" => {
                    self.provider = attribute(attributes, "Name")
                        .or_else(|| attribute(attributes, "EventSourceName"))
                        .map(str::to_string);
                }
                "TimeCreated" => {
                    self.time = attribute(attributes, "SystemTime").map(str::to_string);
                }
                _ => {}
            }
        }
        let data_name = (level == 1 && self.in_first("EventData"))
            .then(|| attribute(attributes, "Name").map(str::to_string))
            .flatten();
        self.frames.push(Frame {
            name: name.to_string(),
            text: String::new(),
            text_open: true,
            has_child: false,
            first,
            data_name,
        });
    }

    fn text(&mut self, t: &str) {
        if let Some(f) = self.frames.last_mut()
            && f.text_open
        {
            f.text.push_str(t);
        }
    }

    fn other(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.text_open = false;
        }
    }

    fn close(&mut self) {
        let Some(f) = self.frames.pop() else {
            return;
        };
        let level = self.frames.len();
        let trimmed = || Some(f.text.trim().to_string());
        if level == 1 && f.first && self.in_first("System") {
            match f.name.as_str() {
                "EventID" => self.event_id = trimmed(),
                "Level" => self.level = trimmed(),
                "EventRecordID" => self.record_id = trimmed(),
                "Channel" => self.channel = trimmed(),
                _ => {}
            }
        }
        if level == 1
            && self.in_first("EventData")
            && let Some(data) = self.event_data.as_mut()
        {
            data.push(EventData {
                name: f.data_name.clone(),
                value: f.text.clone(),
            });
        }
        // UserData holds one provider-defined element; its leaves are the insertion strings.
        if !f.has_child
            && (self.in_first("UserData") || (level == 0 && f.first && f.name == "UserData"))
        {
            self.user_data.push(EventData {
                name: Some(f.name.clone()),
                value: f.text.clone(),
            });
        }
        if level == 1 && f.name == "Message" && self.in_first("RenderingInfo") && !self.message_seen
        {
            self.message_seen = true;
            self.message = trimmed().filter(|m| !m.is_empty());
        }
    }

    fn finish(self, file: &str) -> Result<EventRecord, String> {
        let event_id = self.event_id.as_deref().and_then(|s| s.parse::<u32>().ok());
        let (Some(provider), Some(event_id)) = (self.provider, event_id) else {
            return Err(format!(
                "event {} (line {}): no provider or event id",
                self.index + 1,
                self.line
            ));
        };
        let record_id = self.record_id.and_then(|r| r.parse().ok());
        Ok(EventRecord {
            provider,
            channel: self.channel.filter(|c| !c.is_empty()),
            event_id,
            level: self.level.and_then(|l| l.parse().ok()),
            time: self.time.as_deref().and_then(parse_time),
            record_id,
            data: self.event_data.unwrap_or(self.user_data),
            message: self.message,
            location: Location {
                file: file.to_string(),
                line: Some(self.line),
                record: record_id.map(|r: u64| r.to_string()),
            },
        })
    }
}

/// The children of `<Event>` that are read (the first of each name).
const RECORD_PARTS: [&str; 4] = ["System", "EventData", "UserData", "RenderingInfo"];

/// The children of `<System>` that are read (the first of each name).
const SYSTEM_PARTS: [&str; 6] = [
    "Provider",
    "EventID",
    "Level",
    "TimeCreated",
    "EventRecordID",
    "Channel",
];

/// True the first time `name` is seen (only the few names above are tracked).
fn first_time(seen: &mut Vec<String>, name: &str) -> bool {
    if seen.iter().any(|s| s == name) {
        false
    } else {
        seen.push(name.to_string());
        true
    }
}
