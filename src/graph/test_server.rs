//! A tiny HTTP/1.1 server on loopback for the transport's own tests: each request gets the
//! answer a closure picks, including bodies no real server should send (endless chunked
//! streams, a `Content-Length` of 10 GB).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the server sends back.
pub(crate) enum Body {
    Fixed(Vec<u8>),
    /// This chunk, again and again, with chunked encoding, until the client hangs up.
    EndlessChunked(Vec<u8>),
    /// `Content-Length: announced`, then this chunk repeated until the client hangs up.
    Announced {
        announced: u64,
        chunk: Vec<u8>,
    },
}

pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Body::Fixed(body.as_bytes().to_vec()),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Answer {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// One request as received: the path (with query), the body and when it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub path: String,
    pub body: String,
    pub at: Instant,
}

pub(crate) struct TestServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

type Handler = dyn Fn(usize, &Seen) -> Answer + Send + Sync;

/// Serves `handler(n, request)` (n counts requests from 0) on a free loopback port.
pub(crate) fn serve(
    handler: impl Fn(usize, &Seen) -> Answer + Send + Sync + 'static,
) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let handler: Arc<Handler> = Arc::new(handler);
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (handler, log) = (handler.clone(), log.clone());
            std::thread::spawn(move || answer(stream, &*handler, &log));
        }
    });
    TestServer { url, seen }
}

fn answer(mut stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Seen>>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let request = Seen {
        path,
        body: String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string(),
        at: Instant::now(),
    };
    let n = {
        let mut l = log.lock().unwrap();
        l.push(request.clone());
        l.len() - 1
    };
    let a = handler(n, &request);
    let mut out = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", a.status);
    for (k, v) in &a.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    match a.body {
        Body::Fixed(b) => {
            out.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.write_all(&b);
        }
        Body::EndlessChunked(chunk) => {
            out.push_str("Transfer-Encoding: chunked\r\n\r\n");
            let _ = stream.write_all(out.as_bytes());
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk,
                b"\r\n".to_vec(),
            ]
            .concat();
            while stream.write_all(&framed).is_ok() {}
        }
        Body::Announced { announced, chunk } => {
            out.push_str(&format!("Content-Length: {announced}\r\n\r\n"));
            let _ = stream.write_all(out.as_bytes());
            while stream.write_all(&chunk).is_ok() {}
        }
    }
}

/// A Graph client for `url` with a static token and these options.
pub(crate) fn client_for(url: &str, options: super::ClientOptions) -> super::GraphClient {
    let tokens = Arc::new(super::TokenProvider::new(
        super::auth::TokenSource::Static {
            token: Some(secrecy::SecretString::from("t")),
            file: None,
        },
    ));
    super::GraphClient::new(url, tokens, options).unwrap()
}

/// Two attempts with millisecond waits, and this byte limit.
pub(crate) fn small(limit: u64) -> super::ClientOptions {
    super::ClientOptions {
        max_response_bytes: limit,
        retry: super::RetryPolicy {
            max_attempts: 2,
            base_backoff: std::time::Duration::from_millis(1),
            max_backoff: std::time::Duration::from_millis(2),
            max_wait: std::time::Duration::from_millis(5),
        },
        page_attempts: 2,
        ..super::ClientOptions::default()
    }
}
