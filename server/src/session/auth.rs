//! Hello, registration, login and resume.

use std::sync::Arc;

use chatroom_shared::message::{
    Hello, HelloOk, Login, LoginOk, Register, RegisterOk, Resume, ServerMessage, UserInfo,
};
use chatroom_shared::rules::{name_key, validate_name, validate_password};
use chatroom_shared::{ErrorCode, MAX_PROTOCOL_VERSION, MIN_PROTOCOL_VERSION};
use tracing::info;

use super::{Flow, LeaveGuard, LoggedIn, Phase, Reject, Session};
use crate::db::entity::base_info;
use crate::db::{accounts, history, tokens};
use crate::history::to_chat_message;
use crate::hub::SessionEntry;
use crate::outbox::outbox;
use crate::store::{StoreError, StoreItem};
use crate::time::now_ms;
use crate::untrusted::untrusted;

impl Session {
    pub(super) fn hello(&mut self, seq: u32, m: Hello) -> Result<Flow, Reject> {
        // Every refusal of hello still says who we are and what we speak.
        self.greet(seq, m).map_err(|mut r| {
            r.reply.min_version = Some(MIN_PROTOCOL_VERSION);
            r.reply.max_version = Some(MAX_PROTOCOL_VERSION);
            r.reply.server = Some(crate::SERVER_NAME.into());
            r
        })
    }

    fn greet(&mut self, seq: u32, m: Hello) -> Result<Flow, Reject> {
        if !matches!(self.phase, Phase::Connected) {
            return Err(Reject::new(
                ErrorCode::AlreadyHello,
                "hello was already sent",
            ));
        }
        if let Some(wait) = self.ctx.throttle.retry_after(self.addr.ip()) {
            let mut r = Reject::new(
                ErrorCode::AddressRefused,
                "too many failed logins from this address; try again later",
            )
            .closing();
            r.reply.retry_after_ms = Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
            return Err(r);
        }
        if !(MIN_PROTOCOL_VERSION..=MAX_PROTOCOL_VERSION).contains(&m.version) {
            let r = Reject::new(
                ErrorCode::VersionUnsupported,
                format!(
                    "protocol version {} is not supported; this server speaks {MIN_PROTOCOL_VERSION} to {MAX_PROTOCOL_VERSION}",
                    m.version
                ),
            )
            .closing();
            return Err(r);
        }
        let client: String = m.client.chars().take(64).collect();
        info!(client = %untrusted(&client), version = m.version, "hello");
        self.phase = Phase::Greeted;
        self.queue(&ServerMessage::HelloOk(HelloOk {
            seq,
            server: crate::SERVER_NAME.into(),
            version: m.version,
            min_version: MIN_PROTOCOL_VERSION,
            max_version: MAX_PROTOCOL_VERSION,
            limits: self.ctx.limits.clone(),
        }));
        Ok(Flow::Continue)
    }

    pub(super) async fn register(&mut self, seq: u32, m: Register) -> Result<Flow, Reject> {
        self.require_greeted()?;
        let name = validate_name(&m.name)
            .map_err(|e| Reject::new(ErrorCode::InvalidName, e.to_string()))?;
        validate_password(&m.password)
            .map_err(|e| Reject::new(ErrorCode::InvalidPassword, e.to_string()))?;
        let key = name_key(&name);
        let db = &self.ctx.db;
        if accounts::find_by_key(db, &key).await?.is_some() {
            return Err(name_taken(&name));
        }
        let hash = self
            .ctx
            .hasher
            .hash(&m.password)
            .await
            .map_err(|e| Reject::internal("hashing the password", &e))?;
        let ip = self.addr.ip().to_string();
        let account = accounts::insert_account(
            db,
            accounts::NewAccount {
                name: &name,
                name_key: &key,
                password_hash: &hash,
                address: &ip,
                now: now_ms(),
            },
        )
        .await
        .map_err(|e| match e {
            accounts::InsertAccountError::NameTaken => name_taken(&name),
            accounts::InsertAccountError::Db(e) => Reject::from(e),
        })?;
        info!(user = %untrusted(&account.name), "registered");
        self.queue(&ServerMessage::RegisterOk(RegisterOk {
            seq,
            user: UserInfo {
                id: account.id,
                name: account.name,
            },
        }));
        Ok(Flow::Continue)
    }

