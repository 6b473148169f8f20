//! Every input limit holds while the input streams, not after it is in memory (issue 13, 12).
//!
//! Each hostile input is generated here, streamed to disk (never built in memory), and imported
//! by the real binary in a child process whose peak RSS `/usr/bin/time` measures. The bound is
//! [`RSS_LIMIT_KB`] (300 MiB; a normal small import peaks near 25 MiB): before the fix a CSV
//! line of 512 MiB took over 1 GB, a workbook cell of 512 MiB about 2 GB, an XML attribute of
//! 512 MiB about 1 GB. The sizes are 512 MiB, eight times the record limit of 64 MiB: enough to
//! show that the reader stops at the limit (it reads 64 MiB and refuses) without making CI
//! write gigabytes (a deflated 512 MiB workbook part is a file of about 0.5 MB).

mod common;
use common::web::{agent, sign_in_cookie, Console};
use common::*;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Peak RSS allowed to any import below.
const RSS_LIMIT_KB: u64 = 300 * 1024;
const MIB: usize = 1 << 20;
/// The size of each oversized unit: eight times the record limit.
const HUGE_MIB: usize = 512;

/// The outcome of a measured run.
struct Measured {
    code: i32,
    stderr: String,
    peak_kb: u64,
}

/// Runs `ferry ARGS` (the test's backend applied) under /usr/bin/time.
fn measured(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Measured {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "/usr/bin/time is needed (Debian package `time`)"
    );
    let inner = command(dir, args);
    let rss = dir.join("rss.txt");
    let mut c = Command::new(time);
    c.args(["-f", "%M", "-o"])
        .arg(&rss)
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(dir)
        .env_remove("FERRY_DB");
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let peak_kb = std::fs::read_to_string(&rss)
        .unwrap_or_default()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(u64::MAX);
    let code = out.status.code().unwrap_or(-1);
    assert!(!stderr.contains("panicked"), "{stderr}");
    Measured {
        code,
        stderr,
        peak_kb,
    }
}

/// Imports `input` test-only; asserts exit `code`, `says` in stderr and the RSS bound.
fn refused(dir: &Path, input: &Path, code: i32, says: &str) -> Measured {
    let m = measured(
        dir,
        &[
            "import",
            input.to_str().unwrap(),
            "--db",
            "t.db",
            "--test-only",
        ],
        &[],
    );
    eprintln!(
        "{}: exit {}, peak RSS {} MiB",
        input.display(),
        m.code,
        m.peak_kb / 1024
    );
    assert_eq!(m.code, code, "{}: {}", input.display(), m.stderr);
    assert!(m.stderr.contains(says), "«{says}» not in {}", m.stderr);
    assert!(
        m.peak_kb < RSS_LIMIT_KB,
        "{}: peak RSS {} MiB",
        input.display(),
        m.peak_kb / 1024
    );
    m
}

/// Writes `mib` MiB of `byte` to `w`, one MiB at a time.
fn stream(w: &mut (impl Write + ?Sized), byte: u8, mib: usize) {
    let chunk = vec![byte; MIB];
    for _ in 0..mib {
        w.write_all(&chunk).unwrap();
    }
}

fn init(dir: &Path) {
    let r = ferry(dir, &["init", "--db", "t.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn csv_records_are_bounded_while_streaming() {
    let s = scratch();
    let d = s.path();
    init(d);
    // One line of 512 MiB after two good records (a missing quote or line break).
    let huge = d.join("huge_line");
    std::fs::create_dir(&huge).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(huge.join("User.csv")).unwrap());
    f.write_all(b"Name,Owner,Role\nu1,admin,Customer\nu2,admin,Customer\n")
        .unwrap();
    stream(&mut f, b'y', HUGE_MIB);
    drop(f);
    refused(
        d,
        &huge,
        2,
        "line 4: a CSV record here is over the limit of 67108864 bytes",
    );

    // A line of commas: 8 bytes of bookkeeping per field in the csv crate, so a 64 MiB line
    // of them took 512 MiB. Fields are bounded as the record is read.
    let commas = d.join("commas");
    std::fs::create_dir(&commas).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(commas.join("User.csv")).unwrap());
    f.write_all(b"Name,Owner,Role\n").unwrap();
    stream(&mut f, b',', 60);
    drop(f);
    refused(d, &commas, 2, "more than 16384 fields");
}

