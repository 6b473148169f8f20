//! Writing the annotated copy, once its layout is known: every entry of the source copied raw
//! or rewritten (content types, workbook, sheets), then the deferred parts (comments, notes and
//! relationships of the flagged sheets, the Findings sheet, styles, shared strings).

use crate::error::Damage;
use crate::layout::{Layout, NewParts, Plan, Workbook, CONTENT_TYPES};
use crate::package::{self, NewRel};
use crate::source::Source;
use crate::spool::{self, FindingSet, Texts, NO_SHEET};
use crate::{comments, findings_sheet, sheet, sheet_scan, strings, styles, Summary};
use ferry_findings::Severity;
use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Seek, Write};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

/// Findings shown in one comment; the rest are counted.
const MAX_PER_COMMENT: usize = 20;
/// Characters of one message in a comment.
const MAX_MESSAGE: usize = 1000;

fn ioerr(e: std::io::Error) -> Damage {
    Damage::writing("the annotated copy")(e)
}

/// The zip being written.
struct Out<W: Write + Seek> {
    z: ZipWriter<W>,
    opts: SimpleFileOptions,
}

impl<W: Write + Seek> Out<W> {
    fn start(&mut self, name: &str) -> Result<(), Damage> {
        self.z.start_file(name, self.opts).map_err(Damage::Zip)
    }

    fn put(&mut self, name: &str, text: &str) -> Result<(), Damage> {
        self.start(name)?;
        self.z.write_all(text.as_bytes()).map_err(ioerr)
    }

    /// Copies entry `name` of the source as stored, if the source has it.
    fn copy_raw(&mut self, src: &mut Source, name: &str) -> Result<(), Damage> {
        if let Some(j) = src.find(name) {
            self.copy_index(src, j, name)?;
        }
        Ok(())
    }

    fn copy_index(&mut self, src: &mut Source, i: usize, name: &str) -> Result<(), Damage> {
        let entry = src.raw(i, name)?;
        self.z.raw_copy_file(entry).map_err(Damage::Zip)
    }

    /// Streams a new part through `f`.
    fn stream<F>(&mut self, name: &str, capacity: usize, f: F) -> Result<(), Damage>
    where
        F: FnOnce(&mut BufWriter<&mut ZipWriter<W>>) -> Result<(), Damage>,
    {
        self.start(name)?;
        let mut bw = BufWriter::with_capacity(capacity, &mut self.z);
        f(&mut bw)?;
        bw.flush().map_err(ioerr)
    }
}

/// What the copy has done so far.
struct Progress {
    styles: styles::Styles,
    strings: strings::SecretStrings,
    summary: Summary,
    /// For each rewritten sheet, the id of its own `<legacyDrawing>`.
    legacy: HashMap<usize, Option<String>>,
    /// Sheets copied as they are.
    untouched: Vec<String>,
}

/// Writes the annotated copy to `w`.
pub(crate) fn write<W: Write + Seek>(
    src: &mut Source,
    set: &mut FindingSet,
    wbk: &Workbook,
    lay: &Layout,
    parts: &NewParts,
    w: W,
) -> Result<Summary, Damage> {
    let styles = styles::Styles::parse(
        lay.styles_text
            .clone()
            .unwrap_or_else(|| styles::MINIMAL.to_string()),
    )
    .map_err(Damage::in_part(
        lay.styles_part.as_deref().unwrap_or("styles"),
    ))?;
    let mut out = Out {
        z: ZipWriter::new(w),
        opts: SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
    };
    let mut done = Progress {
        styles,
        strings: strings::SecretStrings::new(lay.sst_count),
        summary: Summary::default(),
        legacy: HashMap::new(),
        untouched: vec![],
    };
    copy_entries(src, &mut out, &mut done, wbk, lay, parts)?;
    if src.find(CONTENT_TYPES).is_none() {
        return Err(Damage::NoContentTypes);
    }
    // Shared strings a secret cell used stay only if a plain cell uses them too.
    if done.strings.needs_rewrite() {
        for name in &done.untouched {
            sheet_scan::shared_refs(src.stream(name)?, &mut done.strings)
                .map_err(Damage::in_part(name))?;
        }
    }
    let mut texts = set.texts().map_err(ioerr)?;
    for (pi, plan) in lay.plans.iter().enumerate() {
        if plan.flagged() {
            write_notes(src, &mut out, &done, set, &mut texts, pi, plan)?;
        }
    }
    write_findings(&mut out, &mut done, set, &mut texts, lay, parts)?;
    write_styles_and_strings(src, &mut out, &done, lay, parts)?;
    let mut w = out.z.finish().map_err(Damage::Zip)?;
    w.flush().map_err(ioerr)?;
    Ok(done.summary)
}

