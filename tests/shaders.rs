//! Every WGSL family parses and validates with naga (no device needed), and every file under
//! `shaders/` is either a family or a library that families include.

use infobound::gpu::shaders::{Family, LIBRARIES};

#[test]
fn every_family_parses_and_validates() {
    for family in Family::ALL {
        let source = family.source();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}: {}", family.file_name(), e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", family.file_name(), e.emit_to_string(&source)));
        assert!(
            !module.entry_points.is_empty(),
            "{} has no entry point",
            family.file_name()
        );
    }
}

#[test]
fn every_shader_file_is_used() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut known: Vec<&str> = Family::ALL.iter().map(|f| f.file_name()).collect();
    known.extend(LIBRARIES);
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".wgsl") {
            assert!(
                known.contains(&name.as_str()),
                "shaders/{name} is not embedded"
            );
        }
    }
}
