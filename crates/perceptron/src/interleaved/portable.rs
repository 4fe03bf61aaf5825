//! The step on plain arrays, lane by lane: the kernel of CPUs without AVX2
//! and of rows too wide for the AVX2 kernel, and the one the x86-64 kernels
//! follow operation for operation. `multiversion` compiles it for AVX2 and
//! AVX as well, so that the compiler's own vectorization gets those
//! instructions where the CPU has them.

use multiversion::multiversion;

use super::{LANES, Lanes, Ring, Samples, fold_scales, sum_start};
use crate::model::{MIN_SCALE, SgdSettings, truncate_weight};

#[multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
#[allow(
    clippy::needless_range_loop,
    reason = "each lane indexes several arrays at once: the shape SIMD wants"
)]
pub(super) fn run_steps(
    settings: &SgdSettings,
    samples: Samples<'_>,
    ring: &Ring,
    steps: usize,
    lanes: &mut Lanes,
) {
    let Samples {
        data,
        n_features,
        targets,
    } = samples;
    let zero = sum_start();
    let eta = settings.eta;
    let Lanes {
        weights,
        received,
        scale,
        intercept,
        l1_offered,
        epoch_loss,
    } = lanes;
    for step_index in ring.now..ring.now + steps {
        let rows = ring.at(step_index);
        let mut base = [0usize; LANES];
        let mut y = [0.0; LANES];
        for lane in 0..LANES {
            let row = rows[lane] as usize;
            base[lane] = row * n_features;
            y[lane] = targets[row];
        }
        let feature = |j: usize, lane: usize| data[base[lane] + j];

        let mut dot = [zero; LANES];
        for (j, w) in weights.iter().enumerate() {
            for lane in 0..LANES {
                dot[lane] += w[lane] * feature(j, lane);
            }
        }
        let mut margin = [0.0; LANES];
        for lane in 0..LANES {
            margin[lane] = (dot[lane] * scale[lane] + intercept[lane]) * y[lane];
        }
        if settings.decays {
            for s in scale.iter_mut() {
                *s *= settings.decay;
            }
            if scale.iter().any(|&s| s < MIN_SCALE) {
                fold_scales(weights, scale);
            }
        }
        let mut wrong = [false; LANES];
        let mut step = [0.0; LANES];
        let mut update = [0.0; LANES];
        for lane in 0..LANES {
            wrong[lane] = margin[lane] <= 0.0;
            let loss = epoch_loss[lane] - margin[lane];
            epoch_loss[lane] = if wrong[lane] { loss } else { epoch_loss[lane] };
            update[lane] = eta * y[lane];
            step[lane] = update[lane] / scale[lane];
        }
        for (j, w) in weights.iter_mut().enumerate() {
            for lane in 0..LANES {
                let moved = w[lane] + step[lane] * feature(j, lane);
                w[lane] = if wrong[lane] { moved } else { w[lane] };
            }
        }
        if settings.fit_intercept {
            for lane in 0..LANES {
                let moved = intercept[lane] + update[lane];
                intercept[lane] = if wrong[lane] { moved } else { intercept[lane] };
            }
        }
        if settings.truncates {
            let mut inverse_scale = [0.0; LANES];
            for lane in 0..LANES {
                l1_offered[lane] += settings.l1_step;
                inverse_scale[lane] = 1.0 / scale[lane];
            }
            for (w, q) in weights.iter_mut().zip(received.iter_mut()) {
                for lane in 0..LANES {
                    truncate_weight(
                        &mut w[lane],
                        &mut q[lane],
                        scale[lane],
                        inverse_scale[lane],
                        l1_offered[lane],
                    );
                }
            }
        }
    }
}
