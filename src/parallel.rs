//! Parallel: the one helper that spreads independent work over the machine's cores.
//!
//! Reading (chunks of a file), forecasting (cells) and writing (blocks of rows) all map a
//! function over independent items; results come back in item order, so the outputs do
//! not depend on the number of cores.

/// How many threads the machine runs at once (1 when it cannot say).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

/// Items per thread when `len` items are shared among the cores.
pub(crate) fn share(len: usize) -> usize {
    len.div_ceil(cores()).max(1)
}

/// Maps `f` over `items` on the available cores, keeping the order.
pub(crate) fn par_map<T: Sync, R: Send>(items: Vec<T>, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let chunk = share(items.len());
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

/// Runs `f` on every item in place (with its index), on the available cores.
pub(crate) fn par_for_each_mut<T: Send>(items: &mut [T], f: impl Fn(usize, &mut T) + Sync) {
    let chunk = share(items.len());
    let f = &f;
    std::thread::scope(|scope| {
        for (k, part) in items.chunks_mut(chunk).enumerate() {
            scope.spawn(move || {
                for (i, item) in part.iter_mut().enumerate() {
                    f(k * chunk + i, item);
                }
            });
        }
    });
}
