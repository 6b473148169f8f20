//! The answer key of `examples/README.md` (issue 17, "Locations"): every row's cells are where
//! the findings of a run of the mistakes set point, in each container, and where the annotated
//! workbook puts its comments — a missing value at its own (empty) cell.

mod common;
use common::xlsx::{attr, each_tag_with_comments as each_tag, local, parts, resolve};
use common::*;
use std::collections::HashMap;
use std::path::Path;

/// One place a row of the key names: file (or sheet) name, row and, when given, the column.
#[derive(Debug, Clone, PartialEq)]
struct Place {
    name: String,
    row: u64,
    column: Option<String>,
}

/// One row of the answer-key table.
#[derive(Debug)]
struct KeyRow {
    number: String,
    code: String,
    xml: Vec<Place>,
    xlsx: Vec<Place>,
    csv: Vec<Place>,
}

/// The `| # | mistake | record | expected finding | XML | XLSX | CSV |` table.
fn answer_key() -> Vec<KeyRow> {
    let readme = std::fs::read_to_string(example("README.md")).unwrap();
    let mut lines = readme.lines().skip_while(|l| {
        !l.starts_with("| # | mistake | record | expected finding | XML | XLSX | CSV |")
    });
    assert!(
        lines.next().is_some(),
        "the answer-key table is in examples/README.md"
    );
    let rows: Vec<KeyRow> = lines
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(key_row)
        .collect();
    assert_eq!(rows.len(), 27, "every mistake of the key is read");
    rows
}

fn key_row(line: &str) -> KeyRow {
    let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
    assert_eq!(cells.len(), 7, "seven cells in {line}");
    let code = cells[3]
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("a code in {line}"))
        .trim_end_matches([':', ','])
        .to_string();
    assert!(
        code.contains('.'),
        "a finding code, not {code:?}, in {line}"
    );
    KeyRow {
        number: cells[0].to_string(),
        code,
        xml: places(cells[4], "mistakes.xml"),
        xlsx: places(cells[5], ""),
        csv: places(cells[6], ""),
    }
}

/// The places of one key cell: `mistakes.xml line 616, line 617`, `` `User`!C52 ``,
/// `` `ContactEmail` row 64 ``, `` sheet `Invoices` (2 rows) ``, `` `User.csv` line 52 field 3 ``,
/// `` `mistakes_csv/Invoices.csv` (2 lines) ``. A remark in parentheses is left out; a place
/// that names no row is the header row (a whole sheet or file).
fn places(cell: &str, default_name: &str) -> Vec<Place> {
    let mut out: Vec<Place> = vec![];
    for part in cell.split(", ") {
        let part = match part.find(" (") {
            Some(i) => &part[..i],
            None => part,
        };
        let name = part
            .split('`')
            .nth(1)
            .map(|n| n.rsplit('/').next().unwrap().to_string())
            .or_else(|| out.last().map(|p| p.name.clone()))
            .unwrap_or_else(|| default_name.to_string());
        let words: Vec<&str> = part.split_whitespace().collect();
        let after = |w: &str| {
            words
                .iter()
                .position(|x| *x == w)
                .map(|i| words[i + 1].to_string())
        };
        let (row, column) = if let Some((_, cell)) = part.split_once("`!") {
            let letters: String = cell.chars().take_while(char::is_ascii_uppercase).collect();
            (cell[letters.len()..].parse().unwrap(), Some(letters))
        } else if let Some(line) = after("line").or_else(|| after("row")) {
            (line.parse().unwrap(), after("field"))
        } else {
            (1, None)
        };
        out.push(Place { name, row, column });
    }
    out
}

/// Runs a test-only import of `input` (in the copy of `examples/mistakes`) with a log and, for
/// the workbook, an annotated copy; returns the findings.
fn run(dir: &Path, input: &str, annotate: bool) -> Vec<serde_json::Value> {
    let log = format!("{}.jsonl", input.replace('/', "_"));
    let db = format!("{}.db", input.replace('/', "_"));
    let mut args = vec!["import", input, "--test-only", "--db", &db, "--log", &log];
    if annotate {
        args.extend(["--annotate", "annotated.xlsx"]);
    }
    let r = ferry(dir, &args);
    assert_eq!(r.code, 1, "{input}: {}", r.stderr);
    findings(&dir.join(log))
}

/// Whether a finding is at `place` in a container: XML and CSV by file, workbook by sheet.
fn at(f: &serde_json::Value, place: &Place, by_sheet: bool) -> bool {
    let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
    let name_ok = if by_sheet {
        s("sheet") == place.name
    } else {
        s("file").rsplit('/').next() == Some(place.name.as_str())
    };
    name_ok
        && f["row"].as_u64() == Some(place.row)
        && place.column.as_ref().is_none_or(|c| s("column") == *c)
}

