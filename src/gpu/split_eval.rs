//! The held-out evaluation over the whole test split at once (K = n_test) for the separable
//! critic, through the fused kernels: S = G·Hᵀ is never stored, so K is bounded by time, not
//! memory. See [`crate::math::split_eval`] for the value and its row-block standard error.

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::kernels::state;
use super::trainer::{compile, Compiled, Inputs};
use super::GpuError;
use crate::math::bounds::Bound;
use crate::math::critic::CriticForm;
use crate::math::sampling::batch_rows;
use crate::math::spec::Source;
use crate::math::spec::{eval_seed, TrainData, TrainSpec};
use crate::math::split_eval::{row_block_values, std_err, supports};

/// The bound of a separable critic evaluated on all rows of a data set as one batch, reading
/// the critic's parameters from a trainer's buffer ([`super::GpuTrainer::parameter_buffer`]),
/// so every evaluation sees the current critic.
pub struct SplitEvaluator<'c> {
    ctx: &'c GpuContext,
    spec: TrainSpec,
    program: Compiled,
    blocks: usize,
}

impl<'c> SplitEvaluator<'c> {
    /// Whether `spec`'s critic and bound on K = `rows` can be evaluated this way on `ctx`: a
    /// separable critic, a bound with per-row statistics (not α-InfoNCE), and the fused
    /// kernels runnable at K = `rows` on this adapter.
    pub fn applies(ctx: &GpuContext, spec: &TrainSpec, rows: usize) -> bool {
        match &spec.critic {
            CriticForm::Separable { embed, .. } => {
                rows >= 2 && supports(spec.bound) && ctx.fused_bound_runs(spec.bound, rows, *embed)
            }
            _ => false,
        }
    }

    /// Prepares the evaluation of `spec`'s critic (parameters in `params`) on every row of
    /// `data` at once; the standard error comes from `blocks` row blocks.
    pub fn new(
        ctx: &'c GpuContext,
        spec: &TrainSpec,
        params: &GpuBuffer,
        data: TrainData<'_>,
        blocks: u32,
    ) -> Result<Self, GpuError> {
        let rows = data.rows();
        if !Self::applies(ctx, spec, rows) {
            return Err(GpuError::WholeSplit {
                bound: spec.bound.name(),
                critic: spec.critic.name(),
                rows,
            });
        }
        let mut whole = spec.clone();
        whole.batch = rows;
        whole.check_data(&data)?;
        // One draw of all rows: a random order of the split, so that row blocks are random.
        // The separable critic only (`applies`): no known marginal travels with its rows.
        let seed = eval_seed(spec.seed);
        let program = whole.program(
            Source::Data {
                n: rows,
                log_marginal: false,
            },
            seed,
            false,
        );
        let compiled = compile(
            ctx,
            std::slice::from_ref(&whole),
            &[seed],
            &program,
            params,
            &Inputs::shared(data.x, data.y, None),
            1,
        )?;
        Ok(Self {
            ctx,
            spec: whole,
            program: compiled,
            blocks: blocks.max(1) as usize,
        })
    }

    /// K: the rows evaluated at once.
    pub fn k(&self) -> usize {
        self.spec.batch
    }

    /// Row blocks of the standard error.
    pub fn blocks(&self) -> usize {
        self.blocks.min(self.k())
    }

    /// The bound on the whole split with the critic's current parameters, and its standard
    /// error over row blocks (nats). The value may be non-finite; the caller decides.
    pub fn evaluate(&self) -> Result<(f64, f64), GpuError> {
        let (value, blocks) = self.evaluate_blocks()?;
        Ok((value, std_err(&blocks)))
    }

    /// The bound on the whole split and its value on each row block (contiguous runs of
    /// [`Self::draw_order`]), nats.
    pub fn evaluate_blocks(&self) -> Result<(f64, Vec<f64>), GpuError> {
        let (value, lse, diag) = self.run()?;
        Ok((
            value,
            row_block_values(self.spec.bound, &lse, &diag, self.blocks),
        ))
    }

    /// The data rows in the order the evaluation draws them: position p of the row blocks
    /// is data row `draw_order()[p]` (one draw of all K rows from the stream of
    /// [`eval_seed`]).
    pub fn draw_order(&self) -> Vec<usize> {
        let k = self.k();
        batch_rows(eval_seed(self.spec.seed), 0, k, k)
            .into_iter()
            .map(|r| r as usize)
            .collect()
    }

    /// For an InfoNCE evaluator, each data row's term ln K + S_ii − log Σ_j e^(S_ij), in data
    /// row order ([`crate::math::cross_check`]); `None` for another bound.
    pub fn infonce_terms(&self) -> Result<Option<Vec<f64>>, GpuError> {
        if self.spec.bound != Bound::InfoNce {
            return Ok(None);
        }
        let (_, _, diag) = self.run()?;
        let ln_k = (self.k() as f64).ln();
        let mut terms = vec![0.0; self.k()];
        for (p, row) in self.draw_order().into_iter().enumerate() {
            terms[row] = ln_k + diag[p];
        }
        Ok(Some(terms))
    }

    /// One evaluation: the device's value and every row's (log-sum-exp, diagonal term), in
    /// draw order.
    fn run(&self) -> Result<(f64, Vec<f64>, Vec<f64>), GpuError> {
        let p = &self.program;
        let k = self.k();
        self.ctx.write(&p.state, &state::initial(0))?;
        self.ctx.run(&p.dispatches, 1)?;
        let value: Vec<f32> = self.ctx.read(&p.hist)?;
        let stats = p
            .stats
            .as_ref()
            .expect("a separable program has a fused bound");
        // Row i's (log-sum-exp, diagonal term, S_ii): the first 3K elements of the scratch.
        let rows: Vec<f32> = self.ctx.read_range(stats, 0, 3 * k)?;
        let lse: Vec<f64> = rows.chunks(3).map(|r| f64::from(r[0])).collect();
        let diag: Vec<f64> = rows.chunks(3).map(|r| f64::from(r[1])).collect();
        Ok((f64::from(value[0]), lse, diag))
    }
}
