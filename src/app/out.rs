//! How a command reports: human lines on stdout (warnings on stderr) or JSON log events on
//! stderr for schedulers, and a stdout that may go away without ending the night.

/// Log format: human text, or one JSON object per line on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// How a command reports: human lines on stdout (warnings on stderr), or JSON log events on
/// stderr for schedulers; `--quiet` keeps only warnings and errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Out {
    pub quiet: bool,
    pub format: LogFormat,
}

impl Out {
    /// Reports progress or a result unless `--quiet`.
    pub fn line(&self, text: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        match self.format {
            LogFormat::Text => print_line(text.as_ref()),
            LogFormat::Json => tracing::info!("{}", text.as_ref()),
        }
    }

    /// Reports what one file's ingest did: the sentence for people, and in JSON its counts as
    /// fields (stage, file, batch, rows read / accepted / rejected / duplicate / restated).
    pub fn ingested(&self, r: &crate::ingest::IngestReport, text: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        match self.format {
            LogFormat::Text => print_line(text.as_ref()),
            LogFormat::Json => tracing::info!(
                stage = "ingest",
                file = %r.source,
                batch_id = %r.batch_id,
                already_ingested = r.already_ingested,
                rows_read = r.rows_read,
                rows_accepted = r.rows_accepted,
                rows_rejected = r.rows_rejected,
                rows_duplicate = r.rows_duplicate,
                rows_restated = r.rows_restated,
                "{}",
                text.as_ref()
            ),
        }
    }

    /// Reports the end of a stage of the night with its duration, the model it used or made
    /// and how many accounts it listed (JSON fields: stage, seconds, model_id, listed).
    pub fn stage(&self, e: &StageEvent, text: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        match self.format {
            LogFormat::Text => print_line(text.as_ref()),
            LogFormat::Json => tracing::info!(
                stage = e.stage,
                seconds = e.seconds,
                model_id = e.model_id.unwrap_or(""),
                listed = e.listed,
                scored = e.scored,
                "{}",
                text.as_ref()
            ),
        }
    }

    /// Reports something a person should look at; never silenced.
    pub fn warn(&self, text: impl AsRef<str>) {
        match self.format {
            LogFormat::Text => eprintln!("warning: {}", text.as_ref()),
            LogFormat::Json => tracing::warn!("{}", text.as_ref()),
        }
    }

    /// Reports the error that ends the command, with its exit code.
    pub fn error(&self, text: impl AsRef<str>, exit_code: i32) {
        match self.format {
            LogFormat::Text => eprintln!("error: {}", text.as_ref()),
            LogFormat::Json => tracing::error!(exit_code, "{}", text.as_ref()),
        }
    }

    /// Sets up JSON logging (one object per line on stderr) and progress bars for this format.
    pub fn init(&self) {
        crate::util::progress::enable(self.format == LogFormat::Text && !self.quiet);
        if self.format == LogFormat::Json {
            let _ = tracing_subscriber::fmt()
                .json()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_current_span(false)
                .try_init();
        } else {
            // Lower floors (the engine's retries) warn through `tracing`; in text mode those
            // lines go to stderr like `warn`'s, and nothing below a warning is shown.
            let _ = tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_max_level(log_level())
                .without_time()
                .with_target(false)
                .with_ansi(false)
                .try_init();
        }
    }
}

/// The most detailed level of the text-mode log: `CHURNFLOW_LOG` (`error`, `warn`, `info`,
/// `debug`, `trace`; default `warn`). The cluster processes use it to show what Ballista's
/// scheduler and executors log (their `log` records are forwarded to `tracing`).
fn log_level() -> tracing::Level {
    std::env::var("CHURNFLOW_LOG")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(tracing::Level::WARN)
}

/// The structured fields of a stage's log event.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageEvent<'a> {
    pub stage: &'a str,
    pub seconds: f64,
    pub model_id: Option<&'a str>,
    pub listed: Option<usize>,
    pub scored: Option<usize>,
}

/// Set once stdout can no longer be written (a closed pipe or a failed write).
static STDOUT_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints one line to stdout. A reader that went away (`churnflow run ... | head`) must not stop
/// the night half way: the job's results are its files, its run manifest and its lock's release,
/// so output is dropped from then on and the command finishes and exits as it would have
/// (ripgrep stops searching instead, because its output is its result). Another write error is
/// reported once on stderr, and the command goes on in the same way.
pub fn print_line(text: &str) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{text}").and_then(|_| stdout.flush()) {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("warning: writing to stdout: {e}; further output is dropped");
        }
    }
}
