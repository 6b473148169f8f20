//! The XML reader on arbitrary bytes, read as `x.xml`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = ferry_fuzz::write("x.xml", data);
    ferry_fuzz::read(&path, &ferry_sources::ReadOptions::default());
});
