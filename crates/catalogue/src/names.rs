//! Matching a name someone wrote (a column header) to Ferry's names across case, accents,
//! spaces and punctuation (`E-mail` → `Email`, `bill_day` → `BillDay`), and near misses.

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// `name` without accents, case, spaces or punctuation: `Bill Day`, `bill_day` → `billday`.
pub fn normalized(name: &str) -> String {
    name.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The one candidate whose normalized form equals `name`'s, if exactly one does.
pub fn same_name<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let n = normalized(name);
    if n.is_empty() {
        return None;
    }
    unique(candidates.into_iter().filter(|c| normalized(c) == n))
}

/// The candidate `name` most likely meant: the same name when normalized, else the one
/// candidate nearest to it (Damerau-Levenshtein on normalized names, at most 1 edit for short
/// names and 2 for names of 6 characters or more).
pub fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    if let Some(c) = same_name(name, candidates.clone()) {
        return Some(c);
    }
    let n = normalized(name);
    let most = if n.chars().count() >= 6 { 2 } else { 1 };
    let scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&n, &normalized(c)), c))
        .filter(|(d, _)| *d <= most)
        .collect();
    let best = scored.iter().map(|(d, _)| *d).min()?;
    unique(
        scored
            .into_iter()
            .filter(|(d, _)| *d == best)
            .map(|(_, c)| c),
    )
}

fn unique<'a>(mut it: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let first = it.next()?;
    match it.next() {
        None => Some(first),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_across_case_accents_spaces_and_punctuation() {
        let fields = ["Email", "BillDay", "Name", "ContactName", "Tax1"];
        assert_eq!(same_name("E-mail", fields), Some("Email"));
        assert_eq!(same_name("Bill Day", fields), Some("BillDay"));
        assert_eq!(same_name("bill_day", fields), Some("BillDay"));
        assert_eq!(same_name("Émail", fields), Some("Email"));
        assert_eq!(same_name("TAX 1", fields), Some("Tax1"));
        assert_eq!(same_name("Colour", fields), None);
        assert_eq!(same_name("--", fields), None);
        // Near misses are hints only.
        assert_eq!(nearest("Emial", fields), Some("Email"));
        assert_eq!(nearest("Bill_Dya", fields), Some("BillDay"));
        assert_eq!(nearest("Colour", fields), None);
        // Two equally near candidates: no guess.
        assert_eq!(nearest("Tax", ["Tax1", "Tax2"]), None);
    }
}
