//! A real build in a fresh cache reports each crate Cargo compiles, and a
//! second build of the same snippet (nothing to compile) reports none.

use proflab_timeit::{BuildProgress, Cache, Snippet, Timer as _};

#[test]
fn a_first_build_reports_progress_and_a_cached_one_does_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::at(dir.path().to_owned());
    let snippet = Snippet {
        setup: vec!["let x = 2u64;".into()],
        statement: vec!["x * 3".into()],
        dependencies: Vec::new(),
    };
    let mut seen: Vec<BuildProgress> = Vec::new();
    let mut timer = cache
        .build_with_progress(&snippet, &mut |p| seen.push(p.clone()))
        .expect("builds");
    assert!(timer.time(10).expect("runs") >= 0.0);
    let names: Vec<&str> = seen.iter().map(|p| p.crate_name.as_str()).collect();
    assert!(
        names.iter().any(|name| name.starts_with("snippet_")),
        "the snippet's binary is reported: {names:?}"
    );
    let counts: Vec<usize> = seen.iter().map(|p| p.compiled).collect();
    assert_eq!(
        counts,
        (1..=seen.len()).collect::<Vec<_>>(),
        "counted in order"
    );

    let mut again = Vec::new();
    cache
        .build_with_progress(&snippet, &mut |p| again.push(p.clone()))
        .expect("builds");
    assert!(again.is_empty(), "nothing was compiled: {again:?}");
}
