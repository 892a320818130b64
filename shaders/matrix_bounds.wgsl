// Bounds over the full K×K score matrix S_ij = f(x_i, y_j) (SPEC §2), row-major: the value,
// ∂(−L)/∂S and, for the bounds with a learned log-baseline b_j = b(y_j), ∂(−L)/∂b, where L is
// the bound's training objective (Adam minimises −L).
//
// One family for all eight bounds, specialised by the BOUND override (`Bound::code`). A bound
// dispatches, in order, only the kernels it needs (`matrix_bounds.rs`); each reads what the
// ones before it wrote to `scratch`:
//
//   row_stats      one invocation a row     one log-sum-exp and one diagonal term per row
//   col_stats      one invocation a column  α-InfoNCE's leave-one-out statistics
//   finalize       one workgroup            fixed-tree sums over rows (columns for α-InfoNCE):
//                                           value → hist[step % hist_len], flags, MINE's EMA
//   grad           one invocation a score   ds_ij
//   baseline_grad  one invocation a column  db_j (TUBA, α-InfoNCE)
//
// Fused (FUSED = 1, the separable critic S = G·Hᵀ, SPEC §3): `s` holds G (K×e) and `h_emb` H
// (K×e), and every S_ij is recomputed as dot(G_i, H_j) where it is needed (`score`), so memory
// stays O(K·e). The same entry points give the same statistics and value; `grad` (which would
// write a K×K ∂S) is replaced by
//
//   grad_rows      one invocation a row     dG_i = Σ_j ∂S_ij H_j   (into `ds`, bound to dG)
//   grad_cols      one invocation a column  dH_j = Σ_i ∂S_ij G_i   (into `ds`, bound to dH)
//
// which recompute S_ij and ∂S_ij (`dscore`, the same function `grad` uses) and never store
// them. Each sums over j (resp. i) in index order, so the result is deterministic.
//
// row_stats, grad_rows and grad_cols may run as several launches over consecutive ranges
// [j0, j1) of the index they sum over, each continuing the partial sums the previous one left
// (in `scratch`, or in the output): llvmpipe ends every loop of an invocation once 65 535
// iterations have run in it, and a fused row pass takes K·e. The split leaves the order of
// every sum, hence the bits, unchanged.
//
// Deterministic: every sum runs in index order, then through a fixed tree; no float atomics.
// Every exp is max-shifted, clipped at NUM_EXP_CLIP (numerics.wgsl, prepended), or of a quantity
// bounded above (said where).
//
// Scratch (f32), K = p.k:
//   [0, 3K)                 row i: (its log-sum-exp, its diagonal term, S_ii), see row_stats
//   [3K, 3K + COL_LEN·K)    column j: the COL_* fields (α-InfoNCE only)
//   then GLOBAL_LEN values  the off-diagonal log-sum-exp of S, MINE's log m_t

//
// Replicas: the grid's z is the replica r (one for a solo run); the x/y grid and the launches
// are one replica's. Replica r's operands start *_rs elements after replica r − 1's (its S or
// G, H, b, ∂S or dG/dH, db and scratch), its history at r · hist_len, its state at
// r · NUM_STATE_LEN, and its τ, α and γ are reps[r].

struct MatrixParams {
    k: u32,
    hist_len: u32,
    // The embedding width e of the fused kernels (unused otherwise).
    e: u32,
    // row_stats, grad_rows and grad_cols sum over the other index in [j0, j1) only, carrying
    // their partial sums from one launch to the next (`GpuContext::bound_launches` says why).
    j0: u32,
    j1: u32,
    // Per-replica strides (elements) of s, baseline, ds, db, scratch and h_emb.
    s_rs: u32,
    baseline_rs: u32,
    ds_rs: u32,
    db_rs: u32,
    scratch_rs: u32,
    h_rs: u32,
    // The stored scores (FUSED = 0) are columns [jbase, jbase + ld) of S, ld a row: all of S
    // (ld = K, jbase = 0), or one tile of columns when the fused form stages S through the
    // matrix products (`FusedGeometry::staged`).
    ld: u32,
    jbase: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    // Each replica's (SMILE's clip τ, α-InfoNCE's α in (0, 1), MINE's EMA decay γ in (0, 1), 0).
    reps: array<vec4<f32>, 1024>,
}

