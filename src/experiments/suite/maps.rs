//! bmi's invertible maps (Czyż et al., 2023, "Beyond normal", §4 "Transformed distributions";
//! bmi's `transforms/simple.py`, `tasks/wiggly.py`, `transforms/_rotate.py`). I(f(X); g(Y)) =
//! I(X; Y) for injective f, g, so a mapped task keeps its base's MI and only gets harder.
//!
//! The coordinatewise maps are strictly increasing (tests/suite.rs checks each on a grid);
//! the spiral is a rotation whose angle depends only on the norm, which it preserves, so its
//! inverse is the opposite rotation ([`spiral_inverse`]).

use super::special::normal_cdf;

/// bmi's half-cube x ↦ x √|x| (a signed x^{3/2}): lengthens the tails.
pub fn half_cube(x: f64) -> f64 {
    x * x.abs().sqrt()
}

/// bmi's `wiggly_x`: x + 0.4 sin x + 0.2 sin(1.7x + 1) + 0.03 sin(3.3x − 2.5). Strictly
/// increasing: its derivative is at least 1 − 0.4 − 0.34 − 0.099 = 0.161.
pub fn wiggly_x(x: f64) -> f64 {
    x + 0.4 * x.sin() + 0.2 * (1.7 * x + 1.0).sin() + 0.03 * (3.3 * x - 2.5).sin()
}

/// bmi's `wiggly_y`: y − 0.4 sin(0.4y) + 0.17 sin(1.3y + 3.5) + 0.02 sin(4.3y − 2.5). Strictly
/// increasing: its derivative is at least 1 − 0.16 − 0.221 − 0.086 = 0.533.
pub fn wiggly_y(y: f64) -> f64 {
    y - 0.4 * (0.4 * y).sin() + 0.17 * (1.3 * y + 3.5).sin() + 0.02 * (4.3 * y - 2.5).sin()
}

/// bmi's spiral v ↦ exp(s ‖v‖² A) v with A the canonical so(d) generator of the plane (i, j)
/// (A_ij = −1, A_ji = 1): a rotation of coordinates i and j by the angle s ‖v‖².
pub fn spiral(v: &mut [f64], i: usize, j: usize, speed: f64) {
    let angle = speed * v.iter().map(|a| a * a).sum::<f64>();
    rotate(v, i, j, angle);
}

/// The inverse of [`spiral`]: the rotation keeps ‖v‖, so the angle is known from the output
/// and the rotation is undone by its opposite.
pub fn spiral_inverse(v: &mut [f64], i: usize, j: usize, speed: f64) {
    let angle = speed * v.iter().map(|a| a * a).sum::<f64>();
    rotate(v, i, j, -angle);
}

/// Rotates coordinates (i, j) of `v` by `angle`: exp(angle · A) for the generator A above.
fn rotate(v: &mut [f64], i: usize, j: usize, angle: f64) {
    let (s, c) = angle.sin_cos();
    let (a, b) = (v[i], v[j]);
    v[i] = c * a - s * b;
    v[j] = s * a + c * b;
}

/// Which side of the pair a map is applied to (the wiggly and spiral maps differ by side).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Side {
    /// x.
    X,
    /// y.
    Y,
}

/// An invertible map applied to every row of x and of y of a base task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Map {
    /// [`half_cube`] of every coordinate.
    HalfCube,
    /// asinh of every coordinate: compresses the tails (bmi applies it to Student-t tasks).
    Asinh,
    /// Φ(v_i / σ_i) of every coordinate, σ_i the base's marginal scale: uniform marginals.
    /// bmi applies Φ to the unscaled coordinate; here it is scaled first because in f32
    /// Φ(v) rounds to exactly 1 above v ≈ 5.3, which a variance-5 coordinate (bmi's sparse
    /// Gaussian) passes 0.9 % of the time, and those ties would lose information.
    NormalCdf,
    /// [`wiggly_x`] of every x coordinate and [`wiggly_y`] of every y coordinate.
    Wiggly,
    /// [`spiral`] in the plane (0, 1) of x and (1, 2) of y, at speed 1/d for a d-dimensional
    /// side (bmi's `transform_spiral_task` with speed 1 and `normalize_speed`; for d = 3 this
    /// is also the earlier fixed speed 1/3). Needs dx ≥ 2 and dy ≥ 3, as bmi's.
    Spiral,
}

impl Map {
    /// The map's name as task names use it.
    pub fn name(self) -> &'static str {
        match self {
            Map::HalfCube => "half-cube",
            Map::Asinh => "asinh",
            Map::NormalCdf => "normal-cdf",
            Map::Wiggly => "wiggly",
            Map::Spiral => "spiral",
        }
    }

    /// The least (dx, dy) the map is defined for.
    pub fn min_dims(self) -> (usize, usize) {
        match self {
            Map::Spiral => (2, 3),
            _ => (1, 1),
        }
    }

    /// Maps one row `v` of side `side` in place; `scale` holds the base's marginal scales of
    /// that side (used by [`Map::NormalCdf`] only). `v` must have at least
    /// [`Self::min_dims`] coordinates for its side.
    pub fn apply(self, side: Side, v: &mut [f64], scale: &[f64]) {
        match self {
            Map::HalfCube => v.iter_mut().for_each(|a| *a = half_cube(*a)),
            Map::Asinh => v.iter_mut().for_each(|a| *a = a.asinh()),
            Map::NormalCdf => v
                .iter_mut()
                .zip(scale)
                .for_each(|(a, s)| *a = normal_cdf(*a / s)),
            Map::Wiggly => {
                let w = match side {
                    Side::X => wiggly_x,
                    Side::Y => wiggly_y,
                };
                v.iter_mut().for_each(|a| *a = w(*a));
            }
            Map::Spiral => {
                let speed = 1.0 / v.len() as f64;
                match side {
                    Side::X => spiral(v, 0, 1, speed),
                    Side::Y => spiral(v, 1, 2, speed),
                }
            }
        }
    }
}
