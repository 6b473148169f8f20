//! One page of a run's findings for the console: filtered (severity, code, entity type, text)
//! and paged in the database, so that 100,000 findings are as quick as ten, in reading order
//! (`FindingOrder::Reading`: errors, warnings, notes, root causes first); with the entity types
//! the run's findings have, for the filter's choices (the codes and their counts are
//! `findings_summary`'s).

use ferry_store::journal::FindingOrder;
use ferry_store::{params, Cell, Row, StoreError, Target};

/// What the findings are filtered by: an empty field does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter<'a> {
    pub severity: &'a str,
    pub code: &'a str,
    pub entity: &'a str,
    /// Found in the message, value or key (case-insensitively).
    pub text: &'a str,
}

/// A finding as recorded (absent parts empty, an absent row 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingLine {
    pub seq: i64,
    pub severity: String,
    pub code: String,
    pub entity: String,
    pub key: String,
    pub file: String,
    pub sheet: String,
    pub row: i64,
    pub col: String,
    pub field: String,
    pub value: String,
    pub message: String,
    pub hint: String,
}

/// The page asked for (clamped to the pages there are) and what it shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingsPage {
    /// Findings the filter lets through, on every page.
    pub total: i64,
    /// This page's number, from 1.
    pub page: i64,
    /// How many pages there are (at least 1).
    pub pages: i64,
    pub findings: Vec<FindingLine>,
    /// Every entity type among the run's findings, sorted.
    pub entities: Vec<String>,
}

/// The SQL condition and its parameters for `f` on run `run`.
fn condition(run: i64, f: &FindingFilter) -> (String, Vec<Cell>) {
    let mut cond = vec!["run_id = ?1".to_string()];
    let mut ps: Vec<Cell> = params![run].to_vec();
    let mut add = |sql: &str, v: &str| {
        ps.push(Cell::Text(v.to_string()));
        cond.push(sql.replace("?N", &format!("?{}", ps.len())));
    };
    if !f.severity.is_empty() {
        add("severity = ?N", f.severity);
    }
    if !f.code.is_empty() {
        add("code = ?N", f.code);
    }
    if !f.entity.is_empty() {
        add("entity = ?N", f.entity);
    }
    if !f.text.trim().is_empty() {
        let like = crate::accounts::like(f.text.trim());
        add("(lower(message) LIKE ?N ESCAPE '\\' OR lower(coalesce(value, '')) LIKE ?N ESCAPE '\\' OR lower(coalesce(key, '')) LIKE ?N ESCAPE '\\')", &like);
    }
    (cond.join(" AND "), ps)
}

/// Page `page` (from 1; clamped) of run `run`'s findings that `f` lets through, `per_page` to
/// a page, in reading order.
pub fn page(
    t: &Target,
    run: i64,
    f: &FindingFilter,
    page: Option<i64>,
    per_page: i64,
) -> Result<FindingsPage, StoreError> {
    let (wher, ps) = condition(run, f);
    let total = t.int(
        &format!("SELECT count(*) FROM run_finding WHERE {wher}"),
        &ps,
    )?;
    let per_page = per_page.max(1);
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let findings = t
        .rows(
            &format!("SELECT seq, severity, code, coalesce(entity, ''), coalesce(key, ''), coalesce(file, ''), coalesce(sheet, ''), coalesce(row, 0), coalesce(col, ''), coalesce(field, ''), coalesce(value, ''), message, coalesce(hint, '') FROM run_finding WHERE {wher} ORDER BY {} LIMIT {per_page} OFFSET {}", FindingOrder::Reading.sql(), (page - 1) * per_page),
            &ps,
        )?
        .iter()
        .map(line)
        .collect();
    let list = |sql: &str| -> Result<Vec<String>, StoreError> {
        Ok(t.rows(sql, params![run])?
            .iter()
            .map(|r| r.text(0))
            .collect())
    };
    Ok(FindingsPage {
        total,
        page,
        pages,
        findings,
        entities: list("SELECT DISTINCT entity FROM run_finding WHERE run_id = ?1 AND entity IS NOT NULL ORDER BY entity")?,
    })
}

fn line(f: &Row) -> FindingLine {
    FindingLine {
        seq: f.int(0),
        severity: f.text(1),
        code: f.text(2),
        entity: f.text(3),
        key: f.text(4),
        file: f.text(5),
        sheet: f.text(6),
        row: f.int(7),
        col: f.text(8),
        field: f.text(9),
        value: f.text(10),
        message: f.text(11),
        hint: f.text(12),
    }
}
