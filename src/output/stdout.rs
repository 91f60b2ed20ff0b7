//! EMF lines on stdout, for the `awslogs` or FireLens log driver.
//!
//! Encoding happens in the caller (it is fast and pure); writing happens on the console's own
//! thread (`console.rs`), which a blocking log driver may hold up as long as it likes: the
//! caller only queues the cycle, and when the queue (bounded in bytes, `ECS_EMF_BUFFER_BYTES`)
//! is full the newest cycle is dropped whole, counted and logged once. Lines are never cut or
//! interleaved.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::console::Console;
use super::{Counters, DeliveryReport, Output};
use crate::emf::{self, EncoderConfig};
use crate::pipeline::cycle::Cycle;
use crate::pipeline::events::{Change, Ongoing};

pub(crate) struct StdoutOutput {
    encoder: EncoderConfig,
    counters: Arc<Counters>,
    console: Console,
    /// Whole cycles are being dropped (stdout is not keeping up).
    dropping: Ongoing<()>,
}

impl StdoutOutput {
    /// Writes through `console` (the process's stdout, or any writer in tests).
    pub(crate) fn new(encoder: EncoderConfig, counters: Arc<Counters>, console: Console) -> Self {
        StdoutOutput {
            encoder,
            counters,
            console,
            dropping: Ongoing::default(),
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
        let values = encoded.values as u64;
        if self
            .console
            .push_emf(encoded.bytes, encoded.documents as u64, values)
        {
            if let Change::Ended(()) = self.dropping.update(None) {
                tracing::info!("stdout accepts lines again");
            }
            return;
        }
        Counters::add(&self.counters.dropped_values, values);
        if self.dropping.update(Some(())) == Change::Began {
            tracing::warn!(
                "stdout is not keeping up (ECS_EMF_BUFFER_BYTES of lines waiting); dropping whole cycles until it does"
            );
        }
    }

    fn close(
        self: Box<Self>,
        deadline: Duration,
        abort: Arc<Notify>,
    ) -> Pin<Box<dyn Future<Output = DeliveryReport> + Send>> {
        Box::pin(async move {
            let left = self.console.close(deadline, abort).await;
            let c = &self.counters;
            DeliveryReport {
                documents: Counters::get(&c.documents),
                values: Counters::get(&c.values),
                dropped_values: Counters::get(&c.dropped_values),
                left_values: left.values,
                flushed: left.values == 0,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::cycle::Entity;
    use crate::pipeline::{Level, Sample, catalog};
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    /// The output over a console writing to `writer`, with room for `limit` bytes of lines.
    fn output(
        writer: Box<dyn Write + Send>,
        counters: &Arc<Counters>,
        limit: usize,
    ) -> StdoutOutput {
        let console =
            Console::start(writer, None, limit, Arc::clone(counters)).expect("writer thread");
        StdoutOutput::new(encoder(), Arc::clone(counters), console)
    }

    /// `close` with its deadline and no abort.
    async fn close(out: StdoutOutput, deadline: Duration) -> DeliveryReport {
        Box::new(out).close(deadline, Arc::new(Notify::new())).await
    }

    /// The bytes `cycle()` encodes to.
    fn cycle_bytes() -> usize {
        emf::encode(&cycle(), &encoder()).bytes.len()
    }

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
        // Room for 60 cycles' lines.
        let mut out = output(
            Box::new(Stuck(Arc::clone(&release))),
            &counters,
            60 * cycle_bytes(),
        );
        let started = Instant::now();
        // One cycle is taken by the blocked writer, 60 wait, the rest are dropped.
        let total = 60 + 11;
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
        let report = close(out, Duration::from_secs(5)).await;
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
        let mut out = output(
            Box::new(Stuck(Arc::new(AtomicBool::new(false)))),
            &counters,
            1 << 20,
        );
        out.deliver(cycle());
        out.deliver(cycle());
        let started = Instant::now();
        let report = close(out, Duration::from_millis(200)).await;
        assert!(!report.flushed);
        assert!(started.elapsed() < Duration::from_secs(2));
        // The cycle stuck in the write and the one behind it: 2 × 2 values not delivered.
        assert_eq!((report.left_values, report.dropped_values), (4, 4));
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
        let mut out = output(Box::new(Shared(Arc::clone(&sink))), &counters, 1 << 20);
        for _ in 0..3 {
            out.deliver(cycle());
        }
        let report = close(out, Duration::from_secs(5)).await;
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

    /// The output writing to `write_end`, a pipe shrunk to one page (a 7 KB cycle only
    /// partly fits: the write blocks half-way until the reader makes room), with room for
    /// 100 such cycles in the queue.
    fn output_on_small_pipe(
        write_end: &std::os::fd::OwnedFd,
        counters: &Arc<Counters>,
    ) -> StdoutOutput {
        use std::os::fd::AsRawFd;
        // SAFETY: F_SETPIPE_SZ on a pipe the test owns.
        let size = unsafe { libc::fcntl(write_end.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
        assert_eq!(size, 4096, "pipe size");
        let file = std::fs::File::from(write_end.try_clone().expect("dup"));
        let cycle_size = emf::encode(&numbered_cycle(0), &encoder()).bytes.len();
        output(Box::new(file), counters, 100 * cycle_size)
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
        let report = close(out, Duration::from_secs(5)).await;
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
        // The writer blocks half-way through lines while the reader makes room a little at
        // a time.
        for n in 0..300 {
            out.deliver(numbered_cycle(n));
            if n % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let report = close(out, Duration::from_secs(10)).await;
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

    #[tokio::test]
    async fn log_lines_never_land_inside_an_emf_line_when_stdout_and_stderr_are_one_pipe() {
        use std::io::Read;
        let (mut read_end, write_end) = pipe();
        use std::os::fd::AsRawFd;
        // SAFETY: F_SETPIPE_SZ on a pipe the test owns.
        assert_eq!(
            unsafe { libc::fcntl(write_end.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) },
            4096
        );
        let file = || std::fs::File::from(write_end.try_clone().expect("dup"));
        let counters = Arc::new(Counters::default());
        let console = Console::start(
            Box::new(file()),
            Some(Box::new(file())),
            1 << 24,
            Arc::clone(&counters),
        )
        .expect("writer thread");
        let reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let mut chunk = [0u8; 700];
            while let Ok(n) = read_end.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                text.extend_from_slice(&chunk[..n]);
                std::thread::sleep(Duration::from_micros(200));
            }
            text
        });
        let mut out = StdoutOutput::new(encoder(), Arc::clone(&counters), console.clone());
        for n in 0..40 {
            out.deliver(numbered_cycle(n));
            console.push_log(format!("log line {n} of the exporter\n").into_bytes());
        }
        let report = close(out, Duration::from_secs(10)).await;
        assert!(report.flushed);
        drop(write_end);
        let text = String::from_utf8(reader.join().expect("reader")).expect("UTF-8");
        let (mut emf, mut logs) = (0, 0);
        for line in text.lines() {
            if line.starts_with("log line ") {
                logs += 1;
            } else {
                serde_json::from_str::<serde_json::Value>(line).expect("a whole EMF line");
                emf += 1;
            }
        }
        assert_eq!((emf, logs), (40 * 30, 40));
    }
}
