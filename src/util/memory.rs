//! Handing memory freed by a finished stage back to the operating system.
//!
//! The binary allocates with mimalloc (v3), which keeps freed pages in the freeing thread's heap
//! and purges them about a second later, and only when later allocator activity triggers it.
//! Between steps that free most of what they held (ingest's buffers, each cutoff's full table,
//! the fits' temporaries, the history, each warehouse part of a query) that left the next step's
//! peak on top of memory nobody used any more. [`give_back`] is called after such steps only:
//! the first calls (after ingest, the snapshots and the history) took the 10^7 run's peak from
//! 0.82 to 0.75 GB at the same speed (bench/RESULTS.md, session 12, has the later ones), while a
//! shorter purge delay for every free instead cost about 1 s of the run's 13.5 s (it also purges
//! buffers about to be reused).

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
