//! The exporter's own logs: always stderr (stdout carries only EMF), text or JSON, through a
//! bounded queue and a thread of their own, so a stderr that does not keep up costs log lines
//! (counted, and said in the last line) but never stops polling.
//!
//! When stderr is the same pipe or file as stdout (`2>&1`, one journald socket), the lines go
//! through the console writer that writes the EMF lines (`output::console`), so a log line can
//! never land inside an EMF line. Otherwise tracing-appender's non-blocking writer carries them.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::output::console::Console;
use crate::settings::LogFormat;

/// Log lines that may wait for stderr before new ones are dropped.
const BUFFERED_LINES: usize = 1000;

/// Where to read how many log lines were dropped.
static DROPPED: OnceLock<Box<dyn Fn() -> u64 + Send + Sync>> = OnceLock::new();
/// Where text for stderr that is not a log event goes (the demo's table): the same way.
static TEXT: OnceLock<Box<dyn Fn(Vec<u8>) + Send + Sync>> = OnceLock::new();

/// Writes `text` to stderr the way log lines go: queued, never waiting, never inside an EMF
/// line.
pub(crate) fn write_text(text: Vec<u8>) {
    if let Some(write) = TEXT.get() {
        write(text);
    }
}

/// Keeps the log writer's thread until the end of `main`, then lets it finish (briefly).
#[must_use = "dropping the guard stops the log writer"]
pub(crate) struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

/// Log lines dropped so far because stderr did not keep up.
pub(crate) fn dropped_lines() -> u64 {
    DROPPED.get().map_or(0, |count| count())
}

/// Installs the logger. `console`: the writer of stdout's EMF, which carries the log lines
/// too when stderr is the same file.
pub(crate) fn init(
    format: LogFormat,
    level: tracing::Level,
    console: Option<&Console>,
) -> LogGuard {
    type Dropped = Box<dyn Fn() -> u64 + Send + Sync>;
    type Text = Box<dyn Fn(Vec<u8>) + Send + Sync>;
    let (writer, guard, dropped, text): (BoxMakeWriter, _, Dropped, Text) =
        match console.filter(|c| c.carries_logs) {
            Some(console) => {
                let (count, lines) = (console.clone(), console.clone());
                (
                    BoxMakeWriter::new(ConsoleLog(console.clone())),
                    None,
                    Box::new(move || count.dropped_log_lines()),
                    Box::new(move |text| lines.push_log(text)),
                )
            }
            None => {
                let (writer, guard) = NonBlockingBuilder::default()
                    .lossy(true)
                    .buffered_lines_limit(BUFFERED_LINES)
                    .thread_name("emf-log")
                    .finish(std::io::stderr());
                let count = writer.error_counter();
                let lines = writer.clone();
                (
                    BoxMakeWriter::new(writer),
                    Some(guard),
                    Box::new(move || count.dropped_lines() as u64),
                    Box::new(move |text: Vec<u8>| {
                        let _ = lines.clone().write_all(&text);
                    }),
                )
            }
        };
    let builder = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_max_level(level)
        .with_target(false)
        .log_internal_errors(false)
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (tests that run commands in-process) keeps the first subscriber.
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        // One flat object per line: `timestamp`, `level`, `message` and the event's own fields
        // at the top level, as ops tools and CloudWatch Logs Insights read JSON logs (they
        // discover top-level keys; a nested `fields.message` is not the message). Spans carry
        // nothing here, so they are left out.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    if installed.is_ok() {
        let _ = DROPPED.set(dropped);
        let _ = TEXT.set(text);
    }
    LogGuard(guard)
}

/// Log lines for the console writer: each event's line is handed over whole when written.
struct ConsoleLog(Console);

impl<'a> MakeWriter<'a> for ConsoleLog {
    type Writer = ConsoleLine;

    fn make_writer(&'a self) -> ConsoleLine {
        ConsoleLine {
            console: self.0.clone(),
            line: Vec::new(),
        }
    }
}

/// One event's formatted line, queued when the formatter is done with it.
struct ConsoleLine {
    console: Console,
    line: Vec<u8>,
}

impl Write for ConsoleLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ConsoleLine {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            self.console.push_log(std::mem::take(&mut self.line));
        }
    }
}
