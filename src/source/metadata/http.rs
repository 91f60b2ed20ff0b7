//! A small HTTP/1.1 GET client for the Task Metadata Endpoint, and nothing else.
//!
//! The endpoint is plain HTTP on a link-local (or loopback) address, answers two GETs per
//! cycle and needs no TLS, proxy, redirect, cookie or compression support. A general
//! client (reqwest on hyper) spent about 60 µs of a 3-container cycle's 430 µs of CPU in
//! request building, URL and header handling, its connection pool and task hand-offs
//! (docs/performance.md); this one writes one request and reads one response on a kept-alive
//! connection. Responses are framed by Content-Length, chunked transfer encoding (the ECS
//! agent, a Go server, chunks large bodies) or the end of the connection.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bodies larger than this are refused (a 500-container task's stats are about 1 MB).
pub(crate) const MAX_BODY_BYTES: usize = 64 << 20;
/// Longest status line and headers.
const MAX_HEAD_BYTES: usize = 64 << 10;
/// Idle connections kept for the next request.
const MAX_IDLE: usize = 2;

/// Why a GET gave no response.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// The whole exchange took longer than the client's timeout.
    Timeout,
    /// Connecting, writing or reading failed.
    Io(io::Error),
    /// The bytes that came back are not an HTTP/1.x response this client can read.
    Protocol(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Timeout => write!(f, "timed out"),
            HttpError::Io(e) => write!(f, "{e}"),
            HttpError::Protocol(why) => write!(f, "invalid HTTP response: {why}"),
        }
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// GETs from one `host:port`. Cheap to clone: clones share the idle connections.
#[derive(Clone)]
pub(crate) struct HttpClient {
    /// `host:port`, as connected to.
    authority: Arc<str>,
    timeout: Duration,
    connect_timeout: Duration,
    idle: Arc<Mutex<Vec<TcpStream>>>,
}

impl HttpClient {
    pub(crate) fn new(authority: &str, timeout: Duration, connect_timeout: Duration) -> HttpClient {
        HttpClient {
            authority: authority.into(),
            timeout,
            connect_timeout,
            idle: Arc::default(),
        }
    }

    /// `GET path` (path and query, starting with `/`), the whole exchange within the timeout.
    pub(crate) async fn get(&self, path: &str) -> Result<Response, HttpError> {
        tokio::time::timeout(self.timeout, self.exchange(path))
            .await
            .unwrap_or(Err(HttpError::Timeout))
    }

    async fn exchange(&self, path: &str) -> Result<Response, HttpError> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nUser-Agent: ecs-emf-exporter/{}\r\n\r\n",
            self.authority,
            env!("CARGO_PKG_VERSION")
        );
        // A kept-alive connection the server has since closed fails before any byte of a
        // response arrives: that is retried once on a new connection.
        if let Some(mut stream) = self.take_idle() {
            match send(&mut stream, request.as_bytes()).await {
                Ok(read) => return self.finish(stream, read),
                Err(Failure::BeforeResponse(_)) => {}
                Err(Failure::During(e)) => return Err(e),
            }
        }
        let mut stream = self.connect().await?;
        match send(&mut stream, request.as_bytes()).await {
            Ok(read) => self.finish(stream, read),
            Err(Failure::BeforeResponse(e) | Failure::During(e)) => Err(e),
        }
    }

    fn finish(&self, stream: TcpStream, read: Read) -> Result<Response, HttpError> {
        if read.reusable {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(stream);
            }
        }
        Ok(read.response)
    }

    fn take_idle(&self) -> Option<TcpStream> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    async fn connect(&self) -> Result<TcpStream, HttpError> {
        let connecting = TcpStream::connect(&*self.authority);
        let stream = match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return Err(HttpError::Io(io::Error::new(
                    e.kind(),
                    format!("cannot connect to {}: {e}", self.authority),
                )));
            }
            Err(_) => {
                return Err(HttpError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "cannot connect to {} within {} ms",
                        self.authority,
                        self.connect_timeout.as_millis()
                    ),
                )));
            }
        };
        // Requests are small and wait for their answer: do not hold them back (Nagle).
        stream.set_nodelay(true).map_err(HttpError::Io)?;
        Ok(stream)
    }
}

struct Read {
    response: Response,
    /// The response was framed and the server did not ask to close: the next request may
    /// use the same connection.
    reusable: bool,
}

enum Failure {
    /// Nothing of a response arrived (a closed idle connection looks like this).
    BeforeResponse(HttpError),
    During(HttpError),
}

async fn send(stream: &mut TcpStream, request: &[u8]) -> Result<Read, Failure> {
    if let Err(e) = stream.write_all(request).await {
        return Err(Failure::BeforeResponse(HttpError::Io(e)));
    }
    read_response(stream).await
}

/// How the body ends.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

struct Head {
    status: u16,
    framing: Framing,
    close: bool,
    /// Bytes after the head that were already read.
    rest: Vec<u8>,
}

