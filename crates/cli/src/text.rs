//! Small wording helpers for what the terminal shows: counts with their noun, big numbers with
//! separators, and a finding's place in the short form a person scans.

use ferry_findings::{Column, Location};

pub use ferry_findings::words::{count, number};

/// The last part of a path as given (`…/exports/User.csv` → `User.csv`).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\'])
        .find(|p| !p.is_empty())
        .unwrap_or(path)
}

/// A finding's place, short: `book.xlsx User!C52`, `book.xlsx User row 52 (Role)`,
/// `User.csv line 7 (Email)`, `data.xml:12:5`.
pub fn place(l: &Location, field: Option<&str>) -> String {
    let file = file_name(&l.file);
    let field = field.map(|f| format!(" ({f})")).unwrap_or_default();
    match (&l.sheet, l.column) {
        (Some(s), Some(c @ Column::Letter(_))) => format!("{file} {s}!{}{}", c.render(), l.row),
        (Some(s), _) => format!("{file} {s} row {}{field}", l.row),
        (None, Some(Column::Number(c))) if l.file.ends_with(".csv") && field.is_empty() => {
            format!("{file} line {}, field {c}", l.row)
        }
        (None, _) if l.file.ends_with(".csv") => format!("{file} line {}{field}", l.row),
        (None, Some(c)) => format!("{file}:{}:{}", l.row, c.render()),
        (None, None) => format!("{file}:{}{field}", l.row),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_plurals() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(20666), "20,666");
        assert_eq!(number(1234567), "1,234,567");
        assert_eq!(count(1, "warning", "warnings"), "1 warning");
        assert_eq!(count(0, "warning", "warnings"), "0 warnings");
        assert_eq!(count(2294, "error", "errors"), "2,294 errors");
    }

    #[test]
    fn places() {
        let l = |file: &str, sheet: Option<&str>, row, column| Location {
            file: file.into(),
            sheet: sheet.map(Into::into),
            row,
            column,
        };
        let book = "/srv/x/mistakes.xlsx";
        assert_eq!(
            place(
                &l(book, Some("User"), 52, Some(Column::Letter(2))),
                Some("Role")
            ),
            "mistakes.xlsx User!C52"
        );
        assert_eq!(
            place(&l(book, Some("User"), 52, None), Some("Role")),
            "mistakes.xlsx User row 52 (Role)"
        );
        assert_eq!(
            place(
                &l("exp/User.csv", None, 7, Some(Column::Number(3))),
                Some("Email")
            ),
            "User.csv line 7 (Email)"
        );
        assert_eq!(
            place(&l("exp/User.csv", None, 7, Some(Column::Number(3))), None),
            "User.csv line 7, field 3"
        );
        assert_eq!(
            place(&l("a/b.xml", None, 12, Some(Column::Number(5))), None),
            "b.xml:12:5"
        );
    }
}
