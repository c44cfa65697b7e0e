//! Identity primitives: secret hashing and access tokens
//! (docs/auth.md).

pub mod authenticate;
pub mod kek;
pub mod liveness_cache;
pub mod passwords;
pub mod revocations;
pub mod tokens;
mod verified;

pub use passwords::{generate_secret, hash_secret, verify_secret, HashGate, PasswordError};
pub use revocations::{Ended, Revocations};
pub use tokens::{Claims, TokenError, TokenKeys, TokenSettings};
