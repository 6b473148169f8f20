//! Replays what the fuzz targets of `fuzz/` found: every crash input kept under
//! `tests/fixtures/fuzz/{xml,xlsx,csv}/` and every input of the corpora `fuzz/corpus/{xml,xlsx,csv}/`
//! goes through [`read_input`] as the targets feed it. The invariant is the fuzzers' own: the
//! reader returns (an error is fine) and never panics.

use ferry_findings::{Finding, Location};
use ferry_sources::{read_input, RawRecord, RawValue, ReadOptions, SourceError, Visitor};
use std::path::{Path, PathBuf};

/// The fuzz targets' visitor: counts, and renders each value.
#[derive(Default)]
struct Count {
    records: u64,
    findings: u64,
    options: u64,
}

impl Visitor for Count {
    type Error = SourceError;
    fn record(&mut self, record: RawRecord) -> Result<(), SourceError> {
        self.records += 1;
        for f in &record.fields {
            let _ = f.value.display();
        }
        Ok(())
    }
    fn finding(&mut self, _finding: Finding) -> Result<(), SourceError> {
        self.findings += 1;
        Ok(())
    }
    fn option(&mut self, _: String, value: RawValue, _: Location) -> Result<(), SourceError> {
        self.options += 1;
        let _ = value.display();
        Ok(())
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files of a folder, sorted; none when the folder does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// A scratch folder of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferry-fuzz-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path, opts: &ReadOptions) -> Count {
    let mut count = Count::default();
    let _ = read_input(path, opts, &mut count);
    count
}

/// Feeds every crash input and corpus input of `target` to the reader as `x.<ext>`.
fn replay_file_target(target: &str, ext: &str) -> usize {
    let dir = scratch(target);
    let path = dir.join(format!("x.{ext}"));
    let mut n = 0;
    let inputs = files(&root().join("tests/fixtures/fuzz").join(target))
        .into_iter()
        .chain(files(&root().join("fuzz/corpus").join(target)));
    for input in inputs {
        std::fs::copy(&input, &path).unwrap();
        let outcome = std::panic::catch_unwind(|| read(&path, &ReadOptions::default()));
        assert!(outcome.is_ok(), "the {target} reader panicked on {input:?}");
        n += 1;
    }
    std::fs::remove_dir_all(&dir).ok();
    n
}

/// The layout of a `csv` fuzz input (`fuzz/src/lib.rs`, `split_csv`): a flags byte (bit 0:
/// windows-1252), the little-endian u16 length of `User.csv`, then `User.csv` and `Ledger.csv`.
fn split_csv(data: &[u8]) -> (u8, &[u8], &[u8]) {
    let flags = data.first().copied().unwrap_or(0);
    let rest = data.get(3..).unwrap_or(&[]);
    let len = match data.get(1..3) {
        Some(b) => u16::from_le_bytes([b[0], b[1]]) as usize,
        None => 0,
    };
    let (user, ledger) = rest.split_at(len.min(rest.len()));
    (flags, user, ledger)
}

#[test]
fn xml_crashes_and_corpus() {
    let n = replay_file_target("xml", "xml");
    assert!(n > 0, "no XML fuzz inputs found");
}

#[test]
fn xlsx_crashes_and_corpus() {
    let n = replay_file_target("xlsx", "xlsx");
    assert!(n > 0, "no workbook fuzz inputs found");
}

#[test]
fn csv_crashes_and_corpus() {
    let dir = scratch("csv");
    let mut n = 0;
    let inputs = files(&root().join("tests/fixtures/fuzz/csv"))
        .into_iter()
        .chain(files(&root().join("fuzz/corpus/csv")));
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let (flags, user, ledger) = split_csv(&data);
        std::fs::write(dir.join("User.csv"), user).unwrap();
        std::fs::write(dir.join("Ledger.csv"), ledger).unwrap();
        let opts = ReadOptions {
            encoding: (flags & 1 == 1).then_some(encoding_rs::WINDOWS_1252),
            ..ReadOptions::default()
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&dir, &opts)));
        assert!(outcome.is_ok(), "the CSV reader panicked on {input:?}");
        n += 1;
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(n > 0, "no CSV fuzz inputs found");
}

/// A header cell past column XFD (`r="ZZZZZZ1"`) once sized the sheet's column table to 321
/// million entries, and a longer reference (wrapping past `u32` in a release build) to billions:
/// an allocation abort. Such a workbook is now refused as damaged, at once.
#[test]
fn xlsx_cell_past_column_xfd_is_refused() {
    for name in ["column-past-xfd.xlsx", "column-wraps-u32.xlsx"] {
        let path = root().join("tests/fixtures/fuzz/xlsx").join(name);
        let mut count = Count::default();
        let err = read_input(&path, &ReadOptions::default(), &mut count).unwrap_err();
        assert!(
            matches!(err, SourceError::Malformed { .. }),
            "{name}: {err}"
        );
        assert_eq!(count.records, 0, "{name}");
    }
}