async fn read_response(stream: &mut TcpStream) -> Result<Read, Failure> {
    let mut buf = Vec::with_capacity(16 << 10);
    let head = loop {
        let got = read_some(stream, &mut buf).await.map_err(|e| {
            if buf.is_empty() {
                Failure::BeforeResponse(HttpError::Io(e))
            } else {
                Failure::During(HttpError::Io(e))
            }
        })?;
        if got == 0 {
            let e = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed before a complete response head",
            );
            return Err(if buf.is_empty() {
                Failure::BeforeResponse(HttpError::Io(e))
            } else {
                Failure::During(HttpError::Io(e))
            });
        }
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = parse_head(&buf[..end]).map_err(Failure::During)?;
            if (100..200).contains(&head.0) {
                // An interim response (100 Continue): the real one follows.
                buf.drain(..end + 4);
                continue;
            }
            let rest = buf.split_off(end + 4);
            break Head {
                status: head.0,
                framing: head.1,
                close: head.2,
                rest,
            };
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(Failure::During(HttpError::Protocol(format!(
                "no end of headers within {MAX_HEAD_BYTES} bytes"
            ))));
        }
    };
    let reusable = !head.close && !matches!(head.framing, Framing::UntilClose);
    let body = match head.framing {
        Framing::Length(n) => read_length(stream, head.rest, n).await,
        Framing::Chunked => read_chunked(stream, head.rest).await,
        Framing::UntilClose => read_to_close(stream, head.rest).await,
    }
    .map_err(Failure::During)?;
    Ok(Read {
        response: Response {
            status: head.status,
            body,
        },
        reusable,
    })
}

async fn read_some(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(buf.capacity().max(4096));
    }
    stream.read_buf(buf).await
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn protocol(why: impl Into<String>) -> HttpError {
    HttpError::Protocol(why.into())
}

