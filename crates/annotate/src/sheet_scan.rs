//! Reading a worksheet without writing it: its header row (for secret and key columns), and the
//! shared strings its cells use (for a sheet copied unchanged).

use crate::error::Damage;
use crate::sheet::{raw, HEADER_ROW};
use crate::strings::SecretStrings;
use crate::xml::{local, parse_ref};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::io::BufRead;

/// A header cell's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderCell {
    Shared(u32),
    Text(String),
}

/// Whether the scan goes on.
enum Flow {
    Go,
    Stop,
}

/// Where the header scan is.
#[derive(Default)]
struct Scan {
    depth: usize,
    in_data: bool,
    row: u32,
    in_header: bool,
    col_next: u32,
    /// The open cell: column, shared?, text.
    cur: Option<(u32, bool, String)>,
    in_text: bool,
    out: Vec<(u32, HeaderCell)>,
}

impl Scan {
    fn start(&mut self, e: &BytesStart, empty: bool) -> Flow {
        let l = local(e.name().0);
        match self.depth {
            1 if l == "sheetData" => {
                if empty {
                    return Flow::Stop;
                }
                self.in_data = true;
            }
            2 if self.in_data && l == "row" => {
                self.row = raw(e, "r")
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(self.row + 1);
                if self.row > HEADER_ROW {
                    return Flow::Stop;
                }
                self.in_header = !empty;
                self.col_next = 0;
            }
            3 if self.in_header && l == "c" => {
                let col = raw(e, "r")
                    .and_then(|v| parse_ref(&v).map(|c| c.0))
                    .unwrap_or(self.col_next);
                self.col_next = col.saturating_add(1);
                if !empty {
                    let shared = raw(e, "t").is_some_and(|t| t == "s");
                    self.cur = Some((col, shared, String::new()));
                }
            }
            _ => {}
        }
        if !empty {
            if self.cur.is_some() && matches!(l, "v" | "t") {
                self.in_text = true;
            }
            self.depth += 1;
        }
        Flow::Go
    }

    fn end(&mut self, l: &str) -> Flow {
        self.depth = self.depth.saturating_sub(1);
        if matches!(l, "v" | "t") {
            self.in_text = false;
        }
        if self.depth == 3 && l == "c" {
            if let Some((col, shared, text)) = self.cur.take() {
                let cell = if shared {
                    text.trim().parse().ok().map(HeaderCell::Shared)
                } else {
                    Some(HeaderCell::Text(text.trim().to_string()))
                };
                if let Some(cell) = cell {
                    self.out.push((col, cell));
                }
            }
        }
        if (self.depth == 2 && l == "row" && self.in_header)
            || (self.depth == 1 && l == "sheetData")
        {
            return Flow::Stop;
        }
        Flow::Go
    }

    fn text(&mut self, t: &str) {
        if let Some(c) = self.cur.as_mut() {
            if c.2.len() < 1024 {
                c.2.push_str(t);
            }
        }
    }
}

/// Reads the header row: the cells of row 1 as (column, shared-string index or text).
pub(crate) fn header<R: BufRead>(input: R) -> Result<Vec<(u32, HeaderCell)>, Damage> {
    let mut r = Reader::from_reader(input);
    let mut buf = vec![];
    let mut scan = Scan::default();
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(Damage::xml("the sheet"))?;
        let flow = match &ev {
            Event::Start(e) => scan.start(e, false),
            Event::Empty(e) => scan.start(e, true),
            Event::End(e) => scan.end(local(e.name().0)),
            Event::Text(t) if scan.in_text => {
                scan.text(t);
                Flow::Go
            }
            Event::GeneralRef(g) if scan.in_text => {
                if let (Some(c), Some(ch)) = (scan.cur.as_mut(), crate::xml::resolve_ref(g)) {
                    c.2.push(ch);
                }
                Flow::Go
            }
            Event::Eof => Flow::Stop,
            _ => Flow::Go,
        };
        if let Flow::Stop = flow {
            break;
        }
        buf.clear();
    }
    Ok(scan.out)
}

/// Notes every shared string a sheet's cells use (for sheets copied unchanged).
pub(crate) fn shared_refs<R: BufRead>(input: R, strings: &mut SecretStrings) -> Result<(), Damage> {
    let mut r = Reader::from_reader(input);
    let mut buf = vec![];
    let mut sst_cell = false;
    let mut in_v = false;
    loop {
        match r
            .read_event_into(&mut buf)
            .map_err(Damage::xml("the sheet"))?
        {
            Event::Start(e) => match local(e.name().0) {
                "c" => sst_cell = raw(&e, "t").is_some_and(|t| t == "s"),
                "v" => in_v = sst_cell,
                _ => {}
            },
            Event::End(e) => match local(e.name().0) {
                "c" => sst_cell = false,
                "v" => in_v = false,
                _ => {}
            },
            Event::Text(t) if in_v => {
                if let Ok(i) = t.trim().parse::<u32>() {
                    strings.plain_ref(i);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}
