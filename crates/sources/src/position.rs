//! Where in an input a fatal reader error was met (as rust-csv's `Position`): the file and,
//! where known, the line and column of an XML file, the record line and field of a
//! CSV file (the readers count lines, not bytes: an XML file may be decoded before it is read).

use std::fmt;

/// Where a fatal reader error was met. Written as the reader always wrote it:
/// `file`, `file:LINE:COLUMN` (XML), `file, line N` and `file, line N, field F` (CSV).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The input as shown to the user.
    pub file: String,
    /// The line (1-based): of the XML text, or where the CSV record starts.
    pub line: Option<u64>,
    /// The column (1-based) of the XML text.
    pub column: Option<u64>,
    /// The field (1-based) of a CSV record.
    pub field: Option<u64>,
}

impl Position {
    /// The whole file.
    pub fn file(file: impl Into<String>) -> Position {
        Position {
            file: file.into(),
            ..Position::default()
        }
    }

    /// A place in an XML text.
    pub fn text(file: impl Into<String>, line: u64, column: u64) -> Position {
        Position {
            line: Some(line),
            column: Some(column),
            ..Position::file(file)
        }
    }

    /// A record of a CSV file, by the line it starts on.
    pub fn record(file: impl Into<String>, line: u64) -> Position {
        Position {
            line: Some(line),
            ..Position::file(file)
        }
    }

    /// A field (1-based) of this record.
    pub fn field(self, field: u64) -> Position {
        Position {
            field: Some(field),
            ..self
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        match (self.line, self.column, self.field) {
            (Some(line), Some(column), _) => write!(f, ":{line}:{column}"),
            (Some(line), None, Some(field)) => write!(f, ", line {line}, field {field}"),
            (Some(line), None, None) => write!(f, ", line {line}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_written_as_before() {
        assert_eq!(Position::file("a.xlsx").to_string(), "a.xlsx");
        assert_eq!(Position::text("a.xml", 3, 7).to_string(), "a.xml:3:7");
        assert_eq!(Position::record("A.csv", 4).to_string(), "A.csv, line 4");
        assert_eq!(
            Position::record("A.csv", 4).field(2).to_string(),
            "A.csv, line 4, field 2"
        );
    }
}
