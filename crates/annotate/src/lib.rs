//! `--annotate` (SPEC §10): a copy of a source workbook in which every cell with an error is
//! filled red and every cell with a warning yellow, each with a comment holding the messages,
//! and a new first sheet `Findings` that lists every finding with a link to its cell.
//!
//! Why no crate does this: no Rust crate rewrites an existing workbook faithfully.
//! umya-spreadsheet can add a fill and a comment, but it re-serialises every part (its
//! sharedStrings grew 5.5 → 9.9 MB on 100k rows, in 357 MB of memory), silently dropped the
//! formulas of "between" data validations, and cannot stream; rust_xlsxwriter writes new
//! workbooks only; calamine only reads. So the annotator copies every zip entry it need not
//! change byte for byte (`zip`'s `raw_copy_file`: no inflating, no re-compressing) and
//! rewrites, streaming with quick-xml, only the parts it must: styles.xml (two fills, cloned
//! cell formats), the flagged sheets (`s=` attributes, new empty cells, `<legacyDrawing>`,
//! secrets), their relationships, comments and VML drawings, workbook.xml and its
//! relationships (the new first sheet), [Content_Types].xml, and the shared strings when a
//! secret is kept there. Memory holds one key per finding, never a sheet.

mod comments;
mod findings_sheet;
mod package;
mod sheet;
mod spool;
mod strings;
mod styles;
mod xml;

pub use findings_sheet::SHEET as FINDINGS_SHEET;
pub use spool::FindingSet;
pub use styles::{ERROR_RGB, WARNING_RGB};

use ferry_findings::Severity;
use package::{NewRel, Rel};
use sheet::{CellMark, HeaderCell, Secret};
use spool::NO_SHEET;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{ZipArchive, ZipWriter};

/// Parts read whole (workbook.xml, styles, relationships, VML) may not inflate beyond this.
const MAX_SMALL_PART: u64 = 64 * 1024 * 1024;
/// Findings shown in one comment; the rest are counted.
const MAX_PER_COMMENT: usize = 20;
/// Characters of one message in a comment.
const MAX_MESSAGE: usize = 1000;

/// Why a workbook could not be annotated.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error("{path}: cannot annotate this workbook: {message}")]
    Damaged { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What the annotated copy holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Findings listed on the `Findings` sheet.
    pub findings: u64,
    /// Cells filled red or yellow.
    pub marked_cells: u64,
    /// Of those, cells the source did not have.
    pub created_cells: u64,
    /// Secret cells blanked or masked.
    pub secrets: u64,
}

/// The zip entries of the source, by name.
struct Source {
    zip: ZipArchive<BufReader<File>>,
    names: Vec<String>,
    index: HashMap<String, usize>,
    lower: HashMap<String, usize>,
}

impl Source {
    fn find(&self, name: &str) -> Option<usize> {
        self.index
            .get(name)
            .or_else(|| self.lower.get(&name.to_ascii_lowercase()))
            .copied()
    }

    fn read(&mut self, name: &str) -> Result<Option<String>, String> {
        let Some(i) = self.find(name) else {
            return Ok(None);
        };
        let entry = self.zip.by_index(i).map_err(|e| format!("{name}: {e}"))?;
        if entry.size() > MAX_SMALL_PART {
            return Err(format!(
                "{name} inflates to {} bytes, more than this part may",
                entry.size()
            ));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .take(MAX_SMALL_PART)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{name}: {e}"))?;
        if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            bytes.drain(..3);
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| format!("{name} is not UTF-8"))
    }

    fn stream(
        &mut self,
        name: &str,
    ) -> Result<BufReader<zip::read::ZipFile<'_, BufReader<File>>>, String> {
        let i = self
            .find(name)
            .ok_or_else(|| format!("{name} is missing"))?;
        let entry = self.zip.by_index(i).map_err(|e| format!("{name}: {e}"))?;
        Ok(BufReader::with_capacity(1 << 16, entry))
    }
}

