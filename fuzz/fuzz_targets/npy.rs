//! Any bytes given to the `.npy` reader give a table or an error, never a panic or a huge
//! allocation (libFuzzer's -rss_limit_mb and -malloc_limit_mb catch the latter).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = infobound::estimate::io::parse_npy(data) {
        // A table that parsed is consistent with its shape.
        assert_eq!(t.data.len(), t.rows * t.cols);
        let _ = t.matrix();
    }
});
