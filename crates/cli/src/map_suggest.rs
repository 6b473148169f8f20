//! `ferry map suggest`: a proposed mapping from the inputs' headers and values.

use crate::map::SuggestArgs;
use crate::Failure;

pub fn run(_args: SuggestArgs) -> Result<u8, Failure> {
    Err(anyhow::anyhow!("ferry map suggest is not built yet").into())
}
