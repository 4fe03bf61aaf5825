//! scikit-learn's `make_classification`, for two classes.

use ndarray::{Array2, ArrayViewMut2, Axis, s};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

use crate::{Dataset, SeededRng};

/// The parameters of [`make_classification`], named as in scikit-learn.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationParams {
    /// Number of samples.
    pub n_samples: usize,
    /// Total number of features: informative, redundant, repeated, then noise.
    pub n_features: usize,
    /// Features that carry the class signal.
    pub n_informative: usize,
    /// Random linear combinations of the informative features.
    pub n_redundant: usize,
    /// Copies of informative or redundant features.
    pub n_repeated: usize,
    /// Gaussian clusters per class, each centred on a hypercube vertex.
    pub n_clusters_per_class: usize,
    /// Half the hypercube's side: larger is easier.
    pub class_sep: f64,
    /// Fraction of labels assigned at random (noise).
    pub flip_y: f64,
    /// Seed of the generator.
    pub seed: u64,
}

impl ClassificationParams {
    /// The tutorial's call: `make_classification(n_samples=1000,
    /// n_features=5, n_informative=2, n_redundant=1, random_state=1)`.
    #[must_use]
    pub fn tutorial() -> Self {
        Self {
            n_samples: 1000,
            n_features: 5,
            n_informative: 2,
            n_redundant: 1,
            ..Self::default()
        }
    }
}

impl Default for ClassificationParams {
    /// scikit-learn's defaults, with seed 1.
    fn default() -> Self {
        Self {
            n_samples: 100,
            n_features: 20,
            n_informative: 2,
            n_redundant: 2,
            n_repeated: 0,
            n_clusters_per_class: 2,
            class_sep: 1.0,
            flip_y: 0.01,
            seed: 1,
        }
    }
}

/// Parameters that cannot describe a dataset.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GeneratorError {
    /// Informative, redundant and repeated features exceed the total.
    #[error(
        "n_informative ({informative}) + n_redundant ({redundant}) + n_repeated ({repeated}) must not exceed n_features ({features})"
    )]
    TooManySpecialFeatures {
        /// `n_informative`.
        informative: usize,
        /// `n_redundant`.
        redundant: usize,
        /// `n_repeated`.
        repeated: usize,
        /// `n_features`.
        features: usize,
    },
    /// The hypercube has fewer vertices than there are clusters.
    #[error(
        "2 classes x {clusters_per_class} clusters per class need at least that many hypercube vertices, but n_informative = {informative} gives only 2^{informative}"
    )]
    TooFewVertices {
        /// `n_clusters_per_class`.
        clusters_per_class: usize,
        /// `n_informative`.
        informative: usize,
    },
    /// A parameter that must be positive is zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// `flip_y` is outside [0, 1] or `class_sep` is not finite.
    #[error("{name} = {value} is out of range")]
    OutOfRange {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
}

