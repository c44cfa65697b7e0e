//! HTTP plumbing shared by every service: problem errors, request ids,
//! metrics by route template, health endpoints, graceful shutdown.

pub mod error;
pub mod health;
pub mod middleware;
pub mod shutdown;
pub mod static_files;

pub use error::{ApiError, Problem};
