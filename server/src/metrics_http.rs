//! The HTTP endpoint of `--metrics-listen`: `GET /metrics` in the Prometheus
//! text format, `GET /health` saying whether the database and (in a cluster)
//! NATS are reachable. HTTP/1.1 by hyper; every other path is 404.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tracing::{debug, warn};

use crate::hub::Hub;
use crate::metrics::{CLUSTER_NODE_UP, DATABASE_UP, NATS_UP, STORE_QUEUE, USERS_ONLINE};
use crate::store::Store;

/// How long `/health` waits for the database.
const DB_PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the gauges read at scrape time come from.
#[derive(Clone)]
pub struct Sources {
    /// The database, pinged.
    pub db: DatabaseConnection,
    /// Users online and the cluster's nodes.
    pub hub: Hub,
    /// The store's queue.
    pub store: Store,
    /// This node's id (in a cluster).
    pub node: String,
    /// In a cluster: whether NATS is connected now.
    pub nats: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Health {
    database: Result<(), String>,
    nats: Option<bool>,
}

impl Health {
    fn ok(&self) -> bool {
        self.database.is_ok() && self.nats != Some(false)
    }

    /// `{"status":"ok","database":"ok","nats":"ok"}`; `nats` is absent on a
    /// single server.
    fn json(&self) -> String {
        let mut v = serde_json::json!({
            "status": if self.ok() { "ok" } else { "unavailable" },
            "database": match &self.database {
                Ok(()) => "ok".to_owned(),
                Err(e) => format!("unreachable: {e}"),
            },
        });
        if let Some(up) = self.nats {
            v["nats"] = serde_json::Value::from(if up { "ok" } else { "unreachable" });
        }
        v.to_string()
    }
}

struct State {
    handle: PrometheusHandle,
    sources: Sources,
    /// Nodes seen at an earlier scrape: a node gone since reads 0.
    nodes_seen: Mutex<BTreeSet<String>>,
}

impl State {
    async fn health(&self) -> Health {
        let database = match tokio::time::timeout(DB_PING_TIMEOUT, self.sources.db.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {DB_PING_TIMEOUT:?}")),
        };
        Health {
            database,
            nats: self.sources.nats.as_ref().map(|up| up()),
        }
    }

    /// Set the gauges that are a state, then render everything.
    async fn render(&self) -> String {
        let health = self.health().await;
        metrics::gauge!(DATABASE_UP).set(f64::from(u8::from(health.database.is_ok())));
        if let Some(up) = health.nats {
            metrics::gauge!(NATS_UP).set(f64::from(u8::from(up)));
        }
        metrics::gauge!(USERS_ONLINE).set(self.sources.hub.online_count() as f64);
        metrics::gauge!(STORE_QUEUE).set(self.sources.store.queued() as f64);
        if self.sources.nats.is_some() {
            let mut live: BTreeSet<String> = match self.sources.hub.nodes().await {
                Ok(nodes) => nodes.into_iter().map(|(n, _)| n).collect(),
                Err(_) => BTreeSet::new(),
            };
            live.insert(self.sources.node.clone());
            let mut seen = self.nodes_seen.lock().unwrap_or_else(|p| p.into_inner());
            for node in seen.iter().filter(|n| !live.contains(*n)) {
                metrics::gauge!(CLUSTER_NODE_UP, "node" => node.clone()).set(0.0);
            }
            for node in &live {
                metrics::gauge!(CLUSTER_NODE_UP, "node" => node.clone()).set(1.0);
            }
            seen.extend(live);
        }
        self.handle.render()
    }
}

/// Serve `/metrics` and `/health` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, sources: Sources) {
    let state = Arc::new(State {
        handle,
        sources,
        nodes_seen: Mutex::new(BTreeSet::new()),
    });
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "the metrics endpoint's accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(answer(&state, req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                debug!(%peer, error = %e, "a metrics connection ended with an error");
            }
        });
    }
}

async fn answer(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, kind: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        if let Ok(v) = hyper::header::HeaderValue::from_str(kind) {
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        r
    };
    if req.method() != Method::GET {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
    }
    match req.uri().path() {
        "/metrics" => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            state.render().await,
        ),
        "/health" => {
            let health = state.health().await;
            let status = if health.ok() {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            reply(status, "application/json", health.json() + "\n")
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: /metrics or /health\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_says_what_is_down() {
        let json = |h: &Health| serde_json::from_str::<serde_json::Value>(&h.json()).unwrap();
        let ok = Health {
            database: Ok(()),
            nats: None,
        };
        assert!(ok.ok());
        assert_eq!(
            json(&ok),
            serde_json::json!({"status": "ok", "database": "ok"})
        );
        let down = Health {
            database: Err("connection refused".into()),
            nats: Some(true),
        };
        assert!(!down.ok());
        assert_eq!(
            json(&down),
            serde_json::json!({
                "status": "unavailable",
                "database": "unreachable: connection refused",
                "nats": "ok"
            })
        );
        let nats_down = Health {
            database: Ok(()),
            nats: Some(false),
        };
        assert!(!nats_down.ok());
        assert_eq!(json(&nats_down)["nats"], "unreachable");
    }
}
