//! What the fuzz targets share: a [`Visitor`] that only counts, and a scratch folder for the
//! files the readers need (they read paths, not byte slices).
//!
//! The invariant every target checks: whatever the bytes, `read_input` and the value parsers
//! return (an error is fine) without panicking, hanging or exhausting memory.

use ferry_findings::{Finding, Location};
use ferry_sources::{RawRecord, RawValue, ReadOptions, SourceError, Visitor};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Counts what a reader reports; touches each value's display form so it is exercised too.
#[derive(Debug, Default)]
pub struct Count {
    pub records: u64,
    pub findings: u64,
    pub options: u64,
    pub value_bytes: usize,
}

impl Visitor for Count {
    type Error = SourceError;
    fn record(&mut self, record: RawRecord) -> Result<(), SourceError> {
        self.records += 1;
        for f in &record.fields {
            self.value_bytes += f.value.display().len();
        }
        Ok(())
    }

    fn finding(&mut self, finding: Finding) -> Result<(), SourceError> {
        self.findings += 1;
        self.value_bytes += finding.message.len();
        Ok(())
    }

    fn option(
        &mut self,
        _name: String,
        value: RawValue,
        _location: Location,
    ) -> Result<(), SourceError> {
        self.options += 1;
        self.value_bytes += value.display().len();
        Ok(())
    }
}

/// A folder of this process's own, in memory (`/dev/shm`) where there is one.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("ferry-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

/// Writes `data` to `name` in the scratch folder and returns its path.
pub fn write(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("scratch file");
    path
}

/// Reads `path` with the default options and a counting visitor; the result is not judged.
pub fn read(path: &Path, opts: &ReadOptions) {
    let mut count = Count::default();
    let _ = ferry_sources::read_input(path, opts, &mut count);
}

/// Splits a CSV target's input into the flags byte and the two files: byte 0 holds the flags
/// (bit 0: read as windows-1252), bytes 1–2 the little-endian length of `User.csv`; the rest
/// is `User.csv` then `Ledger.csv`. Short inputs give empty files.
pub fn split_csv(data: &[u8]) -> (u8, &[u8], &[u8]) {
    let flags = data.first().copied().unwrap_or(0);
    let rest = data.get(3..).unwrap_or(&[]);
    let len = match data.get(1..3) {
        Some(b) => u16::from_le_bytes([b[0], b[1]]) as usize,
        None => 0,
    };
    let (user, ledger) = rest.split_at(len.min(rest.len()));
    (flags, user, ledger)
}

/// The inverse of [`split_csv`], to build seeds.
pub fn join_csv(flags: u8, user: &[u8], ledger: &[u8]) -> Vec<u8> {
    let len = u16::try_from(user.len()).expect("User.csv seed under 64 KiB");
    let mut v = vec![flags];
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(user);
    v.extend_from_slice(ledger);
    v
}

/// The options a CSV input is read with, from its flags byte.
pub fn csv_options(flags: u8) -> ReadOptions {
    ReadOptions {
        encoding: (flags & 1 == 1).then_some(encoding_rs::WINDOWS_1252),
        ..ReadOptions::default()
    }
}
