//! C = epilogue(op(A)·op(B)) as `gemm.wgsl` computes it, through the `gemm` crate in f32.
//!
//! The work is split by the shapes alone: row blocks of C, or, for a long shared dimension
//! with a small result (the weight gradients over K² pair rows), fixed chunks of the sum whose
//! partial products are added in chunk order. The crate runs single-threaded inside each
//! block, so no sum's order depends on the thread count.

use crate::cpu::fast::pool::{blocks, Pool};
use crate::math::linalg::{extent, Epilogue, GemmSpec};

/// A shared dimension at least this long, with a result of at most [`SPLIT_OUTPUT`]
/// elements, is summed in chunks (else one thread would do a whole weight gradient).
const SPLIT_K: usize = 8192;
/// The largest result a split sum is used for (each chunk keeps a copy).
const SPLIT_OUTPUT: usize = 1 << 16;
/// Rows of the shared dimension a chunk of a split sum covers, at least.
const CHUNK_K: usize = 4096;
/// Most chunks a split sum has (bounds the partials' memory).
const MAX_CHUNKS: usize = 64;
/// Flops a row block of C aims for.
const BLOCK_FLOPS: usize = 1 << 18;

/// Strides of a stored operand as the crate takes them (row stride, column stride).
#[derive(Clone, Copy)]
struct Strides {
    rs: usize,
    cs: usize,
}

/// C = epilogue(op(A)·op(B)) for `spec`, products in f32 (the crate's blocked order).
///
/// Panics if an operand is shorter than the spec needs, or if C's rows overlap (ldc < n):
/// the programs never ask for either, and the raw products below rely on it.
pub fn gemm(
    pool: &Pool,
    spec: &GemmSpec,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    bias: Option<&[f32]>,
    aux: Option<&[f32]>,
) {
    let s = spec;
    let (ea, eb, ec) = s.extents();
    assert!(
        a.len() >= ea && b.len() >= eb && c.len() >= ec,
        "gemm operands shorter than the spec"
    );
    assert!(s.ldc >= s.n || s.m <= 1, "C's rows overlap");
    match s.epilogue {
        Epilogue::Bias | Epilogue::BiasRelu => assert!(
            bias.is_some_and(|v| v.len() >= s.bias_off + s.n),
            "gemm bias shorter than the spec"
        ),
        Epilogue::ReluBackward => assert!(
            aux.is_some_and(|v| v.len() >= extent(s.m, s.n, s.ldaux, s.aux_off)),
            "gemm mask shorter than the spec"
        ),
        Epilogue::None => {}
    }
    if s.m == 0 || s.n == 0 {
        return;
    }
    let sa = if s.trans_a {
        Strides { rs: 1, cs: s.lda }
    } else {
        Strides { rs: s.lda, cs: 1 }
    };
    let sb = if s.trans_b {
        Strides { rs: 1, cs: s.ldb }
    } else {
        Strides { rs: s.ldb, cs: 1 }
    };
    let a = &a[s.a_off..];
    let b = &b[s.b_off..];
    let flops = 2 * s.m * s.n * s.k;
    if s.k >= SPLIT_K && s.m * s.n <= SPLIT_OUTPUT {
        let chunk = CHUNK_K.max(s.k.div_ceil(MAX_CHUNKS));
        let (count, range) = blocks(s.k, chunk);
        let partials = pool.map(count, flops, |p| {
            let r = range(p);
            let mut out = vec![0.0f32; s.m * s.n];
            // SAFETY: the chunk's columns of A and rows of B lie inside the extents checked
            // above (r ⊂ 0..k), and `out` is m×n dense.
            unsafe {
                product(
                    (s.m, s.n, r.len()),
                    (out.as_mut_ptr(), s.n),
                    (a.as_ptr().add(r.start * sa.cs), sa),
                    (b.as_ptr().add(r.start * sb.rs), sb),
                );
            }
            out
        });
        let mut sum = partials[0].clone();
        for p in &partials[1..] {
            for (t, v) in sum.iter_mut().zip(p) {
                *t += v;
            }
        }
        for (i, row) in sum.chunks_exact_mut(s.n).enumerate() {
            epilogue(s, i, row, bias, aux);
            let at = s.c_off + i * s.ldc;
            c[at..at + s.n].copy_from_slice(row);
        }
        return;
    }
    let rows = (BLOCK_FLOPS / (2 * s.n * s.k).max(1)).clamp(1, s.m);
    let rows = rows.div_ceil(16) * 16;
    let c = &mut c[s.c_off..s.c_off + extent(s.m, s.n, s.ldc, 0)];
    pool.chunks_mut(c, rows * s.ldc, flops, |blk, cc| {
        let r0 = blk * rows;
        let m = rows.min(s.m - r0);
        // SAFETY: rows r0..r0+m of A lie inside its checked extent; `cc` holds those rows of
        // C at stride ldc (its chunk of the slice above).
        unsafe {
            product(
                (m, s.n, s.k),
                (cc.as_mut_ptr(), s.ldc),
                (a.as_ptr().add(r0 * sa.rs), sa),
                (b.as_ptr(), sb),
            );
        }
        for i in 0..m {
            epilogue(s, r0 + i, &mut cc[i * s.ldc..i * s.ldc + s.n], bias, aux);
        }
    });
}

/// C (m×n at `dst`, row stride `ldc`) = A·B through the crate, single-threaded.
///
/// # Safety
/// Every element of A (m×k), B (k×n) and C addressed through the pointers and strides must
/// lie inside live allocations, and C must not overlap A or B.
unsafe fn product(
    (m, n, k): (usize, usize, usize),
    (dst, ldc): (*mut f32, usize),
    (lhs, sa): (*const f32, Strides),
    (rhs, sb): (*const f32, Strides),
) {
    if k == 0 {
        for i in 0..m {
            std::ptr::write_bytes(dst.add(i * ldc), 0, n);
        }
        return;
    }
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        ldc as isize,
        false,
        lhs,
        sa.cs as isize,
        sa.rs as isize,
        rhs,
        sb.cs as isize,
        sb.rs as isize,
        0.0f32,
        1.0f32,
        false,
        false,
        false,
        gemm::Parallelism::None,
    );
}

/// The epilogue of row `i` of C, in place.
#[inline]
fn epilogue(s: &GemmSpec, i: usize, row: &mut [f32], bias: Option<&[f32]>, aux: Option<&[f32]>) {
    match s.epilogue {
        Epilogue::None => {}
        Epilogue::Bias => {
            let b = &bias.expect("checked")[s.bias_off..s.bias_off + s.n];
            for (v, b) in row.iter_mut().zip(b) {
                *v += b;
            }
        }
        Epilogue::BiasRelu => {
            let b = &bias.expect("checked")[s.bias_off..s.bias_off + s.n];
            for (v, b) in row.iter_mut().zip(b) {
                *v = (*v + b).max(0.0);
            }
        }
        Epilogue::ReluBackward => {
            let at = s.aux_off + i * s.ldaux;
            let mask = &aux.expect("checked")[at..at + s.n];
            for (v, m) in row.iter_mut().zip(mask) {
                *v = if *m > 0.0 { *v } else { 0.0 };
            }
        }
    }
}
