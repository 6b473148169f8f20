//! The fingerprint key (SPEC §4.6): the secret that card and account numbers are fingerprinted
//! with lives in a key file outside the target and its backups; the target keeps only the key's
//! identifier, so a copy of the target cannot be used to recover numbers from their
//! fingerprints, and a wrong key is refused before anything is written.
//!
//! Where the key comes from, in order: the file given (`--fingerprint-key FILE`,
//! `FERRY_FINGERPRINT_KEY_FILE`), else `<data dir>/ferry/fingerprint-keys/<id>.key` for the
//! identifier the target records (`$XDG_DATA_HOME`, by default `~/.local/share`). A live run
//! that needs a key for a target that has none creates one (mode 0600) and says where; a live
//! run whose target's key is not here stops before writing. A test-only run never creates or
//! records a key: without the target's key it uses a throwaway one and says the live run would
//! stop (a key that is given but wrong stops it too).

use ferry_store::{params, StoreError, Target};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The `ferry_meta` key of the identifier of the target's fingerprint key.
pub const META_ID: &str = "fingerprint_key_id";
/// The `ferry_meta` key saying where the key was made or first given (host and path).
const META_ORIGIN: &str = "fingerprint_key_origin";
/// Where version 1 kept the key itself (removed by migration 2).
pub const LEGACY_META_KEY: &str = "fingerprint_key";
/// The environment variable naming a key file.
pub const ENV_FILE: &str = "FERRY_FINGERPRINT_KEY_FILE";
/// What the key identifier is the HMAC of.
const ID_LABEL: &[u8] = b"ferry fingerprint key id";
/// A key file is 64 hexadecimal digits (and perhaps a line end); anything much longer is not one.
const MAX_FILE_BYTES: u64 = 4096;

/// A fingerprint key: 32 random bytes, wiped from memory when dropped.
pub struct FingerprintKey {
    bytes: Zeroizing<[u8; 32]>,
    id: String,
}

impl FingerprintKey {
    fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> FingerprintKey {
        let mut mac = hmac(&bytes[..]);
        mac.update(ID_LABEL);
        let id = hex::encode(&mac.finalize().into_bytes()[..16]);
        FingerprintKey { bytes, id }
    }

    fn generate() -> FingerprintKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut bytes[..]);
        FingerprintKey::from_bytes(bytes)
    }

    /// The key's identifier: an HMAC of a fixed label under the key. It names the key (and its
    /// default file) but gives no way to compute fingerprints.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The hex HMAC-SHA-256 of a card or account number under this key.
    pub fn fingerprint(&self, digits: &str) -> String {
        let mut mac = hmac(&self.bytes[..]);
        mac.update(digits.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The key as a key file holds it.
    fn file_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}\n", hex::encode(&self.bytes[..])))
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}

/// Why the key could not be had; every case stops the run before it writes anything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("the fingerprint key file {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("the fingerprint key file {} is not this target's key: the target's card and account fingerprints were made with key {expected}, the file holds key {found}; give the right file (--fingerprint-key FILE or {ENV_FILE})", path.display())]
    Wrong {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("this target's card and account numbers are fingerprinted with key {id}{origin}, and that key is not here (looked for {}); give it with --fingerprint-key FILE or {ENV_FILE}, or copy it to {}", looked.display(), default.display())]
    Missing {
        id: String,
        origin: String,
        looked: PathBuf,
        default: PathBuf,
    },
    #[error("cannot create the fingerprint key file {}: {reason}", path.display())]
    Create { path: PathBuf, reason: String },
    #[error("there is no folder for a fingerprint key (neither XDG_DATA_HOME nor HOME is set); give a key file with --fingerprint-key FILE or {ENV_FILE}")]
    NoHome,
    #[error("the target names its fingerprint key {0:?}, which is not a key identifier (32 hexadecimal digits); the target was altered — give the key file with --fingerprint-key FILE")]
    BadId(String),
    #[error("the fingerprint key file {} can be read by other users (mode {mode:o}); make it private with `chmod 600 {}`", path.display(), path.display())]
    NotPrivate { path: PathBuf, mode: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The folder of default key files: `<data dir>/ferry/fingerprint-keys`.
pub fn default_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("ferry").join("fingerprint-keys"))
}

