//! Every closed-form MI of the suite against E[ln p(x,y) − ln p(x) − ln p(y)] over the task's
//! own draws, with the exact densities of `densities.rs`.

use infobound::experiments::suite::{grid, student, Map, Task};

use crate::densities::monte_carlo_mi;

/// Monte-Carlo draws per task.
const N: usize = 100_000;

/// Three Monte-Carlo standard errors plus this much: the draws are f32 and the Box–Muller
/// normals live on a 2⁻²⁴ grid, which moves the expectation by far less.
const ABS_TOL: f64 = 2e-3;

/// Checks `task`'s closed form against its Monte-Carlo MI; prints both.
fn check(task: &Task, seed: u64) {
    let (mc, se) = monte_carlo_mi(task, N, seed);
    let truth = task.true_mi();
    println!(
        "{:28} closed form {truth:.4}  Monte Carlo {mc:.4} ± {se:.4}  ({:+.1} s.e.)",
        task.name(),
        (mc - truth) / se
    );
    assert!(
        (mc - truth).abs() <= 3.0 * se + ABS_TOL,
        "{}: closed form {truth} vs Monte Carlo {mc} ± {se}",
        task.name()
    );
}

#[test]
fn student_t_closed_form_matches_monte_carlo() {
    for nu in grid::STUDENT_NUS {
        for d in grid::STUDENT_DIMS {
            check(&Task::student(nu, d, grid::STUDENT_RHO).unwrap(), 11);
        }
    }
    // bmi's identity dispersion, where the MI is the correction alone.
    for nu in [1, 3] {
        check(&Task::student(nu, 1, 0.0).unwrap(), 12);
        check(&Task::student(nu, 3, 0.0).unwrap(), 12);
    }
    // Unequal sides and a dense dispersion: the correction is not symmetric in form only.
    let (dx, dy) = (1, 3);
    let m = dx + dy;
    let dispersion: Vec<f64> = (0..m * m)
        .map(|k| if k / m == k % m { 1.0 } else { 0.4 })
        .collect();
    let task = Task::student_t("student-dense-1x3-nu2".into(), 2, dispersion, dx, dy).unwrap();
    check(&task, 13);
}

#[test]
fn student_t_correction_is_the_mi_of_the_identity_dispersion() {
    // Issue 16's example: bmi's Student-t 1 × 1 with one degree of freedom holds 0.224 nats.
    let t = Task::student(1, 1, 0.0).unwrap();
    assert_eq!(t.name(), "student-identity-1x1-nu1");
    assert!((t.true_mi() - 0.2242).abs() < 1e-4, "{}", t.true_mi());
    assert!((t.true_mi() - student::correction(1.0, 1, 1)).abs() < 1e-15);
    // With ρ the Gaussian MI of the dispersion adds to it.
    let t = Task::student(3, 2, 0.5).unwrap();
    let want = -(1.0f64 - 0.25).ln() + student::correction(3.0, 2, 2);
    assert!((t.true_mi() - want).abs() < 1e-12);
}

#[test]
fn gaussian_closed_form_matches_monte_carlo() {
    for d in grid::GAUSSIAN_DIMS {
        check(&Task::gaussian_dense(d).unwrap(), 21);
        check(&Task::gaussian_sparse(d).unwrap(), 21);
    }
}

#[test]
fn the_grid_states_the_known_truths() {
    let tasks = grid::full();
    assert_eq!(tasks.len(), 37);
    let mut names: Vec<&str> = tasks.iter().map(|t| t.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), tasks.len(), "task names are unique");
    let mi = |name: &str| {
        tasks
            .iter()
            .find(|t| t.name() == name)
            .unwrap_or_else(|| panic!("{name} is in the grid"))
            .true_mi()
    };
    for d in [1usize, 2, 5, 25] {
        let dense = 0.5 * (((1 + d) * (1 + d)) as f64 / (1 + 2 * d) as f64).ln();
        assert!((mi(&format!("gauss-dense-{d}x{d}")) - dense).abs() < 1e-10);
        let pairs = d.min(2) as f64;
        let sparse = -0.5 * pairs * (1.0f64 - 0.64).ln();
        assert!((mi(&format!("gauss-sparse-{d}x{d}")) - sparse).abs() < 1e-10);
    }
    assert!((mi("uniform-noise-0.1") - (0.1 - 0.2f64.ln())).abs() < 1e-12);
    assert!((mi("uniform-noise-0.75") - 1.0 / 3.0).abs() < 1e-12);
    for map in grid::MAPS {
        for d in grid::MAPPED_DIMS {
            let name = format!("{}-gauss-sparse-{d}x{d}", map.name());
            let base = Task::gaussian_sparse(d).unwrap().true_mi();
            assert_eq!(mi(&name), base, "{name}");
        }
    }
    assert!(tasks.iter().all(|t| t.true_mi() > 0.1 && t.true_mi() < 2.0));

    let quick = grid::quick();
    assert_eq!(quick.len(), 6);
    assert!(quick.iter().any(|t| t.name() == "student-identity-1x1-nu1"));
    assert!(quick.iter().any(|t| t.name().starts_with("gauss-")));
    // Every quick task is a grid task.
    assert!(quick.iter().all(|q| tasks.contains(q)));
}

#[test]
fn bad_task_settings_are_errors() {
    assert!(Task::student(0, 1, 0.5).unwrap_err().is_input());
    assert!(
        Task::student(1, 1, 1.0).unwrap_err().is_input(),
        "singular dispersion"
    );
    assert!(Task::student(1, 0, 0.5).unwrap_err().is_input());
    assert!(Task::gaussian_dense(0).unwrap_err().is_input());
    assert!(Task::additive_uniform(0.0).unwrap_err().is_input());
    assert!(Task::additive_uniform(f64::NAN).unwrap_err().is_input());
    let small = Task::gaussian_sparse(2).unwrap();
    assert!(Task::mapped(&small, Map::Spiral).unwrap_err().is_input());
    let uniform = Task::additive_uniform(0.3).unwrap();
    assert!(Task::mapped(&uniform, Map::Asinh).unwrap_err().is_input());
    // More draws than the u32 counter indexes: an error, not a wrapped index.
    let big = Task::gaussian_dense(25).unwrap();
    assert!(big.sample(100_000_000, 0).unwrap_err().is_input());
}
