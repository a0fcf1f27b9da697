//! The network task's state, apart from what it does: the channels to the
//! app, the running transfers and the replies they wait for. The loops that
//! drive it (`task.rs`, `login.rs`, `reconnect.rs`, `commands.rs`) all build
//! on this module, and it on none of them.

use std::collections::HashMap;

use chatroom_shared::message::ServerMessage;
use tokio::sync::{mpsc, oneshot};
use tracing::info;

use super::connection::Conn;
use super::dial::Transport;
use super::transfer::Transfers;
use super::{NetCommand, NetEvent, UsersRequest};

/// The task is over: `Quit`, or the app is gone.
#[derive(Debug)]
pub(crate) struct Stop;

/// A greeted connection kept after a refused login, for the next try.
pub(crate) struct Idle {
    pub(crate) server: String,
    pub(crate) conn: Conn,
}

/// The task's state: the two channels to the app, the running transfers,
/// and the replies transfers wait for on the current connection.
pub(crate) struct Manager {
    pub(crate) commands: mpsc::Receiver<NetCommand>,
    /// Plain TCP or TLS, for every connection.
    pub(crate) transport: Transport,
    pub(crate) events: mpsc::Sender<NetEvent>,
    pub(crate) transfers: Transfers,
    /// Transfer requests sent on the current connection, by `seq`.
    pub(crate) awaiting: HashMap<u32, oneshot::Sender<ServerMessage>>,
    /// The `seq`s of this connection's requests whose errors are quiet: the
    /// first pages of `files`, `games`, `groups` and `conversations` asked at
    /// login (a server without file sharing, games or groups refuses them),
    /// `read`s (sent again later) and `unwatch_users` (a server that cannot
    /// watch has nothing to stop).
    pub(crate) quiet: Vec<u32>,
    /// The app's requests about the online list on this connection, by
    /// `seq`: their pages go back to the app with what they answer.
    pub(crate) users_asked: HashMap<u32, UsersRequest>,
}

impl Manager {
    /// A task taking `commands`, reporting on `events`, connecting over
    /// `transport`.
    pub(crate) fn new(
        commands: mpsc::Receiver<NetCommand>,
        events: mpsc::Sender<NetEvent>,
        transport: Transport,
    ) -> Self {
        Self {
            commands,
            events,
            transfers: Transfers::new(transport.clone()),
            transport,
            awaiting: HashMap::new(),
            quiet: Vec::new(),
            users_asked: HashMap::new(),
        }
    }

    /// Hand one event to the app; the task stops when nobody listens.
    pub(crate) async fn emit(&self, event: NetEvent) -> Result<(), Stop> {
        self.events.send(event).await.map_err(|_| {
            info!("the app stopped listening");
            Stop
        })
    }
}
