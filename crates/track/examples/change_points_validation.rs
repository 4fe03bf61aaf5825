//! Precision and recall of `change_points` on synthetic histories with known
//! shifts (docs/RESULTS.md, "Change points"). Each history has 30 to 80
//! commits of noise (uniform, 1% to 4% wide, plus a 2% chance per commit of a
//! 20% outlier, as a spoiled run gives) and 0 to 3 level shifts of 3% to 20%,
//! at least 5 commits apart. A found change counts as true when it lies within
//! one commit of a real one.
//!
//! Run with: cargo run --release -p proflab-track --example change_points_validation

use proflab_track::{ChangeOptions, change_points};
use rand_pcg::Pcg64;
use rand_pcg::rand_core::{Rng as _, SeedableRng as _};

fn uniform(rng: &mut Pcg64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn main() {
    let mut rng = Pcg64::seed_from_u64(2026);
    let histories = 300;
    let (mut true_found, mut false_found, mut missed) = (0, 0, 0);
    let mut by_size = [(0, 0); 4]; // shifts of 3-5%, 5-10%, 10-15%, 15-20%: (found, all)
    for _ in 0..histories {
        let n = 30 + (rng.next_u64() % 51) as usize;
        let spread = 0.01 + 0.03 * uniform(&mut rng);
        let shifts = (rng.next_u64() % 4) as usize;
        let mut at: Vec<usize> = Vec::new();
        while at.len() < shifts {
            let candidate = 5 + (rng.next_u64() % (n as u64 - 10)) as usize;
            if at.iter().all(|&a| a.abs_diff(candidate) >= 5) {
                at.push(candidate);
            }
        }
        at.sort_unstable();
        let sizes: Vec<f64> = at
            .iter()
            .map(|_| {
                let size = 0.03 + 0.17 * uniform(&mut rng);
                if rng.next_u64() % 2 == 0 { size } else { -size }
            })
            .collect();
        let values: Vec<f64> = (0..n)
            .map(|i| {
                let level: f64 = at
                    .iter()
                    .zip(&sizes)
                    .filter(|(a, _)| i >= **a)
                    .map(|(_, s)| 1.0 + s)
                    .product();
                let outlier = if uniform(&mut rng) < 0.02 { 1.2 } else { 1.0 };
                100.0 * level * (1.0 + spread * (uniform(&mut rng) - 0.5)) * outlier
            })
            .collect();
        let found: Vec<usize> = change_points(&values, &ChangeOptions::default())
            .iter()
            .map(|c| c.index)
            .collect();
        for (&a, size) in at.iter().zip(&sizes) {
            let hit = found.iter().any(|&f| f.abs_diff(a) <= 1);
            let bucket = match size.abs() {
                s if s < 0.05 => 0,
                s if s < 0.10 => 1,
                s if s < 0.15 => 2,
                _ => 3,
            };
            by_size[bucket].1 += 1;
            if hit {
                by_size[bucket].0 += 1;
            } else {
                missed += 1;
            }
        }
        for &f in &found {
            if at.iter().any(|&a| f.abs_diff(a) <= 1) {
                true_found += 1;
            } else {
                false_found += 1;
            }
        }
    }
    let precision = f64::from(true_found) / f64::from(true_found + false_found);
    let real: i32 = by_size.iter().map(|b| b.1).sum();
    let recall = f64::from(real - missed) / f64::from(real);
    println!(
        "{histories} histories, {real} real shifts; found {true_found} true, {false_found} false"
    );
    println!("precision {precision:.3}, recall {recall:.3}");
    for (label, (found, all)) in ["3-5%", "5-10%", "10-15%", "15-20%"].iter().zip(by_size) {
        println!("  shifts of {label}: found {found} of {all}");
    }
}
