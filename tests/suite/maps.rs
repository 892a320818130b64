//! The maps are invertible as claimed, so a mapped task keeps its base's MI.

use infobound::experiments::suite::maps::{half_cube, spiral, spiral_inverse, Side};
use infobound::experiments::suite::{grid, Map, Task};

/// f applied to a one-coordinate row through [`Map::apply`].
fn scalar(map: Map, side: Side, v: f64) -> f64 {
    let mut row = [v];
    map.apply(side, &mut row, &[1.0]);
    row[0]
}

#[test]
fn coordinatewise_maps_are_strictly_increasing() {
    // Φ's f64 values near 1 are 1.1e-16 apart, so at this grid's spacing it resolves as
    // increasing up to about 7 standard units (the map scales to standard units first; a
    // draw beyond 6 has probability 2e-9); the others are checked on [−20, 20].
    for (map, lo, hi) in [
        (Map::HalfCube, -20.0, 20.0),
        (Map::Asinh, -20.0, 20.0),
        (Map::NormalCdf, -8.0, 6.0),
        (Map::Wiggly, -20.0, 20.0),
    ] {
        for side in [Side::X, Side::Y] {
            let k = 400_000;
            let mut prev = f64::NEG_INFINITY;
            for i in 0..=k {
                let v = lo + (hi - lo) * i as f64 / k as f64;
                let f = scalar(map, side, v);
                assert!(
                    f > prev,
                    "{map:?} {side:?} not increasing at {v}: {f} ≤ {prev}"
                );
                prev = f;
            }
        }
    }
    // The derivatives' lower bounds stated in the docs (0.161 and 0.533), by differences.
    let h = 1e-6;
    let slope =
        |side, v: f64| (scalar(Map::Wiggly, side, v + h) - scalar(Map::Wiggly, side, v)) / h;
    let min_x = (0..200_000)
        .map(|i| slope(Side::X, -50.0 + i as f64 * 5e-4))
        .fold(f64::INFINITY, f64::min);
    let min_y = (0..200_000)
        .map(|i| slope(Side::Y, -50.0 + i as f64 * 5e-4))
        .fold(f64::INFINITY, f64::min);
    assert!(min_x >= 0.161 && min_y >= 0.533, "slopes {min_x} {min_y}");
    assert_eq!(half_cube(-4.0), -8.0);
    assert_eq!(scalar(Map::NormalCdf, Side::X, 0.0), 0.5);
}

#[test]
fn the_spiral_is_undone_by_its_inverse_and_keeps_the_norm() {
    let mut s = infobound::math::rng::Stream::new(3, infobound::math::rng::Purpose::Proposal);
    for d in [3usize, 5] {
        for _ in 0..1000 {
            let v: Vec<f64> = (0..d).map(|_| 3.0 * f64::from(s.next_normal())).collect();
            let norm = v.iter().map(|a| a * a).sum::<f64>();
            for (i, j) in [(0, 1), (1, 2)] {
                let mut w = v.clone();
                spiral(&mut w, i, j, 1.0 / d as f64);
                assert!((w.iter().map(|a| a * a).sum::<f64>() - norm).abs() < 1e-9 * norm.max(1.0));
                // Only the plane (i, j) moves.
                for k in (0..d).filter(|&k| k != i && k != j) {
                    assert_eq!(w[k], v[k]);
                }
                spiral_inverse(&mut w, i, j, 1.0 / d as f64);
                for (a, b) in w.iter().zip(&v) {
                    assert!((a - b).abs() < 1e-10, "{w:?} vs {v:?}");
                }
            }
        }
    }
    // A quarter turn at speed π/2 on the unit vector, as bmi's docstring example.
    let mut e = [1.0, 0.0];
    spiral(&mut e, 0, 1, std::f64::consts::FRAC_PI_2);
    assert!(e[0].abs() < 1e-15 && (e[1] - 1.0).abs() < 1e-15);
}

/// Sample covariance of the columns of [x | y] (zero mean known).
fn covariance(x: &[f32], y: &[f32], dx: usize, dy: usize, n: usize) -> Vec<f64> {
    let m = dx + dy;
    let at = |r: usize, c: usize| {
        f64::from(if c < dx {
            x[r * dx + c]
        } else {
            y[r * dy + c - dx]
        })
    };
    (0..m * m)
        .map(|k| (0..n).map(|r| at(r, k / m) * at(r, k % m)).sum::<f64>() / n as f64)
        .collect()
}

#[test]
fn mapped_samples_invert_to_the_base_gaussian() {
    // Undoing the half-cube and the spiral on a mapped task's draws gives back draws of the
    // base law: the sample covariance matches bmi's sparse covariance within 5 standard errors.
    let (d, n) = (3, 40_000);
    let base = Task::gaussian_sparse(d).unwrap();
    let want = match base.law() {
        infobound::experiments::suite::Law::Gaussian { cov } => cov.clone(),
        _ => unreachable!(),
    };
    for map in [Map::HalfCube, Map::Spiral] {
        let task = Task::mapped(&base, map).unwrap();
        let (mut x, mut y) = task.sample(n, 5).unwrap();
        for (v, dim, side) in [(&mut x, d, Side::X), (&mut y, d, Side::Y)] {
            for row in v.chunks_exact_mut(dim) {
                let mut r: Vec<f64> = row.iter().map(|&a| f64::from(a)).collect();
                match (map, side) {
                    (Map::HalfCube, _) => r
                        .iter_mut()
                        .for_each(|a| *a = a.signum() * a.abs().powf(2.0 / 3.0)),
                    (_, Side::X) => spiral_inverse(&mut r, 0, 1, 1.0 / dim as f64),
                    _ => spiral_inverse(&mut r, 1, 2, 1.0 / dim as f64),
                }
                for (a, b) in row.iter_mut().zip(&r) {
                    *a = *b as f32;
                }
            }
        }
        let got = covariance(&x, &y, d, d, n);
        let m = 2 * d;
        for i in 0..m {
            for j in 0..m {
                let w = want[i * m + j];
                let se = ((want[i * m + i] * want[j * m + j] + w * w) / n as f64).sqrt();
                assert!(
                    (got[i * m + j] - w).abs() < 5.0 * se,
                    "{map:?} Σ[{i}][{j}] {} vs {w}",
                    got[i * m + j]
                );
            }
        }
    }
}

#[test]
fn mapped_draws_keep_their_values_apart_in_f32() {
    // An injective map can still merge values when its f32 output rounds; Φ would (above
    // 5.3 standard units) without its scaling. Ties per column stay as rare as in the base.
    let n = 10_000;
    for task in grid::full()
        .iter()
        .filter(|t| matches!(t.law(), infobound::experiments::suite::Law::Mapped { .. }))
    {
        let (x, y) = task.sample(n, 0).unwrap();
        let (dx, dy) = task.dims();
        for (v, dim) in [(&x, dx), (&y, dy)] {
            for c in 0..dim {
                let mut col: Vec<u32> =
                    v.iter().skip(c).step_by(dim).map(|a| a.to_bits()).collect();
                col.sort_unstable();
                col.dedup();
                let ties = n - col.len();
                assert!(ties <= 10, "{} column {c}: {ties} tied values", task.name());
            }
        }
    }
}
