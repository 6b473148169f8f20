//! Turns byte offsets of a streamed file into line and column numbers without keeping the file.
//!
//! Written by hand: quick-xml reports byte offsets only, and no crate maps offsets to lines
//! over a stream in bounded memory. Offsets are asked for in increasing order, so only the
//! newlines between the last answer and the reader's read-ahead are kept.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::Read;

pub(crate) struct LineCounter<R> {
    inner: R,
    offset: u64,
    newlines: RefCell<VecDeque<u64>>,
    line: Cell<u64>,
    line_start: Cell<u64>,
}

impl<R: Read> LineCounter<R> {
    pub fn new(inner: R) -> Self {
        LineCounter {
            inner,
            offset: 0,
            newlines: RefCell::new(VecDeque::new()),
            line: Cell::new(1),
            line_start: Cell::new(0),
        }
    }

    /// Line (1-based) and byte column (1-based) of `pos`; `pos` never decreases between calls.
    pub fn locate(&self, pos: u64) -> (u64, u64) {
        let mut nl = self.newlines.borrow_mut();
        while let Some(&o) = nl.front() {
            if o >= pos {
                break;
            }
            nl.pop_front();
            self.line.set(self.line.get() + 1);
            self.line_start.set(o + 1);
        }
        (
            self.line.get(),
            pos.saturating_sub(self.line_start.get()) + 1,
        )
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut nl = self.newlines.borrow_mut();
        for i in memchr_iter(&buf[..n]) {
            nl.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

fn memchr_iter(buf: &[u8]) -> impl Iterator<Item = usize> + '_ {
    buf.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_across_reads() {
        let data = b"ab\ncd\n\nefg";
        let mut lc = LineCounter::new(&data[..]);
        let mut sink = Vec::new();
        lc.read_to_end(&mut sink).unwrap();
        assert_eq!(lc.locate(0), (1, 1));
        assert_eq!(lc.locate(4), (2, 2));
        assert_eq!(lc.locate(6), (3, 1));
        assert_eq!(lc.locate(8), (4, 2));
    }
}
