//! The suite's task lists: issue 16's grid in the style of bmi's benchmark (Czyż et al., 2023;
//! bmi's `benchmark/task_list.py`), and a quick subset for CI.

use super::maps::Map;
use super::task::Task;

/// Dispersion correlation between x_i and y_i of the grid's Student-t tasks. bmi's
/// "student-identity" (ρ = 0) has MI equal to the correction alone, 0.017 nats at ν = 5, 1 × 1:
/// too small to score a ratio on. ρ = 0.5 adds a Gaussian part of 0.144 nats a pair
/// (MI 0.16–1.52 nats over the grid). bmi's ρ = 0 1 × 1 ν = 1 task, issue 16's example, is in
/// the grid as well.
pub const STUDENT_RHO: f64 = 0.5;

/// The dimensions of the Gaussian tasks (d × d).
pub const GAUSSIAN_DIMS: [usize; 4] = [1, 2, 5, 25];
/// The degrees of freedom of the Student-t tasks.
pub const STUDENT_NUS: [u32; 4] = [1, 2, 3, 5];
/// The dimensions of the Student-t tasks (d × d).
pub const STUDENT_DIMS: [usize; 4] = [1, 2, 3, 5];
/// The noise half-widths of the additive-uniform tasks (bmi's: MI 1.709 and 0.333 nats).
pub const UNIFORM_EPS: [f64; 2] = [0.1, 0.75];
/// The maps of the mapped tasks, each on bmi's sparse ("2-pair") Gaussian of these dimensions.
pub const MAPS: [Map; 5] = [
    Map::HalfCube,
    Map::Asinh,
    Map::NormalCdf,
    Map::Wiggly,
    Map::Spiral,
];
/// The dimensions of the mapped tasks (d × d; bmi maps its 3 × 3, 5 × 5 and 25 × 25 2-pair
/// Gaussians).
pub const MAPPED_DIMS: [usize; 2] = [3, 5];

/// Issue 16's grid, 37 tasks: Gaussian dense and sparse at 1, 2, 5, 25; Student-t for every
/// ν × d of [`STUDENT_NUS`] × [`STUDENT_DIMS`] (at [`STUDENT_RHO`]) and bmi's ν = 1 1 × 1
/// "student-identity"; additive uniform noise at ε = 0.1 and 0.75; and half-cube, asinh,
/// normal CDF, wiggly and spiral maps of the sparse Gaussian at 3 × 3 and 5 × 5.
pub fn full() -> Vec<Task> {
    let mut tasks = Vec::new();
    for d in GAUSSIAN_DIMS {
        tasks.push(Task::gaussian_dense(d).expect("valid dense Gaussian"));
    }
    for d in GAUSSIAN_DIMS {
        tasks.push(Task::gaussian_sparse(d).expect("valid sparse Gaussian"));
    }
    for nu in STUDENT_NUS {
        for d in STUDENT_DIMS {
            tasks.push(Task::student(nu, d, STUDENT_RHO).expect("valid Student-t"));
        }
    }
    tasks.push(Task::student(1, 1, 0.0).expect("valid Student-t"));
    for eps in UNIFORM_EPS {
        tasks.push(Task::additive_uniform(eps).expect("valid additive uniform"));
    }
    for map in MAPS {
        for d in MAPPED_DIMS {
            let base = Task::gaussian_sparse(d).expect("valid sparse Gaussian");
            tasks.push(Task::mapped(&base, map).expect("dimensions fit every map"));
        }
    }
    tasks
}

/// The quick subset CI runs, 6 tasks: a sparse 1 × 1 and a dense 2 × 2 Gaussian, bmi's ν = 1
/// 1 × 1 "student-identity" (issue 16's heavy-tailed failure) and a ν = 1 1 × 1 at ρ = 0.5,
/// additive uniform noise at ε = 0.75 and the half-cube of the 3 × 3 sparse Gaussian.
pub fn quick() -> Vec<Task> {
    let base = Task::gaussian_sparse(3).expect("valid sparse Gaussian");
    vec![
        Task::gaussian_sparse(1).expect("valid sparse Gaussian"),
        Task::gaussian_dense(2).expect("valid dense Gaussian"),
        Task::student(1, 1, 0.0).expect("valid Student-t"),
        Task::student(1, 1, STUDENT_RHO).expect("valid Student-t"),
        Task::additive_uniform(0.75).expect("valid additive uniform"),
        Task::mapped(&base, Map::HalfCube).expect("dimensions fit the half-cube"),
    ]
}
