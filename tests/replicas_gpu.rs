//! Replicated critics on the device: replica r of a batched run takes exactly the steps, with
//! exactly the bits (values, gradient norms, parameters), of the same spec trained alone; a
//! diverging or frozen replica stops alone; replicas that cannot share a run are refused.

mod common;

use common::gpu;
use infobound::gpu::{
    BatchEvaluator, GpuContext, GpuError, GpuTrainer, ReplicaBatches, ReplicaSteps,
};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::optim::AdamConfig;
use infobound::math::sampling::Transform;
use infobound::math::spec::{Batches, TrainData, TrainSpec};

/// Rows of the test data: not a multiple of any tile or workgroup.
const N: usize = 29;
/// The batch: not a multiple of any tile or workgroup.
const K: usize = 7;
/// Steps a submission: runs of 5 steps wrap the history and end on a partial chunk.
const CHUNK: u32 = 3;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// What a run left: each step's value and gradient norm, and the final parameters.
#[derive(Debug)]
struct Run {
    values: Vec<f32>,
    norms: Vec<f32>,
    params: Vec<f32>,
}

impl Run {
    /// Asserts the same bits as `solo`.
    fn assert_bits(&self, solo: &Run, what: &str) {
        assert_eq!(bits(&self.values), bits(&solo.values), "{what}: values");
        assert_eq!(
            bits(&self.norms),
            bits(&solo.norms),
            "{what}: gradient norms"
        );
        assert_eq!(bits(&self.params), bits(&solo.params), "{what}: parameters");
    }
}

/// `spec` trained alone on `batches`, `steps` steps a call.
fn solo(ctx: &GpuContext, spec: &TrainSpec, batches: Batches<'_>, steps: &[u32]) -> Run {
    let mut t = GpuTrainer::new(ctx, spec, batches, None, CHUNK).unwrap();
    let mut values = Vec::new();
    for &s in steps {
        values.extend(t.train(s).unwrap());
    }
    Run {
        values,
        norms: t.take_grad_norms(),
        params: t.parameters().unwrap(),
    }
}

/// Every replica of a batched run of `specs`, `steps` steps a call, each replica's values
/// and norms concatenated over the calls.
fn batched(
    ctx: &GpuContext,
    specs: &[TrainSpec],
    batches: ReplicaBatches<'_>,
    steps: &[u32],
) -> Vec<Run> {
    let mut t = GpuTrainer::replicated(ctx, specs, batches, CHUNK).unwrap();
    assert_eq!(t.replicas(), specs.len());
    let mut runs: Vec<Run> = specs
        .iter()
        .map(|_| Run {
            values: Vec::new(),
            norms: Vec::new(),
            params: Vec::new(),
        })
        .collect();
    for &s in steps {
        let done = t.train_replicas(s).unwrap();
        assert_eq!(done.len(), specs.len());
        for (run, d) in runs.iter_mut().zip(done) {
            assert_eq!(d.diverged, None);
            assert!(!d.frozen);
            assert_eq!(d.values.len(), s as usize);
            run.values.extend(d.values);
            run.norms.extend(d.grad_norms);
        }
    }
    let total: u32 = steps.iter().sum();
    assert_eq!(t.step(), u64::from(total));
    for (r, run) in runs.iter_mut().enumerate() {
        assert_eq!(t.replica_step(r), Some(u64::from(total)));
        run.params = t.replica_parameters(r).unwrap();
    }
    let all = t.parameters().unwrap();
    assert_eq!(
        bits(&all),
        bits(
            &runs
                .iter()
                .flat_map(|r| r.params.clone())
                .collect::<Vec<_>>()
        ),
        "the parameter buffer holds the replicas in order"
    );
    runs
}

fn data(n: usize, dx: usize, dy: usize, salt: u64) -> (Vec<f32>, Vec<f32>) {
    let x = common::values(n * dx, salt);
    // y partly follows x, so the bounds have something to learn.
    let noise = common::values(n * dy, salt + 1000);
    let y = (0..n * dy)
        .map(|i| 0.7 * x[(i / dy) * dx + (i % dy) % dx] + 0.3 * noise[i])
        .collect();
    (x, y)
}

