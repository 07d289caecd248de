//! Signature verification: arbitrary headers and bodies never panic, and nothing but the exact
//! signature of the exact body is accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okta_reset::slack::verify::{sign, verify};

const SECRET: &str = "fuzz-signing-secret";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    // Layout: timestamp \n signature \n body (missing parts stand for missing headers).
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let ts = parts.next().and_then(|p| std::str::from_utf8(p).ok());
    let sig = parts.next().and_then(|p| std::str::from_utf8(p).ok());
    let body = parts.next().unwrap_or_default();
    let given = verify(SECRET, ts, sig, body, NOW);
    if given.is_ok() {
        // Only a forged-correct HMAC passes: the fuzzer must not find another.
        let ts = ts.expect("accepted requests have a timestamp");
        assert_eq!(Some(sign(SECRET, ts, body).as_str()), sig);
    }
    // The genuine signature over the same input is always accepted when fresh.
    if let Some(ts) = ts.filter(|t| {
        t.trim()
            .parse::<i64>()
            .is_ok_and(|n| (NOW - n).abs() <= 300)
    }) {
        let good = sign(SECRET, ts, body);
        assert!(verify(SECRET, Some(ts), Some(&good), body, NOW).is_ok());
    }
});
