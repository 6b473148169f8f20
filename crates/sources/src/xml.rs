//! The XML reader: any root element, each child element one record, attributes as fields.
//! DOCTYPEs that declare entities or name external DTDs are refused (no expansion, no file or
//! network access); nesting, attribute counts and value sizes are bounded.

use crate::emit::{self, Sheet, SheetKind};
use crate::guard::Budgeted;
use crate::lines::LineCounter;
use crate::Position;
use crate::{RawField, RawValue, ReadOptions, Sink, SourceError};
use ferry_catalogue as cat;
use ferry_catalogue::FieldId;
use ferry_findings::{Code, Column, Finding, Location};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;
use std::sync::Arc;

/// The read-ahead between the file and quick-xml.
const XML_BUFFER: usize = 64 * 1024;

type XmlReader = Reader<BufReader<Budgeted<LineCounter<Box<dyn Read>>>>>;

pub(crate) fn read(
    path: &Path,
    opts: &ReadOptions,
    visitor: &mut dyn Sink,
) -> Result<(), SourceError> {
    let shown: Arc<str> = opts.show(path).into();
    let io = |e| SourceError::Io {
        path: shown.to_string(),
        source: e,
    };
    let mut file = File::open(path).map_err(io)?;
    let encoding = declared_encoding(&mut file).map_err(io)?;
    // quick-xml reads UTF-8 only; any other encoding (a BOM, or the declaration) is decoded first.
    let input: Box<dyn Read> = match encoding {
        Some(enc) => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(enc))
                .bom_override(true)
                .build(file),
        ),
        None => Box::new(file),
    };
    // quick-xml holds a whole event (a tag with its attributes, a text run) in memory: the guard
    // stops an event at the record limit while it is being read.
    let guard = Budgeted::new(
        LineCounter::new(input),
        opts.limits.max_record_bytes as u64,
        XML_BUFFER as u64,
        u64::MAX,
    );
    let mut reader = Reader::from_reader(BufReader::with_capacity(XML_BUFFER, guard));
    {
        let c = reader.config_mut();
        c.check_end_names = true;
        c.expand_empty_elements = false;
        c.trim_text_start = false;
        c.trim_text_end = false;
    }
    let limits = &opts.limits;
    let here = |reader: &XmlReader, pos: u64| -> (u64, u64) {
        reader.get_ref().get_ref().get_ref().locate(pos)
    };
    let at = |line: u64, col: u64| Position::text(&*shown, line, col);

    // Reserved (not touched) up front, so that a large event grows into it without the copies
    // and freed blocks of a doubling buffer.
    let mut buf = Vec::with_capacity(crate::guard::reserve_for(
        opts.limits.max_record_bytes as u64,
    ));
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut warned_unknown_types: HashSet<String> = HashSet::new();
    let mut warned_fields: HashSet<(u16, String)> = HashSet::new();
    let mut warned_nested = false;
    let mut records = 0u64;
    // One Sheet carries the CloseInvoice inheritance for the whole file.
    let mut sheet = Sheet::new(shown.clone(), None, SheetKind::Ignored, false);

    loop {
        let start = reader.buffer_position();
        reader.get_ref().get_ref().mark(start);
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(_) if reader.get_ref().get_ref().overrun().is_some() => {
                let (line, col) = here(&reader, start);
                return Err(SourceError::malformed(
                    at(line, col),
                    format!(
                        "an element, text or comment here is longer than the limit of {} bytes (FERRY_MAX_RECORD_BYTES); the file is refused before it is held in memory",
                        limits.max_record_bytes
                    ),
                ));
            }
            Err(e) => {
                let (line, col) = here(&reader, reader.error_position());
                return Err(SourceError::malformed(
                    at(line, col),
                    format!("not well-formed XML: {e}"),
                ));
            }
        };
        match event {
            Event::DocType(d) => {
                let text: String = d.as_ref().to_string();
                let upper = text.to_ascii_uppercase();
                if upper.contains("ENTITY")
                    || upper.contains("SYSTEM")
                    || upper.contains("PUBLIC")
                    || text.contains('[')
                {
                    let (line, col) = here(&reader, start);
                    return Err(SourceError::Refused {
                        path: format!("{shown}:{line}:{col}"),
                        message: "the DOCTYPE declares entities or names an external DTD; Ferry refuses such XML (no entity is expanded, no file or network is read). Remove the DOCTYPE.".into(),
                    });
                }
            }
            Event::GeneralRef(r) => {
                let (line, col) = here(&reader, start);
                let name: String = r.as_ref().to_string();
                if depth < 2 {
                    return Err(SourceError::malformed(
                        at(line, col),
                        format!("entity reference &{name}; outside any record"),
                    ));
                }
            }
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let is_start = matches!(ev, Event::Start(_));
                let (Event::Start(e) | Event::Empty(e)) = ev else {
                    unreachable!("matched above")
                };
                let (line, col) = here(&reader, start);
                if depth != 1 {
                    // (A record's attributes are checked as they are read.)
                    check_attributes(&e, &|| at(line, col))?;
                }
                if depth == 0 {
                    if seen_root {
                        return Err(SourceError::malformed(
                            at(line, col),
                            "a second root element; an XML file has exactly one",
                        ));
                    }
                    seen_root = true;
                } else if depth == 1 {
                    records += 1;
                    read_record(
                        &e,
                        line,
                        col,
                        &shown,
                        &mut sheet,
                        opts,
                        visitor,
                        &mut warned_unknown_types,
                        &mut warned_fields,
                    )?;
                } else if !warned_nested {
                    warned_nested = true;
                    visitor.finding(Finding::new(
                        Code::UnknownField,
                        Location { file: shown.clone(), sheet: None, row: line, column: Some(Column::Number(col as u32)) },
                        "Elements nested inside a record are not fields and are ignored (fields are attributes).",
                    ))?;
                }
                // Empty elements do not change the depth; Start does.
                if is_start {
                    depth += 1;
                    if depth > limits.max_xml_depth {
                        return Err(SourceError::malformed(
                            at(line, col),
                            format!(
                                "XML nested deeper than {} levels; records are the root's children",
                                limits.max_xml_depth
                            ),
                        ));
                    }
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                if depth == 0 && t.as_ref().chars().any(|c| !c.is_whitespace()) {
                    let (line, col) = here(&reader, start);
                    return Err(SourceError::malformed(
                        at(line, col),
                        "text outside the root element: this is not an XML document",
                    ));
                }
            }
            Event::CData(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => {
                if depth > 0 {
                    let (line, col) = here(&reader, reader.buffer_position());
                    return Err(SourceError::malformed(
                        at(line, col),
                        "the file ends inside an element (truncated?)",
                    ));
                }
                if !seen_root {
                    return Err(SourceError::malformed(
                        at(1, 1),
                        "the file is empty or holds no XML element",
                    ));
                }
                break;
            }
        }
    }
    if records == 0 {
        visitor.finding(Finding::new(
            Code::EmptyInput,
            Location::start(shown, None),
            "The XML file holds no records.",
        ))?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn read_record(
    e: &quick_xml::events::BytesStart<'_>,
    line: u64,
    col: u64,
    shown: &Arc<str>,
    sheet: &mut Sheet,
    opts: &ReadOptions,
    visitor: &mut dyn Sink,
    warned_types: &mut HashSet<String>,
    warned_fields: &mut HashSet<(u16, String)>,
) -> Result<(), SourceError> {
    let location = Location {
        file: shown.clone(),
        sheet: None,
        row: line,
        column: Some(Column::Number(col as u32)),
    };
    let at = || Position::text(&**shown, line, col);
    let qname = e.name();
    let name: &str = qname.as_ref();
    if let Some(raw) = &opts.raw {
        if raw.wants(shown, None, Some(name)) {
            visitor.part(name, true, &[]);
            return raw_record(e, name, line, col, shown, opts, visitor);
        }
    }
    let entity = match emit::sheet_kind(name) {
        SheetKind::Entity(id) => {
            visitor.part(name, true, &[]);
            // A vendor's element name: one note per name.
            if cat::entity_alias(name).is_some() && warned_types.insert(name.to_string()) {
                if let Some(note) = emit::entity_alias_note(name, location.clone()) {
                    visitor.finding(note)?;
                }
            }
            id
        }
        SheetKind::Ignored => return check_attributes(e, &at),
        _ => {
            check_attributes(e, &at)?;
            if warned_types.insert(name.to_string()) {
                visitor.finding(emit::unknown_entity(name, location))?;
                let attrs: Vec<String> = e
                    .attributes()
                    .with_checks(false)
                    .filter_map(|a| a.ok())
                    .take(200)
                    .map(|a| {
                        let k: &str = a.key.as_ref();
                        k.to_string()
                    })
                    .collect();
                visitor.part(name, false, &attrs);
            }
            return Ok(());
        }
    };
    let ent = cat::by_id(entity);
    let mut fields = Vec::new();
    // The fields given so far, with the attribute name that gave each.
    let mut seen: Vec<(FieldId, String)> = Vec::new();
    let mut broken = false;
    let mut count = 0usize;
    for attr in e.attributes().with_checks(false) {
        count += 1;
        if count > opts.limits.max_fields {
            if !broken {
                broken = true;
                visitor.finding(
                    Finding::new(
                        Code::TooManyFields,
                        location.clone(),
                        format!(
                            "The element has more than {} attributes; the record is rejected.",
                            opts.limits.max_fields
                        ),
                    )
                    .entity(ent.name),
                )?;
            }
            continue;
        }
        let attr =
            attr.map_err(|err| SourceError::malformed(at(), format!("bad attribute: {err}")))?;
        let key = attr.key.as_ref();
        let key: &str = key;
        refuse_raw_lt(key, &attr.value, &at)?;
        if ent.ignores_field(key) {
            // A vendor's attribute that means nothing (seed 003's `<CloseInvoice CloseInvoice=""/>`).
            continue;
        }
        let fid = emit::field_of(entity, key);
        let Some((fid, alias_of)) = fid else {
            if warned_fields.insert((entity, key.to_string())) {
                let k = key.to_string();
                visitor.finding(
                    Finding::new(
                        Code::UnknownField,
                        location.clone(),
                        format!(
                            "\"{}\" is not a field of {}; its values are ignored.",
                            ferry_findings::clip(&k),
                            ent.name
                        ),
                    )
                    .entity(ent.name)
                    .field(&ferry_findings::clip(&k))
                    .hint(
                        cat::nearest(&k, ent.fields.iter().map(|f| f.name)).map(cat::did_you_mean),
                    ),
                )?;
            }
            continue;
        };
        if let Some(field) = alias_of {
            if warned_fields.insert((entity, key.to_string())) {
                visitor.finding(emit::field_alias_note(
                    ent.name,
                    key,
                    field,
                    location.clone(),
                ))?;
            }
        }
        if let Some((_, first)) = seen.iter().find(|(f, _)| *f == fid) {
            let name = ent.fields[fid as usize].name;
            if first == key {
                // Twice under one name: not XML (quick-xml is told not to check).
                return Err(SourceError::malformed(
                    at(),
                    format!("attribute {name} appears twice"),
                ));
            }
            // Ferry's name and a vendor's spelling: which one is meant is not for Ferry to guess.
            if !broken {
                broken = true;
                visitor.finding(
                    Finding::new(
                        Code::FieldTwice,
                        location.clone(),
                        format!("Field {name} of {} is given twice, as {name} and as the vendor's spelling {}; the record is rejected.", ent.name, if alias_of.is_some() { key } else { first.as_str() }),
                    )
                    .entity(ent.name)
                    .field(name),
                )?;
            }
            continue;
        }
        seen.push((fid, key.to_string()));
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| {
                SourceError::malformed(
                    at(),
                    format!(
                        "bad value of attribute {}: {err}",
                        ent.fields[fid as usize].name
                    ),
                )
            })?;
        let value = RawValue::bounded(value, &opts.limits);
        if let Some(v) = emit::normalize(value) {
            fields.push(RawField {
                field: fid,
                value: emit::bound(v, &opts.limits, entity, fid),
                column: Some(Column::Number(col as u32)),
            });
        }
    }
    sheet.finish(entity, location, fields, broken, visitor)
}

