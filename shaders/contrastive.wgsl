// The element-wise glue of the fused contrastive losses (`src/gpu/contrastive.rs`): the
// temperature scaling of an embedding set, the sum of the two directions' gradients of the
// symmetric loss, and the loss itself from the fused InfoNCE values. The heavy work (the K×K
// scores, never stored) is `matrix_bounds.wgsl`'s fused InfoNCE.
//
//   elementwise, OP = 0  scale           out[i] = a·x[i]            G/T into working space (the caller's G is read-only)
//                OP = 1  scale_in_place  out[i] = a·out[i]          dG ← dG/T
//                OP = 2  axpby           out[i] = a·out[i] + b·x[i] the symmetric loss's mean of two gradients
//                OP = 3  fill            out[i] = a                 K = 1: no negatives, the gradients are 0
//   loss                                 out[0] = c − (a·x[0] + b·y[0])   ln K − the mean InfoNCE value(s)
//
// Element-wise, one invocation an element, no loops: deterministic, no exp.

struct Params {
    n: u32,
    a: f32,
    b: f32,
    c: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

// Which element-wise operation `elementwise` is (see the table above): 0 scale,
// 1 scale_in_place, 2 axpby, 3 fill. A pipeline constant, so each is its own compiled kernel
// without a branch per element; `x` is bound in every variant (a placeholder where unread).
override OP: u32 = 0u;

@compute @workgroup_size(WG)
fn elementwise(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = num_flat_index(gid, groups, WG);
    if (i >= p.n) {
        return;
    }
    switch OP {
        case 0u: {
            out[i] = p.a * x[i];
        }
        case 1u: {
            out[i] = p.a * out[i];
        }
        case 2u: {
            out[i] = p.a * out[i] + p.b * x[i];
        }
        default: {
            out[i] = p.a;
        }
    }
}

@compute @workgroup_size(1)
fn loss() {
    out[0] = p.c - (p.a * x[0] + p.b * y[0]);
}
