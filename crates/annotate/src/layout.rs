//! What the copy will hold, decided before anything is written: the workbook's parts, each
//! sheet's plan (marks, secret columns, key column, its comment and drawing parts), the order of
//! the findings, and the names of the parts to add.

use crate::error::Damage;
use crate::package::{self, Book, Rel};
use crate::sheet::{CellMark, Secret};
use crate::sheet_scan::{self, HeaderCell};
use crate::source::{fresh, fresh_id, Source};
use crate::spool::{self, FindingSet, NO_SHEET};
use crate::{comments, findings_sheet, strings};
use ferry_findings::Severity;
use std::collections::{HashMap, HashSet};

pub(crate) const CONTENT_TYPES: &str = "[Content_Types].xml";

/// One sheet of the source and what happens to it.
#[derive(Default)]
pub(crate) struct Plan {
    pub name: String,
    pub part: Option<String>,
    pub marks: Vec<CellMark>,
    /// For each mark, its findings: a range of `members`.
    pub groups: Vec<(u32, u32)>,
    pub members: Vec<u32>,
    pub secrets: Vec<(u32, Secret)>,
    pub key_col: Option<u32>,
    pub rels_name: String,
    pub rels: Option<Vec<Rel>>,
    pub comments: Option<String>,
    pub new_comments: Option<(String, String)>,
    pub new_vml: (String, String),
    pub vml_parts: Vec<String>,
    pub first_block: u32,
}

impl Plan {
    pub fn rewritten(&self) -> bool {
        self.part.is_some() && (!self.marks.is_empty() || !self.secrets.is_empty())
    }

    /// A sheet with marks, hence comments and notes.
    pub fn flagged(&self) -> bool {
        self.part.is_some() && !self.marks.is_empty()
    }
}

/// The workbook's package parts.
pub(crate) struct Workbook {
    pub ct: String,
    pub wb_name: String,
    pub wb: String,
    pub wb_rels_name: String,
    pub wb_rels_text: String,
    pub wb_rels: Vec<Rel>,
    pub book: Book,
}

/// Reads `[Content_Types].xml`, the workbook and its relationships.
pub(crate) fn workbook(src: &mut Source) -> Result<Workbook, Damage> {
    let ct = src
        .read(CONTENT_TYPES)?
        .ok_or_else(|| Damage::NotAWorkbook(CONTENT_TYPES.into()))?;
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
        .ok_or_else(|| Damage::NotAWorkbook(wb_name.clone()))?;
    let wb_rels_name = package::rels_name(&wb_name);
    let wb_rels_text = src
        .read(&wb_rels_name)?
        .ok_or_else(|| Damage::NotAWorkbook(wb_rels_name.clone()))?;
    let wb_rels = package::parse_rels(&wb_rels_text, &wb_rels_name)?;
    let book = package::parse_workbook(&wb)?;
    Ok(Workbook {
        ct,
        wb_name,
        wb,
        wb_rels_name,
        wb_rels_text,
        wb_rels,
        book,
    })
}

/// Which cell a finding marks.
pub(crate) struct Cells {
    /// For each sheet of the findings, the workbook sheet it is.
    pub sheet_of: Vec<Option<usize>>,
    key_cols: Vec<Option<u32>>,
}

impl Cells {
    /// The cell (column, row) a finding marks: its own, else its row's key cell (column A when
    /// the sheet has no key column); none without a sheet or a row.
    pub fn cell_of(&self, k: &spool::Key) -> Option<(u32, u32)> {
        if k.sheet == NO_SHEET || k.row == 0 || k.row > 1_048_576 {
            return None;
        }
        let key_col = self.sheet(k).and_then(|i| self.key_cols[i]);
        Some((k.col.or(key_col).unwrap_or(0), k.row))
    }

    /// The workbook sheet of a finding.
    pub fn sheet(&self, k: &spool::Key) -> Option<usize> {
        self.sheet_of.get(k.sheet as usize).copied().flatten()
    }

