// The workgroup tree of reduce.wgsl (SUBGROUPS = 0): halving strides in workgroup memory,
// every element at a fixed place, so the bits depend on nothing but the input.

fn tree(t: u32, mine: vec2<f32>) -> vec2<f32> {
    scratch[t] = mine;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (t < s) {
            scratch[t] = combine(scratch[t], scratch[t + s]);
        }
        workgroupBarrier();
    }
    return scratch[0];
}
