//! EMF lines on stdout, for the `awslogs` or FireLens log driver.
//!
//! Encoding happens in the caller (it is fast and pure). A blocking-mode log driver can make
//! stdout slow and polling must not stall behind it, so the caller writes a cycle itself only
//! when it fits at once (`stdout_fd`: stdout in non-blocking mode) and nothing is waiting
//! before it; everything else goes to a dedicated writer thread through a bounded queue.
//! When the queue is full the newest cycle is dropped whole, counted and logged — lines are
//! never cut or interleaved (a line the pipe took only part of is finished by the thread
//! before anything else is written).

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use super::stdout_fd::StdoutFd;
use super::{Counters, DeliveryReport, Output};
use crate::emf::{self, EncoderConfig};
use crate::pipeline::cycle::Cycle;
use crate::pipeline::events::{Change, Ongoing};

/// Cycles that may wait for a slow stdout (at a 60 s interval: an hour).
pub(crate) const QUEUE_CYCLES: usize = 60;

struct Batch {
    bytes: Vec<u8>,
    documents: u64,
    values: u64,
}

pub(crate) struct StdoutOutput {
    encoder: EncoderConfig,
    counters: Arc<Counters>,
    sender: Option<SyncSender<Batch>>,
    done: tokio::sync::oneshot::Receiver<()>,
    /// Whole cycles are being dropped (stdout is not keeping up).
    dropping: Ongoing<()>,
    /// Stdout written by the caller when a cycle fits at once; `None` for a terminal and
    /// for the tests' writers.
    direct: Option<StdoutFd>,
    /// Batches handed to the writer thread and not written yet: the caller writes directly
    /// only when this is 0, so output keeps its order.
    in_thread: Arc<AtomicUsize>,
}

impl StdoutOutput {
    /// Writes to the process's stdout.
    pub(crate) fn new(
        encoder: EncoderConfig,
        counters: Arc<Counters>,
    ) -> std::io::Result<StdoutOutput> {
        match StdoutFd::open() {
            Some(direct) => {
                let writer = Box::new(direct.writer());
                StdoutOutput::start(encoder, counters, writer, Some(direct))
            }
            None => StdoutOutput::with_writer(encoder, counters, Box::new(std::io::stdout())),
        }
    }

    /// Writes to any sink, every cycle through the writer thread (tests).
    pub(crate) fn with_writer(
        encoder: EncoderConfig,
        counters: Arc<Counters>,
        writer: Box<dyn Write + Send>,
    ) -> std::io::Result<StdoutOutput> {
        StdoutOutput::start(encoder, counters, writer, None)
    }

    /// Writes to `direct` when a cycle fits at once, else through the writer thread.
    pub(crate) fn start(
        encoder: EncoderConfig,
        counters: Arc<Counters>,
        mut writer: Box<dyn Write + Send>,
        direct: Option<StdoutFd>,
    ) -> std::io::Result<StdoutOutput> {
        let in_thread = Arc::new(AtomicUsize::new(0));
        let thread_in_thread = Arc::clone(&in_thread);
        let (sender, receiver) = sync_channel::<Batch>(QUEUE_CYCLES);
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let thread_counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("emf-stdout".into())
            .spawn(move || {
                let mut failing = Ongoing::default();
                for batch in receiver {
                    let written = writer.write_all(&batch.bytes).and_then(|()| writer.flush());
                    thread_in_thread.fetch_sub(1, Ordering::AcqRel);
                    match written {
                        Ok(()) => {
                            failing.update(None);
                            Counters::add(&thread_counters.documents, batch.documents);
                            Counters::add(&thread_counters.values, batch.values);
                        }
                        Err(e) => {
                            Counters::add(&thread_counters.dropped_values, batch.values);
                            Counters::add(&thread_counters.errors, 1);
                            if failing.update(Some(())) == Change::Began {
                                tracing::error!(
                                    "cannot write EMF to stdout: {e}; this cycle's values are lost"
                                );
                            }
                        }
                    }
                }
                let _ = done_tx.send(());
            })?;
        Ok(StdoutOutput {
            encoder,
            counters,
            sender: Some(sender),
            done,
            dropping: Ongoing::default(),
            direct,
            in_thread,
        })
    }
}

