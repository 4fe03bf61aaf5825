//! A labelled dataset and its CSV form.

use std::io::{Read, Write};
use std::path::Path;

use ndarray::Array2;

/// Features and class labels, with the label names they were read or made
/// with. Labels are stored as indices into `classes`, which is sorted
/// (numerically when every label is a number), as scikit-learn's
/// `np.unique` orders them.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// One row per sample, one column per feature.
    pub features: Array2<f64>,
    /// Each sample's class, an index into `classes`.
    pub labels: Vec<usize>,
    /// The class names, sorted.
    pub classes: Vec<String>,
    /// The feature columns' names, from the CSV header.
    pub feature_names: Vec<String>,
}

/// What is wrong with a dataset or its CSV file.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be opened, read or written.
    #[error("cannot read {path}")]
    Io {
        /// The file at fault.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The path names a folder, not a file.
    #[error("{path} is a folder, not a CSV file")]
    Folder {
        /// The path given.
        path: String,
    },
    /// The input is longer than [`Dataset::MAX_CSV_BYTES`].
    #[error("the file is larger than {} MiB, the most a dataset is read from", Dataset::MAX_CSV_BYTES >> 20)]
    TooLarge,
    /// A line is longer than [`Dataset::MAX_LINE_BYTES`]: not a CSV file
    /// (`/dev/zero`, a binary file), or one this program should not hold.
    #[error("line {line} is longer than {} MiB: is this a CSV file?", Dataset::MAX_LINE_BYTES >> 20)]
    LineTooLong {
        /// 1-based line number.
        line: u64,
    },
    /// The CSV layer could not parse a record (bad quoting, invalid UTF-8).
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: u64,
        /// The parser's message.
        message: String,
    },
    /// The file has no header row.
    #[error("the file is empty: expected a header row naming the feature columns and the label")]
    Empty,
    /// The header names fewer than two columns.
    #[error(
        "line 1: expected at least one feature column and a label column, found {found} column(s)"
    )]
    TooFewColumns {
        /// How many columns the header has.
        found: usize,
    },
    /// A row has a different number of fields from the header.
    #[error("line {line}: expected {expected} fields like the header, found {found}")]
    Ragged {
        /// 1-based line number.
        line: u64,
        /// The header's field count.
        expected: usize,
        /// This row's field count.
        found: usize,
    },
    /// A feature field is not a number.
    #[error("line {line}, column {column} ({name}): {text:?} is not a number")]
    NotANumber {
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The column's header name.
        name: String,
        /// The offending text.
        text: String,
    },
    /// A feature field is NaN or infinite.
    #[error("line {line}, column {column} ({name}): {value} is not a finite number")]
    NotFinite {
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The column's header name.
        name: String,
        /// The offending value.
        value: f64,
    },
    /// A feature's magnitude is above [`Dataset::MAX_ABS_FEATURE`].
    #[error(
        "line {line}, column {column} ({name}): {value:e} is beyond ±1e64, where the perceptron's sums of products could overflow; rescale the features"
    )]
    OutOfRange {
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The column's header name.
        name: String,
        /// The offending value.
        value: f64,
    },
    /// A feature held in memory (a generated dataset) is not finite or is
    /// above [`Dataset::MAX_ABS_FEATURE`].
    #[error(
        "row {row}, column {column} ({name}): {value:e} is not a finite number within ±1e64; rescale the features"
    )]
    FeatureOutOfRange {
        /// 1-based row number.
        row: usize,
        /// 1-based column number.
        column: usize,
        /// The column's name.
        name: String,
        /// The offending value.
        value: f64,
    },
    /// A label field is empty.
    #[error("line {line}, column {column} (label): the label is empty")]
    EmptyLabel {
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
    },
    /// Far more distinct labels than a classifier could use; reading stops
    /// here instead of holding every one.
    #[error(
        "line {line}: more than {} distinct labels; this perceptron separates exactly two classes",
        Dataset::MAX_DISTINCT_LABELS
    )]
    TooManyLabels {
        /// 1-based line of the label over the limit.
        line: u64,
    },
    /// There are no data rows.
    #[error("the file has a header but no data rows")]
    NoRows,
    /// Fewer than two distinct labels: nothing to classify.
    #[error("found {found} class(es) ({classes}); a classifier needs exactly two")]
    TooFewClasses {
        /// How many distinct labels there are.
        found: usize,
        /// The labels found.
        classes: String,
    },
    /// More than two distinct labels: this perceptron is binary.
    #[error("found {found} classes ({classes}); this perceptron separates exactly two")]
    TooManyClasses {
        /// How many distinct labels there are.
        found: usize,
        /// The labels found.
        classes: String,
    },
}

