//! Training ReLU MLPs: He-normal initialisation, mini-batch Adam on softmax cross-entropy.

use std::time::Instant;

use mipbound_network::{Activation, Layer, Network};
use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::Dataset;

/// How to train. [defaults in brackets]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSettings {
    /// Hidden layer widths. [default: [10, 12]]
    pub hidden: Vec<usize>,
    /// Passes over the training set. [default: 10]
    pub epochs: usize,
    /// Images per gradient step. [default: 32]
    pub batch_size: usize,
    /// Adam step size. [default: 0.003]
    pub learning_rate: f64,
    /// Seed of the initialisation and batch-order stream. [default: 0]
    pub seed: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            hidden: vec![10, 12],
            epochs: 10,
            batch_size: 32,
            learning_rate: 0.003,
            seed: 0,
        }
    }
}

/// A trained network and how it got there.
#[derive(Debug, Clone)]
pub struct TrainedNetwork {
    /// The network (hidden ReLU layers and a linear output layer), with metadata
    /// `test_accuracy`, `train_accuracy` and `training`.
    pub network: Network,
    /// Fraction of test images classified correctly.
    pub test_accuracy: f64,
    /// Fraction of training images classified correctly.
    pub train_accuracy: f64,
    /// Mean cross-entropy of each epoch.
    pub epoch_losses: Vec<f64>,
    /// Wall-clock seconds of training.
    pub seconds: f64,
}

/// Parameters of one layer and Adam's moment estimates for them.
struct Dense {
    w: Array2<f64>,
    b: Array1<f64>,
    mw: Array2<f64>,
    vw: Array2<f64>,
    mb: Array1<f64>,
    vb: Array1<f64>,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

impl Dense {
    fn new(inputs: usize, units: usize, rng: &mut ChaCha8Rng) -> Self {
        let normal = Normal::new(0.0, (2.0 / inputs as f64).sqrt()).expect("finite std");
        Self {
            w: Array2::from_shape_simple_fn((units, inputs), || normal.sample(rng)),
            b: Array1::zeros(units),
            mw: Array2::zeros((units, inputs)),
            vw: Array2::zeros((units, inputs)),
            mb: Array1::zeros(units),
            vb: Array1::zeros(units),
        }
    }

    fn adam(&mut self, gw: &Array2<f64>, gb: &Array1<f64>, lr: f64, step: i32) {
        let (c1, c2) = (1.0 - BETA1.powi(step), 1.0 - BETA2.powi(step));
        self.mw
            .zip_mut_with(gw, |m, g| *m = BETA1 * *m + (1.0 - BETA1) * g);
        self.vw
            .zip_mut_with(gw, |v, g| *v = BETA2 * *v + (1.0 - BETA2) * g * g);
        self.mb
            .zip_mut_with(gb, |m, g| *m = BETA1 * *m + (1.0 - BETA1) * g);
        self.vb
            .zip_mut_with(gb, |v, g| *v = BETA2 * *v + (1.0 - BETA2) * g * g);
        ndarray::Zip::from(&mut self.w)
            .and(&self.mw)
            .and(&self.vw)
            .for_each(|w, m, v| *w -= lr * (m / c1) / ((v / c2).sqrt() + EPSILON));
        ndarray::Zip::from(&mut self.b)
            .and(&self.mb)
            .and(&self.vb)
            .for_each(|b, m, v| *b -= lr * (m / c1) / ((v / c2).sqrt() + EPSILON));
    }
}

/// Row-wise softmax in place; returns the mean cross-entropy against `labels`.
fn softmax_cross_entropy(logits: &mut Array2<f64>, labels: &[u8]) -> f64 {
    let mut loss = 0.0;
    for (mut row, &label) in logits.rows_mut().into_iter().zip(labels) {
        let max = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
        loss -= row[label as usize].max(1e-300).ln();
    }
    loss / labels.len() as f64
}

/// Fraction of `data` that `net` classifies correctly (argmax of the output).
pub fn accuracy(net: &Network, data: &Dataset) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut h = data.images.clone();
    for layer in net.layers() {
        h = h.dot(&layer.weights.t()) + &layer.bias;
        if layer.activation == Activation::Relu {
            h.mapv_inplace(|v| v.max(0.0));
        }
    }
    let correct = h
        .rows()
        .into_iter()
        .zip(&data.labels)
        .filter(|(row, label)| {
            let best = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            best == **label as usize
        })
        .count();
    correct as f64 / data.len() as f64
}