// `Bound::code` (a test in src/gpu/shaders.rs holds them to it).
const NWJ: u32 = 0u;
const DV: u32 = 1u;
const JS: u32 = 2u;
const SMILE: u32 = 3u;
const INFONCE: u32 = 4u;
const TUBA: u32 = 5u;
const MINE: u32 = 6u;
const ALPHA: u32 = 7u;
// The leave-one-out statistic of the sandwich's upper bound (SPEC §8): log(K−1) + mean_i
// (S_ii − log Σ_{j≠i} e^(S_ij)); an upper bound on I only when S_ij = log p(y_i | x_j).
const LOO: u32 = 8u;
// Lautum information (SPEC §8), DV and NWJ with joint and product swapped: mean_off(S) −
// log mean_i e^(S_ii), resp. mean_off(S) − e^(−1) mean_i e^(S_ii). row_stats then keeps
// (S_ii, Σ_{j≠i} S_ij) in a row's two slots, so finalize's log-sum-exp runs over the diagonal
// and its sum over the off-diagonal.
const LAUTUM_DV: u32 = 9u;
const LAUTUM_NWJ: u32 = 10u;
fn lautum() -> bool {
    return BOUND == LAUTUM_DV || BOUND == LAUTUM_NWJ;
}
override BOUND: u32 = 0u;
// 1: S_ij = dot(G_i, H_j) on the fly (`s` holds G, `h_emb` H); 0: `s` holds the K×K scores.
override FUSED: u32 = 0u;

@group(0) @binding(0) var<uniform> p: MatrixParams;
@group(0) @binding(1) var<storage, read> s: array<f32>;
// b_j (K values); bound to `s` as a placeholder for bounds without a baseline, never read then.
@group(0) @binding(2) var<storage, read> baseline: array<f32>;
@group(0) @binding(3) var<storage, read_write> ds: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;
@group(0) @binding(5) var<storage, read_write> hist: array<f32>;
@group(0) @binding(6) var<storage, read_write> state: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> scratch: array<f32>;
// H (K×e) for the fused kernels; bound to `s` as a placeholder otherwise, never read then.
@group(0) @binding(8) var<storage, read> h_emb: array<f32>;

const WG: u32 = 256u;

// The invocation's replica's offsets into each operand and its parameters (`enter`).
var<private> at_s: u32;
var<private> at_b: u32;
var<private> at_ds: u32;
var<private> at_db: u32;
var<private> at_scr: u32;
var<private> at_h: u32;
var<private> at_st: u32;
var<private> at_hist: u32;
var<private> tau: f32;
var<private> alpha: f32;
var<private> gamma: f32;

fn enter(r: u32) {
    at_s = r * p.s_rs;
    at_b = r * p.baseline_rs;
    at_ds = r * p.ds_rs;
    at_db = r * p.db_rs;
    at_scr = r * p.scratch_rs;
    at_h = r * p.h_rs;
    at_st = r * NUM_STATE_LEN;
    at_hist = r * p.hist_len;
    let reps = p.reps[r];
    tau = reps.x;
    alpha = reps.y;
    gamma = reps.z;
}

// The per-column fields of α-InfoNCE. Row indices are stored as f32, exact below 2^24.
const COL_LSE: u32 = 0u;        // C_j = log Σ_i e^(S_ij)
const COL_TOP: u32 = 1u;        // r1: the row of the column's largest score (first on ties)
const COL_LSE_REST: u32 = 2u;   // log Σ_{i≠r1} e^(S_ij), shifted by the second largest
const COL_Q: u32 = 3u;          // log Σ_{i≠j} e^(−interp_ij)
const COL_Q_TOP: u32 = 4u;      // the row i ≠ j of the largest −interp_ij (first on ties)
const COL_Q_REST: u32 = 5u;     // log Σ_{i∉{j,q1}} e^(−interp_ij); NUM_LOWEST when that set is empty
const COL_INTERP_DIAG: u32 = 6u; // interp_jj
const COL_JOINT: u32 = 7u;      // Σ_{i≠j} (S_jj − interp_ij)
const COL_MARG: u32 = 8u;       // Σ_{i≠j} e^(S_ij − interp_jj) ≤ (K−1)/α
const COL_LEN: u32 = 9u;
const GLOBAL_LSE_OFF: u32 = 0u;
const GLOBAL_MINE_LOG_M: u32 = 1u;

const ROW_LEN: u32 = 3u;

fn col_base(j: u32) -> u32 {
    return ROW_LEN * p.k + COL_LEN * j;
}

fn global_base() -> u32 {
    return (ROW_LEN + COL_LEN) * p.k;
}

// The top two of a stream: (largest, second largest, row of the largest as f32). Strict `>`
// keeps the first row on ties, as the CPU reference does.
fn top2_push(acc: vec3<f32>, v: f32, row: u32) -> vec3<f32> {
    if (v > acc.x) {
        return vec3<f32>(v, acc.x, f32(row));
    }
    return vec3<f32>(acc.x, max(acc.y, v), acc.z);
}

// ---- the line kernels' geometry ------------------------------------------------------------

// row_stats, grad_rows, grad_cols, col_stats and baseline_grad own lines (rows, or columns for
// the last three) and walk the other index. Their geometry is prepended by the host as
// constants (`FusedGeometry` in src/gpu/geometry/fused.rs, part of the pipeline key), since a
// per-invocation array cannot be sized by an override:
//   FB_ROWS    lines an invocation owns (consecutive)
//   FB_COLS    lines of the other index a block: the FB_ROWS × FB_COLS scores stay in registers
//   FB_WG      invocations a workgroup
//   FB_SHARED  1: the workgroup stages each block of the other side's embeddings in workgroup
//              memory, FB_CHUNK entries of e at a time (what GPUs reward); 0: every invocation
//              reads them itself, no barrier (what CPU rasterisers reward)
// A score is the same fma chain over c ascending in every geometry, and every sum runs over the
// other index ascending, so all geometries give the same bits.
const FB_BLOCK: u32 = FB_ROWS * FB_COLS;

