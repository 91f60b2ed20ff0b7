//! The agent's end of the wire: a TCP connection or a connected UDP socket, and what each
//! can tell about the lines sent on it.
//!
//! A line handed to the kernel is not a delivered line. Each link keeps the lines it sent
//! until it can give each a verdict ([`Settled`]): delivered, to send again (the agent
//! certainly never had it), or unknown (it may or may not have been read; never counted
//! as delivered, never sent again so it cannot arrive twice).

use std::collections::VecDeque;
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;

use super::Line;
use crate::settings::AgentEndpoint;

/// How long a sent line waits before it counts as delivered: an agent that resets or
/// closes the connection right after taking part of the stream, or a port that refuses a
/// datagram, shows it well within that time on a local network.
pub(super) const CONFIRM_AFTER: Duration = Duration::from_millis(250);
/// The send buffer asked for. The kernel doubles it for its bookkeeping (socket(7),
/// `SO_SNDBUF`), so about this many bytes of lines fit; every line (at most 256 KiB) fits
/// whole, and a line is written only when it does.
const SEND_BUFFER: u32 = 1 << 20;
/// Connecting and resolving: a peer that does not answer within this is down for now.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the agent may read nothing before that is said.
pub(super) const STALL_NOTICE: Duration = Duration::from_secs(5);

/// A sent line and what is needed to judge it.
struct Sent {
    line: Line,
    /// TCP: the connection's byte count once this line was written.
    end: u64,
    at: Instant,
}

/// The verdicts settling a link gave.
#[derive(Default)]
pub(super) struct Settled {
    pub(super) delivered: Vec<Line>,
    /// The agent certainly does not have them: they go back in front of the backlog.
    pub(super) resend: Vec<Line>,
    /// They may or may not have been read.
    pub(super) unknown: Vec<Line>,
    /// The link is no longer usable, and why.
    pub(super) broken: Option<Broken>,
}

/// Why a link is no longer usable.
pub(super) enum Broken {
    /// The agent closed or reset the TCP connection (it may be restarting).
    Ended(std::io::Error),
    /// Nothing listens at the UDP port.
    Refused(std::io::Error),
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Ended(e) | Broken::Refused(e) => e.fmt(f),
        }
    }
}

/// Why a line could not be written.
pub(super) enum SendError {
    /// The link failed; the line was not sent (or only a part of it: the link is then
    /// reset, so the agent sees an error, not a line's end).
    Failed(std::io::Error, Line),
    /// The agent has read nothing for [`STALL_NOTICE`]; the line waits and is offered again.
    Stalled(Line),
}

pub(super) enum Link {
    Tcp(Tcp),
    Udp(Udp),
}

impl Link {
    pub(super) async fn open(endpoint: &AgentEndpoint) -> std::io::Result<Link> {
        use crate::settings::Transport;
        let addr = tokio::time::timeout(CONNECT_TIMEOUT, resolve(endpoint))
            .await
            .map_err(|_| timed_out("resolving the agent's address"))??;
        Ok(match endpoint.transport {
            Transport::Tcp => Link::Tcp(Tcp::open(addr).await?),
            Transport::Udp => Link::Udp(Udp::open(addr).await?),
        })
    }

    pub(super) async fn send(&mut self, line: Line) -> Result<(), SendError> {
        match self {
            Link::Tcp(t) => t.send(line).await,
            Link::Udp(u) => u.send(line).await,
        }
    }

    /// Gives the lines sent their verdicts as far as can be told now. `ending`: the link
    /// is being given up, so every line gets one.
    pub(super) fn settle(&mut self, ending: bool) -> Settled {
        match self {
            Link::Tcp(t) => t.settle(ending),
            Link::Udp(u) => u.settle(ending),
        }
    }

    pub(super) fn waiting(&self) -> bool {
        match self {
            Link::Tcp(t) => !t.sent.is_empty(),
            Link::Udp(u) => !u.sent.is_empty(),
        }
    }
}

fn timed_out(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, format!("{what} timed out"))
}

async fn resolve(endpoint: &AgentEndpoint) -> std::io::Result<std::net::SocketAddr> {
    tokio::net::lookup_host(&endpoint.address)
        .await?
        .next()
        .ok_or_else(|| {
            std::io::Error::other(format!("{} resolves to no address", endpoint.address))
        })
}

