//! The check a workbook passes before calamine (or the annotator) reads it, so that no part,
//! event, cell, shared string or row larger than the limits is ever held in memory.
//!
//! calamine holds a whole event, cell and shared string in memory (a 500 MB cell took 1.5 GB)
//! and keeps the shared strings, styles and sheet list whole. The zip crate fails a read that
//! inflates beyond the size the directory declares, so a declared size is an upper bound; a
//! part declared larger than a bound of its role is inflated once through a [`Budgeted`] reader
//! and tokenized with quick-xml (as calamine is configured), counting what it holds:
//! - every part: events and the elements `c`, `is`, `si`, `row` at most `max_record_bytes`;
//! - sheets and other parts: `max_part_bytes` in all;
//! - the shared strings: their bytes plus [`SHARED_STRING_OVERHEAD`] per entry at most
//!   `max_shared_strings_bytes` (what calamine's `Vec<String>` costs), and no claimed count
//!   (`uniqueCount`, which calamine reserves) beyond what the part can hold;
//! - the parts read whole into structures (package and workbook relationships, workbook,
//!   styles, theme): `max_structure_bytes` each (a cell format costs calamine ~300 bytes).

use crate::guard::{Budgeted, Overrun};
use crate::xlsx_gate::{Counting, Gate, Tracked};
use crate::Position;
use crate::{Limits, SourceError};
use quick_xml::events::{BytesEnd, BytesStart, Event};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread::JoinHandle;

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
    /// A sheet the workbook's relationships name: streamed by calamine.
    Sheet,
    /// Another part (comments, drawings, macros…): parsed only by the annotator, if at all.
    Other,
}

type Zip = zip::ZipArchive<Counting>;

/// Checks the workbook at `path` (shown as `shown` in messages) against `limits`.
pub fn check(path: &Path, shown: &str, limits: &Limits) -> Result<(), SourceError> {
    let (mut zip, _) = open(path, shown)?;
    let names = directory(&mut zip, shown, limits)?;
    let roles = roles(&mut zip, &names, shown, limits)?;
    for (i, name) in names.iter().enumerate() {
        let Some((role, scan)) = scan_of(&mut zip, i, name, &roles, shown, limits)? else {
            continue;
        };
        check_part(&mut zip, i, name, role, scan, shown, limits, None)?;
    }
    Ok(())
}

fn open(path: &Path, shown: &str) -> Result<(Zip, Arc<AtomicU64>), SourceError> {
    let file = File::open(path).map_err(|e| SourceError::Io {
        path: shown.to_string(),
        source: e,
    })?;
    let counting = Counting::new(file);
    let position = counting.position();
    let zip = zip::ZipArchive::new(counting).map_err(|e| {
        bad_workbook(
            shown,
            format!("the zip container is damaged or truncated ({e})"),
        )
    })?;
    Ok((zip, position))
}

/// How part `i` is checked, if at all.
fn scan_of(
    zip: &mut Zip,
    i: usize,
    name: &str,
    roles: &HashMap<String, Role>,
    shown: &str,
    limits: &Limits,
) -> Result<Option<(Role, Scan)>, SourceError> {
    let norm = normalize(name);
    let role = match roles.get(&norm) {
        Some(r) => *r,
        None if [".xml", ".rels", ".vml"].iter().any(|e| norm.ends_with(e)) => Role::Other,
        None => return Ok(None),
    };
    let declared = zip
        .by_index_raw(i)
        .map_err(|e| bad_workbook(shown, e))?
        .size();
    Ok(match needs_scan(role, declared, limits) {
        true => Some((role, Scan::Whole)),
        false if role == Role::SharedStrings => Some((role, Scan::Head)),
        false => None,
    })
}

/// The check of a workbook the reader reads meanwhile ([`start`]).
pub(crate) struct Checking {
    shown: String,
    gate: Arc<Gate>,
    thread: Option<JoinHandle<Result<(), SourceError>>>,
}

impl Checking {
    /// What the reader's file must go through.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate.clone()
    }

    /// The check's outcome, once it has ended.
    pub fn finish(self) -> Result<(), SourceError> {
        match self.thread {
            None => Ok(()),
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(bad_workbook(&self.shown, "its check could not read it"))),
        }
    }
}