var<workgroup> fb_tile: array<f32, FB_COLS * FB_CHUNK>;

// Stages entries [c0, c0 + FB_CHUNK) of the other side's lines b0 .. b0 + FB_COLS (lines past
// K, and entries past e, as 0). Every invocation of the workgroup calls it in the same order.
fn stage_other(other_is_h: bool, b0: u32, c0: u32, lid: u32) {
    let e = p.e;
    workgroupBarrier();
    for (var x = lid; x < FB_COLS * FB_CHUNK; x += FB_WG) {
        let b = b0 + x / FB_CHUNK;
        let c = c0 + x % FB_CHUNK;
        var v = 0.0;
        if (b < p.k && c < e) {
            if (other_is_h) {
                v = h_emb[at_h + b * e + c];
            } else {
                v = s[at_s + b * e + c];
            }
        }
        fb_tile[x] = v;
    }
    workgroupBarrier();
}

// Entry c of the other side's line b0 + t: from the staged tile (chunk starting at c0) or
// from memory.
fn other_at(other_is_h: bool, b0: u32, t: u32, c0: u32, c: u32) -> f32 {
    if (FB_SHARED != 0u) {
        return fb_tile[t * FB_CHUNK + c - c0];
    }
    let b = min(b0 + t, p.k - 1u);
    if (other_is_h) {
        return h_emb[at_h + b * p.e + c];
    }
    return s[at_s + b * p.e + c];
}

// The FB_ROWS × FB_COLS scores of lines a0 + u (rows when `by_row`, else columns) against the
// other index's lines b0 + t, at [u * FB_COLS + t]. Lines past K are clamped: their scores are
// formed and never used.
fn block_scores(a0: u32, b0: u32, by_row: bool, lid: u32) -> array<f32, FB_BLOCK> {
    let k = p.k;
    var acc: array<f32, FB_BLOCK>;
    if (FUSED == 0u) {
        for (var u = 0u; u < FB_ROWS; u++) {
            for (var t = 0u; t < FB_COLS; t++) {
                // Stored columns are [jbase, j1) for rows; the column kernels read all of S
                // (grad_cols is fused only).
                let a = min(a0 + u, k - 1u);
                let b = min(b0 + t, p.j1 - 1u);
                if (by_row) {
                    acc[u * FB_COLS + t] = s[at_s + a * p.ld + b - p.jbase];
                } else {
                    acc[u * FB_COLS + t] = s[at_s + b * p.ld + a];
                }
            }
        }
        return acc;
    }
    let e = p.e;
    // The own side is G for rows (in `s`), H for columns; the other side the other one.
    let other_is_h = by_row;
    var own: array<u32, FB_ROWS>;
    for (var u = 0u; u < FB_ROWS; u++) {
        own[u] = min(a0 + u, k - 1u) * e;
    }
    for (var c0 = 0u; c0 < e; c0 += FB_CHUNK) {
        if (FB_SHARED != 0u) {
            stage_other(other_is_h, b0, c0, lid);
        }
        let c1 = min(c0 + FB_CHUNK, e);
        for (var c = c0; c < c1; c++) {
            var o: array<f32, FB_COLS>;
            for (var t = 0u; t < FB_COLS; t++) {
                o[t] = other_at(other_is_h, b0, t, c0, c);
            }
            for (var u = 0u; u < FB_ROWS; u++) {
                var g: f32;
                if (by_row) {
                    g = s[at_s + own[u] + c];
                } else {
                    g = h_emb[at_h + own[u] + c];
                }
                for (var t = 0u; t < FB_COLS; t++) {
                    acc[u * FB_COLS + t] = fma(g, o[t], acc[u * FB_COLS + t]);
                }
            }
        }
    }
    return acc;
}

// The first line of the invocation's block: invocations own FB_ROWS consecutive lines each.
fn first_line(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return num_flat_index(gid, groups, FB_WG) * FB_ROWS;
}

// ---- row_stats ---------------------------------------------------------------------------

// Entry (i, j) of the row log-sum-exp a bound needs, from v = S_ij: SMILE clips, TUBA
// subtracts b_j.
fn row_term(v: f32, j: u32) -> f32 {
    if (BOUND == SMILE) {
        return clamp(v, -tau, tau);
    }
    if (BOUND == TUBA) {
        return v - baseline[at_b + j];
    }
    return v;
}

