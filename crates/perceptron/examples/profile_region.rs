//! The tutorial's "profiling inside code": enable a profiler around one
//! region, then print the top rows, exactly as with `cProfile.Profile()`.
//!
//! Run with: `cargo run --release -p proflab-perceptron --example profile_region`

use proflab::{Profile, Stats};
use proflab_perceptron::{
    ClassificationParams, Hyperparameters, SeededRng, TutorialObjective, hill_climb,
    make_classification,
};
use rand::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = make_classification(&ClassificationParams::tutorial())?;
    let objective = TutorialObjective::new(&data);
    let mut rng = SeededRng::seed_from_u64(1);
    let start = Hyperparameters {
        eta0: 0.5,
        alpha: 0.01,
    };

    let profile = Profile::new();
    profile.enable();
    let outcome = hill_climb(
        |config| objective.evaluate(config),
        start,
        20,
        0.1,
        &mut rng,
        |_| {},
    )?;
    profile.disable();

    println!("best cfg={}: {:.5}", outcome.config, outcome.score);
    Stats::new(&profile)
        .strip_dirs()
        .sort_stats(&["cumtime"])?
        .print_stats(5)?;
    Ok(())
}
