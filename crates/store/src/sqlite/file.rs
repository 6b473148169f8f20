//! The target's file: its identity (to notice it deleted or replaced) and its permissions.

use std::path::Path;

/// The identity of a file (device, inode).
pub(crate) fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Makes `path` a file only its owner can read and write (0600): created empty when missing
/// (an empty file is an empty SQLite database), else left as it is unless `restrict` says to
/// take its permissions down to 0600 too. Returns whether this call created it.
pub(crate) fn private_file(path: &Path, restrict: bool) -> std::io::Result<bool> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if restrict {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