/// Checks the workbook at `path` as [`check`] does, the parts read whole (structures, shared
/// strings) before it returns, the large sheets and other parts on a thread of their own,
/// behind the [`Gate`] the reader's file goes through (`xlsx_gate`). The first refusal in
/// part order is the outcome, as with [`check`].
pub(crate) fn start(path: &Path, shown: &str, limits: &Limits) -> Result<Checking, SourceError> {
    let (mut zip, position) = open(path, shown)?;
    let names = directory(&mut zip, shown, limits)?;
    let roles = roles(&mut zip, &names, shown, limits)?;
    let gate = Arc::new(Gate::default());
    // Parts left to the thread: (index, role).
    let mut later: Vec<(usize, Role)> = vec![];
    for (i, name) in names.iter().enumerate() {
        let now = match scan_of(&mut zip, i, name, &roles, shown, limits) {
            Ok(None) => continue,
            Ok(Some((role @ (Role::Sheet | Role::Other), Scan::Whole))) => {
                match zip.by_index_raw(i).ok().and_then(|f| {
                    let start = f.data_start()?;
                    Some((start, start.checked_add(f.compressed_size())?))
                }) {
                    Some((start, end)) => {
                        gate.hold(start, end);
                        later.push((i, role));
                        continue;
                    }
                    None => check_part(&mut zip, i, name, role, Scan::Whole, shown, limits, None),
                }
            }
            Ok(Some((role, scan))) => {
                check_part(&mut zip, i, name, role, scan, shown, limits, None)
            }
            Err(e) => Err(e),
        };
        if let Err(e) = now {
            // A part before this one, left for later, is refused first.
            for &(j, role) in &later {
                check_part(
                    &mut zip,
                    j,
                    &names[j],
                    role,
                    Scan::Whole,
                    shown,
                    limits,
                    None,
                )?;
            }
            return Err(e);
        }
    }
    if later.is_empty() {
        return Ok(Checking {
            shown: shown.to_string(),
            gate,
            thread: None,
        });
    }
    let (g, shown, limits) = (gate.clone(), shown.to_string(), limits.clone());
    let shown_here = shown.clone();
    let thread = std::thread::Builder::new()
        .name("ferry-xlsx-check".into())
        .spawn(move || {
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                for (k, &(i, role)) in later.iter().enumerate() {
                    let gated = Some((&*g, k, &position));
                    check_part(
                        &mut zip,
                        i,
                        &names[i],
                        role,
                        Scan::Whole,
                        &shown,
                        &limits,
                        gated,
                    )?;
                    g.checked(k, u64::MAX);
                }
                Ok(())
            }))
            .unwrap_or_else(|_| Err(bad_workbook(&shown, "its check could not read it")));
            g.ended(checked.is_ok());
            checked
        });
    match thread {
        Ok(t) => Ok(Checking {
            shown: shown_here,
            gate,
            thread: Some(t),
        }),
        // No thread: the reader cannot go through the held parts; nothing was read yet.
        Err(e) => {
            gate.ended(false);
            Err(SourceError::Io {
                path: shown_here,
                source: e,
            })
        }
    }
}

/// How much of a part to tokenize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    Whole,
    /// Up to the shared strings' start tag, for the count it claims.
    Head,
}

/// Whether a part must be tokenized whole. The zip crate never inflates an entry beyond the
/// size its directory declares (the read fails: `limits.rs` holds a workbook that lies), so a
/// part declared within every bound of its role is within them, and only larger parts are
/// tokenized (a sheet over 64 MiB inflated is tokenized twice, here and by calamine).
fn needs_scan(role: Role, declared: u64, limits: &Limits) -> bool {
    let total = match role {
        Role::Structure => limits.max_structure_bytes,
        Role::SharedStrings => limits.max_shared_strings_bytes,
        Role::Sheet | Role::Other => limits.max_part_bytes,
    };
    if declared > limits.max_record_bytes as u64 || declared > total {
        return true;
    }
    // The shared strings' memory, at worst one entry (`<si/>`) every 5 bytes.
    role == Role::SharedStrings
        && declared + declared / 5 * SHARED_STRING_OVERHEAD > limits.max_shared_strings_bytes
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
        } else if ["/worksheet", "/chartsheet", "/dialogsheet"]
            .iter()
            .any(|t| ty.ends_with(t))
        {
            Role::Sheet
        } else {
            // Macros, custom XML…: only the annotator may parse them, and only if XML.
            Role::Other
        };
        set(&path, role);
    }
    Ok(roles)
}

