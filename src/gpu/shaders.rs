//! The WGSL sources, one kernel family a file, embedded at compile time.

use super::geometry::{FusedGeometry, GemmGeometry, PairGeometry, ReduceGeometry};
use super::tune::FusedPass;

/// Numerical helpers, the device state layout and the 2-D grid index, shared by every family
/// that uses them.
const NUMERICS: &str = include_str!("../../shaders/numerics.wgsl");
/// The counter-based generator, shared by every family that draws random numbers.
const RNG: &str = include_str!("../../shaders/rng.wgsl");

/// A kernel family: one `.wgsl` file with its entry points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Family {
    /// Tiled and direct matrix products with fused epilogues (`gemm.wgsl`).
    Gemm,
    /// Column sums and two-stage sum / max / log-sum-exp (`reduce.wgsl`).
    Reduce,
    /// Adam over one flat parameter buffer, and the device step counter (`adam.wgsl`).
    Adam,
    /// Minibatches, permutations and Gaussian samples drawn on the device (`sample.wgsl`).
    Sample,
    /// Bound values and their gradients with respect to the scores (`bounds.wgsl`).
    Bounds,
    /// The split first layer of the all-pairs concat critic (`pairs.wgsl`).
    Pairs,
    /// Bounds over the full K×K score matrix, with score and baseline gradients
    /// (`matrix_bounds.wgsl`).
    MatrixBounds,
    /// Gradient norms and their clipping (`clip.wgsl`).
    Clip,
    /// Memory-bandwidth and arithmetic-throughput probes for benchmarks (`probe.wgsl`).
    Probe,
    /// The element-wise glue of the fused contrastive losses (`contrastive.wgsl`).
    Contrastive,
    /// Barber–Agakov with a diagonal-Gaussian decoder (`decoder.wgsl`).
    Decoder,
    /// The multisample bound's proposals and term (`multisample.wgsl`).
    Multisample,
}

impl Family {
    /// Every family, for validation tests.
    pub const ALL: [Family; 12] = [
        Family::Gemm,
        Family::Reduce,
        Family::Adam,
        Family::Sample,
        Family::Bounds,
        Family::Pairs,
        Family::MatrixBounds,
        Family::Clip,
        Family::Probe,
        Family::Contrastive,
        Family::Decoder,
        Family::Multisample,
    ];