/// Generates a random two-class problem the way scikit-learn's
/// `make_classification` does: clusters of normally distributed points around
/// the vertices of a hypercube in the informative subspace, each cluster given
/// a random covariance; redundant features as random linear combinations of
/// the informative ones; repeated features copied from those; the rest pure
/// noise; a fraction `flip_y` of labels reassigned at random; then samples and
/// features shuffled. The same seed gives the same data everywhere (the
/// stream is not numpy's, so values differ from scikit-learn's own).
///
/// # Errors
/// [`GeneratorError`] when the parameters are inconsistent.
///
/// ```
/// use proflab_perceptron::{ClassificationParams, make_classification};
/// let data = make_classification(&ClassificationParams::tutorial())?;
/// assert_eq!(data.features.dim(), (1000, 5));
/// # Ok::<(), proflab_perceptron::GeneratorError>(())
/// ```
#[proflab::profile]
pub fn make_classification(params: &ClassificationParams) -> Result<Dataset, GeneratorError> {
    validate(params)?;
    const N_CLASSES: usize = 2;
    let informative = params.n_informative;
    let n_clusters = N_CLASSES * params.n_clusters_per_class;
    let mut rng = SeededRng::seed_from_u64(params.seed);

    // Equal cluster sizes, the remainder going to the first clusters.
    let cluster_sizes: Vec<usize> = (0..n_clusters)
        .map(|k| params.n_samples / n_clusters + usize::from(k < params.n_samples % n_clusters))
        .collect();

    let centroids = hypercube_vertices(n_clusters, informative, &mut rng);
    let mut features = Array2::<f64>::zeros((params.n_samples, params.n_features));
    let mut labels = vec![0usize; params.n_samples];
    fill_standard_normal(features.slice_mut(s![.., ..informative]), &mut rng);

    let mut start = 0;
    for (k, (centroid, &size)) in centroids.iter().zip(&cluster_sizes).enumerate() {
        let rows = start..start + size;
        labels[rows.clone()].fill(k % N_CLASSES);
        let covariance = uniform_matrix(informative, informative, &mut rng);
        let mut cluster = features.slice_mut(s![rows, ..informative]);
        let mixed = cluster.dot(&covariance);
        cluster.assign(&mixed);
        for (mut column, vertex_bit) in cluster.axis_iter_mut(Axis(1)).zip(centroid) {
            let offset = if *vertex_bit {
                params.class_sep
            } else {
                -params.class_sep
            };
            column += offset;
        }
        start += size;
    }

    let redundant_end = informative + params.n_redundant;
    if params.n_redundant > 0 {
        let combination = uniform_matrix(informative, params.n_redundant, &mut rng);
        let redundant = features.slice(s![.., ..informative]).dot(&combination);
        features
            .slice_mut(s![.., informative..redundant_end])
            .assign(&redundant);
    }
    let repeated_end = redundant_end + params.n_repeated;
    for column in redundant_end..repeated_end {
        let source = ((redundant_end - 1) as f64 * rng.random::<f64>() + 0.5) as usize;
        let copy = features.column(source).to_owned();
        features.column_mut(column).assign(&copy);
    }
    fill_standard_normal(features.slice_mut(s![.., repeated_end..]), &mut rng);

    for label in &mut labels {
        if rng.random::<f64>() < params.flip_y {
            *label = rng.random_range(0..N_CLASSES);
        }
    }

    let mut row_order: Vec<usize> = (0..params.n_samples).collect();
    row_order.shuffle(&mut rng);
    let mut column_order: Vec<usize> = (0..params.n_features).collect();
    column_order.shuffle(&mut rng);
    let shuffled = Array2::from_shape_fn((params.n_samples, params.n_features), |(i, j)| {
        features[[row_order[i], column_order[j]]]
    });
    let shuffled_labels: Vec<usize> = row_order.iter().map(|&i| labels[i]).collect();

    Ok(Dataset {
        features: shuffled,
        labels: shuffled_labels,
        classes: vec!["0".to_owned(), "1".to_owned()],
        feature_names: (0..params.n_features).map(|j| format!("x{j}")).collect(),
    })
}

fn validate(params: &ClassificationParams) -> Result<(), GeneratorError> {
    for (name, value) in [
        ("n_samples", params.n_samples),
        ("n_features", params.n_features),
        ("n_informative", params.n_informative),
        ("n_clusters_per_class", params.n_clusters_per_class),
    ] {
        if value == 0 {
            return Err(GeneratorError::Zero(name));
        }
    }
    let special = params.n_informative + params.n_redundant + params.n_repeated;
    if special > params.n_features {
        return Err(GeneratorError::TooManySpecialFeatures {
            informative: params.n_informative,
            redundant: params.n_redundant,
            repeated: params.n_repeated,
            features: params.n_features,
        });
    }
    let enough_vertices = u32::try_from(params.n_informative)
        .ok()
        .and_then(|bits| 1usize.checked_shl(bits))
        .is_none_or(|vertices| vertices >= 2 * params.n_clusters_per_class);
    if !enough_vertices {
        return Err(GeneratorError::TooFewVertices {
            clusters_per_class: params.n_clusters_per_class,
            informative: params.n_informative,
        });
    }
    if !(0.0..=1.0).contains(&params.flip_y) {
        return Err(GeneratorError::OutOfRange {
            name: "flip_y",
            value: params.flip_y,
        });
    }
    if !params.class_sep.is_finite() {
        return Err(GeneratorError::OutOfRange {
            name: "class_sep",
            value: params.class_sep,
        });
    }
    Ok(())
}

/// `count` distinct random vertices of the `dimensions`-cube, as bit vectors.
fn hypercube_vertices(count: usize, dimensions: usize, rng: &mut SeededRng) -> Vec<Vec<bool>> {
    let mut vertices: Vec<Vec<bool>> = Vec::with_capacity(count);
    while vertices.len() < count {
        let vertex: Vec<bool> = (0..dimensions).map(|_| rng.random::<bool>()).collect();
        if !vertices.contains(&vertex) {
            vertices.push(vertex);
        }
    }
    vertices
}

/// A matrix of uniform values in [-1, 1), scikit-learn's `2 * uniform() - 1`.
fn uniform_matrix(rows: usize, columns: usize, rng: &mut SeededRng) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, columns), || 2.0 * rng.random::<f64>() - 1.0)
}

