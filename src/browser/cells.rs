//! `RefCell` access for the driver without the panic machinery.
//!
//! No borrow is held while JavaScript runs (see `driver.rs`), so a conflicting
//! borrow is a bug in the driver, never something input can cause. It traps
//! like any panic would in the package build, but without linking a source
//! location and a message per call site into the download.

use ::core::cell::{Ref, RefCell, RefMut};

/// `borrow`/`borrow_mut` that trap instead of panicking.
pub(crate) trait Cells<T> {
    /// Shared access.
    fn read(&self) -> Ref<'_, T>;
    /// Exclusive access.
    fn write(&self) -> RefMut<'_, T>;
}

impl<T> Cells<T> for RefCell<T> {
    fn read(&self) -> Ref<'_, T> {
        self.try_borrow().unwrap_or_else(|_| conflict())
    }

    fn write(&self) -> RefMut<'_, T> {
        self.try_borrow_mut().unwrap_or_else(|_| conflict())
    }
}

#[cold]
fn conflict() -> ! {
    #[cfg(target_arch = "wasm32")]
    ::core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    unreachable!("a RefCell borrow conflict in the browser driver")
}