    /// The file name under `shaders/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Family::Gemm => "gemm.wgsl",
            Family::Reduce => "reduce.wgsl",
            Family::Adam => "adam.wgsl",
            Family::Sample => "sample.wgsl",
            Family::Bounds => "bounds.wgsl",
            Family::Pairs => "pairs.wgsl",
            Family::MatrixBounds => "matrix_bounds.wgsl",
            Family::Clip => "clip.wgsl",
            Family::Probe => "probe.wgsl",
            Family::Contrastive => "contrastive.wgsl",
            Family::Decoder => "decoder.wgsl",
            Family::Multisample => "multisample.wgsl",
        }
    }

    /// The libraries (file names under `shaders/`, see [`LIBRARIES`]) prepended to this
    /// family's file, in order.
    pub fn libraries(self) -> &'static [&'static str] {
        match self {
            Family::Gemm => &[],
            Family::Sample | Family::Multisample => &["numerics.wgsl", "rng.wgsl"],
            Family::Reduce
            | Family::Adam
            | Family::Bounds
            | Family::Pairs
            | Family::MatrixBounds
            | Family::Probe
            | Family::Contrastive
            | Family::Decoder
            | Family::Clip => &["numerics.wgsl"],
        }
    }

    /// The complete module source with the family's default template constants
    /// ([`Family::source_with`]).
    pub fn source(self) -> String {
        self.source_with(&self.default_template())
    }

    /// The template constants a family's file expects the host to define (the rule geometry
    /// of a software adapter; [`crate::gpu::geometry`]). Empty for families without a template.
    pub fn default_template(self) -> Vec<(&'static str, u32)> {
        match self {
            Family::MatrixBounds => FusedGeometry::rule(true, FusedPass::Forward).constants(),
            Family::Gemm => GemmGeometry::rule(true).constants(),
            Family::Pairs => PairGeometry::rule(true).constants(),
            Family::Reduce => ReduceGeometry::default().constants(),
            _ => Vec::new(),
        }
    }

    /// The complete module source: `template` as `const NAME: u32 = VALUE;` lines, then the
    /// family's [`Family::libraries`], then its file (WGSL has neither `#include` nor
    /// array sizes set by overrides).
    pub fn source_with(self, template: &[(&str, u32)]) -> String {
        let own = match self {
            Family::Gemm => include_str!("../../shaders/gemm.wgsl"),
            Family::Reduce => include_str!("../../shaders/reduce.wgsl"),
            Family::Adam => include_str!("../../shaders/adam.wgsl"),
            Family::Sample => include_str!("../../shaders/sample.wgsl"),
            Family::Bounds => include_str!("../../shaders/bounds.wgsl"),
            Family::Pairs => include_str!("../../shaders/pairs.wgsl"),
            Family::MatrixBounds => include_str!("../../shaders/matrix_bounds.wgsl"),
            Family::Clip => include_str!("../../shaders/clip.wgsl"),
            Family::Probe => include_str!("../../shaders/probe.wgsl"),
            Family::Contrastive => include_str!("../../shaders/contrastive.wgsl"),
            Family::Decoder => include_str!("../../shaders/decoder.wgsl"),
            Family::Multisample => include_str!("../../shaders/multisample.wgsl"),
        };
        let mut source = String::new();
        // Naga (wgpu 30) takes the subgroup builtins without WGSL's `enable subgroups;`, which
        // it refuses as not yet supported; the device's SUBGROUP feature admits them.
        let subgroups = template.contains(&(SUBGROUPS, 1));
        for (name, value) in template {
            source.push_str(&format!("const {name}: u32 = {value}u;\n"));
        }
        for library in self.libraries() {
            source.push_str(library_source(library));
            source.push('\n');
        }
        source.push_str(own);
        if self == Family::Reduce {
            source.push('\n');
            source.push_str(if subgroups {
                include_str!("../../shaders/reduce_subgroup.wgsl")
            } else {
                include_str!("../../shaders/reduce_tree.wgsl")
            });
        }
        source
    }
}

/// The template constant that picks the reduction family's tree: 1 for subgroup operations
/// (`reduce_subgroup.wgsl`; the device needs the SUBGROUP feature), 0 for the workgroup-memory tree
/// (`reduce_tree.wgsl`).
pub const SUBGROUPS: &str = "SUBGROUPS";

/// The template constant that sizes the two-stage reductions' workgroup
/// ([`ReduceGeometry::workgroup`]).
pub const REDUCE_WORKGROUP: &str = "RD_WG";

/// Files under `shaders/` that are libraries prepended to families rather than families.
/// Each defines no entry point and no binding, and names everything with its own prefix
/// (`num_` / `NUM_`, `rng_` / `RNG_` / `Rng`), so it cannot collide with a family's names.
pub const LIBRARIES: [&str; 2] = ["numerics.wgsl", "rng.wgsl"];

/// The text of one of [`LIBRARIES`].
fn library_source(name: &str) -> &'static str {
    match name {
        "numerics.wgsl" => NUMERICS,
        "rng.wgsl" => RNG,
        _ => unreachable!("{name} is not in LIBRARIES"),
    }
}

