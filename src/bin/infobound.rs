//! The infobound command line.

use std::process::ExitCode;

use infobound::gpu::list_adapters;

const USAGE: &str = "\
infobound — mutual-information estimation on the GPU

USAGE:
    infobound devices      list every adapter wgpu sees, marking the one `auto` picks
    infobound help         this text

Environment: WGPU_BACKEND (vulkan, metal, dx12) and WGPU_ADAPTER_NAME (a substring) narrow the
adapters; INFOBOUND_REQUIRE_GPU=1 makes a missing GPU an error instead of a CPU fallback.";

fn devices() -> ExitCode {
    let adapters = list_adapters();
    if adapters.is_empty() {
        eprintln!(
            "no GPU adapter found; estimates will run on the CPU reference backend \
             (install a Vulkan, Metal or DX12 driver; on headless Linux: apt-get install mesa-vulkan-drivers)"
        );
        return ExitCode::from(1);
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
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("devices") => devices(),
        None | Some("help") | Some("--help") | Some("-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