/// Parts written after the sheets, when what they need is known (lower case).
fn deferred(lay: &Layout, parts: &NewParts) -> HashSet<String> {
    let mut deferred: HashSet<String> = HashSet::new();
    deferred.extend(lay.styles_part.clone());
    deferred.extend(lay.sst_part.clone());
    deferred.insert(parts.findings_part.clone());
    for p in lay.plans.iter().filter(|p| p.flagged()) {
        deferred.insert(p.rels_name.clone());
        deferred.extend(p.comments.clone());
        deferred.extend(p.vml_parts.iter().cloned());
    }
    deferred.iter().map(|n| n.to_ascii_lowercase()).collect()
}

/// Copies or rewrites every entry of the source, in its order, except the deferred ones.
fn copy_entries<W: Write + Seek>(
    src: &mut Source,
    out: &mut Out<W>,
    done: &mut Progress,
    wbk: &Workbook,
    lay: &Layout,
    parts: &NewParts,
) -> Result<(), Damage> {
    let deferred = deferred(lay, parts);
    let rewritten: HashMap<String, usize> = lay
        .plans
        .iter()
        .enumerate()
        .filter(|(_, p)| p.rewritten())
        .map(|(i, p)| (p.part.clone().unwrap_or_default().to_ascii_lowercase(), i))
        .collect();
    let sheet_parts: HashSet<String> = lay
        .plans
        .iter()
        .filter_map(|p| p.part.clone())
        .map(|p| p.to_ascii_lowercase())
        .collect();
    for i in 0..src.names.len() {
        let name = src.names[i].clone();
        let low = name.to_ascii_lowercase();
        if let Some(text) = package_part(&name, wbk, lay, parts)? {
            out.put(&name, &text)?;
        } else if deferred.contains(&low) {
            continue;
        } else if let Some(&pi) = rewritten.get(&low) {
            rewrite_sheet(src, out, done, i, &name, pi, &lay.plans[pi])?;
        } else {
            if sheet_parts.contains(&low) {
                done.untouched.push(name.clone());
            }
            out.copy_index(src, i, &name)?;
        }
    }
    Ok(())
}

/// The new text of `[Content_Types].xml`, the workbook or its relationships; none for another
/// entry.
fn package_part(
    name: &str,
    wbk: &Workbook,
    lay: &Layout,
    parts: &NewParts,
) -> Result<Option<String>, Damage> {
    let text = if name == CONTENT_TYPES {
        let mut ov = parts.overrides.clone();
        ov.retain(|(n, _)| !n.is_empty());
        package::add_content_types(&wbk.ct, true, &ov)?
    } else if name == wbk.wb_name {
        if lay.existing_findings.is_some() {
            wbk.wb.clone()
        } else {
            package::insert_first_sheet(
                &wbk.wb,
                findings_sheet::SHEET,
                wbk.book.max_sheet_id + 1,
                &parts.findings_rid,
            )?
        }
    } else if name == wbk.wb_rels_name {
        workbook_rels(wbk, lay.existing_findings.is_none(), parts)?
    } else {
        return Ok(None);
    };
    Ok(Some(text))
}

