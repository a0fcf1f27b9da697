//! Helpers shared by the server's integration tests; each test crate uses a subset.

#![allow(dead_code, unused_imports, unused_macros)]

pub mod binary;
pub mod client;
pub mod cluster;
pub mod db;
pub mod db_proxy;
pub mod disk;
pub mod hostile;
pub mod pages;
pub mod server;
pub mod transfer;