/// Hands an element of a raw element type over as one row: its attribute names and values.
fn raw_record(
    e: &quick_xml::events::BytesStart<'_>,
    name: &str,
    line: u64,
    col: u64,
    shown: &Arc<str>,
    opts: &ReadOptions,
    visitor: &mut dyn Sink,
) -> Result<(), SourceError> {
    let at = || Position::text(&**shown, line, col);
    let (mut headers, mut cells) = (Vec::new(), Vec::new());
    for attr in e.attributes().with_checks(false) {
        let attr =
            attr.map_err(|err| SourceError::malformed(at(), format!("bad attribute: {err}")))?;
        let key: &str = attr.key.as_ref();
        refuse_raw_lt(key, &attr.value, &at)?;
        if headers.len() >= opts.limits.max_fields {
            return Err(SourceError::malformed(
                at(),
                format!(
                    "the element has more than {} attributes (FERRY_MAX_FIELDS)",
                    opts.limits.max_fields
                ),
            ));
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| SourceError::malformed(at(), format!("bad value of {key}: {err}")))?;
        if headers.iter().any(|h: &String| h == key) {
            return Err(SourceError::malformed(
                at(),
                format!("attribute {key} appears twice"),
            ));
        }
        headers.push(key.to_string());
        cells.push(RawValue::bounded(value, &opts.limits));
    }
    let part = crate::RawPart {
        file: shown.clone(),
        sheet: None,
        element: Some(name.into()),
        columns: crate::RawColumns::At(u32::try_from(col).unwrap_or(u32::MAX)),
    };
    visitor.raw_row(crate::RawRow {
        part: &part,
        row: line,
        headers: &headers,
        cells: &cells,
    })
}

