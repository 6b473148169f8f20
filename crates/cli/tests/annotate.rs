//! `--annotate OUT.xlsx` (SPEC §10): fills and comments cell by cell against the run's
//! findings, secrets gone, the rest of the workbook intact, the copy read again without the
//! `Findings` sheet, and LibreOffice opening and rendering it.

mod common;
use calamine::Reader as _;
use common::xlsx::{attr, each_tag, local, parts, resolve, text};
use common::*;
use quick_xml::events::Event;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

const RED: &str = "FF7C80";
const YELLOW: &str = "FFFF00";

/// What a workbook shows of fills and comments.
struct Marks {
    /// Sheet names in tab order with their parts.
    sheets: Vec<(String, String)>,
    /// The fill colour (last six hex digits) of each cell that has one, by sheet and cell.
    fills: HashMap<(String, String), String>,
    /// Comment texts by sheet and cell.
    comments: HashMap<(String, String), String>,
}

fn marks(path: &Path) -> Marks {
    let p = parts(path);
    let rels = |part: &str| -> HashMap<String, String> {
        let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
        let mut m = HashMap::new();
        each_tag(&text(&p, &format!("{dir}/_rels/{file}.rels")), |e| {
            if local(e.name().0) == "Relationship" {
                m.insert(
                    attr(e, "Id").unwrap(),
                    resolve(part, &attr(e, "Target").unwrap()),
                );
            }
        });
        m
    };
    let wb_rels = rels("xl/workbook.xml");
    let mut sheets = vec![];
    each_tag(&text(&p, "xl/workbook.xml"), |e| {
        if local(e.name().0) == "sheet" {
            let rid = attr(e, "id").unwrap();
            sheets.push((attr(e, "name").unwrap(), wb_rels[&rid].clone()));
        }
    });
    // styles: fill colours by cell format
    let styles_part = wb_rels
        .values()
        .find(|t| t.ends_with("styles.xml"))
        .unwrap()
        .clone();
    let styles = text(&p, &styles_part);
    let mut fills: Vec<Option<String>> = vec![];
    let mut xf_fill: Vec<usize> = vec![];
    {
        let mut r = quick_xml::Reader::from_str(&styles);
        let mut list = String::new();
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e) => match local(e.name().0) {
                    l @ ("fills" | "cellXfs" | "cellStyleXfs" | "dxfs") => list = l.to_string(),
                    "fill" if list == "fills" => fills.push(None),
                    "fgColor" if list == "fills" => {
                        if let (Some(last), Some(rgb)) = (fills.last_mut(), attr(&e, "rgb")) {
                            *last = Some(rgb[rgb.len().saturating_sub(6)..].to_ascii_uppercase());
                        }
                    }
                    "xf" if list == "cellXfs" => {
                        xf_fill.push(attr(&e, "fillId").and_then(|v| v.parse().ok()).unwrap_or(0))
                    }
                    _ => {}
                },
                Event::End(e)
                    if ["fills", "cellXfs", "cellStyleXfs", "dxfs"]
                        .contains(&local(e.name().0)) =>
                {
                    list.clear()
                }
                Event::Eof => break,
                _ => {}
            }
        }
    }
    let mut cell_fills = HashMap::new();
    let mut comments = HashMap::new();
    for (name, part) in &sheets {
        each_tag(&text(&p, part), |e| {
            if local(e.name().0) == "c" {
                let s: usize = attr(e, "s").and_then(|v| v.parse().ok()).unwrap_or(0);
                if let Some(Some(rgb)) = xf_fill.get(s).and_then(|f| fills.get(*f)) {
                    cell_fills.insert((name.clone(), attr(e, "r").unwrap()), rgb.clone());
                }
            }
        });
        for target in rels(part).values().filter(|t| t.contains("comments")) {
            let xml = text(&p, target);
            let mut r = quick_xml::Reader::from_str(&xml);
            let mut at: Option<String> = None;
            loop {
                match r.read_event().unwrap() {
                    Event::Start(e) if local(e.name().0) == "comment" => at = attr(&e, "ref"),
                    Event::Text(t) => {
                        if let Some(a) = &at {
                            comments
                                .entry((name.clone(), a.clone()))
                                .or_insert_with(String::new)
                                .push_str(&t);
                        }
                    }
                    Event::GeneralRef(g) => {
                        if let Some(a) = &at {
                            let c = match &*g {
                                "amp" => "&",
                                "lt" => "<",
                                "gt" => ">",
                                "quot" => "\"",
                                "apos" => "'",
                                _ => "?",
                            };
                            comments
                                .entry((name.clone(), a.clone()))
                                .or_default()
                                .push_str(c);
                        }
                    }
                    Event::End(e) if local(e.name().0) == "comment" => at = None,
                    Event::Eof => break,
                    _ => {}
                }
            }
        }
    }
    Marks {
        sheets,
        fills: cell_fills,
        comments,
    }
}

