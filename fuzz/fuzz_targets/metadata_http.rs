//! cargo fuzz target: see `harness::run_http`. An `Err` (a broken promise) or a panic is a crash.
#![no_main]

#[path = "../../tests/it/support/emf_rules.rs"]
#[allow(dead_code)]
mod emf_rules;
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(finding) = harness::run_http(data) {
        panic!("{finding}");
    }
});
