//! The CSV reader: any uploaded bytes become targets and numbered row errors, or one refusal.
//! Checks the reader's own promises too: every row number it reports is a real, 1-based row.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okta_reset::csv_input;

fuzz_target!(|data: &[u8]| {
    let _ = csv_input::check_content(data);
    if let Ok(t) = csv_input::read(data) {
        for target in &t.targets {
            assert!(target.row >= 1, "row numbers are 1-based");
        }
    }
});