fn fill_standard_normal(mut block: ArrayViewMut2<'_, f64>, rng: &mut SeededRng) {
    block.map_inplace(|value| *value = rng.sample(StandardNormal));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tutorial() -> Dataset {
        make_classification(&ClassificationParams::tutorial()).expect("valid parameters")
    }

    #[test]
    fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
        assert_eq!(tutorial(), tutorial());
        let other = make_classification(&ClassificationParams {
            seed: 2,
            ..ClassificationParams::tutorial()
        })
        .expect("valid parameters");
        assert_ne!(tutorial().features, other.features);
    }

    #[test]
    fn classes_are_balanced_up_to_label_noise() {
        let counts = tutorial().class_counts();
        assert_eq!(counts.iter().sum::<usize>(), 1000);
        // 500 each before flip_y = 1% relabels about ten samples at random.
        for count in counts {
            assert!((470..=530).contains(&count), "class count {count}");
        }
    }

    /// Difference of class means over the pooled standard deviation.
    fn separation(data: &Dataset, column: usize) -> f64 {
        let values = data.features.column(column);
        let mean_of = |class: usize| {
            let (sum, n) = values
                .iter()
                .zip(&data.labels)
                .filter(|(_, label)| **label == class)
                .fold((0.0, 0.0), |(sum, n), (v, _)| (sum + v, n + 1.0));
            sum / n
        };
        (mean_of(1) - mean_of(0)).abs() / values.std(0.0)
    }

    #[test]
    fn signal_features_separate_the_classes_and_noise_features_do_not() {
        // Two informative features and one redundant combination carry the
        // signal; two columns are pure noise. Columns are shuffled, so rank them.
        let params = ClassificationParams {
            n_samples: 4000,
            n_clusters_per_class: 1,
            ..ClassificationParams::tutorial()
        };
        let data = make_classification(&params).expect("valid parameters");
        let mut separations: Vec<f64> = (0..5).map(|j| separation(&data, j)).collect();
        separations.sort_by(f64::total_cmp);
        assert!(
            separations[0] < 0.1 && separations[1] < 0.1,
            "noise separates: {separations:?}"
        );
        assert!(
            separations[4] > 0.5,
            "no feature separates: {separations:?}"
        );
    }

    #[test]
    fn redundant_features_are_linear_combinations_of_informative_ones() {
        let params = ClassificationParams {
            n_samples: 200,
            n_features: 3,
            n_informative: 2,
            n_redundant: 1,
            flip_y: 0.0,
            ..ClassificationParams::default()
        };
        let data = make_classification(&params).expect("valid parameters");
        // Three columns spanning a 2-D space: the Gram matrix is singular.
        let x = &data.features;
        let gram = x.t().dot(x);
        let det = gram[[0, 0]] * (gram[[1, 1]] * gram[[2, 2]] - gram[[1, 2]] * gram[[2, 1]])
            - gram[[0, 1]] * (gram[[1, 0]] * gram[[2, 2]] - gram[[1, 2]] * gram[[2, 0]])
            + gram[[0, 2]] * (gram[[1, 0]] * gram[[2, 1]] - gram[[1, 1]] * gram[[2, 0]]);
        let scale = gram[[0, 0]] * gram[[1, 1]] * gram[[2, 2]];
        assert!(det.abs() < 1e-9 * scale, "det {det} vs scale {scale}");
    }

    #[test]
    fn repeated_features_copy_another_column() {
        let params = ClassificationParams {
            n_samples: 50,
            n_features: 4,
            n_informative: 2,
            n_redundant: 1,
            n_repeated: 1,
            ..ClassificationParams::default()
        };
        let data = make_classification(&params).expect("valid parameters");
        let columns: Vec<_> = data.features.columns().into_iter().collect();
        let duplicated = (0..4).any(|a| (a + 1..4).any(|b| columns[a] == columns[b]));
        assert!(duplicated, "no column is a copy of another");
    }

    #[test]
    fn inconsistent_parameters_are_errors() {
        let too_many = ClassificationParams {
            n_features: 2,
            ..ClassificationParams::tutorial()
        };
        assert!(matches!(
            make_classification(&too_many),
            Err(GeneratorError::TooManySpecialFeatures { .. })
        ));
        let too_few_vertices = ClassificationParams {
            n_informative: 1,
            n_redundant: 0,
            ..ClassificationParams::tutorial()
        };
        assert!(matches!(
            make_classification(&too_few_vertices),
            Err(GeneratorError::TooFewVertices { .. })
        ));
        let bad_flip = ClassificationParams {
            flip_y: 1.5,
            ..ClassificationParams::tutorial()
        };
        assert!(matches!(
            make_classification(&bad_flip),
            Err(GeneratorError::OutOfRange { name: "flip_y", .. })
        ));
        let no_samples = ClassificationParams {
            n_samples: 0,
            ..ClassificationParams::tutorial()
        };
        assert_eq!(
            make_classification(&no_samples),
            Err(GeneratorError::Zero("n_samples"))
        );
    }
}
