//! Caller identity and per-method authorization for the gRPC server.
//!
//! Callers authenticate with a static API key sent as `authorization: Bearer <secret>`.
//! The server only knows the SHA-256 digest of each secret (configured through
//! `CUSTGRADE_API_KEYS`, see [`ApiKeys::parse`]), so the configuration never holds a
//! usable credential. [`AuthLayer`] checks every request before it reaches tonic's
//! router: it resolves the key to a [`CallerIdentity`], checks the [`Role`] the method
//! needs (see [`required_role`]) and stores the identity in the request extensions,
//! where handlers read it with `request.extensions().get::<CallerIdentity>()`.
//!
//! Roles do not imply each other: a key that must both read and write is configured
//! with `reader,writer`. When no keys are configured the server runs open and every
//! request carries the [`CallerIdentity::anonymous`] identity, which holds all roles.
//!
//! The code is split by concern, one private submodule each: `identity` (the roles and who
//! the caller is), `keys` (the API key configuration, secret hashing and key lookup), `access`
//! (which role each method needs) and `layer` (the tower layer that applies all of it to every
//! request). Everything public is re-exported here, so callers keep naming
//! `crate::grpc::auth::…`.

mod access;
mod identity;
mod keys;
mod layer;

pub use access::{Access, required_role};
pub use identity::{CallerIdentity, Role, UnknownRole};
pub use keys::{ApiKey, ApiKeys, ApiKeysError, hash_secret};
pub use layer::{AuthLayer, AuthService};