impl Dataset {
    /// The largest CSV input read, 256 MiB: bounds memory (the features take
    /// at most four times the file's size) whatever the input is.
    pub const MAX_CSV_BYTES: u64 = 256 << 20;

    /// The longest line read, 1 MiB: a stream with no line breaks
    /// (`/dev/zero`, a binary file) is rejected after 1 MiB, not after
    /// exhausting memory.
    pub const MAX_LINE_BYTES: u64 = 1 << 20;

    /// The largest feature magnitude accepted, 1e64. The perceptron's weights
    /// are sums of `eta0 · x` over at most `rows · max_iter` updates, stored
    /// divided by a scale of at least 1e-9, so a margin is bounded by
    /// `features · updates · eta0 · 1e9 · max|x|²`; with `|x|` and `eta0` at
    /// most 1e64 that is below 1e201 · `features · updates`, far from
    /// overflow (1.8e308). Above it products become infinite and then NaN,
    /// and a NaN margin compares as neither right nor wrong.
    pub const MAX_ABS_FEATURE: f64 = 1e64;

    /// Distinct labels held while reading before giving up: a classifier
    /// needs two, and a column of distinct values must not fill memory.
    pub const MAX_DISTINCT_LABELS: usize = 1000;

    /// Reads a dataset from CSV: a header row, numeric feature columns, the
    /// last column the label (any text).
    ///
    /// The input is read with bounds: at most [`Dataset::MAX_CSV_BYTES`],
    /// no line longer than [`Dataset::MAX_LINE_BYTES`], features within
    /// ±[`Dataset::MAX_ABS_FEATURE`].
    ///
    /// # Errors
    /// [`DatasetError`] naming the line and column at fault: ragged rows,
    /// non-numbers, NaN, infinities or magnitudes above 1e64, no rows, fewer
    /// or more than two classes, an input over the size limits.
    ///
    /// ```
    /// let csv = "x0,x1,y\n0.5,1.0,a\n-0.5,2.0,b\n";
    /// let data = proflab_perceptron::Dataset::from_csv(csv.as_bytes())?;
    /// assert_eq!(data.features.dim(), (2, 2));
    /// assert_eq!(data.classes, ["a", "b"]);
    /// # Ok::<(), proflab_perceptron::DatasetError>(())
    /// ```
    #[proflab::profile]
    pub fn from_csv(reader: impl Read) -> Result<Self, DatasetError> {
        let limited = Limited::new(reader, Self::MAX_CSV_BYTES, Self::MAX_LINE_BYTES);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(limited);
        let mut records = csv.records();
        let header = match records.next() {
            None => return Err(DatasetError::Empty),
            Some(record) => record.map_err(csv_error)?,
        };
        let columns = header.len();
        if columns < 2 {
            return Err(DatasetError::TooFewColumns { found: columns });
        }
        let feature_names: Vec<String> =
            header.iter().take(columns - 1).map(String::from).collect();
        let mut values = Vec::new();
        // Each row's label as an index into `names`: one word per row
        // instead of one string.
        let mut names: Vec<String> = Vec::new();
        let mut label_of_name = std::collections::HashMap::new();
        let mut label_indices: Vec<usize> = Vec::new();
        for record in records {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != columns {
                return Err(DatasetError::Ragged {
                    line,
                    expected: columns,
                    found: record.len(),
                });
            }
            for (index, (text, name)) in record.iter().zip(&feature_names).enumerate() {
                let column = index + 1;
                let value: f64 = text.parse().map_err(|_| DatasetError::NotANumber {
                    line,
                    column,
                    name: name.clone(),
                    text: text.to_owned(),
                })?;
                if !value.is_finite() {
                    return Err(DatasetError::NotFinite {
                        line,
                        column,
                        name: name.clone(),
                        value,
                    });
                }
                if value.abs() > Self::MAX_ABS_FEATURE {
                    return Err(DatasetError::OutOfRange {
                        line,
                        column,
                        name: name.clone(),
                        value,
                    });
                }
                values.push(value);
            }
            let label = &record[columns - 1];
            if label.is_empty() {
                return Err(DatasetError::EmptyLabel {
                    line,
                    column: columns,
                });
            }
            let index = match label_of_name.get(label) {
                Some(&index) => index,
                None => {
                    if names.len() == Self::MAX_DISTINCT_LABELS {
                        return Err(DatasetError::TooManyLabels { line });
                    }
                    names.push(label.to_owned());
                    label_of_name.insert(label.to_owned(), names.len() - 1);
                    names.len() - 1
                }
            };
            label_indices.push(index);
        }
        if label_indices.is_empty() {
            return Err(DatasetError::NoRows);
        }
        let features = Array2::from_shape_vec((label_indices.len(), columns - 1), values)
            .expect("one value per feature column was pushed for every row");
        let classes = two_classes(names.clone())?;
        let positive = names
            .iter()
            .map(|name| *name == classes[1])
            .collect::<Vec<_>>();
        Ok(Self {
            features,
            labels: label_indices
                .iter()
                .map(|&index| usize::from(positive[index]))
                .collect(),
            classes,
            feature_names,
        })
    }

