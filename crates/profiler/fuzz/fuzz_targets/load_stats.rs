//! Any bytes given to the stats-file reader give statistics or an error,
//! never a panic, a hang or an unbounded allocation. Run it with
//! `-rss_limit_mb=512` (see ../Cargo.toml): memory must stay proportional to
//! the input, and libFuzzer stops with "out-of-memory" when it does not.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(stats) = proflab::Stats::from_marshal(bytes) {
        // What was read writes back and reads again to the same thing.
        let again = proflab::Stats::from_marshal(&stats.to_marshal()).expect("our own output parses");
        assert_eq!(again.entries().len(), stats.entries().len());
    }
});
