//! One backend trait and one factory: what the estimator and every experiment train through,
//! so that the choice of device is made in one place ([`open`]) and each backend only runs the
//! step program's ops.
//!
//! The rule of [`DeviceChoice::Auto`] is fixed, not timed, so the bits of a run never depend
//! on the machine's load: a hardware adapter when there is one; with only a software adapter
//! (llvmpipe, SwiftShader, WARP) the fast CPU backend, which is far faster there (measured on
//! a 2-core machine: the bmi configuration 679 steps/s against lavapipe's 8.4, the standard
//! configuration at K = 64 501 against 7.4; BENCHMARKS.md); the adapter anyway under
//! `INFOBOUND_REQUIRE_GPU=1`; the fast CPU backend with a warning when there is no adapter at
//! all. The f64 CPU reference is only ever taken when asked for
//! ([`DeviceChoice::CpuReference`]).

mod cpu;
mod error;
mod gpu;
mod options;
mod replicated;

use std::fmt;
use std::str::FromStr;

pub use crate::gpu::{AdapterSummary, GpuContext, GpuError};
/// How a GPU picks its kernels' geometry ([`RunOptions::geometry`]).
pub use crate::gpu::{GeometryChoice, KernelGeometry};
pub use error::BackendError;
pub use options::{CancelToken, RunOptions};
pub use replicated::{check_replicas, Lockstep, Replica, Replicated};

use crate::math::spec::{Batches, TrainData, TrainSpec};

/// Where training runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceChoice {
    /// A hardware GPU when there is one; else the CPU backend (see the module doc for the
    /// rule and its exceptions).
    #[default]
    Auto,
    /// The best adapter, software or not, or an error.
    Gpu,
    /// Adapter `i` in `infobound devices` order (best first), to tell identical cards apart.
    Adapter(usize),
    /// The fast CPU backend: f32 on every core ([`RunOptions::threads`]).
    Cpu,
    /// The f64 CPU reference backend: single-threaded, the oracle the GPU kernels and the
    /// fast CPU backend are tested against.
    CpuReference,
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Gpu => f.write_str("gpu"),
            DeviceChoice::Adapter(i) => write!(f, "gpu:{i}"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::CpuReference => f.write_str("cpu-reference"),
        }
    }
}

/// The error of [`DeviceChoice::from_str`]: the text given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown device {given:?} (auto, gpu, gpu:N, cpu or cpu-reference)")]
pub struct UnknownDevice {
    /// The text that named no device.
    pub given: String,
}

impl FromStr for DeviceChoice {
    type Err = UnknownDevice;

    /// `auto`, `gpu`, `gpu:N` (adapter N), `cpu` (the fast CPU backend) or `cpu-reference`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownDevice {
            given: s.to_string(),
        };
        match s.trim() {
            "auto" => Ok(DeviceChoice::Auto),
            "gpu" => Ok(DeviceChoice::Gpu),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cpu-reference" => Ok(DeviceChoice::CpuReference),
            other => other
                .strip_prefix("gpu:")
                .and_then(|i| i.parse().ok())
                .map(DeviceChoice::Adapter)
                .ok_or_else(unknown),
        }
    }
}

/// One part of the held-out rows, and how it is evaluated.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum HeldOut<'a> {
    /// `batches` fixed batches of `k` rows drawn from `data`; one value each.
    Batches {
        /// The held-out rows.
        data: TrainData<'a>,
        /// Rows a batch (at most the spec's K and the rows of `data`).
        k: usize,
        /// Batches per evaluation.
        batches: u32,
    },
    /// All rows of `data` as one batch (K = rows), the standard error from `blocks` row
    /// blocks ([`crate::math::split_eval`]); only where [`Backend::whole_split_applies`].
    WholeSplit {
        /// The held-out rows.
        data: TrainData<'a>,
        /// Row blocks of the standard error.
        blocks: u32,
    },
}

impl<'a> HeldOut<'a> {
    /// The rows of this part.
    pub fn data(&self) -> TrainData<'a> {
        match *self {
            HeldOut::Batches { data, .. } | HeldOut::WholeSplit { data, .. } => data,
        }
    }
}

