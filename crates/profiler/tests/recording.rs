//! Exact counts and pstats' invariants, recorded through the real attribute:
//! recursion, callers, threads, panics and disabling inside a frame.

use std::sync::Mutex;

use proflab::{FunctionStats, Profile, Stats};

/// One profile records at a time, and the test harness runs tests in
/// parallel: each test holds this lock while it profiles.
static SERIAL: Mutex<()> = Mutex::new(());

fn profiled<T>(work: impl FnOnce() -> T) -> (T, Stats) {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let profile = Profile::new();
    let value = profile.run(work);
    (value, Stats::new(&profile))
}

fn entry<'a>(stats: &'a Stats, name: &str) -> &'a FunctionStats {
    stats
        .function(name)
        .unwrap_or_else(|| panic!("{name} was not recorded"))
        .1
}

#[proflab::profile]
fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

#[proflab::profile]
fn leaf(x: u64) -> u64 {
    std::hint::black_box(x * 2)
}

#[proflab::profile]
fn middle(n: u64) -> u64 {
    (0..n).map(leaf).sum()
}

#[proflab::profile]
fn top() -> u64 {
    middle(10) + middle(5) + leaf(1)
}

#[proflab::profile]
fn is_even(n: u32) -> bool {
    if n == 0 { true } else { is_odd(n - 1) }
}

#[proflab::profile]
fn is_odd(n: u32) -> bool {
    if n == 0 { false } else { is_even(n - 1) }
}

#[test]
fn recursion_counts_primitive_calls_and_cumtime_once() {
    let (value, stats) = profiled(|| fib(20));
    assert_eq!(value, 6765);
    let fib = entry(&stats, "fib");
    assert_eq!((fib.calls, fib.primitive_calls), (21891, 1));
    // Only the outermost call's time is cumulative: it spans all the others.
    assert!(
        fib.cumtime >= fib.tottime * 0.999,
        "cumtime {} < tottime {}",
        fib.cumtime,
        fib.tottime
    );
    let (self_edge_key, self_edge) = fib
        .callers
        .iter()
        .find(|(k, _)| &*k.name == "fib")
        .expect("fib calls itself");
    assert_eq!(&*self_edge_key.name, "fib");
    assert_eq!((self_edge.calls, self_edge.primitive_calls), (21890, 2));
    let mut table = Vec::new();
    stats
        .write_stats(&mut table, &proflab::View::new(), ())
        .expect("write");
    let table = String::from_utf8(table).expect("utf-8");
    assert!(
        table.contains("21891 function calls (1 primitive calls) in"),
        "{table}"
    );
    assert!(table.contains("21891/1"), "{table}");
}

#[test]
fn mutual_recursion_is_primitive_only_at_the_outermost_frame() {
    let (value, stats) = profiled(|| is_even(10));
    assert!(value);
    let even = entry(&stats, "is_even");
    let odd = entry(&stats, "is_odd");
    assert_eq!((even.calls, even.primitive_calls), (6, 1));
    assert_eq!((odd.calls, odd.primitive_calls), (5, 1));
}

#[test]
fn calls_and_callers_are_exact_and_times_add_up() {
    let (value, stats) = profiled(top);
    assert_eq!(value, 2 * (45 + 10) + 2);
    assert_eq!(entry(&stats, "top").calls, 1);
    assert_eq!(entry(&stats, "middle").calls, 2);
    let leaf = entry(&stats, "leaf");
    assert_eq!(leaf.calls, 16);
    let by_caller: Vec<(&str, u64)> = leaf
        .callers
        .iter()
        .map(|(k, s)| (&*k.name, s.calls))
        .collect();
    assert_eq!(by_caller, [("middle", 15), ("top", 1)]);
    assert_eq!(stats.total_calls(), 19);

    // pstats' invariants: the header total is the sum of tottime; cumtime
    // covers tottime; a caller's cumtime covers its callees'.
    let total: f64 = stats.entries().values().map(|s| s.tottime).sum();
    assert_eq!(stats.total_tt(), total);
    for (key, s) in stats.entries() {
        assert!(s.cumtime + 1e-12 >= s.tottime, "{key:?}");
        let edge_calls: u64 = s.callers.values().map(|e| e.calls).sum();
        assert!(edge_calls <= s.calls, "{key:?}");
    }
    let top = entry(&stats, "top");
    assert!(top.cumtime + 1e-12 >= entry(&stats, "middle").cumtime + top.tottime);
}

