//! Timing device work: timestamp queries around one compute pass where the adapter offers
//! them, else the host clock around a submission and a full queue sync. Warm-up first, then
//! the median (and spread) of repeats. The kernel tuner ([`super::tune`]) and the benchmarks
//! (`infobound::experiments::bench`) both time with it.

use super::{Dispatch, GpuContext, GpuError};

/// How a [`Timing`] was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimingMethod {
    /// Device timestamps written at the start and end of the compute pass: no host overhead.
    Timestamps,
    /// The host clock around submit + wait: includes encoding, submission and the sync
    /// (about 0.3 ms on lavapipe), so short kernels read slow.
    WallClock,
    /// The host clock around work run on the host's own threads (the CPU's probes).
    HostClock,
}

impl TimingMethod {
    /// A short name for tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            TimingMethod::Timestamps => "timestamps",
            TimingMethod::WallClock => "wall clock",
            TimingMethod::HostClock => "host clock",
        }
    }
}

/// Seconds per run: the median of `repeats` runs after the warm-up, with the extremes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Median seconds.
    pub median: f64,
    /// Fastest run, seconds.
    pub min: f64,
    /// Slowest run, seconds.
    pub max: f64,
    /// Timed runs (after the warm-up).
    pub repeats: usize,
    /// How it was measured.
    pub method: TimingMethod,
}

impl Timing {
    /// (max − min) / median: the spread of the runs, relative.
    pub fn spread(&self) -> f64 {
        (self.max - self.min) / self.median
    }

    /// The median, min and max of `samples` (seconds; at least one).
    pub fn from_samples(samples: &mut [f64], method: TimingMethod) -> Self {
        assert!(!samples.is_empty(), "a timing needs at least one sample");
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        let median = if n % 2 == 1 {
            samples[n / 2]
        } else {
            0.5 * (samples[n / 2 - 1] + samples[n / 2])
        };
        Self {
            median,
            min: samples[0],
            max: samples[n - 1],
            repeats: n,
            method,
        }
    }
}

/// The query set and buffers of pass timestamps, made once per timer.
struct Queries {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period: f64,
}

/// Times lists of launches on one context (see the module doc).
pub struct GpuTimer<'c> {
    ctx: &'c GpuContext,
    queries: Option<Queries>,
}

impl<'c> GpuTimer<'c> {
    /// A timer using timestamps when the context's device has `TIMESTAMP_QUERY` (infobound's
    /// contexts request it whenever the adapter offers it), else the host clock.
    pub fn new(ctx: &'c GpuContext) -> Self {
        let device = ctx.device();
        let queries = device
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY)
            .then(|| Queries {
                set: device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("timer timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                }),
                resolve: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("timer timestamps resolve"),
                    size: 16,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
                readback: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("timer timestamps read-back"),
                    size: 16,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }),
                period: f64::from(ctx.queue().get_timestamp_period()),
            });
        Self { ctx, queries }
    }

    /// A timer that always uses the host clock (to compare the two methods).
    pub fn wall_clock(ctx: &'c GpuContext) -> Self {
        Self { ctx, queries: None }
    }

    /// The method this timer uses.
    pub fn method(&self) -> TimingMethod {
        match self.queries {
            Some(_) => TimingMethod::Timestamps,
            None => TimingMethod::WallClock,
        }
    }

    /// Times `dispatches`, recorded `repeat` times in one compute pass (as
    /// [`GpuContext::run`] does), `warmup` times untimed then `repeats` times; seconds per
    /// whole pass.
    pub fn time(
        &self,
        dispatches: &[Dispatch],
        repeat: u32,
        warmup: usize,
        repeats: usize,
    ) -> Result<Timing, GpuError> {
        if repeats == 0 {
            return Err(GpuError::Range {
                what: "a timing's repeats",
                value: 0,
                min: 1,
                max: u64::MAX,
            });
        }
        for _ in 0..warmup {
            self.once(dispatches, repeat)?;
        }
        let mut samples = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            samples.push(self.once(dispatches, repeat)?);
        }
        Ok(Timing::from_samples(&mut samples, self.method()))
    }

    /// One timed pass, seconds.
    fn once(&self, dispatches: &[Dispatch], repeat: u32) -> Result<f64, GpuError> {
        let start = std::time::Instant::now();
        let mut encoder =
            self.ctx
                .device()
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("timer"),
                });
        {
            let timestamp_writes =
                self.queries
                    .as_ref()
                    .map(|q| wgpu::ComputePassTimestampWrites {
                        query_set: &q.set,
                        beginning_of_pass_write_index: Some(0),
                        end_of_pass_write_index: Some(1),
                    });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("timer"),
                timestamp_writes,
            });
            for _ in 0..repeat {
                for d in dispatches {
                    d.record(&mut pass);
                }
            }
        }
        if let Some(q) = &self.queries {
            encoder.resolve_query_set(&q.set, 0..2, &q.resolve, 0);
            encoder.copy_buffer_to_buffer(&q.resolve, 0, &q.readback, 0, 16);
        }
        self.ctx.queue().submit(Some(encoder.finish()));
        self.ctx.sync()?;
        let wall = start.elapsed().as_secs_f64();
        let Some(q) = &self.queries else {
            return Ok(wall);
        };
        let slice = q.readback.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.ctx.sync()?;
        rx.recv()
            .map_err(|e| GpuError::Poll {
                reason: e.to_string(),
            })?
            .map_err(|e| GpuError::Poll {
                reason: e.to_string(),
            })?;
        let ticks: [u64; 2] = {
            let view = slice.get_mapped_range().map_err(|e| GpuError::Poll {
                reason: e.to_string(),
            })?;
            let t: &[u64] = bytemuck::cast_slice(&view);
            [t[0], t[1]]
        };
        q.readback.unmap();
        // A driver that writes no timestamps (or wraps) leaves end ≤ start: say so rather than
        // report a zero or a mix of two methods.
        if ticks[1] <= ticks[0] {
            return Err(GpuError::TimestampsStalled {
                start: ticks[0],
                end: ticks[1],
            });
        }
        Ok((ticks[1] - ticks[0]) as f64 * q.period * 1e-9)
    }
}
