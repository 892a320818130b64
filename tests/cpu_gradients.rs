//! The CPU reference's backward pass against central finite differences of the objective,
//! for every shuffled bound, through a multi-layer ReLU critic.

use infobound::bounds::Bound;
use infobound::cpu::{ops, Workspace};
use infobound::tasks::correlated_gaussian;
use infobound::train::TrainSpec;

#[test]
fn mlp_gradients_match_finite_differences() {
    let (x, y) = correlated_gaussian(2, 0.7, 64, 1);
    for bound in [Bound::Nwj, Bound::Dv, Bound::Js, Bound::Smile { tau: 5.0 }] {
        let spec = TrainSpec::new(2, 2, &[7, 5], bound, 9).with_seed(3);
        let params = spec.critic.init(spec.seed);
        let batch = ops::gather_shuffled(spec.seed, 0, spec.batch, (&x, 2), (&y, 2));
        let mut work = Workspace::new(&spec);
        work.forward_backward(&spec, &params, &batch);
        let analytic = work.grads.clone();
        let mut worst = 0.0f64;
        for i in 0..params.len() {
            // f64 finite differences need f32-representable steps: perturb and measure the
            // step actually taken.
            let h = 1e-3f32;
            let mut up = params.clone();
            let mut down = params.clone();
            up[i] += h;
            down[i] -= h;
            let fd = -(work.objective(&spec, &up, &batch) - work.objective(&spec, &down, &batch))
                / f64::from(up[i] - down[i]);
            let err = (fd - f64::from(analytic[i])).abs() / (1e-3 + f64::from(analytic[i].abs()));
            worst = worst.max(err);
            assert!(
                err < 2e-2,
                "{bound:?} parameter {i}: finite difference {fd} vs backward {}",
                analytic[i]
            );
        }
        eprintln!("{bound:?}: worst relative gradient error {worst:.2e}");
    }
}
