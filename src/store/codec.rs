//! How records are turned into table values: one version byte, then JSON. JSON keeps
//! records readable in a debugger and lets new optional fields default on old records;
//! the version byte lets a migration recognise a layout it must rewrite.

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
