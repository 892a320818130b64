//! Errors of the GPU layer.

use crate::math::spec::{Divergence, SpecError};

/// Everything that can go wrong while talking to a wgpu device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No adapter matched the request (no driver, or a `WGPU_BACKEND` / `WGPU_ADAPTER_NAME`
    /// filter that excludes every adapter).
    #[error("no GPU adapter found{hint}")]
    NoAdapter {
        /// Which filter excluded every adapter, or how to install a driver.
        hint: String,
    },
    /// An adapter index past the adapters found (`DeviceChoice::Adapter`, `--device gpu:N`).
    #[error("no GPU adapter {index}: {count} found (`infobound devices` lists them)")]
    NoSuchAdapter {
        /// The index asked for.
        index: usize,
        /// Adapters found.
        count: usize,
    },
    /// The adapter refused to open a device.
    #[error("could not open a device on {adapter}: {reason}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// What wgpu said.
        reason: String,
    },
    /// A buffer would exceed one of the adapter's limits.
    #[error("{what} needs {bytes} bytes, past the adapter's {limit_name} of {limit} bytes")]
    TooLarge {
        /// Which buffer.
        what: String,
        /// Its size.
        bytes: u64,
        /// The limit's name in `wgpu::Limits`.
        limit_name: &'static str,
        /// The limit's value.
        limit: u64,
    },
    /// A dispatch would need more workgroups than the adapter allows in one dimension.
    #[error(
        "{what} needs {groups} workgroups in one dimension, past the adapter's limit of {limit}"
    )]
    TooManyWorkgroups {
        /// Which kernel.
        what: String,
        /// Workgroups requested.
        groups: u64,
        /// `max_compute_workgroups_per_dimension`.
        limit: u32,
    },
    /// A launch would loop past what a software rasteriser runs correctly in one invocation
    /// (llvmpipe stops an invocation's loops after 65 535 iterations and carries on with wrong
    /// sums), so it is refused rather than computed wrong.
    #[error(
        "{what} loops {iterations} times in one invocation, past the {limit} a software adapter \
         runs correctly (llvmpipe's loop limit); use a smaller batch or a hardware GPU"
    )]
    SoftwareLoopLimit {
        /// Which kernel.
        what: String,
        /// Loop iterations one invocation would run.
        iterations: u64,
        /// The most a launch may ask for.
        limit: u64,
    },
    /// wgpu reported a validation or out-of-memory error.
    #[error("wgpu error: {message}")]
    Wgpu {
        /// wgpu's own text.
        message: String,
    },
    /// The device was lost (driver reset, GPU removed, timeout).
    #[error("the GPU device was lost: {reason}")]
    DeviceLost {
        /// What the device-lost callback said.
        reason: String,
    },
    /// Waiting for the device or mapping a buffer failed.
    #[error("waiting for the GPU failed: {reason}")]
    Poll {
        /// What wgpu said.
        reason: String,
    },
    /// A driver wrote pass timestamps that do not advance (none, or wrapped).
    #[error(
        "pass timestamps did not advance ({start} then {end}); time with GpuTimer::wall_clock"
    )]
    TimestampsStalled {
        /// The start tick.
        start: u64,
        /// The end tick.
        end: u64,
    },
    /// A norm the device computed was NaN or infinite.
    #[error("{what} on the device has a non-finite norm")]
    NonFiniteNorm {
        /// Which gradient.
        what: &'static str,
    },
    /// The spec cannot train on the data given ([`SpecError`]).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Training produced a non-finite number.
    #[error("training diverged at step {}", .0.step)]
    Diverged(Divergence),
    /// A bound and critic that the whole-split evaluation does not cover at this K.
    #[error("{bound} on {critic} with K = {rows} cannot be evaluated over the whole split here")]
    WholeSplit {
        /// The bound's name.
        bound: &'static str,
        /// The critic's name.
        critic: &'static str,
        /// The rows asked for.
        rows: usize,
    },
    /// An operand's buffer is shorter than the launch (or the read or write) reaches.
    #[error("invalid kernel argument: {what} reaches element {needed} of a buffer of {len}")]
    BufferTooShort {
        /// Which operand.
        what: &'static str,
        /// Elements the launch reaches.
        needed: usize,
        /// Elements the buffer holds.
        len: usize,
    },
    /// Values that do not make the rows and columns asked for.
    #[error("invalid kernel argument: {what}: {len} values do not make {rows} rows of {cols}")]
    Shape {
        /// Which matrix.
        what: &'static str,
        /// Values given (or the buffer's elements).
        len: usize,
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
    },
    /// A size or index the kernel forms would not fit its integer type or limit.
    #[error("invalid kernel argument: {what} = {value} exceeds {limit}")]
    Overflow {
        /// Which size (`K·e`, `B·(K+1)`, a flat index).
        what: &'static str,
        /// Its exact value.
        value: u128,
        /// What it must fit (`u32`, `usize`, `2^31 elements`).
        limit: &'static str,
    },
    /// Two operands that must be different buffers are one (a launch cannot bind a buffer
    /// both read-only and writable, and two outputs would overwrite each other).
    #[error("invalid kernel argument: {what} must not share a buffer with {other}")]
    Aliased {
        /// The operand written.
        what: &'static str,
        /// The operand it aliases.
        other: &'static str,
    },
    /// A launch lacks an operand its kind needs, or has one it takes none of.
    #[error("invalid kernel argument: {what} {rule}")]
    Operand {
        /// The launch, bound or operand.
        what: &'static str,
        /// The rule it breaks (`needs a bias buffer`, `takes no baseline`).
        rule: &'static str,
    },
    /// A count outside the range a kernel accepts (an empty batch or history, K < 2, a
    /// leading dimension shorter than its row).
    #[error("invalid kernel argument: {what} = {value} must be {}", range_rule(*.min, *.max))]
    Range {
        /// Which count.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The least it may be.
        min: u64,
        /// The most it may be (`u64::MAX`: no upper limit).
        max: u64,
    },
    /// A batched run of no replicas.
    #[error("a batched run needs at least one replica")]
    NoReplicas,
    /// More replicas than one batched run takes.
    #[error("{replicas} replicas in one batched run, past the {limit} its launches take; split them into several runs")]
    TooManyReplicas {
        /// Replicas asked for.
        replicas: usize,
        /// The most one run takes ([`crate::gpu::kernels::MAX_REPLICAS`]).
        limit: usize,
    },
    /// A replica that cannot share a batched run with replica 0: replicas share the bound's
    /// kind, the critic, the batch, the row count, the column widths and the optimiser's
    /// settings other than the learning rate.
    #[error("replica {replica} differs from replica 0 in its {what}; such replicas train in separate runs")]
    ReplicaMismatch {
        /// The replica's index.
        replica: usize,
        /// What differs.
        what: &'static str,
    },
    /// A per-replica list whose length is not the replica count.
    #[error("{given} {what} for {replicas} replicas: give one a replica")]
    ReplicaCount {
        /// What was listed (`batches`).
        what: &'static str,
        /// Entries given.
        given: usize,
        /// Replicas of the run.
        replicas: usize,
    },
    /// A replica index past the run's replicas.
    #[error("replica {replica} of a run of {replicas}")]
    NoSuchReplica {
        /// The index asked for.
        replica: usize,
        /// Replicas of the run.
        replicas: usize,
    },
    /// A call for a run of one replica made on a replicated run.
    #[error("{what} is for a run of one replica, not of {replicas} (train_replicas trains them)")]
    SoloOnly {
        /// The call.
        what: &'static str,
        /// Replicas of the run.
        replicas: usize,
    },
    /// A bound's parameter outside its domain.
    #[error("invalid kernel argument: {what} must {rule}, not {value}")]
    Parameter {
        /// Which parameter (`MINE's γ`).
        what: &'static str,
        /// Its value.
        value: f32,
        /// The rule (`lie in (0, 1)`).
        rule: &'static str,
    },
    /// A kernel geometry outside its template's ranges or the adapter's limits.
    #[error("invalid kernel geometry: {what} is {value}, must be {rule}")]
    Geometry {
        /// Which field (`fused rows`).
        what: &'static str,
        /// Its value.
        value: u64,
        /// The rule (`1 to 8`).
        rule: &'static str,
    },
    /// A geometry file that cannot be read or parsed.
    #[error("geometry file {path}: {reason}")]
    GeometryFile {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

impl GpuError {
    /// True for a caller-supplied argument that does not fit the kernel (a short or aliased
    /// buffer, a count out of range, a missing operand), as opposed to a device failure.
    pub fn is_invalid_argument(&self) -> bool {
        matches!(
            self,
            GpuError::BufferTooShort { .. }
                | GpuError::Shape { .. }
                | GpuError::Overflow { .. }
                | GpuError::Aliased { .. }
                | GpuError::Operand { .. }
                | GpuError::Range { .. }
                | GpuError::Parameter { .. }
                | GpuError::Geometry { .. }
        )
    }
}

/// `≥ min`, or `in [min, max]` where there is an upper limit.
fn range_rule(min: u64, max: u64) -> String {
    if max == u64::MAX {
        format!("≥ {min}")
    } else {
        format!("in [{min}, {max}]")
    }
}
