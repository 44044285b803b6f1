//! Compiles the public contract in `proto/` with protox, a pure-Rust protobuf compiler, so a
//! build needs no system `protoc`. The encoded descriptor set is written beside the generated
//! code for gRPC server reflection.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTO_ROOT: &str = "proto";
/// Our services, plus the error details they send, so that reflection clients such as grpcurl
/// can decode a `google.rpc.BadRequest`.
const CONTRACT: &[&str] = &[
    "proto/custgrade/v1/assessment.proto",
    "proto/custgrade/v1/customer.proto",
    "proto/custgrade/v1/figures.proto",
    "proto/custgrade/v1/model.proto",
    "proto/custgrade/v1/outcome.proto",
    "proto/custgrade/v1/portfolio.proto",
    "proto/google/longrunning/operations.proto",
    "proto/google/rpc/error_details.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // tonic-prost-build does not emit this for compile_fds; without it cargo would not rebuild on
    // a proto change.
    println!("cargo:rerun-if-changed={PROTO_ROOT}");

    let descriptors = protox::compile(CONTRACT, [PROTO_ROOT])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("custgrade_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        // google.rpc.Status (an operation's error) is the one tonic-types already generates.
        .extern_path(".google.rpc", "::tonic_types::pb")
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
