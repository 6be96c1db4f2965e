//! The allocation types every module uses, from `alloc` so the crate also
//! builds `no_std` (the npm package); with std they are the same types.

pub(crate) use alloc::borrow::ToOwned;
pub(crate) use alloc::string::String;
pub(crate) use alloc::vec;
pub(crate) use alloc::vec::Vec;
