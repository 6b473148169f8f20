//! Hostile inputs, one case each: the real binary ends with the expected exit code and message,
//! in bounded time, with a peak RSS under 512 MiB (measured by /usr/bin/time), and never reads a
//! file it was not given.

mod common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RSS_LIMIT_KB: u64 = 512 * 1024;

struct Case {
    name: &'static str,
    /// The exit codes accepted and a text that must be in what `ferry` said or the findings.
    codes: &'static [i32],
    says: &'static str,
    env: &'static [(&'static str, &'static str)],
}

fn run(dir: &Path, input: &Path, case: &Case) {
    let log = dir.join(format!("{}.jsonl", case.name));
    let rss = dir.join(format!("{}.rss", case.name));
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "/usr/bin/time is needed (Debian package `time`; .ci/run installs it)"
    );
    let target = db(dir, "t.db");
    let mut c = Command::new(time);
    c.args(["-f", "%M", "-o"])
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_ferry"))
        .args([
            "import",
            input.to_str().unwrap(),
            "--test-only",
            "--db",
            &target,
            "--log",
        ])
        .arg(&log)
        .current_dir(dir);
    for (k, v) in case.env {
        c.env(k, v);
    }
    let start = Instant::now();
    let out = c.output().unwrap();
    let took = start.elapsed();
    let code = out.status.code().unwrap_or(-1);
    // What it said: the summary (stdout), then the diagnostics (stderr).
    let stderr = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        case.codes.contains(&code),
        "{}: exit {code}, expected {:?}: {stderr}",
        case.name,
        case.codes
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{}: {stderr}",
        case.name
    );
    assert!(
        stderr.contains(case.says) || findings.contains(case.says),
        "{}: «{}» not in {stderr}{}",
        case.name,
        case.says,
        &findings[..findings.len().min(500)]
    );
    let kb: u64 = std::fs::read_to_string(&rss)
        .unwrap()
        .lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(
        kb < RSS_LIMIT_KB,
        "{}: peak RSS {} MiB",
        case.name,
        kb / 1024
    );
    assert!(
        took < Duration::from_secs(60),
        "{}: took {took:?}",
        case.name
    );
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    if let Some(first) = passwd.lines().next() {
        assert!(
            !stderr.contains(first) && !findings.contains(first),
            "{}: leaked /etc/passwd",
            case.name
        );
    }
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

fn case(name: &'static str, codes: &'static [i32], says: &'static str) -> Case {
    Case {
        name,
        codes,
        says,
        env: &[],
    }
}

