"""Python: one record through photon_metrics against prometheus_client, in
the same process (BENCHMARKS.md, group 11). Build the module in release
first: maturin build --release -m photon-metrics-py/Cargo.toml, pip install
the wheel, then: python3 benches/python/record.py"""

import timeit

import photon_metrics as pm
from prometheus_client import CollectorRegistry, Counter, Histogram

N = 1_000_000
REPEAT = 7


def best(stmt):
    """Nanoseconds per call, best of REPEAT runs of N calls."""
    return min(timeit.repeat(stmt, number=N, repeat=REPEAT)) / N * 1e9


def main():
    pm.install_exporter(None)
    target, model = pm.Target("mzi-64x64"), pm.ModelType("resnet50")
    success, simulator = pm.Status.SUCCESS, pm.DeviceType.SIMULATOR

    registry = CollectorRegistry()
    counter = Counter(
        "photon_compilations", "c", ["target", "status", "model_type"], registry=registry
    )
    child = counter.labels("mzi-64x64", "success", "resnet50")
    histogram = Histogram("photon_inference_latency_seconds", "h", ["device_type"], registry=registry)
    h_child = histogram.labels("simulator")

    rows = [
        ("photon record_compilation(t, s, m)", best(lambda: pm.record_compilation(target, success, model))),
        ("prometheus_client counter.labels(...).inc()", best(lambda: counter.labels("mzi-64x64", "success", "resnet50").inc())),
        ("prometheus_client child.inc() (pre-resolved)", best(lambda: child.inc())),
        ("photon observe_inference_latency(d, s)", best(lambda: pm.observe_inference_latency(simulator, 0.003))),
        ("prometheus_client histogram.labels(...).observe()", best(lambda: histogram.labels("simulator").observe(0.003))),
        ("prometheus_client h_child.observe() (pre-resolved)", best(lambda: h_child.observe(0.003))),
    ]
    base = rows[1][1]
    for name, ns in rows:
        print(f"{name:55s} {ns:8.1f} ns  ({ns / base:4.2f}x labels().inc())")


if __name__ == "__main__":
    main()
