//! The workbook check beside the read: the large parts' check runs on its own thread while
//! calamine reads, and calamine reads a checked part's compressed bytes only as far as the
//! check has gone.
//!
//! The check inflates a part through the zip crate from a [`Counting`] file (which tells the
//! file offset the zip crate has taken) and notes, per read, how far it had inflated
//! ([`Tracked`]). Once the check has tokenized up to inflated byte `B` with every event and
//! held element within the limits, every compressed byte before `F - READ_AHEAD` (`F` the file
//! offset noted with a read that had inflated no more than `B`) is safe: the zip crate's
//! read-ahead between the file and the inflater is under [`READ_AHEAD`], so those bytes were
//! inflated into at most `B` bytes (plus what the inflater holds undecoded: eight bytes of
//! bits, a few KiB of matches at most).
//! calamine, reading the same file through [`GatedFile`], then holds at most what the check
//! allowed: an event or element it holds is within the limit plus those few bytes. A part the
//! check refuses fails calamine's reads past the point reached, and the check's error is the
//! workbook's (as when the check ran first).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// More than the zip crate reads ahead of its inflater (an 8 KiB `BufReader`).
pub(crate) const READ_AHEAD: u64 = 64 * 1024;

/// The compressed bytes of the parts being checked, and how far each is checked.
#[derive(Default)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    moved: Condvar,
}

#[derive(Default)]
struct GateState {
    /// (start, end, checked up to): file offsets of a part's compressed data.
    ranges: Vec<(u64, u64, u64)>,
    /// The check refused a part (or stopped): no read past a checked point goes on.
    failed: bool,
}

impl Gate {
    /// A part's compressed data, at file offsets `start..end`, unchecked yet.
    pub fn hold(&self, start: u64, end: u64) {
        self.lock().ranges.push((start, end, start));
    }

    /// The part held at `k` (in the order held) is checked up to file offset `upto`.
    pub fn checked(&self, k: usize, upto: u64) {
        let mut s = self.lock();
        if let Some(r) = s.ranges.get_mut(k) {
            let upto = upto.clamp(r.0, r.1);
            if upto > r.2 {
                r.2 = upto;
                drop(s);
                self.moved.notify_all();
            }
        }
    }

    /// The check ended: a part it did not pass stays closed past where it got.
    pub fn ended(&self, passed: bool) {
        let mut s = self.lock();
        if passed {
            for r in &mut s.ranges {
                r.2 = r.1;
            }
        } else {
            s.failed = true;
        }
        drop(s);
        self.moved.notify_all();
    }

    /// How many of `want` bytes at file offset `pos` may be read now, waiting until one may.
    fn allow(&self, pos: u64, want: usize) -> io::Result<usize> {
        let mut s = self.lock();
        loop {
            let mut limit = u64::MAX;
            let mut wait = false;
            for &(start, end, upto) in &s.ranges {
                if pos < start {
                    limit = limit.min(start - pos);
                } else if pos < end {
                    if pos < upto {
                        limit = limit.min(upto - pos);
                    } else {
                        wait = true;
                    }
                }
            }
            if !wait {
                return Ok(limit.min(want as u64) as usize);
            }
            if s.failed {
                return Err(io::Error::other("the workbook check refused this part"));
            }
            s = self.moved.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The workbook file as calamine reads it: the held parts only as far as they are checked.
pub(crate) struct GatedFile {
    file: File,
    pos: u64,
    gate: Arc<Gate>,
}

impl GatedFile {
    pub fn new(file: File, gate: Arc<Gate>) -> GatedFile {
        GatedFile { file, pos: 0, gate }
    }
}

impl Read for GatedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.gate.allow(self.pos, buf.len())?;
        let got = self.file.read(&mut buf[..n])?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for GatedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.file.seek(to)?;
        Ok(self.pos)
    }
}

/// The check's file: tells the offset the reader above has taken.
pub(crate) struct Counting {
    inner: BufReader<File>,
    pos: Arc<AtomicU64>,
}

impl Counting {
    pub fn new(file: File) -> Counting {
        Counting {
            inner: BufReader::new(file),
            pos: Arc::default(),
        }
    }

