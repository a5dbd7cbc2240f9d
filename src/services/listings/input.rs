//! Input helpers of both listing kinds: a patch's nullable fields, and the field checks under
//! their former name (the rules themselves are in [`crate::kernel::validation`]).

use serde::Deserialize;

use crate::kernel::validation::Checks;
use crate::reference::ReferenceData;

/// Reads `null` as `Some(None)` and absence as `None`, so that a patch can clear a field
/// (`#[serde(default, deserialize_with = "…::nullable")]`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The listings' former name of [`Checks`] with reference data, kept so that the listing inputs
/// (`results`, `demands`) compile unchanged until they name [`Checks`] themselves.
pub type CodeChecks<'a> = Checks<&'a ReferenceData>;
