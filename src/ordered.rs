//! Evaluation on every core, results in order.
//!
//! A run over many subjects evaluates each one with a pure function and then hands the result
//! to something sequential (the summary builder, a writer). [`map_in_order`] runs the pure part
//! on worker threads, a chunk of items at a time, and gives the results to the sequential part
//! on the calling thread in exactly the items' order, so the output is byte for byte what a
//! plain loop gives. Memory stays bounded: at most a few chunks per worker are in flight.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Items per chunk: large enough that handing a chunk over costs nothing next to evaluating
/// it, small enough that the first results arrive at once.
const CHUNK: usize = 256;

/// The worker threads to use: the cores the process may run on, at most 8.
pub fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// Calls `sink(item, eval(item))` for every item, in order, with `eval` run on up to
/// `workers` threads (the calling thread runs `sink`). The first error of `sink` stops the
/// workers and is returned; `eval` itself cannot fail.
pub fn map_in_order<T, R, E>(
    items: &[T],
    workers: usize,
    eval: impl Fn(&T) -> R + Sync,
    mut sink: impl FnMut(&T, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    if workers <= 1 || items.len() <= CHUNK {
        for item in items {
            sink(item, eval(item))?;
        }
        return Ok(());
    }
    let chunks = items.len().div_ceil(CHUNK);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // Bounded: a worker that is far ahead of the sink waits instead of piling results up.
        let (tx, rx) = mpsc::sync_channel::<(usize, Vec<R>)>(workers * 2);
        for _ in 0..workers.min(chunks) {
            let tx = tx.clone();
            let (next, stop, eval) = (&next, &stop, &eval);
            scope.spawn(move || {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks {
                        return;
                    }
                    let part = &items[c * CHUNK..items.len().min((c + 1) * CHUNK)];
                    let out: Vec<R> = part.iter().map(eval).collect();
                    if tx.send((c, out)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, Vec<R>> = BTreeMap::new();
        let mut want = 0;
        let result = (|| {
            while want < chunks {
                let out = match pending.remove(&want) {
                    Some(out) => out,
                    None => match rx.recv() {
                        Ok((c, out)) if c == want => out,
                        Ok((c, out)) => {
                            pending.insert(c, out);
                            continue;
                        }
                        // Every worker ended before the chunk arrived: only a panic does that,
                        // and the scope re-raises it.
                        Err(_) => return Ok(()),
                    },
                };
                let base = want * CHUNK;
                for (i, r) in out.into_iter().enumerate() {
                    sink(&items[base + i], r)?;
                }
                want += 1;
            }
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        // Unblock workers waiting to send, so the scope can join them.
        drop(rx);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_order_whatever_the_workers() {
        let items: Vec<usize> = (0..5_000).collect();
        for workers in [1, 2, 3, 8] {
            let mut seen = Vec::new();
            let r: Result<(), ()> = map_in_order(
                &items,
                workers,
                |i| i * 3,
                |i, r| {
                    seen.push((*i, r));
                    Ok(())
                },
            );
            assert!(r.is_ok());
            let expected: Vec<(usize, usize)> = items.iter().map(|i| (*i, i * 3)).collect();
            assert_eq!(seen, expected, "{workers} workers");
        }
    }

    #[test]
    fn an_error_of_the_sink_stops_the_run() {
        let items: Vec<usize> = (0..100_000).collect();
        let evaluated = AtomicUsize::new(0);
        let mut sunk = 0;
        let r = map_in_order(
            &items,
            2,
            |i| {
                evaluated.fetch_add(1, Ordering::Relaxed);
                *i
            },
            |i, _| {
                sunk += 1;
                if *i == 1_000 {
                    Err("broken pipe")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r, Err("broken pipe"));
        assert_eq!(sunk, 1_001);
        // The workers stopped soon after: far fewer than all items were evaluated.
        assert!(evaluated.load(Ordering::Relaxed) < 50_000);
    }

    #[test]
    fn empty_and_small_inputs() {
        let mut n = 0;
        let r: Result<(), ()> = map_in_order(&[] as &[u8], 2, |_| 1, |_, _| Ok(()));
        assert!(r.is_ok());
        let r: Result<(), ()> = map_in_order(
            &[1u8, 2, 3],
            4,
            |x| *x,
            |_, x| {
                n += usize::from(x);
                Ok(())
            },
        );
        assert!(r.is_ok());
        assert_eq!(n, 6);
    }
}