impl StdoutOutput {
    /// A cycle was written or queued: the end of a stretch of dropped cycles, if any.
    fn accepted(&mut self) {
        if let Change::Ended(()) = self.dropping.update(None) {
            tracing::info!("stdout accepts lines again");
        }
    }
}

impl Output for StdoutOutput {
    fn deliver(&mut self, cycle: Arc<Cycle>) {
        let encoded = emf::encode(&cycle, &self.encoder);
        self.counters.record_rejected(&encoded.rejected);
        if encoded.bytes.is_empty() {
            return;
        }
        let mut batch = Batch {
            bytes: encoded.bytes,
            documents: encoded.documents as u64,
            values: encoded.values as u64,
        };
        if let Some(direct) = &self.direct
            && self.in_thread.load(Ordering::Acquire) == 0
        {
            // Errors (a closed pipe) go to the thread, which reports and counts them.
            let written = direct.write_now(&batch.bytes).unwrap_or(0);
            if written == batch.bytes.len() {
                Counters::add(&self.counters.documents, batch.documents);
                Counters::add(&self.counters.values, batch.values);
                self.accepted();
                return;
            }
            // The rest of a line the pipe took only part of: the thread finishes it first.
            batch.bytes.drain(..written);
        }
        let Some(sender) = &self.sender else { return };
        self.in_thread.fetch_add(1, Ordering::AcqRel);
        match sender.try_send(batch) {
            Ok(()) => self.accepted(),
            Err(TrySendError::Full(batch) | TrySendError::Disconnected(batch)) => {
                self.in_thread.fetch_sub(1, Ordering::AcqRel);
                Counters::add(&self.counters.dropped_values, batch.values);
                if self.dropping.update(Some(())) == Change::Began {
                    tracing::warn!(
                        "stdout is not keeping up ({QUEUE_CYCLES} cycles waiting); dropping whole cycles until it does"
                    );
                }
            }
        }
    }