/// A fresh part name `{stem}{n}{ext}` that the source does not use.
fn fresh(src: &Source, taken: &mut HashSet<String>, stem: &str, ext: &str) -> String {
    (1..)
        .map(|n| format!("{stem}{n}{ext}"))
        .find(|n| src.find(n).is_none() && taken.insert(n.to_ascii_lowercase()))
        .expect("a free name")
}

/// A relationship id that `rels` does not use.
fn fresh_id(rels: &[Rel], taken: &mut HashSet<String>, stem: &str) -> String {
    let mut id = stem.to_string();
    let mut n = 1;
    while rels.iter().any(|r| r.id == id) || !taken.insert(id.clone()) {
        n += 1;
        id = format!("{stem}{n}");
    }
    id
}

/// One sheet of the source and what happens to it.
#[derive(Default)]
struct Plan {
    name: String,
    part: Option<String>,
    marks: Vec<CellMark>,
    /// For each mark, its findings: a range of `members`.
    groups: Vec<(u32, u32)>,
    members: Vec<u32>,
    secrets: Vec<(u32, Secret)>,
    key_col: Option<u32>,
    rels_name: String,
    rels: Option<Vec<Rel>>,
    comments: Option<String>,
    new_comments: Option<(String, String)>,
    new_vml: (String, String),
    vml_parts: Vec<String>,
    first_block: u32,
}

impl Plan {
    fn rewritten(&self) -> bool {
        self.part.is_some() && (!self.marks.is_empty() || !self.secrets.is_empty())
    }
}

/// Where the annotated copies go (`--annotate OUT.xlsx`): `OUT` when the run has one workbook
/// input; with several, one copy per workbook named after `OUT` and the input
/// (`out.xlsx` with `a.xlsx` and `b.xlsx` → `out-a.xlsx`, `out-b.xlsx`). XML files and CSV
/// folders have no cells to mark and get none. Refused: an `OUT` not ending in `.xlsx`, a run
/// with no workbook input, and a copy that would overwrite an input.
pub fn outputs(inputs: &[PathBuf], out: &Path) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let is_xlsx = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
    };
    if !is_xlsx(out) {
        return Err(format!(
            "--annotate {}: the name must end in .xlsx",
            out.display()
        ));
    }
    let books: Vec<&PathBuf> = inputs
        .iter()
        .filter(|p| is_xlsx(p) && p.is_file())
        .collect();
    if books.is_empty() {
        return Err("--annotate needs a workbook (.xlsx) input: XML files and CSV folders have no cells to mark".into());
    }
    let mut pairs: Vec<(PathBuf, PathBuf)> = vec![];
    if books.len() == 1 {
        pairs.push((books[0].clone(), out.to_path_buf()));
    } else {
        let stem = out
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("annotated");
        for b in &books {
            let own = b.file_stem().and_then(|s| s.to_str()).unwrap_or("workbook");
            let mut name = out.with_file_name(format!("{stem}-{own}.xlsx"));
            let mut n = 2;
            while pairs.iter().any(|(_, o)| *o == name) {
                name = out.with_file_name(format!("{stem}-{own}-{n}.xlsx"));
                n += 1;
            }
            pairs.push(((*b).clone(), name));
        }
    }
    let real = |p: &Path| -> Option<PathBuf> {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    for (_, o) in &pairs {
        if inputs
            .iter()
            .any(|i| real(i).is_some() && real(i) == real(o))
        {
            return Err(format!(
                "--annotate {}: that is an input; the annotated copy must go to another file",
                o.display()
            ));
        }
        if real(o).is_none() {
            return Err(format!(
                "--annotate {}: its folder does not exist",
                o.display()
            ));
        }
    }
    Ok(pairs)
}