/// Streams one sheet through the rewriter: marks, secrets, legacy drawing.
fn rewrite_sheet<W: Write + Seek>(
    src: &mut Source,
    out: &mut Out<W>,
    done: &mut Progress,
    i: usize,
    name: &str,
    pi: usize,
    plan: &Plan,
) -> Result<(), Damage> {
    let job = sheet::Job {
        marks: &plan.marks,
        secrets: &plan.secrets,
        legacy_rid: (!plan.marks.is_empty()).then_some(plan.new_vml.0.as_str()),
    };
    let size = src.zip.by_index_raw(i).map(|e| e.size()).unwrap_or(0);
    let o = out.opts.large_file(size > (1 << 31));
    out.z.start_file(name, o).map_err(Damage::Zip)?;
    let input = src.stream(name)?;
    let mut bw = BufWriter::with_capacity(1 << 16, &mut out.z);
    let outcome = sheet::rewrite(input, &mut bw, &job, &mut done.styles, &mut done.strings)
        .map_err(|e| Damage::InSheet {
            sheet: plan.name.clone(),
            source: Box::new(e),
        })?;
    bw.flush().map_err(ioerr)?;
    drop(bw);
    done.summary.marked_cells += outcome.marked;
    done.summary.created_cells += outcome.created;
    done.summary.secrets += outcome.secrets;
    done.legacy.insert(pi, outcome.legacy_rid);
    Ok(())
}

/// workbook.xml.rels with the Findings sheet (and a styles part, if the source had none).
fn workbook_rels(wbk: &Workbook, add_sheet: bool, parts: &NewParts) -> Result<String, Damage> {
    let mut rels: Vec<NewRel> = vec![];
    if add_sheet {
        rels.push((
            parts.findings_rid.clone(),
            package::T_WORKSHEET,
            parts.findings_part.clone(),
        ));
    }
    if let Some((id, p)) = &parts.styles_new {
        rels.push((id.clone(), package::T_STYLES, p.clone()));
    }
    if rels.is_empty() {
        return Ok(wbk.wb_rels_text.clone());
    }
    package::add_rels(&wbk.wb_rels_text, &rels, &wbk.wb_rels_name)
}

/// The comment text of mark `m`: its findings, at most `MAX_PER_COMMENT`, then a count.
fn comment_text(
    plan: &Plan,
    set: &FindingSet,
    texts: &mut Texts,
    m: usize,
) -> Result<String, Damage> {
    let (start, n) = plan.groups[m];
    let mut lines = vec![];
    for &k in plan.members[start as usize..(start + n) as usize]
        .iter()
        .take(MAX_PER_COMMENT)
    {
        let t = texts.get(&set.keys[k as usize]).map_err(ioerr)?;
        let sev = set.keys[k as usize].severity.as_str();
        let mut line = format!("{sev} ({}): {}", t.code, clip(&t.message));
        if !t.hint.is_empty() {
            line.push_str(&format!(" {}", clip(&t.hint)));
        }
        lines.push(line);
    }
    if n as usize > MAX_PER_COMMENT {
        lines.push(format!(
            "… and {} more findings (see the Findings sheet).",
            n as usize - MAX_PER_COMMENT
        ));
    }
    Ok(lines.join("\n"))
}