// Row i's log-sum-exp (over the whole row for InfoNCE, off the diagonal otherwise) and its
// diagonal term: S_ii − LSE_row(i) for InfoNCE, S_ii − b_i for TUBA, S_ii for the others.
// One pass over columns [j0, j1) in blocks of FB_COLS, each score formed once (the fused form
// pays a dot product for it); between launches the row's slots hold the running
// (max, Σ e^(t − max)), and S_ii waits in the third slot until the last launch (j1 = K) turns
// them into the statistics.
@compute @workgroup_size(FB_WG)
fn row_stats(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    enter(gid.z);
    let i0 = first_line(gid, groups);
    let k = p.k;
    let whole_row = BOUND == INFONCE;
    var m: array<f32, FB_ROWS>;
    var sum: array<f32, FB_ROWS>;
    for (var u = 0u; u < FB_ROWS; u++) {
        m[u] = NUM_LOWEST;
        sum[u] = 0.0;
        let i = i0 + u;
        if (p.j0 > 0u && i < k) {
            m[u] = scratch[at_scr + ROW_LEN * i];
            sum[u] = scratch[at_scr + ROW_LEN * i + 1u];
        }
    }
    // No invocation returns early: with FB_SHARED the whole workgroup stages every block.
    for (var j0 = p.j0; j0 < p.j1; j0 += FB_COLS) {
        let sc = block_scores(i0, j0, true, lid);
        let nb = min(FB_COLS, p.j1 - j0);
        for (var u = 0u; u < FB_ROWS; u++) {
            let i = i0 + u;
            for (var t = 0u; t < FB_COLS; t++) {
                let j = j0 + t;
                let v = sc[u * FB_COLS + t];
                if (t >= nb || i >= k) {
                    continue;
                }
                if (j == i) {
                    scratch[at_scr + ROW_LEN * i + 2u] = v;
                }
                if (lautum()) {
                    if (j != i) {
                        sum[u] += v;
                    }
                } else if (j != i || whole_row) {
                    let x = row_term(v, j);
                    // Online log-sum-exp with one exp an entry: the sum is rescaled when the max
                    // moves.
                    if (x > m[u]) {
                        sum[u] = sum[u] * exp(m[u] - x) + 1.0;
                        m[u] = x;
                    } else {
                        sum[u] += exp(x - m[u]);
                    }
                }
            }
        }
    }
    for (var u = 0u; u < FB_ROWS; u++) {
        let i = i0 + u;
        if (i < k) {
            finish_row(i, m[u], sum[u]);
        }
    }
}

// Row i's slots after a launch: the running (max, sum) when more launches follow, else its
// statistics.
fn finish_row(i: u32, m: f32, sum: f32) {
    if (p.j1 < p.k) {
        scratch[at_scr + ROW_LEN * i] = m;
        scratch[at_scr + ROW_LEN * i + 1u] = sum;
        return;
    }
    let d = scratch[at_scr + ROW_LEN * i + 2u];
    if (lautum()) {
        scratch[at_scr + ROW_LEN * i] = d;
        scratch[at_scr + ROW_LEN * i + 1u] = sum;
        return;
    }
    let lse = m + log(sum);
    var diag = d;
    if (BOUND == INFONCE || BOUND == LOO) {
        // LOO's lse is over the row off its diagonal (whole_row is false).
        diag = d - lse;
    } else if (BOUND == TUBA) {
        diag = d - baseline[at_b + i];
    }
    scratch[at_scr + ROW_LEN * i] = lse;
    scratch[at_scr + ROW_LEN * i + 1u] = diag;
}

// ---- α-InfoNCE's column statistics ---------------------------------------------------------

// log Σ_{l≠i} e^(S_lj) from column j's statistics. SPEC's stable form LSE_col + log(1 − e^(S_ij −
// LSE_col)) is exact for every row but the column's largest, whose e^(S_ij − LSE_col) can round
// to 1 in f32; that row takes the sum of the rest, kept separately.
fn held_out(c: f32, top: u32, rest: f32, i: u32, v: f32) -> f32 {
    if (i == top) {
        return rest;
    }
    // v ≤ the largest, so e^(v − c) ≤ 1/2 and the log loses nothing.
    return c + log(1.0 - exp(v - c));
}

// interp_ij = log(α e^(loo_ij) + (1−α) e^(b_j)), with loo_ij = held_out − log(K−1).
fn interp(held: f32, bj: f32) -> f32 {
    let kf = f32(p.k);
    return num_log_add_exp(log(alpha) + held - log(kf - 1.0), log(1.0 - alpha) + bj);
}

// ---- the column passes: α-InfoNCE's statistics and TUBA's baseline gradient ---------------

