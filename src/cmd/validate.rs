//! `churnflow validate`: checks the pipeline file and the headers of every input it names, and
//! reports every problem at once, without reading data or writing anything.

use crate::cli::PipelineArgs;
use crate::cmd::{Out, load};
use crate::error::{Error, Result};
use crate::ingest::reader;

/// Runs `validate`.
pub fn run(args: &PipelineArgs, out: Out) -> Result<()> {
    let p = load(&args.pipeline)?;
    let mut inputs = vec![(
        "source",
        &p.source.path,
        p.source.delimiter,
        p.source.columns.mapped(),
    )];
    for t in [&p.customers, &p.arrears, &p.events].into_iter().flatten() {
        inputs.push((t.kind.name(), &t.path, t.delimiter, t.mapped()));
    }
    let mut problems = Vec::new();
    for (section, path, delimiter, wanted) in &inputs {
        match reader::check_header(path, *delimiter, section, wanted) {
            Ok(header) => out.line(format!(
                "ok: [{section}] {} ({} columns)",
                path.display(),
                header.len()
            )),
            Err(e) => problems.push(format!("  - [{section}] {e}")),
        }
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