    /// A handle on the offset taken so far.
    pub fn position(&self) -> Arc<AtomicU64> {
        self.pos.clone()
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Seek for Counting {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let p = self.inner.seek(to)?;
        self.pos.store(p, Ordering::Relaxed);
        Ok(p)
    }
}

/// A part's inflated stream, noting after each read how far it had inflated and the file
/// offset the zip crate had taken by then.
pub(crate) struct Tracked<R> {
    inner: R,
    file: Arc<AtomicU64>,
    inflated: u64,
    marks: VecDeque<(u64, u64)>,
}

impl<R: Read> Tracked<R> {
    pub fn new(inner: R, file: Arc<AtomicU64>) -> Tracked<R> {
        Tracked {
            inner,
            file,
            inflated: 0,
            marks: VecDeque::new(),
        }
    }

    /// The file offset below which every compressed byte inflates within the first `checked`
    /// bytes of the part (see the module's comment), if one is known yet.
    pub fn safe_offset(&mut self, checked: u64) -> Option<u64> {
        let mut best = None;
        while let Some(&(inflated, file)) = self.marks.front() {
            if inflated > checked {
                break;
            }
            best = Some(file);
            self.marks.pop_front();
        }
        best.map(|f| f.saturating_sub(READ_AHEAD))
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.inflated += n as u64;
        self.marks
            .push_back((self.inflated, self.file.load(Ordering::Relaxed)));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_where_the_check_is_and_go_on_when_it_moves() {
        let gate = Gate::default();
        gate.hold(100, 200);
        assert_eq!(gate.allow(0, 1000).unwrap(), 100);
        assert_eq!(gate.allow(250, 1000).unwrap(), 1000);
        gate.checked(0, 150);
        assert_eq!(gate.allow(120, 1000).unwrap(), 30);
        gate.ended(false);
        assert!(gate.allow(150, 10).is_err());
        assert_eq!(gate.allow(140, 100).unwrap(), 10);
    }

    /// The bound the gate rests on: the zip crate takes no more than [`READ_AHEAD`] bytes of the
    /// file beyond what it has inflated. With incompressible data (about one compressed byte per
    /// inflated byte), the offset taken stays within the inflated count plus `READ_AHEAD` at every
    /// read; a zip crate that buffered more would fail here, not loosen the limits unnoticed.
    #[test]
    fn the_zip_crate_reads_ahead_less_than_the_gate_allows() {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("ferry-gate-{}.zip", std::process::id()));
        let mut data = vec![0u8; 4 << 20];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for b in &mut data {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        {
            let mut w = zip::ZipWriter::new(File::create(&path).unwrap());
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file("xl/worksheets/sheet1.xml", options).unwrap();
            w.write_all(&data).unwrap();
            w.finish().unwrap();
        }
        let counting = Counting::new(File::open(&path).unwrap());
        let taken = counting.position();
        let mut zip = zip::ZipArchive::new(counting).unwrap();
        let start = zip.by_index_raw(0).unwrap().data_start().unwrap();
        let mut part = Tracked::new(zip.by_index(0).unwrap(), taken.clone());
        let mut buf = [0u8; 997];
        let mut inflated = 0u64;
        loop {
            let n = part.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            inflated += n as u64;
            let ahead = taken.load(Ordering::Relaxed).saturating_sub(start);
            assert!(
                ahead <= inflated + READ_AHEAD,
                "the zip crate took {ahead} bytes of the file for {inflated} inflated"
            );
        }
        assert_eq!(inflated, data.len() as u64);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_waiting_read_wakes_when_the_check_passes() {
        let gate = Arc::new(Gate::default());
        gate.hold(0, 10);
        let g = gate.clone();
        let t = std::thread::spawn(move || g.allow(0, 100).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        gate.ended(true);
        assert_eq!(t.join().unwrap(), 10);
    }
}
