// Matrix products C = epilogue(A · B) for the critic's forward and backward passes.
//
// A is logically M×K and B is K×N; TRANS_A / TRANS_B say that the buffer holds the transpose
// (so A·Bᵀ and Aᵀ·B need no copies). Operands are offsets into larger buffers with their own
// leading dimensions, so layers can live inside one flat parameter buffer.
//
// The geometry is the host's template constants (`GemmGeometry`, tuned per adapter and shape):
// each invocation keeps a GM_ROWS × GM_COLS register block of C, a workgroup is GM_TX × GM_TY
// invocations (x along n), so it covers a BM × BN block of C; two forms, same grid:
//   gemm_tiled  — k staged through workgroup-memory tiles of GM_TK; what real GPUs reward.
//   gemm_direct — no workgroup memory and no barriers; what CPU rasterisers (lavapipe) reward.
// Every output is one fma chain over k in order in both (a tile's padding adds fma(0, ·) = +0),
// so a product in one pass has the same bits in every geometry.
//
// Split-K (SPLIT = true): the grid's y holds P = ceil(k / k_chunk) copies of the row tiles;
// copy q sums k in [q·k_chunk, (q+1)·k_chunk) and writes its raw partial product to slice q of
// C (P slices of m×n, no epilogue); `gemm_reduce` then adds the slices in order q = 0, 1, …
// (no float atomics) and applies the epilogue. The long reductions (the concat critic's
// weight gradients over K² pair rows) so run in parallel workgroups, and a software adapter's
// loop limit is one more reason to split: P·m·n partials, the same bits as a chain of
// launches adding into C in order.
//
// Replicas: the grid's z is the replica r (one for a solo run); replica r's A, B, C, bias and
// mask start *_rs elements after replica r − 1's (a stride 0 operand is shared by all). The
// x/y grid covers one replica's C, so each replica's products are a solo run's, bit for bit.

struct GemmParams {
    m: u32,
    n: u32,
    k: u32,
    lda: u32,
    ldb: u32,
    ldc: u32,
    a_off: u32,
    b_off: u32,
    c_off: u32,
    bias_off: u32,
    aux_off: u32,
    ldaux: u32,
    // Per-replica strides (elements) of A, B, C, the bias and the mask.
    a_rs: u32,
    b_rs: u32,
    c_rs: u32,
    bias_rs: u32,
    aux_rs: u32,
    // k per partial product (split-K), and the row tiles of one copy of the grid.
    k_chunk: u32,
    row_tiles: u32,
    _pad0: u32,
}

// 0: C = A·B; 1: C = A·B + bias; 2: C = relu(A·B + bias);
// 3: C = (A·B) ⊙ [aux > 0], the ReLU backward taken from the stored forward output.
override EPILOGUE: u32 = 0u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// Add the product to what C holds (before the epilogue): the later launches of a product split
// along k, so no invocation loops past a software adapter's limit (kernels/gemm.rs).
override ACCUMULATE: bool = false;
override SPLIT: bool = false;

@group(0) @binding(0) var<uniform> p: GemmParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> aux: array<f32>;

// The invocation's replica's offsets into each operand, its split's k range and slice
// (`enter`).
var<private> k_lo: u32;
var<private> k_hi: u32;
var<private> slice: u32;
var<private> a0: u32;
var<private> b0: u32;
var<private> c0: u32;
var<private> bias0: u32;
var<private> aux0: u32;

// `part`: the copy of the row tiles the workgroup's y falls in (0 without a split).
fn enter(r: u32, part: u32) {
    k_lo = part * p.k_chunk;
    k_hi = min(p.k, k_lo + p.k_chunk);
    slice = part * p.m * p.n;
    a0 = p.a_off + r * p.a_rs;
    b0 = p.b_off + r * p.b_rs;
    c0 = p.c_off + r * p.c_rs;
    bias0 = p.bias_off + r * p.bias_rs;
    aux0 = p.aux_off + r * p.aux_rs;
}

const BM: u32 = GM_TY * GM_ROWS;
const BN: u32 = GM_TX * GM_COLS;
const THREADS: u32 = GM_TX * GM_TY;
// The tiled form's k a tile (GM_TK is 0 for a direct geometry, whose module still declares
// the tiles).
const TK: u32 = max(GM_TK, 1u);
const BLOCK: u32 = GM_ROWS * GM_COLS;

fn load_a(i: u32, kk: u32) -> f32 {
    if (i >= p.m || kk >= k_hi) {
        return 0.0;
    }
    if (TRANS_A) {
        return a[a0 + kk * p.lda + i];
    }
    return a[a0 + i * p.lda + kk];
}

fn load_b(kk: u32, j: u32) -> f32 {
    if (kk >= k_hi || j >= p.n) {
        return 0.0;
    }
    if (TRANS_B) {
        return b[b0 + j * p.ldb + kk];
    }
    return b[b0 + kk * p.ldb + j];
}

fn store(i: u32, j: u32, acc: f32) {
    if (i >= p.m || j >= p.n) {
        return;
    }
    if (SPLIT) {
        c[c0 + slice + i * p.n + j] = acc;
        return;
    }
    finish(i, j, acc);
}

