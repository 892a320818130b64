//! Any text given to the CSV reader gives a table or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(t) = infobound::estimate::io::parse_csv(text) {
            assert_eq!(t.data.len(), t.rows * t.cols);
            assert!(t.rows > 0 && t.cols > 0);
        }
    }
});
