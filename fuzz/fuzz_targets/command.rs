//! The /okta-reset grammar: any text a person can type (Slack-escaped or not) either parses or is
//! refused with an error; it never panics. Whatever parses must also parse as options.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okta_reset::domain::command;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = command::parse(text);
    let _ = command::parse_options(text);
});
