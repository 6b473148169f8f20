//! The readers' side of [`Visitor`](crate::Visitor): one object-safe trait the readers report
//! to, and the adapter that hands a consumer's visitor to them, keeping the visitor's own
//! failure aside as itself (its own error type) while the reader unwinds.

use crate::{Location, RawRecord, RawRow, RawValue, SourceError, Visitor};
use ferry_findings::Finding;

/// What a reader reports to (inside this crate).
pub(crate) trait Sink {
    fn record(&mut self, record: RawRecord) -> Result<(), SourceError>;
    fn finding(&mut self, finding: Finding) -> Result<(), SourceError>;
    fn option(
        &mut self,
        name: String,
        value: RawValue,
        location: Location,
    ) -> Result<(), SourceError>;
    fn part(&mut self, name: &str, read: bool, headers: &[String]);
    fn raw_row(&mut self, row: RawRow<'_>) -> Result<(), SourceError>;
    /// The reader's own failure comes first: a failure of the visitor meanwhile is dropped
    /// (the workbook check, which ran before the visitor was called, refuses the input).
    fn overrule(&mut self) {}
}

/// A consumer's visitor, reported to by a reader. A failure of the visitor stops the reader
/// (as [`SourceError::Stopped`]) and is kept here, to be returned as itself.
pub(crate) struct Stash<'a, V: Visitor + ?Sized> {
    visitor: &'a mut V,
    failed: Option<V::Error>,
}

impl<'a, V: Visitor + ?Sized> Stash<'a, V> {
    pub fn new(visitor: &'a mut V) -> Self {
        Stash {
            visitor,
            failed: None,
        }
    }

    /// The reader's result, with the visitor's own failure when it was the cause.
    pub fn outcome<T>(self, read: Result<T, SourceError>) -> Result<T, V::Error> {
        match (read, self.failed) {
            (_, Some(e)) => Err(e),
            (Ok(t), None) => Ok(t),
            (Err(e), None) => Err(V::Error::from(e)),
        }
    }

    fn keep(&mut self, r: Result<(), V::Error>) -> Result<(), SourceError> {
        r.map_err(|e| {
            self.failed = Some(e);
            SourceError::Stopped
        })
    }
}

impl<V: Visitor + ?Sized> Sink for Stash<'_, V> {
    fn record(&mut self, record: RawRecord) -> Result<(), SourceError> {
        let r = self.visitor.record(record);
        self.keep(r)
    }
    fn finding(&mut self, finding: Finding) -> Result<(), SourceError> {
        let r = self.visitor.finding(finding);
        self.keep(r)
    }
    fn option(
        &mut self,
        name: String,
        value: RawValue,
        location: Location,
    ) -> Result<(), SourceError> {
        let r = self.visitor.option(name, value, location);
        self.keep(r)
    }
    fn part(&mut self, name: &str, read: bool, headers: &[String]) {
        self.visitor.part(name, read, headers);
    }
    fn raw_row(&mut self, row: RawRow<'_>) -> Result<(), SourceError> {
        let r = self.visitor.raw_row(row);
        self.keep(r)
    }
    fn overrule(&mut self) {
        self.failed = None;
    }
}
