//! `infobound devices`: every adapter wgpu sees, marking the one `auto` picks.

use infobound::gpu::list_adapters;

use crate::failure::{runtime, Failure};

/// Lists the adapters with their limits; none at all is a failure, with how to get one.
pub fn devices() -> Result<(), Failure> {
    let adapters = list_adapters();
    if adapters.is_empty() {
        return Err(runtime(
            "no GPU adapter found; estimates will run on the CPU reference backend \
             (install a Vulkan, Metal or DX12 driver; on headless Linux: apt-get install mesa-vulkan-drivers)",
        ));
    }
    for (a, chosen) in adapters {
        println!(
            "{} {}\n    backend {}, type {}{}, driver {}\n    max storage binding {} MiB, max buffer {} MiB, workgroups/dim {}",
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
    Ok(())
}