fn train_data<'a>(x: &'a [f32], y: &'a [f32], dx: usize, dy: usize) -> TrainData<'a> {
    TrainData {
        x,
        dx,
        y,
        dy,
        log_marginal: None,
    }
}

/// The critic forms each bound trains with: separable and concat always, shuffled negatives
/// where the bound takes them.
fn forms(bound: Bound) -> Vec<CriticForm> {
    let mut f = vec![
        CriticForm::Separable {
            hidden: vec![5],
            embed: 3,
        },
        CriticForm::Concat { hidden: vec![7, 3] },
    ];
    if bound.supports_shuffled() {
        f.push(CriticForm::Shuffled { hidden: vec![7, 3] });
    }
    f
}

fn spec(dx: usize, dy: usize, critic: CriticForm, bound: Bound, seed: u64) -> TrainSpec {
    TrainSpec::new(dx, dy, critic, bound, K)
        .with_seed(seed)
        .with_baseline_hidden(vec![5])
        .with_adam(AdamConfig::default().with_lr(1e-2))
}

#[test]
fn every_bound_and_critic_gives_its_solo_bits_in_a_batched_run() {
    let ctx = gpu().expect("an adapter");
    let (dx, dy) = (2, 3);
    let (x, y) = data(N, dx, dy, 1);
    let d = train_data(&x, &y, dx, dy);
    for bound in common::BOUNDS {
        for critic in forms(bound) {
            let specs: Vec<TrainSpec> = [11, 5, 1234]
                .into_iter()
                .map(|seed| spec(dx, dy, critic.clone(), bound, seed))
                .collect();
            let runs = batched(&ctx, &specs, ReplicaBatches::Shared(d.into()), &[2, 3]);
            for (r, (s, run)) in specs.iter().zip(&runs).enumerate() {
                let alone = solo(&ctx, s, d.into(), &[2, 3]);
                run.assert_bits(&alone, &format!("{bound:?} {} replica {r}", critic.name()));
                assert_ne!(bits(&run.params), bits(&s.init()), "the parameters moved");
            }
            assert_ne!(
                bits(&runs[0].values),
                bits(&runs[1].values),
                "{bound:?} {}: different seeds draw different batches",
                critic.name()
            );
        }
    }
}

#[test]
fn replicas_with_their_own_learning_rate_bound_parameters_and_clip_give_their_solo_bits() {
    let ctx = gpu().expect("an adapter");
    let (dx, dy) = (3, 2);
    let (x, y) = data(N, dx, dy, 2);
    let d = train_data(&x, &y, dx, dy);
    let lrs = [1e-2, 3e-3, 2e-2];
    let families: [&dyn Fn(usize) -> Bound; 3] = [
        &|r| Bound::Smile {
            tau: [1.0, 1.5, 4.0][r],
        },
        &|r| Bound::AlphaInfoNce {
            alpha: [0.1, 0.3, 0.7][r],
        },
        &|r| Bound::Mine {
            gamma: [0.5, 0.9, 0.99][r],
        },
    ];
    for family in families {
        let critic = CriticForm::Separable {
            hidden: vec![7, 3],
            embed: 4,
        };
        let specs: Vec<TrainSpec> = (0..3)
            .map(|r| {
                spec(dx, dy, critic.clone(), family(r), 40 + r as u64)
                    .with_adam(AdamConfig::default().with_lr(lrs[r]))
                    // Small enough to bite, and different for each replica.
                    .with_max_grad_norm(Some([0.05, 0.1, 1e3][r]))
            })
            .collect();
        let runs = batched(&ctx, &specs, ReplicaBatches::Shared(d.into()), &[5]);
        for (r, (s, run)) in specs.iter().zip(&runs).enumerate() {
            let alone = solo(&ctx, s, d.into(), &[5]);
            run.assert_bits(&alone, &format!("{:?} replica {r}", s.bound));
        }
    }
}

