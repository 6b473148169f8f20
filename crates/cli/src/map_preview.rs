//! `ferry map preview`: the first source rows as the records a mapping makes of them.

use crate::{DateOrderArg, DbArg, Failure};
use clap::Args;
use ferry_engine::preview::{preview, PreviewRow};
use ferry_engine::OptionTexts;
use ferry_store::Target;
use ferry_validate::{DateOrder, RecordOptions, ValueContext};
use std::path::PathBuf;

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
    pub date_order: Option<DateOrderArg>,
    /// Region for phone numbers without a country code (ISO 3166 alpha-2).
    #[arg(long, value_name = "CC", default_value = "US")]
    pub phone_region: String,
    /// One JSON object per record or problem on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArg,
}

pub fn run(a: PreviewArgs) -> Result<u8, Failure> {
    let texts = OptionTexts {
        encoding: a.encoding.as_deref(),
        phone_region: Some(&a.phone_region),
        ..Default::default()
    }
    .parse()?;
    let (encoding, phone_region) = (
        texts.encoding,
        texts.phone_region.unwrap_or(phonenumber::country::Id::US),
    );
    // A saved mapping's name needs the target; a file does not (no target is created).
    let target = if std::path::Path::new(&a.mapping).is_file() || !target_exists(&a.db.db) {
        None
    } else {
        Some(Target::open_db(&a.db.db)?)
    };
    let mapping = ferry_engine::mapping::load(target.as_ref(), &a.mapping)?;
    let read = ferry_sources::ReadOptions {
        encoding,
        limits: crate::limits_from_env()?,
        raw: None,
        shown_as: None,
    };
    let values = RecordOptions {
        values: ValueContext {
            date_order: match a.date_order {
                Some(DateOrderArg::Dmy) => DateOrder::Dmy,
                _ => DateOrder::Mdy,
            },
            phone_region,
        },
        ..RecordOptions::default()
    };
    let rows = preview(&a.inputs, &mapping, a.rows.max(1), &read, &values)?;
    if rows.is_empty() {
        say!(
            "No file, sheet or XML element of these inputs is read by the mapping {} (see its [[source]] match patterns).",
            a.mapping
        );
        return Ok(2);
    }
    for r in &rows {
        if a.json {
            out!("{}", json(r));
        } else {
            print_row(r);
        }
    }
    if !a.json {
        say!("Values are judged here; keys and references (accounts, contacts, setup codes) are judged by a run: try `ferry import … --mapping {} --test-only`.", a.mapping);
    }
    let errors = rows
        .iter()
        .flat_map(|r| &r.records)
        .filter(|r| r.rejected)
        .count();
    Ok(u8::from(errors > 0))
}

fn target_exists(db: &str) -> bool {
    db.starts_with("postgres://")
        || db.starts_with("postgresql://")
        || std::path::Path::new(db).exists()
}

fn print_row(r: &PreviewRow) {
    let place = match (&r.sheet, &r.element) {
        (Some(s), _) => format!("{} / {s}, row {}", r.file, r.row),
        (None, Some(e)) => format!("{} <{e}>, line {}", r.file, r.row),
        _ => format!("{}, line {}", r.file, r.row),
    };
    out!("── {place}");
    let cells: Vec<String> = r
        .cells
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(h, v)| format!("{h}={v}"))
        .collect();
    out!("   source: {}", cells.join("  "));
    if let Some(why) = &r.left_out {
        out!("   left out: {why}");
    }
    for f in &r.findings {
        out!(
            "   {:<7} {}  {}",
            f.severity.as_str(),
            f.code.as_str(),
            f.message
        );
    }
    for rec in &r.records {
        let fields: Vec<String> = rec.fields.iter().map(|(f, v)| format!("{f}={v}")).collect();
        let mark = if rec.rejected { "✗" } else { "✓" };
        out!("   {mark} {:<22} {}", rec.entity, fields.join("  "));
        for f in &rec.findings {
            out!(
                "       {:<7} {}  {}",
                f.severity.as_str(),
                f.code.as_str(),
                f.message
            );
        }
    }
}

fn json(r: &PreviewRow) -> String {
    let findings = |fs: &[ferry_findings::Finding]| -> Vec<serde_json::Value> {
        fs.iter().map(|f| f.to_json(0)).collect()
    };
    let records: Vec<serde_json::Value> = r
        .records
        .iter()
        .map(|rec| {
            let fields: serde_json::Map<String, serde_json::Value> = rec
                .fields
                .iter()
                .map(|(f, v)| (f.to_string(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::json!({
                "entity": rec.entity,
                "fields": fields,
                "rejected": rec.rejected,
                "findings": findings(&rec.findings),
            })
        })
        .collect();
    let cells: Vec<serde_json::Value> = r
        .cells
        .iter()
        .map(|(h, v)| serde_json::json!({ "column": h, "value": v }))
        .collect();
    serde_json::json!({
        "file": r.file,
        "sheet": r.sheet,
        "element": r.element,
        "row": r.row,
        "cells": cells,
        "left_out": r.left_out,
        "records": records,
        "findings": findings(&r.findings),
    })
    .to_string()
}