    /// Refuse early when this address failed too often.
    fn check_address(&self) -> Result<(), Reject> {
        match self.ctx.throttle.retry_after(self.addr.ip()) {
            None => Ok(()),
            Some(wait) => {
                let mut r = Reject::new(
                    ErrorCode::TooManyAttempts,
                    "too many failed logins from this address; try again later",
                );
                r.reply.retry_after_ms = Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
                Err(r)
            }
        }
    }

    pub(super) async fn login(&mut self, seq: u32, m: Login) -> Result<Flow, Reject> {
        self.require_greeted()?;
        self.check_address()?;
        let ctx = Arc::clone(&self.ctx);
        // Names hold no white space, so surrounding white space is a typo.
        let key = name_key(m.name.trim());
        let account = accounts::find_by_key(&ctx.db, &key).await?;
        // An unknown name costs the same bcrypt work and gets the same answer as
        // a wrong password: neither the reply nor its time tells which names exist.
        let checked = match &account {
            Some(account) => ctx.hasher.verify(&m.password, &account.password).await,
            None => ctx.hasher.verify_unknown(&m.password).await,
        };
        let ok = checked.map_err(|e| Reject::internal("checking the password", &e))?;
        let account = match account {
            Some(account) if ok => account,
            _ => {
                metrics::counter!(crate::metrics::LOGINS, "method" => "password", "result" => "failed")
                    .increment(1);
                ctx.throttle.record_failure(self.addr.ip());
                self.failed_logins += 1;
                let left = ctx
                    .config
                    .max_login_attempts
                    .saturating_sub(self.failed_logins);
                info!(name = %untrusted(m.name.trim()), attempts_left = left, "wrong name or password");
                let message = if left == 0 {
                    "wrong user name or password; no attempts left, closing the connection"
                        .to_owned()
                } else {
                    format!("wrong user name or password; {left} attempt(s) left")
                };
                let mut r = Reject::new(ErrorCode::WrongPassword, message);
                r.reply.attempts_left = Some(left);
                return Err(if left == 0 { r.closing() } else { r });
            }
        };
        check_enabled(&account)?;
        let token = crate::token::generate();
        let now = now_ms();
        let expires =
            now.saturating_add(i64::try_from(ctx.config.token_ttl.as_millis()).unwrap_or(i64::MAX));
        // Stored by the store's writer, in its group commit, before it is handed out.
        let (done, stored) = tokio::sync::oneshot::channel();
        let item = StoreItem::TokenIssued {
            uid: account.id,
            hash: crate::token::hash(&token).to_vec(),
            ts: now,
            expires,
            done,
        };
        let shutting_down = || Reject::new(ErrorCode::ShuttingDown, "the server is shutting down");
        ctx.store.submit(item).await.map_err(|_| shutting_down())?;
        match stored.await {
            Ok(Ok(())) => {}
            Ok(Err(StoreError::Unavailable { retry_after })) => {
                return Err(Reject::storage_unavailable(retry_after));
            }
            Ok(Err(StoreError::Stopped)) | Err(_) => return Err(shutting_down()),
        }
        let flow = self.enter_room(seq, account, token, expires).await?;
        metrics::counter!(crate::metrics::LOGINS, "method" => "password", "result" => "ok")
            .increment(1);
        Ok(flow)
    }

    pub(super) async fn resume(&mut self, seq: u32, m: Resume) -> Result<Flow, Reject> {
        self.require_greeted()?;
        self.check_address()?;
        let ctx = Arc::clone(&self.ctx);
        let now = now_ms();
        let found =
            tokens::find_valid_with_account(&ctx.db, &crate::token::hash(&m.token), now).await?;
        let Some((token_row, account)) = found else {
            metrics::counter!(crate::metrics::LOGINS, "method" => "token", "result" => "failed")
                .increment(1);
            ctx.throttle.record_failure(self.addr.ip());
            return Err(Reject::new(
                ErrorCode::InvalidToken,
                "the resume token is unknown, expired or revoked; log in with the password",
            ));
        };
        check_enabled(&account)?;
        // Best effort: a lost "last used" update loses nothing that matters.
        let _ = ctx
            .store
            .submit(StoreItem::TokenUsed {
                token_id: token_row.id,
                ts: now,
            })
            .await;
        let flow = self
            .enter_room(seq, account, m.token, token_row.expires_time)
            .await?;
        metrics::counter!(crate::metrics::LOGINS, "method" => "token", "result" => "ok")
            .increment(1);
        Ok(flow)
    }

