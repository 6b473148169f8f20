//! The target's saved queries (`SavedQuery` records) for the console's Queries page: listed by
//! name, one found by name. Running one is the store's (`ferry_store::saved_query`).

use ferry_store::{params, StoreError, Target};

/// One saved query as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    pub name: String,
    pub description: String,
    pub sql: String,
}

const SELECT: &str = "SELECT name, description, sql FROM saved_query";

/// Every saved query, by name.
pub fn list(t: &Target) -> Result<Vec<SavedQuery>, StoreError> {
    let mut out = vec![];
    t.each(&format!("{SELECT} ORDER BY name"), &[], |r| {
        out.push(SavedQuery {
            name: r.text(0),
            description: r.text(1),
            sql: r.text(2),
        });
        Ok(())
    })?;
    Ok(out)
}

/// The saved query named `name`, if any.
pub fn find(t: &Target, name: &str) -> Result<Option<SavedQuery>, StoreError> {
    Ok(
        t.first(&format!("{SELECT} WHERE name = ?1"), params![name])?
            .map(|r| SavedQuery {
                name: r.text(0),
                description: r.text(1),
                sql: r.text(2),
            }),
    )
}

/// A query's result as CSV (a header row, then the rows; NULL as an empty field). Values are
/// exact, except that one a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or
/// a carriage return first, and not a plain number) gets a leading `'`, as the findings logs do.
pub fn to_csv(r: &ferry_store::saved_query::QueryResult) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(r.columns.iter().map(|c| cell(c)))?;
    for row in &r.rows {
        w.write_record(row.iter().map(|v| cell(v.as_deref().unwrap_or(""))))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// A CSV field: as it is, or with a `'` before what would be a formula.
fn cell(v: &str) -> String {
    if v.parse::<f64>().is_ok() {
        v.to_string()
    } else {
        crate::log::formula_safe(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_store::saved_query::QueryResult;

    #[test]
    fn csv_keeps_numbers_and_defuses_formulas() {
        let r = QueryResult {
            columns: vec!["a".into(), "b".into()],
            rows: vec![
                vec![Some("-5.25".into()), Some("=HYPERLINK(\"x\")".into())],
                vec![None, Some("x, \"y\"".into())],
            ],
            more: false,
        };
        let text = String::from_utf8(to_csv(&r).unwrap()).unwrap();
        assert_eq!(
            text,
            "a,b\n-5.25,\"'=HYPERLINK(\"\"x\"\")\"\n,\"x, \"\"y\"\"\"\n"
        );
    }
}
