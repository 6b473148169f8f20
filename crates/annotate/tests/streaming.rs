//! Annotating a large workbook streams: peak memory stays under 512 MiB whatever the number of
//! rows, and the time is of the order of inflating and deflating the file once.
//!
//! The size is `FERRY_ANNOTATE_ROWS` rows (default 300,000; 1,000,000 measured by hand, see NOTES) in a `User` sheet with a password
//! column in shared strings, and 10,000 findings. Peak RSS is the process's VmHWM, reset after
//! the workbook is generated (Linux `/proc/self/clear_refs`).

use ferry_annotate::{annotate, FindingSet};
use ferry_findings::{Code, Column, Finding, Location};
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

const RSS_LIMIT_KB: u64 = 512 * 1024;

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_large_workbook_is_annotated_in_bounded_memory() {
    let rows: u32 = std::env::var("FERRY_ANNOTATE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let findings: u32 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.xlsx");
    let started = Instant::now();
    {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb
            .add_worksheet_with_low_memory()
            .unwrap()
            .set_name("User")
            .unwrap();
        for (c, h) in ["Name", "Owner", "Email", "Password", "Phone"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for r in 1..=rows {
            ws.write_string(r, 0, format!("HSC-{r:07}")).unwrap();
            ws.write_string(r, 1, "Harbour Sailing Club").unwrap();
            ws.write_string(r, 2, format!("member{r}@example.com"))
                .unwrap();
            ws.write_string(r, 3, format!("pw-{r:07}-secret")).unwrap();
            ws.write_number(r, 4, 4_155_550_000.0 + r as f64).unwrap();
        }
        let notes = wb.add_worksheet().set_name("Notes").unwrap();
        notes.write_string(0, 0, "untouched").unwrap();
        wb.save(&src).unwrap();
    }
    let generated = started.elapsed();
    let size = std::fs::metadata(&src).unwrap().len();

    // 10,000 findings spread over the rows: an error on an Email cell, every tenth a row-level
    // warning (no column: it marks the key cell, column A).
    let mut set = FindingSet::new("big.xlsx").unwrap();
    let file: Arc<str> = "big.xlsx".into();
    let sheet: Arc<str> = "User".into();
    let step = (rows / findings).max(1);
    for i in 0..findings.min(rows) {
        let row = 2 + i * step;
        let (code, column) = if i % 10 == 0 {
            (Code::LoginNoEmail, None)
        } else {
            (Code::EmailInvalid, Some(Column::Letter(2)))
        };
        let loc = Location {
            file: file.clone(),
            sheet: Some(sheet.clone()),
            row: row as u64,
            column,
        };
        assert!(set
            .push(&Finding::new(code, loc, format!("finding {i}")))
            .unwrap());
    }

    // Baseline: inflate and deflate every entry once (what any rewrite costs at least).
    let t = Instant::now();
    {
        let mut zin = zip::ZipArchive::new(std::fs::File::open(&src).unwrap()).unwrap();
        let mut zout =
            zip::ZipWriter::new(std::fs::File::create(dir.path().join("copy.xlsx")).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for i in 0..zin.len() {
            let mut e = zin.by_index(i).unwrap();
            let name = e.name().unwrap().to_string();
            zout.start_file(name, opts).unwrap();
            std::io::copy(&mut e, &mut zout).unwrap();
        }
        zout.finish().unwrap();
    }
    let baseline = t.elapsed();

    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = vm_hwm_kb();
    let out = dir.path().join("annotated.xlsx");
    let t = Instant::now();
    let summary = annotate(&src, &mut set, &out).unwrap();
    let took = t.elapsed();
    let peak = vm_hwm_kb();
    eprintln!(
        "{rows} rows ({size} bytes, generated in {generated:?}), {findings} findings: annotated in {took:?} \
         (inflate+deflate copy: {baseline:?}), peak RSS {peak} KiB (before: {before} KiB), {summary:?}"
    );
    assert!(peak < RSS_LIMIT_KB, "peak RSS {peak} KiB");
    assert_eq!(summary.findings, findings as u64);
    assert_eq!(summary.marked_cells, findings as u64);
    assert_eq!(summary.secrets, rows as u64);
    // Time: of the order of one inflate+deflate pass over the file (generous for a loaded CI
    // machine; the figure is printed above).
    assert!(
        took < baseline * 6 + std::time::Duration::from_secs(5),
        "annotating took {took:?}, an inflate+deflate copy {baseline:?}"
    );

    // No password survives anywhere; the comments are all there.
    let mut z = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut comments = 0;
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let name = e.name().unwrap().to_string();
        let mut text = String::new();
        e.read_to_string(&mut text).unwrap();
        assert!(!text.contains("-secret"), "a password is left in {name}");
        if name.contains("comments") {
            comments += text.matches("<comment ").count();
        }
    }
    assert_eq!(comments, findings as usize);
}