/// Writes an annotated copy of `source` to `out`, marking the findings of `set`.
pub fn annotate(source: &Path, set: &mut FindingSet, out: &Path) -> Result<Summary, AnnotateError> {
    let shown = source.display().to_string();
    let damaged = |message: String| AnnotateError::Damaged {
        path: shown.clone(),
        message,
    };
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The same bounds as the import's reader: no part, event, cell or shared string beyond
    // the limits is ever parsed (a hostile workbook is refused before it is held in memory).
    let limits = ferry_sources::Limits::from_env().unwrap_or_default();
    ferry_sources::check_workbook(source, &limits).map_err(|e| match e {
        ferry_sources::SourceError::Refused { message, .. }
        | ferry_sources::SourceError::Malformed { message, .. } => damaged(message),
        other => damaged(other.to_string()),
    })?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| AnnotateError::Io {
        path: out.display().to_string(),
        source: e,
    })?;
    let file = File::open(source).map_err(|e| AnnotateError::Io {
        path: shown.clone(),
        source: e,
    })?;
    let zip = ZipArchive::new(BufReader::new(file))
        .map_err(|e| damaged(format!("the zip container is damaged ({e})")))?;
    let mut names = vec![];
    for i in 0..zip.len() {
        let name = match zip.name_for_index(i) {
            Some(Ok(n)) => n.to_string(),
            _ => {
                return Err(damaged(format!(
                    "entry {i} of the zip has no readable name"
                )))
            }
        };
        names.push(name);
    }
    let index = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let lower = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_ascii_lowercase(), i))
        .collect();
    let mut src = Source {
        zip,
        names,
        index,
        lower,
    };
    let w = BufWriter::with_capacity(
        1 << 16,
        tmp.reopen().map_err(|e| AnnotateError::Io {
            path: out.display().to_string(),
            source: e,
        })?,
    );
    let summary = build(&mut src, set, w).map_err(damaged)?;
    // The copy is as readable as its source (its secrets are gone).
    if let Ok(meta) = std::fs::metadata(source) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(out).map_err(|e| AnnotateError::Io {
        path: out.display().to_string(),
        source: e.error,
    })?;
    Ok(summary)
}