/// The default file of the key with identifier `id` (32 hexadecimal digits; the identifier
/// comes from the target, so anything else — a path, `..` — is refused, never joined).
pub fn default_path(id: &str) -> Result<PathBuf, KeyError> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::BadId(id.chars().take(40).collect()));
    }
    Ok(default_dir()
        .ok_or(KeyError::NoHome)?
        .join(format!("{id}.key")))
}

/// The identifier of the target's key, if it has one.
pub fn stored_id(target: &Target) -> Result<Option<String>, StoreError> {
    Ok(target
        .first(
            "SELECT value FROM ferry_meta WHERE key = ?1",
            params![META_ID],
        )?
        .and_then(|r| r.opt_text(0))
        .filter(|s| !s.is_empty()))
}

fn stored_origin(target: &Target) -> Result<String, StoreError> {
    Ok(target
        .first(
            "SELECT value FROM ferry_meta WHERE key = ?1",
            params![META_ORIGIN],
        )?
        .and_then(|r| r.opt_text(0))
        .map(|o| format!(" (made at {o})"))
        .unwrap_or_default())
}

/// Reads a key file: 64 hexadecimal digits.
pub fn read(path: &Path) -> Result<FingerprintKey, KeyError> {
    use std::io::Read;
    let bad = |reason: String| KeyError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    // As ssh does with private keys: a key others can read is no longer secret.
    let mode = file
        .metadata()
        .map_err(|e| bad(e.to_string()))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::NotPrivate {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| bad(e.to_string()))?;
    let digits = text.trim();
    let mut bytes = Zeroizing::new([0u8; 32]);
    let ok = digits.len() == 64
        && digits.is_ascii()
        && (0..32).all(
            |i| match u8::from_str_radix(&digits[2 * i..2 * i + 2], 16) {
                Ok(b) => {
                    bytes[i] = b;
                    true
                }
                Err(_) => false,
            },
        );
    if !ok {
        return Err(bad(
            "not a fingerprint key: a key file holds 64 hexadecimal digits (32 random bytes), as Ferry writes it".into(),
        ));
    }
    Ok(FingerprintKey::from_bytes(bytes))
}

/// Checks a key file given explicitly against the target before a run starts: one that
/// exists must be a key, and the target's key when the target has one. (A file that does not
/// exist yet is made when the run first needs it.)
pub fn check_given(target: &Target, file: Option<&Path>) -> Result<(), KeyError> {
    let Some(file) = file.filter(|f| f.exists()) else {
        return Ok(());
    };
    let key = read(file)?;
    match stored_id(target)? {
        Some(id) if id != key.id => Err(KeyError::Wrong {
            path: file.to_path_buf(),
            expected: id,
            found: key.id,
        }),
        _ => Ok(()),
    }
}

/// The key a run fingerprints with, and where it came from.
pub struct Resolved {
    pub key: FingerprintKey,
    pub origin: Origin,
}

pub enum Origin {
    /// The target's key, from this file.
    Found(PathBuf),
    /// A new key, made for this target in this file (a live run).
    Created(PathBuf),
    /// A throwaway key for a test-only run: the target has no key yet (`None`), or its key is
    /// not here (why the live run would be refused).
    Temporary(Option<KeyError>),
}

