//! The findings part of a run's page: the summary first (what was rejected, for its own errors
//! or because a record it refers to was; the counts per code in reading order), then the list,
//! filtered and paged by `ferry_report::findings_page` in the same order, with page numbers and a
//! choice of page size.

use crate::pages::display_name;
use crate::view::{self, Failure};
use ferry_report::findings_page::{self, FindingLine};
use ferry_report::findings_summary::{self, CodeCount};
use ferry_store::Target;
use serde::Deserialize;

pub struct FindingRow {
    pub seq: i64,
    pub severity: String,
    pub code: String,
    pub entity: String,
    pub key: String,
    pub place: String,
    pub field: String,
    pub value: String,
    pub message: String,
    pub hint: String,
}

/// One code of the summary and of the code filter.
pub struct CodeRow {
    pub code: String,
    pub severity: String,
    pub count: String,
    /// Knock-on rejections (`reference.rejected_parent`).
    pub knock_on: bool,
    pub doc: String,
    /// The list filtered by this code.
    pub href: String,
}

pub struct RejectedRow {
    pub entity: String,
    pub own: String,
    pub dependent: String,
}

/// A page number of the pager; an empty `href` is a gap (…).
pub struct PageLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

#[derive(Deserialize, Default, Clone)]
pub struct FindingFilter {
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<i64>,
    /// Findings per page: one of [`SIZES`] (else [`PAGE`]).
    #[serde(default)]
    pub per: Option<i64>,
}

/// Findings shown per page unless another size is chosen.
pub const PAGE: i64 = 100;
/// The page sizes offered.
pub const SIZES: [i64; 5] = [25, 50, 100, 250, 500];

impl FindingFilter {
    fn as_filter(&self) -> findings_page::FindingFilter<'_> {
        findings_page::FindingFilter {
            severity: &self.severity,
            code: &self.code,
            entity: &self.entity,
            text: &self.q,
        }
    }

    pub fn per_page(&self) -> i64 {
        self.per.filter(|p| SIZES.contains(p)).unwrap_or(PAGE)
    }

    /// This filter's link to page `page` (with `code` instead of its own, if given).
    fn href(&self, page: i64, code: Option<&str>) -> String {
        format!(
            "?severity={}&code={}&entity={}&q={}&per={}&page={page}#findings",
            view::url_encode(&self.severity),
            view::url_encode(code.unwrap_or(&self.code)),
            view::url_encode(&self.entity),
            view::url_encode(&self.q),
            self.per_page()
        )
    }
}

/// Everything the findings part of the page shows.
pub struct FindingsView {
    /// "2,294 User records rejected (+18,372 dependent records)", or empty.
    pub headline: String,
    pub rejected: Vec<RejectedRow>,
    pub codes: Vec<CodeRow>,
    pub rows: Vec<FindingRow>,
    /// Findings the filter lets through.
    pub total: String,
    pub page: i64,
    pub pages: i64,
    pub links: Vec<PageLink>,
    pub prev_href: String,
    pub next_href: String,
    pub filter: FindingFilter,
    pub per: i64,
    pub sizes: Vec<i64>,
    pub entities: Vec<String>,
}

/// The findings part of run `id`'s page for `filter`; messages with `uploads`' paths hidden.
pub fn view(
    t: &Target,
    id: i64,
    filter: FindingFilter,
    uploads: &std::path::Path,
) -> Result<FindingsView, Failure> {
    let per = filter.per_page();
    let f = findings_page::page(t, id, &filter.as_filter(), filter.page, per)?;
    let s = findings_summary::summary(t, id)?;
    Ok(FindingsView {
        headline: s.headline(),
        rejected: s
            .rejected
            .iter()
            .map(|r| RejectedRow {
                entity: r.entity.clone(),
                own: view::count(r.own),
                dependent: view::count(r.dependent),
            })
            .collect(),
        codes: s.codes.iter().map(|c| code_row(c, &filter)).collect(),
        rows: f
            .findings
            .into_iter()
            .map(|l| finding_row(l, uploads))
            .collect(),
        total: view::count(f.total),
        page: f.page,
        pages: f.pages,
        links: links(&filter, f.page, f.pages),
        prev_href: filter.href(f.page - 1, None),
        next_href: filter.href(f.page + 1, None),
        per,
        sizes: SIZES.to_vec(),
        entities: f.entities,
        filter,
    })
}

fn code_row(c: &CodeCount, filter: &FindingFilter) -> CodeRow {
    let only = FindingFilter {
        severity: String::new(),
        entity: String::new(),
        q: String::new(),
        ..filter.clone()
    };
    CodeRow {
        code: c.code.clone(),
        severity: c.severity.as_str().to_string(),
        count: view::count(c.count),
        knock_on: c.knock_on,
        doc: view::console_words(c.doc),
        href: only.href(1, Some(&c.code)),
    }
}

/// Page numbers: the first, the last, and two either side of the current one, gaps as `…`.
fn links(filter: &FindingFilter, page: i64, pages: i64) -> Vec<PageLink> {
    let mut out: Vec<PageLink> = vec![];
    let mut last = 0;
    for p in 1..=pages {
        if p != 1 && p != pages && (p - page).abs() > 2 {
            continue;
        }
        if p > last + 1 {
            out.push(PageLink {
                label: "…".into(),
                href: String::new(),
                current: false,
            });
        }
        out.push(PageLink {
            label: view::count(p),
            href: filter.href(p, None),
            current: p == page,
        });
        last = p;
    }
    out
}

fn finding_row(f: FindingLine, uploads: &std::path::Path) -> FindingRow {
    let mut place = display_name(&f.file);
    if !f.sheet.is_empty() {
        place.push_str(&format!(" › {}", f.sheet));
    }
    let letters = !f.col.is_empty() && f.col.chars().all(|c| c.is_ascii_uppercase());
    match (f.row > 0, letters) {
        (true, true) if !f.sheet.is_empty() => place.push_str(&format!(" › {}{}", f.col, f.row)),
        (true, _) => {
            place.push_str(&format!(" › row {}", f.row));
            if !f.col.is_empty() {
                place.push_str(&format!(" › col {}", f.col));
            }
        }
        (false, _) if !f.col.is_empty() => place.push_str(&format!(" › col {}", f.col)),
        _ => {}
    }
    FindingRow {
        seq: f.seq,
        severity: f.severity,
        code: f.code,
        entity: f.entity,
        key: f.key,
        place,
        field: f.field,
        value: f.value,
        message: view::console_words(&view::hide_paths(&f.message, uploads, true)),
        hint: view::console_words(&view::hide_paths(&f.hint, uploads, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_with_gaps() {
        let f = FindingFilter::default();
        let labels = |page, pages| -> Vec<String> {
            links(&f, page, pages)
                .into_iter()
                .map(|l| l.label)
                .collect()
        };
        assert_eq!(labels(1, 1), ["1"]);
        assert_eq!(labels(1, 207), ["1", "2", "3", "…", "207"]);
        assert_eq!(
            labels(100, 207),
            ["1", "…", "98", "99", "100", "101", "102", "…", "207"]
        );
        assert_eq!(labels(4, 6), ["1", "2", "3", "4", "5", "6"]);
        assert!(links(&f, 3, 9)[2].current);
        assert_eq!(f.per_page(), PAGE);
        let odd = FindingFilter {
            per: Some(7),
            ..Default::default()
        };
        assert_eq!(odd.per_page(), PAGE);
    }
}
