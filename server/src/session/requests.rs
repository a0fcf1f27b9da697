//! One request's way through a session: the rate limit, decoding, the
//! state it needs (greeted, logged in), and the handler it goes to.

use chatroom_shared::ErrorCode;
use chatroom_shared::message::{
    ClientMessage, ErrorReply, LeaveReason, Pong, ServerMessage, decode_request,
};
use tracing::{debug, warn};

use super::{Flow, LoggedIn, Phase, Reject, Session, is_bounded};
use crate::flood::Verdict;
use crate::games::Request as GameRequest;
use crate::time::now_ms;

impl Session {
    pub(super) async fn handle_frame(&mut self, body: &[u8]) -> Flow {
        // Every frame counts against the rate limit, readable or not.
        let verdict = self.limiter.check();
        let decoded = decode_request(body);
        let readable_seq = match &decoded {
            Ok(req) => Some(req.seq),
            Err(reply) => reply.seq,
        };
        if let Some(flow) = self.rate_limited(verdict, readable_seq) {
            return flow;
        }
        let req = match decoded {
            Ok(req) => req,
            Err(reply) => {
                debug!(code = %reply.code, "bad request");
                self.queue(&ServerMessage::Error(reply));
                return Flow::Continue;
            }
        };
        let seq = req.seq;
        let result = if is_bounded(&req.body) {
            let limit = self.ctx.config.request_timeout();
            tokio::time::timeout(limit, self.dispatch(seq, req.body))
                .await
                .unwrap_or_else(|_| {
                    warn!(?limit, "a request did not finish in time");
                    Err(Reject::new(
                        ErrorCode::Internal,
                        "the server could not finish this request in time (its database \
                         does not answer); try again",
                    ))
                })
        } else {
            self.dispatch(seq, req.body).await
        };
        match result {
            Ok(flow) => flow,
            Err(mut reject) => {
                reject.reply.seq = Some(seq);
                debug!(code = %reject.reply.code, "request refused");
                self.queue(&ServerMessage::Error(reject.reply));
                if reject.close {
                    Flow::End(Some(LeaveReason::Disconnected))
                } else {
                    Flow::Continue
                }
            }
        }
    }

    /// Refuse a request over the rate limit (`None`: within it, go on).
    fn rate_limited(&mut self, verdict: Verdict, seq: Option<u32>) -> Option<Flow> {
        let (retry, closing) = match verdict {
            Verdict::Allow => return None,
            Verdict::Refuse(retry) => (retry, false),
            Verdict::Disconnect(retry) => (retry, true),
        };
        metrics::counter!(crate::metrics::RATE_LIMITED, "limit" => "requests").increment(1);
        let message = if closing {
            warn!("still too many requests after being told; closing");
            "too many requests, still, after being told to wait; closing".to_owned()
        } else {
            debug!(?retry, "request over the rate limit");
            format!(
                "too many requests; this one was dropped, send again in {} ms",
                retry.as_millis()
            )
        };
        let mut reply = ErrorReply::new(seq, ErrorCode::RateLimited, message);
        reply.retry_after_ms = Some(u64::try_from(retry.as_millis()).unwrap_or(u64::MAX).max(1));
        self.queue(&ServerMessage::Error(reply));
        Some(if closing {
            Flow::End(Some(LeaveReason::Disconnected))
        } else {
            Flow::Continue
        })
    }

    /// The one dispatch match: each request type to its handler.
    async fn dispatch(&mut self, seq: u32, body: ClientMessage) -> Result<Flow, Reject> {
        match body {
            ClientMessage::Ping(_) => {
                self.queue(&ServerMessage::Pong(Pong { seq, ts: now_ms() }));
                Ok(Flow::Continue)
            }
            ClientMessage::Quit(_) => {
                self.queue(&ServerMessage::Bye(chatroom_shared::message::Bye { seq }));
                Ok(Flow::End(Some(LeaveReason::Quit)))
            }
            ClientMessage::Hello(m) => self.hello(seq, m),
            ClientMessage::Register(m) => self.register(seq, m).await,
            ClientMessage::Login(m) => self.login(seq, m).await,
            ClientMessage::Resume(m) => self.resume(seq, m).await,
            ClientMessage::Say(m) => self.say(seq, m).await,
            ClientMessage::History(m) => self.history(seq, m).await,
            ClientMessage::Files(m) => self.files(seq, m).await,
            ClientMessage::UploadBegin(m) => self.upload_begin(seq, m).await,
            ClientMessage::DownloadBegin(m) => self.download_begin(seq, m).await,
            ClientMessage::Transfer(m) => self.transfer(seq, m).await,
            ClientMessage::GameInvite(_) => self.game(seq, GameRequest::Invite).await,
            ClientMessage::GameCancel(m) => self.game(seq, GameRequest::Cancel(m.game_id)).await,
            ClientMessage::GameAccept(m) => self.game(seq, GameRequest::Accept(m.game_id)).await,
            ClientMessage::GameMove(m) => {
                self.game(seq, GameRequest::Move(m.game_id, m.cell)).await
            }
            ClientMessage::GameResign(m) => self.game(seq, GameRequest::Resign(m.game_id)).await,
            ClientMessage::GameWatch(m) => self.game(seq, GameRequest::Watch(m.game_id)).await,
            ClientMessage::GameUnwatch(m) => self.game(seq, GameRequest::Unwatch(m.game_id)).await,
            ClientMessage::Games(m) => self.games(seq, m).await,
            ClientMessage::Stats(m) => self.stats(seq, m).await,
            ClientMessage::Send(m) => self.send(seq, m).await,
            ClientMessage::GroupCreate(m) => self.group_create(seq, m).await,
            ClientMessage::GroupJoin(m) => self.group_join(seq, m).await,
            ClientMessage::GroupLeave(m) => self.group_leave(seq, m).await,
            ClientMessage::GroupMembers(m) => self.group_members(seq, m).await,
            ClientMessage::GroupApprove(m) => self.group_approve(seq, m).await,
            ClientMessage::GroupReject(m) => self.group_reject(seq, m).await,
            ClientMessage::GroupRemove(m) => self.group_remove(seq, m).await,
            ClientMessage::Groups(m) => self.groups(seq, m).await,
            ClientMessage::Read(m) => self.read(seq, m).await,
            ClientMessage::Search(m) => self.search(seq, m).await,
            ClientMessage::Users(m) => self.users(seq, m).await,
            ClientMessage::Conversations(m) => self.conversations(seq, m).await,
            ClientMessage::WatchUsers(m) => self.watch_users(seq, m).await,
            ClientMessage::UnwatchUsers(_) => self.unwatch_users(seq).await,
        }
    }

    /// Fail unless hello is done and nobody is logged in yet.
    pub(super) fn require_greeted(&self) -> Result<(), Reject> {
        match self.phase {
            Phase::Connected => Err(Reject::new(ErrorCode::HelloRequired, "send hello first")),
            Phase::Greeted => Ok(()),
            Phase::LoggedIn(_) => Err(Reject::new(
                ErrorCode::AlreadyLoggedIn,
                "this connection is already logged in",
            )),
        }
    }

    /// The logged-in state, or the error for a request that needs one.
    pub(super) fn require_login(&self) -> Result<&LoggedIn, Reject> {
        match &self.phase {
            Phase::LoggedIn(l) => Ok(l),
            Phase::Connected => Err(Reject::new(ErrorCode::HelloRequired, "send hello first")),
            Phase::Greeted => Err(Reject::new(ErrorCode::LoginRequired, "log in first")),
        }
    }
}