/// Finds (or, for a live run on a target without one, makes) the key of the target. A live
/// run records the key's identifier in the target, in its own transaction, before any data.
pub fn resolve(target: &Target, file: Option<&Path>, live: bool) -> Result<Resolved, KeyError> {
    let stored = stored_id(target)?;
    if let Some(id) = &stored {
        let path = match file {
            Some(f) => f.to_path_buf(),
            None => default_path(id)?,
        };
        if !path.exists() {
            let missing = KeyError::Missing {
                id: id.clone(),
                origin: stored_origin(target)?,
                looked: path,
                default: default_path(id)?,
            };
            // A rehearsal needs no real fingerprints (they are rolled back): it goes on, and
            // says that the live run would stop.
            if !live {
                return Ok(Resolved {
                    key: FingerprintKey::generate(),
                    origin: Origin::Temporary(Some(missing)),
                });
            }
            return Err(missing);
        }
        let key = read(&path)?;
        if &key.id != id {
            return Err(KeyError::Wrong {
                path,
                expected: id.clone(),
                found: key.id,
            });
        }
        return Ok(Resolved {
            key,
            origin: Origin::Found(path),
        });
    }
    // The target has no key yet.
    if let Some(f) = file.filter(|f| f.exists()) {
        let key = read(f)?;
        if live {
            record(target, &key, f)?;
        }
        return Ok(Resolved {
            key,
            origin: Origin::Found(f.to_path_buf()),
        });
    }
    if !live {
        return Ok(Resolved {
            key: FingerprintKey::generate(),
            origin: Origin::Temporary(None),
        });
    }
    let key = FingerprintKey::generate();
    let path = match file {
        Some(f) => f.to_path_buf(),
        None => default_path(&key.id)?,
    };
    create(&path, &key)?;
    record(target, &key, &path)?;
    Ok(Resolved {
        key,
        origin: Origin::Created(path),
    })
}

/// Writes a new key file (mode 0600; its folder, when made here, 0700). Never overwrites.
fn create(path: &Path, key: &FingerprintKey) -> Result<(), KeyError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let fail = |e: std::io::Error| KeyError::Create {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    f.write_all(key.file_text().as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    // The file's name must survive a crash too: the target will record the key's id.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(fail)?;
    }
    Ok(())
}

/// Records the key's identifier (and where the key is) in the target.
fn record(target: &Target, key: &FingerprintKey, path: &Path) -> Result<(), StoreError> {
    let at = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let origin = format!("{} on {}", at.display(), ferry_store::pg::host());
    let tx = target.transaction()?;
    for (k, v) in [(META_ID, key.id.as_str()), (META_ORIGIN, origin.as_str())] {
        tx.exec(
            "INSERT INTO ferry_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![k, v],
        )?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_round_trips_and_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("k.key");
        let key = FingerprintKey::generate();
        create(&path, &key).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let again = read(&path).unwrap();
        assert_eq!(again.id(), key.id());
        assert_eq!(again.fingerprint("4111"), key.fingerprint("4111"));
        assert_eq!(key.id().len(), 32);
        // Never overwritten.
        assert!(create(&path, &FingerprintKey::generate()).is_err());
        assert_eq!(read(&path).unwrap().id(), key.id());
    }

    #[test]
    fn a_file_that_is_not_a_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for text in ["", "abc", &"g".repeat(64), &"a".repeat(66), "ééééé"] {
            let p = dir.path().join("k");
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert!(
                matches!(read(&p), Err(KeyError::Unreadable { .. })),
                "{text}"
            );
        }
        let p = dir.path().join("k");
        std::fs::write(&p, format!("  {}\r\n", "0a".repeat(32))).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&p).is_ok());
        // A key others can read is refused, saying how to fix it.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read(&p).err().unwrap();
        assert!(matches!(e, KeyError::NotPrivate { mode: 0o644, .. }), "{e}");
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }

    #[test]
    fn a_key_id_from_the_target_is_never_a_path() {
        for id in [
            "../../etc/passwd",
            "",
            "0a",
            &"z".repeat(32),
            &format!("{}/x", "0".repeat(30)),
        ] {
            assert!(matches!(default_path(id), Err(KeyError::BadId(_))), "{id}");
        }
        assert!(default_path(&"0a".repeat(16)).is_ok());
    }
}
