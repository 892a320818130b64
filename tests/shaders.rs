//! Every WGSL family parses and validates with naga (no device needed), every file under
//! `shaders/` is either a family or a library that families include, and every library keeps
//! to what a library may hold. (The constants the shaders share with the host are checked in
//! `src/gpu/shaders.rs`, where the crate's private codes are visible.)

use infobound::gpu::shaders::{Family, LIBRARIES};
use infobound::gpu::{FusedGeometry, GemmGeometry, PairGeometry, ReduceGeometry};

/// The name prefixes of each library: everything it defines carries one, and no family
/// defines a name that does.
const PREFIXES: [(&str, &[&str]); 2] = [
    ("numerics.wgsl", &["num_", "NUM_"]),
    ("rng.wgsl", &["rng_", "RNG_", "Rng"]),
];

fn shader_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("shaders")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_and_validate(what: &str, source: &str) -> naga::Module {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(source)));
    module
}

/// The names a module defines at module scope: functions, constants, overrides, global
/// variables and named types.
fn defined_names(module: &naga::Module) -> Vec<String> {
    let functions = module.functions.iter().map(|(_, f)| &f.name);
    let constants = module.constants.iter().map(|(_, c)| &c.name);
    let overrides = module.overrides.iter().map(|(_, o)| &o.name);
    let globals = module.global_variables.iter().map(|(_, g)| &g.name);
    let types = module.types.iter().map(|(_, t)| &t.name);
    functions
        .chain(constants)
        .chain(overrides)
        .chain(globals)
        .chain(types)
        .flatten()
        .cloned()
        .chain(module.entry_points.iter().map(|e| e.name.clone()))
        .collect()
}

fn prefixes(library: &str) -> &'static [&'static str] {
    PREFIXES
        .iter()
        .find(|(name, _)| *name == library)
        .unwrap_or_else(|| panic!("{library} has no prefixes in this test"))
        .1
}

#[test]
fn every_family_parses_and_validates() {
    for family in Family::ALL {
        let module = parse_and_validate(family.file_name(), &family.source());
        assert!(
            !module.entry_points.is_empty(),
            "{} has no entry point",
            family.file_name()
        );
    }
}

/// The reduction family's subgroup tree, which the default source leaves out, at every
/// workgroup size.
#[test]
fn the_subgroup_reductions_parse_and_validate() {
    for workgroup in [32, 64, 128, 256] {
        let g = ReduceGeometry::new(0, workgroup, true);
        let source = Family::Reduce.source_with(&g.constants());
        assert!(source.contains("subgroupAdd"));
        parse_and_validate(
            &format!("reduce.wgsl + reduce_subgroup.wgsl, {}", g.name()),
            &source,
        );
    }
}

/// Every tuner candidate's module (the template families' constants) validates.
#[test]
fn every_geometry_candidate_parses_and_validates() {
    let check = |name: String, family: Family, template: Vec<(&str, u32)>| {
        let what = format!("{} at {name}", family.file_name());
        parse_and_validate(&what, &family.source_with(&template));
    };
    for g in GemmGeometry::candidates() {
        check(g.name(), Family::Gemm, g.constants());
    }
    for g in PairGeometry::candidates() {
        check(g.name(), Family::Pairs, g.constants());
    }
    for g in FusedGeometry::candidates() {
        check(g.name(), Family::MatrixBounds, g.constants());
    }
    for g in ReduceGeometry::candidates(ReduceGeometry::default()) {
        check(g.name(), Family::Reduce, g.constants());
    }
}

#[test]
fn every_library_is_a_library_that_some_family_uses() {
    for library in LIBRARIES {
        let source = shader_file(library);
        let module = parse_and_validate(library, &source);
        assert!(
            module.entry_points.is_empty(),
            "{library} has an entry point"
        );
        assert!(
            module.global_variables.is_empty() && module.overrides.is_empty(),
            "{library} declares a binding, a module-scope variable or an override"
        );
        let prefixes = prefixes(library);
        for name in defined_names(&module) {
            assert!(
                prefixes.iter().any(|p| name.starts_with(p)),
                "{library} defines {name}, outside its prefixes {prefixes:?}"
            );
        }
        let users: Vec<Family> = Family::ALL
            .into_iter()
            .filter(|f| f.libraries().contains(&library))
            .collect();
        assert!(!users.is_empty(), "{library} is prepended to no family");
        for family in users {
            assert!(
                family.source().contains(&source),
                "{} lists {library} but its source does not hold it",
                family.file_name()
            );
        }
    }
}

#[test]
fn families_use_the_libraries_they_include_and_keep_out_of_their_names() {
    let libraries: Vec<(&str, Vec<String>)> = LIBRARIES
        .iter()
        .map(|l| (*l, defined_names(&parse_and_validate(l, &shader_file(l)))))
        .collect();
    for family in Family::ALL {
        let own = shader_file(family.file_name());
        let mine = defined_names(&parse_and_validate(family.file_name(), &family.source()));
        for (library, names) in &libraries {
            let prefixes = prefixes(library);
            for name in &mine {
                assert!(
                    !prefixes.iter().any(|p| name.starts_with(p)) || names.contains(name),
                    "{} defines {name}, in {library}'s prefixes",
                    family.file_name()
                );
            }
            if family.libraries().contains(library) {
                assert!(
                    names.iter().any(|n| own.contains(n.as_str())),
                    "{} includes {library} but uses none of it",
                    family.file_name()
                );
            }
        }
    }
}
