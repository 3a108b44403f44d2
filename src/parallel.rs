//! Parallel: the one helper that spreads independent work over the machine's cores.
//!
//! Reading (chunks of a file), forecasting (cells) and writing (blocks of rows) all map a
//! function over independent items; results come back in item order, so the outputs do
//! not depend on the number of cores.

/// Maps `f` over `items` on the available cores, keeping the order.
pub fn par_map<T: Sync, R: Send>(items: Vec<T>, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread"))
            .collect()
    })
}
