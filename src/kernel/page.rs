//! One page of a list, as every list route answers it.

use serde::Serialize;
use utoipa::ToSchema;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Number of items over all pages.
    pub total: u64,
    /// Page number, from 1.
    pub page: u64,
    /// Items per page.
    pub per_page: u64,
}

impl<T> Page<T> {
    /// The page `page` (of `per_page` items) of a list of `total` items, holding `items`.
    pub fn new(
        items: impl IntoIterator<Item = impl Into<T>>,
        total: u64,
        page: u64,
        per_page: u64,
    ) -> Self {
        Self {
            items: items.into_iter().map(Into::into).collect(),
            total,
            page,
            per_page,
        }
    }
}
