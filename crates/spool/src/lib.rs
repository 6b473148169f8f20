//! The spool: records from every input are written to disk by phase (entity type in
//! dependency order, SPEC §5; the ledger as one stream in source order, §2), so a run reads each
//! input once, processes types in the right order whatever the files' order, and keeps memory flat.
//!
//! The spool format is a private, length-prefixed binary encoding written by hand: it lives
//! only for one run, in a temporary folder (`folder.rs`), and needs no schema evolution.

mod folder;

use ferry_catalogue::{dependency_order, EntityId, Phase, ENTITIES};
use ferry_findings::{Column, Location};
use ferry_sources::{HeaderColumns, RawField, RawRecord, RawValue};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

pub struct Spool {
    _dir: folder::SpoolDir,
    /// A per-run key, held only in memory: secret values (passwords, card and account numbers)
    /// are written to the spool encrypted with it, so a crash leaves no secret on disk in clear.
    key: [u8; 32],
    nonce: u64,
    phases: Vec<Phase>,
    phase_of: Vec<usize>,
    writers: Vec<Option<BufWriter<File>>>,
    paths: Vec<std::path::PathBuf>,
    counts: Vec<u64>,
    strings: Vec<Arc<str>>,
    intern: HashMap<Arc<str>, u32>,
    /// Header columns shared by records (kept alive here, so their addresses stay unique),
    /// written once per record as an index; 0 is none.
    headers: Vec<Option<HeaderColumns>>,
    header_ids: HashMap<usize, u32>,
}

impl Spool {
    /// A spool in a fresh private folder under `parent` (the system's temporary folder when
    /// `None`); spool folders there that dead processes left are removed first.
    pub fn new(parent: Option<&Path>) -> io::Result<Spool> {
        let dir = folder::SpoolDir::create(parent)?;
        let phases = dependency_order();
        let mut phase_of = vec![0usize; ENTITIES.len()];
        for (i, p) in phases.iter().enumerate() {
            for e in p.entities() {
                phase_of[e as usize] = i;
            }
        }
        let paths = (0..phases.len())
            .map(|i| dir.path().join(format!("phase-{i:03}.bin")))
            .collect();
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        Ok(Spool {
            _dir: dir,
            key,
            nonce: 0,
            writers: (0..phases.len()).map(|_| None).collect(),
            counts: vec![0; phases.len()],
            phases,
            phase_of,
            paths,
            strings: vec![Arc::from("")],
            intern: HashMap::new(),
            headers: vec![None],
            header_ids: HashMap::new(),
        })
    }

    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// Records spooled for a phase.
    pub fn count(&self, phase: usize) -> u64 {
        self.counts[phase]
    }