#[test]
fn hostile_xml() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(ferry(d, &["init", "--db", "t.db"]).code, 0);
    let lol = {
        let mut s =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
        for i in 2..10 {
            let prev = if i == 2 {
                "lol".to_string()
            } else {
                format!("lol{}", i - 1)
            };
            s += &format!(" <!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10));
        }
        s + "]>\n<Import><User Name=\"&lol9;\" Owner=\"admin\" Role=\"Customer\"/></Import>\n"
    };
    let quadratic = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE q [<!ENTITY a \"{}\">]>\n<Import><User Name=\"{}\" Owner=\"admin\" Role=\"Customer\"/></Import>\n",
        "A".repeat(100_000),
        "&a;".repeat(20_000)
    );
    let cases: Vec<(Case, Vec<u8>)> = vec![
        (case("billion_laughs", &[2], "DOCTYPE"), lol.into_bytes()),
        (case("quadratic_blowup", &[2], "DOCTYPE"), quadratic.into_bytes()),
        (
            case("xxe_file", &[2], "DOCTYPE"),
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE Import [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<Import><User Name=\"&xxe;\" Owner=\"admin\" Role=\"Customer\"/></Import>\n".to_vec(),
        ),
        (
            case("xxe_parameter", &[2], "DOCTYPE"),
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE Import [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n<Import/>\n".to_vec(),
        ),
        (case("external_dtd", &[2], "DOCTYPE"), b"<?xml version=\"1.0\"?>\n<!DOCTYPE Import SYSTEM \"file:///etc/passwd\">\n<Import/>\n".to_vec()),
        (case("deep_nesting", &[2], "nested deeper"), format!("<Import>{}{}</Import>", "<a>".repeat(200_000), "</a>".repeat(200_000)).into_bytes()),
        (
            case("many_attributes", &[1], "input.too_many_fields"),
            format!("<Import><User Name=\"x\" Owner=\"admin\" Role=\"Customer\" {}/></Import>", (0..100_000).map(|i| format!("A{i}=\"{i}\"")).collect::<Vec<_>>().join(" ")).into_bytes(),
        ),
        (
            case("huge_attribute", &[1], "value.too_long"),
            format!("<Import><User Name=\"{}\" Owner=\"admin\" Role=\"Customer\"/></Import>", "x".repeat(64 << 20)).into_bytes(),
        ),
        (case("unclosed", &[2], "ends inside an element"), b"<Import><User Name=\"x\" Owner=\"admin\" Role=\"Customer\">".to_vec()),
        (case("not_xml", &[2], "not an XML document"), b"this is not xml at all \x00\x01\x02".to_vec()),
        (case("empty_xml", &[2], "empty"), vec![]),
        (case("blank_lines", &[0], "Run 1"), format!("<Import>\n<Role Name=\"a\"/>{}<Role Name=\"b\"/></Import>", "\n".repeat(20_000_000)).into_bytes()),
    ];
    for (c, data) in cases {
        let p = write(d, &format!("{}.xml", c.name), &data);
        run(d, &p, &c);
    }
}

#[test]
fn hostile_csv() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(ferry(d, &["init", "--db", "t.db"]).code, 0);
    let folder = |name: &str, data: &[u8]| -> PathBuf {
        let p = d.join(name);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("User.csv"), data).unwrap();
        p
    };
    let cases: Vec<(Case, PathBuf)> = vec![
        (
            case("csv_invalid_utf8", &[2], "--encoding"),
            folder(
                "csv_invalid_utf8",
                b"Name,Owner,Role\n\xff\xfe\xfa,admin,Customer\n",
            ),
        ),
        (
            case("csv_nul_bytes", &[1], "value.control_char"),
            folder(
                "csv_nul_bytes",
                b"Name,Owner,Role\nab\x00cd,admin,Customer\n",
            ),
        ),
        (
            case("csv_unterminated_quote", &[1], "value.required"),
            folder(
                "csv_unterminated_quote",
                b"Name,Owner,Role\n\"abc,admin,Customer\n",
            ),
        ),
        (
            case("csv_ragged", &[1], "input.extra_values"),
            folder(
                "csv_ragged",
                b"Name,Owner,Role\na\nb,admin,Customer,extra,extra\n",
            ),
        ),
        (
            case("csv_empty", &[0], "input.empty"),
            folder("csv_empty", b""),
        ),
    ];
    for (c, p) in cases {
        run(d, &p, &c);
    }
    // a 100 MB line with no line break
    let p = d.join("csv_huge_line");
    std::fs::create_dir_all(&p).unwrap();
    let mut f = std::fs::File::create(p.join("User.csv")).unwrap();
    f.write_all(b"Name,Owner,Role\n").unwrap();
    let chunk = vec![b'y'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&chunk).unwrap();
    }
    drop(f);
    run(d, &p, &case("csv_huge_line", &[2], "over the limit"));
}

fn xlsx(path: &Path, sheet: &[u8], sst: Option<&str>) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, String); 5] = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.into()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="User" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.into()),
        ("xl/sharedStrings.xml", sst.unwrap_or(r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>"#).to_string()),
    ];
    for (n, data) in parts {
        z.start_file(n, o).unwrap();
        z.write_all(data.as_bytes()).unwrap();
    }
    z.start_file("xl/worksheets/sheet1.xml", o.large_file(true))
        .unwrap();
    z.write_all(sheet).unwrap();
    z.finish().unwrap();
}

const NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main""#;

