//! Shared files (`file_put_record`): recording a stored upload and reading the list back.
//!
//! A name is recorded at most once: the UNIQUE index on `file_name` decides, never a
//! check-then-insert, so two uploads of one name finishing together cannot both be listed.
//! Only records whose content is stored (`storage_key` set) are listed or downloadable.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};

use super::entity::{base_info, file_put_record};

/// `level` of a file shared by a user.
pub const LEVEL_USER: i16 = 0;

/// What an upload records once its content is stored; borrowed so callers need not clone.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    /// The file's name (already checked against the file-name rules).
    pub name: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: &'a str,
    /// The uploader's account id.
    pub uid: i64,
    /// The uploader's comment.
    pub comment: Option<&'a str>,
    /// Upload time, unix milliseconds.
    pub now: i64,
    /// Where the content is stored.
    pub storage_key: &'a str,
}

/// A stored file with its uploader's name, as listed and downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Record id.
    pub id: i64,
    /// The file's name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// The uploader's account name.
    pub uploader: String,
    /// The uploader's comment.
    pub comment: Option<String>,
    /// Upload time, unix milliseconds.
    pub send_time: i64,
    /// Where the content is stored.
    pub storage_key: String,
}

/// Why [`insert_file`] failed, so an upload can tell "name taken" from a broken database.
#[derive(Debug, thiserror::Error)]
pub enum InsertFileError {
    /// Another record already has this file name.
    #[error("a file of this name is already recorded")]
    NameTaken,
    /// Any other database failure.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Records a stored upload; returns the new record id. The UNIQUE index on `file_name`
/// rejects a name recorded before (on every backend, even under concurrent inserts).
pub async fn insert_file(
    db: &impl ConnectionTrait,
    f: NewFile<'_>,
) -> Result<i64, InsertFileError> {
    let row = file_put_record::ActiveModel {
        file_name: Set(f.name.to_owned()),
        send_time: Set(f.now),
        level: Set(LEVEL_USER),
        uid: Set(f.uid),
        file_comment: Set(f.comment.map(str::to_owned)),
        size: Set(Some(i64::try_from(f.size).unwrap_or(i64::MAX))),
        sha256: Set(Some(f.sha256.to_owned())),
        storage_key: Set(Some(f.storage_key.to_owned())),
        ..Default::default()
    };
    let res = file_put_record::Entity::insert(row)
        .exec(db)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => InsertFileError::NameTaken,
            _ => InsertFileError::Db(e),
        })?;
    Ok(res.last_insert_id)
}

type Row = (
    i64,
    String,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    i64,
    Option<String>,
);

fn stored() -> sea_orm::Select<file_put_record::Entity> {
    file_put_record::Entity::find()
        .select_only()
        .column(file_put_record::Column::Id)
        .column(file_put_record::Column::FileName)
        .column(file_put_record::Column::Size)
        .column(file_put_record::Column::Sha256)
        .column(base_info::Column::Name)
        .column(file_put_record::Column::FileComment)
        .column(file_put_record::Column::SendTime)
        .column(file_put_record::Column::StorageKey)
        .inner_join(base_info::Entity)
        .filter(file_put_record::Column::StorageKey.is_not_null())
        .filter(file_put_record::Column::Size.is_not_null())
        .filter(file_put_record::Column::Sha256.is_not_null())
}

fn to_stored(row: Row) -> Option<StoredFile> {
    let (id, name, size, sha256, uploader, comment, send_time, storage_key) = row;
    Some(StoredFile {
        id,
        name,
        size: u64::try_from(size?).ok()?,
        sha256: sha256?,
        uploader,
        comment,
        send_time,
        storage_key: storage_key?,
    })
}

/// Up to `n` stored files with ids above `after` (all without it), oldest (lowest
/// id) first: a page of the `files` request, read by the primary key, so its cost
/// does not grow with the number of files.
pub async fn page(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    n: usize,
) -> Result<Vec<StoredFile>, DbErr> {
    let mut query = stored();
    if let Some(after) = after {
        query = query.filter(file_put_record::Column::Id.gt(after));
    }
    let rows: Vec<Row> = query
        .order_by_asc(file_put_record::Column::Id)
        .limit(u64::try_from(n).unwrap_or(u64::MAX))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(to_stored).collect())
}

/// Every stored file, oldest (lowest id) first (for tests and tools: the
/// `files` request reads [`page`]s).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<StoredFile>, DbErr> {
    let rows: Vec<Row> = stored()
        .order_by_asc(file_put_record::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(to_stored).collect())
}

/// One stored file by record id, for `download_begin`.
pub async fn find_by_id(db: &impl ConnectionTrait, id: i64) -> Result<Option<StoredFile>, DbErr> {
    let row: Option<Row> = stored()
        .filter(file_put_record::Column::Id.eq(id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.and_then(to_stored))
}

/// Whether any record (stored or not) has this file name, so `upload_begin` can refuse a
/// taken name before any byte moves.
pub async fn name_exists(db: &impl ConnectionTrait, name: &str) -> Result<bool, DbErr> {
    let found: Option<i64> = file_put_record::Entity::find()
        .select_only()
        .column(file_put_record::Column::Id)
        .filter(file_put_record::Column::FileName.eq(name))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Bytes of the files `uid` has stored, for the per-user quota checked at
/// `upload_begin`. Summed here rather than with SQL `SUM`, whose result type differs
/// between the backends (a `NUMERIC` or `DECIMAL` on PostgreSQL and MySQL).
pub async fn stored_bytes_of(db: &impl ConnectionTrait, uid: i64) -> Result<u64, DbErr> {
    let sizes: Vec<Option<i64>> = file_put_record::Entity::find()
        .select_only()
        .column(file_put_record::Column::Size)
        .filter(file_put_record::Column::Uid.eq(uid))
        .filter(file_put_record::Column::StorageKey.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(sizes
        .into_iter()
        .flatten()
        .map(|s| u64::try_from(s).unwrap_or(0))
        .fold(0u64, u64::saturating_add))
}
