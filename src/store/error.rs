//! [`StoreError`]: why the store could not do what was asked. The HTTP layer turns it into
//! a problem answer in one place (`impl From<StoreError> for ApiError`).

use thiserror::Error;

use crate::session::JournalError;

/// Why a store operation failed. Nothing was changed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The data dir is full or read-only.
    #[error("the data dir cannot take more writes ({0}); free some space or make it writable")]
    Full(String),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The database could not be opened, read or written.
    #[error("the database in the data dir failed: {0}")]
    Database(String),
    /// Something in the store is not what gongan wrote (a corrupt journal row).
    #[error("the store holds something unreadable: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode::{CannotOpen, DiskFull, ReadOnly};
        match error.sqlite_error_code() {
            Some(DiskFull | ReadOnly | CannotOpen) => StoreError::Full(error.to_string()),
            _ => StoreError::Database(error.to_string()),
        }
    }
}

impl From<StoreError> for JournalError {
    fn from(error: StoreError) -> JournalError {
        match error {
            StoreError::Full(why) => JournalError::Full(why),
            other => JournalError::Failed(other.to_string()),
        }
    }
}
