//! The device context: adapter choice, device with the adapter's own limits, error capture.

use std::sync::{Arc, Mutex};

use super::error::GpuError;
use super::pipelines::PipelineCache;

/// What infobound reports about an adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSummary {
    /// The driver's name for the adapter, e.g. "NVIDIA H100" or "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Vulkan, Metal, Dx12 …
    pub backend: String,
    /// Discrete, integrated, virtual, CPU or other.
    pub device_type: String,
    /// Driver name and version as the adapter reports them.
    pub driver: String,
    /// True for software rasterisers (llvmpipe/lavapipe, WARP, SwiftShader) and CPU-type adapters:
    /// correct, but no measure of GPU speed.
    pub is_software: bool,
    /// Largest storage-buffer binding, bytes.
    pub max_storage_binding: u64,
    /// Largest buffer, bytes.
    pub max_buffer: u64,
    /// Workgroups per dispatch dimension.
    pub max_workgroups_per_dim: u32,
}

impl AdapterSummary {
    fn from_adapter(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let limits = adapter.limits();
        Self::from_info(&info, &limits)
    }

    /// Builds the summary from wgpu's adapter info and limits.
    pub fn from_info(info: &wgpu::AdapterInfo, limits: &wgpu::Limits) -> Self {
        let is_software = is_software(info);
        Self {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            is_software,
            max_storage_binding: limits.max_storage_buffer_binding_size,
            max_buffer: limits.max_buffer_size,
            max_workgroups_per_dim: limits.max_compute_workgroups_per_dimension,
        }
    }
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}", self.name, self.backend, self.device_type)?;
        if self.is_software {
            write!(f, ", software")?;
        }
        write!(f, ")")
    }
}

/// Higher is better: discrete > integrated > virtual > other > CPU, software last.
/// Names (lower case) of the software rasterisers that may report a device type other than
/// `Cpu`: Mesa's llvmpipe (lavapipe), Google's SwiftShader, Microsoft's WARP. The one list both
/// the ranking and [`AdapterSummary::is_software`] read.
pub const SOFTWARE_ADAPTER_NAMES: [&str; 5] = [
    "llvmpipe",
    "lavapipe",
    "swiftshader",
    "warp",
    "microsoft basic render",
];

/// Whether the adapter is a software rasteriser: a `Cpu` device type, or a name in
/// [`SOFTWARE_ADAPTER_NAMES`].
pub fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let lower = info.name.to_lowercase();
    info.device_type == wgpu::DeviceType::Cpu
        || SOFTWARE_ADAPTER_NAMES.iter().any(|s| lower.contains(s))
}

/// The adapter's rank, higher first: discrete, integrated, virtual, other; every software
/// rasteriser last, whatever type it reports.
pub fn adapter_rank(info: &wgpu::AdapterInfo) -> u32 {
    if is_software(info) {
        return 0;
    }
    match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 4,
        wgpu::DeviceType::IntegratedGpu => 3,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 1,
        wgpu::DeviceType::Cpu => 0,
    }
}

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    // WGPU_BACKEND narrows the backends; without it, every native backend compiled in.
    desc.backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
    wgpu::Instance::new(desc)
}

/// Every adapter wgpu sees (after `WGPU_BACKEND`), best first, with whether it matches
/// `WGPU_ADAPTER_NAME`.
fn ranked_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.sort_by_key(|a| std::cmp::Reverse(adapter_rank(&a.get_info())));
    adapters
}

fn name_filter() -> Option<String> {
    std::env::var("WGPU_ADAPTER_NAME")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.to_lowercase())
}

/// Lists every adapter visible to infobound, best first; the first one that passes the
/// `WGPU_ADAPTER_NAME` filter is the one [`GpuContext::new`] opens.
pub fn list_adapters() -> Vec<(AdapterSummary, bool)> {
    let instance = instance();
    let filter = name_filter();
    let mut picked = false;
    ranked_adapters(&instance)
        .iter()
        .map(|a| {
            let summary = AdapterSummary::from_adapter(a);
            let matches = filter
                .as_ref()
                .is_none_or(|f| summary.name.to_lowercase().contains(f));
            let chosen = matches && !picked;
            picked |= chosen;
            (summary, chosen)
        })
        .collect()
}