#[test]
fn a_value_over_the_value_limit_rejects_its_record_only() {
    // 20 MiB in one CSV field and one XML attribute: under the record limit, so the record is
    // read and rejected (value.too_long); the good records of the file are imported.
    let s = scratch();
    let d = s.path();
    init(d);
    let folder = d.join("csv");
    std::fs::create_dir(&folder).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(folder.join("User.csv")).unwrap());
    f.write_all(b"Name,Owner,Role\ngood1,admin,Customer\n")
        .unwrap();
    stream(&mut f, b'n', 20);
    f.write_all(b",admin,Customer\ngood2,admin,Customer\n")
        .unwrap();
    drop(f);
    let xml = d.join("big.xml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&xml).unwrap());
    f.write_all(b"<Import><User Name=\"good3\" Owner=\"admin\" Role=\"Customer\"/><User Owner=\"admin\" Role=\"Customer\" Name=\"").unwrap();
    stream(&mut f, b'x', 20);
    f.write_all(b"\"/></Import>").unwrap();
    drop(f);
    let m = measured(
        d,
        &[
            "import",
            folder.to_str().unwrap(),
            xml.to_str().unwrap(),
            "--db",
            "t.db",
            "--log",
            "f.jsonl",
        ],
        &[],
    );
    assert_eq!(m.code, 1, "{}", m.stderr);
    assert!(
        m.peak_kb < RSS_LIMIT_KB,
        "peak RSS {} MiB",
        m.peak_kb / 1024
    );
    let too_long = findings(&d.join("f.jsonl"))
        .iter()
        .filter(|f| f["code"] == "value.too_long")
        .count();
    assert_eq!(too_long, 2);
    assert_eq!(
        int(
            d,
            "t.db",
            "SELECT count(*) FROM \"user\" WHERE name IN ('good1', 'good2', 'good3')"
        ),
        3
    );
}

#[test]
fn xml_events_are_bounded_while_streaming() {
    let s = scratch();
    let d = s.path();
    init(d);
    let attr = d.join("attr.xml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&attr).unwrap());
    f.write_all(b"<Import>\n<User Owner=\"admin\" Role=\"Customer\" Name=\"")
        .unwrap();
    stream(&mut f, b'x', HUGE_MIB);
    f.write_all(b"\"/></Import>").unwrap();
    drop(f);
    refused(
        d,
        &attr,
        2,
        "attr.xml:2:1: an element, text or comment here is longer than the limit",
    );

    // Text between records is one event too.
    let text = d.join("text.xml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&text).unwrap());
    f.write_all(b"<Import><Role Name=\"r\">").unwrap();
    stream(&mut f, b't', HUGE_MIB);
    f.write_all(b"</Role></Import>").unwrap();
    drop(f);
    refused(d, &text, 2, "longer than the limit of 67108864 bytes");
}

// ---- workbooks ------------------------------------------------------------------------------

const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// A one-sheet (`User`) workbook, every part deflated as it is written: the sheet's
/// `sheetData` content, and optionally the shared strings and styles parts, come from writers.
type PartWriter<'a> = &'a dyn Fn(&mut dyn Write);

fn workbook(path: &Path, rows: PartWriter, sst: Option<PartWriter>, styles: Option<PartWriter>) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let ct = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let wb = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook {NS} xmlns:r="{REL}"><sheets><sheet name="User" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let wb_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/></Relationships>"#
    );
    for (name, text) in [
        ("[Content_Types].xml", ct.to_string()),
        ("_rels/.rels", rels),
        ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", wb_rels),
    ] {
        z.start_file(name, o).unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    let parts: [(&str, Option<PartWriter>); 2] =
        [("xl/sharedStrings.xml", sst), ("xl/styles.xml", styles)];
    for (name, writer) in parts {
        if let Some(w) = writer {
            z.start_file(name, o).unwrap();
            w(&mut z);
        }
    }
    z.start_file("xl/worksheets/sheet1.xml", o).unwrap();
    write!(z, "<worksheet {NS}><sheetData>").unwrap();
    write!(z, "{}", row(1, &["Name", "Owner", "Role"])).unwrap();
    rows(&mut z);
    write!(z, "</sheetData></worksheet>").unwrap();
    z.finish().unwrap();
}

/// A row of inline-string cells from column A.
fn row(r: u32, values: &[&str]) -> String {
    let cells: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "<c r=\"{}{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>",
                ferry_findings::column_letter(i as u32)
            )
        })
        .collect();
    format!("<row r=\"{r}\">{cells}</row>")
}

/// A workbook whose row 2 has one inline cell of `mib` MiB in column A.
fn one_big_cell(path: &Path, mib: usize) {
    workbook(
        path,
        &|w| {
            write!(w, "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>").unwrap();
            stream(w, b'z', mib);
            write!(w, "</t></is></c><c r=\"B2\" t=\"inlineStr\"><is><t>admin</t></is></c><c r=\"C2\" t=\"inlineStr\"><is><t>Customer</t></is></c></row>").unwrap();
            write!(w, "{}", row(3, &["good", "admin", "Customer"])).unwrap();
        },
        None,
        None,
    );
}

