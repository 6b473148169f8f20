//! Small XML helpers shared by the part rewriters: attributes, tags re-serialised with changed
//! attributes, text collection, escaping, cell references.

use quick_xml::events::{BytesRef, BytesStart};
use std::borrow::Cow;

/// The namespace of package relationships (`r:id`), transitional and strict.
pub(crate) const REL_NS: [&str; 2] = [
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
];

/// The part after a namespace prefix: `x:c` → `c`.
pub(crate) fn local(name: &str) -> &str {
    name.rsplit_once(':').map(|(_, l)| l).unwrap_or(name)
}

/// The prefix with its colon: `x:c` → `x:`, `c` → ``.
pub(crate) fn prefix(name: &str) -> &str {
    match name.rfind(':') {
        Some(i) => &name[..=i],
        None => "",
    }
}

/// An attribute's value, unescaped; `None` when absent or unreadable.
pub(crate) fn attr(e: &BytesStart, name: &str) -> Option<String> {
    for a in e.attributes().with_checks(false) {
        let a = a.ok()?;
        if a.key.0 == name {
            return Some(
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()?
                    .into_owned(),
            );
        }
    }
    None
}

/// The prefix that a start tag binds to the relationships namespace, if it declares one.
pub(crate) fn rel_prefix(e: &BytesStart) -> Option<String> {
    for a in e.attributes().with_checks(false).flatten() {
        if let Some(p) = a.key.0.strip_prefix("xmlns:") {
            if REL_NS.contains(&a.value.as_ref()) {
                return Some(p.to_string());
            }
        }
    }
    None
}

/// The tag `e` written out again, with the attributes in `set` replaced, added (`Some`, value
/// already escaped) or removed (`None`); every other attribute is kept as written.
pub(crate) fn tag_with(e: &BytesStart, empty: bool, set: &[(&str, Option<&str>)]) -> String {
    let mut s = String::with_capacity(e.len() + 32);
    s.push('<');
    s.push_str(e.name().0);
    for a in e.attributes().with_checks(false).flatten() {
        if set.iter().any(|(k, _)| *k == a.key.0) {
            continue;
        }
        s.push(' ');
        s.push_str(a.key.0);
        s.push_str("=\"");
        // A value written inside single quotes may hold a double quote.
        s.push_str(&a.value.replace('"', "&quot;"));
        s.push('"');
    }
    for (k, v) in set {
        if let Some(v) = v {
            s.push(' ');
            s.push_str(k);
            s.push_str("=\"");
            s.push_str(v);
            s.push('"');
        }
    }
    s.push_str(if empty { "/>" } else { ">" });
    s
}

/// Escapes text for an element or attribute, replacing characters XML 1.0 cannot hold.
pub(crate) fn esc(s: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && c != '\t' && c != '\n' && c != '\r') || c == '\u{FFFE}' || c == '\u{FFFF}'
    };
    if s.chars().any(bad) {
        let clean: String = s
            .chars()
            .map(|c| if bad(c) { '\u{FFFD}' } else { c })
            .collect();
        Cow::Owned(quick_xml::escape::escape(clean.as_str()).into_owned())
    } else {
        quick_xml::escape::escape(s)
    }
}

/// The character a general reference stands for (`&amp;`, `&#10;`); `None` for others.
pub(crate) fn resolve_ref(r: &BytesRef) -> Option<char> {
    if r.is_char_ref() {
        return r.resolve_char_ref().ok().flatten();
    }
    match &**r {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// `(2, 7)` → `C7` (column 0-based, row 1-based).
pub(crate) fn cell_ref(col: u32, row: u32) -> String {
    format!("{}{row}", ferry_findings::column_letter(col))
}

/// `C7` → `(2, Some(7))`; `C` → `(2, None)`. `None` for anything else or past column XFD.
pub(crate) fn parse_ref(s: &str) -> Option<(u32, Option<u32>)> {
    let s = s.trim_start_matches('$');
    let letters = s.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let mut col: u32 = 0;
    for b in s[..letters].bytes() {
        col = col * 26 + (b.to_ascii_uppercase() - b'A' + 1) as u32;
    }
    if col > 16_384 {
        return None;
    }
    let rest = s[letters..].trim_start_matches('$');
    let row = if rest.is_empty() {
        None
    } else {
        Some(rest.parse::<u32>().ok()?)
    };
    Some((col - 1, row))
}

/// A sheet name quoted for a reference: `'O''Brien'`.
pub(crate) fn quoted_sheet(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs() {
        assert_eq!(parse_ref("A1"), Some((0, Some(1))));
        assert_eq!(parse_ref("AB12"), Some((27, Some(12))));
        assert_eq!(parse_ref("XFD1048576"), Some((16_383, Some(1_048_576))));
        assert_eq!(parse_ref("XFE1"), None);
        assert_eq!(parse_ref("12"), None);
        assert_eq!(cell_ref(27, 12), "AB12");
        assert_eq!(esc("a\u{1}<b"), "a\u{FFFD}&lt;b");
    }
}
