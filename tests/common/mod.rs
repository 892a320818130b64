//! Shared by the GPU test files: the adapter, and comparisons with stated tolerances.
#![allow(dead_code)]

use infobound::gpu::GpuContext;

pub mod cli;
pub mod known_density;

/// The context the GPU tests run on. With `INFOBOUND_REQUIRE_GPU=1` (CI) a missing adapter
/// fails the test; otherwise the test says loudly that it was skipped.
pub fn gpu() -> Option<GpuContext> {
    match GpuContext::new() {
        Ok(ctx) => {
            eprintln!("adapter: {}", ctx.adapter());
            Some(ctx)
        }
        Err(e) if infobound::backend::gpu_required() => {
            panic!("INFOBOUND_REQUIRE_GPU=1 but no adapter: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED (no GPU adapter; set INFOBOUND_REQUIRE_GPU=1 to fail instead): {e}");
            None
        }
    }
}

/// Deterministic pseudo-random values in [-1, 1).
pub fn values(n: usize, salt: u64) -> Vec<f32> {
    let mut s = infobound::math::rng::Stream::new(salt, infobound::math::rng::Purpose::Proposal);
    (0..n).map(|_| s.uniform_range(-1.0, 1.0)).collect()
}

/// Max |got − want| / max(max |want|, floor): a norm-wise relative error.
pub fn rel_err(got: &[f32], want: &[f32], floor: f64) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want
        .iter()
        .map(|v| f64::from(v.abs()))
        .fold(floor, f64::max);
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            let d = (f64::from(*g) - f64::from(*w)).abs();
            if d.is_nan() {
                f64::INFINITY
            } else {
                d
            }
        })
        .fold(0.0, f64::max)
        / scale
}

/// Every bound, with parameters that make their special paths bite at test scale: SMILE's clip
/// at 1.5 is reached by random scores, and α = 0.3 weighs both halves of α-InfoNCE.
pub const BOUNDS: [infobound::math::bounds::Bound; 8] = {
    use infobound::math::bounds::Bound;
    [
        Bound::InfoNce,
        Bound::Nwj,
        Bound::Tuba,
        Bound::Dv,
        Bound::Mine { gamma: 0.9 },
        Bound::Js,
        Bound::Smile { tau: 1.5 },
        Bound::AlphaInfoNce { alpha: 0.3 },
    ]
};

/// A second context on the default context's adapter whose device is opened with lowered
/// limits (`lower` edits the adapter's own), so tests reach limits with small buffers: wgpu
/// then refuses anything past them, as a real device would past its own.
pub fn gpu_with_limits(lower: impl FnOnce(&mut wgpu::Limits)) -> Option<GpuContext> {
    let wide = gpu()?;
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
    let instance = wgpu::Instance::new(desc);
    let adapter = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .find(|a| a.get_info().name == wide.adapter().name)
        .expect("the default context's adapter is listed");
    let mut limits = adapter.limits();
    lower(&mut limits);
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("lowered limits"),
        required_limits: limits,
        ..Default::default()
    }))
    .expect("a device with lower limits");
    Some(GpuContext::from_device(device, queue, &adapter.get_info()))
}

/// Paired rows of `d`-dimensional x and y with no known marginal (p(y) = N(0, I)).
pub fn joint<'a>(x: &'a [f32], y: &'a [f32], d: usize) -> infobound::math::spec::TrainData<'a> {
    infobound::math::spec::TrainData {
        x,
        dx: d,
        y,
        dy: d,
        log_marginal: None,
    }
}

/// The central finite difference in parameter `i` of the loss (−objective at step 0), with
/// the step 1e-3 taken in f32 and divided by the step actually taken, and its relative error
/// against the backward pass's `analytic[i]`: |fd − g| / (1e-3 + |g|). Returns (fd, error).
pub fn central_difference(
    work: &mut infobound::cpu::Workspace,
    params: &[f32],
    analytic: &[f32],
    i: usize,
) -> (f64, f64) {
    let h = 1e-3f32;
    let (mut up, mut down) = (params.to_vec(), params.to_vec());
    up[i] += h;
    down[i] -= h;
    let fd = -(work.objective(&up, 0) - work.objective(&down, 0)) / f64::from(up[i] - down[i]);
    let err = (fd - f64::from(analytic[i])).abs() / (1e-3 + f64::from(analytic[i].abs()));
    (fd, err)
}

/// A column-sum case of `rows` × `cols` inside a padded buffer (leading dimension cols + 2,
/// input from offset 4, output from offset 3): its spec, the input, and the f64 reference's
/// output (NaN before offset 3).
pub fn column_sum_case(
    rows: usize,
    cols: usize,
) -> (infobound::math::linalg::ColumnSumSpec, Vec<f32>, Vec<f32>) {
    let ld = cols + 2;
    let src = values(4 + rows * ld, (rows * cols) as u64);
    let spec = infobound::math::linalg::ColumnSumSpec {
        rows,
        cols,
        ld,
        in_off: 4,
        out_off: 3,
    };
    let mut want = vec![f32::NAN; cols + 3];
    infobound::cpu::ops::column_sums(&spec, &src, &mut want);
    (spec, src, want)
}

/// C's m × n block in a GEMM's output buffer, row i read from `c_off + i·ldc`: what the kernel
/// writes (the padding around it stays as it was, NaN in the tests).
pub fn gemm_block(spec: &infobound::math::linalg::GemmSpec, c: &[f32]) -> Vec<f32> {
    (0..spec.m)
        .flat_map(|i| c[spec.c_off + i * spec.ldc..][..spec.n].to_vec())
        .collect()
}

/// Asserts that the backward pass's gradient `analytic[i]` of every parameter `i` in `range`
/// is within 2e-2 relative of its [`central_difference`]; `what` names the parameters in the
/// failure message ("parameter", "critic parameter").
pub fn assert_central_differences(
    work: &mut infobound::cpu::Workspace,
    params: &[f32],
    analytic: &[f32],
    range: std::ops::Range<usize>,
    what: &str,
) {
    for i in range {
        let (fd, err) = central_difference(work, params, analytic, i);
        assert!(
            err < 2e-2,
            "{what} {i}: finite difference {fd} vs backward {}",
            analytic[i]
        );
    }
}
