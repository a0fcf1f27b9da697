//! Every table the copy moves, and what it does to one, written once over the
//! SeaORM entities: count, summarize, clear, copy in batches, move a
//! PostgreSQL sequence. The list is the one place a new table is added.

use std::marker::PhantomData;

use futures_util::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, IdenStatic, IntoActiveModel,
    Iterable, ModelTrait, PaginatorTrait, PrimaryKeyToColumn, PrimaryKeyTrait, Statement,
    sea_query::ValueTuple,
};

use super::checksum::{Checksum, Summary};
use crate::db::entity::{
    base_info, chat_history, conversation_clock, direct_conversation, file_put_record, game_record,
    group_info, group_user_relation, id_clock, read_position, session_token,
};

/// One table, whatever its entity: what the copy does to it.
pub(super) trait Table: Sync {
    /// Its name in the schema.
    fn name(&self) -> &'static str;

    /// How many rows it has.
    fn count<'a>(&'a self, db: &'a DatabaseTransaction) -> BoxFuture<'a, Result<u64, DbErr>>;

    /// Its rows' [`Summary`], reading `batch` rows at a time.
    fn summary<'a>(
        &'a self,
        db: &'a DatabaseTransaction,
        batch: u64,
    ) -> BoxFuture<'a, Result<Summary, DbErr>>;

    /// Deletes every row (on a target, the few a migration put there).
    fn clear<'a>(&'a self, db: &'a DatabaseTransaction) -> BoxFuture<'a, Result<(), DbErr>>;

    /// Copies every row of `from` into `to`, ids kept, `batch` rows at a time,
    /// telling `copied` the running total after each batch; returns the
    /// [`Summary`] of the rows read.
    fn copy<'a>(
        &'a self,
        from: &'a DatabaseTransaction,
        to: &'a DatabaseTransaction,
        batch: u64,
        copied: &'a mut (dyn FnMut(u64) + Send),
    ) -> BoxFuture<'a, Result<Summary, DbErr>>;

    /// On PostgreSQL, moves the sequence of an auto-increment key past the
    /// highest id, so the next insert does not collide with a copied row.
    fn move_sequence<'a>(&'a self, db: &'a DatabaseTransaction)
    -> BoxFuture<'a, Result<(), DbErr>>;
}

/// The [`Table`] of entity `E`.
struct Of<E>(PhantomData<fn() -> E>);

/// Every table of the schema, each after the tables its foreign keys name, so
/// copying in this order (and clearing in the reverse) never breaks one.
pub(super) static TABLES: [&dyn Table; 11] = [
    &Of::<base_info::Entity>(PhantomData),
    &Of::<group_info::Entity>(PhantomData),
    &Of::<group_user_relation::Entity>(PhantomData),
    &Of::<chat_history::Entity>(PhantomData),
    &Of::<file_put_record::Entity>(PhantomData),
    &Of::<game_record::Entity>(PhantomData),
    &Of::<session_token::Entity>(PhantomData),
    &Of::<read_position::Entity>(PhantomData),
    &Of::<direct_conversation::Entity>(PhantomData),
    &Of::<conversation_clock::Entity>(PhantomData),
    &Of::<id_clock::Entity>(PhantomData),
];

/// At most this many bind parameters in one INSERT: SQLite allows 32,766,
/// PostgreSQL and MySQL 65,535.
const MAX_PARAMS: usize = 30_000;

/// Up to `n` rows of `E` after primary key `after`, in primary-key order.
async fn page<E>(
    db: &DatabaseTransaction,
    after: Option<ValueTuple>,
    n: u64,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let mut cursor = E::find().cursor_by(E::primary_key_identity());
    if let Some(after) = after {
        cursor.after(after);
    }
    cursor.first(n).all(db).await
}

