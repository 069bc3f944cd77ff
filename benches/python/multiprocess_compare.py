#!/usr/bin/env python3
"""Many processes, one service: photon's shared directory against
prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
MultiProcessCollector), on the same workloads. Run by hand (not in CI):

    pip install prometheus_client
    maturin build --release -m photon-metrics-py/Cargo.toml --out /tmp/w && pip install /tmp/w/*.whl
    python3 benches/python/multiprocess_compare.py            # about 3 minutes on 2 cores
    python3 benches/python/multiprocess_compare.py --restarts 200 --workers 4,16

What it measures (results in BENCHMARKS.md §18), each system in a fresh
interpreter of its own (prometheus_client picks its value class from the
environment at import):

  (i)   record cost per call in one worker of a service: a counter increment
        and a histogram observe (timeit, best of 7);
  (ii)  scrape cost of a whole service of N forked workers (multiprocessing,
        fork), each with the same 1,000 counter series, alive while scraped:
        photon, an HTTP GET of /metrics (which asks every worker for a fresh
        publication); prometheus_client, generate_latest() of a registry with
        a MultiProcessCollector. Also the workers' CPU while idle (photon's
        workers publish every second; prometheus_client's do nothing);
  (iii) disk used in the directory after R worker restarts (each worker
        forked, records its 1,000 series, exits), and the scrape after them;
  (iv)  a features table.

The series: photon_cache_hits_total{target} with the Target label's cap
raised to 1,024 (its default is 32), 1,000 values t0000..t0999;
prometheus_client, a Counter cache_hits{target} with the same values.
"""

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request

SERIES = 1000
SCRAPES = 10
HERE = os.path.abspath(__file__)


# ---------------------------------------------------------------- helpers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def best_ns(stmt, number):
    return min(timeit.repeat(stmt, number=number, repeat=7)) / number * 1e9


def disk(path):
    """(files, apparent bytes, allocated bytes) under `path`."""
    files = apparent = allocated = 0
    for root, _, names in os.walk(path):
        for name in names:
            st = os.stat(os.path.join(root, name))
            files += 1
            apparent += st.st_size
            allocated += st.st_blocks * 512
    return files, apparent, allocated


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pids, seconds=5.0):
    """The processes' CPU over `seconds` of idling, in % of one core."""
    before = sum(cpu_seconds(p) for p in pids)
    time.sleep(seconds)
    return (sum(cpu_seconds(p) for p in pids) - before) / seconds * 100


def http_get(port, timeout=30):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
        return r.read().decode()


def counted(text, name):
    """(series, sum of values) of the samples named `name` in `text`."""
    from prometheus_client.parser import text_string_to_metric_families

    series = total = 0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                series += 1
                total += s.value
    return series, total


def timed(fn, n=SCRAPES):
    """(median ms, min ms, last result) over n calls, after one warm-up."""
    result = fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times), result


# ------------------------------------------------------------------ roles
# Each runs in a fresh interpreter and prints one JSON object.


def role_record_photon(shared):
    import photon_metrics as pm

    if shared:
        d = tempfile.mkdtemp(prefix="photon-rec-")
        pm.install_exporter("127.0.0.1:0", shared_dir=d, process_metrics=False)
    else:
        pm.install_exporter("127.0.0.1:0", process_metrics=False)
    t, s, m = pm.Target("mzi-64x64"), pm.Status.SUCCESS, pm.ModelType("resnet50")
    dt = pm.DeviceType.SIMULATOR
    out = {
        "counter": best_ns(lambda: pm.record_compilation(t, s, m), 200_000),
        "histogram": best_ns(lambda: pm.observe_inference_latency(dt, 0.003), 200_000),
    }
    if shared:
        shutil.rmtree(d, ignore_errors=True)
    return out


def role_record_prom():
    from prometheus_client import Counter, Histogram

    c = Counter("compilations", "c", ["target", "status", "model_type"])
    h = Histogram("inference_latency_seconds", "h", ["device_type"])
    child, hchild = c.labels("mzi-64x64", "success", "resnet50"), h.labels("simulator")
    return {
        "counter_labels": best_ns(lambda: c.labels("mzi-64x64", "success", "resnet50").inc(), 100_000),
        "counter": best_ns(lambda: child.inc(), 100_000),
        "histogram_labels": best_ns(lambda: h.labels("simulator").observe(0.003), 100_000),
        "histogram": best_ns(lambda: hchild.observe(0.003), 100_000),
    }


