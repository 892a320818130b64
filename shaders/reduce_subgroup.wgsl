// The tree of reduce.wgsl on subgroups (SUBGROUPS = 1; the device has the SUBGROUP feature). Each subgroup folds its lanes with one
// subgroup operation (the log-sum-exp as a max, then a sum of max-shifted terms), its first
// active lane leaves the result at its own index, and invocation 0 folds those in index order.
// The order inside a subgroup is the hardware's: fixed for an adapter and subgroup size, so
// the bits depend on the geometry (reduce_tree.wgsl's do not).

var<workgroup> sg_first: array<u32, WG>;

fn tree(t: u32, mine: vec2<f32>) -> vec2<f32> {
    var x: vec2<f32>;
    if (OP == 0u) {
        x = vec2<f32>(NUM_LOWEST, subgroupAdd(mine.y));
    } else if (OP == 1u) {
        x = vec2<f32>(subgroupMax(mine.x), 0.0);
    } else {
        let m = subgroupMax(mine.x);
        // A lane that holds nothing has sum 0 and adds nothing, whatever its max.
        x = vec2<f32>(m, subgroupAdd(mine.y * exp(mine.x - m)));
    }
    let first = subgroupBroadcastFirst(t);
    sg_first[t] = 0u;
    workgroupBarrier();
    if (t == first) {
        scratch[t] = x;
        sg_first[t] = 1u;
    }
    workgroupBarrier();
    if (t == 0u) {
        var acc = identity();
        for (var i = 0u; i < WG; i++) {
            if (sg_first[i] != 0u) {
                acc = combine(acc, scratch[i]);
            }
        }
        scratch[0] = acc;
    }
    workgroupBarrier();
    return scratch[0];
}
