//! Every generator is a pure function of (task, n, seed), and no two tasks share draws.

use infobound::experiments::suite::{grid, Task};

/// The bits of a sample, for exact comparison (NaN-safe, −0 ≠ +0).
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|a| a.to_bits()).collect()
}

#[test]
fn same_seed_same_bits_different_seed_different_draws() {
    for task in grid::full() {
        let (dx, dy) = task.dims();
        let (x, y) = task.sample(300, 7).unwrap();
        assert_eq!((x.len(), y.len()), (300 * dx, 300 * dy), "{}", task.name());
        assert!(x.iter().chain(&y).all(|v| v.is_finite()), "{}", task.name());
        let (x2, y2) = task.sample(300, 7).unwrap();
        assert_eq!(
            (bits(&x), bits(&y)),
            (bits(&x2), bits(&y2)),
            "{}",
            task.name()
        );
        let (x3, y3) = task.sample(300, 8).unwrap();
        assert_ne!(bits(&x), bits(&x3), "{}", task.name());
        assert_ne!(bits(&y), bits(&y3), "{}", task.name());
        // Rows are drawn by index: fewer rows are a prefix of more.
        let (x4, y4) = task.sample(100, 7).unwrap();
        assert_eq!(bits(&x4), bits(&x[..100 * dx]), "{}", task.name());
        assert_eq!(bits(&y4), bits(&y[..100 * dy]), "{}", task.name());
    }
}

#[test]
fn tasks_do_not_share_draws() {
    // With one key, x of these two tasks would be the same normals (x = z / √(w/ν) and
    // x = z for a unit first dispersion row); their own keys make every x differ.
    let a = Task::student(1, 1, 0.0).unwrap().sample(500, 0).unwrap();
    let b = Task::student(1, 1, 0.5).unwrap().sample(500, 0).unwrap();
    assert!(a.0.iter().zip(&b.0).all(|(u, v)| u != v));
    // A mapped task is not its base's draws mapped.
    let base = Task::gaussian_sparse(3).unwrap();
    let mapped = Task::mapped(&base, infobound::experiments::suite::Map::HalfCube).unwrap();
    let (bx, _) = base.sample(500, 0).unwrap();
    let (mx, _) = mapped.sample(500, 0).unwrap();
    let same = bx
        .iter()
        .zip(&mx)
        .filter(|(b, m)| (f64::from(**b) * f64::from(**b).abs().sqrt()) as f32 == **m)
        .count();
    assert!(same < 5, "{same} values shared");
    // Across the whole grid, no two tasks start with the same first x value.
    let mut first: Vec<u32> = grid::full()
        .iter()
        .map(|t| t.sample(1, 0).unwrap().0[0].to_bits())
        .collect();
    first.sort_unstable();
    first.dedup();
    assert_eq!(first.len(), grid::full().len());
}
