//! Text folded for searching, the same on both backends: letters without their accents and
//! in lower case (`Zoë`, `ZOE` → `zoe`), so a search can compare what staff type with what a
//! record holds. One table of Latin letters drives all three uses: [`fold`] in Rust (the
//! searched text, and SQLite's `ferry_fold` function registered on each connection) and
//! PostgreSQL's `translate(lower(…), …)` ([`Target::folded`]), which needs no extension.
//!
//! The choice: folding happens in the query, not in a stored column. A search already reads
//! the searched columns with `LIKE '%…%'`, which no B-tree index can serve, so folding each
//! value as it is compared adds a per-row function call to the same scan (no extra table,
//! no migration, no write-path cost); no row leaves the database to be folded in Rust.

use crate::Target;
use std::collections::HashMap;
use std::sync::OnceLock;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Letters that do not decompose into a base letter and an accent, folded by hand.
const EXTRA: &[(char, char)] = &[
    ('ø', 'o'),
    ('Ø', 'o'),
    ('đ', 'd'),
    ('Đ', 'd'),
    ('ł', 'l'),
    ('Ł', 'l'),
    ('ħ', 'h'),
    ('Ħ', 'h'),
    ('ı', 'i'),
];

/// The folding of each non-ASCII letter that folds (Latin-1, Latin Extended-A and -B, Latin
/// Extended Additional): its base letter in lower case. ASCII letters fold by `lower`.
fn table() -> &'static HashMap<char, char> {
    static TABLE: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: HashMap<char, char> = ('\u{C0}'..='\u{24F}')
            .chain('\u{1E00}'..='\u{1EFF}')
            .filter_map(|c| {
                let base: String = c
                    .nfkd()
                    .filter(|d| !is_combining_mark(*d))
                    .flat_map(char::to_lowercase)
                    .collect();
                let mut chars = base.chars();
                match (chars.next(), chars.next()) {
                    (Some(b), None) if b != c && b.is_alphabetic() => Some((c, b)),
                    _ => None,
                }
            })
            .collect();
        t.extend(EXTRA.iter().copied());
        t
    })
}

/// `text` folded for searching: ASCII letters in lower case, accented Latin letters as their
/// base letter in lower case, everything else as it is.
pub fn fold(text: &str) -> String {
    let t = table();
    text.chars()
        .map(|c| match t.get(&c) {
            Some(b) => *b,
            None => c.to_ascii_lowercase(),
        })
        .collect()
}

/// PostgreSQL's `translate` arguments of the table: the letters and what each folds to.
fn translate_args() -> &'static (String, String) {
    static ARGS: OnceLock<(String, String)> = OnceLock::new();
    ARGS.get_or_init(|| {
        let mut pairs: Vec<(char, char)> = table().iter().map(|(a, b)| (*a, *b)).collect();
        pairs.sort_unstable();
        pairs.into_iter().unzip()
    })
}

impl Target {
    /// The SQL of `expr` folded as [`fold`] folds text (NULL stays NULL), for this backend.
    pub fn folded(&self, expr: &str) -> String {
        if self.is_postgres() {
            let (from, to) = translate_args();
            format!("translate(lower({expr}), '{from}', '{to}')")
        } else {
            format!("ferry_fold({expr})")
        }
    }
}

/// Registers `ferry_fold(text)` on a SQLite connection.
pub(crate) fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "ferry_fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            use rusqlite::types::ValueRef;
            Ok(match ctx.get_raw(0) {
                ValueRef::Text(b) => Some(fold(&String::from_utf8_lossy(b))),
                ValueRef::Integer(i) => Some(i.to_string()),
                ValueRef::Real(f) => Some(f.to_string()),
                ValueRef::Null | ValueRef::Blob(_) => None,
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_fold_away() {
        assert_eq!(fold("Zoë"), "zoe");
        assert_eq!(fold("ZOË"), "zoe");
        assert_eq!(fold("ZOE"), "zoe");
        assert_eq!(fold("Ångström Øre Łódź"), "angstrom ore lodz");
        assert_eq!(fold("Nguyễn"), "nguyen");
        assert_eq!(
            fold("jane@example.org 555-0100"),
            "jane@example.org 555-0100"
        );
        let (from, to) = translate_args();
        assert_eq!(from.chars().count(), to.chars().count());
        assert!(!from.contains('\'') && !to.contains('\''));
    }
}
