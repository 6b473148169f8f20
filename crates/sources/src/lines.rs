//! Turns byte offsets of a streamed file into line and column numbers without keeping the file.
//!
//! Written by hand: quick-xml and the csv crate report byte offsets (the csv crate's own line
//! count is off for CR LF files), and no crate maps offsets to lines over a stream in bounded
//! memory. Offsets are asked for in increasing order, so only the line breaks between the last
//! answer and the reader's read-ahead are kept — as runs of evenly spaced breaks, so that a file of
//! millions of blank lines costs one entry, not millions.
//!
//! A line break is LF, CR LF (counted once) or a lone CR.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::Read;

/// Breaks at `first`, `first + step`, … (`count` of them).
#[derive(Debug, Clone, Copy)]
struct Run {
    first: u64,
    step: u64,
    count: u64,
}

pub(crate) struct LineCounter<R> {
    inner: R,
    offset: u64,
    /// A CR ended the last read; whether it is a break depends on the next byte.
    pending_cr: Option<u64>,
    breaks: RefCell<VecDeque<Run>>,
    /// Maximal runs of CR/LF bytes as (start, length): a CSV reader reports a record's start
    /// at the line ending before it, and skips blank lines, so the true start is past the run.
    eol_runs: RefCell<VecDeque<(u64, u64)>>,
    /// Only readers that ask [`locate_record`](Self::locate_record) keep `eol_runs`.
    track_eol: bool,
    line: Cell<u64>,
    line_start: Cell<u64>,
}

impl<R: Read> LineCounter<R> {
    pub fn new(inner: R) -> Self {
        LineCounter {
            inner,
            offset: 0,
            pending_cr: None,
            breaks: RefCell::new(VecDeque::new()),
            eol_runs: RefCell::new(VecDeque::new()),
            track_eol: false,
            line: Cell::new(1),
            line_start: Cell::new(0),
        }
    }

    /// Line (1-based) and byte column (1-based) of `pos`; `pos` never decreases between calls.
    pub fn locate(&self, pos: u64) -> (u64, u64) {
        let mut breaks = self.breaks.borrow_mut();
        while let Some(run) = breaks.front_mut() {
            if run.first >= pos {
                break;
            }
            // How many of this run's breaks lie before pos.
            let k = (pos - 1 - run.first)
                .checked_div(run.step)
                .map_or(1, |q| (q + 1).min(run.count));
            self.line.set(self.line.get() + k);
            self.line_start.set(run.first + run.step * (k - 1) + 1);
            if k == run.count {
                breaks.pop_front();
            } else {
                run.first += run.step * k;
                run.count -= k;
            }
        }
        (
            self.line.get(),
            pos.saturating_sub(self.line_start.get()) + 1,
        )
    }

    /// A counter that can also answer [`locate_record`](Self::locate_record) (CSV).
    pub fn for_records(inner: R) -> Self {
        LineCounter {
            track_eol: true,
            ..LineCounter::new(inner)
        }
    }

    /// Like [`locate`](Self::locate) for a position that may sit on the line ending (and blank
    /// lines) before a record: the answer is for the first byte after them.
    pub fn locate_record(&self, pos: u64) -> (u64, u64) {
        let mut start = pos;
        {
            let mut runs = self.eol_runs.borrow_mut();
            while let Some(&(s, len)) = runs.front() {
                if s + len <= pos {
                    runs.pop_front();
                    continue;
                }
                if s <= pos {
                    start = s + len;
                }
                break;
            }
        }
        self.locate(start)
    }

    fn eol_byte(&self, at: u64) {
        let mut runs = self.eol_runs.borrow_mut();
        match runs.back_mut() {
            Some((s, len)) if *s + *len == at => *len += 1,
            _ => runs.push_back((at, 1)),
        }
    }

    fn record(&self, at: u64) {
        let mut breaks = self.breaks.borrow_mut();
        if let Some(last) = breaks.back_mut() {
            if last.count == 1 && last.step == 0 {
                last.step = at - last.first;
                last.count = 2;
                return;
            }
            if last.first + last.step * last.count == at {
                last.count += 1;
                return;
            }
        }
        breaks.push_back(Run {
            first: at,
            step: 0,
            count: 1,
        });
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let data = &buf[..n];
        if let Some(cr) = self.pending_cr.take() {
            // A CR at the end of the last read: a break of its own unless an LF follows.
            if data.first() != Some(&b'\n') {
                self.record(cr);
            }
        }
        for (i, &b) in data.iter().enumerate() {
            let at = self.offset + i as u64;
            if self.track_eol && (b == b'\n' || b == b'\r') {
                self.eol_byte(at);
            }
            match b {
                b'\n' => self.record(at),
                b'\r' => match data.get(i + 1) {
                    Some(b'\n') => {}
                    Some(_) => self.record(at),
                    None => self.pending_cr = Some(at),
                },
                _ => {}
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(data: &'static [u8]) -> LineCounter<&'static [u8]> {
        let mut lc = LineCounter::new(data);
        let mut sink = Vec::new();
        lc.read_to_end(&mut sink).unwrap();
        lc
    }

    #[test]
    fn locates_lf_crlf_and_cr() {
        let lc = counter(b"ab\ncd\n\nefg");
        assert_eq!(lc.locate(0), (1, 1));
        assert_eq!(lc.locate(4), (2, 2));
        assert_eq!(lc.locate(6), (3, 1));
        assert_eq!(lc.locate(8), (4, 2));
        let lc = counter(b"ab\r\ncd\r\nef");
        assert_eq!(lc.locate(4), (2, 1));
        assert_eq!(lc.locate(8), (3, 1));
        let lc = counter(b"ab\rcd\ref");
        assert_eq!(lc.locate(3), (2, 1));
        assert_eq!(lc.locate(6), (3, 1));
    }

    #[test]
    fn record_starts_skip_line_endings_and_blank_lines() {
        let mut lc = LineCounter::for_records(&b"h\r\na\r\n\r\n\r\nb\n"[..]);
        lc.read_to_end(&mut Vec::new()).unwrap();
        assert_eq!(lc.locate_record(2), (2, 1));
        assert_eq!(lc.locate_record(4), (5, 1));
    }

    #[test]
    fn blank_lines_cost_one_entry() {
        let data: &'static [u8] = Box::leak(
            format!("a{}b", "\n".repeat(1_000_000))
                .into_bytes()
                .into_boxed_slice(),
        );
        let lc = counter(data);
        assert_eq!(lc.breaks.borrow().len(), 1);
        assert_eq!(lc.locate(1_000_001), (1_000_001, 1));
    }

    #[test]
    fn cr_at_a_read_boundary() {
        // A reader that returns one byte at a time.
        struct OneByte(&'static [u8]);
        impl Read for OneByte {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let mut lc = LineCounter::new(OneByte(b"a\r\nb\rc"));
        let mut sink = Vec::new();
        lc.read_to_end(&mut sink).unwrap();
        assert_eq!(lc.locate(3), (2, 1));
        assert_eq!(lc.locate(5), (3, 1));
    }
}
