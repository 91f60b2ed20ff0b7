//! The one thread that writes to stdout, and to stderr too when both are the same pipe or
//! file (`2>&1`, one journald socket): whole lines, in order, with ordinary blocking writes,
//! never from the run loop.
//!
//! The run loop hands lines over through a queue bounded in bytes and never waits: a stdout
//! nobody reads fills the queue, then whole cycles are dropped and counted. A single writer
//! means a log line can never land inside an EMF line, whatever the pipe's buffer does with
//! writes longer than `PIPE_BUF`; stdout stays in blocking mode, so nothing else sharing its
//! file description (stderr, another process) is surprised by `EAGAIN`.

use std::collections::VecDeque;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::Counters;

/// Log lines that may wait for a shared stdout/stderr, in bytes, apart from the EMF budget:
/// neither can crowd out the other.
pub(crate) const LOG_BUDGET_BYTES: usize = 1 << 20;

enum Item {
    /// EMF lines of one cycle, written whole or not at all.
    Emf {
        bytes: Vec<u8>,
        documents: u64,
        values: u64,
    },
    /// One of the exporter's own log lines (stderr).
    Log(Vec<u8>),
}

#[derive(Default)]
struct State {
    items: VecDeque<Item>,
    emf_bytes: usize,
    log_bytes: usize,
    /// Values of the cycle the thread is writing now.
    writing_values: u64,
    closing: bool,
    finished: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the writer: something was queued, or closing began.
    work: Condvar,
    /// Tells `close` the writer finished.
    finished: Notify,
    emf_limit: usize,
    counters: Arc<Counters>,
    /// Log lines dropped because their budget was full.
    dropped_log_lines: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the queue itself is still whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a close left undelivered (also counted as dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Left {
    pub(crate) documents: u64,
    pub(crate) values: u64,
}

/// A handle on the writer thread. Clones share it.
#[derive(Clone)]
pub(crate) struct Console {
    shared: Arc<Shared>,
    /// stderr is the same pipe or file as stdout: log lines go through this writer.
    pub(crate) carries_logs: bool,
}

/// Whether descriptors 1 and 2 are the same file (same device and inode: one pipe, one
/// socket, one file).
fn stdout_is_stderr() -> bool {
    let stat = |fd: i32| {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat only writes into the buffer it is given, which is large enough.
        let ok = unsafe { libc::fstat(fd, st.as_mut_ptr()) } == 0;
        // SAFETY: fstat succeeded, so the buffer is initialised.
        ok.then(|| unsafe { st.assume_init() })
            .map(|s| (s.st_dev, s.st_ino))
    };
    let (out, err) = (
        stat(std::io::stdout().as_raw_fd()),
        stat(std::io::stderr().as_raw_fd()),
    );
    out.is_some() && out == err
}

impl Console {
    /// The writer for the process's own stdout (and stderr, when it is the same file).
    /// `emf_limit`: bytes of EMF that may wait.
    pub(crate) fn stdout(emf_limit: usize, counters: Arc<Counters>) -> std::io::Result<Console> {
        let shared_with_stderr = stdout_is_stderr();
        Console::start(
            Box::new(std::io::stdout()),
            shared_with_stderr.then(|| Box::new(std::io::stderr()) as Box<dyn Write + Send>),
            emf_limit,
            counters,
        )
    }

    /// Writes EMF to `out` and, when given, log lines to `log` (tests give any writers).
    pub(crate) fn start(
        out: Box<dyn Write + Send>,
        log: Option<Box<dyn Write + Send>>,
        emf_limit: usize,
        counters: Arc<Counters>,
    ) -> std::io::Result<Console> {
        let carries_logs = log.is_some();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            finished: Notify::new(),
            emf_limit,
            counters,
            dropped_log_lines: Default::default(),
        });
        let thread = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("emf-stdout".into())
            .spawn(move || write_loop(&thread, out, log))?;
        Ok(Console {
            shared,
            carries_logs,
        })
    }