/// The held-out rows in two parts (SPEC §6): the step is chosen on `select`, evaluated after
/// every block of steps, and the chosen step's critic is read out once on `report`, so that
/// the reported number carries no selection bias.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct HeldOutParts<'a> {
    /// Evaluated at every evaluation ([`Trainer::evaluate`]).
    pub select: HeldOut<'a>,
    /// Read once, with the chosen critic ([`Trainer::read_out`]).
    pub report: HeldOut<'a>,
}

impl<'a> HeldOutParts<'a> {
    /// Both parts.
    pub fn new(select: HeldOut<'a>, report: HeldOut<'a>) -> Self {
        Self { select, report }
    }
}

/// What one evaluation on the held-out rows read.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum HeldOutValues {
    /// The bound on each evaluation batch, nats (any may be non-finite).
    Batches(Vec<f32>),
    /// The bound on the whole split and its row-block standard error, nats.
    WholeSplit {
        /// The value (may be non-finite).
        mi: f64,
        /// Its standard error.
        std_err: f64,
        /// The value on each row block the standard error comes from.
        blocks: Vec<f64>,
    },
}

/// The read-out of a chosen critic on the report part.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ReadOut {
    /// The trained bound on the report part, evaluated as that part asks.
    pub values: HeldOutValues,
    /// The cross-check ([`crate::math::cross_check`]): InfoNCE over every pair of the report
    /// part at once (K = its rows), as one term per row in data order; `None` for a critic
    /// that does not score every pair.
    pub infonce_terms: Option<Vec<f64>>,
    /// A whole-split read-out's draw order: its row blocks are contiguous runs of it.
    pub draw_order: Option<Vec<usize>>,
}

/// A critic being trained on a backend, step by step.
pub trait Trainer {
    /// Takes `steps` steps; returns the bound's value at each, or where the run diverged or
    /// was cancelled (checked between submissions).
    fn train(&mut self, steps: u32) -> Result<Vec<f32>, BackendError>;
    /// The bound with the current critic on the selection part of the held-out rows.
    fn evaluate(&mut self) -> Result<HeldOutValues, BackendError>;
    /// The critic `params` (a snapshot of [`Trainer::parameters`]) read out on the report part
    /// of the held-out rows: the trained bound and the InfoNCE cross-check. The critic being
    /// trained is left as it is.
    fn read_out(&mut self, params: &[f32]) -> Result<ReadOut, BackendError>;
    /// The current parameters (flat, in the spec's network order).
    fn parameters(&self) -> Result<Vec<f32>, BackendError>;
    /// The global L2 norm of the gradient (before any clip) at each step trained since the
    /// last call, in order; a run that diverged keeps at least the steps before the bad one.
    fn take_grad_norms(&mut self) -> Vec<f32>;
    /// Steps taken so far.
    fn step(&self) -> u64;
    /// Where it runs, for reports.
    fn device_name(&self) -> String;
}

/// A device that trains critics: the GPU through wgpu, or the CPU (fast, or the reference).
pub trait Backend {
    /// The device, for reports.
    fn device_name(&self) -> String;
    /// The GPU context, for the losses and experiments that launch kernels of their own;
    /// `None` on the CPU.
    fn gpu(&self) -> Option<&GpuContext>;
    /// Whether [`HeldOut::WholeSplit`] can evaluate `spec` on `rows` rows here.
    fn whole_split_applies(&self, spec: &TrainSpec, rows: usize) -> bool;
    /// A trainer for `spec` on `batches`, evaluating on the parts of `held_out`.
    fn trainer<'a>(
        &'a self,
        spec: &TrainSpec,
        batches: Batches<'_>,
        held_out: Option<HeldOutParts<'_>>,
        options: &RunOptions,
    ) -> Result<Box<dyn Trainer + 'a>, BackendError>;
    /// The `replicas` trained side by side ([`replicated`](crate::backend::Replicated)): by
    /// default one solo trainer a replica, stepped in turn; a backend with a replicated
    /// program of its own runs them in the same launches. Replica r gives its solo bits.
    fn replicated<'a>(
        &'a self,
        replicas: &[Replica<'_>],
        options: &RunOptions,
    ) -> Result<Box<dyn Replicated + 'a>, BackendError> {
        Ok(Box::new(Lockstep::new(self, replicas, options)?))
    }
}