    /// Reads a dataset from a CSV file; see [`Dataset::from_csv`].
    ///
    /// # Errors
    /// As [`Dataset::from_csv`], and when the file cannot be opened or is a
    /// folder.
    pub fn from_csv_path(path: &Path) -> Result<Self, DatasetError> {
        let io_error = |source| DatasetError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io_error)?;
        if file.metadata().map_err(io_error)?.is_dir() {
            return Err(DatasetError::Folder {
                path: path.display().to_string(),
            });
        }
        Self::from_csv(std::io::BufReader::new(file))
    }

    /// Builds a dataset from features and label names, sorting the classes
    /// and checking there are exactly two.
    ///
    /// # Errors
    /// [`DatasetError::TooFewClasses`] or [`DatasetError::TooManyClasses`].
    ///
    /// # Panics
    /// If `features` and `labels` differ in length.
    pub fn from_named_labels(
        features: Array2<f64>,
        labels: &[String],
        feature_names: Vec<String>,
    ) -> Result<Self, DatasetError> {
        assert_eq!(features.nrows(), labels.len(), "one label per row");
        let mut distinct: Vec<String> = labels.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let classes = two_classes(distinct)?;
        let labels = labels
            .iter()
            .map(|label| usize::from(*label == classes[1]))
            .collect();
        Ok(Self {
            features,
            labels,
            classes,
            feature_names,
        })
    }

    /// Checks that every feature is finite and within
    /// ±[`Dataset::MAX_ABS_FEATURE`], as [`Dataset::from_csv`] does for a
    /// file: for datasets built in memory (generated ones) before they are
    /// fitted or written.
    ///
    /// # Errors
    /// [`DatasetError::FeatureOutOfRange`] naming the first value at fault.
    ///
    /// ```
    /// use proflab_perceptron::Dataset;
    /// let data = Dataset::from_csv("x,y\n1,a\n2,b\n".as_bytes())?;
    /// assert!(data.check_features().is_ok());
    /// let mut huge = data.clone();
    /// huge.features[[1, 0]] = 1e308;
    /// assert!(huge.check_features().is_err());
    /// # Ok::<(), proflab_perceptron::DatasetError>(())
    /// ```
    pub fn check_features(&self) -> Result<(), DatasetError> {
        for ((row, column), &value) in self.features.indexed_iter() {
            if !(value.is_finite() && value.abs() <= Self::MAX_ABS_FEATURE) {
                return Err(DatasetError::FeatureOutOfRange {
                    row: row + 1,
                    column: column + 1,
                    name: self.feature_names.get(column).cloned().unwrap_or_default(),
                    value,
                });
            }
        }
        Ok(())
    }

    /// Writes the dataset as CSV: a header of the feature names and `y`, then
    /// one row per sample with its label name. Floats are written in their
    /// shortest round-trip form, so reading the file back gives the same data.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_csv(&self, writer: impl Write) -> std::io::Result<()> {
        let mut csv = csv::Writer::from_writer(writer);
        let header = self.feature_names.iter().map(String::as_str).chain(["y"]);
        csv.write_record(header)?;
        let mut fields = Vec::with_capacity(self.feature_names.len() + 1);
        for (row, &label) in self.features.rows().into_iter().zip(&self.labels) {
            fields.clear();
            fields.extend(row.iter().map(f64::to_string));
            fields.push(self.classes[label].clone());
            csv.write_record(&fields)?;
        }
        csv.flush()
    }

    /// How many samples each class has, in class order.
    #[must_use]
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &label in &self.labels {
            counts[label] += 1;
        }
        counts
    }
}