// An invocation owns FB_ROWS columns (the line kernels' geometry, the columns' side H their
// own) and walks down the rows in blocks of FB_COLS (`col_walk`), every sum in row order, so
// the bits do not depend on the geometry. Each pass (`col_visit`) adds row i to its
// columns' running state, kept here between passes.
var<private> col_top: array<vec3<f32>, FB_ROWS>;  // top two scores, and the top's row
var<private> col_sjj: array<f32, FB_ROWS>;        // S_jj
var<private> col_bj: array<f32, FB_ROWS>;         // the baseline b_j
var<private> col_all: array<f32, FB_ROWS>;        // Σ e^(S_ij − top); then α: LSE_col
var<private> col_rest: array<f32, FB_ROWS>;       // Σ over all but the top; then its LSE
var<private> col_qtop: array<vec3<f32>, FB_ROWS>; // top two of −interp_ij, and the top's row
var<private> col_joint: array<f32, FB_ROWS>;      // Σ_{i≠j} (S_jj − interp_ij)
var<private> col_q_all: array<f32, FB_ROWS>;      // Σ e^(−interp_ij − qtop)
var<private> col_q_rest: array<f32, FB_ROWS>;     // Σ over all but the top of Q

const PASS_TOP: u32 = 0u;   // α: the top two and S_jj (every row)
const PASS_LSE: u32 = 1u;   // α: the column's sums (every row)
const PASS_Q_TOP: u32 = 2u; // α: −interp_ij's top two and the joint sum (i ≠ j)
const PASS_Q_LSE: u32 = 3u; // α: −interp_ij's sums (i ≠ j)
const PASS_MAX: u32 = 4u;   // TUBA: max_{i≠j} S_ij − b_j, in col_top.x
const PASS_SUM: u32 = 5u;   // TUBA: Σ_{i≠j} e^(S_ij − b_j − max), in col_all

// Row i's score v = S_ij into column u's (j's) state for pass `step`.
fn col_visit(step: u32, u: u32, i: u32, j: u32, v: f32) {
    switch step {
        case PASS_TOP: {
            col_top[u] = top2_push(col_top[u], v, i);
            if (i == j) {
                col_sjj[u] = v;
            }
        }
        case PASS_LSE: {
            col_all[u] += exp(v - col_top[u].x);
            if (i != u32(col_top[u].z)) {
                col_rest[u] += exp(v - col_top[u].y);
            }
        }
        case PASS_Q_TOP: {
            let w = interp(held_out(col_all[u], u32(col_top[u].z), col_rest[u], i, v), col_bj[u]);
            col_joint[u] += col_sjj[u] - w;
            col_qtop[u] = top2_push(col_qtop[u], -w, i);
        }
        case PASS_Q_LSE: {
            let w = -interp(held_out(col_all[u], u32(col_top[u].z), col_rest[u], i, v), col_bj[u]);
            col_q_all[u] += exp(w - col_qtop[u].x);
            if (i != u32(col_qtop[u].z)) {
                col_q_rest[u] += exp(w - col_qtop[u].y);
            }
        }
        case PASS_MAX: {
            col_top[u].x = max(col_top[u].x, v - col_bj[u]);
        }
        case PASS_SUM, default: {
            col_all[u] += exp(v - col_bj[u] - col_top[u].x);
        }
    }
}

// One pass down the rows for columns j0 .. j0 + FB_ROWS (the diagonal left out where
// `off_diagonal`). Columns past K are clamped, formed and never written: no invocation
// returns early, since with FB_SHARED the whole workgroup stages every block.
fn col_walk(step: u32, j0: u32, lid: u32, off_diagonal: bool) {
    let k = p.k;
    for (var i0 = 0u; i0 < k; i0 += FB_COLS) {
        let sc = block_scores(j0, i0, false, lid);
        for (var u = 0u; u < FB_ROWS; u++) {
            for (var t = 0u; t < FB_COLS; t++) {
                let i = i0 + t;
                if (i < k && !(off_diagonal && i == j0 + u)) {
                    col_visit(step, u, i, j0 + u, sc[u * FB_COLS + t]);
                }
            }
        }
    }
}

// The columns' state before the first pass.
fn col_start(j0: u32) {
    for (var u = 0u; u < FB_ROWS; u++) {
        col_top[u] = vec3<f32>(NUM_LOWEST, NUM_LOWEST, 0.0);
        col_qtop[u] = vec3<f32>(NUM_LOWEST, NUM_LOWEST, 0.0);
        col_bj[u] = baseline[at_b + min(j0 + u, p.k - 1u)];
    }
}

// α-InfoNCE's column statistics: four passes down the rows.
@compute @workgroup_size(FB_WG)
fn col_stats(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    enter(gid.z);
    let j0 = first_line(gid, groups);
    col_start(j0);
    col_walk(PASS_TOP, j0, lid, false);
    col_walk(PASS_LSE, j0, lid, false);
    for (var u = 0u; u < FB_ROWS; u++) {
        // The column's log-sum-exp and that of all but its top row; K ≥ 2, so the rest holds
        // at least its own largest term and its sum is ≥ 1.
        col_all[u] = col_top[u].x + log(col_all[u]);
        col_rest[u] = col_top[u].y + log(col_rest[u]);
    }
    col_walk(PASS_Q_TOP, j0, lid, true);
    col_walk(PASS_Q_LSE, j0, lid, true);
    for (var u = 0u; u < FB_ROWS; u++) {
        let j = j0 + u;
        if (j < p.k) {
            finish_column(j, col_all[u], u32(col_top[u].z), col_rest[u], col_qtop[u], col_q_all[u], col_q_rest[u], col_sjj[u], col_bj[u], col_joint[u]);
        }
    }
}

