//! `ferry map save|list`: mappings kept in the target.

use crate::Failure;
use std::path::Path;

pub fn save(_name: &str, _mapping: &Path, _db: &str) -> Result<u8, Failure> {
    Err(anyhow::anyhow!("ferry map save is not built yet").into())
}

pub fn list(_db: &str, _json: bool) -> Result<u8, Failure> {
    Err(anyhow::anyhow!("ferry map list is not built yet").into())
}
