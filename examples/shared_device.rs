//! infobound on a wgpu device the caller created: the caller opens its own adapter and device,
//! hands them to infobound (`GpuContext::from_device`), keeps its embeddings and gradient
//! buffers in its own `wgpu::Buffer`s, and gets the contrastive loss computed on them with
//! only the loss read back; then trains an MI critic on the same device.
//!
//! cargo run --release --example shared_device

use infobound::experiments::tasks;
use infobound::gpu::{GpuContext, GpuTrainer};
use infobound::losses::contrastive::ContrastiveLoss;
use infobound::losses::contrastive::{ContrastiveConfig, ContrastiveForm};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::math::spec::{TrainData, TrainSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The caller's own device (any adapter; infobound does not choose it).
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("the caller's device"),
        required_limits: adapter.limits(),
        ..Default::default()
    }))?;
    let ctx = GpuContext::from_device(device.clone(), queue.clone(), &adapter.get_info());
    println!("shared device: {}", ctx.adapter());

    // The caller's embeddings G, H (K×e) and gradient buffers, in its own wgpu buffers.
    let (k, e) = (512usize, 32usize);
    let (x, y) = tasks::correlated_gaussian(e, 0.7, k, 3);
    let usage =
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
    let buffer = |label| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (k * e * 4) as u64,
            usage,
            mapped_at_creation: false,
        })
    };
    let (g, h, dg, dh) = (buffer("G"), buffer("H"), buffer("dG"), buffer("dH"));
    queue.write_buffer(&g, 0, bytemuck::cast_slice(&x));
    queue.write_buffer(&h, 0, bytemuck::cast_slice(&y));
    for form in [ContrastiveForm::InfoNce, ContrastiveForm::Symmetric] {
        let config = ContrastiveConfig::default()
            .with_form(form)
            .with_temperature(4.0);
        let loss = ContrastiveLoss::new(&ctx, config, k, e)?.compute_buffers(&g, &h, &dg, &dh)?;
        println!("{form:?} loss on the caller's buffers: {loss:.4} (ln K = {:.4}); dG, dH stay on the device", (k as f64).ln());
    }

    // An MI critic trained on the same device: InfoNCE, separable critic.
    let (x, y) = tasks::correlated_gaussian(2, 0.8, 4_096, 5);
    let data = TrainData {
        x: &x,
        dx: 2,
        y: &y,
        dy: 2,
        log_marginal: None,
    };
    let critic = CriticForm::Separable {
        hidden: vec![32],
        embed: 16,
    };
    let spec = TrainSpec::new(2, 2, critic, Bound::InfoNce, 256);
    let mut trainer = GpuTrainer::new(&ctx, &spec, data, None, 100)?;
    let values = trainer.train(300)?;
    let last: f32 = values[values.len() - 50..].iter().sum::<f32>() / 50.0;
    println!(
        "InfoNCE critic on the shared device: {:.3} nats over the last 50 of 300 steps (truth {:.3})",
        last,
        tasks::gaussian_mi(2, 0.8)
    );
    Ok(())
}
