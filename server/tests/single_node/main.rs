//! The server's tests against one in-process server (`testkit::server::TestServer`
//! on port 0, driven over real TCP), on SQLite and, where a test touches the
//! database, on PostgreSQL and MySQL/MariaDB too (`testkit::db::db_test!`).
//!
//! One test binary instead of one per file: each file used to link the server, three
//! database drivers and NATS again. A file is a module here; run one with
//! `cargo test -p chatroom-server --test single_node room::`, or one test by name.

mod accounts;
mod authorization;
mod bad_input;
mod batch_spacing;
mod connection_rate;
mod conversations;
mod db_down;
mod db_layer;
mod db_unavailable;
mod durability;
mod files;
mod flood;
mod flow_control;
mod frame_limit;
mod games;
mod groups;
mod hostile_connections;
mod hostile_drip;
mod hostile_files;
mod hostile_input;
mod hostile_split;
mod presence;
mod read_positions;
mod room;
mod search_index;
mod search_words;
mod sessions;
mod upload_limits;
