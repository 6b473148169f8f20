//! `map suggest`: a proposed mapping from the headers and first rows of legacy exports, with
//! one guess per source column (entity type, field, confidence) and the mapping's TOML text.

mod place;
#[cfg(test)]
pub(crate) use place::ACCOUNT_ENTITIES;
mod records;
mod toml_out;
mod values;

use ferry_catalogue::normalized;
use place::{Account, Family, Placement};
use records::{RecordPlan, Src};
use std::collections::HashSet;

/// The first rows of one part of an input: a CSV file, a sheet, an XML element type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// The input's path as given.
    pub file: String,
    pub sheet: Option<String>,
    pub element: Option<String>,
    pub headers: Vec<String>,
    /// The first data rows as text, cells under `headers` (a row may be shorter).
    pub rows: Vec<Vec<String>>,
}

/// Where one source column goes. A column that feeds two fields gives two guesses; a column
/// left unplaced gives one with no entity type and field.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    pub file: String,
    /// The sheet of a workbook, or the element type of an XML file; `None` for a CSV file.
    pub sheet: Option<String>,
    pub column: String,
    pub entity: Option<&'static str>,
    pub field: Option<&'static str>,
    /// 1.0 the field's exact name, 0.9 the name across case and punctuation, 0.8 a name other
    /// systems use, lower when only the values suggest it; 0 for a column left unplaced.
    pub confidence: f64,
}

/// The guesses, and the mapping that does what they say (`Mapping::load` accepts it).
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub guesses: Vec<Guess>,
    pub mapping: String,
}

/// Proposes a mapping for the samples: one `[[source]]` per sample.
pub fn suggest(samples: &[Sample]) -> Suggestion {
    let mut placements: Vec<Placement> = samples.iter().map(place::place).collect();
    link_children(samples, &mut placements);
    let mut mapping = String::new();
    toml_out::preamble(&mut mapping);
    let mut guesses = Vec::new();
    for (s, p) in samples.iter().zip(&placements) {
        let records = records::records(s, p);
        let mine = guesses_of(s, p, &records);
        let unplaced = mine
            .iter()
            .filter(|g| g.entity.is_none() && !g.column.trim().is_empty())
            .map(|g| g.column.as_str())
            .collect();
        let formats = values::formats(s, &records);
        let (keep, skip) = values::filters(s, p);
        let missing = values::missing_markers(s, &records);
        toml_out::SourceText {
            sample: s,
            account: p.account.as_ref().map(|a| (a.column, a.why.as_str())),
            missing: &missing,
            keep: &keep,
            skip: &skip,
            formats: &formats,
            records: &records,
            unplaced,
        }
        .write(&mut mapping);
        guesses.extend(mine);
    }
    Suggestion { guesses, mapping }
}

/// A list of people whose column holds the key of another sample's accounts (a `People`
/// sheet with the `Company ID` of the `Companies` sheet) is read as their contacts.
fn link_children(samples: &[Sample], placements: &mut [Placement]) {
    for b in 0..samples.len() {
        let parent = (0..samples.len()).find_map(|a| {
            let pa = &placements[a];
            if a == b
                || pa.child
                || pa.family != Family::Account
                || placements[b].family != Family::Account
            {
                return None;
            }
            let key = pa.account.as_ref()?;
            let column = shared_key(
                &samples[a],
                key.column,
                &samples[b],
                placements[b].account.as_ref(),
            )?;
            Some((a, column))
        });
        if let Some((a, column)) = parent {
            let why = format!(
                "each row is a contact of an account of {}",
                toml_out::label(&samples[a])
            );
            let p = &mut placements[b];
            p.columns[column] = None;
            p.account = Some(Account {
                column,
                confidence: 0.7,
                why,
            });
            p.child = true;
        }
    }
}

/// The column of `b` named like `a`'s key whose values are mostly `a`'s keys.
fn shared_key(a: &Sample, key: usize, b: &Sample, own: Option<&Account>) -> Option<usize> {
    let name = normalized(a.headers.get(key)?);
    let column = (0..b.headers.len()).find(|&i| {
        normalized(&b.headers[i]) == name
            && own.is_none_or(|o| o.column != i)
            && place::first_of_its_name(b, i).is_some()
    })?;
    let keys: HashSet<&str> = place::values(a, key).into_iter().map(str::trim).collect();
    let refs: Vec<&str> = place::values(b, column)
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let found = refs.iter().filter(|v| keys.contains(*v)).count();
    (refs.is_empty() || keys.is_empty() || found * 2 >= refs.len()).then_some(column)
}

/// One guess per use of each column (its account field, every field it fills), in column
/// order; one empty guess for a column nothing reads.
fn guesses_of(s: &Sample, p: &Placement, records: &[RecordPlan]) -> Vec<Guess> {
    let guess = |column: &str, entity, field, confidence: f64| Guess {
        file: s.file.clone(),
        sheet: s.sheet.clone().or_else(|| s.element.clone()),
        column: column.to_string(),
        entity,
        field,
        confidence: (confidence * 100.0).round() / 100.0,
    };
    let mut out = Vec::new();
    for (i, header) in s.headers.iter().enumerate() {
        let mut uses: Vec<(&'static str, &'static str, f64)> = Vec::new();
        let mut add = |e: &'static str, f: &'static str, c: f64| match uses
            .iter_mut()
            .find(|u| (u.0, u.1) == (e, f))
        {
            Some(u) => u.2 = u.2.max(c),
            None => uses.push((e, f, c)),
        };
        if let Some(a) = p.account.as_ref().filter(|a| a.column == i) {
            if let Some(e) = records
                .first()
                .and_then(|r| ferry_catalogue::entity(r.entity))
            {
                add(e.name, e.account_field.unwrap_or("User"), a.confidence);
            }
        }
        for r in records {
            for f in &r.fields {
                if let (Src::Column(c), Some(conf)) = (&f.src, f.guess) {
                    if *c == i {
                        add(r.entity, f.field, conf);
                    }
                }
            }
        }
        if uses.is_empty() {
            out.push(guess(header, None, None, 0.0));
        }
        for (e, f, c) in uses {
            out.push(guess(header, Some(e), Some(f), c));
        }
    }
    out
}

#[cfg(test)]
mod tests;
