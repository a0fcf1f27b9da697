//! Resume tokens (`session_token`): a client that logged in gets a random token and can
//! later log in with it instead of the password. Only the token's SHA-256 is stored.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entity::{base_info, session_token};

/// Resume tokens kept per account; older ones are pruned when a new one is issued.
pub const TOKENS_PER_ACCOUNT: u64 = 10;

/// Stores a newly issued token (by its hash) for account `uid`, valid until `expires`.
pub async fn insert_token(
    db: &impl ConnectionTrait,
    uid: i64,
    token_hash: &[u8],
    now: i64,
    expires: i64,
) -> Result<(), DbErr> {
    let row = session_token::ActiveModel {
        uid: Set(uid),
        token_hash: Set(token_hash.to_vec()),
        created_time: Set(now),
        last_used_time: Set(now),
        expires_time: Set(expires),
        ..Default::default()
    };
    session_token::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Finds the token with this hash if it has not expired at `now`, so a token login can
/// tell which account it is for.
pub async fn find_valid(
    db: &impl ConnectionTrait,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<session_token::Model>, DbErr> {
    session_token::Entity::find()
        .filter(session_token::Column::TokenHash.eq(token_hash.to_vec()))
        .filter(session_token::Column::ExpiresTime.gt(now))
        .one(db)
        .await
}

/// Finds the token with this hash if it has not expired at `now`, with its
/// account, in one query: a resume reads both, and under a restart ten
/// thousand resumes arrive at once, each a round trip to the database.
pub async fn find_valid_with_account(
    db: &impl ConnectionTrait,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<(session_token::Model, base_info::Model)>, DbErr> {
    let found = session_token::Entity::find()
        .filter(session_token::Column::TokenHash.eq(token_hash.to_vec()))
        .filter(session_token::Column::ExpiresTime.gt(now))
        .find_also_related(base_info::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(token, account)| account.map(|a| (token, a))))
}

/// Marks a token as used at `now`; `false` if it no longer exists.
pub async fn touch(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<bool, DbErr> {
    let res = session_token::Entity::update_many()
        .col_expr(session_token::Column::LastUsedTime, Expr::value(now))
        .filter(session_token::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Deletes every token of account `uid` (logout everywhere, password change, ban);
/// returns how many were deleted.
pub async fn revoke_all(db: &impl ConnectionTrait, uid: i64) -> Result<u64, DbErr> {
    let res = session_token::Entity::delete_many()
        .filter(session_token::Column::Uid.eq(uid))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Keeps the token table small: deletes all but the newest `keep` tokens of account `uid`,
/// and every token (of any account) that has expired at `now`. Returns how many were deleted.
///
/// Written as a lookup plus a range delete because MySQL cannot `LIMIT` a subquery of the
/// table being deleted from. A token issued concurrently has a higher id and is never hit.
pub async fn prune(db: &impl ConnectionTrait, uid: i64, keep: u64, now: i64) -> Result<u64, DbErr> {
    let mut deleted = session_token::Entity::delete_many()
        .filter(session_token::Column::ExpiresTime.lte(now))
        .exec(db)
        .await?
        .rows_affected;
    // The newest token of this user that falls outside the `keep` newest.
    let first_dropped: Option<i64> = session_token::Entity::find()
        .select_only()
        .column(session_token::Column::Id)
        .filter(session_token::Column::Uid.eq(uid))
        .order_by_desc(session_token::Column::Id)
        .offset(keep)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    if let Some(first_dropped) = first_dropped {
        deleted += session_token::Entity::delete_many()
            .filter(session_token::Column::Uid.eq(uid))
            .filter(session_token::Column::Id.lte(first_dropped))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}