#[test]
fn workbook_parts_are_bounded_while_inflating() {
    let s = scratch();
    let d = s.path();
    init(d);
    // One cell of 512 MiB in a file of about half a megabyte.
    let cell = d.join("big_cell.xlsx");
    one_big_cell(&cell, HUGE_MIB);
    assert!(std::fs::metadata(&cell).unwrap().len() < 4 * MIB as u64);
    refused(
        d,
        &cell,
        2,
        "cell A2 is longer than the limit of 67108864 bytes",
    );

    // One row of 8192 cells of 64 KiB: each cell is fine, the row (512 MiB) is not.
    let wide = d.join("big_row.xlsx");
    workbook(
        &wide,
        &|w| {
            write!(w, "<row r=\"2\">").unwrap();
            let text = "w".repeat(64 * 1024);
            for c in 0..8192 {
                write!(
                    w,
                    "<c r=\"{}2\" t=\"inlineStr\"><is><t>{text}</t></is></c>",
                    ferry_findings::column_letter(c)
                )
                .unwrap();
            }
            write!(w, "</row>").unwrap();
        },
        None,
        None,
    );
    refused(d, &wide, 2, "row 2 is longer than the limit");

    // One shared string of 200 MiB (under the shared-strings limit of 256 MiB, which the
    // directory alone would check).
    let sst = d.join("big_string.xlsx");
    workbook(
        &sst,
        &|w| write!(w, "{}", row(2, &["u", "admin", "Customer"])).unwrap(),
        Some(&|w| {
            write!(w, "<sst {NS} count=\"1\" uniqueCount=\"1\"><si><t>").unwrap();
            stream(w, b's', 200);
            write!(w, "</t></si></sst>").unwrap();
        }),
        None,
    );
    refused(d, &sst, 2, "a shared string is longer than the limit");

    // 100 MiB of empty shared strings: 21 million entries, each a String to calamine.
    let many = d.join("many_strings.xlsx");
    workbook(
        &many,
        &|w| write!(w, "{}", row(2, &["u", "admin", "Customer"])).unwrap(),
        Some(&|w| {
            write!(w, "<sst {NS}>").unwrap();
            let chunk = "<si/>".repeat(MIB / 5);
            for _ in 0..100 {
                w.write_all(chunk.as_bytes()).unwrap();
            }
            write!(w, "</sst>").unwrap();
        }),
        None,
    );
    refused(d, &many, 2, "FERRY_MAX_SHARED_STRINGS_BYTES");

    // Styles are read whole (about 300 bytes of memory per cell format): 32 MiB of them.
    let styles = d.join("styles.xlsx");
    workbook(
        &styles,
        &|w| write!(w, "{}", row(2, &["u", "admin", "Customer"])).unwrap(),
        None,
        Some(&|w| {
            write!(w, "<styleSheet {NS}><cellXfs>").unwrap();
            let xf = r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>"#.repeat(1000);
            for _ in 0..=32 * MIB / xf.len() {
                w.write_all(xf.as_bytes()).unwrap();
            }
            write!(w, "</cellXfs></styleSheet>").unwrap();
        }),
    );
    refused(d, &styles, 2, "FERRY_MAX_STRUCTURE_BYTES");

    // A shared formula whose index sized calamine's formula table (4 billion entries).
    let formula = d.join("formula_index.xlsx");
    workbook(
        &formula,
        &|w| {
            write!(w, "{}", row(2, &["u", "admin", "Customer"])).unwrap();
            write!(w, "<row r=\"3\"><c r=\"D3\"><f t=\"shared\" si=\"4000000000\" ref=\"D3:D4\">1+1</f><v>2</v></c></row>").unwrap();
        },
        None,
        None,
    );
    let m = measured(
        d,
        &[
            "import",
            formula.to_str().unwrap(),
            "--db",
            "t.db",
            "--test-only",
        ],
        &[],
    );
    assert!(m.code == 0 || m.code == 1, "{}", m.stderr);
    assert!(
        m.peak_kb < RSS_LIMIT_KB,
        "peak RSS {} MiB",
        m.peak_kb / 1024
    );
}

