//! The spool's folder: private to its owner (0700, files 0600), marked alive by a lock its
//! process holds, and removed by later runs once that process is gone (killed, crashed).
//!
//! The mark is an advisory lock (`flock`) on a file in the folder: the kernel drops it when the
//! process ends, however it ends, so "nobody holds the lock" means "the owner is dead" — a pid
//! alone could be reused by another process.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The lock file in a spool folder; it says `<pid> <host>` for people.
const OWNER: &str = "owner";

/// A spool folder, removed when dropped (the lock goes last, so that a live folder never looks
/// abandoned).
pub(crate) struct SpoolDir {
    dir: tempfile::TempDir,
    _lock: File,
}

impl SpoolDir {
    /// A fresh folder under `parent` (the system's temporary folder when `None`), after
    /// removing the folders there that dead processes left.
    pub(crate) fn create(parent: Option<&Path>) -> io::Result<SpoolDir> {
        let (parent, prefix) = match parent {
            Some(p) => (p.to_path_buf(), ".ferry-spool-"),
            None => (std::env::temp_dir(), "ferry-spool-"),
        };
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .permissions(Permissions::from_mode(0o700))
            .tempdir_in(&parent)?;
        // This user is who made the new folder; only this user's folders are swept. (The new
        // folder has no lock file yet, so the sweep leaves it alone.)
        let uid = std::fs::metadata(dir.path())?.uid();
        sweep(&parent, prefix, uid);
        // Locked under another name first: the lock file appears already held.
        let pending = dir.path().join(format!("{OWNER}.new"));
        let mut lock = private_file(&pending)?;
        lock.try_lock().map_err(io::Error::from)?;
        writeln!(lock, "{} {}", std::process::id(), host())?;
        std::fs::rename(&pending, dir.path().join(OWNER))?;
        Ok(SpoolDir { dir, _lock: lock })
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A new file only its owner can read (0600).
pub(crate) fn private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Removes the spool folders under `parent` (names starting with `prefix`) whose process is
/// gone, and returns how many. A folder whose lock is held belongs to a live run; one without
/// a lock file (being created this instant, or left by a Ferry older than the lock) or locked by
/// a process of another machine is left alone, as is anything this user may not open.
pub(crate) fn sweep(parent: &Path, prefix: &str, uid: u32) -> usize {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let named = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(prefix));
        // Not followed: a link is not a spool; nor is a folder of another user (in a shared
        // temporary folder, anyone may make one with a spool's name).
        let mine = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if named && mine && abandoned(&entry.path()) {
            removed += 1;
        }
    }
    removed
}

/// Removes the folder if its owner is gone (holding its lock meanwhile, so that two sweeping
/// processes do not trip over each other). Returns whether it did.
fn abandoned(dir: &Path) -> bool {
    let lock_path = dir.join(OWNER);
    // A plain small file, never a link, a pipe (which would block) or a device (endless).
    let plain = std::fs::symlink_metadata(&lock_path).is_ok_and(|m| m.is_file() && m.len() <= 256);
    if !plain {
        return false;
    }
    let mut text = String::new();
    let read = File::open(&lock_path).and_then(|f| f.take(256).read_to_string(&mut text));
    if read.is_err() {
        return false;
    }
    let here = text.split_whitespace().nth(1).is_some_and(|h| h == host());
    let Ok(lock) = File::open(&lock_path) else {
        return false;
    };
    if !here || lock.try_lock().is_err() {
        return false;
    }
    std::fs::remove_dir_all(dir).is_ok()
}

/// This machine's name.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn folders_are_private_and_only_dead_ones_are_swept() {
        let parent = tempfile::tempdir().unwrap();
        let live = SpoolDir::create(Some(parent.path())).unwrap();
        assert_eq!(live.path().metadata().unwrap().mode() & 0o777, 0o700);
        let owner = live.path().join(OWNER);
        assert_eq!(owner.metadata().unwrap().mode() & 0o777, 0o600);
        let me = parent.path().metadata().unwrap().uid();
        // A live folder is never removed, not even by this process.
        assert_eq!(sweep(parent.path(), ".ferry-spool-", me), 0);
        assert!(live.path().exists());
        // A dead process's folder: its lock file is there, nobody holds it.
        let dead = parent.path().join(".ferry-spool-dead");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(OWNER), format!("1 {}\n", host())).unwrap();
        std::fs::write(dead.join("phase-000.bin"), "names").unwrap();
        // Without a lock file (being created, or an older Ferry's): left alone.
        let bare = parent.path().join(".ferry-spool-bare");
        std::fs::create_dir(&bare).unwrap();
        // Another machine's: left alone.
        let far = parent.path().join(".ferry-spool-far");
        std::fs::create_dir(&far).unwrap();
        std::fs::write(far.join(OWNER), "1 elsewhere\n").unwrap();
        // A pipe or a link as the lock file (a reader would block, or read without end):
        // left alone, at once.
        let piped = parent.path().join(".ferry-spool-piped");
        std::fs::create_dir(&piped).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(piped.join(OWNER))
            .status()
            .is_ok_and(|s| s.success());
        let linked = parent.path().join(".ferry-spool-linked");
        std::fs::create_dir(&linked).unwrap();
        std::os::unix::fs::symlink("/dev/zero", linked.join(OWNER)).unwrap();
        // Folders of another user: left alone (here: as if this process were someone else).
        assert_eq!(sweep(parent.path(), ".ferry-spool-", me + 1), 0);
        assert!(dead.exists());
        assert_eq!(sweep(parent.path(), ".ferry-spool-", me), 1);
        assert!(!dead.exists() && bare.exists() && far.exists() && live.path().exists());
        assert!(linked.exists() && (!made || piped.exists()));
    }
}
