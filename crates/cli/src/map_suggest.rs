//! `ferry map suggest`: a proposed mapping from the inputs' headers and values, as a table
//! and a mapping file, or as one JSON line per source column.

use crate::Failure;
use anyhow::{anyhow, Context};
use clap::Args;
use ferry_engine::OptionTexts;
use ferry_mapping::{Guess, Mapping, Suggestion};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

/// Rows sampled from each file, sheet or element type.
const SAMPLE_ROWS: usize = 2000;

/// One line of `--json`: the keys in this order, `null` where there is nothing.
#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    sheet: Option<&'a str>,
    column: &'a str,
    entity: Option<&'a str>,
    field: Option<&'a str>,
    confidence: f64,
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

pub fn run(args: SuggestArgs) -> Result<u8, Failure> {
    let encoding = OptionTexts {
        encoding: args.encoding.as_deref(),
        ..Default::default()
    }
    .parse()?
    .encoding;
    let inputs: Vec<&Path> = args.inputs.iter().map(|p| p.as_path()).collect();
    let samples = ferry_mapping::sample_inputs(&inputs, encoding, SAMPLE_ROWS)
        .map_err(|e| anyhow!("cannot read the input: {e}"))?;
    if samples.is_empty() {
        return Err(anyhow!(
            "no rows were read from {}: nothing to suggest a mapping for",
            list(&inputs)
        )
        .into());
    }
    let suggestion = ferry_mapping::suggest(&samples);
    if let Err(e) = Mapping::load(&suggestion.mapping) {
        // A bug of the suggester: say so, and still give what it proposed.
        stderr(&format!(
            "warning: the proposed mapping does not load as it stands: {e}"
        ));
    }
    if let Some(out) = &args.out {
        std::fs::write(out, &suggestion.mapping)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    if args.json {
        json_lines(&suggestion.guesses)?;
    } else {
        table(&suggestion);
        match &args.out {
            Some(out) => stderr(&format!(
                "The proposed mapping is in {}: check the lines marked \"check\", then try it with `ferry map preview {} --mapping {}`.",
                out.display(),
                list(&inputs),
                out.display()
            )),
            None => stdout(&suggestion.mapping),
        }
    }
    Ok(0)
}

fn list(inputs: &[&Path]) -> String {
    inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn json_lines(guesses: &[Guess]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    for g in guesses {
        let line = Line {
            file: &g.file,
            sheet: g.sheet.as_deref(),
            column: &g.column,
            entity: g.entity,
            field: g.field,
            confidence: g.confidence,
        };
        let text = serde_json::to_string(&line).map_err(|e| anyhow!(e))?;
        if writeln!(out, "{text}").is_err() {
            break; // a closed stdout (`| head`) ends the listing, not the command
        }
    }
    Ok(())
}

/// The guesses as an aligned table: where each column goes, and how sure.
fn table(s: &Suggestion) {
    let rows: Vec<[String; 4]> = s
        .guesses
        .iter()
        .map(|g| {
            let place = match (&g.sheet, g.file.rsplit(['/', '\\']).next()) {
                (Some(sheet), Some(f)) => format!("{f} / {sheet}"),
                (None, Some(f)) => f.to_string(),
                (_, None) => g.file.clone(),
            };
            let to = match (g.entity, g.field) {
                (Some(e), Some(f)) => format!("{e}.{f}"),
                _ => "(not placed)".to_string(),
            };
            let sure = if g.entity.is_some() {
                format!("{:.2}", g.confidence)
            } else {
                "-".to_string()
            };
            [place, g.column.clone(), to, sure]
        })
        .collect();
    let head = ["SOURCE", "COLUMN", "FIELD", "CONFIDENCE"].map(String::from);
    let width = |i: usize| {
        std::iter::once(&head)
            .chain(&rows)
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let w = [width(0), width(1), width(2)];
    let mut text = String::new();
    for r in std::iter::once(&head).chain(&rows) {
        let pad = |i: usize| format!("{:<1$}", r[i], w[i]);
        text.push_str(&format!("{}  {}  {}  {}\n", pad(0), pad(1), pad(2), r[3]));
    }
    stdout(text.trim_end());
}

fn stdout(s: &str) {
    let _ = writeln!(std::io::stdout(), "{s}");
}

fn stderr(s: &str) {
    let _ = writeln!(std::io::stderr(), "{s}");
}
