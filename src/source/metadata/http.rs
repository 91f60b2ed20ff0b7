//! The HTTP/1.1 GET client for the Task Metadata Endpoint, the ECS agent introspection API
//! and the Docker Engine API, on hyper's client connection API.
//!
//! The endpoints are plain HTTP on a link-local (or loopback) address, or on a unix-domain
//! socket (Docker's `/var/run/docker.sock`), and a client sends one GET at a time, so one
//! kept-alive connection per client is enough: no pool, TLS, proxy, redirect or
//! compression (the Docker client runs several clients for concurrency). hyper does the framing (Content-Length, chunked, close-delimited, interim
//! 1xx answers) and its limits (chunk sizes that overflow, chunk extensions and trailers
//! capped at 16 KiB, header sizes); this module adds what the exporter needs around it: one
//! deadline for the whole exchange, a cap on the body, a connection reused only after a
//! complete answer (never one that timed out or holds unread bytes: hyper closes a connection
//! that receives an answer nobody asked for), and one retry when a kept-alive connection the
//! server closed fails before any answer.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{ACCEPT, HOST, USER_AGENT};
use hyper::{Request, body::Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, UnixStream};

/// The default cap on a body (the metadata endpoint's and the introspection API's): bodies
/// larger than this are refused. ECS allows 10 containers per task definition, whose stats
/// are about 60 KB; the simulator's 500-container tasks are about 1 MB. Other endpoints set
/// their own cap ([`HttpClient::unix`], [`HttpClient::with_max_body`]).
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// Why a GET gave no response.
#[derive(Debug)]
pub enum HttpError {
    /// The whole exchange took longer than the client's timeout.
    Timeout,
    /// Connecting, writing or reading failed.
    Io(io::Error),
    /// The bytes that came back are not an HTTP/1.x response, or not a whole one.
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

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

type Sender = SendRequest<Empty<Bytes>>;

/// Where a client connects.
#[derive(Debug, Clone)]
enum Transport {
    /// `host:port`, as connected to and named in `Host`.
    Tcp(Arc<str>),
    /// A unix-domain socket's path. `Host` is `localhost`: HTTP/1.1 needs one, the server
    /// (Docker) ignores it, and Docker's own Go client sends that.
    Unix(Arc<std::path::Path>),
}

impl Transport {
    fn host_header(&self) -> &str {
        match self {
            Transport::Tcp(authority) => authority,
            Transport::Unix(_) => "localhost",
        }
    }
}

impl std::fmt::Display for Transport {
    /// As named in connection errors: `host:port`, or `unix socket /path`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Tcp(authority) => f.write_str(authority),
            Transport::Unix(path) => write!(f, "unix socket {}", path.display()),
        }
    }
}

/// GETs from one `host:port` or one unix-domain socket. Cheap to clone: clones share the idle
/// connection.
#[derive(Clone)]
pub struct HttpClient {
    transport: Transport,
    timeout: Duration,
    connect_timeout: Duration,
    /// Bodies larger than this are refused ([`MAX_BODY_BYTES`] unless set otherwise).
    max_body: usize,
    /// The kept-alive connection of the last complete exchange.
    idle: Arc<Mutex<Option<Sender>>>,
}

/// Where an exchange failed: before any answer (a kept-alive connection the server closed
/// looks like this, and is worth one retry on a new connection), or during one.
enum Failure {
    BeforeResponse(HttpError),
    During(HttpError),
}

impl HttpClient {
    /// A client for a local endpoint (the task metadata endpoint, the agent's introspection
    /// API): each exchange within `timeout`, connecting within 2 s of it at most (a local
    /// peer that does not accept at once is not there).
    pub(crate) fn local(authority: &str, timeout: Duration) -> HttpClient {
        HttpClient::new(authority, timeout, timeout.min(Duration::from_secs(2)))
    }

