//! Ways to take the square root of one `f64`, as compared by the
//! `sqrt_scalar` benchmark group.
//!
//! The tutorial times `math.sqrt(1.1)`, `numpy.sqrt(1.1)` and `1.1 ** 0.5`;
//! this crate holds the Rust counterparts: the hardware instruction, the
//! general power and exp/ln routes, a pure-software square root, and ndarray
//! applied to a single value (what the array machinery costs when there is
//! no array to amortize it over). Every strategy agrees with [`hardware`]
//! to within a few ulps, which the tests check. It is not a math library:
//! use `f64::sqrt`.

use ndarray::{Array0, Array1};

/// A strategy for one square root.
pub type Strategy = fn(f64) -> f64;

/// `f64::sqrt`: one `sqrtsd` instruction, correctly rounded, about 15-20
/// cycles of latency on current x86 cores. The analogue of `math.sqrt`.
#[must_use]
pub fn hardware(x: f64) -> f64 {
    x.sqrt()
}

/// `powf(0.5)`: a call into the C library's general `pow`, which handles any
/// exponent and so cannot take the sqrt shortcut. The analogue of `x ** 0.5`.
#[must_use]
pub fn powf_half(x: f64) -> f64 {
    x.powf(0.5)
}

/// `exp(0.5 * ln x)`: two transcendental calls and their rounding errors,
/// the textbook identity rather than anything a library does.
#[must_use]
pub fn exp_half_ln(x: f64) -> f64 {
    (0.5 * x.ln()).exp()
}

/// libm's square root with soft floats forced: bit-by-bit integer
/// arithmetic, no `sqrtsd`. Shows what the instruction saves.
#[must_use]
pub fn software(x: f64) -> f64 {
    libm::sqrt(x)
}

/// ndarray on a zero-dimensional array: allocates the array, maps it into a
/// new one and reads the element back. The analogue of `numpy.sqrt(1.1)`:
/// the machinery's fixed cost dwarfs the one instruction of work.
#[must_use]
pub fn ndarray_zero_dim(x: f64) -> f64 {
    let array: Array0<f64> = ndarray::arr0(x);
    array.mapv(f64::sqrt).into_scalar()
}

/// ndarray on a one-element array: as [`ndarray_zero_dim`], plus the shape
/// and stride bookkeeping of a real axis.
#[must_use]
pub fn ndarray_one_element(x: f64) -> f64 {
    let array: Array1<f64> = Array1::from_elem(1, x);
    array.mapv(f64::sqrt)[0]
}

/// Every strategy with its stable benchmark name.
pub const STRATEGIES: &[(&str, Strategy)] = &[
    ("f64_sqrt", hardware),
    ("powf_half", powf_half),
    ("exp_half_ln", exp_half_ln),
    ("libm_soft", software),
    ("ndarray_zero_dim", ndarray_zero_dim),
    ("ndarray_one_element", ndarray_one_element),
];

/// The tutorial's operand.
pub const TUTORIAL_VALUE: f64 = 1.1;

/// The square root of [`TUTORIAL_VALUE`] written as a constant expression:
/// the compiler folds it, so a benchmark of it times an empty loop. The
/// caveat that `std::hint::black_box` exists to avoid.
#[must_use]
pub fn folded_constant() -> f64 {
    TUTORIAL_VALUE.sqrt()
}

/// The same square root with the operand hidden from the optimizer by
/// `black_box`, so the instruction really runs each call.
#[must_use]
pub fn opaque_constant() -> f64 {
    std::hint::black_box(TUTORIAL_VALUE).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two positive finite floats.
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn every_strategy_agrees_with_the_hardware_sqrt() {
        for x in [TUTORIAL_VALUE, 1e-300, 0.5, 2.0, 1e300] {
            let expected = hardware(x);
            for (name, strategy) in STRATEGIES {
                // exp/ln loses a few ulps to its two roundings; the rest are exact.
                let tolerance = if *name == "exp_half_ln" { 512 } else { 1 };
                let got = strategy(x);
                assert!(
                    ulps(got, expected) <= tolerance,
                    "{name}({x}) = {got}, expected {expected}"
                );
            }
        }
    }

    #[test]
    fn the_software_sqrt_is_correctly_rounded() {
        for x in [TUTORIAL_VALUE, 3.0, 1e-10, 12345.678] {
            assert_eq!(software(x).to_bits(), hardware(x).to_bits(), "x = {x}");
        }
    }

    #[test]
    fn both_constant_forms_give_the_same_value() {
        assert_eq!(folded_constant(), opaque_constant());
        assert!((folded_constant() - 1.048_808_848_170_151_5).abs() < 1e-15);
    }
}