// Column j's statistics into its scratch slots.
fn finish_column(
    j: u32,
    c: f32,
    r1: u32,
    c_rest: f32,
    qtop: vec3<f32>,
    q_all: f32,
    q_rest: f32,
    sjj: f32,
    bj: f32,
    joint: f32,
) {
    let held_jj = held_out(c, r1, c_rest, j, sjj);
    let interp_jj = interp(held_jj, bj);
    let base = col_base(j);
    scratch[at_scr + base + COL_LSE] = c;
    scratch[at_scr + base + COL_TOP] = f32(r1);
    scratch[at_scr + base + COL_LSE_REST] = c_rest;
    scratch[at_scr + base + COL_Q] = qtop.x + log(q_all);
    scratch[at_scr + base + COL_Q_TOP] = qtop.z;
    // With K = 2 only row q1 is off the diagonal: the rest is empty.
    var q_rest_lse = NUM_LOWEST;
    if (p.k > 2u) {
        q_rest_lse = qtop.y + log(q_rest);
    }
    scratch[at_scr + base + COL_Q_REST] = q_rest_lse;
    scratch[at_scr + base + COL_INTERP_DIAG] = interp_jj;
    scratch[at_scr + base + COL_JOINT] = joint;
    // interp_jj ≥ log α + held_jj − log(K−1): at most (K−1)/α.
    scratch[at_scr + base + COL_MARG] = exp(held_jj - interp_jj);
}

// ---- finalize ------------------------------------------------------------------------------

// lses: per-thread (max, Σ exp) of the rows' log-sum-exps; sums: (Σ diagonal terms, 0), or
// for α-InfoNCE (Σ joint, Σ marginal) over columns.
var<workgroup> lses: array<vec2<f32>, 256>;
var<workgroup> sums: array<vec2<f32>, 256>;

@compute @workgroup_size(256)
fn finalize(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    enter(wg.z);
    let t = lid.x;
    let k = p.k;
    var l = vec2<f32>(NUM_LOWEST, 0.0);
    var acc = vec2<f32>(0.0);
    for (var r = t; r < k; r += WG) {
        if (BOUND == ALPHA) {
            let base = col_base(r);
            acc += vec2<f32>(scratch[at_scr + base + COL_JOINT], scratch[at_scr + base + COL_MARG]);
        } else {
            l = num_lse_push(l, scratch[at_scr + ROW_LEN * r]);
            acc.x += scratch[at_scr + ROW_LEN * r + 1u];
        }
    }
    lses[t] = l;
    sums[t] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (t < stride) {
            lses[t] = num_lse_merge(lses[t], lses[t + stride]);
            sums[t] = sums[t] + sums[t + stride];
        }
        workgroupBarrier();
    }
    if (t != 0u) {
        return;
    }
    let kf = f32(k);
    let n = kf * (kf - 1.0);
    let total = sums[0];
    let mean_diag = total.x / kf;
    // log Σ_{i≠j} e^(S_ij) (of the clipped or baseline-shifted scores for SMILE and TUBA)
    let lse_off = lses[0].x + log(lses[0].y);
    let lme_off = lse_off - log(n);
    let step = atomicLoad(&state[at_st + NUM_STATE_STEP]);
    var value: f32;
    var log_m = 0.0;
    switch BOUND {
        case INFONCE: { value = log(kf) + mean_diag; }
        case LOO: { value = log(kf - 1.0) + mean_diag; }
        // Here lse_off is log Σ_i e^(S_ii) and total.x is Σ_{i≠j} S_ij (see row_stats).
        case LAUTUM_DV: { value = total.x / n - (lse_off - log(kf)); }
        case LAUTUM_NWJ: { value = total.x / n - exp(lse_off - log(kf) - 1.0); }
        // exp of a log-mean-exp: it overflows only when the bound really is −∞, and the flag
        // below then stops the run.
        case NWJ: { value = mean_diag - exp(lme_off - 1.0); }
        case TUBA, JS: { value = 1.0 + mean_diag - exp(lme_off); }
        case ALPHA: { value = 1.0 + total.x / n - total.y / n; }
        case MINE: {
            value = mean_diag - lme_off;
            // log m_t = logaddexp(log γ + log m_{t−1}, log(1−γ) + LME_off), m_0 = the first
            // batch's Z: the device step counter says which step this is, so a trainer that
            // uses MINE must start at step 0.
            log_m = lme_off;
            if (step > 0u) {
                let prev = bitcast<f32>(atomicLoad(&state[at_st + NUM_STATE_MINE_LOG_EMA]));
                log_m = num_log_add_exp(log(gamma) + prev, log(1.0 - gamma) + lme_off);
            }
            atomicStore(&state[at_st + NUM_STATE_MINE_LOG_EMA], bitcast<u32>(log_m));
        }
        // SMILE's row log-sum-exps are of the clipped scores.
        case DV, SMILE, default: { value = mean_diag - lme_off; }
    }
    hist[at_hist + step % p.hist_len] = value;
    if (!num_is_finite(value)) {
        atomicOr(&state[at_st + NUM_STATE_FLAGS], NUM_FLAG_NONFINITE_VALUE);
        atomicMin(&state[at_st + NUM_STATE_FIRST_BAD_STEP], step);
    }
    let g = global_base();
    scratch[at_scr + g + GLOBAL_LSE_OFF] = lse_off;
    scratch[at_scr + g + GLOBAL_MINE_LOG_M] = log_m;
}

