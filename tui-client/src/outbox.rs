//! Commands the screen loop has for the network task, handed over without
//! ever waiting.
//!
//! The network task hands events to the screen loop over a bounded channel
//! and may wait for room in it; the screen loop hands commands to the network
//! task over another bounded channel. If the screen loop also waited for room
//! (when one batch of events produced more commands than the command queue
//! holds, say after a reconnect with a long backlog), each would wait for the
//! other for ever. So the screen loop only offers commands: what does not fit
//! waits here, in order, and goes out as soon as the command queue has room,
//! a wait the loop selects on beside its events (see ARCHITECTURE.md, "No two
//! tasks await each other's bounded channels").

use std::collections::VecDeque;

use crate::net::{NetCommand, NetHandle};

/// The screen loop's side of the command channel: the handle and the
/// commands that did not fit yet.
#[derive(Debug)]
pub struct Outbox {
    net: NetHandle,
    waiting: VecDeque<NetCommand>,
}

impl Outbox {
    /// An empty outbox for the network task behind `net`.
    pub fn new(net: NetHandle) -> Self {
        Self {
            net,
            waiting: VecDeque::new(),
        }
    }

    /// Hand `cmd` over now if it fits, after any that wait before it; else
    /// keep it. Never waits.
    pub fn push(&mut self, cmd: NetCommand) {
        self.waiting.push_back(cmd);
        self.flush();
    }

    /// Hand over as many waiting commands as fit, in order. Never waits.
    pub fn flush(&mut self) {
        while let Some(cmd) = self.waiting.pop_front() {
            if let Some(cmd) = self.net.offer(cmd) {
                self.waiting.push_front(cmd);
                break;
            }
        }
    }

    /// How many commands wait for room.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Wait until the command queue has room, then hand over what fits.
    /// Pending for ever while nothing waits, so a `select!` branch on it
    /// only fires when there is something to send. Cancel-safe.
    pub async fn drain(&mut self) {
        if self.waiting.is_empty() {
            std::future::pending::<()>().await;
        }
        let Some(permit) = self.net.room().await else {
            // The task has stopped: nothing will carry these out.
            self.waiting.clear();
            return;
        };
        match self.waiting.pop_front() {
            Some(cmd) => permit.send(cmd),
            None => drop(permit),
        }
        self.flush();
    }
}
