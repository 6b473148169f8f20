//! A new run's upload before its run starts (the new-run page's second step): the files in
//! their private upload folder and, in its `draft` folder, their first rows, the run's options,
//! the suggestion's guesses and the mapping being edited — private (0700/0600) and swept with
//! the upload (`retention.rs`). A run reads an edited mapping from a file named by its content
//! hash, never written over, so a test run and the live run made of it read the same text.

use crate::sample::Sampled;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// One column's guess, as the suggestion made it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredGuess {
    pub file: String,
    /// The sheet, or the XML element type.
    pub sheet: Option<String>,
    pub column: String,
    pub entity: Option<String>,
    pub field: Option<String>,
    pub confidence: f64,
}

/// What the draft keeps between requests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// The inputs in upload order, relative to the upload folder (`book.xlsx`, `csv`).
    pub inputs: Vec<String>,
    /// The run's options as last posted.
    pub fields: BTreeMap<String, String>,
    /// The saved mapping the text was taken from or saved as.
    pub saved: Option<String>,
    pub guesses: Vec<StoredGuess>,
    /// Where the mapping came from, for the page.
    pub origin: String,
}

/// An upload folder that is a draft.
pub struct Draft {
    pub id: String,
    pub folder: PathBuf,
}

/// Whether `id` can be an upload folder's name (a token of [`crate::auth::token`]): anything
/// else is refused before it comes near a path.
pub fn well_formed(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Draft {
    /// The draft in upload folder `id` under `uploads`, if there is one.
    pub fn open(uploads: &Path, id: &str) -> Option<Draft> {
        if !well_formed(id) {
            return None;
        }
        let folder = uploads.join(id);
        folder
            .join("draft")
            .join("state.json")
            .is_file()
            .then(|| Draft {
                id: id.to_string(),
                folder,
            })
    }

    /// Makes the upload `folder` a draft.
    pub fn create(
        folder: &Path,
        state: &State,
        samples: &Sampled,
        text: &str,
    ) -> io::Result<Draft> {
        let id = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let d = Draft {
            id,
            folder: folder.to_path_buf(),
        };
        crate::retention::private_dir(&d.dir())?;
        d.set_samples(samples)?;
        d.set_text(text)?;
        d.set_state(state)?;
        Ok(d)
    }

    fn dir(&self) -> PathBuf {
        self.folder.join("draft")
    }

    /// The inputs of a run, in upload order.
    pub fn inputs(&self, s: &State) -> Vec<PathBuf> {
        s.inputs.iter().map(|i| self.folder.join(i)).collect()
    }

    pub fn state(&self) -> io::Result<State> {
        read_json(&self.dir().join("state.json"))
    }

    pub fn set_state(&self, s: &State) -> io::Result<()> {
        write_json(&self.dir().join("state.json"), s)?;
        self.touch();
        Ok(())
    }

    pub fn samples(&self) -> io::Result<Sampled> {
        read_json(&self.dir().join("samples.json"))
    }

    pub fn set_samples(&self, s: &Sampled) -> io::Result<()> {
        write_json(&self.dir().join("samples.json"), s)
    }

    /// The mapping being edited (empty: none).
    pub fn text(&self) -> String {
        std::fs::read_to_string(self.dir().join("mapping.toml")).unwrap_or_default()
    }

    pub fn set_text(&self, text: &str) -> io::Result<()> {
        replace_private(&self.dir().join("mapping.toml"), text.as_bytes())
    }

    /// The file a run reads `text` from: named by its content hash and never written over.
    pub fn run_file(&self, text: &str) -> io::Result<PathBuf> {
        let hash = ferry_engine::mapping::hash_of(text);
        let p = self.dir().join(format!("mapping-{hash}.toml"));
        match write_new(&p, text.as_bytes()) {
            Ok(()) => Ok(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(p),
            Err(e) => Err(e),
        }
    }

    /// Marks the upload as in use now: an upload no run names yet is swept a day after it was
    /// last changed (`retention::ORPHAN_GRACE`), so a draft being worked on stays.
    fn touch(&self) {
        if let Ok(f) = std::fs::File::open(&self.folder) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
    }
}

/// The draft a run's inputs were uploaded with, if they were and it is still there.
pub fn of_run(uploads: &Path, inputs: &[String]) -> Option<String> {
    let first = Path::new(inputs.first()?);
    let id = first.strip_prefix(uploads).ok()?.components().next()?;
    let id = id.as_os_str().to_str()?;
    Draft::open(uploads, id).map(|d| d.id)
}

fn read_json<T: for<'de> Deserialize<'de>>(p: &Path) -> io::Result<T> {
    let bytes = std::fs::read(p)?;
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn write_json<T: Serialize>(p: &Path, v: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(v).map_err(io::Error::other)?;
    replace_private(p, &bytes)
}

/// Writes a new file readable only by the console's user (never over an existing one).
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Replaces a file at once: a new private file renamed over it.
fn replace_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}", crate::auth::token()));
    write_new(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_draft_keeps_its_parts_private() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = dir.path();
        let id = crate::auth::token();
        let folder = uploads.join(&id);
        std::fs::create_dir(&folder).unwrap();
        let d = Draft::create(
            &folder,
            &State::default(),
            &Sampled::default(),
            "version = 1\n",
        )
        .unwrap();
        assert!(Draft::open(uploads, &id).is_some());
        assert!(Draft::open(uploads, "../x").is_none());
        assert!(Draft::open(uploads, &"a".repeat(43)).is_none());
        d.set_text("version = 1 # changed\n").unwrap();
        assert_eq!(d.text(), "version = 1 # changed\n");
        let f = d.run_file("x = 1\n").unwrap();
        assert_eq!(
            d.run_file("x = 1\n").unwrap(),
            f,
            "the same text, the same file"
        );
        for p in [f, d.dir().join("mapping.toml"), d.dir().join("state.json")] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        let mode = std::fs::metadata(d.dir()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let input = folder.join("csv").join("m.csv").display().to_string();
        assert_eq!(of_run(uploads, &[input]), Some(id));
    }
}
