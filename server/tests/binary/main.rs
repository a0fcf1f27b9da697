//! The server's tests that start the real `chatroom-server` binary as a child process
//! (`testkit::binary::ServerProcess`): its console and log, TLS as it starts by
//! default, crashes and injected faults, and the black-box hostile suite.
//!
//! Cargo builds the binary before this test binary runs. Run one file with
//! `cargo test -p chatroom-server --test binary crash_durability::`.

mod admin;
#[cfg(target_os = "linux")]
mod control_socket;
mod copy_data;
mod crash_durability;
mod faults;
mod hostile;
mod log_injection;
mod metrics;
mod search_after_kill;
mod tls;