/// Status, framing and whether the server will close, from the status line and headers.
fn parse_head(head: &[u8]) -> Result<(u16, Framing, bool), HttpError> {
    let text = std::str::from_utf8(head).map_err(|_| protocol("headers are not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(protocol(format!("status line {status_line:?}")));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| protocol(format!("status line {status_line:?}")))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = version == "HTTP/1.0";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(protocol(format!("header line {line:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| protocol(format!("Content-Length {value:?}")))?;
            if length.is_some_and(|m| m != n) {
                return Err(protocol("two different Content-Length headers"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            if !chunked {
                return Err(protocol(format!("Transfer-Encoding {value:?}")));
            }
        } else if name.eq_ignore_ascii_case("connection") {
            close = value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"));
        }
    }
    // 204 and 304 have no body whatever the headers say.
    let framing = if status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    Ok((status, framing, close))
}

fn too_large() -> HttpError {
    protocol(format!("body larger than {MAX_BODY_BYTES} bytes"))
}

fn cut_short(got: usize, why: &str) -> HttpError {
    HttpError::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the connection closed after {got} body bytes: {why}"),
    ))
}

async fn read_length(
    stream: &mut TcpStream,
    mut body: Vec<u8>,
    n: usize,
) -> Result<Vec<u8>, HttpError> {
    if n > MAX_BODY_BYTES {
        return Err(too_large());
    }
    if body.len() > n {
        return Err(protocol("more bytes than Content-Length"));
    }
    body.reserve_exact(n - body.len());
    while body.len() < n {
        let got = read_some(stream, &mut body).await.map_err(HttpError::Io)?;
        if got == 0 {
            return Err(cut_short(body.len(), &format!("Content-Length was {n}")));
        }
        if body.len() > n {
            return Err(protocol("more bytes than Content-Length"));
        }
    }
    Ok(body)
}

async fn read_to_close(stream: &mut TcpStream, mut body: Vec<u8>) -> Result<Vec<u8>, HttpError> {
    while read_some(stream, &mut body).await.map_err(HttpError::Io)? > 0 {
        if body.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
    }
    Ok(body)
}

/// Decodes a chunked body: `size[;ext]\r\n data \r\n` … `0\r\n [trailers] \r\n`.
async fn read_chunked(stream: &mut TcpStream, mut raw: Vec<u8>) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    let mut at = 0; // start of the next chunk-size line in `raw`
    loop {
        let line_end = loop {
            if let Some(i) = find(&raw[at..], b"\r\n") {
                break at + i;
            }
            if read_some(stream, &mut raw).await.map_err(HttpError::Io)? == 0 {
                return Err(cut_short(body.len(), "inside a chunk header"));
            }
        };
        let line = std::str::from_utf8(&raw[at..line_end]).map_err(|_| protocol("chunk size"))?;
        let hex = line.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(hex, 16).map_err(|_| protocol(format!("chunk size {hex:?}")))?;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            let mut from = line_end + 2;
            loop {
                if let Some(i) = find(&raw[from..], b"\r\n") {
                    if i == 0 {
                        return Ok(body);
                    }
                    from += i + 2;
                    continue;
                }
                if read_some(stream, &mut raw).await.map_err(HttpError::Io)? == 0 {
                    return Err(cut_short(body.len(), "inside the trailers"));
                }
            }
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(too_large());
        }
        let data = line_end + 2;
        while raw.len() < data + size + 2 {
            if read_some(stream, &mut raw).await.map_err(HttpError::Io)? == 0 {
                return Err(cut_short(body.len(), "inside a chunk"));
            }
        }
        if &raw[data + size..data + size + 2] != b"\r\n" {
            return Err(protocol("chunk not followed by CRLF"));
        }
        body.extend_from_slice(&raw[data..data + size]);
        at = data + size + 2;
        // Keep `raw` small: drop what has been decoded.
        if at > 64 << 10 {
            raw.drain(..at);
            at = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::net::TcpListener;

    use super::*;

    /// A server answering each request with the next canned response, in pieces of at most
    /// `piece` bytes (so heads, chunk sizes and bodies arrive split); `close` closes the
    /// connection after each answer. Returns its `host:port` and the connections accepted.
    async fn serve(answers: Vec<Vec<u8>>, piece: usize, close: bool) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            let mut answers = answers.into_iter();
            'accept: while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                loop {
                    let mut request = Vec::new();
                    while find(&request, b"\r\n\r\n").is_none() {
                        let mut buf = [0u8; 1024];
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => continue 'accept,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let Some(answer) = answers.next() else { return };
                    for part in answer.chunks(piece) {
                        if conn.write_all(part).await.is_err() {
                            continue 'accept;
                        }
                        tokio::task::yield_now().await;
                    }
                    if close {
                        continue 'accept;
                    }
                }
            }
        });
        (addr, accepted)
    }

    fn client(addr: &str) -> HttpClient {
        HttpClient::new(addr, Duration::from_secs(2), Duration::from_secs(1))
    }

    const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    #[tokio::test]
    async fn a_sized_body_is_read_whole_and_the_connection_kept_for_the_next_request() {
        let (addr, accepted) = serve(vec![HELLO.to_vec(), HELLO.to_vec()], 3, false).await;
        let http = client(&addr);
        for _ in 0..2 {
            let r = http.get("/v4/x/task").await.expect("response");
            assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one kept-alive connection"
        );
    }

    #[tokio::test]
    async fn a_chunked_body_with_extensions_and_trailers_is_decoded() {
        let answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
4;name=v\r\n{\"a\"\r\n9\r\n:[1,2,3]}\r\n0\r\nX-Trailer: t\r\n\r\n"
            .to_vec();
        let (addr, accepted) = serve(vec![answer.clone(), answer], 2, false).await;
        let http = client(&addr);
        for _ in 0..2 {
            let r = http.get("/task/stats").await.expect("response");
            assert_eq!(String::from_utf8_lossy(&r.body), "{\"a\":[1,2,3]}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_body_without_length_ends_with_the_connection_which_is_not_reused() {
        let answer =
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such path".to_vec();
        let (addr, accepted) = serve(vec![answer.clone(), answer], 4, true).await;
        let http = client(&addr);
        for _ in 0..2 {
            let r = http.get("/taskWithTags").await.expect("response");
            assert_eq!((r.status, r.body.as_slice()), (404, &b"no such path"[..]));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_idle_connection_the_server_closed_is_replaced_once() {
        // The server answers with Content-Length (reusable) and then closes anyway, as a
        // server's idle timeout does between two polls.
        let (addr, accepted) = serve(vec![HELLO.to_vec(), HELLO.to_vec()], 64, true).await;
        let http = client(&addr);
        assert_eq!(http.get("/task").await.expect("first").body, b"hello");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(http.get("/task").await.expect("second").body, b"hello");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_interim_100_response_is_skipped() {
        let answer = [b"HTTP/1.1 100 Continue\r\n\r\n".as_slice(), HELLO].concat();
        let (addr, _) = serve(vec![answer], 7, false).await;
        let r = client(&addr).get("/task").await.expect("response");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    }

    #[tokio::test]
    async fn bodies_cut_short_and_garbage_are_errors_with_the_reason() {
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Cluster\"".to_vec();
        let (addr, _) = serve(vec![cut], 64, true).await;
        let e = client(&addr).get("/task").await.err().expect("cut short");
        assert!(e.to_string().contains("closed after 10 body bytes"), "{e}");

        let chunk_cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc".to_vec();
        let (addr, _) = serve(vec![chunk_cut], 64, true).await;
        let e = client(&addr)
            .get("/task")
            .await
            .err()
            .expect("cut in a chunk");
        assert!(e.to_string().contains("inside a chunk"), "{e}");

        for garbage in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        ] {
            let (addr, _) = serve(vec![garbage.to_vec()], 64, true).await;
            let e = client(&addr).get("/task").await.err().expect("garbage");
            assert!(matches!(e, HttpError::Protocol(_)), "{e}");
        }
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out_and_a_closed_port_is_unreachable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let http = HttpClient::new(
            &addr,
            Duration::from_millis(200),
            Duration::from_millis(100),
        );
        let started = std::time::Instant::now();
        assert!(matches!(http.get("/task").await, Err(HttpError::Timeout)));
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(listener);
        let e = http.get("/task").await.err().expect("closed port");
        assert!(
            e.to_string().contains("cannot connect to 127.0.0.1:"),
            "{e}"
        );
    }
}
