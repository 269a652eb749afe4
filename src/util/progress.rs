//! Progress bars for long stages. They are drawn on stderr only when it is a terminal and the
//! command runs with human logs; otherwise every bar is hidden and costs nothing.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns bars on (human logs on a terminal, not `--quiet`) or off.
pub fn enable(on: bool) {
    ENABLED.store(on && std::io::stderr().is_terminal(), Ordering::Relaxed);
}

/// A bar of `len` steps labelled `what`, hidden unless bars are enabled.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    if !ENABLED.load(Ordering::Relaxed) || len < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>22} [{bar:30}] {pos}/{len} {elapsed_precise}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}
