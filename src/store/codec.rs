//! How records are turned into table values: one version byte, then JSON. JSON keeps
//! records readable in a debugger and lets new optional fields default on old records;
//! the version byte lets a migration recognise a layout it must rewrite. Users and
//! sessions, read on every forward-auth check, use the compact binary layout of
//! `store::compact` instead (version byte 2); their JSON form (version byte 1) is only
//! read by the migration that rewrites it.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// A type stored as a table value.
pub trait Record: Serialize + DeserializeOwned {
    /// A name for error messages.
    const KIND: &'static str;
    /// The layout version written in front of the JSON.
    const VERSION: u8 = 1;
}

pub fn encode<T: Record>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![T::VERSION];
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Corrupt {
        kind: T::KIND,
        detail: e.to_string(),
    })?;
    Ok(out)
}

pub fn decode<T: Record>(bytes: &[u8]) -> Result<T, StoreError> {
    decode_part::<T, T>(bytes)
}

/// Decodes some fields of a record of type `R` into `T`, skipping the others (for hot
/// paths that need little of a large record). `T` is never written back.
pub fn decode_part<R: Record, T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&version, json)) if version == R::VERSION => {
            serde_json::from_slice(json).map_err(|e| StoreError::Corrupt {
                kind: R::KIND,
                detail: e.to_string(),
            })
        }
        Some((&version, _)) => Err(StoreError::Corrupt {
            kind: R::KIND,
            detail: format!("unknown record version {version}"),
        }),
        None => Err(StoreError::Corrupt {
            kind: R::KIND,
            detail: "empty record".to_owned(),
        }),
    }
}

/// Decodes a version-1 (JSON) record of any type; for migrations that rewrite old
/// layouts.
pub(crate) fn decode_v1<T: DeserializeOwned>(
    kind: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((1, json)) => serde_json::from_slice(json).map_err(|e| StoreError::Corrupt {
            kind,
            detail: e.to_string(),
        }),
        _ => Err(StoreError::Corrupt {
            kind,
            detail: "not a version 1 record".to_owned(),
        }),
    }
}

/// Encodes any serializable value as a version-1 (JSON) record: how Gatehouse wrote
/// users and sessions before schema version 2. Only the benchmarks and tests use it,
/// to build old stores to migrate.
#[cfg(feature = "bench")]
pub fn encode_v1<T: Serialize>(kind: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![1];
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Corrupt {
        kind,
        detail: e.to_string(),
    })?;
    Ok(out)
}
