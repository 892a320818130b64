//! The fused InfoNCE loss as the loss of a tiny two-tower model: two linear towers map paired
//! synthetic samples (x, y) to embeddings G = x·W_xᵀ and H = y·W_yᵀ, the symmetric (CLIP)
//! loss and its gradients come from the device, and the towers' weights take plain gradient
//! steps on the host. The loss goes down; ln K − L, a lower bound on I(X; Y) (InfoNCE), goes
//! up, short of the truth: a bilinear critic ⟨W_x x, W_y y⟩ cannot hold the Gaussian's log
//! density ratio, which also has terms in |x|² and |y|².
//!
//! cargo run --release --example contrastive

use infobound::experiments::tasks;
use infobound::gpu::GpuContext;
use infobound::losses::contrastive::ContrastiveLoss;
use infobound::losses::contrastive::{ContrastiveConfig, ContrastiveForm};

/// Rows of `a` (rows × cols) times Wᵀ (w is out × cols): rows × out.
fn project(a: &[f32], w: &[f32], cols: usize) -> Vec<f32> {
    a.chunks(cols)
        .flat_map(|row| {
            w.chunks(cols)
                .map(|wr| row.iter().zip(wr).map(|(p, q)| p * q).sum::<f32>())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// dW = dEᵀ·A (out × cols) for E = A·Wᵀ.
fn weight_grad(de: &[f32], a: &[f32], cols: usize, out: usize) -> Vec<f32> {
    let mut dw = vec![0.0f32; out * cols];
    for (drow, arow) in de.chunks(out).zip(a.chunks(cols)) {
        for (o, &d) in drow.iter().enumerate() {
            for (c, &v) in arow.iter().enumerate() {
                dw[o * cols + c] += d * v;
            }
        }
    }
    dw
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = GpuContext::new()?;
    println!("device: {}", ctx.adapter());
    let (d, e, k, n, rho) = (4usize, 16usize, 256usize, 8_192usize, 0.8f64);
    let truth = tasks::gaussian_mi(d, rho);
    let (x, y) = tasks::correlated_gaussian(d, rho, n, 11);
    let config = ContrastiveConfig::default()
        .with_form(ContrastiveForm::Symmetric)
        .with_temperature(0.5);
    let loss = ContrastiveLoss::new(&ctx, config, k, e)?;
    // Small random towers (deterministic), e × d each.
    let init = |salt: u64| -> Vec<f32> {
        let mut s = infobound::math::rng::Stream::new(salt, infobound::math::rng::Purpose::Init);
        (0..e * d).map(|_| s.uniform_range(-0.3, 0.3)).collect()
    };
    let (mut wx, mut wy) = (init(1), init(2));
    let lr = 0.05;
    println!(
        "K = {k}, e = {e}, T = 0.5; true I(X;Y) = {truth:.3} nats, ln K = {:.3}",
        (k as f64).ln()
    );
    let mut window = 0.0;
    for step in 0..200 {
        let b = step % (n / k);
        let (xb, yb) = (
            &x[b * k * d..(b + 1) * k * d],
            &y[b * k * d..(b + 1) * k * d],
        );
        let (g, h) = (project(xb, &wx, d), project(yb, &wy, d));
        let out = loss.compute(&g, &h)?;
        // Each step sees a different minibatch: the last 50 steps are averaged too.
        if step >= 150 {
            window += out.loss / 50.0;
        }
        if [0, 2, 5, 10, 20, 50, 100, 199].contains(&step) {
            println!(
                "step {step:3}  loss {:.4}  ln K − loss {:.4}",
                out.loss,
                (k as f64).ln() - out.loss
            );
        }
        for (w, dw) in [
            (&mut wx, weight_grad(&out.dg, xb, d, e)),
            (&mut wy, weight_grad(&out.dh, yb, d, e)),
        ] {
            for (p, g) in w.iter_mut().zip(dw) {
                *p -= lr * g;
            }
        }
    }
    println!(
        "last 50 steps: mean loss {window:.4}, ln K − loss {:.4}",
        (k as f64).ln() - window
    );
    Ok(())
}
