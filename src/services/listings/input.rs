//! Input helpers of both listing kinds: a patch's nullable fields.

use serde::Deserialize;

/// Reads `null` as `Some(None)` and absence as `None`, so that a patch can clear a field
/// (`#[serde(default, deserialize_with = "…::nullable")]`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