/// A TCP connection to the agent. A line counts as delivered once the agent's host has
/// acknowledged all its bytes (the send queue, `SIOCOUTQ`, no longer holds them) and the
/// connection was still open [`CONFIRM_AFTER`] after it was written. Acknowledged lines of
/// a connection the agent then closed or reset are unknown: an agent that takes a buffer
/// and closes may have thrown part of it away. Lines never acknowledged are sent again.
pub(super) struct Tcp {
    stream: TcpStream,
    written: u64,
    sent: VecDeque<Sent>,
    /// A line was only partly written (the task was stopped mid-write, or the write
    /// failed): the connection must end with a reset, not a close.
    cut: bool,
}

/// How a TCP connection's peer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Open,
    Closed,
    Reset(std::io::ErrorKind),
}

impl Tcp {
    async fn open(addr: std::net::SocketAddr) -> std::io::Result<Tcp> {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_send_buffer_size(SEND_BUFFER)?;
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(addr))
            .await
            .map_err(|_| timed_out("connecting to the agent"))??;
        stream.set_nodelay(true)?;
        Ok(Tcp {
            stream,
            written: 0,
            sent: VecDeque::new(),
            cut: false,
        })
    }

    /// Bytes written that the peer's host has not acknowledged yet (sent or not).
    fn not_acknowledged(&self) -> std::io::Result<u64> {
        let mut queued: libc::c_int = 0;
        // SAFETY: SIOCOUTQ (TIOCOUTQ, tcp(7)) writes one int, into `queued`.
        if unsafe { libc::ioctl(self.stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(u64::try_from(queued).unwrap_or(0))
    }

    /// The bytes of lines the send buffer holds: half what `SO_SNDBUF` reports, the other
    /// half being the kernel's bookkeeping (socket(7)).
    fn capacity(&self) -> u64 {
        let mut size: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: SO_SNDBUF writes one int, into `size`, whose length `len` gives.
        let ok = unsafe {
            libc::getsockopt(
                self.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&mut size as *mut libc::c_int).cast(),
                &mut len,
            )
        } == 0;
        if ok {
            u64::try_from(size).unwrap_or(0) / 2
        } else {
            0
        }
    }

    /// Whether the peer closed or reset the connection (an agent sends nothing otherwise).
    fn peer(&self) -> Peer {
        let mut probe = [0u8; 64];
        match self.stream.try_read(&mut probe) {
            Ok(0) => Peer::Closed,
            Err(e) if e.kind() != std::io::ErrorKind::WouldBlock => Peer::Reset(e.kind()),
            _ => Peer::Open,
        }
    }

    fn settle(&mut self, ending: bool) -> Settled {
        let peer = self.peer();
        let acked = self
            .not_acknowledged()
            .map(|queued| self.written.saturating_sub(queued))
            .unwrap_or(0);
        let gone = peer != Peer::Open || ending;
        let mut out = Settled::default();
        while let Some(first) = self.sent.front() {
            let acknowledged = first.end <= acked;
            let verdict = if !acknowledged && gone {
                &mut out.resend
            } else if acknowledged && peer == Peer::Open && first.at.elapsed() >= CONFIRM_AFTER {
                &mut out.delivered
            } else if acknowledged && gone {
                &mut out.unknown
            } else {
                break;
            };
            if let Some(s) = self.sent.pop_front() {
                verdict.push(s.line);
            }
        }
        out.broken = match peer {
            Peer::Open => None,
            Peer::Closed => Some(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "the agent closed the connection",
            )),
            Peer::Reset(kind) => Some(std::io::Error::new(kind, "the agent reset the connection")),
        }
        .map(Broken::Ended);
        out
    }

    /// Writes `line` whole once the send buffer has room for all of it, so a line is never
    /// left half-written by an agent that stops reading. Lines already written stay where
    /// they are: an agent that reads again later gets them whole, and closing the
    /// connection ends it at a line's end.
    async fn send(&mut self, line: Line) -> Result<(), SendError> {
        let started = Instant::now();
        let size = line.bytes.len() as u64;
        let mut pause = Duration::from_millis(10);
        loop {
            let queued = match self.not_acknowledged() {
                Ok(q) => q,
                Err(e) => return Err(SendError::Failed(e, line)),
            };
            if queued + size <= self.capacity().max(size) {
                break;
            }
            if let Some(e) = self.settle_peer() {
                return Err(SendError::Failed(e, line));
            }
            if started.elapsed() >= STALL_NOTICE {
                return Err(SendError::Stalled(line));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
        self.cut = true;
        let mut done = 0;
        while done < line.bytes.len() {
            match self.stream.write(&line.bytes[done..]).await {
                Ok(0) => {
                    return Err(SendError::Failed(
                        std::io::ErrorKind::WriteZero.into(),
                        line,
                    ));
                }
                Ok(n) => {
                    done += n;
                    // Counted as it goes: acknowledgements are told from this.
                    self.written += n as u64;
                }
                Err(e) => return Err(SendError::Failed(e, line)),
            }
        }
        self.cut = false;
        self.sent.push_back(Sent {
            line,
            end: self.written,
            at: Instant::now(),
        });
        Ok(())
    }

    /// While waiting for room: the error, if the peer is gone.
    fn settle_peer(&self) -> Option<std::io::Error> {
        match self.peer() {
            Peer::Open => None,
            Peer::Closed => Some(std::io::ErrorKind::ConnectionAborted.into()),
            Peer::Reset(kind) => Some(kind.into()),
        }
    }
}

impl Drop for Tcp {
    /// A connection that ends mid-line ends with a reset (`SO_LINGER` 0): the unsent rest
    /// is thrown away, and the agent sees an error rather than a close it would take for
    /// the end of a line. Otherwise it closes normally and the kernel still delivers what
    /// it holds, which ends at a line's end.
    #[allow(
        deprecated,
        reason = "tokio deprecates set_linger because a non-zero linger blocks the thread when the socket is dropped; a zero linger resets at once"
    )]
    fn drop(&mut self) {
        if self.cut {
            let _ = self.stream.set_linger(Some(Duration::ZERO));
        }
    }
}