    /// Queues one cycle's lines; never waits. `false`: the queue is full and the cycle is
    /// dropped (the caller counts it).
    pub(crate) fn push_emf(&self, bytes: Vec<u8>, documents: u64, values: u64) -> bool {
        let mut state = self.shared.lock();
        // One cycle is always accepted into an empty queue, however large.
        let fits = state.emf_bytes == 0 || state.emf_bytes + bytes.len() <= self.shared.emf_limit;
        if state.closing || !fits {
            return false;
        }
        state.emf_bytes += bytes.len();
        state.items.push_back(Item::Emf {
            bytes,
            documents,
            values,
        });
        drop(state);
        self.shared.work.notify_one();
        true
    }

    /// Queues one log line; never waits. A line that does not fit its budget is dropped and
    /// counted.
    pub(crate) fn push_log(&self, line: Vec<u8>) {
        let mut state = self.shared.lock();
        if state.closing && state.finished || state.log_bytes + line.len() > LOG_BUDGET_BYTES {
            drop(state);
            self.shared
                .dropped_log_lines
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        state.log_bytes += line.len();
        state.items.push_back(Item::Log(line));
        drop(state);
        self.shared.work.notify_one();
    }

    /// Log lines dropped because stderr (shared with stdout) did not keep up.
    pub(crate) fn dropped_log_lines(&self) -> u64 {
        self.shared
            .dropped_log_lines
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Lets the writer finish what is queued, until `deadline` or `abort`; returns what was
    /// left (counted as dropped). A writer stuck in a write is left behind: the process is
    /// about to exit.
    pub(crate) async fn close(&self, deadline: Duration, abort: Arc<Notify>) -> Left {
        let finished = self.shared.finished.notified();
        tokio::pin!(finished);
        // Registered before the flag is read, so a finish in between is not missed.
        finished.as_mut().enable();
        let already = {
            let mut state = self.shared.lock();
            state.closing = true;
            state.finished
        };
        self.shared.work.notify_one();
        if !already {
            tokio::select! {
                _ = &mut finished => {}
                _ = abort.notified() => {}
                _ = tokio::time::sleep(deadline) => {}
            }
        }
        let mut state = self.shared.lock();
        let mut left = Left {
            documents: 0,
            values: state.writing_values,
        };
        for item in state.items.drain(..) {
            if let Item::Emf {
                documents, values, ..
            } = item
            {
                left.documents += documents;
                left.values += values;
            }
        }
        state.writing_values = 0;
        state.emf_bytes = 0;
        Counters::add(&self.shared.counters.dropped_values, left.values);
        left
    }
}

/// Writes queued items until closing with nothing left.
fn write_loop(
    shared: &Shared,
    mut out: Box<dyn Write + Send>,
    mut log: Option<Box<dyn Write + Send>>,
) {
    let mut failing = crate::pipeline::events::Ongoing::default();
    loop {
        let item = {
            let mut state = shared.lock();
            loop {
                if let Some(item) = state.items.pop_front() {
                    match &item {
                        Item::Emf { bytes, values, .. } => {
                            state.emf_bytes -= bytes.len();
                            state.writing_values = *values;
                        }
                        Item::Log(line) => state.log_bytes -= line.len(),
                    }
                    break item;
                }
                if state.closing {
                    state.finished = true;
                    drop(state);
                    shared.finished.notify_one();
                    return;
                }
                state = shared.work.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        };
        match item {
            Item::Emf {
                bytes,
                documents,
                values,
            } => {
                let written = out.write_all(&bytes).and_then(|()| out.flush());
                shared.lock().writing_values = 0;
                let c = &shared.counters;
                match written {
                    Ok(()) => {
                        failing.update(None);
                        Counters::add(&c.documents, documents);
                        Counters::add(&c.values, values);
                    }
                    Err(e) => {
                        Counters::add(&c.dropped_values, values);
                        Counters::add(&c.errors, 1);
                        if failing.update(Some(e.kind())) == crate::pipeline::events::Change::Began
                        {
                            tracing::error!(
                                "cannot write EMF to stdout: {e}; this cycle's values are lost"
                            );
                        }
                    }
                }
            }
            // The log's own failures have nowhere to be said.
            Item::Log(line) => {
                if let Some(log) = log.as_mut() {
                    let _ = log.write_all(&line).and_then(|()| log.flush());
                }
            }
        }
    }
}