    /// A client for `host:port` over TCP, bodies capped at [`MAX_BODY_BYTES`].
    pub fn new(authority: &str, timeout: Duration, connect_timeout: Duration) -> HttpClient {
        HttpClient {
            transport: Transport::Tcp(authority.into()),
            timeout,
            connect_timeout,
            max_body: MAX_BODY_BYTES,
            idle: Arc::default(),
        }
    }

    /// A client for the unix-domain socket at `path` (the Docker Engine API's
    /// `/var/run/docker.sock`), bodies capped at `max_body` bytes.
    pub fn unix(
        path: &std::path::Path,
        timeout: Duration,
        connect_timeout: Duration,
        max_body: usize,
    ) -> HttpClient {
        HttpClient {
            transport: Transport::Unix(path.into()),
            timeout,
            connect_timeout,
            max_body,
            idle: Arc::default(),
        }
    }

    /// The same client with bodies capped at `max_body` bytes instead: the cap bounds what
    /// one answer can make the exporter hold, and the right bound depends on the endpoint.
    #[must_use]
    pub fn with_max_body(mut self, max_body: usize) -> HttpClient {
        self.max_body = max_body;
        self
    }

    /// `GET path` (path and query, starting with `/`), the whole exchange within the timeout.
    pub async fn get(&self, path: &str) -> Result<Response, HttpError> {
        tokio::time::timeout(self.timeout, self.exchange(path))
            .await
            .unwrap_or(Err(HttpError::Timeout))
    }

    async fn exchange(&self, path: &str) -> Result<Response, HttpError> {
        if let Some(sender) = self.take_idle() {
            match self.send(sender, path).await {
                Ok(response) => return Ok(response),
                Err(Failure::BeforeResponse(_)) => {}
                Err(Failure::During(e)) => return Err(e),
            }
        }
        let sender = self.connect().await?;
        match self.send(sender, path).await {
            Ok(response) => Ok(response),
            Err(Failure::BeforeResponse(e) | Failure::During(e)) => Err(e),
        }
    }

    fn take_idle(&self) -> Option<Sender> {
        let sender = self.idle.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        (!sender.is_closed()).then_some(sender)
    }

    async fn connect(&self) -> Result<Sender, HttpError> {
        match &self.transport {
            Transport::Tcp(authority) => {
                let stream = self
                    .within_connect_timeout(TcpStream::connect(&**authority))
                    .await?;
                // Requests are small and wait for their answer: do not hold them back (Nagle).
                stream.set_nodelay(true).map_err(HttpError::Io)?;
                handshake(stream).await
            }
            Transport::Unix(path) => {
                handshake(
                    self.within_connect_timeout(UnixStream::connect(&**path))
                        .await?,
                )
                .await
            }
        }
    }

    /// The stream `connecting` gives within the connect timeout, or why not (naming where).
    async fn within_connect_timeout<S>(
        &self,
        connecting: impl Future<Output = io::Result<S>>,
    ) -> Result<S, HttpError> {
        match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(HttpError::Io(io::Error::new(
                e.kind(),
                format!("cannot connect to {}: {e}", self.transport),
            ))),
            Err(_) => Err(HttpError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "cannot connect to {} within {} ms",
                    self.transport,
                    self.connect_timeout.as_millis()
                ),
            ))),
        }
    }

    async fn send(&self, mut sender: Sender, path: &str) -> Result<Response, Failure> {
        sender
            .ready()
            .await
            .map_err(|e| Failure::BeforeResponse(protocol(&e)))?;
        let request = Request::get(path)
            .header(HOST, self.transport.host_header())
            .header(ACCEPT, "application/json")
            .header(
                USER_AGENT,
                concat!("ecs-emf-exporter/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::<Bytes>::new())
            .map_err(|e| Failure::BeforeResponse(HttpError::Protocol(e.to_string())))?;
        let response = sender.send_request(request).await.map_err(|e| {
            // Nothing of an answer arrived on a connection the server had closed.
            if e.is_canceled() || e.is_closed() || e.is_incomplete_message() {
                Failure::BeforeResponse(protocol(&e))
            } else {
                Failure::During(protocol(&e))
            }
        })?;
        let status = response.status().as_u16();
        let body = read_body(response.into_body(), self.max_body)
            .await
            .map_err(Failure::During)?;
        // Whole, and the server keeps the connection open: the next request may use it.
        if !sender.is_closed() {
            *self.idle.lock().unwrap_or_else(|p| p.into_inner()) = Some(sender);
        }
        Ok(Response { status, body })
    }
}

/// An HTTP/1.1 connection on `stream`, its reading and writing spawned.
async fn handshake<S>(stream: S) -> Result<Sender, HttpError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| protocol(&e))?;
    // The connection's reading and writing: it ends when the sender is dropped, the server
    // closes, or an answer arrives that no request asked for.
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("HTTP connection ended: {e}");
        }
    });
    Ok(sender)
}

