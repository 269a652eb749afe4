//! `churnflow validate`: checks the pipeline file and the headers of every input it names, and
//! reports every problem at once, without loading data or writing to the workdir.

use crate::cli::PipelineArgs;
use crate::cmd::{Out, load};
use crate::error::{Error, Result};
use crate::ingest::{self, prepare, read};

/// Runs `validate`.
pub fn run(args: &PipelineArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let mut inputs = vec![(
        "source",
        &p.source.path,
        p.source.format,
        p.source.encoding,
        p.source.columns.mapped(),
    )];
    for t in [&p.customers, &p.arrears, &p.events].into_iter().flatten() {
        inputs.push((t.kind.name(), &t.path, t.format, t.encoding, t.mapped()));
    }
    // Settings that contradict each other are not errors, but one of them does nothing.
    let mut zones = vec![(
        "source",
        p.source.timestamp_format.as_deref(),
        p.source.timezone,
    )];
    for t in [&p.customers, &p.arrears, &p.events].into_iter().flatten() {
        zones.push((t.kind.name(), t.timestamp_format.as_deref(), t.timezone));
    }
    for (section, format, zone) in zones {
        if let Some(f) = format.filter(|f| ingest::validate::format_has_offset(f))
            && zone != crate::ingest::zone::Zone::Utc
        {
            out.warn(format!(
                "{section}.timezone = \"{zone}\" never applies: {section}.timestamp_format \
                 {f:?} reads a UTC offset, so every value carries its own; remove one of them"
            ));
        }
    }
    // Compressed or GBK inputs are staged in the system's temporary folder, never the workdir.
    let staging = std::env::temp_dir().join(format!("churnflow-validate-{}", std::process::id()));
    let mut problems = Vec::new();
    for (section, path, format, encoding, wanted) in &inputs {
        let checked = prepare::expand(path).and_then(|files| {
            for f in &files {
                ingest::read_prepared(f, *encoding, &staging, |staged| {
                    read::check_header(staged, *format, section, wanted)
                })?;
            }
            Ok(files.len())
        });
        match checked {
            Ok(n) => out.line(format!("ok: [{section}] {} ({n} file(s))", path.display())),
            Err(e) => problems.push(format!("  - [{section}] {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&staging);
    match crate::engine::describe(&p.engine) {
        Ok(engine) => out.line(format!("ok: [engine] {engine}")),
        Err(e) => problems.push(format!("  - [engine] {e}")),
    }
    if !problems.is_empty() {
        return Err(Error::Config {
            path: p.file.clone(),
            problems: problems.join("\n"),
        });
    }
    out.line(format!("ok: {} is valid", p.file.display()));
    Ok(())
}
