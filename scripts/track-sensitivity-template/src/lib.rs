//! Work whose cost is exactly proportional to `n`, so a slowdown of p% is p% more work.

/// Percent of extra work each benchmark `work/NN` does; the script edits this line.
pub const SLOWDOWN_PERCENT: [u64; 10] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// A dependent chain of multiply-adds: `n` steps, no vectorization possible.
pub fn work(n: u64, seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    }
    x
}