fn letters(mut i: u32) -> String {
    let mut s = vec![];
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

/// The header row of each sheet of a workbook (calamine).
fn headers(path: &Path) -> HashMap<String, Vec<String>> {
    let mut wb = calamine::open_workbook_auto(path).unwrap();
    let mut out = HashMap::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        let start = range.start().unwrap_or((0, 0));
        let mut h = vec![String::new(); start.1 as usize];
        if start.0 == 0 {
            if let Some(row) = range.rows().next() {
                h.extend(row.iter().map(|c| c.to_string()));
            }
        }
        out.insert(name, h);
    }
    out
}

/// The cell each error or warning marks, with its severity and messages: the finding's own
/// cell, else the key cell of its row (column A when the sheet has no key column).
fn expected(
    source: &Path,
    findings: &[serde_json::Value],
) -> BTreeMap<(String, String), (String, Vec<String>)> {
    let heads = headers(source);
    let mut out: BTreeMap<(String, String), (String, Vec<String>)> = BTreeMap::new();
    for f in findings {
        let sev = f["severity"].as_str().unwrap().to_string();
        let sheet = f["sheet"].as_str().unwrap().to_string();
        if sev == "info" || sheet.is_empty() {
            continue;
        }
        let row = f["row"].as_u64().unwrap();
        let col = match f["column"].as_str().unwrap() {
            "" => {
                let key =
                    ferry_catalogue::entity(&sheet).and_then(|e| e.key_fields().first().copied());
                key.and_then(|k| heads.get(&sheet)?.iter().position(|h| h == k))
                    .map(|i| letters(i as u32))
                    .unwrap_or_else(|| "A".into())
            }
            c => c.to_string(),
        };
        let e = out
            .entry((sheet, format!("{col}{row}")))
            .or_insert_with(|| (sev.clone(), vec![]));
        if sev == "error" {
            e.0 = sev;
        }
        e.1.push(f["message"].as_str().unwrap().to_string());
    }
    out
}

/// Every error and warning cell is red or yellow with its messages in a comment, and no other
/// cell outside the Findings sheet is.
fn check_marks(source: &Path, annotated: &Path, findings: &[serde_json::Value], comments: bool) {
    let want = expected(source, findings);
    assert!(!want.is_empty());
    let got = marks(annotated);
    assert_eq!(
        got.sheets[0].0, "Findings",
        "the Findings sheet comes first"
    );
    for ((sheet, cell), (sev, messages)) in &want {
        let colour = if sev == "error" { RED } else { YELLOW };
        assert_eq!(
            got.fills
                .get(&(sheet.clone(), cell.clone()))
                .map(String::as_str),
            Some(colour),
            "{sheet}!{cell} should be filled for its {sev}"
        );
        if comments {
            let c = got
                .comments
                .get(&(sheet.clone(), cell.clone()))
                .unwrap_or_else(|| panic!("{sheet}!{cell} has no comment"));
            for m in messages {
                assert!(
                    c.contains(m.as_str()),
                    "{sheet}!{cell}: comment «{c}» lacks «{m}»"
                );
            }
        }
    }
    for ((sheet, cell), rgb) in &got.fills {
        if sheet != "Findings" && (rgb == RED || rgb == YELLOW) {
            assert!(
                want.contains_key(&(sheet.clone(), cell.clone())),
                "{sheet}!{cell} is filled without a finding"
            );
        }
    }
    if comments {
        for (sheet, cell) in got.comments.keys() {
            assert!(
                want.contains_key(&(sheet.clone(), cell.clone())),
                "{sheet}!{cell} has a comment without a finding"
            );
        }
    }
}

