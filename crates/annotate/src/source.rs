//! The source workbook's zip entries, found by name (exactly, else ignoring case), read whole or
//! streamed, and fresh names for the parts the copy adds.

use crate::error::Damage;
use crate::package::Rel;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use zip::ZipArchive;

/// Parts read whole (workbook.xml, styles, relationships, VML) may not inflate beyond this.
const MAX_SMALL_PART: u64 = 64 * 1024 * 1024;

/// The zip entries of the source, by name.
pub(crate) struct Source {
    pub zip: ZipArchive<BufReader<File>>,
    pub names: Vec<String>,
    index: HashMap<String, usize>,
    lower: HashMap<String, usize>,
}

impl Source {
    /// Opens the zip container and lists its entries.
    pub fn open(file: File) -> Result<Source, Damage> {
        let zip = ZipArchive::new(BufReader::new(file)).map_err(Damage::Container)?;
        let mut names = vec![];
        for i in 0..zip.len() {
            match zip.name_for_index(i) {
                Some(Ok(n)) => names.push(n.to_string()),
                _ => return Err(Damage::NoName(i)),
            }
        }
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let lower = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_ascii_lowercase(), i))
            .collect();
        Ok(Source {
            zip,
            names,
            index,
            lower,
        })
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.index
            .get(name)
            .or_else(|| self.lower.get(&name.to_ascii_lowercase()))
            .copied()
    }

    fn entry_error(name: &str) -> impl Fn(zip::result::ZipError) -> Damage + '_ {
        move |source| Damage::Entry {
            part: name.to_string(),
            source,
        }
    }

    /// A small part's text, if the source has it.
    pub fn read(&mut self, name: &str) -> Result<Option<String>, Damage> {
        let Some(i) = self.find(name) else {
            return Ok(None);
        };
        let entry = self.zip.by_index(i).map_err(Self::entry_error(name))?;
        if entry.size() > MAX_SMALL_PART {
            return Err(Damage::TooLarge {
                part: name.to_string(),
                size: entry.size(),
            });
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .take(MAX_SMALL_PART)
            .read_to_end(&mut bytes)
            .map_err(|source| Damage::Read {
                part: name.to_string(),
                source,
            })?;
        if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            bytes.drain(..3);
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Damage::NotUtf8(name.to_string()))
    }

    /// A part, streamed.
    pub fn stream(
        &mut self,
        name: &str,
    ) -> Result<BufReader<zip::read::ZipFile<'_, BufReader<File>>>, Damage> {
        let i = self
            .find(name)
            .ok_or_else(|| Damage::Missing(name.to_string()))?;
        let entry = self.zip.by_index(i).map_err(Self::entry_error(name))?;
        Ok(BufReader::with_capacity(1 << 16, entry))
    }

    /// Entry `i` as stored (for a copy without inflating), named `name` in errors.
    pub fn raw(
        &mut self,
        i: usize,
        name: &str,
    ) -> Result<zip::read::ZipFile<'_, BufReader<File>>, Damage> {
        self.zip.by_index_raw(i).map_err(Self::entry_error(name))
    }
}

/// A fresh part name `{stem}{n}{ext}` that the source does not use.
pub(crate) fn fresh(src: &Source, taken: &mut HashSet<String>, stem: &str, ext: &str) -> String {
    (1..)
        .map(|n| format!("{stem}{n}{ext}"))
        .find(|n| src.find(n).is_none() && taken.insert(n.to_ascii_lowercase()))
        .expect("a free name")
}

/// A relationship id that `rels` does not use.
pub(crate) fn fresh_id(rels: &[Rel], taken: &mut HashSet<String>, stem: &str) -> String {
    let mut id = stem.to_string();
    let mut n = 1;
    while rels.iter().any(|r| r.id == id) || !taken.insert(id.clone()) {
        n += 1;
        id = format!("{stem}{n}");
    }
    id
}
