//! The server's tests of several nodes as one cluster: in-process nodes (and, where a
//! node must die, the real binary) sharing one PostgreSQL or MySQL/MariaDB database
//! and one NATS server (`testkit::cluster::cluster_test!`), plus the paged lists,
//! which are checked on one node and across nodes, and the one order of every
//! conversation under concurrent writers on two nodes (`ordering`).
//!
//! They run when `TEST_NATS_URL` and a database URL are set; an unset one skips
//! them, or fails them under `CI` (`testkit::services`). Run one file with
//! `cargo test -p chatroom-server --test cluster cluster_games::`.

mod cluster;
mod cluster_files;
mod cluster_games;
mod cluster_groups;
mod cluster_nodes;
mod cluster_presence;
mod cluster_search;
mod ordering;
mod paging;