#[test]
fn each_replica_on_its_own_data_gives_its_solo_bits() {
    let ctx = gpu().expect("an adapter");
    let (dx, dy) = (2, 3);
    let sets: Vec<(Vec<f32>, Vec<f32>)> = (0..3).map(|r| data(N, dx, dy, 10 + r)).collect();
    let each: Vec<TrainData> = sets.iter().map(|(x, y)| train_data(x, y, dx, dy)).collect();
    for (bound, critic) in [
        (
            Bound::InfoNce,
            CriticForm::Separable {
                hidden: vec![5],
                embed: 3,
            },
        ),
        (Bound::Tuba, CriticForm::Concat { hidden: vec![5] }),
        (Bound::Nwj, CriticForm::Shuffled { hidden: vec![7, 3] }),
    ] {
        // The same seed for all: only the data tell the replicas apart.
        let specs: Vec<TrainSpec> = (0..3)
            .map(|_| spec(dx, dy, critic.clone(), bound, 3))
            .collect();
        let batches = ReplicaBatches::Each(each.iter().map(|&d| d.into()).collect());
        let runs = batched(&ctx, &specs, batches, &[4]);
        for (r, run) in runs.iter().enumerate() {
            let alone = solo(&ctx, &specs[r], each[r].into(), &[4]);
            run.assert_bits(&alone, &format!("{bound:?} {} replica {r}", critic.name()));
        }
        assert_ne!(bits(&runs[0].values), bits(&runs[1].values));
    }
}

#[test]
fn replicas_of_the_synthetic_gaussian_give_their_solo_bits() {
    let ctx = gpu().expect("an adapter");
    let d = 2;
    let schedules: Vec<Vec<f32>> = vec![
        vec![0.1, 0.5, 0.9, 0.95],
        vec![0.8, 0.2, -0.3, 0.0],
        vec![0.0, 0.0, 0.99, 0.5],
    ];
    for critic in [
        CriticForm::Separable {
            hidden: vec![5],
            embed: 3,
        },
        CriticForm::Shuffled { hidden: vec![6] },
    ] {
        let specs: Vec<TrainSpec> = (0..3)
            .map(|r| spec(d, d, critic.clone(), Bound::Smile { tau: 2.0 }, 7 + r))
            .collect();
        // One schedule for all, then each replica's own.
        let shared = batched(
            &ctx,
            &specs,
            ReplicaBatches::Shared(gauss(&schedules[0])),
            &[5],
        );
        let own = batched(
            &ctx,
            &specs,
            ReplicaBatches::Each(schedules.iter().map(|s| gauss(s)).collect()),
            &[5],
        );
        for r in 0..3 {
            let what = format!("{} replica {r}", critic.name());
            shared[r].assert_bits(&solo(&ctx, &specs[r], gauss(&schedules[0]), &[5]), &what);
            own[r].assert_bits(&solo(&ctx, &specs[r], gauss(&schedules[r]), &[5]), &what);
        }
    }
}

/// The synthetic Gaussian of schedule `rho`, y cubed.
fn gauss(rho: &[f32]) -> Batches<'_> {
    Batches::Gaussian {
        rho,
        transform: Transform::Cubic,
    }
}

