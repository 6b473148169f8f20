//! The CSV folder reader on arbitrary bytes, split into `User.csv` and `Ledger.csv` (see
//! `ferry_fuzz::split_csv`), read as a folder with UTF-8 or windows-1252.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (flags, user, ledger) = ferry_fuzz::split_csv(data);
    ferry_fuzz::write("User.csv", user);
    ferry_fuzz::write("Ledger.csv", ledger);
    ferry_fuzz::read(ferry_fuzz::scratch(), &ferry_fuzz::csv_options(flags));
});
