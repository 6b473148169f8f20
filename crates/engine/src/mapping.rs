//! The mapping a run applies (SPEC §15): a file, or a mapping kept in the target under a name
//! (`ferry map save`), loaded, checked against the catalogue and identified by a content hash.

use crate::RunError;
use ferry_catalogue as cat;
use ferry_findings::Location;
use ferry_mapping::Mapping;
use ferry_sources::{RawField, RawRecord, RawValue};
use ferry_store::{Cell, Target};
use std::path::Path;
use std::sync::Arc;

/// The prefix that names a mapping kept in the target, never a file: `saved:UK members`.
pub const SAVED: &str = "saved:";

/// Largest mapping file read: mappings are written by hand.
const MAX_MAPPING_BYTES: u64 = 1 << 20;

/// A loaded mapping and where it came from.
#[derive(Debug, Clone)]
pub struct RunMapping {
    pub mapping: Arc<Mapping>,
    /// As given: a file path or a saved mapping's name.
    pub given: String,
    /// `file` or `saved`.
    pub from: &'static str,
    /// BLAKE3 of the text (16 hex digits): a resume refuses a changed mapping.
    pub hash: String,
    pub text: String,
}

/// The content hash a run records of its mapping.
pub fn hash_of(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex()[..16].to_string()
}

/// Loads `given`: an existing file, else the mapping of that name kept in the target;
/// `saved:NAME` is only ever the mapping kept in the target (a file of that name is not read).
pub fn load(target: Option<&Target>, given: &str) -> Result<RunMapping, RunError> {
    let (name, saved_only) = match given.strip_prefix(SAVED) {
        Some(n) => (n, true),
        None => (given, false),
    };
    let path = Path::new(name);
    let (text, from) = if !saved_only && path.is_file() {
        (read_file(path)?, "file")
    } else if let Some(text) = match target {
        Some(t) => saved(t, name)?,
        None => None,
    } {
        (text, "saved")
    } else {
        return Err(RunError::Options(format!(
            "--mapping {given}: there is no such file, and the target keeps no mapping of that name (`ferry map list` lists them)"
        )));
    };
    let mapping =
        Mapping::load(&text).map_err(|e| RunError::Options(format!("--mapping {given}: {e}")))?;
    Ok(RunMapping {
        mapping: Arc::new(mapping),
        given: given.to_string(),
        from,
        hash: hash_of(&text),
        text,
    })
}

/// An input with no part Ferry reads although a mapping was given: says what the mapping's
/// sources match, since none of them matched.
pub fn unmatched(e: RunError, m: &RunMapping) -> RunError {
    match e {
        RunError::Input(ferry_sources::SourceError::Refused { path, message })
            if message.starts_with("no ") =>
        {
            let labels: Vec<String> = m.mapping.sources.iter().map(|s| s.label()).collect();
            RunError::Input(ferry_sources::SourceError::Refused {
                path,
                message: format!(
                    "the mapping {} reads none of its files, sheets or elements (its sources match: {}); {message}",
                    m.given,
                    labels.join(", ")
                ),
            })
        }
        other => other,
    }
}

fn read_file(path: &Path) -> Result<String, RunError> {
    let shown = path.display();
    let meta = std::fs::metadata(path)?;
    if meta.len() > MAX_MAPPING_BYTES {
        return Err(RunError::Options(format!(
            "--mapping {shown}: the file is {} bytes; a mapping is at most {MAX_MAPPING_BYTES}",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec())
        .map_err(|_| RunError::Options(format!("--mapping {shown}: the file is not UTF-8 text")))
}

/// The text of the mapping kept in the target under `name`.
pub fn saved(target: &Target, name: &str) -> Result<Option<String>, RunError> {
    Ok(target
        .first(
            "SELECT definition FROM import_mapping WHERE name = ?1",
            &[Cell::Text(name.to_string())],
        )?
        .map(|r| r.text(0)))
}

/// A mapping kept in the target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Saved {
    pub name: String,
    pub description: Option<String>,
    pub hash: String,
    /// The sources it reads (their names or match patterns), or the problem that stops it.
    pub sources: Vec<String>,
    pub problem: Option<String>,
}

/// Every mapping kept in the target, by name.
pub fn list(target: &Target) -> Result<Vec<Saved>, RunError> {
    let mut out = Vec::new();
    target.each(
        "SELECT name, definition, description FROM import_mapping ORDER BY name",
        &[],
        |r| {
            let text = r.text(1);
            let (sources, problem) = match Mapping::load(&text) {
                Ok(m) => (m.sources.iter().map(|s| s.label()).collect(), None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            out.push(Saved {
                name: r.text(0),
                description: r.opt_text(2),
                hash: hash_of(&text),
                sources,
                problem,
            });
            Ok(())
        },
    )?;
    Ok(out)
}

/// Keeps a checked mapping in the target under `name` (replacing one of that name). Returns
/// whether one was replaced.
pub fn save(
    target: &Target,
    name: &str,
    text: &str,
    description: Option<&str>,
) -> Result<bool, RunError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(RunError::Options(
            "a mapping's name must have 1 to 255 characters".into(),
        ));
    }
    Mapping::load(text).map_err(|e| RunError::Options(e.to_string()))?;
    let hash = content_hash(name, text, description);
    let existed = saved(target, name)?.is_some();
    target.exec(
        "INSERT INTO import_mapping (rec_hash, name, definition, description) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (name) DO UPDATE SET rec_hash = excluded.rec_hash, definition = excluded.definition, \
         description = excluded.description, run_id = NULL, src_file = NULL, src_sheet = NULL, src_row = NULL, src_col = NULL",
        &[
            Cell::Int(hash),
            Cell::Text(name.to_string()),
            Cell::Text(text.to_string()),
            description.map_or(Cell::Null, |d| Cell::Text(d.to_string())),
        ],
    )?;
    Ok(existed)
}

/// The record hash an import of the same row would store (so that `config import` of an
/// exported mapping finds it identical).
fn content_hash(name: &str, text: &str, description: Option<&str>) -> i64 {
    let entity = cat::entity("ImportMapping").expect("ImportMapping is in the catalogue");
    let field = |n: &str, v: &str| RawField {
        field: entity.field(n).expect("ImportMapping field"),
        value: RawValue::Text(v.to_string()),
        column: None,
    };
    let mut fields = vec![field("Name", name), field("Definition", text)];
    fields.extend(description.map(|d| field("Description", d)));
    let raw = RawRecord {
        entity: entity.id(),
        location: Location::start("ferry map save".into(), None),
        fields,
        broken: false,
        header: None,
    };
    let (rec, _) = ferry_validate::parse_record(&raw, &ferry_validate::RecordOptions::default());
    rec.content_hash()
}