/// Values of the secret columns of a workbook (passwords, card and bank numbers).
fn secrets(path: &Path) -> Vec<String> {
    let mut wb = calamine::open_workbook_auto(path).unwrap();
    let mut out = vec![];
    for name in wb.sheet_names() {
        let Some(e) = ferry_catalogue::entity(&name) else {
            continue;
        };
        let range = wb.worksheet_range(&name).unwrap();
        let mut rows = range.rows();
        let Some(head) = rows.next() else { continue };
        let cols: Vec<usize> = head
            .iter()
            .enumerate()
            .filter(|(_, h)| e.field_def(&h.to_string()).is_some_and(|f| f.is_secret()))
            .map(|(i, _)| i)
            .collect();
        for r in rows {
            for &c in &cols {
                let v = r.get(c).map(|v| v.to_string()).unwrap_or_default();
                if v.trim().len() >= 4 {
                    out.push(v.trim().to_string());
                }
            }
        }
    }
    out
}

fn assert_no_secrets(source: &Path, annotated: &Path) {
    let s = secrets(source);
    assert!(!s.is_empty(), "the source has secrets to hide");
    for (name, bytes) in parts(annotated) {
        let t = String::from_utf8_lossy(&bytes);
        for v in &s {
            let escaped = v
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            assert!(
                !t.contains(v.as_str()) && !t.contains(&escaped),
                "secret «{v}» left in {name}"
            );
        }
    }
}

