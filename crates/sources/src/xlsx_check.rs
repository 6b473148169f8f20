//! The check a workbook passes before calamine (or the annotator) reads it: every part that will
//! be parsed is inflated once through a [`Budgeted`] reader and tokenized with quick-xml, so that
//! no part, event, cell, shared string or row is larger than the limits — counted on the
//! inflated bytes, whatever the zip directory claims.
//!
//! calamine holds a whole event, cell and shared string in memory (a 500 MB cell took 1.5 GB)
//! and keeps the shared strings, styles and sheet list whole, so these are bounded here:
//! - every part: events and the elements `c`, `is`, `si`, `row` at most `max_record_bytes`;
//! - sheets and other parts: `max_part_bytes` in all;
//! - the shared strings: their bytes plus [`SHARED_STRING_OVERHEAD`] per entry at most
//!   `max_shared_strings_bytes` (what calamine's `Vec<String>` costs);
//! - the parts read whole into structures (package and workbook relationships, workbook,
//!   styles, theme): `max_structure_bytes` each (a style costs calamine ~300 bytes).

use crate::guard::{Budgeted, Overrun};
use crate::{Limits, SourceError};
use quick_xml::events::Event;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// What one shared string costs calamine beyond its text: a `String` (24 bytes) and the
/// rounding of its allocation.
pub(crate) const SHARED_STRING_OVERHEAD: u64 = 32;

/// Read-ahead between the zip entry and quick-xml.
const BUFFER: usize = 64 * 1024;

/// How a part is read, hence how it is bounded; the strictest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    /// Read whole into calamine's structures.
    Structure,
    SharedStrings,
    /// Another target of the workbook's relationships (a sheet): streamed.
    Sheet,
    /// Another XML part (comments, drawings…): parsed only by the annotator.
    Other,
}

type Zip = zip::ZipArchive<BufReader<File>>;

/// Checks the workbook at `path` (shown as `shown` in messages) against `limits`.
pub fn check(path: &Path, shown: &str, limits: &Limits) -> Result<(), SourceError> {
    let file = File::open(path).map_err(|e| SourceError::Io {
        path: shown.to_string(),
        source: e,
    })?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| {
        bad_workbook(
            shown,
            format!("the zip container is damaged or truncated ({e})"),
        )
    })?;
    let names = directory(&mut zip, shown, limits)?;
    let roles = roles(&mut zip, &names, shown, limits)?;
    for (i, name) in names.iter().enumerate() {
        let norm = normalize(name);
        let role = match roles.get(&norm) {
            Some(r) => *r,
            None if [".xml", ".rels", ".vml"].iter().any(|e| norm.ends_with(e)) => Role::Other,
            None => continue,
        };
        check_part(&mut zip, i, name, role, shown, limits)?;
    }
    Ok(())
}

/// The role of each part a reader parses, by normalized name: the parts calamine opens by
/// name, and the targets of the workbook's relationships by their type. A part named twice
/// gets the stricter role.
fn roles(
    zip: &mut Zip,
    names: &[String],
    shown: &str,
    limits: &Limits,
) -> Result<HashMap<String, Role>, SourceError> {
    let (xl, wb) = office_document(zip, names, shown, limits)?;
    let wb_rels = format!("{xl}_rels/{wb}.rels");
    let mut roles: HashMap<String, Role> = HashMap::new();
    let mut set = |name: &str, role: Role| {
        let r = roles.entry(normalize(name)).or_insert(role);
        *r = (*r).min(role);
    };
    set("_rels/.rels", Role::Structure);
    set(&format!("{xl}{wb}"), Role::Structure);
    set(&wb_rels, Role::Structure);
    set(&format!("{xl}styles.xml"), Role::Structure);
    set(&format!("{xl}theme/theme1.xml"), Role::Structure);
    set(&format!("{xl}sharedStrings.xml"), Role::SharedStrings);
    for (ty, target) in relationships(zip, names, &wb_rels, shown, limits)? {
        let path = match target.strip_prefix('/') {
            Some(abs) => abs.to_string(),
            None => format!("{xl}{target}"),
        };
        let role = if ty.ends_with("/styles") || ty.ends_with("/theme") {
            Role::Structure
        } else if ty.ends_with("/sharedStrings") {
            Role::SharedStrings
        } else {
            Role::Sheet
        };
        set(&path, role);
    }
    Ok(roles)
}

pub(crate) fn bad_workbook(shown: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::malformed(
        shown.to_string(),
        format!("not a readable workbook (.xlsx): {e}"),
    )
}

fn refused(shown: &str, message: String) -> SourceError {
    SourceError::Refused {
        path: shown.to_string(),
        message,
    }
}