fn protocol(e: &hyper::Error) -> HttpError {
    HttpError::Protocol(with_causes(e))
}

/// An error and the errors behind it, on one line (hyper's own message alone says only
/// "error reading a body from connection").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The whole body, at most `max_body` bytes.
async fn read_body(mut body: Incoming, max_body: usize) -> Result<Vec<u8>, HttpError> {
    use hyper::body::Body;
    // Sized once when the length is announced: growing by doubling would hold up to twice
    // the body at the peak.
    let announced = body.size_hint().exact().unwrap_or(0);
    let mut out = Vec::with_capacity(usize::try_from(announced).unwrap_or(0).min(max_body));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            HttpError::Protocol(format!(
                "the body was cut short after {} bytes: {}",
                out.len(),
                with_causes(&e)
            ))
        })?;
        if let Some(data) = frame.data_ref() {
            if out.len() + data.len() > max_body {
                return Err(HttpError::Protocol(format!(
                    "body larger than {max_body} bytes"
                )));
            }
            out.extend_from_slice(data);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

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
        assert!(e.to_string().contains("cut short after 10 bytes"), "{e}");

        let chunk_cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc".to_vec();
        let (addr, _) = serve(vec![chunk_cut], 64, true).await;
        let e = client(&addr)
            .get("/task")
            .await
            .err()
            .expect("cut in a chunk");
        assert!(e.to_string().contains("cut short after"), "{e}");

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

    /// A server for one connection that answers the first request with `head`, then writes
    /// `filler` over and over until the client goes away; returns its address and the bytes
    /// it managed to write.
    async fn endless(head: &'static [u8], filler: &'static [u8]) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let written = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&written);
        tokio::spawn(async move {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            if conn.write_all(head).await.is_err() {
                return;
            }
            while conn.write_all(filler).await.is_ok() {
                count.fetch_add(filler.len(), Ordering::SeqCst);
            }
        });
        (addr, written)
    }

    /// The error a GET of `/task/stats` from `addr` ends with.
    async fn refused(addr: &str) -> HttpError {
        client(addr)
            .get("/task/stats")
            .await
            .err()
            .expect("an error, not a response")
    }

    #[tokio::test]
    async fn a_chunk_size_near_u64_max_after_a_short_chunk_is_an_error_not_a_crash() {
        // The old hand-written client added this size to the body's length and wrapped.
        let answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
5\r\nhello\r\nfffffffffffffffa\r\n"
            .to_vec();
        let (addr, _) = serve(vec![answer], 64, true).await;
        let e = refused(&addr).await;
        assert!(matches!(e, HttpError::Protocol(_)), "{e}");
        let overflow = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
1\r\na\r\n1ffffffffffffffffff\r\n"
            .to_vec();
        let (addr, _) = serve(vec![overflow], 64, true).await;
        let e = refused(&addr).await;
        assert!(e.to_string().contains("overflow"), "{e}");
    }

    #[tokio::test]
    async fn a_chunk_size_line_that_never_ends_is_refused_without_reading_it_all() {
        for filler in [&b";ext=aaaaaaaaaaaaaaaa"[..], b"0000000000000000"] {
            let (addr, written) = endless(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1",
                filler,
            )
            .await;
            let started = std::time::Instant::now();
            let e = refused(&addr).await;
            assert!(matches!(e, HttpError::Protocol(_)), "{e}");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "before the timeout"
            );
            // The client stopped reading long before the server stopped writing: what it
            // held is bounded (hyper caps chunk extensions at 16 KiB).
            tokio::time::sleep(Duration::from_millis(100)).await;
            let sent = written.load(Ordering::SeqCst);
            assert!(sent < 8 << 20, "the client kept reading: {sent} bytes");
        }
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused() {
        let (addr, _) = endless(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n",
            &[b'x'; 4096],
        )
        .await;
        let e = refused(&addr).await;
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    #[tokio::test]
    async fn a_unix_socket_is_read_with_host_localhost_on_one_kept_alive_connection() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&path).expect("bind");
        let (heads, accepted) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicUsize::new(0)),
        );
        let (seen, count) = (Arc::clone(&heads), Arc::clone(&accepted));
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let mut pending = Vec::new();
                    loop {
                        let mut buf = [0u8; 1024];
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                        while let Some(end) = find(&pending, b"\r\n\r\n") {
                            let head: Vec<u8> = pending.drain(..end + 4).collect();
                            seen.lock()
                                .expect("lock")
                                .push(String::from_utf8_lossy(&head).into_owned());
                            if conn.write_all(HELLO).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        let http = HttpClient::unix(&path, Duration::from_secs(2), Duration::from_secs(1), 1024);
        for _ in 0..2 {
            let r = http.get("/containers/abc/json").await.expect("response");
            assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "one kept-alive connection"
        );
        let heads = heads.lock().expect("lock").clone();
        assert_eq!(heads.len(), 2);
        for head in heads {
            let lower = head.to_ascii_lowercase();
            assert!(
                lower.starts_with("get /containers/abc/json http/1.1\r\n"),
                "{head}"
            );
            assert!(lower.contains("\r\nhost: localhost\r\n"), "{head}");
        }

        drop(dir);
        let gone = HttpClient::unix(&path, Duration::from_secs(2), Duration::from_secs(1), 1024);
        let e = gone.get("/info").await.err().expect("no socket");
        let text = e.to_string();
        assert!(text.contains("cannot connect to unix socket "), "{text}");
        assert!(text.contains("docker.sock"), "{text}");
    }

    #[tokio::test]
    async fn the_body_cap_is_per_client() {
        // Five bytes: within a cap of 5, over a cap of 4; the default cap is untouched.
        let (addr, _) = serve(
            vec![HELLO.to_vec(), HELLO.to_vec(), HELLO.to_vec()],
            64,
            true,
        )
        .await;
        let exact = client(&addr).with_max_body(5);
        assert_eq!(
            exact.get("/a").await.expect("within the cap").body,
            b"hello"
        );
        let small = client(&addr).with_max_body(4);
        let e = small.get("/b").await.err().expect("over the cap");
        assert!(e.to_string().contains("body larger than 4 bytes"), "{e}");
        assert_eq!(client(&addr).max_body, MAX_BODY_BYTES);
    }

    #[tokio::test]
    async fn an_answer_nobody_asked_for_is_never_read_as_the_next_one() {
        // The server answers the first request, then sends a second answer at once (a late
        // answer to a request long given up, another task's document), then answers again.
        let first = [HELLO, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"].concat();
        let (addr, accepted) = serve(
            vec![
                first,
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh".to_vec(),
            ],
            64,
            false,
        )
        .await;
        let http = client(&addr);
        assert_eq!(http.get("/task").await.expect("first").body, b"hello");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = http.get("/task").await.expect("second");
        assert_eq!(second.body, b"fresh", "the stale answer was not taken");
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "a new connection");
    }
}
