//! Where the annotated copies go (`--annotate OUT.xlsx`), and the names refused.

use std::path::{Path, PathBuf};

/// Why `--annotate OUT` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("--annotate {}: the name must end in .xlsx", .0.display())]
    NotXlsx(PathBuf),
    #[error("--annotate needs a workbook (.xlsx) input: XML files and CSV folders have no cells to mark")]
    NoWorkbook,
    #[error("--annotate {}: that is an input; the annotated copy must go to another file", .0.display())]
    IsInput(PathBuf),
    #[error("--annotate {}: its folder does not exist", .0.display())]
    NoFolder(PathBuf),
}

fn is_xlsx(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// Where the annotated copies go (`--annotate OUT.xlsx`): `OUT` when the run has one workbook
/// input; with several, one copy per workbook named after `OUT` and the input
/// (`out.xlsx` with `a.xlsx` and `b.xlsx` → `out-a.xlsx`, `out-b.xlsx`). XML files and CSV
/// folders have no cells to mark and get none. Refused: an `OUT` not ending in `.xlsx`, a run
/// with no workbook input, and a copy that would overwrite an input.
pub fn outputs(inputs: &[PathBuf], out: &Path) -> Result<Vec<(PathBuf, PathBuf)>, OutputError> {
    if !is_xlsx(out) {
        return Err(OutputError::NotXlsx(out.to_path_buf()));
    }
    let books: Vec<&PathBuf> = inputs
        .iter()
        .filter(|p| is_xlsx(p) && p.is_file())
        .collect();
    if books.is_empty() {
        return Err(OutputError::NoWorkbook);
    }
    let pairs = pair_names(&books, out);
    for (_, o) in &pairs {
        if inputs
            .iter()
            .any(|i| real(i).is_some() && real(i) == real(o))
        {
            return Err(OutputError::IsInput(o.clone()));
        }
        if real(o).is_none() {
            return Err(OutputError::NoFolder(o.clone()));
        }
    }
    Ok(pairs)
}

/// Each workbook with the name of its copy.
fn pair_names(books: &[&PathBuf], out: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut pairs: Vec<(PathBuf, PathBuf)> = vec![];
    if books.len() == 1 {
        pairs.push((books[0].clone(), out.to_path_buf()));
        return pairs;
    }
    let stem = out
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("annotated");
    for b in books {
        let own = b.file_stem().and_then(|s| s.to_str()).unwrap_or("workbook");
        let mut name = out.with_file_name(format!("{stem}-{own}.xlsx"));
        let mut n = 2;
        while pairs.iter().any(|(_, o)| *o == name) {
            name = out.with_file_name(format!("{stem}-{own}-{n}.xlsx"));
            n += 1;
        }
        pairs.push(((*b).clone(), name));
    }
    pairs
}

/// The real path of `p` (its folder resolved, the file itself perhaps not yet there), to tell
/// whether an output would overwrite an input; `None` when its folder does not exist.
pub fn real(p: &Path) -> Option<PathBuf> {
    let dir = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(dir.canonicalize().ok()?.join(p.file_name()?))
}