    /// Findings without a sheet first, then in tab order, then those of unknown sheets.
    fn rank(&self, k: &spool::Key) -> usize {
        if k.sheet == NO_SHEET {
            return 0;
        }
        match self.sheet(k) {
            Some(i) => i + 1,
            None => self.key_cols.len() + 1 + k.sheet as usize,
        }
    }
}

/// The sheets and the other parts the copy touches.
pub(crate) struct Layout {
    pub plans: Vec<Plan>,
    /// The workbook's own `Findings` sheet, if it has one.
    pub existing_findings: Option<usize>,
    pub styles_part: Option<String>,
    pub styles_text: Option<String>,
    pub sst_part: Option<String>,
    pub sst_count: u32,
    pub cells: Cells,
    /// Finding indexes in sheet, row, column order.
    pub order: Vec<u32>,
}

/// Plans every sheet: its secrets, key column and marks.
pub(crate) fn layout(src: &mut Source, wbk: &Workbook, set: &FindingSet) -> Result<Layout, Damage> {
    let target = |r: &Rel| package::resolve(&wbk.wb_name, &r.target);
    // Every sheet, in tab order, with its part (chart and dialog sheets have none).
    let mut plans: Vec<Plan> = wbk
        .book
        .sheets
        .iter()
        .map(|s| Plan {
            name: s.name.clone(),
            part: wbk
                .wb_rels
                .iter()
                .find(|r| r.id == s.rid && r.is(package::T_WORKSHEET))
                .map(target)
                .filter(|p| src.find(p).is_some()),
            ..Default::default()
        })
        .collect();
    let existing_findings = plans
        .iter()
        .position(|p| p.name.eq_ignore_ascii_case(findings_sheet::SHEET));
    let styles_part = wbk
        .wb_rels
        .iter()
        .find(|r| r.is(package::T_STYLES))
        .map(target);
    let styles_text = match &styles_part {
        Some(p) => src.read(p)?,
        None => None,
    };
    let sst_part = wbk
        .wb_rels
        .iter()
        .find(|r| r.is(package::T_SST))
        .map(target)
        .filter(|p| src.find(p).is_some());
    let sheet_of = sheets_of(&plans, set);
    let sst_count = read_headers(src, &mut plans, set, &sheet_of, sst_part.as_deref())?;
    let cells = Cells {
        sheet_of,
        key_cols: plans.iter().map(|p| p.key_col).collect(),
    };
    let order = place_marks(&mut plans, set, &cells);
    Ok(Layout {
        plans,
        existing_findings,
        styles_part,
        styles_text,
        sst_part,
        sst_count,
        cells,
        order,
    })
}

/// Which of the findings' sheets is which sheet of the workbook.
fn sheets_of(plans: &[Plan], set: &FindingSet) -> Vec<Option<usize>> {
    let by_name: HashMap<&str, usize> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    set.sheets
        .iter()
        .map(|n| by_name.get(&**n).copied())
        .collect()
}

/// Reads the header rows: secret columns and key columns of entity sheets. Returns the count of
/// shared strings.
fn read_headers(
    src: &mut Source,
    plans: &mut [Plan],
    set: &FindingSet,
    sheet_of: &[Option<usize>],
    sst_part: Option<&str>,
) -> Result<u32, Damage> {
    let mut has_findings = vec![false; plans.len()];
    for k in &set.keys {
        if let Some(Some(i)) = sheet_of.get(k.sheet as usize) {
            has_findings[*i] = true;
        }
    }
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
        let h = sheet_scan::header(src.stream(part)?).map_err(Damage::in_part(part))?;
        for (_, c) in &h {
            if let HeaderCell::Shared(n) = c {
                wanted.insert(*n);
            }
        }
        headers[i] = h;
    }
    let (sst_count, sst_texts) = match sst_part {
        Some(p) => strings::scan(src.stream(p)?, &wanted).map_err(Damage::in_part(p))?,
        None => (0, HashMap::new()),
    };
    for (p, header) in plans.iter_mut().zip(&headers) {
        columns_of(p, header, &sst_texts);
    }
    Ok(sst_count)
}