    fn intern(&mut self, s: &Arc<str>) -> u32 {
        if let Some(&i) = self.intern.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.clone());
        self.intern.insert(s.clone(), i);
        i
    }

    fn intern_header(&mut self, h: &Option<HeaderColumns>) -> u32 {
        let Some(h) = h else { return 0 };
        let addr = Arc::as_ptr(h) as *const Option<Column> as usize;
        if let Some(&i) = self.header_ids.get(&addr) {
            return i;
        }
        let i = self.headers.len() as u32;
        self.headers.push(Some(h.clone()));
        self.header_ids.insert(addr, i);
        i
    }

    pub fn push(&mut self, rec: &RawRecord) -> io::Result<()> {
        let phase = self.phase_of[rec.entity as usize];
        let header = self.intern_header(&rec.header);
        let file = self.intern(&rec.location.file);
        let sheet = match &rec.location.sheet {
            Some(s) => self.intern(s),
            None => 0,
        };
        if self.writers[phase].is_none() {
            self.writers[phase] = Some(BufWriter::with_capacity(
                64 * 1024,
                folder::private_file(&self.paths[phase])?,
            ));
        }
        let w = self.writers[phase].as_mut().expect("opened");
        let entity = ferry_catalogue::by_id(rec.entity);
        let mut sealed = None;
        if rec
            .fields
            .iter()
            .any(|f| entity.fields[f.field as usize].is_secret())
        {
            let mut r = rec.clone();
            for f in r.fields.iter_mut() {
                if entity.fields[f.field as usize].is_secret() {
                    if let RawValue::Text(t) = &f.value {
                        self.nonce += 1;
                        let mut bytes = t.as_bytes().to_vec();
                        keystream(&self.key, self.nonce, &mut bytes);
                        // Carried in the CellError slot of the encoding with a NUL prefix that no
                        // workbook error value has; `PhaseReader` opens it again.
                        f.value = RawValue::CellError(format!(
                            "\u{0}sealed:{}:{}",
                            self.nonce,
                            hex::encode(&bytes)
                        ));
                    }
                }
            }
            sealed = Some(r);
        }
        encode(w, sealed.as_ref().unwrap_or(rec), [file, sheet, header])?;
        self.counts[phase] += 1;
        Ok(())
    }

    /// Flushes every phase; call once before reading.
    pub fn finish(&mut self) -> io::Result<()> {
        for w in self.writers.iter_mut().flatten() {
            w.flush()?;
        }
        self.writers.iter_mut().for_each(|w| *w = None);
        Ok(())
    }

    /// Reads a phase's records back in the order they were spooled.
    pub fn read(&self, phase: usize) -> io::Result<PhaseReader<'_>> {
        let inner = if self.counts[phase] == 0 {
            None
        } else {
            Some(BufReader::with_capacity(
                64 * 1024,
                File::open(&self.paths[phase])?,
            ))
        };
        Ok(PhaseReader {
            key: self.key,
            inner,
            strings: &self.strings,
            headers: &self.headers,
            left: self.counts[phase],
        })
    }
}

pub struct PhaseReader<'a> {
    key: [u8; 32],
    inner: Option<BufReader<File>>,
    strings: &'a [Arc<str>],
    headers: &'a [Option<HeaderColumns>],
    left: u64,
}

impl Iterator for PhaseReader<'_> {
    type Item = io::Result<RawRecord>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = self.inner.as_mut()?;
        let key = self.key;
        Some(decode(r, self.strings, self.headers).map(|mut rec| {
            for f in rec.fields.iter_mut() {
                if let RawValue::CellError(e) = &f.value {
                    if let Some(rest) = e.strip_prefix("\u{0}sealed:") {
                        if let Some((nonce, data)) = rest.split_once(':') {
                            let mut bytes = unhex(data);
                            keystream(&key, nonce.parse().unwrap_or(0), &mut bytes);
                            f.value = RawValue::Text(String::from_utf8_lossy(&bytes).into_owned());
                        }
                    }
                }
            }
            rec
        }))
    }
}