/// An opened backend, why it was chosen, and what the user should know about it.
#[non_exhaustive]
pub struct Opened {
    /// The backend.
    pub backend: Box<dyn Backend>,
    /// Why this device: the rule of [`DeviceChoice::Auto`] or the explicit choice.
    pub reason: String,
    /// A fallback to the CPU, or a software adapter.
    pub warnings: Vec<String>,
}

/// The error of an evaluation asked of a trainer built without held-out rows (both backends).
fn no_held_out() -> BackendError {
    crate::math::spec::SpecError::NoEvaluationData.into()
}

/// The threads the host offers, for the work a backend runs on the CPU (1 when unknown).
fn host_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// True when `INFOBOUND_REQUIRE_GPU=1`: `auto` then takes any adapter, even a software one,
/// and a missing adapter is an error, never a fallback.
pub fn gpu_required() -> bool {
    std::env::var("INFOBOUND_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

/// Opens the backend `choice` asks for (the one place the device is chosen).
pub fn open(choice: DeviceChoice) -> Result<Opened, BackendError> {
    let mut warnings = Vec::new();
    let (backend, reason): (Box<dyn Backend>, String) = match choice {
        DeviceChoice::Cpu => (
            Box::new(cpu::CpuBackend::fast()),
            "asked for the CPU".into(),
        ),
        DeviceChoice::CpuReference => (
            Box::new(cpu::CpuBackend::reference()),
            "asked for the CPU reference".into(),
        ),
        DeviceChoice::Gpu => (
            Box::new(gpu::GpuBackend::new(GpuContext::new()?)),
            "asked for the GPU".into(),
        ),
        DeviceChoice::Adapter(i) => (
            Box::new(gpu::GpuBackend::new(GpuContext::with_adapter(i)?)),
            format!("asked for adapter {i}"),
        ),
        DeviceChoice::Auto => {
            let chosen = crate::gpu::list_adapters()
                .into_iter()
                .find_map(|(a, chosen)| chosen.then_some(a));
            match chosen {
                Some(a) if !a.is_software => (
                    Box::new(gpu::GpuBackend::new(GpuContext::new()?)),
                    format!("auto: {} is a hardware adapter", a.name),
                ),
                Some(a) if gpu_required() => (
                    Box::new(gpu::GpuBackend::new(GpuContext::new()?)),
                    format!(
                        "auto: only the software adapter {} was found, taken because \
                         INFOBOUND_REQUIRE_GPU=1",
                        a.name
                    ),
                ),
                Some(a) => (
                    Box::new(cpu::CpuBackend::fast()),
                    format!(
                        "auto: only the software adapter {} was found, and the CPU backend is \
                         faster there (--device gpu takes the adapter)",
                        a.name
                    ),
                ),
                // None listed: opening says why (no driver, or the name filter).
                None => match GpuContext::new() {
                    Ok(ctx) => (
                        Box::new(gpu::GpuBackend::new(ctx)),
                        "auto: the only adapter".into(),
                    ),
                    Err(e) if gpu_required() => return Err(e.into()),
                    Err(e) => {
                        warnings.push(format!("{e}; training on the CPU backend"));
                        (
                            Box::new(cpu::CpuBackend::fast()),
                            "auto: no GPU adapter".into(),
                        )
                    }
                },
            }
        }
    };
    if let Some(ctx) = backend.gpu() {
        if ctx.adapter().is_software {
            warnings.push(format!(
                "{} is a software adapter: correct, but slower than a GPU",
                ctx.adapter().name
            ));
        }
    }
    Ok(Opened {
        backend,
        reason,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse() {
        assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
        assert_eq!("gpu".parse(), Ok(DeviceChoice::Gpu));
        assert_eq!("gpu:1".parse(), Ok(DeviceChoice::Adapter(1)));
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cpu-reference".parse(), Ok(DeviceChoice::CpuReference));
        assert!("gpu:x".parse::<DeviceChoice>().is_err());
        assert!("tpu".parse::<DeviceChoice>().is_err());
        for d in [
            DeviceChoice::Auto,
            DeviceChoice::Adapter(3),
            DeviceChoice::Cpu,
            DeviceChoice::CpuReference,
        ] {
            assert_eq!(d.to_string().parse(), Ok(d));
        }
    }
}
