//! The run's progress on a terminal (stderr), nothing otherwise: while reading, a spinner with
//! the records read so far; then one bar for the whole run — the share of all records
//! processed, the phase, the time since the start and an estimate of the time left.

use crate::text::number;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::cell::Cell;
use std::time::Duration;

pub struct Bar {
    bar: Option<ProgressBar>,
    /// The run this process started or resumed (none when it was refused before).
    run: Cell<Option<i64>>,
    /// Whether the bar shows the whole run yet (after reading, when the total is known).
    whole: Cell<bool>,
    /// Records counted so far: read while reading, then processed in the phases.
    pos: Cell<u64>,
    /// The run's records (every record read is processed once, in one phase).
    len: Cell<u64>,
}

impl Bar {
    pub fn new(terminal: bool) -> Bar {
        let bar = terminal.then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(reading_style());
            b.set_message("reading");
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Bar {
            bar,
            run: Cell::new(None),
            whole: Cell::new(false),
            pos: Cell::new(0),
            len: Cell::new(0),
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
    fn stage(&self, name: &str, _total: u64) {
        // While reading the total is not known yet: the spinner counts (see `planned`).
        if let Some(b) = &self.bar {
            b.set_message(name.to_string());
        }
    }
    fn planned(&self, records: u64) {
        // Every record read goes through the phases once: that is the run's total.
        let Some(b) = &self.bar else { return };
        self.whole.set(true);
        self.len.set(records);
        self.pos.set(0);
        b.set_position(0);
        b.set_length(records);
        b.set_style(run_style());
        b.reset_eta();
    }
    fn advance(&self, n: u64) {
        let Some(b) = &self.bar else { return };
        let pos = self.pos.get() + n;
        self.pos.set(pos);
        if self.whole.get() && pos > self.len.get() {
            self.len.set(pos);
            b.set_length(pos);
        }
        b.inc(n);
    }
}

fn reading_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {msg}: {human_pos} records so far · {elapsed_clock} · {rate}",
    )
    .expect("template")
    .with_key("rate", rate)
    .with_key("elapsed_clock", elapsed)
}

fn run_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {percent:>3}% [{bar:20}] {human_pos}/{human_len} records · {elapsed_clock}, {left} · {rate} · {msg}",
    )
    .expect("template")
    .progress_chars("=> ")
    .with_key("rate", rate)
    .with_key("elapsed_clock", elapsed)
    .with_key("left", left)
}

/// `12,345 records/s`: whole records.
fn rate(s: &ProgressState, w: &mut dyn std::fmt::Write) {
    let r = s.per_sec();
    let r = if r.is_finite() && r > 0.0 {
        r.round() as u64
    } else {
        0
    };
    let _ = write!(w, "{} records/s", number(r));
}

fn elapsed(s: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{} elapsed", clock(s.elapsed()));
}

/// The estimate of the time left, once there is something to estimate from.
fn left(s: &ProgressState, w: &mut dyn std::fmt::Write) {
    if s.pos() == 0 || s.per_sec() <= 0.0 {
        let _ = w.write_str("estimating what is left");
    } else {
        let _ = write!(w, "about {} left", clock(s.eta()));
    }
}

/// `1h 02m`, `3m 05s`, `12s`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::clock;
    use std::time::Duration;

    #[test]
    fn clocks() {
        assert_eq!(clock(Duration::from_secs(12)), "12s");
        assert_eq!(clock(Duration::from_secs(185)), "3m 05s");
        assert_eq!(clock(Duration::from_secs(3720)), "1h 02m");
    }
}