#[test]
fn a_diverging_replica_stops_alone_and_frozen_exactly() {
    let ctx = gpu().expect("an adapter");
    let (dx, dy) = (2, 2);
    let (x, y) = data(N, dx, dy, 3);
    let d = train_data(&x, &y, dx, dy);
    let critic = CriticForm::Shuffled { hidden: vec![7, 3] };
    // Replica 1's learning rate throws its parameters to ~1e30 at the first step, so its
    // scores overflow at the second.
    let specs: Vec<TrainSpec> = [1e-2, 1e30, 3e-3]
        .into_iter()
        .enumerate()
        .map(|(r, lr)| {
            spec(dx, dy, critic.clone(), Bound::Nwj, r as u64)
                .with_adam(AdamConfig::default().with_lr(lr))
        })
        .collect();
    let mut t =
        GpuTrainer::replicated(&ctx, &specs, ReplicaBatches::Shared(d.into()), CHUNK).unwrap();
    let first = t.train_replicas(5).unwrap();
    let bad = first[1].diverged.clone().expect("replica 1 diverges");
    assert!(first[1].frozen);
    assert_eq!(first[1].values.len() as u64, bad.step);
    assert_eq!(t.replica_step(1), Some(bad.step));
    // Alone, the same spec diverges at the same step, with the same values before it and
    // the same parameters after it.
    let mut alone = GpuTrainer::new(&ctx, &specs[1], d, None, CHUNK).unwrap();
    match alone.train(5) {
        Err(GpuError::Diverged(div)) => assert_eq!(div, bad),
        other => panic!("the solo run should diverge, got {other:?}"),
    }
    assert_eq!(bits(&alone.take_grad_norms()), bits(&first[1].grad_norms));
    let frozen = t.replica_parameters(1).unwrap();
    assert_eq!(bits(&frozen), bits(&alone.parameters().unwrap()));
    // The others go on: more steps, and their solo bits throughout.
    let second = t.train_replicas(4).unwrap();
    assert_eq!(
        second[1],
        ReplicaSteps {
            frozen: true,
            ..ReplicaSteps::default()
        }
    );
    assert_eq!(bits(&t.replica_parameters(1).unwrap()), bits(&frozen));
    for r in [0, 2] {
        assert_eq!(first[r].diverged, None);
        let run = Run {
            values: [first[r].values.clone(), second[r].values.clone()].concat(),
            norms: [first[r].grad_norms.clone(), second[r].grad_norms.clone()].concat(),
            params: t.replica_parameters(r).unwrap(),
        };
        run.assert_bits(
            &solo(&ctx, &specs[r], d.into(), &[5, 4]),
            &format!("replica {r}"),
        );
        assert_eq!(t.replica_step(r), Some(9));
    }
    // A solo trainer that diverged keeps saying so.
    assert!(matches!(alone.train(1), Err(GpuError::Diverged(_))));
}

#[test]
fn a_frozen_replica_keeps_its_parameters_while_the_others_go_on() {
    let ctx = gpu().expect("an adapter");
    let (dx, dy) = (2, 3);
    let (x, y) = data(N, dx, dy, 4);
    let d = train_data(&x, &y, dx, dy);
    let critic = CriticForm::Concat { hidden: vec![5, 3] };
    let specs: Vec<TrainSpec> = (0..3)
        .map(|r| spec(dx, dy, critic.clone(), Bound::Mine { gamma: 0.9 }, 20 + r))
        .collect();
    let mut t =
        GpuTrainer::replicated(&ctx, &specs, ReplicaBatches::Shared(d.into()), CHUNK).unwrap();
    let first = t.train_replicas(4).unwrap();
    t.freeze(1);
    t.freeze(99); // past the replicas: ignored
    let held = t.replica_parameters(1).unwrap();
    let second = t.train_replicas(5).unwrap();
    assert!(second[1].frozen && second[1].values.is_empty() && second[1].diverged.is_none());
    assert_eq!(bits(&t.replica_parameters(1).unwrap()), bits(&held));
    assert_eq!(t.replica_step(1), Some(4));
    assert_eq!(t.step(), 9);
    // Frozen at step 4: its bits are those of a solo run of 4 steps.
    Run {
        values: first[1].values.clone(),
        norms: first[1].grad_norms.clone(),
        params: held,
    }
    .assert_bits(&solo(&ctx, &specs[1], d.into(), &[4]), "the frozen replica");
    for r in [0, 2] {
        assert!(!second[r].frozen);
        let run = Run {
            values: [first[r].values.clone(), second[r].values.clone()].concat(),
            norms: [first[r].grad_norms.clone(), second[r].grad_norms.clone()].concat(),
            params: t.replica_parameters(r).unwrap(),
        };
        run.assert_bits(
            &solo(&ctx, &specs[r], d.into(), &[4, 5]),
            &format!("replica {r}"),
        );
    }
    // Once every replica is frozen, nothing more is submitted.
    t.freeze(0);
    t.freeze(2);
    let none = t.train_replicas(3).unwrap();
    assert!(none.iter().all(|s| s.frozen && s.values.is_empty()));
    assert_eq!(t.step(), 9);
}

