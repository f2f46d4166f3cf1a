"""Ctrl-C stops a search within a fraction of a second with its partial result, and other
Python threads keep running while a search runs."""

import json
import signal
import subprocess
import sys
import threading
import time

import numpy as np

import mipbound

# A network with far more regions than a few seconds can count.
BIG = """
import numpy as np, mipbound
rng = np.random.default_rng(0)
net = mipbound.Network.from_arrays(
    [rng.normal(size=(40, 5)), rng.normal(size=(40, 40)) / 6, rng.normal(size=(1, 40))],
    [rng.normal(size=40), rng.normal(size=40), np.zeros(1)],
)
"""


def big_network():
    scope = {}
    exec(BIG, scope)
    return scope["net"]


SCRIPT = BIG + """
import json, sys, time
print("started", flush=True)
try:
    mipbound.{command}(net, domain=(-1, 1), threads=2, time_limit=120, **{options})
    print(json.dumps({{"finished": True}}))
except KeyboardInterrupt as interrupt:
    stopped = time.monotonic()
    print(json.dumps({{"stopped": stopped, "partial": interrupt.partial_result.to_dict(),
                      "type": type(interrupt.partial_result).__name__}}))
"""


def interrupt(command, options):
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(command=command, options=options)],
        stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout.readline().strip() == "started"
    time.sleep(1.5)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    report = json.loads(out)
    assert "finished" not in report
    return report, report["stopped"] - sent


def test_sigint_stops_a_count_with_its_partial_result():
    report, delay = interrupt("count", "{}")
    assert delay < 1.0, f"KeyboardInterrupt came {delay:.2f} s after SIGINT"
    partial = report["partial"]
    assert report["type"] == "CountResult"
    assert partial["status"] == "interrupted" and not partial["complete"]
    assert partial["regions"] > 0
    assert partial["network"]["path"] == "<arrays>"


def test_sigint_stops_an_estimate_with_its_partial_result():
    report, delay = interrupt("estimate", "dict(xor=[2], trials=4, exact=True, activation_bound=False)")
    assert delay < 1.0, f"KeyboardInterrupt came {delay:.2f} s after SIGINT"
    partial = report["partial"]
    assert report["type"] == "EstimateResult"
    assert partial["interrupted"] is True
    # Every planned trial still has a level (cut short: witnessed; never started: 0).
    assert len(partial["widths"][0]["levels"]) == 4


def test_other_threads_run_during_a_count():
    net = big_network()
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    start = time.monotonic()
    try:
        result = mipbound.count(net, domain=(-1, 1), threads=1, time_limit=2)
    finally:
        done.set()
        ticker.join()
    end = time.monotonic()
    assert result.status == "time limit" and result.regions > 0
    during = [t for t in ticks if start < t < end]
    # About one tick per millisecond if the GIL is free; a held GIL would allow none.
    assert len(during) > 300, f"{len(during)} ticks in {end - start:.1f} s"
    gaps = np.diff(during)
    assert gaps.max() < 0.25


def test_regions_stream_in_search_order_and_stop_on_close():
    net = big_network()
    stream = mipbound.regions(net, domain=(-1, 1), maps=True)
    first = [next(stream) for _ in range(50)]
    assert stream.end is None
    stream.close()
    assert stream.end.status == "interrupted" and not stream.end.complete
    assert list(stream) == []
    for region in first:
        # The witness is inside its region: its pattern is the region's, and the affine map
        # gives the network's output there.
        assert "".join(region.bits.split()) == "".join(map(str, net.pattern(region.witness).astype(int)))
        np.testing.assert_allclose(region.map.weights @ region.witness + region.map.bias, net.output(region.witness), atol=1e-9)
    # The same order as the single-thread count writes its patterns.
    again = mipbound.regions(net, domain=(-1, 1))
    assert [next(again).bits for _ in range(50)] == [r.bits for r in first]
    again.close()
