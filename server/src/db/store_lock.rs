//! The cluster's store lock (`store_lock`): a cluster node's writer takes it at the
//! start of each batch's transaction, so batches commit one at a time across the
//! nodes and each numbers its messages after the last committed one.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entity::store_lock;

/// Take the lock until the end of the transaction `txn` (an `UPDATE` of its row,
/// which every backend holds until commit or rollback).
pub async fn take(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    use store_lock::Column as C;
    let done = store_lock::Entity::update_many()
        .col_expr(C::Turns, Expr::col(C::Turns).add(1))
        .filter(C::Id.eq(1))
        .exec(txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(DbErr::RecordNotFound(
            "the store_lock row is missing (run the migrations)".into(),
        ));
    }
    Ok(())
}