    /// Join the main room and send `login_ok` with who is online and the
    /// recent messages.
    async fn enter_room(
        &mut self,
        seq: u32,
        account: base_info::Model,
        token: String,
        token_expires: i64,
    ) -> Result<Flow, Reject> {
        let ctx = Arc::clone(&self.ctx);
        let (tx, rx) = outbox(ctx.config.outbound_queue, ctx.config.outbound_bytes);
        let ack_sender = tx.downgrade();
        let name: Arc<str> = Arc::from(account.name.as_str());
        let since = now_ms();
        // Before the join: a "left" of the session this one replaces then comes later
        // and is seen to be stale, so a game in play never pauses for a re-login.
        ctx.games.online(account.id, self.id).await;
        let joined = ctx
            .hub
            .join(SessionEntry {
                session_id: self.id,
                uid: account.id,
                name: account.name.clone(),
                addr: self.addr,
                since,
                outbox: tx,
                watching: None,
            })
            .await
            .map_err(|_| Reject::new(ErrorCode::ShuttingDown, "the server is shutting down"))?;
        // From here on, however this ends, the others are told we left (so if
        // the database fails just below, they see a join and a leave).
        let leave = LeaveGuard {
            hub: ctx.hub.clone(),
            games: ctx.games.clone(),
            uid: account.id,
            session_id: self.id,
            reason: Some(crate::LeaveReason::Disconnected),
        };
        // The hub copied the room's newest messages in the step that joined
        // us: the ones delivered later are in our outbox. Before the server
        // has primed that copy: joined first, queried second, and that leaves
        // no gap either: a message committed after the query is delivered
        // after the join, so it is in our outbox; one in both is skipped
        // there (`skip_upto`).
        let recent: Vec<_> = match joined.recent {
            Some(lines) => lines.iter().filter_map(|l| l.message()).collect(),
            None => {
                let (rows, _) = history::room_page(
                    &ctx.db,
                    history::Cursor::Latest,
                    u64::from(ctx.config.history_count),
                )
                .await?;
                rows.into_iter().map(to_chat_message).collect()
            }
        };
        let skip_upto = recent.last().map_or(0, |m| m.id);
        let _ = ctx
            .store
            .submit(StoreItem::LoginStat {
                uid: account.id,
                address: self.addr.ip().to_string(),
                ts: since,
            })
            .await;
        self.span
            .record("user", tracing::field::display(untrusted(&account.name)));
        info!(replaced = joined.replaced, "logged in");
        self.queue(&ServerMessage::LoginOk(LoginOk {
            seq,
            user: UserInfo {
                id: account.id,
                name: account.name,
            },
            token,
            token_expires,
            online: joined.online,
            online_count: joined.online_count,
            online_next: joined.online_next,
            recent,
        }));
        if let Some(kept) = self.ctx.limiters.take(account.id) {
            // Logged in again soon after leaving: no fresh burst.
            self.limiter = kept;
        }
        self.phase = Phase::LoggedIn(LoggedIn {
            uid: account.id,
            name,
            outbox: rx,
            ack_sender,
            skip_upto,
            _leave: leave,
        });
        // After login_ok: join requests waiting for this user, and what they missed.
        self.deliver_missed(account.id).await?;
        Ok(Flow::Continue)
    }
}

fn name_taken(name: &str) -> Reject {
    Reject::new(
        ErrorCode::NameTaken,
        format!("the name {name} (or one that looks the same) is taken"),
    )
}

fn check_enabled(account: &base_info::Model) -> Result<(), Reject> {
    if account.flag == accounts::FLAG_DISABLED {
        return Err(Reject::new(
            ErrorCode::AccountDisabled,
            "this account is disabled by the administrator",
        ));
    }
    Ok(())
}
