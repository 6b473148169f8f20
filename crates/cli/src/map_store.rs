//! `ferry map save|list`: mappings kept in the target (`import --mapping NAME` applies them,
//! `config export|import` carries them as `ImportMapping` records).

use crate::Failure;
use anyhow::anyhow;
use ferry_store::Target;
use std::path::Path;

pub fn save(name: &str, mapping: &Path, db: &str) -> Result<u8, Failure> {
    let given = mapping.display().to_string();
    if !mapping.is_file() {
        return Err(anyhow!("{given}: no such mapping file").into());
    }
    // Loaded as import loads it: size bound, UTF-8, checked against the catalogue.
    let loaded = ferry_engine::mapping::load(None, &given)?;
    let (target, _) = Target::init_db(db)?;
    let replaced = ferry_engine::mapping::save(&target, name, &loaded.text, None)?;
    say!(
        "{} mapping \"{}\" in {} (content hash {}); use it with `ferry import … --mapping \"{}\"`.",
        if replaced { "Replaced" } else { "Saved" },
        name.trim(),
        target.name(),
        loaded.hash,
        name.trim()
    );
    Ok(0)
}

pub fn list(db: &str, json: bool) -> Result<u8, Failure> {
    let target = Target::open_db(db)?;
    let saved = ferry_engine::mapping::list(&target)?;
    if json {
        for s in &saved {
            out!("{}", serde_json::to_string(s).unwrap_or_default());
        }
        return Ok(0);
    }
    if saved.is_empty() {
        say!("The target keeps no mappings; `ferry map save NAME FILE` keeps one.");
        return Ok(0);
    }
    out!("{:<30}  {:<16}  sources", "name", "hash");
    for s in &saved {
        let what = match &s.problem {
            Some(p) => format!("unusable: {}", p.lines().next().unwrap_or_default()),
            None => s.sources.join(", "),
        };
        out!("{:<30}  {:<16}  {}", s.name, s.hash, what);
    }
    Ok(0)
}
