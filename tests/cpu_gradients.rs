//! The CPU reference's backward pass against central finite differences of the objective,
//! for every shuffled bound, through a multi-layer ReLU critic.

mod common;

use infobound::cpu::Workspace;
use infobound::experiments::tasks::correlated_gaussian;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::spec::TrainSpec;

#[test]
fn mlp_gradients_match_finite_differences() {
    let (x, y) = correlated_gaussian(2, 0.7, 64, 1);
    let data = common::joint(&x, &y, 2);
    for bound in [Bound::Nwj, Bound::Dv, Bound::Js, Bound::Smile { tau: 5.0 }] {
        let critic = CriticForm::Shuffled { hidden: vec![7, 5] };
        let spec = TrainSpec::new(2, 2, critic, bound, 9).with_seed(3);
        let params = spec.init();
        let mut work = Workspace::new(&spec, data, spec.seed, true);
        work.run(&params, 0);
        let analytic = work.grads().to_vec();
        let mut worst = 0.0f64;
        for i in 0..params.len() {
            // Perturb in f32 and divide by the step actually taken.
            let (fd, err) = common::central_difference(&mut work, &params, &analytic, i);
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
