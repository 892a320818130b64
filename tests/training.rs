//! The device trainer against the CPU reference: the same batches bit for bit, the same
//! trajectory within 1e-3, the same bits twice, and divergence reported as an error.

mod common;

use common::{gpu, rel_err};
use infobound::cpu::{ops, CpuTrainer};
use infobound::experiments::tasks::correlated_gaussian;
use infobound::gpu::kernels::state;
use infobound::gpu::GpuTrainer;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::optim::AdamConfig;
use infobound::math::spec::TrainSpec;
use infobound::Error;

#[test]
fn device_batches_equal_the_cpu_draws() {
    let Some(ctx) = gpu() else { return };
    let (n, k, dx, dy) = (257usize, 17usize, 3usize, 2usize);
    let x = common::values(n * dx, 1);
    let y = common::values(n * dy, 2);
    let gx = ctx.upload("x", &x).unwrap();
    let gy = ctx.upload("y", &y).unwrap();
    let out = ctx.filled("batch", 2 * k * (dx + dy), f32::NAN).unwrap();
    for step in [0u32, 1, 1000] {
        let st = ctx.upload("state", &state::initial(step)).unwrap();
        let d = ctx
            .gather_shuffled(9, n, k, (&gx, dx), (&gy, dy), &out, &st)
            .unwrap();
        ctx.run(&[d], 1).unwrap();
        let got: Vec<f32> = ctx.read(&out).unwrap();
        let want = ops::gather_shuffled(9, step, k, (&x, dx), (&y, dy));
        assert_eq!(got, want, "step {step}");
    }
}

fn spec(bound: Bound) -> (TrainSpec, Vec<f32>, Vec<f32>) {
    let (x, y) = correlated_gaussian(2, 0.8, 300, 11);
    let critic = CriticForm::Shuffled {
        hidden: vec![17, 9],
    };
    let spec = TrainSpec::new(2, 2, critic, bound, 33)
        .with_seed(5)
        .with_adam(AdamConfig::default().with_lr(3e-3));
    (spec, x, y)
}

#[test]
fn twenty_steps_on_gpu_and_cpu_end_with_equal_parameters() {
    let Some(ctx) = gpu() else { return };
    for bound in [Bound::Nwj, Bound::Smile { tau: 5.0 }] {
        let (spec, x, y) = spec(bound);
        let data = common::joint(&x, &y, 2);
        // Chunks of 7 make the value history wrap and the last chunk partial.
        let mut g = GpuTrainer::new(&ctx, &spec, data, None, 7).unwrap();
        let mut c = CpuTrainer::new(&spec, data, None).unwrap();
        let gv = g.train(20).unwrap();
        let cv = c.train(20).unwrap();
        assert_eq!(gv.len(), 20);
        let verr = rel_err(&gv, &cv, 1e-3);
        assert!(
            verr <= 1e-3,
            "{bound:?}: values differ, rel err {verr}\n{gv:?}\n{cv:?}"
        );
        let gp = g.parameters().unwrap();
        let cp = c.parameters().unwrap();
        let perr = rel_err(&gp, &cp, 1e-6);
        assert!(perr <= 1e-3, "{bound:?}: parameters differ, rel err {perr}");
        assert_ne!(gp, spec.init(), "the parameters never moved");
        assert_eq!(g.step(), 20);
    }
}

#[test]
fn the_same_seed_gives_the_same_bits() {
    let Some(ctx) = gpu() else { return };
    let (spec, x, y) = spec(Bound::Dv);
    let data = common::joint(&x, &y, 2);
    let run = || {
        let mut t = GpuTrainer::new(&ctx, &spec, data, None, 16).unwrap();
        let v = t.train(12).unwrap();
        (v, t.parameters().unwrap())
    };
    let (v1, p1) = run();
    let (v2, p2) = run();
    assert_eq!(
        v1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        v2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(
        p1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        p2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn a_diverging_run_is_an_error_not_a_number() {
    let Some(ctx) = gpu() else { return };
    let (spec, x, y) = spec(Bound::Nwj);
    let spec = spec.with_adam(AdamConfig::default().with_lr(1e4));
    let data = common::joint(&x, &y, 2);
    let mut g = GpuTrainer::new(&ctx, &spec, data, None, 50).unwrap();
    let mut c = CpuTrainer::new(&spec, data, None).unwrap();
    let ge: Error = g.train(200).unwrap_err().into();
    let ce: Error = c.train(200).unwrap_err().into();
    match (&ge, &ce) {
        (Error::Diverged { step: a, .. }, Error::Diverged { step: b, .. }) => {
            assert!(a.abs_diff(*b) <= 1, "GPU diverged at {a}, CPU at {b}");
        }
        other => panic!("expected divergence on both backends, got {other:?}"),
    }
    assert!(ge.to_string().contains("lower the learning rate"), "{ge}");
}
