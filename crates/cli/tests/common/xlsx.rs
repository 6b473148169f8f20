//! Reading the workbooks Ferry writes, for tests: the zip parts, their XML tags and attributes,
//! relationship targets, and each sheet's cells as text.
#![allow(dead_code)]

use calamine::{Data, Reader};
use quick_xml::events::{BytesStart, Event};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The zip entries of a workbook, inflated.
pub fn parts(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut b = vec![];
        e.read_to_end(&mut b).unwrap();
        out.insert(e.name().unwrap().to_string(), b);
    }
    out
}

/// A part as text (empty when the workbook has no such part).
pub fn text(parts: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(parts.get(name).cloned().unwrap_or_default()).unwrap()
}

/// The value of attribute `name` (with or without a namespace prefix), unescaped.
pub fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.0 == name || a.key.0.ends_with(&format!(":{name}")))
        .map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .unwrap()
                .into_owned()
        })
}

/// Visits every start or empty tag of a part.
pub fn each_tag(xml: &str, mut f: impl FnMut(&BytesStart)) {
    let mut r = quick_xml::Reader::from_str(xml);
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => f(&e),
            Event::Eof => break,
            _ => {}
        }
    }
}

/// Visits every start or empty tag of a part; a `comment` with the markup inside it (whose
/// own tags are then not visited), every other tag with `""`.
pub fn each_tag_with_comments(xml: &str, mut f: impl FnMut(&BytesStart, &str)) {
    let mut r = quick_xml::Reader::from_str(xml);
    loop {
        match r.read_event().unwrap() {
            Event::Empty(e) => f(&e, ""),
            Event::Start(e) if local(e.name().0) == "comment" => {
                let end = e.to_end().into_owned();
                let inner = r.read_text(end.name()).unwrap();
                f(&e, &inner);
            }
            Event::Start(e) => f(&e, ""),
            Event::Eof => break,
            _ => {}
        }
    }
}

/// A tag's name without its namespace prefix.
pub fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap()
}

/// A relationship's target, as a part name, from the part `base` that names it.
pub fn resolve(base: &str, target: &str) -> String {
    if let Some(t) = target.strip_prefix('/') {
        return t.to_string();
    }
    let mut p: Vec<&str> = base.split('/').collect();
    p.pop();
    for s in target.split('/') {
        if s == ".." {
            p.pop();
        } else {
            p.push(s);
        }
    }
    p.join("/")
}

/// The cells of every sheet of a workbook, as text, by sheet.
pub fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).unwrap();
            let rows = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (n, rows)
        })
        .collect()
}

/// A workbook with a secret in each kind of secret column, each on a rejected row: a User with
/// a password and the currency "EURO", a credit card with a number and a reference to no
/// payment method.
pub fn secrets_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let users = book.add_worksheet().set_name("User").unwrap();
    for (c, h) in ["Name", "Password", "Currency"].iter().enumerate() {
        users.write_string(0, c as u16, *h).unwrap();
    }
    users.write_string(1, 0, "HSC-9001").unwrap();
    users.write_string(1, 1, "Tr0ub4dor&3-secret").unwrap();
    users.write_string(1, 2, "EURO").unwrap();
    let cards = book
        .add_worksheet()
        .set_name("UserPaymentMethodCreditCard")
        .unwrap();
    for (c, h) in [
        "Ref",
        "CardNumber",
        "ExpiryMonth",
        "ExpiryYear",
        "NameOnCard",
    ]
    .iter()
    .enumerate()
    {
        cards.write_string(0, c as u16, *h).unwrap();
    }
    cards.write_string(1, 0, "NO-SUCH-METHOD").unwrap();
    cards.write_string(1, 1, "4111 1111 1111 1111").unwrap();
    cards.write_number(1, 2, 9).unwrap();
    cards.write_number(1, 3, 2029).unwrap();
    cards.write_string(1, 4, "A Member").unwrap();
    book.save_to_buffer().unwrap()
}
