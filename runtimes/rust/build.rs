// build.rs — bakes the versions `spindle-tokio version` prints: tokio's, from the committed Cargo.lock, and
// the compiler's, from `$RUSTC --version`.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut tokio = String::from("unknown");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"tokio\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                tokio = v.trim_end_matches('"').to_string();
            }
        }
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc unknown".into());
    println!("cargo:rustc-env=SPINDLE_TOKIO_VERSION={tokio}");
    println!("cargo:rustc-env=SPINDLE_RUSTC_VERSION={rustc_version}");
}