/// Comments, notes and relationships of one flagged sheet.
fn write_notes<W: Write + Seek>(
    src: &mut Source,
    out: &mut Out<W>,
    done: &Progress,
    set: &FindingSet,
    texts: &mut Texts,
    pi: usize,
    plan: &Plan,
) -> Result<(), Damage> {
    let part = plan.part.as_deref().unwrap_or_default();
    let mut text_of = |m: usize| comment_text(plan, set, texts, m);
    let own = match (&plan.comments, &plan.new_comments) {
        (Some(existing), _) => {
            out.start(existing)?;
            let input = src.stream(existing)?;
            let mut bw = BufWriter::new(&mut out.z);
            let own = comments::merge(input, &mut bw, &plan.marks, &mut text_of)
                .map_err(Damage::in_part(existing))?;
            bw.flush().map_err(ioerr)?;
            own
        }
        (None, Some((_, name))) => {
            out.stream(name, 8192, |bw| {
                comments::write_new(bw, &plan.marks, &mut text_of)
            })?;
            vec![true; plan.marks.len()]
        }
        (None, None) => unreachable!("a flagged sheet has a comments part"),
    };
    // The sheet's own legacy drawing gets the notes; otherwise a new one.
    let rels = plan.rels.clone().unwrap_or_default();
    let legacy = done.legacy.get(&pi).cloned().flatten();
    let own_vml = legacy
        .as_ref()
        .and_then(|rid| {
            rels.iter()
                .find(|r| r.id == *rid && r.is(package::T_VML))
                .cloned()
        })
        .map(|r| package::resolve(part, &r.target))
        .filter(|p| src.find(p).is_some());
    let mut new_rels: Vec<NewRel> = vec![];
    if let Some((rid, name)) = &plan.new_comments {
        new_rels.push((rid.clone(), package::T_COMMENTS, name.clone()));
    }
    for v in &plan.vml_parts {
        if Some(v) != own_vml.as_ref() {
            out.copy_raw(src, v)?;
        }
    }
    match &own_vml {
        Some(v) => {
            let old = src.read(v)?.unwrap_or_default();
            let text = comments::append_vml(&old, &plan.marks, &own, plan.first_block)
                .map_err(Damage::in_part(v))?;
            out.put(v, &text)?;
        }
        None => {
            // A sheet naming a drawing its relationships lack gets ours under that id.
            let rid = legacy.unwrap_or_else(|| plan.new_vml.0.clone());
            new_rels.push((rid, package::T_VML, plan.new_vml.1.clone()));
            out.stream(&plan.new_vml.1, 8192, |bw| {
                comments::write_vml(bw, &plan.marks, &own, plan.first_block)
            })?;
        }
    }
    let rels_text = match src.read(&plan.rels_name)? {
        Some(t) => package::add_rels(&t, &new_rels, &plan.rels_name)?,
        None => package::new_rels(&new_rels),
    };
    out.put(&plan.rels_name, &rels_text)
}

/// The Findings sheet: every finding in order, with a link to its cell.
fn write_findings<W: Write + Seek>(
    out: &mut Out<W>,
    done: &mut Progress,
    set: &FindingSet,
    texts: &mut Texts,
    lay: &Layout,
    parts: &NewParts,
) -> Result<(), Damage> {
    let error_style = done.styles.flagged(0, Severity::Error);
    let warning_style = done.styles.flagged(0, Severity::Warning);
    let sheet_name = |k: &spool::Key| -> Option<&str> {
        (k.sheet != NO_SHEET).then(|| &*set.sheets[k.sheet as usize])
    };
    let keys = &set.keys;
    let cells = &lay.cells;
    let mut rows = lay.order.iter().map(|&i| {
        let k = &keys[i as usize];
        Ok(findings_sheet::Row {
            severity: k.severity,
            sheet: sheet_name(k),
            cell: cells.cell_of(k),
            text: texts.get(k).map_err(ioerr)?,
        })
    });
    let mut links = lay.order.iter().map(|&i| {
        let k = &keys[i as usize];
        let known = cells.sheet(k).is_some();
        match (sheet_name(k), cells.cell_of(k)) {
            (Some(s), Some((c, r))) if known => Some((s, c, r)),
            _ => None,
        }
    });
    let mut findings = 0;
    out.stream(&parts.findings_part, 8192, |bw| {
        findings = findings_sheet::write(bw, &mut rows, &mut links, error_style, warning_style)?;
        Ok(())
    })?;
    done.summary.findings = findings;
    Ok(())
}

/// The styles part, then the shared strings (rewritten when a secret used them).
fn write_styles_and_strings<W: Write + Seek>(
    src: &mut Source,
    out: &mut Out<W>,
    done: &Progress,
    lay: &Layout,
    parts: &NewParts,
) -> Result<(), Damage> {
    let styles_name = parts
        .styles_new
        .as_ref()
        .map(|s| s.1.clone())
        .or(lay.styles_part.clone())
        .unwrap_or_default();
    out.put(&styles_name, &done.styles.write()?)?;
    let Some(p) = &lay.sst_part else {
        return Ok(());
    };
    if done.strings.needs_rewrite() {
        let input = src.stream(p)?;
        out.stream(p, 1 << 16, |bw| {
            strings::rewrite(input, bw, &done.strings).map_err(Damage::in_part(p))
        })
    } else {
        let j = src.find(p).ok_or(Damage::StringsVanished)?;
        out.copy_index(src, j, p)
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_MESSAGE {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX_MESSAGE).collect();
        format!("{head}…")
    }
}
