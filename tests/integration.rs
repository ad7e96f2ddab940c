//! The one integration test binary (one link, fast to build): the modules
//! under `tests/api/` mirror the URLs they test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly by design"
)]

mod api;
