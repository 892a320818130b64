// Device-limit probes for benchmarks: a streaming copy (memory bandwidth) and independent FMA
// chains (arithmetic throughput). Neither is used in training; they measure what the adapter
// can do so a benchmark can report a kernel as a fraction of it (numerics.wgsl prepended for
// the 2-D grid index).

struct ProbeParams {
    // copy: vec4 elements; fma: invocations.
    n: u32,
    // fma: iterations of every chain (under the software loop budget, checked on the host).
    iters: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: ProbeParams;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

const WG: u32 = 256u;

// dst = src, one vec4 (16 bytes) per invocation: bytes moved = 32 n (read + write).
@compute @workgroup_size(WG)
fn copy(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = num_flat_index(gid, groups, WG);
    if (i < p.n) {
        dst[i] = src[i];
    }
}

// Eight independent vec4 chains x ← x·m + (1 − m) per invocation (enough independent work to
// hide FMA latency), summed into dst[i] so nothing is dead code: 64 flops an iteration. The
// fixed point is 1, so values stay bounded for any iteration count; the start depends on i so
// no two invocations compute the same thing.
@compute @workgroup_size(WG)
fn fma_chains(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = num_flat_index(gid, groups, WG);
    if (i >= p.n) {
        return;
    }
    let s = f32(i % 1024u) / 1024.0;
    let m = vec4<f32>(0.9990, 0.9991, 0.9992, 0.9993);
    let c = vec4<f32>(1.0) - m;
    var a0 = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
    var a1 = a0 + vec4<f32>(0.01);
    var a2 = a0 + vec4<f32>(0.02);
    var a3 = a0 + vec4<f32>(0.03);
    var a4 = a0 + vec4<f32>(0.04);
    var a5 = a0 + vec4<f32>(0.05);
    var a6 = a0 + vec4<f32>(0.06);
    var a7 = a0 + vec4<f32>(0.07);
    for (var t = 0u; t < p.iters; t = t + 1u) {
        a0 = fma(a0, m, c);
        a1 = fma(a1, m, c);
        a2 = fma(a2, m, c);
        a3 = fma(a3, m, c);
        a4 = fma(a4, m, c);
        a5 = fma(a5, m, c);
        a6 = fma(a6, m, c);
        a7 = fma(a7, m, c);
    }
    dst[i] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}
