//! The generated protobuf messages and gRPC stubs of `proto/xianjie/v1`.
#![allow(clippy::all, missing_docs)]

tonic::include_proto!("xianjie.v1");

/// The encoded descriptors of the API, for the reflection service.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/xianjie_descriptor.bin"));

pub mod codec;
