//! `ferry map preview`: the first source rows as the records a mapping makes of them.

use crate::map::PreviewArgs;
use crate::Failure;

pub fn run(_args: PreviewArgs) -> Result<u8, Failure> {
    Err(anyhow::anyhow!("ferry map preview is not built yet").into())
}
