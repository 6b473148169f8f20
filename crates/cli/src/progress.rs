//! A progress bar on a terminal, nothing otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::cell::Cell;

pub struct Bar {
    bar: Option<ProgressBar>,
    /// The run this process started or resumed (none when it was refused before).
    run: Cell<Option<i64>>,
}

impl Bar {
    pub fn new(terminal: bool) -> Bar {
        let bar = terminal.then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg:<20} [{bar:30}] {pos}/{len} ({per_sec})",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            b
        });
        Bar {
            bar,
            run: Cell::new(None),
        }
    }
    pub fn run(&self) -> Option<i64> {
        self.run.get()
    }
    pub fn clear(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl ferry_engine::Progress for Bar {
    fn started(&self, run: i64) {
        self.run.set(Some(run));
    }
    fn stage(&self, name: &str, total: u64) {
        if let Some(b) = &self.bar {
            b.set_message(name.to_string());
            b.set_length(total);
            b.set_position(0);
        }
    }
    fn advance(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
}