/// Errors wgpu raised asynchronously (uncaptured errors, device loss), kept until checked.
#[derive(Default)]
pub(crate) struct ErrorSink {
    errors: Mutex<Vec<String>>,
    lost: Mutex<Option<String>>,
}

/// A device, its queue, the adapter it came from and the compiled pipelines.
///
/// Cheap to share by reference; every kernel wrapper borrows one.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    summary: AdapterSummary,
    limits: wgpu::Limits,
    pub(crate) pipelines: PipelineCache,
    sink: Arc<ErrorSink>,
    /// A small storage buffer bound where a kernel's layout declares an operand that this
    /// launch does not read (one binding layout a family, whatever the variant).
    placeholder: std::sync::OnceLock<wgpu::Buffer>,
    /// How kernel geometries are picked, the tuning cache and what was used (`tune/`).
    pub(crate) geometry: std::sync::Mutex<super::tune::GeometryState>,
}

impl GpuContext {
    /// Opens the best adapter: `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` (a case-insensitive
    /// substring) narrow the choice; among the rest a discrete GPU wins, a software one loses.
    /// The device is opened with the adapter's own limits, not WebGPU's defaults.
    pub fn new() -> Result<Self, GpuError> {
        let instance = instance();
        let filter = name_filter();
        let adapter = ranked_adapters(&instance)
            .into_iter()
            .find(|a| {
                filter
                    .as_ref()
                    .is_none_or(|f| a.get_info().name.to_lowercase().contains(f))
            })
            .ok_or_else(|| match &filter {
                Some(f) => GpuError::NoAdapter {
                    hint: format!(" whose name contains {f:?} (WGPU_ADAPTER_NAME)"),
                },
                None => GpuError::NoAdapter {
                    hint: " (install a Vulkan, Metal or DX12 driver; on headless Linux: apt-get \
                           install mesa-vulkan-drivers)"
                        .into(),
                },
            })?;
        Self::open(adapter)
    }

    /// Opens adapter `index` of [`list_adapters`]' order (best first, after `WGPU_BACKEND`;
    /// `WGPU_ADAPTER_NAME` is not applied), so that two identical cards can be told apart.
    pub fn with_adapter(index: usize) -> Result<Self, GpuError> {
        let instance = instance();
        let adapters = ranked_adapters(&instance);
        let count = adapters.len();
        let adapter = adapters
            .into_iter()
            .nth(index)
            .ok_or(GpuError::NoSuchAdapter { index, count })?;
        Self::open(adapter)
    }

    /// Opens a device on `adapter` with the adapter's own limits.
    fn open(adapter: wgpu::Adapter) -> Result<Self, GpuError> {
        let summary = AdapterSummary::from_adapter(&adapter);
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("infobound"),
            // Timestamps where offered, for the tuner and the benchmarks; subgroups where
            // offered, for the reductions that may use them (a geometry choice).
            required_features: adapter.features()
                & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::RequestDevice {
            adapter: summary.name.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self::from_parts(device, queue, summary, limits))
    }

