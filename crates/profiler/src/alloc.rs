//! Allocation counting, which cProfile cannot do.

use std::alloc::{GlobalAlloc, Layout, System};

/// A global allocator that counts allocations and their bytes per thread, so
/// [`Stats`](crate::Stats) can show, for each profiled function, how many
/// allocations it made itself (callees excluded) and how many bytes they
/// asked for. Opt in from the binary:
///
/// ```
/// #[global_allocator]
/// static ALLOCATOR: proflab::CountingAllocator = proflab::CountingAllocator;
/// # fn main() {}
/// ```
///
/// It forwards to the system allocator; its own cost is two thread-local
/// additions per allocation.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; counting touches only thread-local cells and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        crate::record::count_allocation(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        crate::record::count_allocation(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        crate::record::count_allocation(new_size);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
