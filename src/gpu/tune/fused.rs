//! Tuning the fused score kernels: every [`FusedGeometry`] candidate timed on both passes at
//! the run's K class and e.

use super::families::{time_candidates, Timings};
use super::{class, FusedPass};
use crate::gpu::context::GpuContext;
use crate::gpu::error::GpuError;
use crate::gpu::geometry::FusedGeometry;
use crate::gpu::kernels::{state, Operands, Strided};
use crate::gpu::timing::GpuTimer;
use crate::math::bounds::Bound;

/// Tuning runs at K rounded up to a power of two, at most this on a GPU, and at most
/// [`MAX_TUNE_K_SOFTWARE`] on a CPU rasteriser, where timing 26 candidates at K = 4 096 takes
/// minutes.
const MAX_TUNE_K: usize = 4096;
const MAX_TUNE_K_SOFTWARE: usize = 1024;

/// The shape class K is tuned at on a software adapter or a GPU.
pub(crate) fn k_class(k: usize, software: bool) -> usize {
    let cap = if software {
        MAX_TUNE_K_SOFTWARE
    } else {
        MAX_TUNE_K
    };
    class(k, 64, cap)
}

/// One candidate's time in a fused tuning table.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneRow {
    /// The pass.
    pub pass: FusedPass,
    /// The candidate.
    pub geometry: FusedGeometry,
    /// Median seconds per run at the tuning shape; `None` when abandoned (its first run was
    /// more than four times the best) or refused by the adapter.
    pub seconds: Option<f64>,
    /// Why it has no time, if it has none.
    pub note: Option<String>,
}

/// The result of tuning the fused kernels at one shape.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneTable {
    /// The shape tuned: K (rounded) and e.
    pub k: usize,
    /// The embedding width.
    pub e: usize,
    /// Every candidate's time.
    pub rows: Vec<TuneRow>,
    /// The chosen (forward, backward) geometries.
    pub chosen: (FusedGeometry, FusedGeometry),
}

impl GpuContext {
    /// Tunes the fused kernels at K (its class: rounded up to a power of two, at most 4 096, or
    /// 1 024 on a CPU rasteriser) and e now, whatever the cache holds, and caches the choice for this adapter (`infobound
    /// tune`).
    pub fn tune_and_cache(&self, k: usize, e: usize) -> Result<TuneTable, GpuError> {
        let kc = k_class(k, self.adapter().is_software);
        let table = self.tune_fused(kc, e)?;
        let seconds = |p: FusedPass, g: FusedGeometry| {
            table
                .rows
                .iter()
                .find(|r| r.pass == p && r.geometry == g)
                .and_then(|r| r.seconds)
                .unwrap_or(f64::NAN)
        };
        let new = [
            (FusedPass::Forward, table.chosen.0),
            (FusedPass::Backward, table.chosen.1),
        ]
        .map(|(p, g)| self.entry(p.family(), vec![kc, e], &g, seconds(p, g)));
        self.remember(new.to_vec());
        Ok(table)
    }

    /// Times every fused candidate this adapter can run at K = `k`, e = `e` (InfoNCE, one
    /// replica) and returns the table with the fastest of each pass. The forward is timed
    /// alone; a backward candidate is timed with the rule's forward before it, so the
    /// difference between candidates is the backward's.
    pub fn tune_fused(&self, k: usize, e: usize) -> Result<TuneTable, GpuError> {
        let ke = k * e;
        let noise = super::families::noise(ke);
        let g = self.upload("tuning G", &noise)?;
        let h = self.upload("tuning H", &noise)?;
        let dg = self.zeros("tuning dG", ke)?;
        let dh = self.zeros("tuning dH", ke)?;
        let hist = self.zeros("tuning history", 1)?;
        let st = self.upload("tuning state", &state::initial(0))?;
        let scratch = self.zeros("tuning scratch", Self::matrix_bound_scratch_len(k))?;
        let solo = Strided::shared;
        let io = |grads: bool| Operands {
            s: solo(&g),
            h: Some(solo(&h)),
            baseline: None,
            grads: grads.then(|| (solo(&dg), Some(solo(&dh)))),
            hist: (&hist, 1),
            state: &st,
            scratch: solo(&scratch),
        };
        let limits = self.limits();
        let timer = GpuTimer::new(self);
        let software = self.adapter().is_software;
        let rule = FusedGeometry::rule(software, FusedPass::Forward);
        let mut rows = Vec::new();
        let mut chosen = [rule, FusedGeometry::rule(software, FusedPass::Backward)];
        for (slot, pass) in [FusedPass::Forward, FusedPass::Backward]
            .into_iter()
            .enumerate()
        {
            let Timings { rows: timed, best } = time_candidates(
                &timer,
                FusedGeometry::candidates(),
                |cand| {
                    cand.validate(
                        limits.max_compute_invocations_per_workgroup,
                        limits.max_compute_workgroup_storage_size,
                    )
                },
                |cand| {
                    let pair = match pass {
                        FusedPass::Forward => (cand, cand),
                        FusedPass::Backward => (rule, cand),
                    };
                    self.bound_launches(
                        &[Bound::InfoNce],
                        k,
                        Some(e),
                        &io(pass == FusedPass::Backward),
                        pair,
                    )
                },
            )?;
            if let Some((_, g)) = best {
                chosen[slot] = g;
            }
            rows.extend(timed.into_iter().map(|t| TuneRow {
                pass,
                geometry: t.geometry,
                seconds: t.seconds,
                note: t.note,
            }));
        }
        Ok(TuneTable {
            k,
            e,
            rows,
            chosen: (chosen[0], chosen[1]),
        })
    }
}
