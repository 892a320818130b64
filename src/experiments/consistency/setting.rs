//! Song & Ermon's (2020) four self-consistency settings: what X and Y are, and what the ratio
//! of estimates should be.

/// One of the self-consistency settings, for a row count t (Y sees the top t rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// X is an image, Y its top t rows. I(X; Y_t) cannot fall as t grows (data processing:
    /// Y_t is a function of Y_{t+1}); shown as the ratio to the estimate at the largest t.
    Baseline,
    /// X is an image, Y the top t rows of a different image paired at random: I = 0, shown as
    /// the ratio to the baseline at the same t (ideal 0).
    Independence,
    /// X = (image, image), Y = (top t rows, top t rows): the copies add nothing, so the
    /// ratio to the baseline should be 1.
    DataProcessing,
    /// Two independent images side by side, X = (a, b), Y = (top t of a, top t of b): the
    /// information adds, so the ratio to the baseline should be 2.
    Additivity,
}

impl Setting {
    /// Every setting, in the paper's order (baseline first: the others are ratios to it).
    pub const ALL: [Setting; 4] = [
        Setting::Baseline,
        Setting::Independence,
        Setting::DataProcessing,
        Setting::Additivity,
    ];

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Baseline => "baseline",
            Setting::Independence => "independence",
            Setting::DataProcessing => "data-processing",
            Setting::Additivity => "additivity",
        }
    }

    /// The setting called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name.trim())
    }

    /// A line of help: X, Y and what the ratio should be.
    pub fn about(self) -> &'static str {
        match self {
            Setting::Baseline => {
                "X = image, Y = its top t rows; ratio to the largest t, must not fall as t grows"
            }
            Setting::Independence => {
                "X = image, Y = top t rows of another image; ratio to the baseline, ideal 0"
            }
            Setting::DataProcessing => {
                "X = (image, image), Y = (top t, top t); ratio to the baseline, ideal 1"
            }
            Setting::Additivity => {
                "X = (a, b) independent, Y = (top t of a, top t of b); ratio to the baseline, ideal 2"
            }
        }
    }

    /// The ratio's ideal value: 1 for the baseline (its value at the largest t, which it must
    /// climb to without falling), 0 for independence, 1 for data processing, 2 for
    /// additivity.
    pub fn ideal(self) -> f64 {
        match self {
            Setting::Baseline | Setting::DataProcessing => 1.0,
            Setting::Independence => 0.0,
            Setting::Additivity => 2.0,
        }
    }

    /// How many images a row of X holds: two for data processing and additivity.
    pub fn images_a_row(self) -> usize {
        match self {
            Setting::Baseline | Setting::Independence => 1,
            Setting::DataProcessing | Setting::Additivity => 2,
        }
    }
}
