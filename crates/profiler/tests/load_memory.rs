//! Issue 35 item 5: loading a stats file takes memory in proportion to the
//! file. A file as CPython writes them (each function's key written once,
//! flagged, and named again by reference under every function it calls),
//! with long names: copied out per caller, its names took 26 times the
//! file. This test binary counts the heap's peak with its own
//! global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use proflab::Stats;

struct Peak;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes straight to the system allocator; the counters
// only observe the sizes.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Peak = Peak;

const FUNCTIONS: i32 = 2000;
const CALLERS: i32 = 40;

fn push_str(bytes: &mut Vec<u8>, text: &str) {
    bytes.push(b'u');
    bytes.extend_from_slice(&u32::try_from(text.len()).expect("short").to_le_bytes());
    bytes.extend_from_slice(text.as_bytes());
}

fn push_int(bytes: &mut Vec<u8>, n: i32) {
    bytes.push(b'i');
    bytes.extend_from_slice(&n.to_le_bytes());
}

fn push_float(bytes: &mut Vec<u8>, x: f64) {
    bytes.push(b'g');
    bytes.extend_from_slice(&x.to_le_bytes());
}

/// `FUNCTIONS` functions with a 1000-character name and a 500-character
/// file name, each called by up to `CALLERS` earlier ones; every key is
/// flagged (reference `i` is function `i`'s key) and callers name them by
/// reference, as CPython's marshal does.
fn cpython_shaped_file() -> Vec<u8> {
    let mut bytes = vec![b'{'];
    for i in 0..FUNCTIONS {
        bytes.extend_from_slice(&[b')' | 0x80, 3]);
        push_str(&mut bytes, &format!("/src/{i:0>495}.py"));
        push_int(&mut bytes, i);
        push_str(&mut bytes, &format!("function_{i:_>991}"));
        bytes.extend_from_slice(&[b')', 5]);
        push_int(&mut bytes, 1);
        push_int(&mut bytes, 1);
        push_float(&mut bytes, 0.25);
        push_float(&mut bytes, 0.5);
        bytes.push(b'{');
        for caller in (0..i).rev().take(CALLERS as usize) {
            bytes.push(b'r');
            bytes.extend_from_slice(&caller.to_le_bytes());
            bytes.extend_from_slice(&[b')', 4]);
            push_int(&mut bytes, 1);
            push_int(&mut bytes, 1);
            push_float(&mut bytes, 0.25);
            push_float(&mut bytes, 0.5);
        }
        bytes.push(b'0');
    }
    bytes.push(b'0');
    bytes
}

#[test]
fn loading_takes_memory_in_proportion_to_the_file() {
    let bytes = cpython_shaped_file();
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let stats = Stats::from_marshal(&bytes).expect("a valid file");
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let callers: usize = stats.entries().values().map(|s| s.callers.len()).sum();
    assert_eq!(stats.entries().len(), FUNCTIONS as usize);
    assert_eq!(callers, 2000 * 40 - 40 * 41 / 2);
    // CPython takes about 5 times a file's size; with names copied per
    // caller this one took 26 times.
    let ratio = peak as f64 / bytes.len() as f64;
    assert!(
        ratio < 8.0,
        "{peak} bytes at the peak for {} bytes of file ({ratio:.1} times)",
        bytes.len()
    );
    // Stripping directories shares the names too.
    let before = CURRENT.load(Ordering::Relaxed);
    let stripped = stats.strip_dirs();
    let after = CURRENT.load(Ordering::Relaxed);
    assert_eq!(stripped.entries().len(), FUNCTIONS as usize);
    assert!(
        after < before + bytes.len(),
        "{before} bytes before strip, {after} after"
    );
}
