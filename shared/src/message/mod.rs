//! Every message of the protocol, split by direction like rust-postgres'
//! frontend/backend modules.
//!
//! - [`client`]: requests a client sends. Each carries a client-chosen `seq`.
//! - [`server`]: replies (carrying the request's `seq`) and events (no `seq`).
//! - [`decode`]: how the server turns one frame into a [`Request`] or into the
//!   precise `error` reply for it.
//!
//! Both enums are internally tagged by `"type"` in snake_case. Fields added in
//! later protocol revisions are `#[serde(default)]` so older peers keep parsing.

pub mod client;
pub mod decode;
pub mod file;
pub mod game;
pub mod group;
pub mod limits;
pub mod presence;
pub mod server;

pub use client::*;
pub use decode::decode_request;
pub use file::*;
pub use game::*;
pub use group::*;
pub use limits::*;
pub use presence::*;
pub use server::*;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod golden_pages;
#[cfg(test)]
mod protocol_doc;
