//! The GPU backend: device context, pipeline cache, typed kernel launches and the trainer.

mod batch_eval;
mod buffer;
pub mod clip;
mod context;
mod dispatch;
mod error;
pub mod geometry;
pub mod kernels;
mod pipelines;
mod replicas;
mod rows;
pub mod shaders;
mod split_eval;
pub mod timing;
mod trainer;
pub mod tune;

pub use batch_eval::BatchEvaluator;
pub use buffer::GpuBuffer;
pub use context::{list_adapters, AdapterSummary, GpuContext};
pub use dispatch::Dispatch;
pub use error::GpuError;
pub use geometry::{
    FusedGeometry, GemmGeometry, GeometryChoice, KernelGeometry, PairGeometry, ReduceGeometry,
};
pub use replicas::{ReplicaBatches, ReplicaSteps};
pub use rows::{DeviceRows, MAX_PARTS};
pub use split_eval::SplitEvaluator;
pub use trainer::GpuTrainer;
pub use tune::{FamilyTable, FusedPass, Timed, TuneRow, TuneTable};
