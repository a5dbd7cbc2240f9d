//! The market's calendar: registration dates, deadlines and years are dates in China.

use chrono::{NaiveDate, Utc};

/// Today in China (UTC+8, no daylight saving): registration dates, deadlines and the indicators'
/// years are Beijing dates.
pub fn today_in_china() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}
