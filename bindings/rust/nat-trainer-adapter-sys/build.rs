//! With the `link` feature, links libnat_trainer_adapter_openpipe_art from
//! the directory named by NAT_TRAINER_ADAPTER_LIB_DIR (the meson build dir
//! `build/plugin` by default when it exists).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=NAT_TRAINER_ADAPTER_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    if env::var_os("CARGO_FEATURE_LINK").is_none() {
        return;
    }
    let dir = match env::var_os("NAT_TRAINER_ADAPTER_LIB_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
            manifest.join("../../../build/plugin")
        }
    };
    if !dir.join("libnat_trainer_adapter_openpipe_art.so").exists() {
        println!(
            "cargo:warning=libnat_trainer_adapter_openpipe_art.so not found in {}; set NAT_TRAINER_ADAPTER_LIB_DIR",
            dir.display()
        );
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=nat_trainer_adapter_openpipe_art");
    // Exposed to dependents' build scripts as DEP_NAT_TRAINER_ADAPTER_OPENPIPE_ART_LIB_DIR.
    println!("cargo:lib_dir={}", dir.display());
}
