//! `infobound devices`: every adapter wgpu sees with its index (`--device gpu:N`), the one
//! `--device gpu` opens marked, and what `--device auto` chooses and why.

use infobound::backend;
use infobound::gpu::list_adapters;
use infobound::DeviceChoice;

use crate::failure::{runtime, Failure};

/// Lists the adapters with their limits; none at all is a failure, with how to get one.
pub fn devices() -> Result<(), Failure> {
    let adapters = list_adapters();
    if adapters.is_empty() {
        return Err(runtime(
            "no GPU adapter found; estimates will run on the fast CPU backend \
             (install a Vulkan, Metal or DX12 driver; on headless Linux: apt-get install mesa-vulkan-drivers)",
        ));
    }
    for (i, (a, chosen)) in adapters.into_iter().enumerate() {
        println!(
            "{} gpu:{i} {}\n    backend {}, type {}{}, driver {}\n    max storage binding {} MiB, max buffer {} MiB, workgroups/dim {}",
            if chosen { "*" } else { " " },
            a.name,
            a.backend,
            a.device_type,
            if a.is_software { " (software)" } else { "" },
            if a.driver.is_empty() { "?" } else { &a.driver },
            a.max_storage_binding >> 20,
            a.max_buffer >> 20,
            a.max_workgroups_per_dim,
        );
    }
    match backend::open(DeviceChoice::Auto) {
        Ok(opened) => println!("{} ({})", opened.reason, opened.backend.device_name()),
        Err(e) => println!("auto: {e}"),
    }
    Ok(())
}