#[test]
fn a_replica_copied_out_evaluates_as_its_solo_run() {
    let ctx = gpu().expect("an adapter");
    let (dx, dy) = (2, 3);
    let (x, y) = data(N, dx, dy, 5);
    let (ex, ey) = data(N, dx, dy, 6);
    let (d, e) = (train_data(&x, &y, dx, dy), train_data(&ex, &ey, dx, dy));
    let critic = CriticForm::Separable {
        hidden: vec![5],
        embed: 3,
    };
    let specs: Vec<TrainSpec> = (0..2)
        .map(|r| spec(dx, dy, critic.clone(), Bound::InfoNce, 60 + r))
        .collect();
    let mut t =
        GpuTrainer::replicated(&ctx, &specs, ReplicaBatches::Shared(d.into()), CHUNK).unwrap();
    t.train_replicas(4).unwrap();
    let p = t.replica_parameter_count();
    let copy = ctx.zeros("replica parameters", p).unwrap();
    for (r, s) in specs.iter().enumerate() {
        t.copy_replica_parameters(r, &copy).unwrap();
        assert_eq!(
            bits(&ctx.read::<f32>(&copy).unwrap()),
            bits(&t.replica_parameters(r).unwrap())
        );
        let got = BatchEvaluator::new(&ctx, s, &copy, e, 3)
            .unwrap()
            .evaluate()
            .unwrap();
        let mut alone = GpuTrainer::new(&ctx, s, d, Some((e, 3)), CHUNK).unwrap();
        alone.train(4).unwrap();
        assert_eq!(bits(&got), bits(&alone.evaluate().unwrap()), "replica {r}");
    }
    let short = ctx.zeros("short", p - 1).unwrap();
    assert!(matches!(
        t.copy_replica_parameters(0, &short),
        Err(GpuError::BufferTooShort { .. })
    ));
    assert!(matches!(
        t.copy_replica_parameters(2, &copy),
        Err(GpuError::NoSuchReplica {
            replica: 2,
            replicas: 2
        })
    ));
    assert!(matches!(
        t.replica_parameters(5),
        Err(GpuError::NoSuchReplica { .. })
    ));
    assert!(matches!(t.train(1), Err(GpuError::SoloOnly { .. })));
}

#[test]
fn replicas_that_cannot_share_a_run_are_refused() {
    let ctx = gpu().expect("an adapter");
    let (dx, dy) = (2, 3);
    let (x, y) = data(N, dx, dy, 7);
    let (x2, y2) = data(N + 1, dx, dy, 8);
    let d = train_data(&x, &y, dx, dy);
    let d2 = train_data(&x2, &y2, dx, dy);
    let critic = CriticForm::Separable {
        hidden: vec![5],
        embed: 3,
    };
    let base = spec(dx, dy, critic.clone(), Bound::Smile { tau: 1.0 }, 0);
    let shared = || ReplicaBatches::Shared(d.into());
    let refused = |specs: &[TrainSpec], batches: ReplicaBatches<'_>| match GpuTrainer::replicated(
        &ctx, specs, batches, CHUNK,
    ) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    let mismatch = |other: TrainSpec, want: &str| match refused(
        &[base.clone(), base.clone(), other],
        shared(),
    ) {
        GpuError::ReplicaMismatch { replica, what } => {
            assert_eq!((replica, what), (2, want));
        }
        e => panic!("{want}: {e}"),
    };
    mismatch(
        spec(
            dx,
            dy,
            CriticForm::Concat { hidden: vec![5] },
            Bound::Smile { tau: 1.0 },
            0,
        ),
        "critic",
    );
    mismatch(spec(dx, dy, critic.clone(), Bound::Js, 0), "bound");
    mismatch(
        TrainSpec::new(dx, dy, critic.clone(), Bound::Smile { tau: 1.0 }, K + 1),
        "batch",
    );
    mismatch(
        base.clone().with_adam(base.adam.with_eps(1e-6)),
        "optimiser settings other than the learning rate",
    );
    mismatch(
        base.clone().with_max_grad_norm(Some(1.0)),
        "gradient clip (set on some replicas only)",
    );
    let wide = spec(dx + 1, dy, critic.clone(), Bound::Smile { tau: 1.0 }, 0);
    match refused(&[base.clone(), wide], shared()) {
        GpuError::ReplicaMismatch { replica: 1, what } => assert_eq!(what, "column widths"),
        e => panic!("{e}"),
    }
    // Each replica's own data: of one row count, one set a replica.
    match refused(
        &[base.clone(), base.clone()],
        ReplicaBatches::Each(vec![d.into(), d2.into()]),
    ) {
        GpuError::ReplicaMismatch { replica: 1, what } => assert_eq!(what, "rows"),
        e => panic!("{e}"),
    }
    assert!(matches!(
        refused(
            &[base.clone(), base.clone()],
            ReplicaBatches::Each(vec![d.into()])
        ),
        GpuError::ReplicaCount {
            given: 1,
            replicas: 2,
            ..
        }
    ));
    assert!(matches!(refused(&[], shared()), GpuError::NoReplicas));
    let many = vec![base.clone(); infobound::gpu::kernels::MAX_REPLICAS + 1];
    assert!(matches!(
        refused(&many, shared()),
        GpuError::TooManyReplicas { .. }
    ));
}

