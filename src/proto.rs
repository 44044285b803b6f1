//! The code generated from `proto/` and the encoded descriptor set that server reflection
//! serves. Generated modules mirror the protobuf packages because generated code refers to
//! other packages by relative paths.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod custgrade {
    pub mod v1 {
        tonic::include_proto!("custgrade.v1");
    }
}

pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
    }
    pub mod longrunning {
        tonic::include_proto!("google.longrunning");
    }
    pub mod r#type {
        tonic::include_proto!("google.r#type");
    }
}

/// The file descriptor set of the whole contract, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("custgrade_descriptor");