// ---- grad ----------------------------------------------------------------------------------

// α-InfoNCE's ∂(−V)/∂S_ij (see `alpha_info_nce` in src/bounds.rs for the derivation):
// −[i=j]/K + α/(N(K−1)) Σ_{l∉{i,j}} e^(S_ij − interp_lj) + [i≠j] (1−α)/N e^(S_ij + b_j − 2 interp_jj).
// Each exponent is bounded above: e^(S_ij − interp_lj) ≤ (K−1)/α because loo_lj holds S_ij for
// l ≠ i, and e^(b_j − interp_jj) ≤ 1/(1−α).
fn alpha_grad(i: u32, j: u32, v: f32) -> f32 {
    let kf = f32(p.k);
    let n = kf * (kf - 1.0);
    let base = col_base(j);
    let q = scratch[at_scr + base + COL_Q];
    let scale = alpha / (n * (kf - 1.0));
    if (i == j) {
        return scale * exp(v + q) - 1.0 / kf;
    }
    var g: f32;
    if (i == u32(scratch[at_scr + base + COL_Q_TOP])) {
        g = exp(v + scratch[at_scr + base + COL_Q_REST]);
    } else {
        // Row i is not the largest term of Q, so e^(w − q) ≤ 1/2: removing it loses nothing.
        let held = held_out(
            scratch[at_scr + base + COL_LSE],
            u32(scratch[at_scr + base + COL_TOP]),
            scratch[at_scr + base + COL_LSE_REST],
            i,
            v,
        );
        let w = -interp(held, baseline[at_b + j]);
        g = exp(v + q + log(1.0 - exp(w - q)));
    }
    let ijj = scratch[at_scr + base + COL_INTERP_DIAG];
    return scale * g + (1.0 - alpha) / n * exp(v + baseline[at_b + j] - 2.0 * ijj);
}

// ∂(−L)/∂S_ij from the score v = S_ij and the statistics in `scratch`.
fn dscore(i: u32, j: u32, v: f32) -> f32 {
    let k = p.k;
    let kf = f32(k);
    let n = kf * (kf - 1.0);
    let log_n = log(n);
    var d: f32;
    if (BOUND == INFONCE) {
        d = exp(v - scratch[at_scr + ROW_LEN * i]) / kf - select(0.0, 1.0 / kf, i == j);
    } else if (lautum()) {
        if (i != j) {
            d = -1.0 / n;
        } else if (BOUND == LAUTUM_DV) {
            // e^(S_ii − log Σ_l e^(S_ll)) ≤ 1
            d = exp(v - scratch[at_scr + global_base() + GLOBAL_LSE_OFF]);
        } else {
            d = exp(min(v - 1.0 - log(kf), NUM_EXP_CLIP));
        }
    } else if (BOUND == LOO) {
        // e^(S_ij − log Σ_{l≠i} e^(S_il)) ≤ 1 off the diagonal; the diagonal is not in the sum.
        if (i == j) {
            d = -1.0 / kf;
        } else {
            d = exp(v - scratch[at_scr + ROW_LEN * i]) / kf;
        }
    } else if (BOUND == ALPHA) {
        d = alpha_grad(i, j, v);
    } else if (BOUND == JS || BOUND == SMILE) {
        // The JS objective: −mean softplus(−S_ii) − mean_off softplus(S_ij).
        if (i == j) {
            d = -num_sigmoid(-v) / kf;
        } else {
            d = num_sigmoid(v) / n;
        }
    } else if (i == j) {
        d = -1.0 / kf;
    } else {
        let g = global_base();
        switch BOUND {
            case NWJ: { d = exp(min(v - 1.0 - log_n, NUM_EXP_CLIP)); }
            case TUBA: { d = exp(min(v - baseline[at_b + j] - log_n, NUM_EXP_CLIP)); }
            // e^(S_ij − log Σ_off e^S) ≤ 1
            case DV: { d = exp(v - scratch[at_scr + g + GLOBAL_LSE_OFF]); }
            // MINE: ∇Z/m_t with m_t held, Z = mean_off e^S.
            case MINE, default: { d = exp(min(v - log_n - scratch[at_scr + g + GLOBAL_MINE_LOG_M], NUM_EXP_CLIP)); }
        }
    }
    return d;
}