/// A connected UDP socket. A datagram counts as delivered once [`CONFIRM_AFTER`] passed
/// without a refusal: the kernel reports an ICMP port unreachable on a connected socket as
/// a pending error (`SO_ERROR`, udp(7)). A refusal sends everything not yet confirmed back
/// to the backlog. Nothing can confirm that a listening agent kept a datagram; the last
/// ones of a run still waiting when the run ends are unknown.
pub(super) struct Udp {
    socket: UdpSocket,
    sent: VecDeque<Sent>,
    /// A send failed: what was sent before it is not confirmed (a refusal pending on the
    /// socket is reported by the send that follows it, and cleared by it).
    failed: Option<std::io::ErrorKind>,
}

impl Udp {
    async fn open(addr: std::net::SocketAddr) -> std::io::Result<Udp> {
        let local = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(addr).await?;
        Ok(Udp {
            socket,
            sent: VecDeque::new(),
            failed: None,
        })
    }

    fn refusal(&self) -> Option<std::io::Error> {
        match self.socket.take_error() {
            Ok(pending) => pending,
            Err(e) => Some(e),
        }
    }

    fn settle(&mut self, ending: bool) -> Settled {
        let mut out = Settled::default();
        if let Some(e) = self
            .refusal()
            .or_else(|| self.failed.take().map(Into::into))
        {
            out.resend = self.sent.drain(..).map(|s| s.line).collect();
            out.broken = Some(Broken::Refused(e));
            return out;
        }
        while let Some(first) = self.sent.front() {
            let verdict = if first.at.elapsed() >= CONFIRM_AFTER {
                &mut out.delivered
            } else if ending {
                &mut out.unknown
            } else {
                break;
            };
            if let Some(s) = self.sent.pop_front() {
                verdict.push(s.line);
            }
        }
        out
    }

    async fn send(&mut self, line: Line) -> Result<(), SendError> {
        // The agent takes a datagram as one document: no newline at its end.
        let datagram = line.bytes.strip_suffix(b"\n").unwrap_or(&line.bytes);
        let sent = tokio::time::timeout(CONNECT_TIMEOUT, self.socket.send(datagram))
            .await
            .unwrap_or_else(|_| Err(timed_out("sending a datagram")));
        match sent {
            Ok(_) => {
                self.sent.push_back(Sent {
                    line,
                    end: 0,
                    at: Instant::now(),
                });
                Ok(())
            }
            Err(e) => {
                self.failed = Some(e.kind());
                Err(SendError::Failed(e, line))
            }
        }
    }
}
