//! Progress bars for forgectl's long commands (`import gitolite` of a large site, `keys sync`
//! at a million keys, `policy apply` of thousands of rules, backup and restore): a bar on
//! stderr saying what is being done, drawn only when stderr is a terminal and forgectl was not
//! given `--quiet`, and one line on stdout at the end saying what was done.
//!
//! The API is four calls, so that any long command can use it the same way:
//!
//! ```no_run
//! use forge::admin::progress::Progress;
//! let progress = Progress::new("writing authorized_keys", 3);
//! progress.set_message("asking forged for the keys");
//! progress.inc(1);
//! progress.finish("wrote 12 key(s) to /home/git/.ssh/authorized_keys");
//! ```
//!
//! A total of 0 shows a spinner rather than a bar, for work whose size is not known. Output
//! written while a bar is shown goes through [`Progress::println`], so it is not drawn over.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns every progress bar of this process off (forgectl's `--quiet`), or on again.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Returns whether bars are drawn in this process: stderr is a terminal and not `--quiet`.
pub fn is_shown() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// One long operation's progress; see the module doc.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts showing `what` is being done, out of `total` steps (0: unknown, a spinner).
    pub fn new(what: &str, total: u64) -> Progress {
        if !is_shown() {
            return Progress { bar: None };
        }
        let bar = if total == 0 {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                    .expect("the template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{prefix}: [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar
        };
        bar.set_prefix(what.to_owned());
        bar.tick();
        Progress { bar: Some(bar) }
    }

    /// Counts `steps` more done.
    pub fn inc(&self, steps: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(steps);
        }
    }

    /// Says which part is being done now.
    pub fn set_message(&self, message: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.into());
            bar.tick();
        }
    }

    /// Prints `line` on stderr above the bar (a warning, say), or plainly when none is shown.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar and prints `summary`, the one line saying what was done, on stdout.
    pub fn finish(self, summary: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        println!("{summary}");
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // A command that fails half way leaves no half-drawn bar above its error line.
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_turns_every_bar_off() {
        set_quiet(true);
        assert!(!is_shown());
        let progress = Progress::new("testing", 10);
        assert!(progress.bar.is_none());
        progress.inc(3);
        progress.set_message("still");
        set_quiet(false);
    }

    #[test]
    fn no_bar_is_drawn_when_stderr_is_not_a_terminal() {
        // Under the test runner stderr is a pipe or a file; if it is a terminal, is_shown
        // says so and this test holds nothing.
        if std::io::stderr().is_terminal() {
            return;
        }
        assert!(Progress::new("testing", 0).bar.is_none());
    }
}