/// XORs `data` with a keyed BLAKE3 stream for `nonce` (encrypts and decrypts alike).
fn keystream(key: &[u8; 32], nonce: u64, data: &mut [u8]) {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(&nonce.to_le_bytes());
    let mut stream = vec![0u8; data.len()];
    h.finalize_xof().fill(&mut stream);
    for (d, k) in data.iter_mut().zip(stream) {
        *d ^= k;
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn put_u32(w: &mut impl Write, v: u32) -> io::Result<()> {
    w.write_all(&v.to_le_bytes())
}
fn put_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    put_u32(w, s.len() as u32)?;
    w.write_all(s.as_bytes())
}
fn put_col(w: &mut impl Write, c: Option<Column>) -> io::Result<()> {
    match c {
        None => w.write_all(&[0]),
        Some(Column::Letter(i)) => {
            w.write_all(&[1])?;
            put_u32(w, i)
        }
        Some(Column::Number(i)) => {
            w.write_all(&[2])?;
            put_u32(w, i)
        }
    }
}

/// `ids`: the interned file, sheet and header of the record.
fn encode(w: &mut impl Write, rec: &RawRecord, ids: [u32; 3]) -> io::Result<()> {
    w.write_all(&rec.entity.to_le_bytes())?;
    for id in ids {
        put_u32(w, id)?;
    }
    w.write_all(&rec.location.row.to_le_bytes())?;
    put_col(w, rec.location.column)?;
    w.write_all(&[rec.broken as u8])?;
    w.write_all(&(rec.fields.len() as u32).to_le_bytes())?;
    for f in &rec.fields {
        w.write_all(&f.field.to_le_bytes())?;
        put_col(w, f.column)?;
        match &f.value {
            RawValue::Text(s) => {
                w.write_all(&[0])?;
                put_str(w, s)?;
            }
            RawValue::Number(n) => {
                w.write_all(&[1])?;
                w.write_all(&n.to_le_bytes())?;
            }
            RawValue::Bool(b) => w.write_all(&[2, *b as u8])?,
            RawValue::DateTime {
                date: (y, m, d),
                time: (h, mi, s),
                whole_day,
            } => {
                w.write_all(&[3])?;
                w.write_all(&y.to_le_bytes())?;
                for v in [*m, *d, *h, *mi, *s] {
                    put_u32(w, v)?;
                }
                w.write_all(&[*whole_day as u8])?;
            }
            RawValue::FormulaNoValue => w.write_all(&[4])?,
            RawValue::BadDate(n) => {
                w.write_all(&[7])?;
                w.write_all(&n.to_le_bytes())?;
            }
            RawValue::CellError(e) => {
                w.write_all(&[5])?;
                put_str(w, e)?;
            }
            RawValue::TooLong { bytes, head } => {
                w.write_all(&[6])?;
                w.write_all(&(*bytes as u64).to_le_bytes())?;
                put_str(w, head)?;
            }
        }
    }
    Ok(())
}

fn get<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}
fn get_u32(r: &mut impl Read) -> io::Result<u32> {
    Ok(u32::from_le_bytes(get::<4>(r)?))
}
fn get_str(r: &mut impl Read) -> io::Result<String> {
    let n = get_u32(r)? as usize;
    // Read into spare capacity: no zeroing first.
    let mut b = Vec::with_capacity(n);
    r.by_ref().take(n as u64).read_to_end(&mut b)?;
    if b.len() != n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    String::from_utf8(b).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
fn get_col(r: &mut impl Read) -> io::Result<Option<Column>> {
    Ok(match get::<1>(r)?[0] {
        0 => None,
        1 => Some(Column::Letter(get_u32(r)?)),
        _ => Some(Column::Number(get_u32(r)?)),
    })
}

fn decode(
    r: &mut impl Read,
    strings: &[Arc<str>],
    headers: &[Option<HeaderColumns>],
) -> io::Result<RawRecord> {
    let entity = EntityId::from_le_bytes(get::<2>(r)?);
    let file = strings[get_u32(r)? as usize].clone();
    let sheet = get_u32(r)?;
    let header = headers.get(get_u32(r)? as usize).cloned().flatten();
    let sheet = if sheet == 0 {
        None
    } else {
        Some(strings[sheet as usize].clone())
    };
    let row = u64::from_le_bytes(get::<8>(r)?);
    let column = get_col(r)?;
    let broken = get::<1>(r)?[0] != 0;
    let n = get_u32(r)? as usize;
    let mut fields = Vec::with_capacity(n);
    for _ in 0..n {
        let field = u16::from_le_bytes(get::<2>(r)?);
        let column = get_col(r)?;
        let value = match get::<1>(r)?[0] {
            0 => RawValue::Text(get_str(r)?),
            1 => RawValue::Number(f64::from_le_bytes(get::<8>(r)?)),
            2 => RawValue::Bool(get::<1>(r)?[0] != 0),
            3 => {
                let y = i32::from_le_bytes(get::<4>(r)?);
                let (m, d, h, mi, s) = (
                    get_u32(r)?,
                    get_u32(r)?,
                    get_u32(r)?,
                    get_u32(r)?,
                    get_u32(r)?,
                );
                let whole_day = get::<1>(r)?[0] != 0;
                RawValue::DateTime {
                    date: (y, m, d),
                    time: (h, mi, s),
                    whole_day,
                }
            }
            4 => RawValue::FormulaNoValue,
            7 => RawValue::BadDate(f64::from_le_bytes(get::<8>(r)?)),
            5 => RawValue::CellError(get_str(r)?),
            _ => {
                let bytes = u64::from_le_bytes(get::<8>(r)?) as usize;
                RawValue::TooLong {
                    bytes,
                    head: get_str(r)?,
                }
            }
        };
        fields.push(RawField {
            field,
            value,
            column,
        });
    }
    Ok(RawRecord {
        entity,
        location: Location {
            file,
            sheet,
            row,
            column,
        },
        fields,
        broken,
        header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_on_disk() {
        let mut s = Spool::new(None).unwrap();
        let user = ferry_catalogue::entity("User").unwrap();
        let pw = user.field("Password").unwrap();
        let rec = RawRecord {
            entity: user.id(),
            location: Location {
                file: "in.xml".into(),
                sheet: None,
                row: 2,
                column: None,
            },
            fields: vec![RawField {
                field: pw,
                value: RawValue::Text("hunter2-Secret".into()),
                column: None,
            }],
            broken: false,
            header: None,
        };
        s.push(&rec).unwrap();
        s.finish().unwrap();
        let pi = s.phases().iter().position(|p| p.name() == "User").unwrap();
        let on_disk = std::fs::read(&s.paths[pi]).unwrap();
        assert!(!String::from_utf8_lossy(&on_disk).contains("hunter2"));
        let back: Vec<_> = s.read(pi).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(back, vec![rec]);
    }

    #[test]
    fn round_trip_in_phase_order() {
        let mut s = Spool::new(None).unwrap();
        let user = ferry_catalogue::entity("User").unwrap().id();
        let role = ferry_catalogue::entity("Role").unwrap().id();
        let debit = ferry_catalogue::entity("Debit").unwrap().id();
        let pay = ferry_catalogue::entity("Payment").unwrap().id();
        // Records of one sheet share its header columns; they come back with them.
        let header: HeaderColumns = vec![None, Some(Column::Letter(2))].into();
        let rec = |e, row, v: RawValue| RawRecord {
            entity: e,
            location: Location {
                file: "in.xlsx".into(),
                sheet: Some("S".into()),
                row,
                column: None,
            },
            fields: vec![RawField {
                field: 0,
                value: v,
                column: Some(Column::Letter(2)),
            }],
            broken: false,
            header: (row % 2 == 0).then(|| header.clone()),
        };
        let a = rec(user, 2, RawValue::Text("u1".into()));
        let b = rec(role, 3, RawValue::Number(1.5));
        let c = rec(
            pay,
            4,
            RawValue::DateTime {
                date: (2024, 1, 2),
                time: (3, 4, 5),
                whole_day: false,
            },
        );
        let d = rec(
            debit,
            5,
            RawValue::TooLong {
                bytes: 9,
                head: "x".into(),
            },
        );
        for r in [&a, &b, &c, &d] {
            s.push(r).unwrap();
        }
        s.finish().unwrap();
        let order: Vec<&str> = s.phases().iter().map(|p| p.name()).collect();
        let pi = |n: &str| order.iter().position(|x| *x == n).unwrap();
        let got: Vec<_> = s.read(pi("User")).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(got, vec![a]);
        let got: Vec<_> = s.read(pi("Role")).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(got, vec![b]);
        // the ledger keeps source order across types
        let got: Vec<_> = s.read(pi("Ledger")).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(got, vec![c, d]);
    }
}
