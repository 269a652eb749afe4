//! Handing memory freed by a finished stage back to the operating system.
//!
//! The binary allocates with mimalloc (v3), which keeps freed pages in the freeing thread's heap
//! and purges them about a second later, and only when later allocator activity triggers it.
//! Between steps that free most of what they held (ingest's buffers, each cutoff's full table,
//! the fits' temporaries, the history, each warehouse part of a query) that left the next step's
//! peak on top of memory nobody used any more. The rule: [`give_back`] is called after such
//! steps only, never per free, because purging on every free also returns buffers about to be
//! reused and costs time (`bench/RESULTS.md` has the measurements).

/// Returns the pages freed so far, on every worker thread (rayon's and polars') and the calling
/// thread, to the system. Harmless when mimalloc is not the global allocator.
pub fn give_back() {
    rayon::broadcast(|_| collect());
    polars_core::runtime::THREAD_POOL.broadcast(|_| collect());
    collect();
}

fn collect() {
    // SAFETY: mi_collect only walks mimalloc's own free lists and arenas; it may be called at
    // any time from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
