//! Compiled pipelines, created once per context and cached by (family, entry, overrides).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::shaders::Family;

/// How a kernel sees one binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Binding {
    /// A small uniform block of parameters.
    Uniform,
    /// A storage buffer the kernel only reads.
    Read,
    /// A storage buffer the kernel writes.
    Write,
    /// A slot this entry point does not use (its family declares it for another entry).
    Unused,
}

/// Everything that makes two pipelines different.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KernelKey {
    pub family: Family,
    pub entry: &'static str,
    /// Pipeline-overridable constants, by name; integer-valued so the key can hash.
    pub overrides: Vec<(&'static str, i64)>,
    /// Template constants written into the module's source ([`Family::source_with`]): what an
    /// override cannot do, such as sizing a per-invocation array. Empty for most families.
    pub template: Vec<(&'static str, u32)>,
    /// Bindings 0.. of group 0, in order.
    pub bindings: Vec<Binding>,
}

/// A compiled pipeline and the layout its bind groups must follow.
pub(crate) struct Kernel {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

/// A module: its family and its template constants.
type ModuleKey = (Family, Vec<(&'static str, u32)>);

/// The pipeline cache of one context. Shader modules are compiled once per family and
/// pipelines once per key; lookups after the first are a hash-map hit.
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<ModuleKey, Arc<wgpu::ShaderModule>>>,
    kernels: Mutex<HashMap<KernelKey, Arc<Kernel>>>,
}

impl PipelineCache {
    pub fn new() -> Self {
        Self {
            modules: Mutex::default(),
            kernels: Mutex::default(),
        }
    }

    fn module(
        &self,
        device: &wgpu::Device,
        family: Family,
        template: &[(&'static str, u32)],
    ) -> Arc<wgpu::ShaderModule> {
        let mut modules = self.modules.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(
            modules
                .entry((family, template.to_vec()))
                .or_insert_with(|| {
                    Arc::new(device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(family.file_name()),
                        source: wgpu::ShaderSource::Wgsl(family.source_with(template).into()),
                    }))
                }),
        )
    }

    /// The pipeline for `key`, compiling it on first use.
    pub fn get(&self, device: &wgpu::Device, key: &KernelKey) -> Arc<Kernel> {
        if let Some(k) = self
            .kernels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
        {
            return Arc::clone(k);
        }
        let module = self.module(device, key.family, &key.template);
        let entries: Vec<wgpu::BindGroupLayoutEntry> = key
            .bindings
            .iter()
            .enumerate()
            .filter(|(_, b)| **b != Binding::Unused)
            .map(|(i, b)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match b {
                        Binding::Uniform => wgpu::BufferBindingType::Uniform,
                        Binding::Read => wgpu::BufferBindingType::Storage { read_only: true },
                        Binding::Write | Binding::Unused => {
                            wgpu::BufferBindingType::Storage { read_only: false }
                        }
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let label = format!("{}::{}", key.family.file_name(), key.entry);
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(&label),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(&label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let constants: Vec<(&str, f64)> =
            key.overrides.iter().map(|(n, v)| (*n, *v as f64)).collect();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&label),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(key.entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                zero_initialize_workgroup_memory: true,
            },
            cache: None,
        });
        let kernel = Arc::new(Kernel { pipeline, layout });
        self.kernels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone(), Arc::clone(&kernel));
        kernel
    }

    /// How many distinct pipelines have been compiled (for tests of the cache).
    pub fn len(&self) -> usize {
        self.kernels.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
