//! CSV records one at a time in bounded memory: csv-core parses into buffers that grow only up
//! to the record limit (bytes) and the field limit, so a line of gigabytes is refused once the
//! limit has been read, never after it has been held.
//!
//! The csv crate's `Reader` grows its record without bound (a 2 GiB line took 5 GB before the
//! size could be checked) and keeps 8 bytes per field (a line of commas costs eight times its
//! length); csv-core, on which it is built, leaves the buffers to the caller.

use csv_core::{ReadRecordResult, Reader};
use std::io::{self, BufRead, BufReader, Read};

/// Most fields in one CSV record: the columns a worksheet has (A to XFD).
pub(crate) const MAX_FIELDS: usize = 16_384;

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("the record holds more than {0} bytes")]
    TooLong(usize),
    #[error("the record has more than {0} fields")]
    TooManyFields(usize),
}

pub(crate) struct Records<R> {
    input: BufReader<R>,
    core: Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    nends: usize,
    max_bytes: usize,
    max_fields: usize,
    consumed: u64,
    start: u64,
}

impl<R: Read> Records<R> {
    /// RFC 4180 records (comma, double quote, any line ending) of at most `max_bytes` bytes of
    /// field data and `max_fields` fields.
    pub fn new(input: R, max_bytes: usize, max_fields: usize) -> Records<R> {
        Records {
            input: BufReader::with_capacity(256 * 1024, input),
            core: Reader::new(),
            out: Self::buffer(max_bytes),
            ends: vec![0; 64.min(max_fields.max(1))],
            len: 0,
            nends: 0,
            max_bytes,
            max_fields,
            consumed: 0,
            start: 0,
        }
    }

    /// The record buffer: the limit reserved (not resident until written, and never copied as
    /// it grows), 4 KiB of it in use.
    fn buffer(max_bytes: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(crate::guard::reserve_for(max_bytes as u64));
        out.resize(4096.min(max_bytes.max(1)), 0);
        out
    }

    /// Reads the next record; `false` at the end of the input.
    pub fn next_record(&mut self) -> Result<bool, RecordError> {
        self.len = 0;
        self.nends = 0;
        self.start = self.consumed;
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, nout, nend) = self.core.read_record(
                input,
                &mut self.out[self.len..],
                &mut self.ends[self.nends..],
            );
            self.input.consume(nin);
            self.consumed += nin as u64;
            self.len += nout;
            self.nends += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if self.out.len() >= self.max_bytes {
                        return Err(RecordError::TooLong(self.max_bytes));
                    }
                    let grown = (self.out.len() * 2).min(self.max_bytes);
                    self.out.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= self.max_fields {
                        return Err(RecordError::TooManyFields(self.max_fields));
                    }
                    let grown = (self.ends.len() * 2).min(self.max_fields);
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => return Ok(true),
                ReadRecordResult::End => return Ok(false),
            }
        }
    }

    /// Byte offset where the last record read (or refused) starts, as the csv crate counts it:
    /// the line ending and blank lines before it may be included.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The fields of the last record read.
    pub fn fields(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let ends = &self.ends[..self.nends];
        (0..ends.len()).map(move |i| {
            let from = if i == 0 { 0 } else { ends[i - 1] };
            &self.out[from..ends[i]]
        })
    }

    /// Number of fields of the last record read.
    pub fn field_count(&self) -> usize {
        self.nends
    }

    pub fn get_ref(&self) -> &R {
        self.input.get_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> Vec<Vec<String>> {
        let mut r = Records::new(data, 1 << 20, MAX_FIELDS);
        let mut out = vec![];
        while r.next_record().unwrap() {
            out.push(
                r.fields()
                    .map(|f| String::from_utf8(f.to_vec()).unwrap())
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn reads_rfc_4180() {
        assert_eq!(
            all(b"a,b\r\n\"x,\"\"y\"\"\",\n\nlast"),
            vec![vec!["a", "b"], vec!["x,\"y\"", ""], vec!["last"]]
        );
    }

    #[test]
    fn grows_buffers_up_to_the_limits_only() {
        let long = format!("h\n{}\n", "x".repeat(10_000));
        let mut r = Records::new(long.as_bytes(), 5000, 10);
        assert!(r.next_record().unwrap());
        assert!(matches!(r.next_record(), Err(RecordError::TooLong(5000))));
        assert_eq!(r.start(), 2);
        assert!(r.out.len() <= 5000);
        let commas = format!("{}\n", ",".repeat(100));
        let mut r = Records::new(commas.as_bytes(), 5000, 10);
        assert!(matches!(
            r.next_record(),
            Err(RecordError::TooManyFields(10))
        ));
        let mut r = Records::new(&b"a,b,c\n"[..], 5000, 10);
        assert!(r.next_record().unwrap());
        assert_eq!(r.field_count(), 3);
    }
}