def photon_worker(port, d, ready, stop, records):
    import photon_metrics as pm

    pm.set_label_cap(pm.OpenLabel.TARGET, 1024)
    pm.install_exporter(f"127.0.0.1:{port}", shared_dir=d, process_metrics=False)
    targets = [pm.Target(f"t{i:04d}") for i in range(SERIES)]
    for _ in range(records):
        for t in targets:
            pm.record_cache_hit(t)
    ready.put(os.getpid())
    stop.wait()


def prom_worker(ready, stop, records):
    from prometheus_client import Counter

    c = Counter("cache_hits", "h", ["target"])
    for _ in range(records):
        for i in range(SERIES):
            c.labels(f"t{i:04d}").inc()
    ready.put(os.getpid())
    stop.wait()


def start_workers(target, n, *args):
    ctx = mp.get_context("fork")
    ready, stop = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=target, args=(*args, ready, stop, 1)) for _ in range(n)]
    for p in procs:
        p.start()
    pids = [ready.get(timeout=120) for _ in procs]
    return procs, pids, stop


def stop_workers(procs, stop):
    stop.set()
    for p in procs:
        p.join(timeout=60)


def role_scrape_photon(n):
    import photon_metrics  # noqa: F401  (imported before the fork, as a pre-fork server does)

    port, d = free_port(), tempfile.mkdtemp(prefix="photon-scrape-")
    procs, pids, stop = start_workers(photon_worker, n, port, d)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                http_get(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        median, fastest, body = timed(lambda: http_get(port))
        series, total = counted(body, "photon_cache_hits_total")
        cpu = idle_cpu(pids)
        files = disk(d)
    finally:
        stop_workers(procs, stop)
        shutil.rmtree(d, ignore_errors=True)
    return {"median_ms": median, "min_ms": fastest, "series": series, "total": total,
            "bytes": len(body), "idle_cpu_pct": cpu, "disk": files}


def role_scrape_prom(n):
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    d = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    procs, pids, stop = start_workers(prom_worker, n)
    try:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        median, fastest, body = timed(lambda: generate_latest(registry).decode())
        series, total = counted(body, "cache_hits_total")
        cpu = idle_cpu(pids)
        files = disk(d)
    finally:
        stop_workers(procs, stop)
    return {"median_ms": median, "min_ms": fastest, "series": series, "total": total,
            "bytes": len(body), "idle_cpu_pct": cpu, "disk": files}


def photon_restart_worker(explicit):
    import photon_metrics as pm

    for i in range(SERIES):
        pm.record_cache_hit(pm.Target(f"t{i:04d}"))
    # A multiprocessing worker ends with os._exit, which runs no atexit
    # handler. photon_metrics registers a multiprocessing.util.Finalize at
    # the fork to publish then; the "hook" row relies on it alone, the other
    # publishes here as well (BENCHMARKS.md §18 says why both).
    if explicit:
        pm.publish_shared()


def prom_restart_worker(counter):
    for i in range(SERIES):
        counter.labels(f"t{i:04d}").inc()


def run_restarts(restarts, target, args=(), after_exit=None, parallel=4):
    """Returns (seconds, workers that hung: killed after 20 s)."""
    ctx = mp.get_context("fork")
    hung = 0
    t0 = time.perf_counter()
    for _ in range(0, restarts, parallel):
        batch = [ctx.Process(target=target, args=args) for _ in range(parallel)]
        for p in batch:
            p.start()
        for p in batch:
            p.join(timeout=20)
            if p.exitcode is None:
                hung += 1
                p.kill()
                p.join()
            else:
                assert p.exitcode == 0, p.exitcode
            if after_exit:
                after_exit(p.pid)
    return time.perf_counter() - t0 - 20 * hung, hung


def role_restarts_photon(restarts, explicit=True):
    import photon_metrics as pm

    # A long-lived process of the service (gunicorn --preload's master, or a
    # pool's parent) installs, then forks the workers: each child starts
    # with a zeroed store of its own.
    port, d = free_port(), tempfile.mkdtemp(prefix="photon-restarts-")
    pm.set_label_cap(pm.OpenLabel.TARGET, 1024)
    pm.install_exporter(f"127.0.0.1:{port}", shared_dir=d, process_metrics=False)
    try:
        seconds, hung = run_restarts(restarts, photon_restart_worker, (explicit,))
        before = disk(d)
        t0 = time.perf_counter()
        body = http_get(port, timeout=120)
        first = (time.perf_counter() - t0) * 1e3
        after = disk(d)
        # A publication is written to `.<pid>.tmp` and renamed; one cut off
        # by the worker's exit stays behind.
        leftover = sum(1 for n in os.listdir(d) if n.startswith(".") and n.endswith(".tmp"))
        median, _, body = timed(lambda: http_get(port))
        series, total = counted(body, "photon_cache_hits_total")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {"seconds": seconds, "hung": hung, "disk_before_scrape": before, "first_scrape_ms": first,
            "disk": after, "tmp_left": leftover, "scrape_ms": median, "series": series, "total": total}


def role_restarts_prom(restarts):
    from prometheus_client import CollectorRegistry, Counter, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

    d = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    counter = Counter("cache_hits", "h", ["target"])  # at import, as an app does
    # mark_process_dead is what its docs have gunicorn's child_exit call.
    seconds, hung = run_restarts(restarts, prom_restart_worker, (counter,), after_exit=mark_process_dead)
    after = disk(d)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    t0 = time.perf_counter()
    generate_latest(registry)
    first = (time.perf_counter() - t0) * 1e3
    median, _, body = timed(lambda: generate_latest(registry).decode(), n=3)
    series, total = counted(body, "cache_hits_total")
    return {"seconds": seconds, "hung": hung, "disk_before_scrape": after, "first_scrape_ms": first,
            "disk": after, "scrape_ms": median, "series": series, "total": total}


ROLES = {
    "record-photon": lambda a: role_record_photon(shared=True),
    "record-photon-single": lambda a: role_record_photon(shared=False),
    "record-prom": lambda a: role_record_prom(),
    "record-prom-single": lambda a: role_record_prom(),
    "scrape-photon": lambda a: role_scrape_photon(a.n),
    "scrape-prom": lambda a: role_scrape_prom(a.n),
    "restarts-photon": lambda a: role_restarts_photon(a.n),
    "restarts-photon-hook": lambda a: role_restarts_photon(a.n, explicit=False),
    "restarts-prom": lambda a: role_restarts_prom(a.n),
}


def run_role(role, n=0):
    """Runs a role in a fresh interpreter (prometheus_client's multiprocess
    roles with a fresh PROMETHEUS_MULTIPROC_DIR); returns its JSON."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir", "PHOTON_METRICS_SHARED_DIR")}
    d = None
    if role.endswith("-prom"):
        d = tempfile.mkdtemp(prefix="prom-multiproc-")
        env["PROMETHEUS_MULTIPROC_DIR"] = d
    try:
        out = subprocess.run([sys.executable, HERE, "--role", role, "--n", str(n)],
                             env=env, check=True, capture_output=True, text=True)
    finally:
        if d:
            shutil.rmtree(d, ignore_errors=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- report


def kib(n):
    return f"{n / 1024:,.0f} KiB" if n < 10 * 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MiB"


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    from importlib.metadata import version

    return (f"{os.cpu_count()} vCPU {cpu}, {mem:.0f} GiB, Linux {platform.release()}, "
            f"Python {platform.python_version()}, photon_metrics {version('photon_metrics')}, "
            f"prometheus_client {version('prometheus_client')}")


FEATURES = [
    ("Exemplars", "kept across processes: the newest of each bucket (recorded from Rust; "
     "the Python API records none)", "no (`TODO: Implement exemplars for multiprocess mode`)"),
    ("Native histograms", "merged bucket by bucket (schema 3 on the catalog's latency histograms), "
     "served as protobuf", "no (classic buckets only)"),
    ("Remove / retire a series", "`retire()` in any process retires the value in every process "
     "(a log in the directory) and drops it from the exited processes' totals",
     "no: `remove()` warns \"not implemented in multi-process mode\", the series stays"),
    ("Gauge modes", "per family, declared in Rust (`family!` merge = sum of live (default), max, "
     "min, last, per process); Python uses the catalog's",
     "per gauge: all, liveall, min, livemin, max, livemax, sum, livesum, mostrecent, livemostrecent"),
    ("Dead workers' files", "folded into one `exited` file at the next scrape; a killed worker's "
     "last publication is kept", "one file per pid and kind forever (`mark_process_dead` removes "
     "only live-gauge files); wipe the directory between runs"),
    ("Records lost at SIGKILL", "since the last publication (≤ 1 s; a scrape makes every worker publish)",
     "none (every record is written to the mmap)"),
    ("Who serves /metrics", "one worker (a lock; another takes over if it dies)",
     "the application: any process runs the collector over the directory"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=sorted(ROLES))
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--workers", default="4,64", help="worker counts for the scrape rows")
    ap.add_argument("--restarts", type=int, default=1000)
    args = ap.parse_args()
    if args.role:
        print(json.dumps(ROLES[args.role](args)))
        return

    print(f"Machine: {machine()}\n", flush=True)

    rp, rps = run_role("record-photon"), run_role("record-photon-single")
    rq, rqs = run_role("record-prom"), run_role("record-prom-single")
    print("### (i) Record cost, ns a call (timeit, best of 7)\n")
    print("| call | photon, shared dir | photon, one process | prometheus_client multiprocess | prometheus_client, one process |")
    print("|---|---:|---:|---:|---:|")
    print(f"| counter inc, labels resolved beforehand | {rp['counter']:.1f} | {rps['counter']:.1f} | "
          f"{rq['counter']:.1f} | {rqs['counter']:.1f} |")
    print(f"| counter `labels(...).inc()` | — | — | {rq['counter_labels']:.1f} | {rqs['counter_labels']:.1f} |")
    print(f"| histogram observe, labels resolved beforehand | {rp['histogram']:.1f} | {rps['histogram']:.1f} | "
          f"{rq['histogram']:.1f} | {rqs['histogram']:.1f} |")
    print(f"| histogram `labels(...).observe()` | — | — | {rq['histogram_labels']:.1f} | {rqs['histogram_labels']:.1f} |")
    print("\n(photon's helpers take interned label objects on every call: "
          "`pm.record_compilation(t, s, m)`, `pm.observe_inference_latency(dt, 0.003)`)\n", flush=True)

    print(f"### (ii) Scrape of the whole service, {SERIES:,} counter series per worker "
          f"(median of {SCRAPES}, after one warm-up)\n")
    print("| workers | system | scrape median | fastest | series served | sum checked | body | idle CPU of the workers | files in the directory |")
    print("|---:|---|---:|---:|---:|---|---:|---:|---:|")
    for n in (int(x) for x in args.workers.split(",")):
        for name, role in (("photon (HTTP GET)", "scrape-photon"),
                           ("prometheus_client (generate_latest)", "scrape-prom")):
            r = run_role(role, n)
            ok = ("yes" if r["series"] == SERIES and r["total"] == n * SERIES
                  else f"NO: {r['total']:,.0f} of {n * SERIES:,}")
            print(f"| {n} | {name} | {r['median_ms']:.1f} ms | {r['min_ms']:.1f} ms | {r['series']:,} | {ok} | "
                  f"{kib(r['bytes'])} | {r['idle_cpu_pct']:.1f} % | {r['disk'][0]} ({kib(r['disk'][2])}) |", flush=True)

    print(f"\n### (iii) After {args.restarts:,} worker restarts (4 at a time; each records "
          f"{SERIES:,} series and exits)\n")
    print("| system | run time | directory before a scrape | directory after a scrape | first scrape | next scrapes | sum checked |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, role in (("photon, `publish_shared()` at the worker's end", "restarts-photon"),
                       ("photon, the package's multiprocessing hook alone", "restarts-photon-hook"),
                       ("prometheus_client, `mark_process_dead` after each", "restarts-prom")):
        r = run_role(role, args.restarts)
        ok = ("yes" if r["series"] == SERIES and r["total"] == args.restarts * SERIES
              else f"NO: {r['total']:,.0f} of {args.restarts * SERIES:,}")
        if r["hung"]:
            ok += f"; {r['hung']} worker(s) hung and were killed after 20 s"
        b, a = r["disk_before_scrape"], r["disk"]
        tmp = f" ({r['tmp_left']} `.<pid>.tmp`)" if r.get("tmp_left") else ""
        print(f"| {name} | {r['seconds']:.1f} s | {b[0]:,} files, {kib(b[2])} | {a[0]:,} files{tmp}, {kib(a[2])} "
              f"| {r['first_scrape_ms']:.0f} ms | {r['scrape_ms']:.1f} ms | {ok} |", flush=True)

    print("\n### (iv) Features\n")
    print("| | photon shared directory | prometheus_client multiprocess |")
    print("|---|---|---|")
    for row in FEATURES:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")


if __name__ == "__main__":
    main()