fn build<W: Write + std::io::Seek>(
    src: &mut Source,
    set: &mut FindingSet,
    w: W,
) -> Result<Summary, String> {
    let ct_name = "[Content_Types].xml";
    let ct = src
        .read(ct_name)?
        .ok_or("it has no [Content_Types].xml: not a workbook")?;
    let root_rels = match src.read("_rels/.rels")? {
        Some(t) => package::parse_rels(&t, "_rels/.rels")?,
        None => vec![],
    };
    let wb_name = root_rels
        .iter()
        .find(|r| r.is(package::T_OFFICE_DOCUMENT))
        .map(|r| package::resolve("", &r.target))
        .unwrap_or_else(|| "xl/workbook.xml".into());
    let wb = src
        .read(&wb_name)?
        .ok_or_else(|| format!("it has no {wb_name}: not a workbook"))?;
    let wb_rels_name = package::rels_name(&wb_name);
    let wb_rels_text = src
        .read(&wb_rels_name)?
        .ok_or_else(|| format!("it has no {wb_rels_name}: not a workbook"))?;
    let wb_rels = package::parse_rels(&wb_rels_text, &wb_rels_name)?;
    let book = package::parse_workbook(&wb)?;
    let target = |r: &Rel| package::resolve(&wb_name, &r.target);

    // Every sheet, in tab order, with its part (chart and dialog sheets have none).
    let mut plans: Vec<Plan> = book
        .sheets
        .iter()
        .map(|s| {
            let part = wb_rels
                .iter()
                .find(|r| r.id == s.rid && r.is(package::T_WORKSHEET))
                .map(target)
                .filter(|p| src.find(p).is_some());
            Plan {
                name: s.name.clone(),
                part,
                ..Default::default()
            }
        })
        .collect();
    let existing_findings = plans
        .iter()
        .position(|p| p.name.eq_ignore_ascii_case(findings_sheet::SHEET));
    let styles_part = wb_rels.iter().find(|r| r.is(package::T_STYLES)).map(target);
    let styles_text = match &styles_part {
        Some(p) => src.read(p)?,
        None => None,
    };
    let sst_part = wb_rels
        .iter()
        .find(|r| r.is(package::T_SST))
        .map(target)
        .filter(|p| src.find(p).is_some());

    // Which of the findings' sheets is which sheet of the workbook.
    let by_name: HashMap<&str, usize> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let sheet_of: Vec<Option<usize>> = set
        .sheets
        .iter()
        .map(|n| by_name.get(&**n).copied())
        .collect();
    let mut has_findings = vec![false; plans.len()];
    for k in &set.keys {
        if let Some(Some(i)) = sheet_of.get(k.sheet as usize) {
            has_findings[*i] = true;
        }
    }

    // Header rows: secret columns and key columns of entity sheets.
    let mut headers: Vec<Vec<(u32, HeaderCell)>> = vec![vec![]; plans.len()];
    let mut wanted = HashSet::new();
    for (i, p) in plans.iter().enumerate() {
        let Some(e) = ferry_catalogue::entity(&p.name) else {
            continue;
        };
        let secret = e.fields.iter().any(|f| f.is_secret());
        let Some(part) = &p.part else { continue };
        if !(secret || has_findings[i] && !e.key_fields().is_empty()) {
            continue;
        }
        let h = sheet::header(src.stream(part)?).map_err(|e| format!("{part}: {e}"))?;
        for (_, c) in &h {
            if let HeaderCell::Shared(n) = c {
                wanted.insert(*n);
            }
        }
        headers[i] = h;
    }
    let (sst_count, sst_texts) = match &sst_part {
        Some(p) => strings::scan(src.stream(p)?, &wanted).map_err(|e| format!("{p}: {e}"))?,
        None => (0, HashMap::new()),
    };
    for (i, p) in plans.iter_mut().enumerate() {
        let Some(e) = ferry_catalogue::entity(&p.name) else {
            continue;
        };
        let key = e.key_fields().first().copied();
        for (col, cell) in &headers[i] {
            let name = match cell {
                HeaderCell::Shared(n) => sst_texts.get(n).map(|s| s.trim()).unwrap_or(""),
                HeaderCell::Text(t) => t.as_str(),
            };
            if let Some(f) = e.field_def(name) {
                match f.kind {
                    ferry_catalogue::Kind::Password => p.secrets.push((*col, Secret::Blank)),
                    ferry_catalogue::Kind::SecretNumber => p.secrets.push((*col, Secret::Mask)),
                    _ => {}
                }
            }
            if Some(name) == key && p.key_col.is_none() {
                p.key_col = Some(*col);
            }
        }
    }

    // The findings in sheet, row, column order; a finding without a cell marks its row's key
    // cell (column A when the sheet has no key column).
    let nplans = plans.len();
    let key_cols: Vec<Option<u32>> = plans.iter().map(|p| p.key_col).collect();
    let sheet_rank = |k: &spool::Key| -> usize {
        if k.sheet == NO_SHEET {
            0
        } else {
            match sheet_of.get(k.sheet as usize).copied().flatten() {
                Some(i) => i + 1,
                None => nplans + 1 + k.sheet as usize,
            }
        }
    };
    let cell_of = |k: &spool::Key| -> Option<(u32, u32)> {
        if k.sheet == NO_SHEET || k.row == 0 || k.row > 1_048_576 {
            return None;
        }
        let key_col = sheet_of
            .get(k.sheet as usize)
            .copied()
            .flatten()
            .and_then(|i| key_cols[i]);
        Some((k.col.or(key_col).unwrap_or(0), k.row))
    };
    let mut order: Vec<u32> = (0..set.keys.len() as u32).collect();
    order.sort_by_key(|&i| {
        let k = &set.keys[i as usize];
        let (col, row) = cell_of(k).unwrap_or((0, k.row));
        (sheet_rank(k), row, col, k.seq)
    });
    for &i in &order {
        let k = set.keys[i as usize];
        if k.severity == Severity::Info {
            continue;
        }
        let (Some(p), Some((col, row))) = (
            sheet_of.get(k.sheet as usize).copied().flatten(),
            cell_of(&k),
        ) else {
            continue;
        };
        let plan = &mut plans[p];
        if plan.part.is_none() {
            continue;
        }
        match plan.marks.last_mut() {
            Some(m) if m.row == row && m.col == col => {
                m.severity = m.severity.max(k.severity);
                plan.groups.last_mut().expect("a group per mark").1 += 1;
            }
            _ => {
                plan.marks.push(CellMark {
                    row,
                    col,
                    severity: k.severity,
                });
                plan.groups.push((plan.members.len() as u32, 1));
            }
        }
        plan.members.push(i);
    }

    // Names of the parts to add.
    let mut taken = HashSet::new();
    let mut next_block = 1u32;
    for n in src.names.clone() {
        if n.to_ascii_lowercase().ends_with(".vml") {
            if let Some(t) = src.read(&n).ok().flatten() {
                next_block = next_block.max(comments::max_block(&t) + 1);
            }
        }
    }
    let mut overrides: Vec<(String, &str)> = vec![];
    for p in plans.iter_mut() {
        let Some(part) = p.part.clone() else { continue };
        if p.marks.is_empty() {
            continue;
        }
        p.rels_name = package::rels_name(&part);
        let rels = match src.read(&p.rels_name)? {
            Some(t) => Some(package::parse_rels(&t, &p.rels_name)?),
            None => None,
        };
        let empty = vec![];
        let list = rels.as_ref().unwrap_or(&empty);
        let mut ids = HashSet::new();
        p.comments = list
            .iter()
            .find(|r| r.is(package::T_COMMENTS))
            .map(|r| package::resolve(&part, &r.target))
            .filter(|c| src.find(c).is_some());
        if p.comments.is_none() {
            let name = fresh(src, &mut taken, "xl/comments", ".xml");
            overrides.push((name.clone(), package::CT_COMMENTS));
            p.new_comments = Some((fresh_id(list, &mut ids, "rIdFerryComments"), name));
        }
        p.new_vml = (
            fresh_id(list, &mut ids, "rIdFerryNotes"),
            fresh(src, &mut taken, "xl/drawings/vmlDrawing", ".vml"),
        );
        p.vml_parts = list
            .iter()
            .filter(|r| r.is(package::T_VML))
            .map(|r| package::resolve(&part, &r.target))
            .collect();
        p.first_block = next_block;
        next_block += comments::blocks(p.marks.len());
        p.rels = rels;
    }
    let findings_part = match existing_findings.and_then(|i| plans[i].part.clone()) {
        Some(p) => p,
        None => {
            let name = fresh(src, &mut taken, "xl/worksheets/sheet", ".xml");
            overrides.push((name.clone(), package::CT_WORKSHEET));
            name
        }
    };
    let findings_rid = fresh_id(&wb_rels, &mut HashSet::new(), "rIdFerryFindings");
    let styles_new = match (&styles_part, &styles_text) {
        (Some(_), Some(_)) => None,
        _ => {
            let name = fresh(src, &mut taken, "xl/styles", ".xml");
            overrides.push((name.clone(), package::CT_STYLES));
            Some((
                fresh_id(
                    &wb_rels,
                    &mut HashSet::from([findings_rid.clone()]),
                    "rIdFerryStyles",
                ),
                name,
            ))
        }
    };
    let mut styles =
        styles::Styles::parse(styles_text.unwrap_or_else(|| styles::MINIMAL.to_string()))
            .map_err(|e| format!("{}: {e}", styles_part.as_deref().unwrap_or("styles")))?;

    // Parts written after the sheets, when what they need is known.
    let mut deferred: HashSet<String> = HashSet::new();
    deferred.extend(styles_part.clone());
    deferred.extend(sst_part.clone());
    deferred.insert(findings_part.clone());
    for p in plans
        .iter()
        .filter(|p| !p.marks.is_empty() && p.part.is_some())
    {
        deferred.insert(p.rels_name.clone());
        deferred.extend(p.comments.clone());
        deferred.extend(p.vml_parts.iter().cloned());
    }
    let deferred: HashSet<String> = deferred.iter().map(|n| n.to_ascii_lowercase()).collect();
    let rewritten: HashMap<String, usize> = plans
        .iter()
        .enumerate()
        .filter(|(_, p)| p.rewritten())
        .map(|(i, p)| (p.part.clone().unwrap_or_default().to_ascii_lowercase(), i))
        .collect();

    let mut z = ZipWriter::new(w);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let zerr = |e: zip::result::ZipError| format!("writing the annotated copy: {e}");
    let ioerr = |e: std::io::Error| format!("writing the annotated copy: {e}");
    let put = |z: &mut ZipWriter<W>, name: &str, text: &str| -> Result<(), String> {
        z.start_file(name, opts).map_err(zerr)?;
        z.write_all(text.as_bytes()).map_err(ioerr)
    };
    let mut strings = strings::SecretStrings::new(sst_count);
    let mut summary = Summary::default();
    let mut legacy: HashMap<usize, Option<String>> = HashMap::new();
    let mut untouched_sheets = vec![];
    let sheet_parts: HashSet<String> = plans
        .iter()
        .filter_map(|p| p.part.clone())
        .map(|p| p.to_ascii_lowercase())
        .collect();

    for i in 0..src.names.len() {
        let name = src.names[i].clone();
        let low = name.to_ascii_lowercase();
        if name == ct_name {
            let mut ov = overrides.clone();
            ov.retain(|(n, _)| !n.is_empty());
            let text = package::add_content_types(&ct, true, &ov)?;
            put(&mut z, &name, &text)?;
        } else if name == wb_name {
            let text = if existing_findings.is_some() {
                wb.clone()
            } else {
                package::insert_first_sheet(
                    &wb,
                    findings_sheet::SHEET,
                    book.max_sheet_id + 1,
                    &findings_rid,
                )?
            };
            put(&mut z, &name, &text)?;
        } else if name == wb_rels_name {
            put(
                &mut z,
                &name,
                &workbook_rels(
                    &wb_rels_text,
                    &wb_rels_name,
                    existing_findings.is_none(),
                    &findings_rid,
                    &findings_part,
                    &styles_new,
                )?,
            )?;
        } else if deferred.contains(&low) {
            continue;
        } else if let Some(&pi) = rewritten.get(&low) {
            let plan = &plans[pi];
            let job = sheet::Job {
                marks: &plan.marks,
                secrets: &plan.secrets,
                legacy_rid: (!plan.marks.is_empty()).then_some(plan.new_vml.0.as_str()),
            };
            let size = src.zip.by_index_raw(i).map(|e| e.size()).unwrap_or(0);
            let o = opts.large_file(size > (1 << 31));
            z.start_file(name.as_str(), o).map_err(zerr)?;
            let input = src.stream(&name)?;
            let mut bw = BufWriter::with_capacity(1 << 16, &mut z);
            let outcome = sheet::rewrite(input, &mut bw, &job, &mut styles, &mut strings)
                .map_err(|e| format!("sheet {}: {e}", plan.name))?;
            bw.flush().map_err(ioerr)?;
            drop(bw);
            summary.marked_cells += outcome.marked;
            summary.created_cells += outcome.created;
            summary.secrets += outcome.secrets;
            legacy.insert(pi, outcome.legacy_rid);
        } else {
            if sheet_parts.contains(&low) {
                untouched_sheets.push(name.clone());
            }
            let entry = src
                .zip
                .by_index_raw(i)
                .map_err(|e| format!("{name}: {e}"))?;
            z.raw_copy_file(entry).map_err(zerr)?;
        }
    }
    if src.find(ct_name).is_none() {
        return Err("it has no [Content_Types].xml".into());
    }

    // Shared strings a secret cell used stay only if a plain cell uses them too.
    if strings.needs_rewrite() {
        for name in &untouched_sheets {
            sheet::shared_refs(src.stream(name)?, &mut strings)
                .map_err(|e| format!("{name}: {e}"))?;
        }
    }

    // Comments, notes and relationships of the flagged sheets.
    let mut texts = set.texts().map_err(ioerr)?;
    for (pi, plan) in plans.iter().enumerate() {
        let Some(part) = &plan.part else { continue };
        if plan.marks.is_empty() {
            continue;
        }
        let mut text_of = |m: usize| -> Result<String, String> {
            let (start, n) = plan.groups[m];
            let mut lines = vec![];
            for &k in plan.members[start as usize..(start + n) as usize]
                .iter()
                .take(MAX_PER_COMMENT)
            {
                let t = texts.get(&set.keys[k as usize]).map_err(ioerr)?;
                let sev = set.keys[k as usize].severity.as_str();
                let mut line = format!("{sev} ({}): {}", t.code, clip(&t.message));
                if !t.hint.is_empty() {
                    line.push_str(&format!(" {}", clip(&t.hint)));
                }
                lines.push(line);
            }
            if n as usize > MAX_PER_COMMENT {
                lines.push(format!(
                    "… and {} more findings (see the Findings sheet).",
                    n as usize - MAX_PER_COMMENT
                ));
            }
            Ok(lines.join("\n"))
        };
        let own = match (&plan.comments, &plan.new_comments) {
            (Some(existing), _) => {
                z.start_file(existing.as_str(), opts).map_err(zerr)?;
                let input = src.stream(existing)?;
                let mut bw = BufWriter::new(&mut z);
                let own = comments::merge(input, &mut bw, &plan.marks, &mut text_of)
                    .map_err(|e| format!("{existing}: {e}"))?;
                bw.flush().map_err(ioerr)?;
                own
            }
            (None, Some((_, name))) => {
                z.start_file(name.as_str(), opts).map_err(zerr)?;
                let mut bw = BufWriter::new(&mut z);
                comments::write_new(&mut bw, &plan.marks, &mut text_of)?;
                bw.flush().map_err(ioerr)?;
                vec![true; plan.marks.len()]
            }
            (None, None) => unreachable!("a flagged sheet has a comments part"),
        };
        // The sheet's own legacy drawing gets the notes; otherwise a new one.
        let rels = plan.rels.clone().unwrap_or_default();
        let own_vml = legacy
            .get(&pi)
            .cloned()
            .flatten()
            .and_then(|rid| {
                rels.iter()
                    .find(|r| r.id == rid && r.is(package::T_VML))
                    .cloned()
            })
            .map(|r| package::resolve(part, &r.target))
            .filter(|p| src.find(p).is_some());
        let mut new_rels: Vec<NewRel> = vec![];
        if let Some((rid, name)) = &plan.new_comments {
            new_rels.push((rid.clone(), package::T_COMMENTS, name.clone()));
        }
        for v in &plan.vml_parts {
            if Some(v) == own_vml.as_ref() {
                continue;
            }
            if let Some(j) = src.find(v) {
                let entry = src.zip.by_index_raw(j).map_err(|e| format!("{v}: {e}"))?;
                z.raw_copy_file(entry).map_err(zerr)?;
            }
        }
        match &own_vml {
            Some(v) => {
                let old = src.read(v)?.unwrap_or_default();
                let text = comments::append_vml(&old, &plan.marks, &own, plan.first_block)
                    .map_err(|e| format!("{v}: {e}"))?;
                put(&mut z, v, &text)?;
            }
            None => {
                let rid = match legacy.get(&pi).cloned().flatten() {
                    // The sheet names a drawing its relationships lack: give it ours.
                    Some(rid) => rid,
                    None => plan.new_vml.0.clone(),
                };
                new_rels.push((rid, package::T_VML, plan.new_vml.1.clone()));
                z.start_file(plan.new_vml.1.as_str(), opts).map_err(zerr)?;
                let mut bw = BufWriter::new(&mut z);
                comments::write_vml(&mut bw, &plan.marks, &own, plan.first_block)?;
                bw.flush().map_err(ioerr)?;
            }
        }
        let rels_text = match src.read(&plan.rels_name)? {
            Some(t) => package::add_rels(&t, &new_rels, &plan.rels_name)?,
            None => package::new_rels(&new_rels),
        };
        put(&mut z, &plan.rels_name, &rels_text)?;
    }

    // The Findings sheet.
    let error_style = styles.flagged(0, Severity::Error);
    let warning_style = styles.flagged(0, Severity::Warning);
    {
        let sheet_name = |k: &spool::Key| -> Option<&str> {
            (k.sheet != NO_SHEET).then(|| &*set.sheets[k.sheet as usize])
        };
        let keys = &set.keys;
        let mut rows = order.iter().map(|&i| {
            let k = &keys[i as usize];
            Ok(findings_sheet::Row {
                severity: k.severity,
                sheet: sheet_name(k),
                cell: cell_of(k),
                text: texts.get(k).map_err(ioerr)?,
            })
        });
        let mut links = order.iter().map(|&i| {
            let k = &keys[i as usize];
            let known = sheet_of.get(k.sheet as usize).copied().flatten().is_some();
            match (sheet_name(k), cell_of(k)) {
                (Some(s), Some((c, r))) if known => Some((s, c, r)),
                _ => None,
            }
        });
        z.start_file(findings_part.as_str(), opts).map_err(zerr)?;
        let mut bw = BufWriter::new(&mut z);
        summary.findings =
            findings_sheet::write(&mut bw, &mut rows, &mut links, error_style, warning_style)?;
        bw.flush().map_err(ioerr)?;
    }

    // Styles, then the shared strings.
    let styles_name = styles_new
        .as_ref()
        .map(|s| s.1.clone())
        .or(styles_part)
        .unwrap_or_default();
    put(&mut z, &styles_name, &styles.write()?)?;
    if let Some(p) = &sst_part {
        if strings.needs_rewrite() {
            z.start_file(p.as_str(), opts).map_err(zerr)?;
            let input = src.stream(p)?;
            let mut bw = BufWriter::with_capacity(1 << 16, &mut z);
            strings::rewrite(input, &mut bw, &strings).map_err(|e| format!("{p}: {e}"))?;
            bw.flush().map_err(ioerr)?;
        } else {
            let j = src.find(p).ok_or("the shared strings vanished")?;
            let entry = src.zip.by_index_raw(j).map_err(|e| format!("{p}: {e}"))?;
            z.raw_copy_file(entry).map_err(zerr)?;
        }
    }
    let mut w = z.finish().map_err(zerr)?;
    w.flush().map_err(ioerr)?;
    Ok(summary)
}

/// workbook.xml.rels with the Findings sheet (and a styles part, if the source had none).
fn workbook_rels(
    text: &str,
    name: &str,
    add_sheet: bool,
    rid: &str,
    part: &str,
    styles_new: &Option<(String, String)>,
) -> Result<String, String> {
    let mut rels: Vec<NewRel> = vec![];
    if add_sheet {
        rels.push((rid.to_string(), package::T_WORKSHEET, part.to_string()));
    }
    if let Some((id, p)) = styles_new {
        rels.push((id.clone(), package::T_STYLES, p.clone()));
    }
    if rels.is_empty() {
        return Ok(text.to_string());
    }
    package::add_rels(text, &rels, name)
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_MESSAGE {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX_MESSAGE).collect();
        format!("{head}…")
    }
}
