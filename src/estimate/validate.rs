//! What an estimate refuses before it touches a device: the data's shape and values and every
//! setting, each with its own [`InputError`] and one readable line.

/// Why the data or a setting cannot be used. Every message is one line that names the input
/// (x or y), the row and column or the setting, and what would be accepted.
///
/// A user's data and device are hostile: infobound answers each problem with an error of its
/// own rather than a panic or a silently wrong number. Bad input is
/// `Error::Input(InputError::…)`, checked before any device is opened (the command line exits
/// 2 for it, and 1 for a failure while running). What is refused, with an example of each
/// message (after `invalid input: `):
///
/// | input | message |
/// |---|---|
/// | no rows | `x has no rows` |
/// | x and y of different lengths | `x has 6 rows but y has 5; they must pair up row for row` |
/// | no columns | `a matrix has no columns` |
/// | a flat buffer that is not rows × cols | `12 values do not make a 4 × 2 matrix` |
/// | NaN or ±∞ anywhere (the first, row-major) | `y has a non-finite value (inf) at row 2, column 0` |
/// | a constant column (on the training rows) | `column 1 of y is constant on the training rows; remove it` |
/// | too few rows for a batch after the split | `3 training rows are fewer than one batch of 4; lower the batch or the test fraction, or add rows` (also `held-out`) |
/// | batch < 2 | `the batch needs at least 2 pairs, not 1` |
/// | learning rate ≤ 0, NaN or ∞ | `the learning rate must be positive and finite, not -1` |
/// | SMILE τ ≤ 0 or not finite | `SMILE's τ must be positive and finite, not 0` |
/// | α-InfoNCE α ∉ (0, 1); MINE γ ∉ (0, 1) | `α-InfoNCE's α must be in (0, 1), not 1.5` |
/// | zero steps, eval_every, eval_batches, average_last or chunk | `steps must be positive, not 0` |
/// | test fraction ∉ \[0, 1) | `the test fraction must be in [0, 1), not 1` |
/// | Adam β ∉ \[0, 1), ε ≤ 0, weight decay < 0 | `Adam's β1 must be in [0, 1), not 1` |
/// | zero widths | `hidden widths must be positive, not 0`, `the embedding width must be positive, not 0` |
/// | InfoNCE or α-InfoNCE on the shuffled critic | `infonce needs the full score matrix: use the separable or concat critic` |
///
/// A constant column is refused, not dropped: it carries no information, standardising it
/// would divide by zero, and dropping it silently would change the data the user thinks they
/// gave.
///
/// Files ([`crate::estimate::io`]) are refused with the file, line and column named: a missing or
/// unreadable file, a `.npy` that is not float32/float64, 1-D/2-D, or whose data bytes
/// disagree with its shape (the length is checked before anything is allocated, so a header
/// that claims terabytes costs nothing), ragged or non-numeric CSV, a CSV with no data rows.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A matrix with no rows.
    #[error("{name} has no rows")]
    Empty {
        /// "x" or "y".
        name: String,
    },
    /// x and y do not pair up row for row.
    #[error("x has {x} rows but y has {y}; they must pair up row for row")]
    RowMismatch {
        /// Rows of x.
        x: usize,
        /// Rows of y.
        y: usize,
    },
    /// A matrix with no columns.
    #[error("{name} has no columns")]
    NoColumns {
        /// Which matrix.
        name: String,
    },
    /// A flat buffer whose length is not rows × cols.
    #[error("{len} values do not make a {rows} × {cols} matrix")]
    Shape {
        /// Values given.
        len: usize,
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
    },
    /// A NaN or infinity in the data (the first one, row-major).
    #[error("{name} has a non-finite value ({value}) at row {row}, column {col}")]
    NotFinite {
        /// "x" or "y".
        name: String,
        /// Its row (0-based).
        row: usize,
        /// Its column (0-based).
        col: usize,
        /// The value (NaN, inf or -inf).
        value: f32,
    },
    /// A column with no spread on the training rows: it carries no information and cannot be
    /// standardised, so it is refused rather than silently dropped.
    #[error("column {col} of {name} is constant on the training rows; remove it")]
    ConstantColumn {
        /// "x" or "y".
        name: String,
        /// The column (0-based).
        col: usize,
    },
    /// Too few rows, after the train/test split, to draw one batch.
    #[error(
        "{rows} {split} rows are fewer than one batch of {batch}; \
         lower the batch or the test fraction, or add rows"
    )]
    TooFewRows {
        /// "training" or "held-out".
        split: &'static str,
        /// Rows in that split.
        rows: usize,
        /// The batch asked for.
        batch: usize,
    },
    /// A run option no backend supports yet (more than one replica; a whole-split
    /// evaluation on a backend without one).
    #[error("{reason}")]
    Backend {
        /// The backend's refusal.
        reason: String,
    },
    /// A matrix that must pair up with y sample for sample and does not.
    #[error("{name} is {rows} × {cols} but y is {y_rows} × {y_cols}: {why}")]
    Mismatch {
        /// Which matrix.
        name: &'static str,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
        /// Rows of y.
        y_rows: usize,
        /// Columns of y.
        y_cols: usize,
        /// What needs them to match.
        why: &'static str,
    },
    /// A value that must be positive and is not (the row and column 1-based).
    #[error("{name} must be positive; row {row}, column {col} is {value}")]
    NotPositive {
        /// Which matrix.
        name: &'static str,
        /// The row, 1-based.
        row: usize,
        /// The column, 1-based.
        col: usize,
        /// The value.
        value: f32,
    },
    /// A block size outside 2..=samples.
    #[error("the block size must be in 2..={samples} (the samples), not {block}")]
    BlockSize {
        /// The block asked for.
        block: usize,
        /// The samples.
        samples: usize,
    },
    /// Densities that underflow f32 on a block of rows.
    #[error(
        "the sandwich's {side} bound is not finite in f32 on rows {first}..{last}: the \
         densities underflow; standardise y or use the CPU reference"
    )]
    Underflow {
        /// "lower" or "upper".
        side: &'static str,
        /// The block's first row, 1-based.
        first: usize,
        /// Its last row, 1-based.
        last: usize,
    },
    /// A batch of fewer than two pairs has no negatives.
    #[error("the batch needs at least 2 pairs, not {batch}")]
    BatchTooSmall {
        /// The batch asked for.
        batch: usize,
    },
    /// Column groups of an MI matrix that cannot be used.
    #[error("column groups: {reason}")]
    ColumnGroups {
        /// What is wrong with them.
        reason: String,
    },
    /// A setting out of its range or not finite.
    #[error("{setting} must be {expected}, not {value}")]
    Setting {
        /// The setting's name.
        setting: &'static str,
        /// Its valid range, in words.
        expected: &'static str,
        /// The value given.
        value: String,
    },
    /// A bound and a critic that do not go together: Barber–Agakov trains a decoder, and the
    /// decoder critic trains nothing else.
    #[error(
        "{bound} with the {critic} critic: Barber–Agakov (ba) trains a decoder (critic \
         `decoder`) and the decoder critic trains only Barber–Agakov"
    )]
    CriticMismatch {
        /// The bound's name.
        bound: &'static str,
        /// The critic's name.
        critic: &'static str,
    },
    /// A statistic that bounds I only with the true log-density as its critic, never with a
    /// learned one.
    #[error(
        "{bound} bounds I only with the true log-density as critic (infobound::Sandwich), not \
         with a learned critic"
    )]
    NeedsTrueDensity {
        /// The bound's name.
        bound: &'static str,
    },
    /// A bound that needs every pair's score, with a critic that scores only K negatives.
    #[error("{bound} needs the full score matrix: use the separable or concat critic")]
    NeedsFullMatrix {
        /// The bound's name.
        bound: &'static str,
    },
}

pub(crate) fn setting(
    setting: &'static str,
    expected: &'static str,
    value: impl ToString,
) -> InputError {
    InputError::Setting {
        setting,
        expected,
        value: value.to_string(),
    }
}

/// Fails unless `ok`, with [`InputError::Setting`].
pub(crate) fn require(
    ok: bool,
    name: &'static str,
    expected: &'static str,
    value: impl ToString,
) -> Result<(), InputError> {
    if ok {
        Ok(())
    } else {
        Err(setting(name, expected, value))
    }
}

/// A warning for an estimate below zero: mutual information never is, so a negative bound means
/// the critic did not learn (too few steps) or training ran away without overflowing (a
/// learning rate too high); the number is reported, but not silently.
pub(crate) fn negative_estimate(mi: f64) -> Option<String> {
    (mi < 0.0).then(|| {
        format!(
            "the estimate {mi:.4} nats is negative, but mutual information is not: the critic \
             did not train well; train longer or lower the learning rate"
        )
    })
}