/// The secret columns and the key column of an entity sheet, from its header row.
fn columns_of(p: &mut Plan, header: &[(u32, HeaderCell)], sst_texts: &HashMap<u32, String>) {
    let Some(e) = ferry_catalogue::entity(&p.name) else {
        return;
    };
    let key = e.key_fields().first().copied();
    for (col, cell) in header {
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

/// Orders the findings (sheet, row, column) and marks their cells, one mark per cell with the
/// highest severity. Returns the order.
fn place_marks(plans: &mut [Plan], set: &FindingSet, cells: &Cells) -> Vec<u32> {
    let mut order: Vec<u32> = (0..set.keys.len() as u32).collect();
    order.sort_by_key(|&i| {
        let k = &set.keys[i as usize];
        let (col, row) = cells.cell_of(k).unwrap_or((0, k.row));
        (cells.rank(k), row, col, k.seq)
    });
    for &i in &order {
        let k = set.keys[i as usize];
        if k.severity == Severity::Info {
            continue;
        }
        let (Some(p), Some((col, row))) = (cells.sheet(&k), cells.cell_of(&k)) else {
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
    order
}

/// The parts the copy adds, and their content types.
pub(crate) struct NewParts {
    pub overrides: Vec<(String, &'static str)>,
    pub findings_part: String,
    pub findings_rid: String,
    /// (relationship id, part) of a new styles part, when the source has none.
    pub styles_new: Option<(String, String)>,
}

/// Names the parts to add: comments and VML drawings of the flagged sheets, the Findings sheet,
/// and a styles part if the source has none.
pub(crate) fn new_parts(
    src: &mut Source,
    wbk: &Workbook,
    lay: &mut Layout,
) -> Result<NewParts, Damage> {
    let mut taken = HashSet::new();
    let mut overrides = vec![];
    sheet_parts(src, &mut lay.plans, &mut taken, &mut overrides)?;
    let findings_part = match lay
        .existing_findings
        .and_then(|i| lay.plans[i].part.clone())
    {
        Some(p) => p,
        None => {
            let name = fresh(src, &mut taken, "xl/worksheets/sheet", ".xml");
            overrides.push((name.clone(), package::CT_WORKSHEET));
            name
        }
    };
    let findings_rid = fresh_id(&wbk.wb_rels, &mut HashSet::new(), "rIdFerryFindings");
    let styles_new = match (&lay.styles_part, &lay.styles_text) {
        (Some(_), Some(_)) => None,
        _ => {
            let name = fresh(src, &mut taken, "xl/styles", ".xml");
            overrides.push((name.clone(), package::CT_STYLES));
            Some((
                fresh_id(
                    &wbk.wb_rels,
                    &mut HashSet::from([findings_rid.clone()]),
                    "rIdFerryStyles",
                ),
                name,
            ))
        }
    };
    Ok(NewParts {
        overrides,
        findings_part,
        findings_rid,
        styles_new,
    })
}

/// The relationships, comments and VML parts of each flagged sheet, and its first shape block.
fn sheet_parts(
    src: &mut Source,
    plans: &mut [Plan],
    taken: &mut HashSet<String>,
    overrides: &mut Vec<(String, &'static str)>,
) -> Result<(), Damage> {
    let mut next_block = 1u32;
    for n in src.names.clone() {
        if n.to_ascii_lowercase().ends_with(".vml") {
            if let Some(t) = src.read(&n).ok().flatten() {
                next_block = next_block.max(comments::max_block(&t) + 1);
            }
        }
    }
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
            let name = fresh(src, taken, "xl/comments", ".xml");
            overrides.push((name.clone(), package::CT_COMMENTS));
            p.new_comments = Some((fresh_id(list, &mut ids, "rIdFerryComments"), name));
        }
        p.new_vml = (
            fresh_id(list, &mut ids, "rIdFerryNotes"),
            fresh(src, taken, "xl/drawings/vmlDrawing", ".vml"),
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
    Ok(())
}
