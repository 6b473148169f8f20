//! A reader that stops a stream as soon as one unit of it (an XML event, a workbook part) grows
//! past its budget, before the consumer above it has buffered the unit in memory.
//!
//! quick-xml and calamine hold a whole event (a start tag with all its attributes, a text run,
//! a comment) in one buffer, and no crate bounds that buffer. Checking a length afterwards is
//! too late: a 2 GiB attribute is already in memory. This wrapper sits under the consumer's
//! `BufReader` and counts the bytes it hands up. The consumer marks where each unit starts
//! ([`Budgeted::mark`], e.g. quick-xml's `buffer_position()` before each event); once more than
//! `unit + slack` bytes have been handed up since the mark — `slack` being the read-ahead of the
//! buffer in between — the consumer has taken more than `unit` bytes of that unit, and the next
//! read fails with [`OverBudget`]. Written by hand because it needs no parsing at all: the
//! consumer already knows where its units start, and the counting is two integers.

use std::cell::Cell;
use std::io::{self, Read};

/// The capacity to reserve for a buffer that holds one unit of at most `unit` bytes: reserved
/// memory is not resident until written, and a buffer that never grows leaves no trail of
/// freed doubling blocks (capped, in case a limit is set very high).
pub(crate) fn reserve_for(unit: u64) -> usize {
    const CAP: u64 = 256 << 20;
    (unit.min(CAP) as usize) + 128 * 1024
}

/// Which budget a stream went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overrun {
    /// One unit, which started at this byte offset, is over the unit budget.
    Unit { start: u64 },
    /// The whole stream is over the total budget.
    Total,
}

/// The error a [`Budgeted`] read returns once a budget is exceeded (inside an `io::Error`).
#[derive(Debug, thiserror::Error)]
#[error("over the reader's budget")]
pub(crate) struct OverBudget;

pub(crate) struct Budgeted<R> {
    inner: R,
    delivered: u64,
    mark: Cell<u64>,
    unit: u64,
    slack: u64,
    total: u64,
    overrun: Cell<Option<Overrun>>,
}

impl<R: Read> Budgeted<R> {
    /// At most `unit` bytes from a mark to the consumer's position, at most `total` bytes in
    /// all; `slack` is the read-ahead of the buffer between this reader and the consumer.
    pub fn new(inner: R, unit: u64, slack: u64, total: u64) -> Budgeted<R> {
        Budgeted {
            inner,
            delivered: 0,
            mark: Cell::new(0),
            unit,
            slack,
            total,
            overrun: Cell::new(None),
        }
    }

    /// A new unit starts at byte `at` of the stream (as the consumer counts it).
    pub fn mark(&self, at: u64) {
        self.mark.set(at);
    }

    /// The budget that stopped the stream, if one did.
    pub fn overrun(&self) -> Option<Overrun> {
        self.overrun.get()
    }

    /// Bytes handed up so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let since_mark = self.delivered.saturating_sub(self.mark.get());
        let over = if since_mark > self.unit.saturating_add(self.slack) {
            Some(Overrun::Unit {
                start: self.mark.get(),
            })
        } else if self.delivered > self.total {
            Some(Overrun::Total)
        } else {
            None
        };
        if let Some(o) = over {
            self.overrun.set(Some(o));
            return Err(io::Error::other(OverBudget));
        }
        let n = self.inner.read(buf)?;
        self.delivered += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(r: &mut impl Read, chunk: usize) -> io::Result<u64> {
        let mut buf = vec![0u8; chunk];
        let mut n = 0;
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(n),
                k => n += k as u64,
            }
        }
    }

    #[test]
    fn a_unit_over_its_budget_stops_the_stream() {
        let data = vec![b'x'; 10_000];
        let mut g = Budgeted::new(&data[..], 1000, 100, u64::MAX);
        let err = drain(&mut g, 64).unwrap_err();
        assert!(err.get_ref().is_some_and(|e| e.is::<OverBudget>()));
        assert_eq!(g.overrun(), Some(Overrun::Unit { start: 0 }));
        // It stopped within one read of the budget.
        assert!(g.delivered() <= 1000 + 100 + 64);
    }

    #[test]
    fn marks_keep_a_stream_of_small_units_going() {
        let data = vec![b'x'; 100_000];
        let mut g = Budgeted::new(&data[..], 1000, 100, u64::MAX);
        let mut buf = [0u8; 50];
        loop {
            let n = g.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            g.mark(g.delivered());
        }
        assert_eq!(g.overrun(), None);
    }

    #[test]
    fn the_total_is_counted_not_taken_from_a_header() {
        let data = vec![b'x'; 10_000];
        let mut g = Budgeted::new(&data[..], u64::MAX, 0, 5000);
        assert!(drain(&mut g, 1000).is_err());
        assert_eq!(g.overrun(), Some(Overrun::Total));
    }
}
