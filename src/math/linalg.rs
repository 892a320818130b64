//! Backend-neutral description of the matrix products both backends compute.

/// What a matrix product does to its result before storing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Epilogue {
    /// C = A·B.
    None,
    /// C = A·B + bias (broadcast over rows).
    Bias,
    /// C = relu(A·B + bias).
    BiasRelu,
    /// C = (A·B) ⊙ [aux > 0]: the ReLU backward, masked by the stored forward output.
    ReluBackward,
}

impl Epilogue {
    /// The `EPILOGUE` override of `gemm.wgsl`.
    pub(crate) fn code(self) -> i64 {
        match self {
            Epilogue::None => 0,
            Epilogue::Bias => 1,
            Epilogue::BiasRelu => 2,
            Epilogue::ReluBackward => 3,
        }
    }
}

/// One matrix product C (m×n) = epilogue(op(A) · op(B)), with op(A) m×k and op(B) k×n.
///
/// Operands are row-major blocks inside larger buffers: element (r, c) of a stored matrix is at
/// `off + r * ld + c`. With `trans_a` the buffer holds Aᵀ (k×m), with `trans_b` it holds Bᵀ (n×k).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmSpec {
    /// Rows of C.
    pub m: usize,
    /// Columns of C.
    pub n: usize,
    /// The shared dimension.
    pub k: usize,
    /// The buffer holds Aᵀ.
    pub trans_a: bool,
    /// The buffer holds Bᵀ.
    pub trans_b: bool,
    /// Leading dimension and offset of A's storage.
    pub lda: usize,
    /// Offset of A.
    pub a_off: usize,
    /// Leading dimension of B's storage.
    pub ldb: usize,
    /// Offset of B.
    pub b_off: usize,
    /// Leading dimension of C.
    pub ldc: usize,
    /// Offset of C.
    pub c_off: usize,
    /// The fused epilogue.
    pub epilogue: Epilogue,
    /// Offset of the bias vector (Bias, BiasRelu).
    pub bias_off: usize,
    /// Leading dimension and offset of the mask operand (ReluBackward); it has C's shape.
    pub ldaux: usize,
    /// Offset of the mask operand.
    pub aux_off: usize,
}

impl GemmSpec {
    /// A dense product of contiguous matrices at offset 0, no epilogue.
    pub fn dense(m: usize, n: usize, k: usize, trans_a: bool, trans_b: bool) -> Self {
        Self {
            m,
            n,
            k,
            trans_a,
            trans_b,
            lda: if trans_a { m } else { k },
            a_off: 0,
            ldb: if trans_b { k } else { n },
            b_off: 0,
            ldc: n,
            c_off: 0,
            epilogue: Epilogue::None,
            bias_off: 0,
            ldaux: n,
            aux_off: 0,
        }
    }

    /// The same product with a fused epilogue.
    pub fn with_epilogue(mut self, epilogue: Epilogue) -> Self {
        self.epilogue = epilogue;
        self
    }
}

/// The element one past the last one a stored (rows×cols, ld, off) block touches.
pub fn extent(rows: usize, cols: usize, ld: usize, off: usize) -> usize {
    if rows == 0 || cols == 0 {
        off
    } else {
        off + (rows - 1) * ld + cols
    }
}

impl GemmSpec {
    /// Elements each operand must hold: (A, B, C).
    pub fn extents(&self) -> (usize, usize, usize) {
        let (a_rows, a_cols) = if self.trans_a {
            (self.k, self.m)
        } else {
            (self.m, self.k)
        };
        let (b_rows, b_cols) = if self.trans_b {
            (self.n, self.k)
        } else {
            (self.k, self.n)
        };
        (
            extent(a_rows, a_cols, self.lda, self.a_off),
            extent(b_rows, b_cols, self.ldb, self.b_off),
            extent(self.m, self.n, self.ldc, self.c_off),
        )
    }
}

/// Column sums out[out_off + j] = Σ_i src[in_off + i·ld + j] (j < cols, i < rows): the bias
/// gradient of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnSumSpec {
    /// Rows summed.
    pub rows: usize,
    /// Columns (outputs).
    pub cols: usize,
    /// Leading dimension of the input.
    pub ld: usize,
    /// Offset of the input.
    pub in_off: usize,
    /// Offset of the output.
    pub out_off: usize,
}

impl ColumnSumSpec {
    /// Sums of a contiguous rows × cols matrix into out[out_off ..].
    pub fn dense(rows: usize, cols: usize, out_off: usize) -> Self {
        Self {
            rows,
            cols,
            ld: cols,
            in_off: 0,
            out_off,
        }
    }
}
