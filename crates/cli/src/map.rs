//! `ferry map`: the subcommands of mappings of legacy exports (SPEC §15) and their flags.

use crate::map_preview::PreviewArgs;
use crate::map_suggest::SuggestArgs;
use crate::{DbArg, Failure};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum MapCmd {
    /// Propose a mapping from the inputs' headers and values.
    Suggest(SuggestArgs),
    /// Show the first rows of the inputs as the records a mapping makes of them.
    Preview(PreviewArgs),
    /// Keep a mapping file in the target under a name (`import --mapping NAME` uses it).
    Save {
        /// The name to keep it under (replaces a mapping of that name).
        name: String,
        /// The mapping file.
        mapping: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// List the mappings kept in the target.
    List {
        #[command(flatten)]
        db: DbArg,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: MapCmd) -> Result<u8, Failure> {
    match cmd {
        MapCmd::Suggest(a) => crate::map_suggest::run(a),
        MapCmd::Preview(a) => crate::map_preview::run(a),
        MapCmd::Save { name, mapping, db } => crate::map_store::save(&name, &mapping, &db.db),
        MapCmd::List { db, json } => crate::map_store::list(&db.db, json),
    }
}
