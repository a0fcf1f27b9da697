//! Accounts (`base_info`): registration, lookup, bans and login bookkeeping.
//!
//! Name uniqueness is enforced by the UNIQUE constraint on `name_key`, never by a
//! check-then-insert, so two concurrent registrations of one name cannot both succeed.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, SqlErr,
};

use super::entity::base_info;

/// `flag` of an account in good standing.
pub const FLAG_NORMAL: i16 = 0;
/// `flag` of a disabled (banned) account, which may not log in.
pub const FLAG_DISABLED: i16 = 1;

/// What registration stores for a new account; borrowed so callers need not clone.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    /// Display name (NFC).
    pub name: &'a str,
    /// Uniqueness key of the name; stored as its UTF-8 bytes.
    pub name_key: &'a str,
    /// bcrypt hash of the password.
    pub password_hash: &'a str,
    /// IP address registering.
    pub address: &'a str,
    /// Registration time, unix milliseconds.
    pub now: i64,
}

/// Why [`insert_account`] failed, so registration can tell "name taken" from a broken database.
#[derive(Debug, thiserror::Error)]
pub enum InsertAccountError {
    /// Another account already has this name key.
    #[error("name already taken")]
    NameTaken,
    /// Any other database failure.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Registers an account, relying on the database's UNIQUE constraint on `name_key` to
/// reject a taken name (on every backend, even under concurrent registrations).
pub async fn insert_account(
    db: &impl ConnectionTrait,
    a: NewAccount<'_>,
) -> Result<base_info::Model, InsertAccountError> {
    let row = base_info::ActiveModel {
        name: Set(a.name.to_owned()),
        name_key: Set(a.name_key.as_bytes().to_vec()),
        password: Set(a.password_hash.to_owned()),
        address: Set(a.address.to_owned()),
        register_time: Set(a.now),
        nickname: Set(None),
        last_address: Set(None),
        last_login_time: Set(None),
        login_count: Set(0),
        flag: Set(FLAG_NORMAL),
        ..Default::default()
    };
    base_info::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => InsertAccountError::NameTaken,
            _ => InsertAccountError::Db(e),
        })
}

/// Looks an account up by its name key, for login and "is this name free" checks.
pub async fn find_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<base_info::Model>, DbErr> {
    base_info::Entity::find()
        .filter(base_info::Column::NameKey.eq(key.as_bytes().to_vec()))
        .one(db)
        .await
}

/// Looks an account up by id, for admin commands and token logins.
pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<base_info::Model>, DbErr> {
    base_info::Entity::find_by_id(id).one(db).await
}

/// Sets an account's `flag` (ban / unban); `false` if there is no such account.
pub async fn set_flag(db: &impl ConnectionTrait, id: i64, flag: i16) -> Result<bool, DbErr> {
    let res = base_info::Entity::update_many()
        .col_expr(base_info::Column::Flag, Expr::value(flag))
        .filter(base_info::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Records a successful login: address, time, and `login_count + 1` computed by the
/// database in the same UPDATE, so concurrent logins never lose a count. `false` if there
/// is no such account.
pub async fn record_login(
    db: &impl ConnectionTrait,
    id: i64,
    address: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let res = base_info::Entity::update_many()
        .col_expr(base_info::Column::LastAddress, Expr::value(address))
        .col_expr(base_info::Column::LastLoginTime, Expr::value(now))
        .col_expr(
            base_info::Column::LoginCount,
            Expr::col(base_info::Column::LoginCount).add(1i64),
        )
        .filter(base_info::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Names of these accounts, by id (for naming the recipients of direct messages).
pub async fn names_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, DbErr> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    use sea_orm::QuerySelect;
    let rows: Vec<(i64, String)> = base_info::Entity::find()
        .select_only()
        .column(base_info::Column::Id)
        .column(base_info::Column::Name)
        .filter(base_info::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
