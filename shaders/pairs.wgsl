// The concat critic over all K² pairs with its first layer split (SPEC §3):
// pre-activation(i, j) = U_i + V_j with U = X·W_xᵀ + b and V = Y·W_yᵀ, so the K² rows are
// formed here instead of K² concatenated inputs going through a product.
//
// pair_expand: out[(i·K + j)·w + c] = relu(U[i·w + c] + V[j·w + c])
// pair_reduce: the backward of the split, the sums of a K×K×w gradient over one pair index:
//              ROWS: out[i·w + c] = Σ_j src[(i·K + j)·w + c]   (dU)
//              else: out[j·w + c] = Σ_i src[(i·K + j)·w + c]   (dV)
// Each output is one invocation summing in index order: deterministic, no atomics.
//
// Replicas: the grid's z is the replica r (one for a solo run); replica r's U, V and out start
// *_rs elements after replica r − 1's.

struct PairParams {
    k: u32,
    width: u32,
    // Per-replica strides (elements) of u (or src), v and out.
    u_rs: u32,
    v_rs: u32,
    out_rs: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

override ROWS: bool = true;

@group(0) @binding(0) var<uniform> p: PairParams;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// The geometry is the host's template constants (`PairGeometry`): PR_WG invocations a
// workgroup, PR_PER outputs an invocation, PR_WG apart, so a workgroup covers PR_WG · PR_PER
// consecutive outputs and its reads stay side by side. On a two-dimensional grid
// (num_flat_index), so K²·w past 65 535 × 64 still fits one dispatch.

// The first output of the invocation whose flat index is `x`.
fn first_output(x: u32) -> u32 {
    return (x / PR_WG) * PR_WG * PR_PER + x % PR_WG;
}

@compute @workgroup_size(PR_WG)
fn pair_expand(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let first = first_output(num_flat_index(gid, groups, PR_WG));
    let r = gid.z;
    for (var q = 0u; q < PR_PER; q++) {
        let e = first + q * PR_WG;
        if (e >= p.k * p.k * p.width) {
            return;
        }
        let c = e % p.width;
        let pair = e / p.width;
        let i = pair / p.k;
        let j = pair % p.k;
        out[r * p.out_rs + e] =
            max(u[r * p.u_rs + i * p.width + c] + v[r * p.v_rs + j * p.width + c], 0.0);
    }
}

@compute @workgroup_size(PR_WG)
fn pair_reduce(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let first = first_output(num_flat_index(gid, groups, PR_WG));
    let src0 = gid.z * p.u_rs;
    for (var q = 0u; q < PR_PER; q++) {
        let e = first + q * PR_WG;
        if (e >= p.k * p.width) {
            return;
        }
        let c = e % p.width;
        let line = e / p.width;
        var s = 0.0;
        for (var t = 0u; t < p.k; t++) {
            let pair = select(t * p.k + line, line * p.k + t, ROWS);
            s += u[src0 + pair * p.width + c];
        }
        out[gid.z * p.out_rs + e] = s;
    }
}