/// The distinct labels sorted (numerically when every one is a number), as
/// scikit-learn's `np.unique` orders them, checked to be exactly two.
fn two_classes(mut classes: Vec<String>) -> Result<Vec<String>, DatasetError> {
    classes.sort_unstable();
    classes.dedup();
    if classes.iter().all(|c| c.parse::<f64>().is_ok()) {
        classes.sort_by(|a, b| {
            let (a, b): (f64, f64) = (a.parse().unwrap_or(0.0), b.parse().unwrap_or(0.0));
            a.total_cmp(&b)
        });
    }
    match classes.len() {
        2 => Ok(classes),
        0 | 1 => Err(DatasetError::TooFewClasses {
            found: classes.len(),
            classes: classes.join(", "),
        }),
        found => Err(DatasetError::TooManyClasses {
            found,
            classes: classes.join(", "),
        }),
    }
}

/// Which bound of a [`Limited`] reader was crossed; carried inside the
/// `io::Error` the reader returns, so the CSV layer's error can be told
/// apart from a real I/O failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum LimitExceeded {
    #[error("input over the size limit")]
    Total,
    #[error("line {0} over the length limit")]
    Line(u64),
}

/// A reader that fails once more than `max_total` bytes have been read, or
/// a line runs past `max_line` bytes, so that reading never holds more
/// than the limits whatever the source (`/dev/zero`, a pipe that never ends).
struct Limited<R> {
    inner: R,
    remaining: u64,
    max_line: u64,
    line_length: u64,
    line: u64,
}

