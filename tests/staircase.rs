//! The staircase's known behaviours at a length CI can afford (d = 5, K = 64, three stages of
//! 2, 6 and 10 nats, a small separable critic): SMILE climbs past InfoNCE's ceiling, InfoNCE
//! never reads above ln K and saturates near it, NWJ's variance grows with the true MI.

mod common;

use infobound::experiments::staircase::{StaircaseResult, StaircaseRun};
use infobound::experiments::tasks::Staircase;
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::DeviceChoice;

const STEPS: u32 = 400;

fn run(bound: Bound) -> StaircaseResult {
    let r = StaircaseRun::default()
        .with_staircase(
            Staircase::default()
                .with_dim(5)
                .with_mis(&[2.0, 6.0, 10.0])
                .with_steps_per_stage(STEPS),
        )
        .with_bound(bound)
        .with_critic(CriticForm::Separable {
            hidden: vec![64, 64],
            embed: 16,
        })
        .with_lr(2e-3)
        .with_device(DeviceChoice::Gpu)
        .with_seed(1)
        .run()
        .unwrap();
    for s in &r.stages {
        eprintln!(
            "{bound:?}: true {:.0} mean {:.3} var {:.3} ({:.1} s)",
            s.true_mi, s.mean, s.variance, r.seconds
        );
    }
    r
}

/// The mean over the second half of each stage (the first half is still learning the new ρ).
fn settled(r: &StaircaseResult) -> Vec<f64> {
    r.estimates
        .chunks(STEPS as usize)
        .map(|s| {
            let tail = &s[s.len() / 2..];
            tail.iter().map(|&v| f64::from(v)).sum::<f64>() / tail.len() as f64
        })
        .collect()
}

#[test]
fn smile_climbs_infonce_saturates_nwj_variance_grows() {
    if common::gpu().is_none() {
        return;
    }
    let ln_k = (64f64).ln();

    let smile = settled(&run(Bound::Smile { tau: 5.0 }));
    assert!(
        smile.windows(2).all(|w| w[1] > w[0] + 1.0),
        "SMILE does not climb the staircase: {smile:?}"
    );
    assert!(
        smile[2] > ln_k + 1.0,
        "SMILE at 10 nats ({}) should pass InfoNCE's ceiling ln 64 = {ln_k:.2}",
        smile[2]
    );

    let infonce = run(Bound::InfoNce);
    assert!(
        infonce
            .estimates
            .iter()
            .all(|&v| f64::from(v) <= ln_k + 1e-4),
        "InfoNCE read above ln K"
    );
    let settled_nce = settled(&infonce);
    assert!(
        settled_nce[2] > ln_k - 0.7,
        "InfoNCE at 10 nats ({}) should saturate near ln 64 = {ln_k:.2}",
        settled_nce[2]
    );

    let nwj = run(Bound::Nwj);
    assert!(
        nwj.stages[2].variance > 3.0 * nwj.stages[0].variance,
        "NWJ's variance should grow with the MI: {:?}",
        nwj.stages.iter().map(|s| s.variance).collect::<Vec<_>>()
    );
}