pub(crate) fn bad_workbook(shown: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::malformed(
        Position::file(shown),
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
    /// Bytes inflated (the whole part when scanned whole).
    bytes: u64,
    /// The size the directory declares (never exceeded: the zip crate checks it).
    size: u64,
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

/// Checks one part; `gated` (the gate, the part's place in it, the check's file offset) opens
/// its compressed bytes to the reader as the check goes.
#[allow(clippy::too_many_arguments)]
fn check_part(
    zip: &mut Zip,
    index: usize,
    name: &str,
    role: Role,
    scan: Scan,
    shown: &str,
    limits: &Limits,
    gated: Option<(&Gate, usize, &Arc<AtomicU64>)>,
) -> Result<(), SourceError> {
    let total = match role {
        Role::Structure => limits.max_structure_bytes,
        Role::SharedStrings => limits.max_shared_strings_bytes,
        Role::Sheet | Role::Other => limits.max_part_bytes,
    };
    let entry = zip.by_index(index).map_err(|e| bad_workbook(shown, e))?;
    let size = entry.size();
    let unit = limits.max_record_bytes as u64;
    let tallied = match gated {
        None => tally(entry, size, unit, total, scan, |_, _| {}),
        Some((gate, k, position)) => {
            let entry = Tracked::new(entry, position.clone());
            tally(entry, size, unit, total, scan, |t, checked| {
                if let Some(upto) = t.safe_offset(checked) {
                    gate.checked(k, upto);
                }
            })
        }
    };
    match tallied {
        Ok(t) if role == Role::SharedStrings => shared_strings(&t, scan, shown, limits),
        Ok(_) => Ok(()),
        // Damaged XML is left to the reader, which stops at the same place (all before it
        // was within the limits).
        Err(PartError::Xml(_)) => Ok(()),
        Err(e) => Err(part_error(e, role, name, shown, limits)),
    }
}

/// The refusal for a part over a limit.
fn part_error(e: PartError, role: Role, name: &str, shown: &str, limits: &Limits) -> SourceError {
    let unit = limits.max_record_bytes;
    let over = |what: String| {
        refused(shown, format!(
            "part {name}: {what} is longer than the limit of {unit} bytes (FERRY_MAX_RECORD_BYTES); the workbook is refused before it is held in memory"
        ))
    };
    match e {
        PartError::Over(Overrun::Total) if role == Role::Structure => {
            over_structure(shown, name, limits)
        }
        PartError::Over(Overrun::Total) => refused(shown, format!(
            "part {name} inflates to more than {} bytes, over the limit (a zip bomb, or a sheet too large for one part)",
            if role == Role::SharedStrings { limits.max_shared_strings_bytes } else { limits.max_part_bytes }
        )),
        PartError::Over(Overrun::Unit { start }) => {
            over(format!("an element, text or comment at byte {start}"))
        }
        PartError::Element(what, at) => {
            let at = at.map(|r| format!(" {r}")).unwrap_or_default();
            over(match what {
                "row" => format!("row{at}"),
                "si" => "a shared string".to_string(),
                _ => format!("cell{at}"),
            })
        }
        PartError::Xml(e) => bad_workbook(shown, format!("part {name}: {e}")),
        PartError::Io(e) => bad_workbook(shown, format!("part {name}: {e}")),
    }
}

/// The shared strings' claimed count and (when counted) their cost in calamine's memory.
fn shared_strings(t: &Tally, scan: Scan, shown: &str, limits: &Limits) -> Result<(), SourceError> {
    // Every entry takes at least `<si/>` (5 bytes); a larger claim is a lie calamine would
    // trust (it reserves that many entries).
    if let Some(claimed) = t.claimed.filter(|c| *c > t.size / 5 + 16) {
        return Err(refused(shown, format!(
            "the shared strings claim {claimed} entries in {} bytes; the workbook is damaged or hostile",
            t.size
        )));
    }
    if scan == Scan::Head {
        return Ok(());
    }
    let cost = t.bytes + SHARED_STRING_OVERHEAD * t.shared_strings;
    if cost > limits.max_shared_strings_bytes {
        return Err(refused(shown, format!(
            "the shared strings ({} entries, {} bytes) would take about {cost} bytes of memory, over the limit of {} bytes (FERRY_MAX_SHARED_STRINGS_BYTES)",
            t.shared_strings, t.bytes, limits.max_shared_strings_bytes
        )));
    }
    Ok(())
}

/// The elements whose whole content calamine or the annotator holds at once.
const HELD: [&str; 4] = ["c", "is", "si", "row"];

/// The held elements open at the reader's position: where each started, and its `r`
/// attribute (cells and rows have one) for the message.
#[derive(Default)]
struct Held {
    open: [Option<u64>; 4],
    /// The `r` attribute's first 16 characters, if the element has one; the strings are
    /// reused (no allocation per cell).
    refs: [Option<()>; 4],
    ref_text: [String; 4],
}

impl Held {
    /// Notes a start tag at byte `at`; true for a shared string (`si`).
    fn start(&mut self, e: &BytesStart<'_>, at: u64) -> bool {
        let Some(k) = HELD.iter().position(|h| *h == e.local_name().as_ref()) else {
            return false;
        };
        self.open[k] = Some(at);
        let text = &mut self.ref_text[k];
        text.clear();
        self.refs[k] = match e.try_get_attribute("r") {
            Ok(Some(a)) => {
                text.extend(a.value.chars().take(16));
                Some(())
            }
            _ => None,
        };
        k == 2
    }

    fn end(&mut self, e: &BytesEnd<'_>) {
        if let Some(k) = HELD.iter().position(|h| *h == e.local_name().as_ref()) {
            self.open[k] = None;
        }
    }

    /// The first held element longer than `unit` at byte `pos`.
    fn over(&self, pos: u64, unit: u64) -> Option<PartError> {
        let k = (0..4).find(|k| self.open[*k].is_some_and(|s| pos - s > unit))?;
        Some(self.error(k))
    }

    /// The innermost held element (a shared string, a cell, a row), as an error.
    fn innermost(&self) -> Option<PartError> {
        let k = [2, 0, 1, 3].into_iter().find(|k| self.open[*k].is_some())?;
        Some(self.error(k))
    }

    /// The error for element `k`: an inline string counts as its cell.
    fn error(&self, k: usize) -> PartError {
        let k = if HELD[k] == "is" { 0 } else { k };
        PartError::Element(HELD[k], self.refs[k].map(|()| self.ref_text[k].clone()))
    }
}

/// The `uniqueCount` a shared-strings start tag claims.
fn claimed_count(e: &BytesStart<'_>) -> Option<u64> {
    let a = e.try_get_attribute("uniqueCount").ok().flatten()?;
    a.value.trim().parse().ok()
}

/// How often (in bytes tokenized) the check tells how far it has got.
const TELL_EVERY: u64 = 256 * 1024;

/// Tokenizes one part within the budgets, as calamine's reader is configured; `checked` is
/// told, now and then, that the part is within the limits up to a byte.
fn tally<R: Read>(
    entry: R,
    size: u64,
    unit: u64,
    total: u64,
    scan: Scan,
    mut checked: impl FnMut(&mut R, u64),
) -> Result<Tally, PartError> {
    let mut tell_at = TELL_EVERY;
    let guard = Budgeted::new(entry, unit, BUFFER as u64, total);
    let mut xml = quick_xml::Reader::from_reader(BufReader::with_capacity(BUFFER, guard));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut buf = Vec::with_capacity(crate::guard::reserve_for(unit));
    let mut held = Held::default();
    let mut tally = Tally::default();
    loop {
        let start = xml.buffer_position();
        xml.get_ref().get_ref().mark(start);
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                if e.local_name().as_ref() == "sst" {
                    tally.claimed = claimed_count(&e);
                    if scan == Scan::Head {
                        break;
                    }
                }
                tally.shared_strings += held.start(&e, start) as u64;
            }
            Ok(Event::End(e)) => held.end(&e),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(match xml.get_ref().get_ref().overrun() {
                    Some(Overrun::Unit { start }) => held
                        .innermost()
                        .unwrap_or(PartError::Over(Overrun::Unit { start })),
                    Some(o) => PartError::Over(o),
                    None => match e {
                        quick_xml::Error::Io(io) => PartError::Io(std::io::Error::other(io)),
                        e => PartError::Xml(e),
                    },
                })
            }
        }
        let at = xml.buffer_position();
        if let Some(e) = held.over(at, unit) {
            return Err(e);
        }
        if at >= tell_at {
            tell_at = at + TELL_EVERY;
            checked(xml.get_mut().get_mut().get_mut(), at);
        }
    }
    tally.bytes = xml.get_ref().get_ref().delivered();
    tally.size = size.max(tally.bytes);
    Ok(tally)
}