#[test]
fn known_density_replicas_give_their_solo_bits() {
    let ctx = gpu().expect("an adapter");
    let (dx, dy) = (2, 3);
    let sets: Vec<(Vec<f32>, Vec<f32>)> = (0..3).map(|r| data(N, dx, dy, 30 + r)).collect();
    // A known marginal's log p(y) a row: any finite values do for the arithmetic.
    let lps: Vec<Vec<f32>> = (0..3)
        .map(|r| common::values(N, 40 + r).iter().map(|v| v - 2.0).collect())
        .collect();
    let each = |marginal: bool| -> Vec<TrainData> {
        sets.iter()
            .zip(&lps)
            .map(|((x, y), lp)| TrainData {
                log_marginal: marginal.then_some(lp.as_slice()),
                ..train_data(x, y, dx, dy)
            })
            .collect()
    };
    let cases = [
        (
            CriticForm::Decoder { hidden: vec![5] },
            Bound::BarberAgakov,
            false,
        ),
        (
            CriticForm::DecoderCritic { hidden: vec![5] },
            Bound::Multisample { proposals: 3 },
            false,
        ),
        (
            CriticForm::DecoderCritic { hidden: vec![5, 3] },
            Bound::Multisample { proposals: 4 },
            true,
        ),
    ];
    for (critic, bound, reparameterised) in cases {
        for marginal in [false, true] {
            let specs: Vec<TrainSpec> = (0..3)
                .map(|r| {
                    spec(dx, dy, critic.clone(), bound, 70 + r)
                        .with_reparameterised(reparameterised)
                        .with_adam(AdamConfig::default().with_lr([1e-2, 3e-3, 2e-2][r as usize]))
                })
                .collect();
            let what = format!("{bound:?} reparameterised {reparameterised} marginal {marginal}");
            let data = each(marginal);
            // Shared data (replica 0's), then each replica's own.
            let shared = batched(
                &ctx,
                &specs,
                ReplicaBatches::Shared(data[0].into()),
                &[2, 3],
            );
            let own = batched(
                &ctx,
                &specs,
                ReplicaBatches::Each(data.iter().map(|&d| d.into()).collect()),
                &[5],
            );
            for r in 0..3 {
                let alone = solo(&ctx, &specs[r], data[0].into(), &[2, 3]);
                shared[r].assert_bits(&alone, &format!("{what}, shared data, replica {r}"));
                let alone = solo(&ctx, &specs[r], data[r].into(), &[5]);
                own[r].assert_bits(&alone, &format!("{what}, own data, replica {r}"));
            }
        }
    }
}