/// XML forbids a raw '<' in an attribute value, and quick-xml does not check: refused as
/// malformed on every element (records, the root, skipped and nested elements alike).
fn refuse_raw_lt(key: &str, value: &str, at: &dyn Fn() -> Position) -> Result<(), SourceError> {
    if value.contains('<') {
        return Err(SourceError::malformed(
            at(),
            format!("a raw '<' in the value of attribute {key}; write it as &lt;"),
        ));
    }
    Ok(())
}

/// Checks the attributes of an element that is not read as a record.
fn check_attributes(
    e: &quick_xml::events::BytesStart<'_>,
    at: &dyn Fn() -> Position,
) -> Result<(), SourceError> {
    for attr in e.attributes().with_checks(false) {
        let attr =
            attr.map_err(|err| SourceError::malformed(at(), format!("bad attribute: {err}")))?;
        let key: &str = attr.key.as_ref();
        refuse_raw_lt(key, &attr.value, at)?;
    }
    Ok(())
}

/// The encoding of an XML file other than UTF-8, from its byte-order mark or its declaration
/// (`<?xml version="1.0" encoding="windows-1252"?>`); the file is rewound.
fn declared_encoding(file: &mut File) -> std::io::Result<Option<&'static encoding_rs::Encoding>> {
    let mut head = [0u8; 256];
    let n = file.read(&mut head)?;
    file.rewind()?;
    let head = &head[..n];
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(head) {
        return Ok((enc != encoding_rs::UTF_8).then_some(enc));
    }
    // UTF-16 without a BOM starts with "<\0" or "\0<".
    if head.starts_with(b"<\0") {
        return Ok(Some(encoding_rs::UTF_16LE));
    }
    if head.starts_with(b"\0<") {
        return Ok(Some(encoding_rs::UTF_16BE));
    }
    if !head.starts_with(b"<?xml") {
        return Ok(None);
    }
    let end = head.iter().position(|b| *b == b'>').unwrap_or(head.len());
    let decl = String::from_utf8_lossy(&head[..end]).to_string();
    let Some(i) = decl.find("encoding") else {
        return Ok(None);
    };
    let rest = decl[i + 8..]
        .trim_start()
        .trim_start_matches('=')
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
    let Some(q) = quote else { return Ok(None) };
    let label: String = rest[1..].chars().take_while(|c| *c != q).collect();
    Ok(encoding_rs::Encoding::for_label(label.as_bytes()).filter(|e| *e != encoding_rs::UTF_8))
}