/// A part name as calamine looks it up (`/` separators, case ignored), with `.` and `..`
/// resolved as the annotator resolves relationship targets.
fn normalize(name: &str) -> String {
    let lower = name.replace('\\', "/").to_ascii_lowercase();
    let mut parts: Vec<&str> = vec![];
    for seg in lower.split('/') {
        match seg {
            "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The entries' names, after the checks the directory allows: a workbook part exists and no
/// declared size is over the limits (a cheap first refusal; the sizes are counted again).
fn directory(zip: &mut Zip, shown: &str, limits: &Limits) -> Result<Vec<String>, SourceError> {
    let mut names = Vec::with_capacity(zip.len());
    let mut has_workbook = false;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| bad_workbook(shown, e))?;
        let name = entry
            .name()
            .map_err(|e| bad_workbook(shown, e))?
            .to_string();
        let size = entry.size();
        has_workbook |= name.ends_with("workbook.xml");
        if size > limits.max_part_bytes {
            return Err(refused(shown, format!(
                "part {name} inflates to {size} bytes, over the limit of {} bytes (a zip bomb, or a sheet too large for one part)",
                limits.max_part_bytes
            )));
        }
        if name.ends_with("sharedStrings.xml") && size > limits.max_shared_strings_bytes {
            return Err(refused(
                shown,
                format!(
                    "the shared strings inflate to {size} bytes, over the limit of {} bytes",
                    limits.max_shared_strings_bytes
                ),
            ));
        }
        names.push(name);
    }
    if !has_workbook {
        return Err(bad_workbook(shown, "the zip holds no xl/workbook.xml"));
    }
    Ok(names)
}

/// The index of the entry calamine opens for `name`.
fn find(names: &[String], name: &str) -> Option<usize> {
    let want = normalize(name);
    names.iter().rposition(|n| normalize(n) == want)
}

/// The `Relationship` elements (Type, Target) of a relationships part, read within the
/// structure budget; none when the part is missing or damaged (calamine then reports it).
fn relationships(
    zip: &mut Zip,
    names: &[String],
    part: &str,
    shown: &str,
    limits: &Limits,
) -> Result<Vec<(String, String)>, SourceError> {
    let Some(i) = find(names, part) else {
        return Ok(vec![]);
    };
    let entry = zip.by_index(i).map_err(|e| bad_workbook(shown, e))?;
    let budget = limits.max_structure_bytes;
    let guard = Budgeted::new(entry, budget, BUFFER as u64, budget);
    let mut xml = quick_xml::Reader::from_reader(BufReader::with_capacity(BUFFER, guard));
    let mut buf = Vec::new();
    let mut out = vec![];
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "Relationship" => {
                let attr = |k: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| a.value.to_string())
                        .unwrap_or_default()
                };
                out.push((attr("Type"), attr("Target")));
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) if xml.get_ref().get_ref().overrun().is_some() => {
                return Err(over_structure(shown, part, limits))
            }
            Err(_) => break,
        }
    }
    Ok(out)
}

fn over_structure(shown: &str, part: &str, limits: &Limits) -> SourceError {
    refused(shown, format!(
        "part {part} is larger than the limit of {} bytes for a part read whole (FERRY_MAX_STRUCTURE_BYTES); the workbook is damaged or hostile",
        limits.max_structure_bytes
    ))
}

/// The folder and name of the workbook part, from the package relationships, as calamine
/// finds them (`xl/` and `workbook.xml` by default).
fn office_document(
    zip: &mut Zip,
    names: &[String],
    shown: &str,
    limits: &Limits,
) -> Result<(String, String), SourceError> {
    let rels = relationships(zip, names, "_rels/.rels", shown, limits)?;
    let target = rels
        .into_iter()
        .find(|(t, _)| t.ends_with("/relationships/officeDocument"))
        .map(|(_, target)| target);
    let Some(target) = target else {
        return Ok(("xl/".into(), "workbook.xml".into()));
    };
    let (dir, name) = match target.rfind('/') {
        Some(i) => target.split_at(i + 1),
        None => ("", target.as_str()),
    };
    let name = if name.is_empty() {
        "workbook.xml"
    } else {
        name
    };
    Ok((dir.trim_start_matches('/').to_string(), name.to_string()))
}

/// What one part holds, as far as the limits care.
#[derive(Debug, Default)]
struct Tally {
    bytes: u64,
    shared_strings: u64,
    /// The `uniqueCount` the shared strings claim (calamine reserves that many entries).
    claimed: Option<u64>,
}

