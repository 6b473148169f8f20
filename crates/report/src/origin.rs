//! Where a stored record came from, as the account page shows it: the run that wrote it and
//! the file (its name, never a folder), sheet and row of that run's input (the provenance
//! columns every generated table has: `run_id`, `src_file`, `src_sheet`, `src_row`).

use ferry_store::Row;

/// The run that wrote a record and its place in the run's input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The run that wrote the record (`None`: written outside a run, as the default setup is).
    pub run: Option<i64>,
    /// The input file's name (for a CSV folder, the CSV file's), without any folder.
    pub file: String,
    /// The sheet of a workbook, or empty.
    pub sheet: String,
    /// The row (a workbook's row, a CSV file's line, an XML element's line); 0 if unknown.
    pub row: i64,
}

/// The provenance columns of a generated table, as [`Origin::at`] reads them; `{t}` is the
/// table's alias.
pub fn columns(t: &str) -> String {
    format!("{t}.run_id, coalesce({t}.src_file, ''), coalesce({t}.src_sheet, ''), coalesce({t}.src_row, 0)")
}

impl Origin {
    /// The origin in columns `i..i + 4` of `r` (selected by [`columns`]).
    pub fn at(r: &Row, i: usize) -> Origin {
        Origin {
            run: r.opt_int(i),
            file: file_name(&r.text(i + 1)),
            sheet: r.text(i + 2),
            row: r.int(i + 3),
        }
    }

    /// A record written by run `run` with no place of its own (an invoice the ledger made).
    pub fn of_run(run: Option<i64>) -> Origin {
        Origin {
            run,
            ..Origin::default()
        }
    }
}

/// The last part of a stored file name: the name as uploaded, never a folder of the server.
fn file_name(stored: &str) -> String {
    stored
        .rsplit(['/', '\\'])
        .find(|p| !p.is_empty())
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_file_name_is_kept() {
        assert_eq!(
            file_name("/srv/ferry.db.console/uploads/ab12/csv/User.csv"),
            "User.csv"
        );
        assert_eq!(file_name("club.xlsx"), "club.xlsx");
        assert_eq!(file_name(""), "");
    }
}
