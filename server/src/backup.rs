//! A consistent copy of the embedded SQLite database, taken while the server
//! runs (issue 19 §3): SQLite's `VACUUM INTO` writes the database as one
//! read transaction saw it, so writers go on meanwhile and the copy is whole.
//! The shared files live beside the database, in the files directory; the
//! backup lists the ones its records name, so they can be copied with it.
//!
//! PostgreSQL and MariaDB have their own tools for this (`pg_dump`,
//! `mariadb-dump`; see the README).

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::db::files;

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is not the embedded SQLite one.
    #[error(
        "backup copies the embedded SQLite database; this server uses {0:?}: use pg_dump \
         or mariadb-dump (see the README)"
    )]
    NotSqlite(DbBackend),
    /// Something is already at the target path.
    #[error("{} exists already: give a new path", .0.display())]
    Exists(PathBuf),
    /// The database could not write the copy.
    #[error("the database could not write the copy: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The list of shared files could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The database copy.
    pub database: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The list of shared files to copy with it: one absolute path a line.
    pub file_list: PathBuf,
    /// How many shared files it lists.
    pub files: usize,
    /// Their bytes together.
    pub file_bytes: u64,
}

/// The path of the file list written beside a backup at `database`.
pub fn file_list_for(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".files");
    PathBuf::from(name)
}

/// Copy the SQLite database behind `db` to `to` (which must not exist), and
/// list the shared files its records name, as they lie in `files_root`.
pub async fn sqlite(
    db: &DatabaseConnection,
    files_root: &Path,
    to: &Path,
) -> Result<Backup, BackupError> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Sqlite {
        return Err(BackupError::NotSqlite(backend));
    }
    let to = std::path::absolute(to).unwrap_or_else(|_| to.to_owned());
    let list = file_list_for(&to);
    for path in [&to, &list] {
        if path.exists() {
            return Err(BackupError::Exists(path.clone()));
        }
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [to.to_string_lossy().into_owned().into()],
    ))
    .await?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::Io { path, source }
    };
    let bytes = std::fs::metadata(&to).map_err(io(&to))?.len();
    // Read after the copy: every file it records is recorded here too.
    let stored = files::list(db).await?;
    let root = std::path::absolute(files_root).unwrap_or_else(|_| files_root.to_owned());
    let mut text = String::new();
    for f in &stored {
        text.push_str(&root.join(&f.storage_key).to_string_lossy());
        text.push('\n');
    }
    std::fs::write(&list, text).map_err(io(&list))?;
    Ok(Backup {
        database: to,
        bytes,
        file_list: list,
        files: stored.len(),
        file_bytes: stored.iter().map(|f| f.size).sum(),
    })
}
