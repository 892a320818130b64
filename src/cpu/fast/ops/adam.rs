//! One Adam step over flat buffers, as `adam_step` in `adam.wgsl`, in f32 (the bias
//! corrections in f64, rounded once a step). Element-wise, so any split gives the same bits.

use crate::cpu::fast::pool::Pool;
use crate::math::optim::AdamConfig;

/// Parameters a block of the update covers.
const BLOCK: usize = 1 << 14;

/// One Adam step at t (1-based). Panics if the buffers differ in length.
pub fn adam_step(
    pool: &Pool,
    config: &AdamConfig,
    t: u32,
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    let n = params.len();
    assert!(grads.len() == n && m.len() == n && v.len() == n);
    let (lr, b1, b2) = (
        f64::from(config.lr),
        f64::from(config.beta1),
        f64::from(config.beta2),
    );
    let wd = f64::from(config.weight_decay);
    let t = t.min(i32::MAX as u32) as i32;
    let bc1 = 1.0 - b1.powi(t);
    let bc2 = 1.0 - b2.powi(t);
    let step = (lr / bc1) as f32;
    let inv_sqrt_bc2 = (1.0 / bc2.sqrt()) as f32;
    let decay = (1.0 - lr * wd) as f32;
    let (b1, b2, wd) = (config.beta1, config.beta2, config.weight_decay);
    let (c1, c2) = (1.0 - b1, 1.0 - b2);
    let eps = config.eps;
    let decoupled = config.decoupled;
    pool.chunks3_mut((params, m, v), BLOCK, n * 4, |blk, w, m, v| {
        let g = &grads[blk * BLOCK..blk * BLOCK + w.len()];
        for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let mut g = g;
            if decoupled {
                *w *= decay;
            } else {
                g += wd * *w;
            }
            let mt = b1 * *m + c1 * g;
            let vt = b2 * *v + c2 * g * g;
            let denom = vt.sqrt() * inv_sqrt_bc2 + eps;
            *w -= step * mt / denom;
            *m = mt;
            *v = vt;
        }
    });
}
