//! Generates the gRPC code from `proto/` with protox, so the build needs nothing but cargo.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/xianjie/v1/vocabulary.proto",
        "proto/xianjie/v1/referral.proto",
        "proto/xianjie/v1/inbox.proto",
        "proto/xianjie/v1/directory.proto",
        "proto/xianjie/v1/deadline.proto",
        "proto/xianjie/v1/coordination.proto",
        "proto/xianjie/v1/calendar.proto",
        "proto/xianjie/v1/material.proto",
        "proto/xianjie/v1/records.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    // The migrations are embedded (`sqlx::migrate!`): a new one builds the crate again.
    println!("cargo:rerun-if-changed=migrations");
    let descriptors = protox::compile(files, ["proto"])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(out.join("xianjie_descriptor.bin"), prost::Message::encode_to_vec(&descriptors))?;
    // Bad input (an invalid UTF-8 string) is INVALID_ARGUMENT naming the field.
    tonic_prost_build::configure().codec_path("crate::proto::codec::Codec").compile_fds(descriptors)?;
    Ok(())
}