fn cell_row(r: u32, cells: &[(&str, &str)]) -> String {
    format!(
        "<row r=\"{r}\">{}</row>",
        cells
            .iter()
            .map(|(c, v)| format!("<c r=\"{c}{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>"))
            .collect::<String>()
    )
}

#[test]
fn hostile_workbooks() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(ferry(d, &["init", "--db", "t.db"]).code, 0);
    let hdr = cell_row(1, &[("A", "Name"), ("B", "Owner"), ("C", "Role")]);
    let lying = d.join("lying_dimension.xlsx");
    xlsx(&lying, format!("<worksheet {NS}><dimension ref=\"A1:XFD1048576\"/><sheetData>{hdr}{}</sheetData></worksheet>", cell_row(1048576, &[("XFD", "far away")])).as_bytes(), None);
    run(
        d,
        &lying,
        &case("lying_dimension", &[1], "input.extra_values"),
    );

    let sst = d.join("sst_count_bomb.xlsx");
    xlsx(
        &sst,
        format!("<worksheet {NS}><sheetData>{hdr}</sheetData></worksheet>").as_bytes(),
        Some(&format!(
            "<sst {NS} count=\"2147483647\" uniqueCount=\"2147483647\"><si><t>a</t></si></sst>"
        )),
    );
    run(
        d,
        &sst,
        &case("sst_count_bomb", &[2], "shared strings claim"),
    );

    let wide = d.join("wide.xlsx");
    let cols: Vec<(String, String)> = (0..16384u32)
        .map(|i| (ferry_findings::column_letter(i), format!("F{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = cols.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    xlsx(
        &wide,
        format!(
            "<worksheet {NS}><sheetData>{}</sheetData></worksheet>",
            cell_row(1, &refs)
        )
        .as_bytes(),
        None,
    );
    run(
        d,
        &wide,
        &case("wide_16384_columns", &[0, 1], "input.unknown_field"),
    );

    let ten = d.join("ten_mb_cell.xlsx");
    xlsx(
        &ten,
        format!(
            "<worksheet {NS}><sheetData>{hdr}{}</sheetData></worksheet>",
            cell_row(
                2,
                &[
                    ("A", &"z".repeat(10 << 20)),
                    ("B", "admin"),
                    ("C", "Customer")
                ]
            )
        )
        .as_bytes(),
        None,
    );
    run(d, &ten, &case("ten_mb_cell", &[1], "value.too_long"));

    // A zip bomb: a sheet that inflates far beyond the (here lowered) part limit.
    let bomb = d.join("zip_bomb.xlsx");
    let mut sheet = format!("<worksheet {NS}><sheetData>{hdr}").into_bytes();
    let row = format!(
        "<row><c t=\"inlineStr\"><is><t>{}</t></is></c></row>",
        "B".repeat(1000)
    );
    for _ in 0..30_000 {
        sheet.extend_from_slice(row.as_bytes());
    }
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    xlsx(&bomb, &sheet, None);
    run(
        d,
        &bomb,
        &Case {
            name: "zip_bomb",
            codes: &[2],
            says: "inflates to",
            env: &[("FERRY_MAX_PART_BYTES", "10000000")],
        },
    );

    let data = std::fs::read(&wide).unwrap();
    let truncated = write(d, "truncated.xlsx", &data[..data.len() / 2]);
    run(
        d,
        &truncated,
        &case("truncated", &[2], "damaged or truncated"),
    );
    let not_zip = write(d, "not_a_zip.xlsx", b"PK but not really a zip");
    run(
        d,
        &not_zip,
        &case("not_a_zip", &[2], "not a readable workbook"),
    );
    let zip_not_xlsx = d.join("zip_not_xlsx.xlsx");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_not_xlsx).unwrap());
        z.start_file("hello.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"a zip, but no workbook inside").unwrap();
        z.finish().unwrap();
    }
    run(
        d,
        &zip_not_xlsx,
        &case("zip_not_xlsx", &[2], "no xl/workbook.xml"),
    );
    let empty = write(d, "empty.xlsx", b"");
    run(
        d,
        &empty,
        &case("empty_xlsx", &[2], "not a readable workbook"),
    );
}