fn check_container(findings: &[serde_json::Value], key: &[KeyRow], container: &str) -> Vec<String> {
    let mut wrong = vec![];
    for row in key {
        let (places, by_sheet) = match container {
            "xml" => (&row.xml, false),
            "xlsx" => (&row.xlsx, true),
            _ => (&row.csv, false),
        };
        for place in places {
            let hit = findings
                .iter()
                .any(|f| f["code"] == row.code.as_str() && at(f, place, by_sheet));
            if !hit {
                let near: Vec<String> = findings
                    .iter()
                    .filter(|f| f["code"] == row.code.as_str())
                    .map(|f| format!("{}/{}/{}", f["sheet"], f["row"], f["column"]))
                    .collect();
                wrong.push(format!(
                    "{container} #{}: no {} at {place:?}; it is at {near:?}",
                    row.number, row.code
                ));
            }
        }
    }
    wrong
}

#[test]
fn answer_key_cells_are_where_findings_and_comments_are() {
    let s = scratch();
    copy_tree(&example("mistakes"), &s.path().join("mistakes"));
    let key = answer_key();
    let mut wrong = vec![];
    for (input, container) in [
        ("mistakes/mistakes.xlsx", "xlsx"),
        ("mistakes/mistakes.xml", "xml"),
        ("mistakes/mistakes_csv", "csv"),
    ] {
        let findings = run(s.path(), input, container == "xlsx");
        wrong.extend(check_container(&findings, &key, container));
    }
    wrong.extend(check_comments(&s.path().join("annotated.xlsx"), &key));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every workbook place of the key has a comment naming the row's code on exactly that cell:
/// no other cell of that row carries it (a missing value is not painted on the Name cell).
fn check_comments(annotated: &Path, key: &[KeyRow]) -> Vec<String> {
    let comments = comments(annotated);
    let mut wrong = vec![];
    for row in key {
        let code = format!("({})", row.code);
        for place in &row.xlsx {
            let in_row: Vec<&String> = comments
                .iter()
                .filter(|((sheet, cell), text)| {
                    *sheet == place.name && cell_row(cell) == place.row && text.contains(&code)
                })
                .map(|((_, cell), _)| cell)
                .collect();
            let ok = match &place.column {
                Some(c) => in_row == [&format!("{c}{}", place.row)],
                None => in_row.len() == 1,
            };
            if !ok {
                wrong.push(format!(
                    "annotated #{}: {code} comments at {in_row:?}, the key says {place:?}",
                    row.number
                ));
            }
        }
    }
    wrong
}

fn cell_row(cell: &str) -> u64 {
    cell.trim_start_matches(|c: char| c.is_ascii_uppercase())
        .parse()
        .unwrap_or(0)
}

/// The comments of a workbook: (sheet name, cell) → text.
fn comments(path: &Path) -> HashMap<(String, String), String> {
    let parts = parts(path);
    let text =
        |name: &str| String::from_utf8(parts.get(name).cloned().unwrap_or_default()).unwrap();
    let rels = |part: &str| -> Vec<String> {
        let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
        let mut targets = vec![];
        each_tag(&text(&format!("{dir}/_rels/{file}.rels")), |e, _| {
            if let Some(t) = attr(e, "Target") {
                targets.push((attr(e, "Id").unwrap_or_default(), resolve(part, &t)));
            }
        });
        targets
            .into_iter()
            .map(|(id, t)| format!("{id}\n{t}"))
            .collect()
    };
    let book_rels: HashMap<String, String> = rels("xl/workbook.xml")
        .into_iter()
        .map(|l| {
            let (id, t) = l.split_once('\n').unwrap();
            (id.to_string(), t.to_string())
        })
        .collect();
    let mut sheets = vec![];
    each_tag(&text("xl/workbook.xml"), |e, _| {
        if local(e.name().0) == "sheet" {
            let id = attr(e, "id").unwrap();
            sheets.push((attr(e, "name").unwrap(), book_rels[&id].clone()));
        }
    });
    let mut out = HashMap::new();
    for (sheet, part) in sheets {
        for target in rels(&part).iter().filter_map(|l| l.split_once('\n')) {
            if !target.1.contains("comments") {
                continue;
            }
            each_tag(&text(target.1), |e, inner| {
                if local(e.name().0) == "comment" {
                    out.insert((sheet.clone(), attr(e, "ref").unwrap()), inner.to_string());
                }
            });
        }
    }
    out
}