/// Why a part failed its check.
enum PartError {
    /// An event over the unit budget, or the part over its total.
    Over(Overrun),
    /// An element (`c`, `is`, `si`, `row`) over the record limit; the cell or row it is at.
    Element(&'static str, Option<String>),
    Xml(quick_xml::Error),
    Io(std::io::Error),
}

fn check_part(
    zip: &mut Zip,
    index: usize,
    name: &str,
    role: Role,
    shown: &str,
    limits: &Limits,
) -> Result<(), SourceError> {
    let total = match role {
        Role::Structure => limits.max_structure_bytes,
        Role::SharedStrings => limits.max_shared_strings_bytes,
        Role::Sheet | Role::Other => limits.max_part_bytes,
    };
    let unit = limits.max_record_bytes as u64;
    let entry = zip.by_index(index).map_err(|e| bad_workbook(shown, e))?;
    let tally = match tally(entry, unit, total) {
        Ok(t) => t,
        Err(PartError::Over(Overrun::Total)) if role == Role::Structure => {
            return Err(over_structure(shown, name, limits))
        }
        Err(PartError::Over(Overrun::Total)) => {
            return Err(refused(shown, format!(
                "part {name} inflates to more than {total} bytes, over the limit (a zip bomb, or a sheet too large for one part)"
            )))
        }
        Err(PartError::Over(Overrun::Unit { start })) => {
            return Err(refused(shown, format!(
                "part {name}: an element, text or comment at byte {start} is longer than the limit of {unit} bytes (FERRY_MAX_RECORD_BYTES); the workbook is refused before it is held in memory"
            )))
        }
        Err(PartError::Element(what, at)) => {
            let at = at.map(|r| format!(" {r}")).unwrap_or_default();
            let what = match what {
                "row" => format!("row{at}"),
                "si" => "a shared string".to_string(),
                _ => format!("cell{at}"),
            };
            return Err(refused(shown, format!(
                "part {name}: {what} is longer than the limit of {unit} bytes (FERRY_MAX_RECORD_BYTES); the workbook is refused before it is held in memory"
            )));
        }
        // A part only the annotator parses may be damaged: it is then left alone (copied).
        Err(PartError::Xml(_)) if role == Role::Other => return Ok(()),
        Err(PartError::Xml(e)) => {
            return Err(bad_workbook(shown, format!("part {name}: {e}")))
        }
        Err(PartError::Io(e)) => return Err(bad_workbook(shown, format!("part {name}: {e}"))),
    };
    if role != Role::SharedStrings {
        return Ok(());
    }
    // Every entry takes at least `<si/>` (5 bytes); a larger claim is a lie calamine would trust.
    if let Some(claimed) = tally.claimed.filter(|c| *c > tally.bytes / 5 + 16) {
        return Err(refused(shown, format!(
            "the shared strings claim {claimed} entries in {} bytes; the workbook is damaged or hostile",
            tally.bytes
        )));
    }
    let cost = tally.bytes + SHARED_STRING_OVERHEAD * tally.shared_strings;
    if cost > limits.max_shared_strings_bytes {
        return Err(refused(shown, format!(
            "the shared strings ({} entries, {} bytes) would take about {cost} bytes of memory, over the limit of {} bytes (FERRY_MAX_SHARED_STRINGS_BYTES)",
            tally.shared_strings, tally.bytes, limits.max_shared_strings_bytes
        )));
    }
    Ok(())
}

/// The elements whose whole content calamine or the annotator holds at once.
const HELD: [&str; 4] = ["c", "is", "si", "row"];

/// The error for held element `k` over the limit: an inline string counts as its cell.
fn element_error(k: usize, refs: &[Option<String>; 4]) -> PartError {
    let k = if HELD[k] == "is" { 0 } else { k };
    PartError::Element(HELD[k], refs[k].clone())
}

/// Tokenizes one part within the budgets, as calamine's reader is configured.
fn tally(entry: impl Read, unit: u64, total: u64) -> Result<Tally, PartError> {
    let guard = Budgeted::new(entry, unit, BUFFER as u64, total);
    let mut xml = quick_xml::Reader::from_reader(BufReader::with_capacity(BUFFER, guard));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut buf = Vec::with_capacity(crate::guard::reserve_for(unit));
    let mut open: [Option<u64>; 4] = [None; 4];
    // The `r` attribute of each held element when it opened (cells and rows have one).
    let mut refs: [Option<String>; 4] = Default::default();
    let mut tally = Tally::default();
    loop {
        let start = xml.buffer_position();
        xml.get_ref().get_ref().mark(start);
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                // The innermost element held: a shared string, a cell, a row.
                let held = [2, 0, 1, 3].into_iter().find(|k| open[*k].is_some());
                return Err(match (xml.get_ref().get_ref().overrun(), held) {
                    (Some(Overrun::Unit { .. }), Some(k)) => element_error(k, &refs),
                    (Some(o), _) => PartError::Over(o),
                    (None, _) => match e {
                        quick_xml::Error::Io(io) => PartError::Io(std::io::Error::other(io)),
                        e => PartError::Xml(e),
                    },
                });
            }
        };
        match event {
            Event::Start(e) => {
                let local = e.local_name();
                if local.as_ref() == "sst" {
                    tally.claimed = e
                        .try_get_attribute("uniqueCount")
                        .ok()
                        .flatten()
                        .and_then(|a| a.value.trim().parse().ok());
                }
                if let Some(k) = HELD.iter().position(|h| *h == local.as_ref()) {
                    open[k] = Some(start);
                    tally.shared_strings += (k == 2) as u64;
                    refs[k] = e
                        .try_get_attribute("r")
                        .ok()
                        .flatten()
                        .map(|a| a.value.chars().take(16).collect());
                }
            }
            Event::End(e) => {
                if let Some(k) = HELD.iter().position(|h| *h == e.local_name().as_ref()) {
                    open[k] = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        let pos = xml.buffer_position();
        for (k, s) in open.iter().enumerate() {
            if s.is_some_and(|s| pos - s > unit) {
                return Err(element_error(k, &refs));
            }
        }
    }
    tally.bytes = xml.get_ref().get_ref().delivered();
    Ok(tally)
}