#[test]
fn mistakes_are_marked_cell_by_cell() {
    let s = scratch();
    let dir = s.path();
    let src = example("mistakes/mistakes.xlsx");
    let r = ferry(
        dir,
        &[
            "import",
            src.to_str().unwrap(),
            "--test-only",
            "--log",
            "f.jsonl",
            "--annotate",
            "out.xlsx",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("Annotated copy of"), "{}", r.stderr);
    let findings = findings(&dir.join("f.jsonl"));
    let out = dir.join("out.xlsx");
    check_marks(&src, &out, &findings, true);
    assert_no_secrets(&src, &out);

    // The Findings sheet lists every finding, each linked to its cell.
    let p = parts(&out);
    let got = marks(&out);
    let listing = text(&p, &got.sheets[0].1);
    assert_eq!(listing.matches("<row ").count(), findings.len() + 1);
    let linked = findings
        .iter()
        .filter(|f| f["sheet"].as_str() != Some(""))
        .count();
    assert_eq!(listing.matches("<hyperlink ").count(), linked);
    assert!(
        listing.contains("location=\"&apos;User&apos;!I57\""),
        "{listing}"
    );

    // Read again: the Findings sheet and the marks change nothing but what the masking does.
    let again = ferry(
        dir,
        &[
            "import",
            "out.xlsx",
            "--test-only",
            "--db",
            "again.db",
            "--log",
            "g.jsonl",
        ],
    );
    assert_eq!(again.code, 1, "{}", again.stderr);
    let second = common::findings(&dir.join("g.jsonl"));
    assert!(second.iter().all(|f| f["sheet"] != "Findings"));
    let key = |f: &serde_json::Value| {
        format!("{} {} {} {}", f["code"], f["sheet"], f["row"], f["column"])
    };
    for f in &findings {
        assert!(
            second.iter().any(|g| key(g) == key(f)),
            "lost on re-reading: {}",
            key(f)
        );
    }
    for g in &second {
        let code = g["code"].as_str().unwrap();
        assert!(
            findings.iter().any(|f| key(f) == key(g))
                || code == "payment.number_masked"
                || code == "attachment.missing",
            "new on re-reading: {}",
            key(g)
        );
    }
}

#[test]
fn annotate_refuses_what_it_cannot_do() {
    let s = scratch();
    let dir = s.path();
    let src = example("mistakes/mistakes.xlsx");
    let xml = example("club/club.xml");
    let r = ferry(
        dir,
        &[
            "import",
            xml.to_str().unwrap(),
            "--test-only",
            "--annotate",
            "out.xlsx",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("needs a workbook"), "{}", r.stderr);
    let r = ferry(
        dir,
        &[
            "import",
            src.to_str().unwrap(),
            "--test-only",
            "--annotate",
            "out.csv",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(".xlsx"), "{}", r.stderr);
    std::fs::copy(&src, dir.join("in.xlsx")).unwrap();
    let r = ferry(
        dir,
        &["import", "in.xlsx", "--test-only", "--annotate", "in.xlsx"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is an input"), "{}", r.stderr);
    assert!(
        !dir.join("ferry.db").exists() || pg(),
        "refused before the run"
    );
}

/// A workbook with formulas, styles, merged cells, frozen panes, data validations, defined
/// names, column widths and an untouched sheet.
fn fidelity_fixture(path: &Path) {
    use rust_xlsxwriter::*;
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_border(FormatBorder::Thin);
    let money = Format::new()
        .set_num_format("#,##0.00")
        .set_font_color(Color::Blue);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    {
        let ws = wb.add_worksheet().set_name("Owner").unwrap();
        ws.write_string_with_format(0, 0, "Name", &bold).unwrap();
        ws.write_string(1, 0, "Club").unwrap();
    }
    {
        let ws = wb.add_worksheet().set_name("User").unwrap();
        let head = [
            "Name",
            "Owner",
            "Role",
            "Email",
            "Password",
            "BillDay",
            "CreatedDate",
            "Colour",
        ];
        for (c, h) in head.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold).unwrap();
        }
        let rows: [(&str, &str, &str, &str, &str, f64); 5] = [
            (
                "U-1",
                "Club",
                "Member",
                "one@example.com",
                "s3cret-one",
                5.0,
            ),
            ("U-2", "Club", "Member", "not an email", "s3cret-two", 40.0),
            (
                "",
                "Club",
                "Member",
                "three@example.com",
                "s3cret-three",
                3.0,
            ),
            ("U-4", "Nobody", "Member", "four@example.com", "", 4.0),
            (
                "U-5",
                "Club",
                "Member",
                "five@example.com",
                "s3cret-five",
                2.0,
            ),
        ];
        for (i, (n, o, r, e, p, d)) in rows.iter().enumerate() {
            let row = i as u32 + 1;
            if !n.is_empty() {
                ws.write_string(row, 0, *n).unwrap();
            }
            ws.write_string(row, 1, *o).unwrap();
            ws.write_string(row, 2, *r).unwrap();
            ws.write_string(row, 3, *e).unwrap();
            if !p.is_empty() {
                ws.write_string(row, 4, *p).unwrap();
            }
            ws.write_number_with_format(row, 5, *d, &money).unwrap();
            ws.write_formula_with_format(row, 6, "=DATE(2024,1,1)+ROW()", &date)
                .unwrap();
            ws.write_string(row, 7, "blue").unwrap();
        }
        ws.set_freeze_panes(1, 0).unwrap();
        ws.set_column_width(0, 14).unwrap();
        ws.set_column_width(3, 30).unwrap();
        ws.autofilter(0, 0, 5, 7).unwrap();
        let dv = DataValidation::new()
            .allow_list_strings(&["Member", "Customer"])
            .unwrap();
        ws.add_data_validation(1, 2, 100, 2, &dv).unwrap();
        let between = DataValidation::new().allow_whole_number(DataValidationRule::Between(1, 28));
        ws.add_data_validation(1, 5, 100, 5, &between).unwrap();
        ws.write_formula(7, 5, "=SUM(F2:F6)").unwrap();
    }
    {
        let ws = wb.add_worksheet().set_name("Notes").unwrap();
        ws.merge_range(0, 0, 1, 3, "A merged note", &bold).unwrap();
        ws.write_formula(3, 0, "=User!F2*2").unwrap();
        ws.set_freeze_panes(3, 1).unwrap();
    }
    {
        let ws = wb.add_worksheet().set_name("Rates").unwrap();
        ws.write_number_with_format(0, 0, 0.2, &money).unwrap();
        ws.set_column_width(0, 20).unwrap();
    }
    wb.define_name("TaxRate", "=Rates!$A$1").unwrap();
    wb.define_name("User!Local", "=User!$A$2").unwrap();
    wb.worksheet_from_name("Notes").unwrap().set_active(true);
    wb.save(path).unwrap();
}

/// The text of the first element named `tag` (with its children), or "".
fn element(xml: &str, tag: &str) -> String {
    let Some(s) = xml.find(&format!("<{tag}")) else {
        return String::new();
    };
    let rest = &xml[s..];
    let close = format!("</{tag}>");
    match (rest.find(&close), rest.find("/>")) {
        (Some(e), _) if !rest[..rest.find('>').unwrap()].ends_with('/') => {
            rest[..e + close.len()].to_string()
        }
        (_, Some(e)) => rest[..e + 2].to_string(),
        _ => rest.to_string(),
    }
}

#[test]
fn the_rest_of_the_workbook_is_preserved() {
    let s = scratch();
    let dir = s.path();
    let src = dir.join("book.xlsx");
    fidelity_fixture(&src);
    let r = ferry(
        dir,
        &[
            "import",
            "book.xlsx",
            "--test-only",
            "--log",
            "f.jsonl",
            "--annotate",
            "out.xlsx",
        ],
    );
    assert!(r.code == 1, "{}", r.stderr);
    let out = dir.join("out.xlsx");
    let findings = findings(&dir.join("f.jsonl"));
    check_marks(&src, &out, &findings, true);
    assert_no_secrets(&src, &out);

    let a = parts(&src);
    let b = parts(&out);
    let flagged: Vec<String> = {
        let m = marks(&out);
        let want = expected(&src, &findings);
        m.sheets
            .iter()
            .filter(|(n, _)| want.keys().any(|(s, _)| s == n) || n == "User")
            .map(|(_, p)| p.clone())
            .collect()
    };
    // Parts Ferry must not touch are byte for byte the same.
    let touched = |n: &str| {
        n == "[Content_Types].xml"
            || n == "xl/workbook.xml"
            || n == "xl/_rels/workbook.xml.rels"
            || n == "xl/styles.xml"
            || n == "xl/sharedStrings.xml"
            || flagged
                .iter()
                .any(|f| n == f || n.ends_with(&format!("{}.rels", f.rsplit('/').next().unwrap())))
    };
    for (name, bytes) in &a {
        assert!(b.contains_key(name), "{name} is missing");
        if !touched(name) {
            assert_eq!(&b[name], bytes, "{name} changed");
        }
    }
    assert!(
        a.keys()
            .any(|n| !touched(n) && n.contains("worksheets/sheet")),
        "an untouched sheet is compared"
    );
    // In the sheets Ferry marks: views (frozen panes), column widths, merged cells, data
    // validations, the auto filter and every formula are as they were.
    for part in &flagged {
        let (x, y) = (text(&a, part), text(&b, part));
        for tag in [
            "sheetViews",
            "cols",
            "mergeCells",
            "dataValidations",
            "autoFilter",
            "sheetFormatPr",
            "pageMargins",
        ] {
            assert_eq!(
                element(&x, tag),
                element(&y, tag),
                "{part}: <{tag}> changed"
            );
        }
        let formulas = |t: &str| {
            t.match_indices("<f>")
                .map(|(i, _)| t[i..i + t[i..].find("</f>").unwrap()].to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(formulas(&x), formulas(&y), "{part}: formulas changed");
    }
    // workbook.xml: the defined names are the same, the local one points at the same sheet
    // (one index later: Findings is first), and so does the active tab.
    let (wa, wb) = (text(&a, "xl/workbook.xml"), text(&b, "xl/workbook.xml"));
    let names = |t: &str| {
        let mut v = vec![];
        each_tag(t, |e| {
            if local(e.name().0) == "definedName" {
                v.push((
                    attr(e, "name").unwrap(),
                    attr(e, "localSheetId").map(|i| i.parse::<u32>().unwrap()),
                ));
            }
        });
        v
    };
    let before = names(&wa);
    let after = names(&wb);
    assert!(
        before.iter().any(|(_, l)| l.is_some()),
        "a local name is tested"
    );
    assert_eq!(before.len(), after.len());
    for ((n1, l1), (n2, l2)) in before.iter().zip(&after) {
        assert_eq!(n1, n2);
        assert_eq!(l1.map(|l| l + 1), *l2, "{n1}: localSheetId");
    }
    let tab = |t: &str| -> Option<u32> {
        let mut v = None;
        each_tag(t, |e| {
            if local(e.name().0) == "workbookView" {
                v = attr(e, "activeTab").map(|a| a.parse().unwrap());
            }
        });
        v
    };
    assert_eq!(tab(&wa).map(|t| t + 1), tab(&wb));
    assert_eq!(
        element(&wa, "definedNames")
            .replace("localSheetId=\"2\"", "X")
            .replace("localSheetId=\"1\"", "X"),
        element(&wb, "definedNames")
            .replace("localSheetId=\"2\"", "X")
            .replace("localSheetId=\"1\"", "X")
            .replace("hidden=\"1\" X", "X hidden=\"1\"")
    );
    // styles.xml: number formats, fonts and borders are untouched; the old cell formats come
    // first, unchanged, and the added ones keep their number format, font and border.
    let (sa, sb) = (text(&a, "xl/styles.xml"), text(&b, "xl/styles.xml"));
    for tag in [
        "numFmts",
        "fonts",
        "borders",
        "cellStyleXfs",
        "cellStyles",
        "dxfs",
    ] {
        assert_eq!(
            element(&sa, tag),
            element(&sb, tag),
            "styles: <{tag}> changed"
        );
    }
    let xfs = |t: &str| {
        let e = element(t, "cellXfs");
        let body = &e[e.find('>').unwrap() + 1..e.rfind("</").unwrap()];
        body.to_string()
    };
    assert!(
        xfs(&sb).starts_with(&xfs(&sa)),
        "the original cell formats come first"
    );
    // Every value is the same, but the blanked passwords.
    let mut x = calamine::open_workbook_auto(&src).unwrap();
    let mut y = calamine::open_workbook_auto(&out).unwrap();
    for name in x.sheet_names() {
        let (rx, ry) = (
            x.worksheet_range(&name).unwrap(),
            y.worksheet_range(&name).unwrap(),
        );
        for (r, row) in rx.rows().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let w = ry.get((r, c)).cloned().unwrap_or(calamine::Data::Empty);
                if name == "User" && c == 4 && r > 0 {
                    assert_eq!(w, calamine::Data::Empty, "User password row {r}");
                } else {
                    assert_eq!(&w, v, "{name} ({r}, {c})");
                }
            }
        }
    }
}

/// LibreOffice's soffice, or why the test cannot run.
fn soffice() -> Option<PathBuf> {
    let found = ["/usr/bin/soffice", "/usr/bin/libreoffice"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("FERRY_REQUIRE_LIBREOFFICE").is_err(),
            "LibreOffice is needed (Debian: libreoffice-calc-nogui; .ci/run installs it)"
        );
        eprintln!("skipped: LibreOffice is not installed (Debian: libreoffice-calc-nogui)");
    }
    found
}

fn convert(soffice: &Path, dir: &Path, input: &Path, to: &str, outdir: &Path) {
    let profile = dir.join("lo-profile");
    let out = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(outdir)
        .arg(input)
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "soffice: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Counts pixels near red and near yellow in binary PPM pages.
fn coloured_pixels(dir: &Path) -> (u64, u64) {
    let (mut red, mut yellow) = (0, 0);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) != Some("ppm") {
            continue;
        }
        let b = std::fs::read(&p).unwrap();
        // P6 <w> <h> <max> then RGB bytes
        let mut fields = 0;
        let mut i = 0;
        while fields < 4 {
            while b[i].is_ascii_whitespace() {
                i += 1;
            }
            while !b[i].is_ascii_whitespace() {
                i += 1;
            }
            fields += 1;
        }
        for px in b[i + 1..].chunks_exact(3) {
            let (r, g, bl) = (px[0] as i32, px[1] as i32, px[2] as i32);
            if r > 230 && (g - 0x7C).abs() < 40 && (bl - 0x80).abs() < 40 {
                red += 1;
            } else if r > 230 && g > 230 && bl < 60 {
                yellow += 1;
            }
        }
    }
    (red, yellow)
}

#[test]
fn libreoffice_opens_and_renders_the_marks() {
    let Some(soffice) = soffice() else { return };
    let s = scratch();
    let dir = s.path();
    let src = example("mistakes/mistakes.xlsx");
    let r = ferry(
        dir,
        &[
            "import",
            src.to_str().unwrap(),
            "--test-only",
            "--log",
            "f.jsonl",
            "--annotate",
            "out.xlsx",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = findings(&dir.join("f.jsonl"));
    let out = dir.join("out.xlsx");

    // Rendered: the pages show red and yellow cells.
    let pdf_dir = dir.join("pdf");
    std::fs::create_dir_all(&pdf_dir).unwrap();
    convert(&soffice, dir, &out, "pdf", &pdf_dir);
    let pdf = pdf_dir.join("out.pdf");
    assert!(pdf.exists());
    let ppm = Command::new("pdftoppm")
        .args(["-r", "20"])
        .arg(&pdf)
        .arg(pdf_dir.join("page"))
        .status();
    match ppm {
        Ok(st) if st.success() => {
            let (red, yellow) = coloured_pixels(&pdf_dir);
            assert!(
                red > 100 && yellow > 50,
                "rendered pages: {red} red and {yellow} yellow pixels"
            );
        }
        _ => assert!(
            std::env::var("FERRY_REQUIRE_LIBREOFFICE").is_err(),
            "pdftoppm (poppler-utils) is needed"
        ),
    }

    // Read by LibreOffice and written again: the fills are on the cells the findings name.
    let lo_dir = dir.join("lo");
    std::fs::create_dir_all(&lo_dir).unwrap();
    convert(&soffice, dir, &out, "xlsx:Calc MS Excel 2007 XML", &lo_dir);
    check_marks(&src, &lo_dir.join("out.xlsx"), &findings, false);
}

/// Two workbook inputs: one annotated copy each, named after OUT and the input.
#[test]
fn several_workbooks_get_one_copy_each() {
    let s = scratch();
    let dir = s.path();
    let src = example("mistakes/mistakes.xlsx");
    std::fs::create_dir_all(dir.join("b")).unwrap();
    let club = example("club/club.xlsx");
    let r = ferry(
        dir,
        &[
            "import",
            club.to_str().unwrap(),
            src.to_str().unwrap(),
            "--test-only",
            "--annotate",
            "out.xlsx",
        ],
    );
    assert!(r.code == 1 || r.code == 0, "{}", r.stderr);
    assert!(dir.join("out-club.xlsx").exists(), "{}", r.stderr);
    assert!(dir.join("out-mistakes.xlsx").exists(), "{}", r.stderr);
    assert_eq!(marks(&dir.join("out-club.xlsx")).sheets[0].0, "Findings");
}
