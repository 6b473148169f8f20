//! Mappings (issue 14): a versioned TOML file that turns the rows of a legacy export (a CSV
//! file, a sheet, an XML element type) into records of Ferry's entity types, checked against
//! the catalogue, bound once to an input's headers ([`Source::bind`]) and applied one row at a
//! time ([`Bound::apply`]). No I/O (except `sample`, which reads inputs for the suggester): the
//! caller gives the mapping's text. The README is the user's reference and part of
//! docs/formats.md ([`reference_markdown`]).

mod apply;
mod bind;
mod check;
mod each;
pub mod edit;
mod formats;
mod model;
pub mod outline;
mod reference;
mod sample;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod scenarios_each;
mod sniff;
mod suggest;
mod synonyms;
mod template;
mod visit;

pub use apply::{Produced, Record as ProducedRecord, RowProblem, Value as ProducedValue};
pub use bind::Bound;
pub use model::{
    ColumnFormat, FieldDef, FieldSpec, Filter, Group, Mapping, Match, Record, Source, Split, Word,
};
pub use reference::markdown as reference_markdown;
pub use sample::{sample_inputs, Sampler};
pub use suggest::{suggest, Guess, Sample, Suggestion};
pub use synonyms::{Synonym, SYNONYMS};
pub use visit::{raw_parts, Mapped};

/// A place in the mapping text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl Location {
    /// The line and column of a byte offset in `text`.
    pub fn of(text: &str, offset: usize) -> Location {
        let before = &text[..text.floor_char_boundary_compat(offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location { line, column }
    }
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}
impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, i: usize) -> usize {
        let mut i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// One thing wrong with a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub message: String,
    pub location: Option<Location>,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.location {
            Some(l) => write!(f, "{l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why a mapping cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The text is not TOML of the mapping's shape.
    #[error("the mapping is not valid TOML of the mapping's shape: {0}")]
    Syntax(Issue),
    /// The text parses but does not fit the catalogue; every problem is listed.
    #[error("the mapping has {} problem(s):\n{}", .0.len(), .0.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Issue>),
}

impl Mapping {
    /// Parses a mapping and checks it against the catalogue, collecting every problem.
    pub fn load(text: &str) -> Result<Mapping, MappingError> {
        let mapping = Mapping::parse(text)?;
        let issues = mapping.check(text);
        if issues.is_empty() {
            Ok(mapping)
        } else {
            Err(MappingError::Invalid(issues))
        }
    }

    /// Parses a mapping without checking it against the catalogue.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        toml::from_str(text).map_err(|e| {
            MappingError::Syntax(Issue {
                message: e.message().trim().to_string(),
                location: e.span().map(|s| Location::of(text, s.start)),
            })
        })
    }

    /// Every problem of the mapping against the catalogue (`text` locates them).
    pub fn check(&self, text: &str) -> Vec<Issue> {
        check::check(self, text)
    }

    /// The first source that reads this input: a file's name, a sheet's, an element's.
    pub fn source_for(
        &self,
        file: &str,
        sheet: Option<&str>,
        element: Option<&str>,
    ) -> Option<&Source> {
        self.sources.iter().find(|s| s.reads(file, sheet, element))
    }
}

impl Source {
    /// Whether this source reads the given input (every pattern it gives must match).
    pub fn reads(&self, file: &str, sheet: Option<&str>, element: Option<&str>) -> bool {
        let m = self.matches.get_ref();
        let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
        let fits = |pat: &Option<String>, name: Option<&str>| match pat {
            None => true,
            Some(p) => name.is_some_and(|n| glob(p, n)),
        };
        fits(&m.file, Some(base)) && fits(&m.sheet, sheet) && fits(&m.element, element)
    }

    /// A name for messages.
    pub fn label(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let m = self.matches.get_ref();
        [&m.file, &m.sheet, &m.element]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// `*` and `?` wildcards, without regard to case.
fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let n: Vec<char> = name.to_lowercase().chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_without_regard_to_case() {
        assert!(glob("members*.csv", "Members-2019.CSV"));
        assert!(glob("Customers", "customers"));
        assert!(!glob("Customers", "customers2"));
        assert!(glob("pay?.csv", "pay1.csv"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acbd"));
    }

    #[test]
    fn locations_are_lines_and_columns() {
        let t = "a\nbc\nd";
        assert_eq!(Location::of(t, 3), Location { line: 2, column: 2 });
        assert_eq!(Location::of(t, 99), Location { line: 3, column: 2 });
    }
}
