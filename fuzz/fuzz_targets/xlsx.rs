//! The workbook reader on arbitrary bytes, read as `x.xlsx`.
//!
//! The reader runs calamine under `catch_unwind` on purpose (a panic there is reported as a
//! damaged workbook), so this target does not abort on every panic as libFuzzer's hook does:
//! it prints each new panic location once, and only a panic that escapes `read_input` (caught
//! by libfuzzer-sys, which then aborts) is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::sync::Mutex;

fn tolerate_caught_panics() {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        if seen.get_or_insert_with(HashSet::new).insert(at) {
            eprintln!("ferry-fuzz: panic (fatal only if it escapes read_input): {info}");
        }
    }));
}

fuzz_target!(init: tolerate_caught_panics(), |data: &[u8]| {
    let path = ferry_fuzz::write("x.xlsx", data);
    ferry_fuzz::read(&path, &ferry_sources::ReadOptions::default());
});
