//! The shared-strings part: header texts looked up by index, and the rewrite that blanks the
//! strings only secret cells used (passwords, card and bank numbers) and appends the masked
//! forms of the numbers, so that no secret survives in the annotated copy.

use crate::error::Damage;
use crate::xml::{local, prefix, resolve_ref, tag_with};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};

/// Longest header text kept.
const MAX_HEADER: usize = 1024;

/// How secret cells used the shared strings.
pub(crate) struct SecretStrings {
    /// Entries in the original part.
    pub count: u32,
    /// Bit set: entries used by a cell that is not secret (they stay).
    plain: Vec<u64>,
    /// Entries used by a secret cell: blank them (unless plain), and the appended masked copy.
    secret: HashMap<u32, Option<u32>>,
    /// Appended entries, each the masked form of an original entry.
    tail: Vec<u32>,
}

impl SecretStrings {
    pub fn new(count: u32) -> SecretStrings {
        SecretStrings {
            count,
            plain: vec![0; (count as usize).div_ceil(64)],
            secret: HashMap::new(),
            tail: vec![],
        }
    }

    /// A cell that is not secret uses entry `i`.
    pub fn plain_ref(&mut self, i: u32) {
        if let Some(w) = self.plain.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }

    pub fn is_plain(&self, i: u32) -> bool {
        self.plain
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// A password cell used entry `i` (the cell is blanked).
    pub fn password_ref(&mut self, i: u32) {
        if i < self.count {
            self.secret.entry(i).or_insert(None);
        }
    }

    /// A card or bank number cell used entry `i`: the index of its masked copy.
    pub fn number_ref(&mut self, i: u32) -> Option<u32> {
        if i >= self.count {
            return None;
        }
        let next = self.count + self.tail.len() as u32;
        let slot = self.secret.entry(i).or_insert(None);
        match *slot {
            Some(j) => Some(j),
            None => {
                *slot = Some(next);
                self.tail.push(i);
                Some(next)
            }
        }
    }

    /// Whether any shared string must change.
    pub fn needs_rewrite(&self) -> bool {
        !self.secret.is_empty()
    }
}

/// Counts the entries and returns the texts of the `wanted` ones.
pub(crate) fn scan<R: BufRead>(
    input: R,
    wanted: &HashSet<u32>,
) -> Result<(u32, HashMap<u32, String>), Damage> {
    let mut r = Reader::from_reader(input);
    let mut buf = vec![];
    let mut depth = 0usize;
    let mut n: u32 = 0;
    let mut texts = HashMap::new();
    let mut cur: Option<String> = None;
    let mut text = TextState::default();
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(Damage::xml("the shared strings"))?;
        match ev {
            Event::Start(e) => {
                let l = local(e.name().0);
                if depth == 1 && l == "si" {
                    cur = wanted.contains(&n).then(String::new);
                    text = TextState::default();
                }
                text.start(l);
                depth += 1;
            }
            Event::Empty(e) if depth == 1 && local(e.name().0) == "si" => {
                n = n.saturating_add(1);
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let l = local(e.name().0);
                text.end(l);
                if depth == 1 && l == "si" {
                    if let Some(t) = cur.take() {
                        texts.insert(n, t);
                    }
                    n = n.saturating_add(1);
                }
            }
            Event::Text(t) => {
                if let (Some(c), true) = (cur.as_mut(), text.on()) {
                    push_bounded(c, &t);
                }
            }
            Event::CData(t) => {
                if let (Some(c), true) = (cur.as_mut(), text.on()) {
                    push_bounded(c, &t);
                }
            }
            Event::GeneralRef(g) => {
                if let (Some(c), true, Some(ch)) = (cur.as_mut(), text.on(), resolve_ref(&g)) {
                    push_bounded(c, ch.encode_utf8(&mut [0; 4]));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok((n, texts))
}

fn push_bounded(s: &mut String, t: &str) {
    for c in t.chars() {
        if s.len() >= MAX_HEADER {
            return;
        }
        s.push(c);
    }
}

/// Inside `<t>` but not inside a phonetic run.
#[derive(Default)]
struct TextState {
    t: u32,
    rph: u32,
}

impl TextState {
    fn start(&mut self, l: &str) {
        match l {
            "t" => self.t += 1,
            "rPh" => self.rph += 1,
            _ => {}
        }
    }
    fn end(&mut self, l: &str) {
        match l {
            "t" => self.t = self.t.saturating_sub(1),
            "rPh" => self.rph = self.rph.saturating_sub(1),
            _ => {}
        }
    }
    fn on(&self) -> bool {
        self.t > 0 && self.rph == 0
    }
}

/// The last four digits seen.
#[derive(Default, Clone)]
pub(crate) struct LastDigits(String);

impl LastDigits {
    pub fn push(&mut self, s: &str) {
        for c in s.chars().filter(|c| c.is_ascii_digit()) {
            if self.0.len() == 4 {
                self.0.remove(0);
            }
            self.0.push(c);
        }
    }
    pub fn masked(&self) -> String {
        ferry_findings::mask_number(&self.0)
    }
}

/// The `<sst>` tag with its counts grown by the masked copies.
fn sst_tag(e: &quick_xml::events::BytesStart, s: &SecretStrings) -> String {
    let extra = s.tail.len() as u64;
    let count = crate::xml::attr(e, "count")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|v| (v + extra).to_string());
    let unique = Some((s.count as u64 + extra).to_string());
    tag_with(
        e,
        false,
        &[
            ("count", count.as_deref()),
            ("uniqueCount", unique.as_deref()),
        ],
    )
}

/// The masked copies of the card and bank numbers, in the order of `s.tail`.
fn masked_copies<W: Write>(
    w: &mut W,
    p: &str,
    s: &SecretStrings,
    digits: &HashMap<u32, LastDigits>,
) -> Result<(), Damage> {
    for orig in &s.tail {
        let m = digits.get(orig).cloned().unwrap_or_default().masked();
        write!(w, "<{p}si><{p}t>{m}</{p}t></{p}si>")
            .map_err(Damage::writing("the shared strings"))?;
    }
    Ok(())
}

/// Whether entry `n` is blanked, and whether its digits are kept for a masked copy.
fn entry_use(s: &SecretStrings, n: u32) -> (bool, bool) {
    let use_ = s.secret.get(&n);
    (
        use_.is_some() && !s.is_plain(n),
        matches!(use_, Some(Some(_))),
    )
}

/// A text run or character reference of a secret entry, into its last digits.
fn push_text(last: &mut LastDigits, ev: &Event) {
    match ev {
        Event::Text(t) => last.push(t),
        Event::GeneralRef(g) => {
            if let Some(ch) = resolve_ref(g) {
                last.push(ch.encode_utf8(&mut [0; 4]));
            }
        }
        _ => {}
    }
}

/// Copies the part, blanking secret entries and appending the masked copies.
pub(crate) fn rewrite<R: BufRead, W: Write>(
    input: R,
    out: &mut W,
    s: &SecretStrings,
) -> Result<(), Damage> {
    let io = Damage::writing("the shared strings");
    let mut r = Reader::from_reader(input);
    let mut w = quick_xml::Writer::new(&mut *out);
    let mut buf = vec![];
    let mut depth = 0usize;
    let mut n: u32 = 0;
    let mut p = String::new();
    let mut digits: HashMap<u32, LastDigits> = HashMap::new();
    let mut cur: Option<(bool, bool)> = None; // (blank it, collect digits)
    let mut last = LastDigits::default();
    let mut text = TextState::default();
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(Damage::xml("the shared strings"))?;
        match &ev {
            Event::Start(e) if depth == 0 => {
                p = prefix(e.name().0).to_string();
                w.get_mut()
                    .write_all(sst_tag(e, s).as_bytes())
                    .map_err(io)?;
                depth += 1;
                buf.clear();
                continue;
            }
            Event::Start(e) if depth == 1 && local(e.name().0) == "si" => {
                let (blank, collect) = entry_use(s, n);
                cur = Some((blank, collect));
                last = LastDigits::default();
                text = TextState::default();
                if blank {
                    write!(w.get_mut(), "<{p}si><{p}t/></{p}si>").map_err(io)?;
                }
            }
            Event::Empty(e) if depth == 1 && local(e.name().0) == "si" => {
                if matches!(s.secret.get(&n), Some(Some(_))) {
                    digits.insert(n, LastDigits::default());
                }
                n = n.saturating_add(1);
            }
            // `</sst>`: the masked copies go last.
            Event::End(_) if depth == 1 => masked_copies(w.get_mut(), &p, s, &digits)?,
            _ => {}
        }
        let blanking = cur.is_some_and(|c| c.0);
        match &ev {
            Event::Start(e) => {
                if depth >= 2 {
                    text.start(local(e.name().0));
                }
                depth += 1;
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let l = local(e.name().0);
                text.end(l);
                if depth == 1 && l == "si" {
                    if cur.is_some_and(|c| c.1) {
                        digits.insert(n, last.clone());
                    }
                    cur = None;
                    n = n.saturating_add(1);
                    if blanking {
                        buf.clear();
                        continue;
                    }
                }
            }
            Event::Text(_) | Event::GeneralRef(_) if cur.is_some_and(|c| c.1) && text.on() => {
                push_text(&mut last, &ev)
            }
            Event::Eof => break,
            _ => {}
        }
        if !blanking {
            w.write_event(ev).map_err(io)?;
        }
        buf.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_and_rewrite() {
        let src = r#"<?xml version="1.0"?><sst xmlns="x" count="6" uniqueCount="4"><si><t>Name</t></si><si><r><t>Pass</t></r><r><t>word</t></r></si><si><t>hunter2</t></si><si><t xml:space="preserve">4111 1111 1111 1111</t></si></sst>"#;
        let (n, texts) = scan(src.as_bytes(), &[0, 1].into_iter().collect()).unwrap();
        assert_eq!(n, 4);
        assert_eq!(texts[&0], "Name");
        assert_eq!(texts[&1], "Password");
        let mut s = SecretStrings::new(n);
        s.plain_ref(0);
        s.password_ref(2);
        assert_eq!(s.number_ref(3), Some(4));
        assert_eq!(s.number_ref(3), Some(4));
        let mut out = vec![];
        rewrite(src.as_bytes(), &mut out, &s).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("hunter2"), "{out}");
        assert!(!out.contains("4111 1111"), "{out}");
        assert!(out.contains(r#"count="7" uniqueCount="5""#), "{out}");
        assert!(
            out.contains("<si><t>************1111</t></si></sst>"),
            "{out}"
        );
        assert!(
            out.contains("<si><r><t>Pass</t></r><r><t>word</t></r></si><si><t/></si><si><t/></si>"),
            "{out}"
        );
    }
}
