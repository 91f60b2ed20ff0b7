//! The process's stdout as a file descriptor that can be written without ever blocking.
//!
//! Handing each cycle to the writer thread costs a thread wake-up per cycle, about a tenth
//! of the exporter's CPU at a 1 s interval (docs/performance.md). When stdout is a pipe or
//! a socket (a log driver's FIFO) it is switched to non-blocking mode and the run loop
//! writes a cycle itself when the pipe has room; only what does not fit goes to the thread,
//! which waits for room with `poll`. Regular files and `/dev/null` never make a writer wait,
//! so they are written directly as they are. A terminal keeps the thread for every cycle
//! (terminal flow control can stop output, and its mode is shared with the shell).
//!
//! O_NONBLOCK belongs to the open file description, which processes that inherited the
//! same stdout share (in ECS the container's FIFO is the exporter's alone); the original
//! mode is restored when the output closes.

use std::io::{self, Write};
use std::os::fd::RawFd;

/// Stdout, written with `write(2)` directly (no std buffering between the two writers).
pub(crate) struct StdoutFd {
    fd: RawFd,
    /// The file status flags to put back at close when this module added O_NONBLOCK.
    restore_flags: Option<libc::c_int>,
}

impl StdoutFd {
    /// Stdout when it can be written without blocking the caller; `None` for a terminal or
    /// anything unknown, which stay with the writer thread alone.
    pub(crate) fn open() -> Option<StdoutFd> {
        StdoutFd::for_fd(libc::STDOUT_FILENO)
    }

    pub(crate) fn for_fd(fd: RawFd) -> Option<StdoutFd> {
        // SAFETY: fstat fills a zeroed stat buffer we own; `fd` is only inspected.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return None;
        }
        let kind = st.st_mode & libc::S_IFMT;
        // SAFETY: isatty only inspects the descriptor.
        let terminal = unsafe { libc::isatty(fd) } == 1;
        let restore_flags = match kind {
            libc::S_IFREG => None,
            libc::S_IFCHR if !terminal => None,
            libc::S_IFIFO | libc::S_IFSOCK => {
                // SAFETY: F_GETFL/F_SETFL on a descriptor we write to; failures are checked.
                let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
                if flags < 0 {
                    return None;
                }
                if flags & libc::O_NONBLOCK != 0 {
                    None
                } else if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } == 0 {
                    Some(flags)
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        Some(StdoutFd { fd, restore_flags })
    }

    /// Writes as much of `buf` as fits now: `Ok(0)` when nothing does.
    pub(crate) fn write_now(&self, buf: &[u8]) -> io::Result<usize> {
        loop {
            // SAFETY: writes from a slice we borrow, at most its length.
            let n = unsafe { libc::write(self.fd, buf.as_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok(0),
                _ => return Err(e),
            }
        }
    }

    /// Writes all of `buf`, waiting for room when the pipe is full (the writer thread).
    pub(crate) fn write_all_waiting(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write_now(buf)? {
                0 => self.wait_writable()?,
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    fn wait_writable(&self) -> io::Result<()> {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one pollfd we own; -1 waits until the descriptor is writable or fails.
        let rc = unsafe { libc::poll(&mut pfd, 1, -1) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(())
    }

    /// A handle for the writer thread: the same descriptor, without the duty to restore it.
    pub(crate) fn writer(&self) -> StdoutFdWriter {
        StdoutFdWriter(StdoutFd {
            fd: self.fd,
            restore_flags: None,
        })
    }
}

impl Drop for StdoutFd {
    fn drop(&mut self) {
        if let Some(flags) = self.restore_flags {
            // SAFETY: puts back the flags read from this descriptor in `for_fd`.
            unsafe { libc::fcntl(self.fd, libc::F_SETFL, flags) };
        }
    }
}

/// `Write` for the writer thread: every write is whole, waiting for room when needed.
pub(crate) struct StdoutFdWriter(StdoutFd);

impl Write for StdoutFdWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all_waiting(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
