//! The mapping Ferry proposes for the parts of an upload that are not in its own shape, with a
//! confidence per column. The proposal is `ferry_mapping::suggest` (`ferry map suggest`); until
//! it is merged, a small stand-in with the same types places the columns named like Ferry's
//! fields and leaves the rest to staff. `suggestion_for` is the one place to swap.

use crate::sample::Part;
use ferry_catalogue as cat;

/// The first rows of one part of an input, as the suggestion reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub file: String,
    pub sheet: Option<String>,
    pub element: Option<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Where one source column goes (a column left unplaced has no entity type and field).
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    pub file: String,
    pub sheet: Option<String>,
    pub column: String,
    pub entity: Option<&'static str>,
    pub field: Option<&'static str>,
    pub confidence: f64,
}

/// The guesses, and the mapping that does what they say.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub guesses: Vec<Guess>,
    pub mapping: String,
}

/// The sample of a part, as the suggestion takes it.
pub fn sample_of(p: &Part) -> Sample {
    Sample {
        file: p.file.clone(),
        sheet: p.sheet.clone(),
        element: p.element.clone(),
        headers: p.headers.clone(),
        rows: p.rows.iter().map(|r| r.cells.clone()).collect(),
    }
}

/// The proposed mapping of `samples` (one `[[source]]` each).
pub fn suggestion_for(samples: &[Sample]) -> Suggestion {
    stand_in(samples)
}

/// Entity types a flat export's columns are looked for in, in this order.
const TYPES: [&str; 6] = [
    "User",
    "Contact",
    "ContactEmail",
    "ContactPhone",
    "ContactAddress",
    "Payment",
];

fn stand_in(samples: &[Sample]) -> Suggestion {
    let mut guesses = Vec::new();
    let mut text =
        String::from("# Proposed by Ferry from the headers: check every column.\nversion = 1\n");
    for s in samples {
        let mut records: Vec<(&'static str, Vec<(&'static str, &str)>)> = Vec::new();
        for h in &s.headers {
            let hit = TYPES.iter().find_map(|t| {
                let e = cat::entity(t)?;
                let f = cat::same_name(h, e.fields.iter().map(|f| f.name))?;
                Some((e.name, e.field_def(f)?.name))
            });
            if let Some((e, f)) = hit {
                match records
                    .iter_mut()
                    .find(|(x, fs)| *x == e && fs.iter().all(|(g, _)| *g != f))
                {
                    Some((_, fs)) => fs.push((f, h)),
                    None => records.push((e, vec![(f, h)])),
                }
            }
            guesses.push(Guess {
                file: s.file.clone(),
                sheet: s.sheet.clone().or_else(|| s.element.clone()),
                column: h.clone(),
                entity: hit.map(|(e, _)| e),
                field: hit.map(|(_, f)| f),
                confidence: if hit.is_some() { 0.9 } else { 0.0 },
            });
        }
        text.push_str(&format!("\n[[source]]\nname = {}\n", quote(&s.file)));
        text.push_str(&match (&s.sheet, &s.element) {
            (Some(sh), _) => format!("match = {{ sheet = {} }}\n", quote(sh)),
            (None, Some(el)) => format!("match = {{ element = {} }}\n", quote(el)),
            _ => format!("match = {{ file = {} }}\n", quote(&s.file)),
        });
        for (e, fields) in records {
            text.push_str(&format!("\n[[source.record]]\nentity = {}\n", quote(e)));
            for (f, h) in fields {
                text.push_str(&format!("fields.{f} = {}\n", quote(h)));
            }
        }
    }
    Suggestion {
        guesses,
        mapping: text,
    }
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
