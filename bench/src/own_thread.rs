//! A tokio runtime on a thread of its own, for the parts of a benchmark that
//! pace or time things: on the main runtime they would wait behind the load
//! generator's own work (a thousand receivers' reads, a storm of logins), and
//! that wait would show as the server's latency.

use std::future::Future;

use anyhow::Context;
use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

/// The runtime; shut down without waiting when dropped (also inside async code,
/// where dropping a runtime plainly would panic).
pub struct OwnThread {
    handle: Handle,
    rt: Option<Runtime>,
}

impl OwnThread {
    /// Start a one-worker runtime whose thread is called `name`.
    pub fn start(name: &str) -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(name)
            .enable_all()
            .build()
            .with_context(|| format!("starting the {name} thread"))?;
        Ok(Self {
            handle: rt.handle().clone(),
            rt: Some(rt),
        })
    }

    /// Run `future` on this thread. Sockets it opens are driven by this
    /// runtime too.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }
}

impl Drop for OwnThread {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