/// Trains a ReLU MLP `pixels -> hidden... -> classes` on `train`, reports accuracy on
/// `test`.
///
/// # Panics
/// If `train` is empty, a width or the batch size is 0.
pub fn train(train: &Dataset, test: &Dataset, settings: &TrainSettings) -> TrainedNetwork {
    assert!(!train.is_empty() && settings.batch_size > 0);
    assert!(settings.hidden.iter().all(|&w| w > 0));
    let start = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let mut widths = vec![train.pixels()];
    widths.extend(&settings.hidden);
    widths.push(train.classes.max(2));
    let mut layers: Vec<Dense> = widths
        .windows(2)
        .map(|w| Dense::new(w[0], w[1], &mut rng))
        .collect();
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut epoch_losses = Vec::with_capacity(settings.epochs);
    let mut step = 0;
    for _ in 0..settings.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for batch in order.chunks(settings.batch_size) {
            step += 1;
            let x = train.images.select(Axis(0), batch);
            let labels: Vec<u8> = batch.iter().map(|&i| train.labels[i]).collect();
            // Forward, keeping every layer's input.
            let mut inputs = vec![x];
            for (l, layer) in layers.iter().enumerate() {
                let mut z = inputs[l].dot(&layer.w.t()) + &layer.b;
                if l + 1 < layers.len() {
                    z.mapv_inplace(|v| v.max(0.0));
                }
                inputs.push(z);
            }
            let mut delta = inputs.pop().expect("logits");
            total += softmax_cross_entropy(&mut delta, &labels) * batch.len() as f64;
            for (row, &label) in delta.rows_mut().into_iter().zip(&labels) {
                let mut row = row;
                row[label as usize] -= 1.0;
            }
            delta /= batch.len() as f64;
            // Backward: delta is dLoss/dZ of the current layer.
            for l in (0..layers.len()).rev() {
                let input = &inputs[l];
                let gw = delta.t().dot(input);
                let gb = delta.sum_axis(Axis(0));
                if l > 0 {
                    let mut back = delta.dot(&layers[l].w);
                    back.zip_mut_with(input, |d, &h| {
                        if h <= 0.0 {
                            *d = 0.0;
                        }
                    });
                    delta = back;
                }
                layers[l].adam(&gw, &gb, settings.learning_rate, step);
            }
        }
        epoch_losses.push(total / train.len() as f64);
    }
    let count = layers.len();
    let net_layers = layers
        .into_iter()
        .enumerate()
        .map(|(l, d)| {
            let activation = if l + 1 < count {
                Activation::Relu
            } else {
                Activation::Identity
            };
            Layer::new(d.w, d.b, activation)
        })
        .collect();
    let mut network = Network::new(train.pixels(), net_layers).expect("trained shapes are valid");
    let test_accuracy = accuracy(&network, test);
    let train_accuracy = accuracy(&network, train);
    let meta = network.metadata_mut();
    meta.insert("test_accuracy".into(), test_accuracy.into());
    meta.insert("train_accuracy".into(), train_accuracy.into());
    meta.insert(
        "training".into(),
        serde_json::json!({
            "optimizer": "adam",
            "settings": settings,
            "train_images": train.len(),
            "test_images": test.len(),
            "final_loss": epoch_losses.last(),
        }),
    );
    TrainedNetwork {
        network,
        test_accuracy,
        train_accuracy,
        epoch_losses,
        seconds: start.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Gaussian blobs in 4-D, linearly separable by the sign of the first coordinate.
    fn blobs(count: usize, seed: u64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let noise = Normal::new(0.0, 0.05).unwrap();
        let mut images = Array2::zeros((count, 4));
        let mut labels = Vec::new();
        for (i, mut row) in images.rows_mut().into_iter().enumerate() {
            let label = (i % 2) as u8;
            let centre = if label == 1 { 0.75 } else { 0.25 };
            row[0] = centre + noise.sample(&mut rng);
            for v in row.iter_mut().skip(1) {
                *v = 0.5 + noise.sample(&mut rng);
            }
            labels.push(label);
        }
        Dataset {
            images,
            labels,
            classes: 2,
        }
    }

    #[test]
    fn loss_decreases_and_a_separable_task_is_learnt() {
        let (train_set, test_set) = (blobs(400, 1), blobs(200, 2));
        let settings = TrainSettings {
            hidden: vec![6, 5],
            epochs: 15,
            batch_size: 16,
            learning_rate: 0.01,
            seed: 3,
        };
        let trained = train(&train_set, &test_set, &settings);
        let losses = &trained.epoch_losses;
        assert_eq!(losses.len(), 15);
        assert!(losses[14] < 0.5 * losses[0], "{losses:?}");
        assert!(trained.test_accuracy >= 0.97, "{}", trained.test_accuracy);
        assert_eq!(trained.network.hidden_widths(), vec![6, 5]);
        assert_eq!(
            trained.network.metadata()["test_accuracy"],
            serde_json::json!(trained.test_accuracy)
        );
        // Same seed, same network.
        let again = train(&train_set, &test_set, &settings);
        assert_eq!(again.network, trained.network);
    }
}