#[test]
fn threads_keep_their_own_stacks_and_are_merged() {
    let (_, stats) = profiled(|| {
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..25 {
                        std::hint::black_box(middle(3));
                    }
                });
            }
        });
    });
    assert_eq!(entry(&stats, "middle").calls, 100);
    let leaf = entry(&stats, "leaf");
    assert_eq!(leaf.calls, 300);
    assert_eq!(
        leaf.callers.values().map(|e| e.calls).sum::<u64>(),
        300,
        "every leaf call has middle as caller"
    );
}

#[proflab::profile]
fn panics_inside(n: u64) -> u64 {
    if n == 3 {
        panic!("deliberate");
    }
    leaf(n)
}

#[test]
fn a_panic_unwinds_cleanly_and_leaves_consistent_data() {
    let (_, stats) = profiled(|| {
        for n in 0..5 {
            let _ = std::panic::catch_unwind(|| panics_inside(n));
        }
        // After the unwinding, new frames still nest correctly.
        middle(2)
    });
    assert_eq!(entry(&stats, "panics_inside").calls, 5);
    let leaf = entry(&stats, "leaf");
    assert_eq!(leaf.calls, 6);
    let mut callers: Vec<(&str, u64)> = leaf
        .callers
        .iter()
        .map(|(k, s)| (&*k.name, s.calls))
        .collect();
    // Callers are kept in the order they were first seen; compare as a set.
    callers.sort_unstable();
    assert_eq!(callers, [("middle", 2), ("panics_inside", 4)]);
}

#[test]
fn disabling_inside_a_frame_closes_it_like_cprofile() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let profile = Profile::new();
    #[proflab::profile]
    fn outer(profile: &Profile) {
        leaf(1);
        profile.disable();
        leaf(2);
    }
    profile.enable();
    outer(&profile);
    let stats = Stats::new(&profile);
    assert_eq!(entry(&stats, "outer").calls, 1);
    assert_eq!(
        entry(&stats, "leaf").calls,
        1,
        "the call after disable is not recorded"
    );
}

#[test]
fn scopes_are_recorded_under_their_name() {
    let (_, stats) = profiled(|| {
        for _ in 0..3 {
            proflab::profile_scope!("inner loop");
            leaf(1);
        }
    });
    let scope = entry(&stats, "inner loop");
    assert_eq!(scope.calls, 3);
    assert_eq!(
        entry(&stats, "leaf")
            .callers
            .keys()
            .next()
            .expect("caller")
            .name,
        "inner loop".into()
    );
}

#[test]
fn a_scope_name_cannot_add_a_frame_or_a_line_to_the_folded_stacks() {
    let (_, stats) = profiled(|| {
        proflab::profile_scope!("two\nlines;\x1b[31m");
        leaf(1);
    });
    let stacks = stats.folded_stacks();
    assert!(!stacks.is_empty());
    for stack in &stacks {
        assert!(!stack.chars().any(char::is_control), "{stack:?}");
        let (frames, nanos) = stack.rsplit_once(' ').expect("`frames nanos`");
        assert!(nanos.parse::<u64>().is_ok(), "{stack:?}");
        assert!(frames.starts_with("two\\nlines:\\u{1b}[31m ("), "{stack:?}");
        assert!(
            frames.split(';').count() <= 2,
            "the scope and leaf at most: {stack:?}"
        );
    }
}

#[test]
fn nothing_is_recorded_without_an_enabled_profile() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let profile = Profile::new();
    top();
    assert!(Stats::new(&profile).entries().is_empty());
    assert!(!proflab::is_enabled());
}

#[test]
fn methods_can_be_profiled() {
    struct Counter(u64);
    impl Counter {
        #[proflab::profile]
        fn bump(&mut self) {
            self.0 += 1;
        }
    }
    let (count, stats) = profiled(|| {
        let mut counter = Counter(0);
        for _ in 0..7 {
            counter.bump();
        }
        counter.0
    });
    assert_eq!(count, 7);
    assert_eq!(entry(&stats, "bump").calls, 7);
}