@compute @workgroup_size(WG)
fn grad(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    // Two-dimensional grid, so matrices past 65 535 × 256 scores still fit one dispatch.
    enter(gid.z);
    let e = num_flat_index(gid, groups, WG);
    let k = p.k;
    if (e >= k * p.ld) {
        return;
    }
    ds[at_ds + e] = dscore(e / p.ld, p.jbase + e % p.ld, s[at_s + e]);
}

// ---- grad_rows, grad_cols (fused) ----------------------------------------------------------

// out[a·e + c] = Σ_b ∂S_ab · other[b·e + c] for the invocation's lines a = a0 .. a0 + FB_ROWS,
// b ascending over [j0, j1): rows (a = i, other = H) when `by_row`, else columns (a = j,
// other = G). A block of FB_COLS lines b at a time: their scores and gradients in registers,
// then each output entry continued by one fma chain over the block, kept in `ds` (the output)
// between blocks and launches, so the sum runs over b ascending whatever the geometry.
fn fused_lines(a0: u32, by_row: bool, lid: u32) {
    let e = p.e;
    let k = p.k;
    for (var b0 = p.j0; b0 < p.j1; b0 += FB_COLS) {
        let sc = block_scores(a0, b0, by_row, lid);
        let nb = min(FB_COLS, p.j1 - b0);
        var w: array<f32, FB_BLOCK>;
        for (var u = 0u; u < FB_ROWS; u++) {
            let a = min(a0 + u, k - 1u);
            for (var t = 0u; t < FB_COLS; t++) {
                let b = b0 + t;
                let v = sc[u * FB_COLS + t];
                var d = 0.0;
                if (t < nb) {
                    if (by_row) {
                        d = dscore(a, b, v);
                    } else {
                        d = dscore(b, a, v);
                    }
                }
                w[u * FB_COLS + t] = d;
            }
        }
        // The other side of `block_scores`: H for rows, G for columns.
        for (var c0 = 0u; c0 < e; c0 += FB_CHUNK) {
            if (FB_SHARED != 0u) {
                stage_other(by_row, b0, c0, lid);
            }
            let c1 = min(c0 + FB_CHUNK, e);
            for (var c = c0; c < c1; c++) {
                var o: array<f32, FB_COLS>;
                for (var t = 0u; t < FB_COLS; t++) {
                    o[t] = other_at(by_row, b0, t, c0, c);
                }
                for (var u = 0u; u < FB_ROWS; u++) {
                    let a = a0 + u;
                    if (a >= k) {
                        continue;
                    }
                    let at = at_ds + a * e + c;
                    var acc = 0.0;
                    if (b0 > 0u) {
                        acc = ds[at];
                    }
                    for (var t = 0u; t < FB_COLS; t++) {
                        if (t < nb) {
                            acc = fma(w[u * FB_COLS + t], o[t], acc);
                        }
                    }
                    ds[at] = acc;
                }
            }
        }
    }
}

@compute @workgroup_size(FB_WG)
fn grad_rows(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    enter(gid.z);
    fused_lines(first_line(gid, groups), true, lid);
}

@compute @workgroup_size(FB_WG)
fn grad_cols(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    enter(gid.z);
    fused_lines(first_line(gid, groups), false, lid);
}

// ---- baseline_grad -------------------------------------------------------------------------

@compute @workgroup_size(FB_WG)
fn baseline_grad(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    enter(gid.z);
    let j0 = first_line(gid, groups);
    let k = p.k;
    let kf = f32(k);
    let n = kf * (kf - 1.0);
    if (BOUND == ALPHA) {
        // (1−α)/N (Σ_{i≠j} e^(b_j − interp_ij) − Σ_{i≠j} e^(S_ij − interp_jj) e^(b_j − interp_jj));
        // each e^(b_j − interp) ≤ 1/(1−α). From the column statistics alone.
        for (var u = 0u; u < FB_ROWS; u++) {
            let j = j0 + u;
            if (j < k) {
                let bj = baseline[at_b + j];
                let base = col_base(j);
                let ijj = scratch[at_scr + base + COL_INTERP_DIAG];
                db[at_db + j] = (1.0 - alpha) / n
                    * (exp(bj + scratch[at_scr + base + COL_Q]) - scratch[at_scr + base + COL_MARG] * exp(bj - ijj));
            }
        }
        return;
    }
    // TUBA: 1/K − Σ_{i≠j} e^(S_ij − b_j) / N, the column's sum as one max-shifted exponent,
    // clipped like the score gradients; two passes down the rows (`col_walk`).
    col_start(j0);
    col_walk(PASS_MAX, j0, lid, true);
    col_walk(PASS_SUM, j0, lid, true);
    for (var u = 0u; u < FB_ROWS; u++) {
        let j = j0 + u;
        if (j < k) {
            db[at_db + j] = 1.0 / kf - exp(min(col_top[u].x + log(col_all[u]) - log(n), NUM_EXP_CLIP));
        }
    }
}
