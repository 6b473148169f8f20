//! `ferry map`: the subcommands of mappings of legacy exports (SPEC §15) and their flags.

use crate::{DbArg, Failure};
use clap::{Args, Subcommand};
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

#[derive(Args)]
pub struct SuggestArgs {
    /// Input files (.csv, .xlsx, .xml) or CSV folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Write the proposed mapping to this file (default: MAPPING.toml beside the first input
    /// is not written; without --out and without --json the mapping is printed).
    #[arg(long, value_name = "MAPPING")]
    pub out: Option<PathBuf>,
    /// One JSON object per source column on stdout:
    /// {"file","sheet","column","entity","field","confidence"}.
    #[arg(long)]
    pub json: bool,
    /// Encoding of CSV files (e.g. windows-1252); UTF-8 by default.
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
}

#[derive(Args)]
pub struct PreviewArgs {
    /// Input files (.csv, .xlsx, .xml) or CSV folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The mapping: a file, or the name of a mapping kept in the target.
    #[arg(long, value_name = "M")]
    pub mapping: String,
    /// Source rows to show per file or sheet.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub rows: usize,
    /// Encoding of CSV files (e.g. windows-1252); UTF-8 by default.
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Order of day and month in slash dates the mapping leaves unformatted.
    #[arg(long, value_enum)]
    pub date_order: Option<crate::DateOrderArg>,
    /// Region for phone numbers without a country code (ISO 3166 alpha-2).
    #[arg(long, value_name = "CC", default_value = "US")]
    pub phone_region: String,
    /// One JSON object per record or problem on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArg,
}

pub fn run(cmd: MapCmd) -> Result<u8, Failure> {
    match cmd {
        MapCmd::Suggest(a) => crate::map_suggest::run(a),
        MapCmd::Preview(a) => crate::map_preview::run(a),
        MapCmd::Save { name, mapping, db } => crate::map_store::save(&name, &mapping, &db.db),
        MapCmd::List { db, json } => crate::map_store::list(&db.db, json),
    }
}
