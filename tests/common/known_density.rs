//! Fixtures for the known-density tests (Barber–Agakov, V_MS): the benchmark their trained
//! runs read.

use infobound::experiments::tasks::{correlated_gaussian, gaussian_mi, rho_for_mi};
use infobound::{Estimator, Matrix, Report};

/// `est`'s report on the Gaussian channel with d = 5 at I = 4 nats, n = 4000 rows drawn with
/// seed 12 (the trained Barber–Agakov and V_MS runs), and the true I.
pub fn four_nat_estimate(est: &Estimator) -> (Report, f64) {
    let (d, n) = (5, 4000);
    let rho = rho_for_mi(d, 4.0);
    let truth = gaussian_mi(d, rho);
    let (x, y) = correlated_gaussian(d, rho, n, 12);
    let report = est
        .estimate(
            Matrix::new(&x, n, d).unwrap(),
            Matrix::new(&y, n, d).unwrap(),
        )
        .unwrap();
    (report, truth)
}

/// Operands of the Barber–Agakov kernel tests at `k` rows of `dy` columns: the decoder's
/// output (k × 2dy, μ then log σ, values in [-1.5, 1.5)) and y (k × dy, in [-2, 2)).
pub fn ba_operands(k: usize, dy: usize) -> (Vec<f32>, Vec<f32>) {
    let dec: Vec<f32> = super::values(k * 2 * dy, k as u64)
        .iter()
        .map(|v| 1.5 * v)
        .collect();
    let y: Vec<f32> = super::values(k * dy, 5 + k as u64)
        .iter()
        .map(|v| 2.0 * v)
        .collect();
    (dec, y)
}

/// V_MS (K = 8 proposals) with a decoder-critic of 32 hidden units trained on the device,
/// batch 64, 600 steps at lr 3e-3: the trained V_MS runs on [`four_nat_estimate`]'s channel.
pub fn trained_ms_estimator() -> Estimator {
    use infobound::math::bounds::Bound;
    use infobound::math::critic::CriticForm;
    use infobound::DeviceChoice;
    Estimator::default()
        .with_bound(Bound::Multisample { proposals: 8 })
        .with_critic(CriticForm::DecoderCritic { hidden: vec![32] })
        .with_device(DeviceChoice::Gpu)
        .with_batch(64)
        .with_steps(600)
        .with_lr(3e-3)
}
