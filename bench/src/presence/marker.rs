//! The marker: one more user, logged in before the storm, that says one
//! message once everyone is online. The moment it reaches the last member is
//! when all are online and chatting. Until then it drains what the server
//! sends it and pings within the keepalive, however long the storm takes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use chatroom_shared::message::{ClientMessage, Ping, Say};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::client::{self, Control};

/// Longest between two pings of the marker user (the server's keepalive is a
/// minute by default; clients ping at a third of it).
const PING_EVERY: Duration = Duration::from_secs(15);

/// The marker user, logged in and waiting.
pub struct Marker {
    text: String,
    say: Option<oneshot::Sender<oneshot::Sender<anyhow::Result<Instant>>>>,
    task: JoinHandle<()>,
}

impl Marker {
    /// Register and log in `name`; its message will be `text`.
    pub async fn start(addr: SocketAddr, name: &str, text: String) -> anyhow::Result<Self> {
        let Control {
            mut reader,
            mut writer,
            ..
        } = Control::user(addr, name)
            .await
            .context("the marker user's login")?;
        let (say_tx, mut say_rx) = oneshot::channel::<oneshot::Sender<anyhow::Result<Instant>>>();
        let said = text.clone();
        let task = tokio::spawn(async move {
            let mut seq = 0u32;
            let mut ping = tokio::time::interval(PING_EVERY);
            loop {
                tokio::select! {
                    asked = &mut say_rx => {
                        let Ok(reply) = asked else { return };
                        seq += 1;
                        let body = ClientMessage::Say(Say { id: format!("m{seq}"), text: said.clone() });
                        let sent = Instant::now();
                        let result = client::write(&mut writer, seq, body).await.map(|()| sent);
                        let _ = reply.send(result);
                        break;
                    }
                    m = client::read(&mut reader) => if m.is_err() { return },
                    _ = ping.tick() => {
                        seq += 1;
                        if client::write(&mut writer, seq, ClientMessage::Ping(Ping {})).await.is_err() {
                            return;
                        }
                    }
                }
            }
            // Keep reading (and the connection open) until aborted.
            while client::read(&mut reader).await.is_ok() {}
        });
        Ok(Self {
            text,
            say: Some(say_tx),
            task,
        })
    }

    /// The message's text, as the members look for it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Say the marker message now; returns when it was written.
    pub async fn say(&mut self) -> anyhow::Result<Instant> {
        let ask = self.say.take().context("the marker was already said")?;
        let (tx, rx) = oneshot::channel();
        ask.send(tx)
            .map_err(|_| anyhow::anyhow!("the marker user's connection ended"))?;
        rx.await.context("the marker user's connection ended")?
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        self.task.abort();
    }
}