    /// Wraps a device the caller already owns, so infobound shares it (and its buffers).
    /// `info` is the adapter's info, for reports.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: &wgpu::AdapterInfo) -> Self {
        let limits = device.limits();
        let summary = AdapterSummary::from_info(info, &limits);
        Self::from_parts(device, queue, summary, limits)
    }

    fn from_parts(
        device: wgpu::Device,
        queue: wgpu::Queue,
        summary: AdapterSummary,
        limits: wgpu::Limits,
    ) -> Self {
        let sink = Arc::new(ErrorSink::default());
        // wgpu's default handler panics; we record the error and turn it into a GpuError at the
        // next synchronisation point instead.
        let errors = Arc::clone(&sink);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            errors
                .errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(e.to_string());
        }));
        let lost = Arc::clone(&sink);
        device.set_device_lost_callback(move |reason, message| {
            *lost.lost.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(format!("{reason:?}: {message}"));
        });
        Self {
            pipelines: PipelineCache::new(),
            device,
            queue,
            summary,
            limits,
            sink,
            placeholder: std::sync::OnceLock::new(),
            geometry: std::sync::Mutex::default(),
        }
    }

    /// The placeholder storage buffer (16 bytes, never written), created at first use.
    pub(crate) fn placeholder(&self) -> &wgpu::Buffer {
        self.placeholder.get_or_init(|| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("placeholder operand"),
                size: 16,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        })
    }

    /// The adapter this context runs on.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.summary
    }

    /// The device's limits (the adapter's own).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The wgpu device, for callers that share it.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue, for callers that share it.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// How many distinct pipelines this context has compiled so far.
    pub fn compiled_pipelines(&self) -> usize {
        self.pipelines.len()
    }

    /// Fails if a storage buffer of `bytes` would not fit the adapter.
    pub fn check_storage_size(&self, what: &str, bytes: u64) -> Result<(), GpuError> {
        let (name, limit) = if bytes > self.limits.max_buffer_size {
            ("max_buffer_size", self.limits.max_buffer_size)
        } else if bytes > self.limits.max_storage_buffer_binding_size {
            (
                "max_storage_buffer_binding_size",
                self.limits.max_storage_buffer_binding_size,
            )
        } else {
            return Ok(());
        };
        Err(GpuError::TooLarge {
            what: what.into(),
            bytes,
            limit_name: name,
            limit,
        })
    }

    /// Fails if `groups` workgroups do not fit one dispatch dimension.
    pub fn check_workgroups(&self, what: &str, groups: u64) -> Result<u32, GpuError> {
        let limit = self.limits.max_compute_workgroups_per_dimension;
        if groups > u64::from(limit) {
            return Err(GpuError::TooManyWorkgroups {
                what: what.into(),
                groups,
                limit,
            });
        }
        Ok(groups as u32)
    }

    /// Waits for all submitted work, then reports any error wgpu raised since the last check.
    pub fn sync(&self) -> Result<(), GpuError> {
        let polled = self.device.poll(wgpu::PollType::wait_indefinitely());
        self.take_errors()?;
        polled.map(|_| ()).map_err(|e| GpuError::Poll {
            reason: e.to_string(),
        })
    }

    /// Reports (and clears) errors raised since the last check; device loss is permanent.
    pub fn take_errors(&self) -> Result<(), GpuError> {
        if let Some(lost) = self
            .sink
            .lost
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(GpuError::DeviceLost { reason: lost });
        }
        let mut errors = self.sink.errors.lock().unwrap_or_else(|p| p.into_inner());
        if errors.is_empty() {
            Ok(())
        } else {
            let all = errors.join("; ");
            errors.clear();
            Err(GpuError::Wgpu { message: all })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, device_type: wgpu::DeviceType) -> wgpu::AdapterInfo {
        wgpu::AdapterInfo {
            name: name.into(),
            ..wgpu::AdapterInfo::new(device_type, wgpu::Backend::Vulkan)
        }
    }

    /// The ranking and the summary read one list: every software rasteriser, whatever
    /// device type it reports, ranks last and is flagged (before, WARP and lavapipe reporting
    /// another type were flagged but ranked as hardware).
    #[test]
    fn software_adapters_rank_last_and_are_flagged_alike() {
        let limits = wgpu::Limits::default();
        for name in [
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            "lavapipe",
            "SwiftShader Device (Subzero)",
            "Microsoft Basic Render Driver",
            "WARP",
        ] {
            for kind in [wgpu::DeviceType::Other, wgpu::DeviceType::VirtualGpu] {
                let i = info(name, kind);
                assert_eq!(adapter_rank(&i), 0, "{name} as {kind:?}");
                assert!(AdapterSummary::from_info(&i, &limits).is_software, "{name}");
            }
        }
        let gpu = info("NVIDIA H200", wgpu::DeviceType::DiscreteGpu);
        assert_eq!(adapter_rank(&gpu), 4);
        assert!(!AdapterSummary::from_info(&gpu, &limits).is_software);
    }
}