/// Makes the zip directory (central and local headers) of `path` declare `size` bytes for
/// `part`, whatever it inflates to.
fn lie_about(path: &Path, part: &str, size: u32) {
    let mut b = std::fs::read(path).unwrap();
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let mut patched = 0;
    let mut at = 0;
    while let Some(i) = b[at..].windows(4).position(|w| w == b"PK\x01\x02") {
        at += i;
        let n = u16::from_le_bytes([b[at + 28], b[at + 29]]) as usize;
        if &b[at + 46..at + 46 + n] == part.as_bytes() {
            b[at + 24..at + 28].copy_from_slice(&size.to_le_bytes());
            let local = le32(&b, at + 42);
            assert_eq!(&b[local..local + 4], b"PK\x03\x04");
            b[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
        at += 4;
    }
    assert_eq!(patched, 1, "{part} in {}", path.display());
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_zip_directory_that_lies_is_not_trusted() {
    // The sheet declares 1000 bytes and inflates to 200 MiB (one cell): the read stops at the
    // declared size (the zip crate counts), so nothing larger than declared is ever held.
    let s = scratch();
    let d = s.path();
    init(d);
    let liar = d.join("liar.xlsx");
    one_big_cell(&liar, 200);
    lie_about(&liar, "xl/worksheets/sheet1.xml", 1000);
    refused(d, &liar, 2, "declared");
}

#[test]
fn annotating_a_workbook_with_a_large_cell_is_bounded() {
    // A 48 MiB cell is under the record limit: the import rejects its record (value.too_long)
    // and --annotate copies the workbook with the cell marked, in bounded memory.
    let s = scratch();
    let d = s.path();
    init(d);
    let src = d.join("cell48.xlsx");
    one_big_cell(&src, 48);
    let m = measured(
        d,
        &[
            "import",
            src.to_str().unwrap(),
            "--db",
            "t.db",
            "--test-only",
            "--annotate",
            "marked.xlsx",
        ],
        &[],
    );
    assert_eq!(m.code, 1, "{}", m.stderr);
    assert!(
        m.peak_kb < RSS_LIMIT_KB,
        "peak RSS {} MiB",
        m.peak_kb / 1024
    );
    assert!(d.join("marked.xlsx").exists());
}

// ---- the console ----------------------------------------------------------------------------

/// `VmHWM` and `VmRSS` of a process, in KiB.
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (kb("VmHWM:"), kb("VmRSS:"))
}

/// Uploads `file` as a test-only run; returns the run page's path.
fn upload(console: &Console, cookie: &str, file: &Path) -> String {
    let token = cookie.split(';').next().unwrap().to_string();
    let page = agent()
        .get(format!("{}/runs/new", console.url))
        .header("Cookie", &token)
        .header("Accept", "text/html")
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF token") + 19;
    let csrf = page[at..].split('"').next().unwrap();
    let boundary = "ferrylimitsboundary";
    let name = file.file_name().unwrap().to_str().unwrap();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"test_only\"\r\n\r\non\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend(std::fs::read(file).unwrap());
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", &token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the upload starts a run");
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_string()
}

/// Waits until the run at `page` is no longer running; returns its progress JSON.
fn finished(console: &Console, cookie: &str, page: &str) -> serde_json::Value {
    let token = cookie.split(';').next().unwrap().to_string();
    for _ in 0..600 {
        let body = agent()
            .get(format!("{}{page}/progress", console.url))
            .header("Cookie", &token)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["running"] == false && v["status"] != "running" {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("the run did not finish");
}

#[test]
fn the_console_stays_small_on_a_hostile_upload() {
    let s = scratch();
    let d = s.path();
    let console = Console::start(d, "console.db");
    let cookie = sign_in_cookie(&console, common::web::ADMIN);
    // A good run first: the console's working set.
    let good = d.join("good.xlsx");
    one_big_cell(&good, 0);
    let page = upload(&console, &cookie, &good);
    finished(&console, &cookie, &page);
    let (_, before) = memory_of(console.pid());

    let hostile = d.join("hostile.xlsx");
    one_big_cell(&hostile, HUGE_MIB);
    let page = upload(&console, &cookie, &hostile);
    let done = finished(&console, &cookie, &page);
    assert_eq!(done["status"], "failed", "{done}");
    // The annotated copy of the refused upload is refused too, in bounded memory.
    let token = cookie.split(';').next().unwrap().to_string();
    let r = agent()
        .get(format!("{}{page}/download/annotated-1.xlsx", console.url))
        .header("Cookie", &token)
        .call()
        .unwrap();
    assert_ne!(
        r.status().as_u16(),
        200,
        "a refused workbook is not annotated"
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (peak, after) = memory_of(console.pid());
    eprintln!(
        "console: {} MiB after a good run, peak {} MiB, {} MiB after the hostile run",
        before / 1024,
        peak / 1024,
        after / 1024
    );
    assert!(peak < RSS_LIMIT_KB, "peak RSS {} MiB", peak / 1024);
    assert!(
        after < before + 32 * 1024,
        "the console keeps {} MiB after the run ({} MiB before)",
        after / 1024,
        before / 1024
    );
}