/// Adds `rows` to `sum`; returns where the next page starts, `None` when
/// this page was the last.
fn hash_page<E: EntityTrait>(sum: &mut Checksum, rows: &[E::Model], n: u64) -> Option<ValueTuple> {
    for row in rows {
        sum.add_row(E::Column::iter().map(|c| row.get(c)));
    }
    match rows.last() {
        Some(last) if rows.len() as u64 >= n => Some(last.get_primary_key_value()),
        _ => None,
    }
}

impl<E> Table for Of<E>
where
    E: EntityTrait + Sync,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    E::ActiveModel: Send,
{
    fn name(&self) -> &'static str {
        E::default().table_name()
    }

    fn count<'a>(&'a self, db: &'a DatabaseTransaction) -> BoxFuture<'a, Result<u64, DbErr>> {
        Box::pin(E::find().count(db))
    }

    fn summary<'a>(
        &'a self,
        db: &'a DatabaseTransaction,
        batch: u64,
    ) -> BoxFuture<'a, Result<Summary, DbErr>> {
        Box::pin(async move {
            let mut sum = Checksum::default();
            let mut after = None;
            loop {
                let rows = page::<E>(db, after, batch).await?;
                after = hash_page::<E>(&mut sum, &rows, batch);
                if after.is_none() {
                    return Ok(sum.finish());
                }
            }
        })
    }

    fn clear<'a>(&'a self, db: &'a DatabaseTransaction) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move { E::delete_many().exec(db).await.map(|_| ()) })
    }

    fn copy<'a>(
        &'a self,
        from: &'a DatabaseTransaction,
        to: &'a DatabaseTransaction,
        batch: u64,
        copied: &'a mut (dyn FnMut(u64) + Send),
    ) -> BoxFuture<'a, Result<Summary, DbErr>> {
        Box::pin(async move {
            let per_insert = (MAX_PARAMS / E::Column::iter().count().max(1)).max(1);
            let mut sum = Checksum::default();
            let mut after = None;
            let mut total = 0;
            loop {
                let mut rows = page::<E>(from, after, batch).await?;
                after = hash_page::<E>(&mut sum, &rows, batch);
                total += rows.len() as u64;
                while !rows.is_empty() {
                    let rest = rows.split_off(rows.len().min(per_insert));
                    // Every field is kept, the primary key too.
                    let models = rows.into_iter().map(IntoActiveModel::into_active_model);
                    E::insert_many(models).exec_without_returning(to).await?;
                    rows = rest;
                }
                copied(total);
                if after.is_none() {
                    return Ok(sum.finish());
                }
            }
        })
    }

    fn move_sequence<'a>(
        &'a self,
        db: &'a DatabaseTransaction,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        let mut key = E::PrimaryKey::iter();
        let column = match (key.next(), key.next()) {
            (Some(id), None) if <E::PrimaryKey as PrimaryKeyTrait>::auto_increment() => {
                Some(id.into_column().as_str())
            }
            // No sequence behind a key the server assigns, or a composite one.
            _ => None,
        };
        Box::pin(async move {
            match column {
                Some(column) => move_postgres_sequence(db, self.name(), column).await,
                None => Ok(()),
            }
        })
    }
}

/// The one backend-specific statement of the copy. PostgreSQL hands out
/// auto-increment ids from a sequence (a `serial` column's), which inserts
/// with explicit ids do not move: without this, the first account registered
/// after the copy would get id 1 and collide with a copied one. It sets the
/// sequence so its next value is one past the highest id (1 for an empty
/// table). SQLite and MySQL/MariaDB move their counters past explicit ids by
/// themselves, so nothing is run there.
async fn move_postgres_sequence(
    db: &DatabaseTransaction,
    table: &str,
    column: &str,
) -> Result<(), DbErr> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    // Table and column are names from the entities, never user input.
    let sql = format!(
        r#"SELECT setval(pg_get_serial_sequence('"{table}"', '{column}'), COALESCE(MAX("{column}"), 0) + 1, false) FROM "{table}""#
    );
    db.execute_raw(Statement::from_string(sea_orm::DbBackend::Postgres, sql))
        .await
        .map(|_| ())
}
