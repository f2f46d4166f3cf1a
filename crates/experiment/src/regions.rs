//! Regions one by one, in the single-thread search order, without keeping them: a search on
//! its own thread hands each region over a bounded channel.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Result, anyhow};
use mipbound_network::{Network, Pattern, pattern_line};
use mipbound_search::{Flow, Limits, PatternHooks, RegionSearch};
use ndarray::{Array1, Array2};

use crate::count::CountSettings;
use crate::domains::InputMap;
use crate::problem::Problem;
use crate::run::CancelToken;

/// Regions found but not yet taken: the search waits when this many are queued.
const QUEUE: usize = 64;

/// The network's output on one region: `y = weights . x + bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct AffineMap {
    /// One row per output, one column per input.
    pub weights: Array2<f64>,
    /// One entry per output.
    pub bias: Array1<f64>,
}

/// One region.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Each hidden unit's piece (ReLU: 1 active, 0 inactive; maxout: the winning row),
    /// layer-major.
    pub pieces: Vec<usize>,
    /// The pattern's bit code, as `count --patterns` writes it.
    pub bits: String,
    /// A point inside the region, in the network's input space.
    pub witness: Vec<f64>,
    /// The same point in the search's coordinates (u for a slice, `(y, s)` for all of
    /// R^n0; the witness itself on a box).
    pub search_point: Vec<f64>,
    /// The network's affine map on the region, when asked for.
    pub map: Option<AffineMap>,
}

/// How the stream's search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEnd {
    /// Regions handed out.
    pub regions: u64,
    /// Whether every region was handed out (the search ran to its end).
    pub complete: bool,
    /// `complete`, `time limit`, `interrupted`, `stopped`, ...
    pub status: String,
}

/// What [`RegionStream::next_within`] found.
#[derive(Debug)]
pub enum Next {
    /// The next region.
    Region(Box<Region>),
    /// None yet: ask again.
    Pending,
    /// The search has ended; see [`RegionStream::finish`].
    Done,
}

/// A running search handing out its regions.
pub struct RegionStream {
    regions: Receiver<Region>,
    search: Option<JoinHandle<Result<StreamEnd>>>,
    cancel: CancelToken,
}

impl RegionStream {
    /// Starts the search of `problem` (single-threaded, so the order is the search order).
    /// `cancel` stops it; with `maps`, each region carries its affine map.
    pub fn start(
        problem: Arc<Problem>,
        settings: &CountSettings,
        maps: bool,
        cancel: CancelToken,
    ) -> Result<Self> {
        settings.check()?;
        let (tx, rx) = sync_channel(QUEUE);
        let settings = settings.clone();
        let flag = cancel.flag();
        let search = std::thread::Builder::new()
            .name("mipbound-regions".into())
            .spawn(move || {
                let search =
                    RegionSearch::new(problem.network(), problem.domain(), settings.search())?;
                let limits = Limits::time_limit(settings.time_limit).with_interrupt(flag);
                let mut hooks = Sender {
                    problem: &problem,
                    widths: problem.original().layer_bits(),
                    maps,
                    tx,
                    sent: 0,
                    receiver_gone: false,
                };
                let outcome = search.run(&mut hooks, &limits)?;
                Ok(StreamEnd {
                    regions: hooks.sent,
                    complete: outcome.is_exact() && !hooks.receiver_gone,
                    status: outcome.status_name().into(),
                })
            })
            .map_err(|e| anyhow!("starting the region search: {e}"))?;
        Ok(Self {
            regions: rx,
            search: Some(search),
            cancel,
        })
    }

    /// The next region, waiting at most `wait`.
    pub fn next_within(&self, wait: Duration) -> Next {
        match self.regions.recv_timeout(wait) {
            Ok(region) => Next::Region(Box::new(region)),
            Err(RecvTimeoutError::Timeout) => Next::Pending,
            Err(RecvTimeoutError::Disconnected) => Next::Done,
        }
    }

    /// Stops the search (if still running) and says how it ended, or why it failed.
    pub fn finish(mut self) -> Result<StreamEnd> {
        self.stop()
    }

    fn stop(&mut self) -> Result<StreamEnd> {
        self.cancel.cancel();
        // Unblocks a search waiting for room in the queue.
        while self.regions.try_recv().is_ok() {}
        match self.search.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| anyhow!("the region search panicked"))?,
            None => Err(anyhow!("the region stream was already finished")),
        }
    }
}

impl Iterator for RegionStream {
    type Item = Region;

    fn next(&mut self) -> Option<Region> {
        self.regions.recv().ok()
    }
}

impl Drop for RegionStream {
    fn drop(&mut self) {
        if self.search.is_some() {
            // Nothing is waiting for the outcome any more.
            let _ = self.stop();
        }
    }
}

struct Sender<'p> {
    problem: &'p Problem,
    widths: Vec<usize>,
    maps: bool,
    tx: SyncSender<Region>,
    sent: u64,
    receiver_gone: bool,
}

impl PatternHooks for Sender<'_> {
    fn region(&mut self, pattern: &Pattern, point: &[f64]) -> Flow {
        // The pattern, pieces and map are the original network's at the input point: on a
        // slice they are the composed network's, on all of R^n0 the homogeneous network
        // has other units.
        let net = self.problem.original();
        let x = self.problem.input_map().to_input(point);
        let (pieces, map) = pieces_and_map(net, &x, self.maps);
        let bits = match self.problem.input_map() {
            InputMap::Identity => pattern_line(pattern, &self.widths),
            _ => pattern_line(&net.pattern(&x), &self.widths),
        };
        let region = Region {
            pieces,
            bits,
            witness: x,
            search_point: point.to_vec(),
            map,
        };
        if self.tx.send(region).is_err() {
            self.receiver_gone = true;
            return Flow::Stop;
        }
        self.sent += 1;
        Flow::Continue
    }
}

/// Each hidden unit's piece at `x` and, if `with_map`, the network's affine map on the
/// region of `x` (the witness is inside it, so its pieces are the region's).
pub fn pieces_and_map(net: &Network, x: &[f64], with_map: bool) -> (Vec<usize>, Option<AffineMap>) {
    let n0 = net.input_dim();
    let mut weights = Array2::<f64>::eye(n0);
    let mut bias = Array1::<f64>::zeros(n0);
    let mut h = Array1::from(x.to_vec());
    let mut pieces = Vec::with_capacity(net.num_hidden_units());
    for layer in net.layers() {
        let z = layer.pre_activation(h.view());
        let a = &layer.activation;
        let rank = a.rank();
        let z_map = with_map.then(|| {
            (
                layer.weights.dot(&weights),
                layer.weights.dot(&bias) + &layer.bias,
            )
        });
        let units = z.len() / rank;
        let mut next_w = Array2::<f64>::zeros((units, n0));
        let mut next_b = Array1::<f64>::zeros(units);
        let hidden = !matches!(a, mipbound_network::Activation::Identity);
        for u in 0..units {
            let rows = &z.as_slice().unwrap_or(&[])[u * rank..(u + 1) * rank];
            let option = a.state(rows);
            if hidden {
                pieces.push(option);
            }
            if let Some((zw, zb)) = &z_map {
                let post = a.post(option);
                let row = u * rank + post.row;
                next_w.row_mut(u).assign(&(&zw.row(row) * post.slope));
                next_b[u] = post.slope * zb[row] + post.offset;
            }
        }
        h = layer.post_activation(&z);
        if with_map {
            weights = next_w;
            bias = next_b;
        }
    }
    let map = with_map.then_some(AffineMap { weights, bias });
    (pieces, map)
}
