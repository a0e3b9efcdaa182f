//! Records when this binary was built (or `SOURCE_DATE_EPOCH` for reproducible
//! builds), so `gatehouse doctor` can tell a system clock set before the build date.

use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let built = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
    println!("cargo:rustc-env=BUILT_AT_UNIX={built}");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=build.rs");
}
