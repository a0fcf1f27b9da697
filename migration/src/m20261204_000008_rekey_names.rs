//! Recompute the look-alike keys (`name_key`) of accounts and groups with the
//! current name rules. The rules of 2026-12-04 fold some characters further (a
//! key is folded until it no longer changes, and final sigma `ς` folds to `σ`), so
//! an older key would no longer be found by its owner's login. A name whose new
//! key another row already holds keeps its old key (two older names that now look
//! the same cannot both have it), so nothing is lost or merged.

use std::collections::HashSet;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, FromQueryResult};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BaseInfo {
    Table,
    Id,
    Name,
    NameKey,
}

#[derive(DeriveIden)]
enum GroupInfo {
    Table,
    Id,
    Name,
    NameKey,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    id: i64,
    name: String,
    name_key: Vec<u8>,
}

/// Rekey every row of `table`; returns how many changed.
async fn rekey(
    db: &SchemaManagerConnection<'_>,
    table: DynIden,
    id: DynIden,
    name: DynIden,
    key: DynIden,
) -> Result<usize, DbErr> {
    let select = Query::select()
        .columns([id.clone(), name.clone(), key.clone()])
        .from(table.clone())
        .order_by(id.clone(), Order::Asc)
        .to_owned();
    let backend = db.get_database_backend();
    let rows = Row::find_by_statement(backend.build(&select))
        .all(db)
        .await?;
    let mut taken: HashSet<Vec<u8>> = rows.iter().map(|r| r.name_key.clone()).collect();
    let mut changed = 0;
    for row in rows {
        let new_key = chatroom_shared::rules::name_key(&row.name).into_bytes();
        if new_key == row.name_key || taken.contains(&new_key) {
            continue;
        }
        let update = Query::update()
            .table(table.clone())
            .value(key.clone(), new_key.clone())
            .and_where(Expr::col(id.clone()).eq(row.id))
            .to_owned();
        db.execute(&update).await?;
        taken.remove(&row.name_key);
        taken.insert(new_key);
        changed += 1;
    }
    Ok(changed)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        rekey(
            db,
            BaseInfo::Table.into_iden(),
            BaseInfo::Id.into_iden(),
            BaseInfo::Name.into_iden(),
            BaseInfo::NameKey.into_iden(),
        )
        .await?;
        rekey(
            db,
            GroupInfo::Table.into_iden(),
            GroupInfo::Id.into_iden(),
            GroupInfo::Name.into_iden(),
            GroupInfo::NameKey.into_iden(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The older keys cannot be recomputed (the older rules are gone), and the
        // newer ones serve the older code as well as any: nothing to undo.
        Ok(())
    }
}
