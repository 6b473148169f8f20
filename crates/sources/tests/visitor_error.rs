//! A visitor's own failure comes back from the reader as itself (its own error type), and a
//! reader's fatal error comes back through `From`, with its typed position.

use ferry_findings::{Finding, Location};
use ferry_sources::{read_input, RawRecord, RawValue, ReadOptions, SourceError, Visitor};
use std::path::Path;

/// The visitor's own error type.
#[derive(Debug)]
enum Stop {
    Full(std::io::Error),
    Source(SourceError),
}

impl From<SourceError> for Stop {
    fn from(e: SourceError) -> Self {
        Stop::Source(e)
    }
}

/// Fails on its first record when `full`, as a spool on a full disk would.
#[derive(Default)]
struct FullDisk {
    full: bool,
    records: u64,
}

impl Visitor for FullDisk {
    type Error = Stop;
    fn record(&mut self, _: RawRecord) -> Result<(), Stop> {
        self.records += 1;
        if !self.full {
            return Ok(());
        }
        Err(Stop::Full(std::io::Error::other("no space left")))
    }
    fn finding(&mut self, _: Finding) -> Result<(), Stop> {
        Ok(())
    }
    fn option(&mut self, _: String, _: RawValue, _: Location) -> Result<(), Stop> {
        Ok(())
    }
}

#[test]
fn the_visitors_failure_is_returned_as_itself() {
    let club = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/club/club.xml");
    let mut v = FullDisk {
        full: true,
        ..FullDisk::default()
    };
    match read_input(&club, &ReadOptions::default(), &mut v) {
        Err(Stop::Full(e)) => assert_eq!(e.to_string(), "no space left"),
        other => panic!("expected the visitor's own error, got {other:?}"),
    }
    assert_eq!(v.records, 1, "the reader stops at the first failure");
}

#[test]
fn a_fatal_reader_error_has_a_typed_position() {
    let dir = std::env::temp_dir().join(format!("ferry-visitor-error-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.xml");
    std::fs::write(&path, "<Import>\n  <Currency Code=\"CAD\">\n</Import>\n").unwrap();
    let mut v = FullDisk::default();
    match read_input(&path, &ReadOptions::default(), &mut v) {
        Err(Stop::Source(SourceError::Malformed { position, message })) => {
            assert_eq!(position.file, path.display().to_string());
            assert!(
                position.line.is_some() && position.column.is_some(),
                "{position:?}"
            );
            assert_eq!(position.field, None);
            assert!(!message.is_empty());
        }
        other => panic!("expected a malformed-file error, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