/// Asserts that the per-replica table `table` (entries of `entry_bytes`) of the uniform
/// struct `name` of `family` sits right after the host's header of `header` bytes, where
/// `uniform_with_table` writes it, and holds [`crate::gpu::kernels::MAX_REPLICAS`] entries.
#[cfg(test)]
pub(crate) fn check_replica_table(
    family: Family,
    name: &str,
    header: usize,
    table: &str,
    entry_bytes: usize,
) {
    let module = naga::front::wgsl::parse_str(&family.source()).expect("the source parses");
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).expect("the types lay out");
    let (_, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("{name} in {}", family.file_name()));
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("{name} is not a struct");
    };
    let last = members.last().expect("members");
    let size = layouter[last.ty].size as usize;
    let max = crate::gpu::kernels::MAX_REPLICAS;
    assert_eq!(
        last.name.as_deref(),
        Some(table),
        "{name}: the table is the last member"
    );
    assert_eq!(
        last.offset as usize, header,
        "{name}: the table follows the header"
    );
    assert_eq!(
        size,
        max * entry_bytes,
        "{name}: {max} entries of {entry_bytes} bytes"
    );
    assert_eq!(
        *span as usize,
        header + size,
        "{name}: nothing after the table"
    );
}

#[cfg(test)]
mod tests {
    use super::Family;
    use crate::gpu::kernels::state;
    use crate::math::bounds::Bound;

    /// The value of the module-scope `const name: u32` in a WGSL source, if it defines one.
    fn u32_constant(source: &str, name: &str) -> Option<u32> {
        let module = naga::front::wgsl::parse_str(source).expect("the source parses");
        let (_, c) = module
            .constants
            .iter()
            .find(|(_, c)| c.name.as_deref() == Some(name))?;
        match module.global_expressions[c.init] {
            naga::Expression::Literal(naga::Literal::U32(v)) => Some(v),
            ref e => panic!("{name} = {e:?}, not a u32 literal"),
        }
    }

    #[test]
    fn the_state_layout_matches_the_host() {
        let source = Family::Adam.source();
        let constant = |name| u32_constant(&source, name).expect(name) as usize;
        assert_eq!(constant("NUM_STATE_STEP"), state::STEP);
        assert_eq!(constant("NUM_STATE_FLAGS"), state::FLAGS);
        assert_eq!(constant("NUM_STATE_FIRST_BAD_STEP"), state::FIRST_BAD_STEP);
        assert_eq!(constant("NUM_STATE_MINE_LOG_EMA"), state::MINE_LOG_EMA);
        assert_eq!(constant("NUM_STATE_LEN"), state::LEN);
        let flag = |name| u32_constant(&source, name).expect(name);
        assert_eq!(flag("NUM_FLAG_NONFINITE_VALUE"), state::NONFINITE_VALUE);
        assert_eq!(flag("NUM_FLAG_NONFINITE_PARAM"), state::NONFINITE_PARAM);
        assert_eq!(flag("NUM_FLAG_NONFINITE_GRAD"), state::NONFINITE_GRAD);
        assert_eq!(flag("NUM_FLAG_FROZEN"), state::FROZEN);
        assert_eq!(flag("NUM_FLAG_HALTED"), state::HALTED);
    }

    /// Each bound family names the `BOUND` codes it handles; they must be `Bound::code`'s.
    #[test]
    fn the_bound_codes_match_the_host() {
        let bounds = [
            (Bound::Nwj, "NWJ"),
            (Bound::Dv, "DV"),
            (Bound::Js, "JS"),
            (Bound::Smile { tau: 1.0 }, "SMILE"),
            (Bound::InfoNce, "INFONCE"),
            (Bound::Tuba, "TUBA"),
            (Bound::Mine { gamma: 0.5 }, "MINE"),
            (Bound::AlphaInfoNce { alpha: 0.5 }, "ALPHA"),
            (Bound::LeaveOneOut, "LOO"),
            (Bound::LautumDv, "LAUTUM_DV"),
            (Bound::LautumNwj, "LAUTUM_NWJ"),
        ];
        for family in [Family::Bounds, Family::MatrixBounds] {
            let source = family.source();
            for (bound, name) in bounds {
                let handled = family == Family::MatrixBounds || bound.supports_shuffled();
                match u32_constant(&source, name) {
                    Some(code) => assert_eq!(
                        i64::from(code),
                        bound.code(),
                        "{name} in {}",
                        family.file_name()
                    ),
                    None => assert!(!handled, "{} has no {name}", family.file_name()),
                }
            }
        }
    }
}