    fn close(
        mut self: Box<Self>,
        deadline: Duration,
    ) -> Pin<Box<dyn Future<Output = DeliveryReport> + Send>> {
        // Dropping the sender lets the writer finish the queue and stop.
        self.sender = None;
        let counters = Arc::clone(&self.counters);
        Box::pin(async move {
            let flushed = tokio::time::timeout(deadline, self.done).await.is_ok();
            DeliveryReport {
                documents: Counters::get(&counters.documents),
                values: Counters::get(&counters.values),
                dropped_values: Counters::get(&counters.dropped_values),
                flushed,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::cycle::Entity;
    use crate::pipeline::{Level, Sample, catalog};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    /// A stdout whose reader never reads: every write blocks until the test releases it.
    struct Stuck(Arc<AtomicBool>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            while !self.0.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn cycle() -> Arc<Cycle> {
        Arc::new(Cycle {
            timestamp_ms: chrono::Utc::now().timestamp_millis(),
            entities: vec![Entity {
                level: Level::Task,
                dimension_sets: vec![vec![]],
                fields: vec![("Type".into(), "Task".into())],
                samples: vec![
                    Sample {
                        metric: &catalog::CpuUtilized,
                        value: 1.0,
                    },
                    Sample {
                        metric: &catalog::MemoryUtilized,
                        value: 2.0,
                    },
                ],
            }],
        })
    }

    fn encoder() -> EncoderConfig {
        EncoderConfig {
            namespace: "N".into(),
            high_resolution: false,
            max_line_bytes: 16_383,
            log_group: None,
            log_stream: None,
        }
    }

    #[tokio::test]
    async fn a_stuck_stdout_never_blocks_delivery_and_drops_whole_cycles() {
        let release = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let mut out = StdoutOutput::with_writer(
            encoder(),
            Arc::clone(&counters),
            Box::new(Stuck(Arc::clone(&release))),
        )
        .expect("writer thread");
        let started = Instant::now();
        // One cycle is taken by the blocked writer, QUEUE_CYCLES wait, the rest are dropped.
        let total = QUEUE_CYCLES + 11;
        for _ in 0..total {
            out.deliver(cycle());
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "deliver must not wait for stdout"
        );
        let dropped = Counters::get(&counters.dropped_values);
        assert!(
            (2 * 10..=2 * 11).contains(&dropped),
            "whole cycles of 2 values dropped, got {dropped}"
        );
        release.store(true, Ordering::Relaxed);
        let report = Box::new(out).close(Duration::from_secs(5)).await;
        assert!(report.flushed);
        assert_eq!(
            report.values + report.dropped_values,
            2 * total as u64,
            "every value delivered or counted"
        );
    }

    #[tokio::test]
    async fn close_gives_up_at_the_deadline_when_stdout_stays_stuck() {
        let counters = Arc::new(Counters::default());
        let mut out = StdoutOutput::with_writer(
            encoder(),
            counters,
            Box::new(Stuck(Arc::new(AtomicBool::new(false)))),
        )
        .expect("writer thread");
        out.deliver(cycle());
        let started = Instant::now();
        let report = Box::new(out).close(Duration::from_millis(200)).await;
        assert!(!report.flushed);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn lines_reach_the_writer_whole_and_in_order() {
        let sink = Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .map_err(|_| std::io::Error::other("poisoned"))?
                    .extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let counters = Arc::new(Counters::default());
        let mut out = StdoutOutput::with_writer(
            encoder(),
            Arc::clone(&counters),
            Box::new(Shared(Arc::clone(&sink))),
        )
        .expect("writer thread");
        for _ in 0..3 {
            out.deliver(cycle());
        }
        let report = Box::new(out).close(Duration::from_secs(5)).await;
        assert_eq!(
            (report.documents, report.values, report.dropped_values),
            (3, 6, 0)
        );
        let text = String::from_utf8(sink.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(text.lines().count(), 3);
        assert!(
            text.lines()
                .all(|l| l.starts_with("{\"_aws\"") && l.ends_with('}'))
        );
    }

    /// A pipe: (read end, write end), both closed on drop.
    fn pipe() -> (std::fs::File, std::os::fd::OwnedFd) {
        use std::os::fd::FromRawFd;
        let mut fds = [0; 2];
        // SAFETY: pipe fills two descriptors we then own.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
        unsafe {
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::os::fd::OwnedFd::from_raw_fd(fds[1]),
            )
        }
    }

    /// The output writing directly to `write_end`, a pipe shrunk to one page: a 7 KB cycle
    /// only partly fits, so the thread has to finish its line.
    fn output_on_small_pipe(
        write_end: &std::os::fd::OwnedFd,
        counters: &Arc<Counters>,
    ) -> StdoutOutput {
        use std::os::fd::AsRawFd;
        // SAFETY: F_SETPIPE_SZ on a pipe the test owns.
        let size = unsafe { libc::fcntl(write_end.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
        assert_eq!(size, 4096, "pipe size");
        let direct =
            StdoutFd::for_fd(write_end.as_raw_fd()).expect("a pipe can be written directly");
        StdoutOutput::start(
            encoder(),
            Arc::clone(counters),
            Box::new(direct.writer()),
            Some(direct),
        )
        .expect("writer thread")
    }

    /// Cycle `n`: 30 documents, about 7 KB.
    fn numbered_cycle(n: i64) -> Arc<Cycle> {
        let mut c = (*cycle()).clone();
        c.timestamp_ms = 1_700_000_000_000 + n;
        c.entities = vec![c.entities[0].clone(); 30];
        Arc::new(c)
    }

    #[tokio::test]
    async fn a_pipe_nobody_reads_never_blocks_delivery_and_every_line_arrives_whole_in_order() {
        use std::io::Read;
        let (mut read_end, write_end) = pipe();
        let counters = Arc::new(Counters::default());
        let mut out = output_on_small_pipe(&write_end, &counters);
        // 300 cycles of about 7 KB, into a pipe that holds 4 KiB.
        let total = 300;
        let started = Instant::now();
        for n in 0..total {
            out.deliver(numbered_cycle(n));
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "deliver must not wait for a full pipe"
        );
        let dropped = Counters::get(&counters.dropped_values);
        assert!(
            dropped > 0,
            "a full pipe and a full queue drop whole cycles"
        );
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            read_end.read_to_string(&mut text).map(|_| text)
        });
        let report = Box::new(out).close(Duration::from_secs(5)).await;
        assert!(report.flushed);
        drop(write_end);
        let text = reader.join().expect("reader").expect("read");
        let stamps: Vec<i64> = text
            .lines()
            .map(|line| {
                let doc: serde_json::Value = serde_json::from_str(line).expect("a whole JSON line");
                doc["_aws"]["Timestamp"].as_i64().expect("timestamp")
            })
            .collect();
        assert_eq!(stamps.len() as u64, report.documents);
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "cycles in order");
        assert_eq!(stamps.len() % 30, 0, "whole cycles only");
        assert_eq!(
            report.values + report.dropped_values,
            2 * 30 * total as u64,
            "every value written or counted as dropped"
        );
    }

    #[tokio::test]
    async fn with_a_reader_draining_the_pipe_lines_stay_whole_and_in_order() {
        use std::io::Read;
        let (mut read_end, write_end) = pipe();
        let counters = Arc::new(Counters::default());
        let mut out = output_on_small_pipe(&write_end, &counters);
        let reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let mut chunk = [0u8; 1000];
            loop {
                match read_end.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => text.extend_from_slice(&chunk[..n]),
                }
            }
            text
        });
        // The caller and the thread both write while the reader makes room a little at a
        // time: the caller must not write while the thread holds earlier lines.
        for n in 0..300 {
            out.deliver(numbered_cycle(n));
            if n % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let report = Box::new(out).close(Duration::from_secs(10)).await;
        assert!(report.flushed);
        drop(write_end);
        let text = String::from_utf8(reader.join().expect("reader")).expect("UTF-8");
        let mut last = 0;
        for line in text.lines() {
            let doc: serde_json::Value = serde_json::from_str(line).expect("a whole JSON line");
            let stamp = doc["_aws"]["Timestamp"].as_i64().expect("timestamp");
            assert!(stamp >= last, "cycle {stamp} written after {last}");
            last = stamp;
        }
        assert_eq!(text.lines().count() as u64, report.documents);
        assert_eq!(report.values + report.dropped_values, 2 * 30 * 300);
    }

    #[test]
    fn a_pipe_gets_its_blocking_mode_back_and_a_file_is_left_alone() {
        use std::os::fd::AsRawFd;
        let flags = |fd| unsafe { libc::fcntl(fd, libc::F_GETFL) };
        let (_read_end, write_end) = pipe();
        let fd = write_end.as_raw_fd();
        assert_eq!(flags(fd) & libc::O_NONBLOCK, 0);
        let direct = StdoutFd::for_fd(fd).expect("pipe");
        assert_ne!(flags(fd) & libc::O_NONBLOCK, 0, "non-blocking while in use");
        drop(direct);
        assert_eq!(flags(fd) & libc::O_NONBLOCK, 0, "restored");

        let file = tempfile::tempfile().expect("file");
        let before = flags(file.as_raw_fd());
        let direct =
            StdoutFd::for_fd(file.as_raw_fd()).expect("a regular file is written directly");
        assert_eq!(direct.write_now(b"line\n").expect("write"), 5);
        assert_eq!(flags(file.as_raw_fd()), before);
    }
}
