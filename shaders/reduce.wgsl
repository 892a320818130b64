// Deterministic reductions: column sums (bias gradients) and a two-stage sum / max /
// log-sum-exp over a long vector. Every element has a fixed place in a fixed tree: no float
// atomics, so the same input gives the same bits on the same adapter and geometry.

struct ReduceParams {
    // Rows (column sums) or elements (vector reductions).
    n: u32,
    // Columns (column sums); partial count (finish).
    cols: u32,
    // Leading dimension of the input (column sums).
    ld: u32,
    in_off: u32,
    out_off: u32,
    // Workgroups of the first stage (two-stage reductions); rows a part (column sums).
    groups: u32,
    // Per-replica strides (elements) of the input and output (column sums; the grid's z is
    // the replica, one for a solo run).
    in_rs: u32,
    out_rs: u32,
}

// 0: sum, 1: max, 2: log-sum-exp (with a max shift; never a raw exp of a large value).
override OP: u32 = 0u;

@group(0) @binding(0) var<uniform> p: ReduceParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// The two-stage reductions' workgroup: the host's template constant RD_WG (the geometry).
const WG: u32 = RD_WG;
// The column sums' workgroup.
const COLUMN_WG: u32 = 64u;

// Column sums, one invocation a column j and a part q of its rows (rows [q·groups, (q+1)·groups)
// in order), into dst[q·cols + j] of the replica's block: with one part, the sums themselves;
// with more (a long column split for parallel work or a software adapter's loop limit), the
// partial sums `column_sums_finish` adds. On the two-dimensional grid of `num_flat_index`;
// the grid's z is the replica.
@compute @workgroup_size(COLUMN_WG)
fn column_sums(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let x = num_flat_index(gid, groups, COLUMN_WG);
    let j = x % p.cols;
    let q = x / p.cols;
    let lo = q * p.groups;
    if (lo >= p.n) {
        return;
    }
    let hi = min(p.n, lo + p.groups);
    let in0 = p.in_off + gid.z * p.in_rs;
    var s = 0.0;
    for (var i = lo; i < hi; i++) {
        s += src[in0 + i * p.ld + j];
    }
    dst[p.out_off + gid.z * p.out_rs + q * p.cols + j] = s;
}

// The column sums' second pass over `n` parts: dst[j] = Σ_q src[q·cols + j], q ascending.
@compute @workgroup_size(COLUMN_WG)
fn column_sums_finish(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    if (j >= p.cols) {
        return;
    }
    let in0 = p.in_off + gid.z * p.in_rs;
    var s = src[in0 + j];
    for (var q = 1u; q < p.n; q++) {
        s += src[in0 + q * p.cols + j];
    }
    dst[p.out_off + gid.z * p.out_rs + j] = s;
}

// A partial result: (running max, sum) — max ignores the sum, sum ignores the max.
fn identity() -> vec2<f32> {
    return vec2<f32>(NUM_LOWEST, 0.0);
}

fn lift(v: f32) -> vec2<f32> {
    if (OP == 0u) {
        return vec2<f32>(NUM_LOWEST, v);
    }
    if (OP == 1u) {
        return vec2<f32>(v, 0.0);
    }
    return vec2<f32>(v, 1.0);
}

fn combine(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
    if (OP == 0u) {
        return vec2<f32>(NUM_LOWEST, x.y + y.y);
    }
    if (OP == 1u) {
        return vec2<f32>(max(x.x, y.x), 0.0);
    }
    return num_lse_merge(x, y);
}

fn result(x: vec2<f32>) -> f32 {
    if (OP == 0u) {
        return x.y;
    }
    if (OP == 1u) {
        return x.x;
    }
    return x.x + log(x.y);
}

var<workgroup> scratch: array<vec2<f32>, WG>;

// `fn tree(t, mine) -> vec2<f32>`, every invocation's partial folded into the workgroup's, is
// one of two fragments the host appends (the geometry's choice, `Family::source_with`):
// reduce_tree.wgsl, a fixed tree in workgroup memory, or reduce_subgroup.wgsl, subgroup
// operations where the device has them.

// Stage 1: workgroup g folds elements g·WG + t + r·groups·WG, then its tree; writes a pair.
@compute @workgroup_size(WG)
fn reduce_partial(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let t = lid.x;
    var acc = identity();
    for (var i = wg.x * WG + t; i < p.n; i += p.groups * WG) {
        acc = combine(acc, lift(src[p.in_off + i]));
    }
    let total = tree(t, acc);
    if (t == 0u) {
        dst[p.out_off + 2u * wg.x] = total.x;
        dst[p.out_off + 2u * wg.x + 1u] = total.y;
    }
}

// Stage 2: one workgroup folds the `cols` pairs of stage 1 and writes the scalar.
@compute @workgroup_size(WG)
fn reduce_finish(@builtin(local_invocation_id) lid: vec3<u32>) {
    let t = lid.x;
    var acc = identity();
    for (var i = t; i < p.cols; i += WG) {
        acc = combine(acc, vec2<f32>(src[p.in_off + 2u * i], src[p.in_off + 2u * i + 1u]));
    }
    let total = tree(t, acc);
    if (t == 0u) {
        dst[p.out_off] = result(total);
    }
}
