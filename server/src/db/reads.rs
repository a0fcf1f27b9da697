//! Read positions (`read_position`): per user and conversation, the newest message id
//! the user's client has acknowledged. Offline delivery sends what lies after it, so a
//! message counts as delivered only once acknowledged; positions only move forward.

use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    SqlErr,
};

use super::entity::read_position;
use super::history::TargetKind;

/// Move `uid`'s position in conversation (`kind`, `target`) forward to `upto` (never
/// back); returns the position now.
pub async fn advance(
    db: &impl ConnectionTrait,
    uid: i64,
    kind: TargetKind,
    target: i64,
    upto: i64,
) -> Result<i64, DbErr> {
    use read_position::Column as R;
    let key = || {
        sea_orm::Condition::all()
            .add(R::Uid.eq(uid))
            .add(R::TargetKind.eq(kind.code()))
            .add(R::TargetId.eq(target))
    };
    for _ in 0..2 {
        let updated = read_position::Entity::update_many()
            .col_expr(R::Upto, sea_orm::sea_query::Expr::value(upto))
            .filter(key())
            .filter(R::Upto.lt(upto))
            .exec(db)
            .await?;
        if updated.rows_affected > 0 {
            return Ok(upto);
        }
        let current: Option<i64> = read_position::Entity::find()
            .select_only()
            .column(R::Upto)
            .filter(key())
            .into_tuple()
            .one(db)
            .await?;
        if let Some(current) = current {
            return Ok(current.max(upto));
        }
        let row = read_position::ActiveModel {
            uid: Set(uid),
            target_kind: Set(kind.code()),
            target_id: Set(target),
            upto: Set(upto),
            ..Default::default()
        };
        match read_position::Entity::insert(row).exec(db).await {
            Ok(_) => return Ok(upto),
            // Inserted meanwhile by another connection: update it on the next round.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(upto)
}

/// `uid`'s positions in conversations of `kind`, by target.
pub async fn positions(
    db: &impl ConnectionTrait,
    uid: i64,
    kind: TargetKind,
) -> Result<HashMap<i64, i64>, DbErr> {
    use read_position::Column as R;
    let rows: Vec<(i64, i64)> = read_position::Entity::find()
        .select_only()
        .column(R::TargetId)
        .column(R::Upto)
        .filter(R::Uid.eq(uid))
        .filter(R::TargetKind.eq(kind.code()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
