//! The Ticket aggregate and every business rule of Ticketera SOC.
//!
//! Pure: no I/O, no SQL, no HTTP. What the rules need from the outside world
//! (the clock, ticket numbers, the user directory) comes in through
//! [`TicketServices`].

pub mod changes;
pub mod command;
pub mod comments;
pub mod describe;
pub mod error;
pub mod event;
pub mod permissions;
pub mod services;
pub mod ticket;
pub mod upcast;
pub mod values;

pub use changes::FieldChange;
pub use command::{Actor, ActorKind, Command, TicketCommand};
pub use comments::Comments;
pub use error::{ErrorKind, TicketError};
pub use event::TicketEvent;
pub use permissions::{permits, Action};
pub use services::{LookupError, TicketServices};
pub use ticket::Ticket;
pub use values::*;