// C_ij from the product's value: added to C (ACCUMULATE), then the epilogue.
fn finish(i: u32, j: u32, acc: f32) {
    var v = acc;
    if (ACCUMULATE) {
        v += c[c0 + i * p.ldc + j];
    }
    if (EPILOGUE == 1u || EPILOGUE == 2u) {
        v += bias[bias0 + j];
    }
    if (EPILOGUE == 2u) {
        v = max(v, 0.0);
    }
    if (EPILOGUE == 3u) {
        v = select(0.0, v, aux[aux0 + i * p.ldaux + j] > 0.0);
    }
    c[c0 + i * p.ldc + j] = v;
}

// k-major tiles: tile_a[kk * BM + row], tile_b[kk * BN + col].
var<workgroup> tile_a: array<f32, TK * BM>;
var<workgroup> tile_b: array<f32, TK * BN>;

// C's block from the register block of the invocation whose first output is (i0, j0).
fn store_block(i0: u32, j0: u32, acc: ptr<function, array<f32, BLOCK>>) {
    for (var i = 0u; i < GM_ROWS; i++) {
        for (var j = 0u; j < GM_COLS; j++) {
            store(i0 + i, j0 + j, (*acc)[i * GM_COLS + j]);
        }
    }
}

@compute @workgroup_size(GM_TX, GM_TY)
fn gemm_tiled(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    enter(wg.z, wg.y / p.row_tiles);
    let row0 = (wg.y % p.row_tiles) * BM;
    let col0 = wg.x * BN;
    let t = lid.y * GM_TX + lid.x;
    var acc: array<f32, BLOCK>;
    for (var k0 = k_lo; k0 < k_hi; k0 += TK) {
        for (var e = t; e < TK * BM; e += THREADS) {
            let ka = e % TK;
            let ma = e / TK;
            tile_a[ka * BM + ma] = load_a(row0 + ma, k0 + ka);
        }
        for (var e = t; e < TK * BN; e += THREADS) {
            let nb = e % BN;
            let kb = e / BN;
            tile_b[kb * BN + nb] = load_b(k0 + kb, col0 + nb);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            var av: array<f32, GM_ROWS>;
            var bv: array<f32, GM_COLS>;
            for (var r = 0u; r < GM_ROWS; r++) {
                av[r] = tile_a[kk * BM + lid.y * GM_ROWS + r];
            }
            for (var c = 0u; c < GM_COLS; c++) {
                bv[c] = tile_b[kk * BN + lid.x * GM_COLS + c];
            }
            for (var i = 0u; i < GM_ROWS; i++) {
                for (var j = 0u; j < GM_COLS; j++) {
                    acc[i * GM_COLS + j] = fma(av[i], bv[j], acc[i * GM_COLS + j]);
                }
            }
        }
        workgroupBarrier();
    }
    store_block(row0 + lid.y * GM_ROWS, col0 + lid.x * GM_COLS, &acc);
}

@compute @workgroup_size(GM_TX, GM_TY)
fn gemm_direct(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let part = wg.y / p.row_tiles;
    enter(gid.z, part);
    let i0 = (gid.y - part * p.row_tiles * GM_TY) * GM_ROWS;
    let j0 = gid.x * GM_COLS;
    if (i0 >= p.m || j0 >= p.n) {
        return;
    }
    var acc: array<f32, BLOCK>;
    for (var kk = k_lo; kk < k_hi; kk++) {
        var av: array<f32, GM_ROWS>;
        var bv: array<f32, GM_COLS>;
        for (var r = 0u; r < GM_ROWS; r++) {
            av[r] = load_a(i0 + r, kk);
        }
        for (var c = 0u; c < GM_COLS; c++) {
            bv[c] = load_b(kk, j0 + c);
        }
        for (var i = 0u; i < GM_ROWS; i++) {
            for (var j = 0u; j < GM_COLS; j++) {
                acc[i * GM_COLS + j] = fma(av[i], bv[j], acc[i * GM_COLS + j]);
            }
        }
    }
    store_block(i0, j0, &acc);
}

// Split-K's second pass: C_ij = epilogue(Σ_q slice q of the partials, q ascending). The
// partials are bound as A (a_rs their per-replica stride); one invocation an output, on the
// two-dimensional grid of `num_flat_index`.
@compute @workgroup_size(256)
fn gemm_reduce(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    enter(gid.z, 0u);
    let x = gid.x + gid.y * groups.x * 256u;
    let mn = p.m * p.n;
    if (x >= mn) {
        return;
    }
    let parts = (p.k + p.k_chunk - 1u) / p.k_chunk;
    let base = r_partials(gid.z);
    var acc = a[base + x];
    for (var q = 1u; q < parts; q++) {
        acc += a[base + q * mn + x];
    }
    finish(x / p.n, x % p.n, acc);
}

// Replica r's partials (bound as A).
fn r_partials(r: u32) -> u32 {
    return r * p.a_rs;
}
