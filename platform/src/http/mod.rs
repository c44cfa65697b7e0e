//! HTTP plumbing shared by every service: the authenticated principal,
//! request bodies, problem errors, request ids,
//! metrics by route template, health endpoints, graceful shutdown.

pub mod body;
pub mod error;
pub mod health;
pub mod middleware;
pub mod principal;
pub mod shutdown;
pub mod static_files;

pub use body::{DeferredJson, JsonBody};
pub use error::{ApiError, Problem};
pub use principal::{Authenticator, Principal};
