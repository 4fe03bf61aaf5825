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
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: String,
        /// The underlying error.
        source: std::io::Error,
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
    /// A label field is empty.
    #[error("line {line}, column {column} (label): the label is empty")]
    EmptyLabel {
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
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
    /// Reads a dataset from CSV: a header row, numeric feature columns, the
    /// last column the label (any text).
    ///
    /// # Errors
    /// [`DatasetError`] naming the line and column at fault: ragged rows,
    /// non-numbers, NaN or infinities, no rows, fewer or more than two classes.
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
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(reader);
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
        let mut raw_labels = Vec::new();
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
                values.push(value);
            }
            let label = &record[columns - 1];
            if label.is_empty() {
                return Err(DatasetError::EmptyLabel {
                    line,
                    column: columns,
                });
            }
            raw_labels.push(label.to_owned());
        }
        if raw_labels.is_empty() {
            return Err(DatasetError::NoRows);
        }
        let features = Array2::from_shape_vec((raw_labels.len(), columns - 1), values)
            .expect("one value per feature column was pushed for every row");
        Self::from_named_labels(features, &raw_labels, feature_names)
    }

    /// Reads a dataset from a CSV file; see [`Dataset::from_csv`].
    ///
    /// # Errors
    /// As [`Dataset::from_csv`], and when the file cannot be opened.
    pub fn from_csv_path(path: &Path) -> Result<Self, DatasetError> {
        let file = std::fs::File::open(path).map_err(|source| DatasetError::Io {
            path: path.display().to_string(),
            source,
        })?;
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
        let mut classes: Vec<String> = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        if classes.iter().all(|c| c.parse::<f64>().is_ok()) {
            classes.sort_by(|a, b| {
                let (a, b): (f64, f64) = (a.parse().unwrap_or(0.0), b.parse().unwrap_or(0.0));
                a.total_cmp(&b)
            });
        }
        let listed = classes.join(", ");
        match classes.len() {
            0 | 1 => {
                return Err(DatasetError::TooFewClasses {
                    found: classes.len(),
                    classes: listed,
                });
            }
            2 => {}
            found => {
                return Err(DatasetError::TooManyClasses {
                    found,
                    classes: listed,
                });
            }
        }
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

fn csv_error(error: csv::Error) -> DatasetError {
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
        let data = parse("f0,f1,y\n0.1,-2.5e-7,a\n1e300,3,b\n").expect("valid csv");
        let mut bytes = Vec::new();
        data.write_csv(&mut bytes).expect("write to memory");
        assert_eq!(
            parse(std::str::from_utf8(&bytes).expect("utf-8")).expect("round trip"),
            data
        );
    }
}