impl<R> Limited<R> {
    fn new(inner: R, max_total: u64, max_line: u64) -> Self {
        Self {
            inner,
            remaining: max_total,
            max_line,
            line_length: 0,
            line: 1,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let limit_error = |which| std::io::Error::new(std::io::ErrorKind::InvalidData, which);
        // One byte past the limit is asked for, to tell "exactly at the
        // limit" from "over it".
        let allowed = usize::try_from(self.remaining.saturating_add(1)).unwrap_or(usize::MAX);
        let wanted = buf.len().min(allowed);
        let read = self.inner.read(&mut buf[..wanted])?;
        if read as u64 > self.remaining {
            return Err(limit_error(LimitExceeded::Total));
        }
        self.remaining -= read as u64;
        let mut segments = buf[..read].split(|&byte| byte == b'\n');
        if let Some(first) = segments.next() {
            self.line_length += first.len() as u64;
        }
        for segment in segments {
            if self.line_length > self.max_line {
                break;
            }
            self.line += 1;
            self.line_length = segment.len() as u64;
        }
        if self.line_length > self.max_line {
            return Err(limit_error(LimitExceeded::Line(self.line)));
        }
        Ok(read)
    }
}

fn csv_error(error: csv::Error) -> DatasetError {
    if let csv::ErrorKind::Io(io) = error.kind()
        && let Some(limit) = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
    {
        return match *limit {
            LimitExceeded::Total => DatasetError::TooLarge,
            LimitExceeded::Line(line) => DatasetError::LineTooLong { line },
        };
    }
    let line = error.position().map_or(0, csv::Position::line);
    DatasetError::Csv {
        line,
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Dataset, DatasetError> {
        Dataset::from_csv(text.as_bytes())
    }

    #[test]
    fn reads_features_and_arbitrary_labels() {
        let data = parse("a,b,label\n1,2,spam\n3,4.5,ham\n5,6,spam\n").expect("valid csv");
        assert_eq!(
            data.features,
            ndarray::arr2(&[[1.0, 2.0], [3.0, 4.5], [5.0, 6.0]])
        );
        assert_eq!(data.classes, ["ham", "spam"]);
        assert_eq!(data.labels, [1, 0, 1]);
        assert_eq!(data.feature_names, ["a", "b"]);
    }

    #[test]
    fn numeric_labels_sort_numerically() {
        let data = parse("x,y\n1,10\n2,9\n").expect("valid csv");
        assert_eq!(data.classes, ["9", "10"]);
    }

    #[test]
    fn ragged_rows_name_their_line() {
        let error = parse("a,b,y\n1,2,0\n1,1\n").unwrap_err();
        assert!(
            matches!(
                error,
                DatasetError::Ragged {
                    line: 3,
                    expected: 3,
                    found: 2
                }
            ),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            "line 3: expected 3 fields like the header, found 2"
        );
    }

    #[test]
    fn non_numbers_name_line_and_column() {
        let error = parse("a,b,y\n1,2,0\n1,x7,1\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 3, column 2 (b): \"x7\" is not a number"
        );
    }

    #[test]
    fn nan_and_infinity_are_rejected() {
        for bad in ["NaN", "inf", "-inf"] {
            let error = parse(&format!("a,y\n1,0\n{bad},1\n")).unwrap_err();
            assert!(
                matches!(
                    error,
                    DatasetError::NotFinite {
                        line: 3,
                        column: 1,
                        ..
                    }
                ),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn one_class_only_is_rejected() {
        let error = parse("a,y\n1,0\n2,0\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "found 1 class(es) (0); a classifier needs exactly two"
        );
    }

    #[test]
    fn three_classes_are_rejected() {
        let error = parse("a,y\n1,0\n2,1\n3,2\n").unwrap_err();
        assert!(
            matches!(error, DatasetError::TooManyClasses { found: 3, .. }),
            "{error}"
        );
    }

    #[test]
    fn empty_files_headers_without_rows_and_empty_labels_are_rejected() {
        assert!(matches!(parse("").unwrap_err(), DatasetError::Empty));
        assert!(matches!(parse("a,y\n").unwrap_err(), DatasetError::NoRows));
        assert!(matches!(
            parse("y\n1\n").unwrap_err(),
            DatasetError::TooFewColumns { found: 1 }
        ));
        assert!(matches!(
            parse("a,y\n1,\n").unwrap_err(),
            DatasetError::EmptyLabel { line: 2, column: 2 }
        ));
    }

    #[test]
    fn writing_then_reading_gives_the_same_dataset() {
        let data = parse("f0,f1,y\n0.1,-2.5e-307,a\n-1e64,3,b\n").expect("valid csv");
        let mut bytes = Vec::new();
        data.write_csv(&mut bytes).expect("write to memory");
        assert_eq!(
            parse(std::str::from_utf8(&bytes).expect("utf-8")).expect("round trip"),
            data
        );
    }

    #[test]
    fn features_beyond_1e64_are_rejected_with_their_line_and_column() {
        let error = parse("a,b,y\n1,2,0\n1,-1e308,1\n").unwrap_err();
        assert!(
            matches!(error, DatasetError::OutOfRange { line: 3, column: 2, value, .. } if value == -1e308),
            "{error}"
        );
        assert!(error.to_string().contains("rescale"), "{error}");
        assert!(parse("a,y\n1e64,0\n-1e64,1\n").is_ok());
    }

    #[test]
    fn generated_features_are_checked_like_read_ones() {
        let mut data = parse("a,b,y\n1,2,0\n3,4,1\n").expect("valid csv");
        assert!(data.check_features().is_ok());
        data.features[[1, 1]] = f64::NAN;
        let error = data.check_features().unwrap_err();
        assert!(
            matches!(
                error,
                DatasetError::FeatureOutOfRange {
                    row: 2,
                    column: 2,
                    ..
                }
            ),
            "{error}"
        );
        data.features[[1, 1]] = 2e64;
        assert!(data.check_features().is_err());
    }

    #[test]
    fn the_limited_reader_stops_at_either_bound() {
        let read_all = |text: &[u8], total, line| {
            let mut out = Vec::new();
            Limited::new(text, total, line)
                .read_to_end(&mut out)
                .map(|_| out)
                .map_err(|e| {
                    *e.get_ref()
                        .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
                        .expect("a limit error")
                })
        };
        assert_eq!(read_all(b"ab\ncd\n", 6, 2), Ok(b"ab\ncd\n".to_vec()));
        assert_eq!(read_all(b"ab\ncd\n", 5, 2), Err(LimitExceeded::Total));
        assert_eq!(read_all(b"ab\ncde\nf", 100, 2), Err(LimitExceeded::Line(2)));
        assert_eq!(read_all(b"abc", 100, 2), Err(LimitExceeded::Line(1)));
        // A stream with no line breaks fails after the line limit, however
        // long it would go on.
        let zeros = std::io::repeat(0).take(1 << 40);
        let error = Dataset::from_csv(zeros).unwrap_err();
        assert!(
            matches!(error, DatasetError::LineTooLong { line: 1 }),
            "{error}"
        );
    }

    #[test]
    fn a_column_of_distinct_labels_stops_at_the_limit() {
        let mut text = String::from("x,y\n");
        for i in 0..=Dataset::MAX_DISTINCT_LABELS {
            text.push_str(&format!("{i},label{i}\n"));
        }
        let error = parse(&text).unwrap_err();
        let last_line = Dataset::MAX_DISTINCT_LABELS as u64 + 2;
        assert!(
            matches!(error, DatasetError::TooManyLabels { line } if line == last_line),
            "{error}"
        );
    }

    #[test]
    fn folders_and_missing_files_are_named_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = Dataset::from_csv_path(dir.path()).unwrap_err();
        assert!(matches!(error, DatasetError::Folder { .. }), "{error}");
        assert!(error.to_string().ends_with("is a folder, not a CSV file"));
        let missing = dir.path().join("missing.csv");
        let error = Dataset::from_csv_path(&missing).unwrap_err();
        // The OS's reason is the error's source, not repeated in its message.
        assert_eq!(
            error.to_string(),
            format!("cannot read {}", missing.display())
        );
        assert!(std::error::Error::source(&error).is_some());
    }
}
