"""photon_metrics from Python against a real scrape of /metrics, parsed by
prometheus_client's own parser (not ours)."""

import asyncio
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import photon_metrics as pm

PORT = None


def setup_module():
    global PORT
    # At start-up, as an application would: before any location exists.
    pm.set_label_cap(pm.OpenLabel.LOCATION, 3)
    # Room for the large exposition of the GIL test.
    pm.set_label_cap(pm.OpenLabel.DEVICE_ID, 4096)
    PORT = pm.install_exporter("127.0.0.1:0", {"service": "pytest"})


def scrape():
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=5) as response:
        assert response.status == 200
        return response.read().decode()


def sample(name, **labels):
    """The value of the one sample `name` with these labels, or None."""
    for family in text_string_to_metric_families(scrape()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def test_exporter_serves_the_catalog_with_global_labels():
    text = scrape()
    assert "# TYPE photon_compilations_total counter" in text
    assert "# HELP photon_inference_latency_seconds" in text
    # Families without open labels are present at once, with the global label.
    assert sample("photon_queue_depth", service="pytest") == 0


def test_a_second_install_and_a_busy_port_are_exporter_errors():
    with pytest.raises(pm.ExporterError, match="already installed"):
        pm.install_exporter("127.0.0.1:0")
    assert issubclass(pm.ExporterError, pm.PhotonError)


def test_bad_addresses_are_exporter_errors():
    with pytest.raises(pm.ExporterError):
        pm.install_exporter("nowhere")


def test_invalid_label_values_raise_label_error():
    with pytest.raises(pm.LabelError, match="target"):
        pm.Target("")
    with pytest.raises(pm.LabelError):
        pm.ModelType("x" * 129)
    with pytest.raises(TypeError):
        pm.record_cache_hit("mzi-64x64")  # a str is not a Target


def test_labels_are_interned_values():
    a, b = pm.Target("py-target"), pm.Target("py-target")
    assert a == b and hash(a) == hash(b) and str(a) == "py-target"
    assert repr(a) == 'Target("py-target")'
    assert not a.is_overflow


def test_record_helpers_reach_the_scrape():
    t, m = pm.Target("py-mzi"), pm.ModelType("bert")
    d, loc = pm.DeviceId("py-opu-1"), pm.Location("py-rack")
    for _ in range(3):
        pm.record_compilation(t, pm.Status.SUCCESS, m)
    pm.record_cache_hit(t)
    pm.set_device_status(d, pm.DeviceType.MZI, False)
    pm.set_temperature_celsius(d, 72.5)
    pm.set_active_devices(pm.DeviceType.PCM, loc, 4)
    pm.record_ops(pm.DeviceType.SIMULATOR, 500, 0.5)
    pm.set_memory_usage(t, pm.MemoryStat.PEAK, 1 << 30)
    assert sample("photon_compilations_total", target="py-mzi", status="success", model_type="bert", service="pytest") == 3
    assert sample("photon_cache_hits_total", target="py-mzi") == 1
    assert sample("photon_device_status", device_id="py-opu-1", device_type="mzi") == 0
    assert sample("photon_device_temperature_celsius", device_id="py-opu-1") == 72.5
    assert sample("photon_active_devices", device_type="pcm", location="py-rack") == 4
    assert sample("photon_inference_ops_total", device_type="simulator") == 500
    assert sample("photon_memory_usage_bytes", target="py-mzi", memory="peak") == 1 << 30


def test_pass_helpers_reach_the_scrape():
    p, t = pm.Pass("py-canonicalize"), pm.Target("py-mzi")
    for seconds in (0.001, 0.002, 0.004):
        pm.observe_pass_duration(p, t, seconds)
    pm.record_pass_failure(p, t)
    assert sample("photon_pass_duration_seconds_count", **{"pass": "py-canonicalize"}, target="py-mzi") == 3
    assert sample("photon_pass_duration_seconds_sum", **{"pass": "py-canonicalize"}, target="py-mzi") == pytest.approx(0.007)
    assert sample("photon_pass_failures_total", **{"pass": "py-canonicalize"}, target="py-mzi") == 1
    assert p.retire()
    # The scrape after a retirement serves the retired series once more,
    # with their final values; the one after lacks them.
    assert sample("photon_pass_failures_total", **{"pass": "py-canonicalize"}, target="py-mzi") == 1
    assert sample("photon_pass_failures_total", **{"pass": "py-canonicalize"}, target="py-mzi") is None


class LoweringError(Exception):
    pass


def test_compile_timer_classifies_return_and_exception():
    t, m = pm.Target("py-timer"), pm.ModelType("resnet50")
    with pm.compile_timer(t, m, parameters=25_600_000):
        pass
    with pytest.raises(LoweringError):  # never swallowed
        with pm.compile_timer(t, m, parameters=25_600_000):
            raise LoweringError("unsupported op")
    with pm.compile_timer(t, m, parameters=25_600_000) as timer:
        timer.fail(pm.ErrorKind("ShapeMismatch"))
    assert sample("photon_compilations_total", target="py-timer", status="success") == 1
    assert sample("photon_compilations_total", target="py-timer", status="error") == 2
    assert sample("photon_compilation_errors_total", target="py-timer", error_kind="LoweringError") == 1
    assert sample("photon_compilation_errors_total", target="py-timer", error_kind="ShapeMismatch") == 1
    assert sample("photon_compilation_duration_seconds_count", target="py-timer", model_size="large") == 3


def test_instrument_compile_decorates_sync_and_async_functions():
    t, m = pm.Target("py-decorated"), pm.ModelType("mlp")

    @pm.instrument_compile(t, m, parameters=1_000)
    def lower(fail):
        if fail:
            raise ValueError("bad graph")
        return "lowered"

    @pm.instrument_compile(t, m)
    async def lower_async(fail):
        await asyncio.sleep(0)
        if fail:
            raise KeyError("op")
        return "lowered"

    assert lower(False) == "lowered"
    assert lower.__name__ == "lower"
    with pytest.raises(ValueError):
        lower(True)
    assert asyncio.run(lower_async(False)) == "lowered"
    with pytest.raises(KeyError):
        asyncio.run(lower_async(True))
    assert sample("photon_compilations_total", target="py-decorated", status="success") == 2
    assert sample("photon_compilations_total", target="py-decorated", status="error") == 2
    assert sample("photon_compilation_errors_total", target="py-decorated", error_kind="ValueError") == 1
    assert sample("photon_compilation_errors_total", target="py-decorated", error_kind="KeyError") == 1
    with pytest.raises(TypeError):
        pm.instrument_compile("py-decorated", m)


def test_inference_timer_records_latency_or_an_error():
    with pm.inference_timer(pm.DeviceType.HYBRID, ops=64):
        pass
    with pytest.raises(RuntimeError):
        with pm.inference_timer(pm.DeviceType.HYBRID, ops=64):
            raise RuntimeError("device lost")
    # A failed call still took time: both are observed; only the success counts ops.
    assert sample("photon_inference_latency_seconds_count", device_type="hybrid") == 2
    assert sample("photon_inference_ops_total", device_type="hybrid") == 64
    assert sample("photon_runtime_errors_total", error_kind="RuntimeError") == 1


def test_render_matches_the_format_and_openmetrics_ends_with_eof():
    assert "photon_compilations_total" in pm.render()
    assert pm.render(openmetrics=True).endswith("# EOF\n")


def test_the_port_is_really_in_use():
    with socket.socket() as s:
        with pytest.raises(OSError):
            s.bind(("127.0.0.1", PORT))


def test_label_caps_fold_new_values_into_overflow():
    with pytest.raises(pm.LabelError, match="4096"):
        pm.set_label_cap(pm.OpenLabel.TARGET, 0)
    # The cap of 3 was set in setup_module; py-rack (another test) may hold one slot.
    values = [pm.Location(f"cap-rack-{i}") for i in range(5)]
    assert values[-1].is_overflow and str(values[-1]) == "__overflow__"
    with pytest.raises(pm.LabelError, match="location"):
        pm.set_label_cap(pm.OpenLabel.LOCATION, 8)  # frozen by the first value
    assert sample("photon_metrics_label_overflow_total", label="location") >= 2


def test_the_type_stub_names_what_the_module_has():
    import ast
    import pathlib

    from photon_metrics import _native

    stub = pathlib.Path(pm.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    declared = {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")
    }
    exported = {name for name in dir(_native) if not name.startswith("_")}
    assert declared == exported


def stalls_of_another_thread(work, calls=10):
    """Calls `work()` `calls` times while another Python thread spins; for
    each call, returns its duration and the longest stretch of it in which
    the other thread could not run (a call that holds the GIL stalls it
    throughout)."""
    stop = threading.Event()
    gaps = []  # (start, end) of every stretch the spinning thread missed

    def spin():
        last = time.perf_counter()
        while not stop.is_set():
            now = time.perf_counter()
            if now - last > 0.002:
                gaps.append((last, now))
            last = now

    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        time.sleep(0.05)
        windows = []
        for _ in range(calls):
            start = time.perf_counter()
            work()
            windows.append((start, time.perf_counter()))
    finally:
        stop.set()
        spinner.join()
        sys.setswitchinterval(previous)
    return [
        (end - start, max([min(end, g1) - max(start, g0) for g0, g1 in gaps] + [0.0]))
        for start, end in windows
    ]


def test_rendering_a_large_exposition_lets_other_threads_run():
    for i in range(4000):
        d = pm.DeviceId(f"gil-opu-{i:04}")
        pm.set_temperature_celsius(d, 40.0 + i % 7)
        pm.set_optical_power_mw(d, 1.5)
        pm.set_calibration_drift(d, 0.01)
        pm.set_device_status(d, pm.DeviceType.MZI, True)
    calls = stalls_of_another_thread(lambda: pm.render(openmetrics=True))
    assert min(d for d, _ in calls) > 0.005, f"the exposition renders too fast to tell: {calls}"
    # Holding the GIL, every render stalls the other thread for nearly all of
    # its duration; without it, only a busy machine can (so: most, not all).
    stalled = [(round(d, 4), round(s, 4)) for d, s in calls if s > d / 2]
    assert len(stalled) <= len(calls) // 4, f"(duration, stall) of stalling renders: {stalled}"


# Run in a user, network and mount namespace of its own: /etc/resolv.conf
# names a DNS server on that namespace's loopback that never answers, so
# resolving the listen address takes the resolver's timeout (1 s).
SLOW_RESOLUTION = """
import json, socket, sys
sys.path.insert(0, sys.argv[1])
import test_photon_metrics as t
import photon_metrics as pm
dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dns.bind(("127.0.0.1", 53))  # receives the query, never answers

def install():
    try:
        pm.install_exporter("slow-resolve.photon.invalid:0")
    except pm.ExporterError as e:
        assert "slow-resolve" in str(e), e

print(json.dumps(t.stalls_of_another_thread(install, calls=1)))
"""


def test_resolving_the_listen_address_lets_other_threads_run():
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2) for a private resolver")
    with tempfile.TemporaryDirectory() as tmp:
        resolv = pathlib.Path(tmp, "resolv.conf")
        resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        script = pathlib.Path(tmp, "slow_resolution.py")
        script.write_text(SLOW_RESOLUTION)
        tests = os.path.dirname(os.path.abspath(__file__))
        shell = (
            f"ip link set lo up && mount --bind {resolv} /etc/resolv.conf && "
            f"exec {sys.executable} {script} {tests}"
        )
        run = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--net", "--mount", "sh", "-c", shell],
            capture_output=True,
            text=True,
            timeout=60,
        )
    if run.returncode != 0 and "unshare" in run.stderr and "Operation not permitted" in run.stderr:
        pytest.skip(f"user namespaces are not available here: {run.stderr.strip()}")
    assert run.returncode == 0, run.stderr
    [(duration, stall)] = json.loads(run.stdout.strip().splitlines()[-1])
    assert duration > 0.5, f"the resolver did not wait ({duration:.3f} s): nothing to tell"
    assert stall < duration / 2, f"stalled {stall:.3f} s of a {duration:.3f} s install"


def test_a_cancelled_task_records_cancelled_not_an_error():
    t, m = pm.Target("py-cancelled"), pm.ModelType("mlp")

    @pm.instrument_compile(t, m)
    async def lower():
        await asyncio.sleep(10)

    async def scenario():
        task = asyncio.create_task(lower())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # A timeout cancels the inner work too.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(lower(), timeout=0.01)
        with pytest.raises(asyncio.CancelledError):
            with pm.inference_timer(pm.DeviceType.SIMULATOR, ops=5):
                raise asyncio.CancelledError()

    asyncio.run(scenario())
    assert sample("photon_compilations_total", target="py-cancelled", status="cancelled") == 2
    assert sample("photon_compilations_total", target="py-cancelled", status="error") is None
    assert sample("photon_compilation_errors_total", target="py-cancelled") is None
    # As in Rust: a cancelled inference records no latency, no ops and no error.
    assert sample("photon_runtime_errors_total", error_kind="CancelledError") is None
    assert sample("photon_inference_latency_seconds_count", device_type="simulator") in (None, 0)


def test_a_generator_function_is_timed_over_its_consumption():
    t, m = pm.Target("py-generator"), pm.ModelType("mlp")

    @pm.instrument_compile(t, m)
    def passes(n):
        for i in range(n):
            time.sleep(0.05)
            received = yield i
            if received is not None:
                yield f"got {received}"
        return "done"

    gen = passes(3)
    assert passes.__name__ == "passes"
    assert sample("photon_compilation_duration_seconds_count", target="py-generator") is None
    assert next(gen) == 0
    assert gen.send("x") == "got x"  # send() reaches the generator
    assert list(gen) == [1, 2]
    assert sample("photon_compilations_total", target="py-generator", status="success") == 1
    assert sample("photon_compilation_duration_seconds_sum", target="py-generator") >= 0.15

    @pm.instrument_compile(pm.Target("py-generator-failing"), m)
    def failing():
        yield 1
        raise LoweringError("mid-iteration")

    with pytest.raises(LoweringError):
        list(failing())
    assert (
        sample("photon_compilation_errors_total", target="py-generator-failing", error_kind="LoweringError")
        == 1
    )
    # Abandoned before its end: cancelled, as a dropped Rust future.
    abandoned = passes(3)
    next(abandoned)
    abandoned.close()
    assert sample("photon_compilations_total", target="py-generator", status="cancelled") == 1


def test_an_async_generator_function_is_timed_over_its_consumption():
    t, m = pm.Target("py-async-generator"), pm.ModelType("mlp")

    @pm.instrument_compile(t, m)
    async def stream(n):
        for i in range(n):
            await asyncio.sleep(0.05)
            received = yield i
            if received is not None:
                yield f"got {received}"

    @pm.instrument_compile(pm.Target("py-async-generator-failing"), m)
    async def failing():
        yield 1
        raise LoweringError("mid-iteration")

    async def scenario():
        agen = stream(3)
        assert sample("photon_compilation_duration_seconds_count", target="py-async-generator") is None
        assert await agen.__anext__() == 0
        assert await agen.asend("x") == "got x"  # asend() reaches the generator
        assert [i async for i in agen] == [1, 2]
        with pytest.raises(LoweringError):
            async for _ in failing():
                pass

    asyncio.run(scenario())
    assert sample("photon_compilations_total", target="py-async-generator", status="success") == 1
    assert sample("photon_compilation_duration_seconds_sum", target="py-async-generator") >= 0.15
    assert (
        sample(
            "photon_compilation_errors_total",
            target="py-async-generator-failing",
            error_kind="LoweringError",
        )
        == 1
    )


def test_retiring_a_device_removes_its_series_and_old_copies_record_nothing():
    d = pm.DeviceId("py-retired")
    pm.set_device_status(d, pm.DeviceType.MZI, False)
    assert sample("photon_device_status", device_id="py-retired") == 0
    copy = d
    assert d.retire() is True
    assert copy.retire() is False  # nothing left to retire
    assert not copy.is_live and str(copy) == "__retired__"
    pm.set_temperature_celsius(copy, 90.0)  # records nothing
    # The scrape after a retirement serves the retired series once more,
    # with their final values; the one after lacks them.
    assert sample("photon_device_status", device_id="py-retired") == 0
    assert 'device_id="py-retired"' not in scrape()
    assert sample("photon_metrics_stale_records_total", label="device_id") >= 1
    again = pm.DeviceId("py-retired")
    assert again.is_live and again != copy
    pm.set_label_idle_expiry(pm.OpenLabel.ERROR_KIND, 3600.0)
    pm.set_label_idle_expiry(pm.OpenLabel.ERROR_KIND, None)
    with pytest.raises(pm.LabelError, match="idle expiry"):
        pm.set_label_idle_expiry(pm.OpenLabel.ERROR_KIND, -1.0)


def test_every_family_of_the_catalog_is_reachable_by_name():
    # What keeps the Python side from drifting: every family the exporter
    # serves is a Family here, with the kind and labels it is served with.
    families = {f.name: f for f in text_string_to_metric_families(scrape())}
    names = pm.Family.names()
    served = {n for n in families if n.startswith("photon_")}
    for name in served:
        # prometheus_client names counters without `_total`.
        assert name in names or name + "_total" in names, name
    for name in names:
        f = pm.Family(name)
        assert f.name == name
        assert f.kind in ("counter", "gauge", "histogram")
        assert f.help
        assert repr(f) == f"Family({name!r})"


def test_a_family_by_name_records_with_typed_labels():
    passes = pm.Family("photon_pass_duration_seconds")
    assert passes.kind == "histogram"
    assert passes.labels == ["pass", "target"]
    p, t = pm.Pass("py-family-cse"), pm.Target("py-family-mzi")
    passes.observe((p, t), 0.002)
    passes.observe((p, t), 0.004)
    labels = {"pass": "py-family-cse", "target": "py-family-mzi"}
    assert sample("photon_pass_duration_seconds_count", **labels) == 2
    compilations = pm.Family("photon_compilations_total")
    compilations.inc((t, pm.Status.CANCELLED, pm.ModelType("py-family-model")), 3)
    assert sample("photon_compilations_total", target="py-family-mzi", status="cancelled", model_type="py-family-model") == 3
    depth = pm.Family("photon_queue_depth")
    depth.set((), 5)
    depth.add((), -2)
    assert sample("photon_queue_depth") == 3
    # Wrong labels are refused before anything is recorded.
    with pytest.raises(TypeError, match="label 1 is pass, not target"):
        passes.observe((t, p), 1.0)
    with pytest.raises(ValueError, match="takes 2 label values"):
        passes.observe((p,), 1.0)
    with pytest.raises(TypeError, match="not a label value"):
        passes.observe(("cse", t), 1.0)
    with pytest.raises(pm.PhotonError, match="is a histogram"):
        passes.inc((p, t))
    with pytest.raises(KeyError, match="no family"):
        pm.Family("photon_no_such_family_total")
    assert sample("photon_pass_duration_seconds_count", **labels) == 2
    assert p.retire()


def test_any_label_by_its_name_records_through_family():
    # A label added to the catalog (or declared by the Rust side) needs no
    # class of its own: LabelValue makes its values by the label's name.
    by_name = pm.LabelValue("pass", "py-by-name")
    t = pm.Target("py-by-name-mzi")
    passes = pm.Family("photon_pass_duration_seconds")
    passes.observe((by_name, t), 0.5)
    labels = {"pass": "py-by-name", "target": "py-by-name-mzi"}
    assert sample("photon_pass_duration_seconds_count", **labels) == 1
    status = pm.LabelValue("status", "error")
    assert status.label == "status" and str(status) == "error"
    compilations = pm.Family("photon_compilations_total")
    compilations.inc((t, status, pm.LabelValue("model_type", "py-by-name-model")))
    assert sample("photon_compilations_total", target="py-by-name-mzi", status="error", model_type="py-by-name-model") == 1
    with pytest.raises(TypeError, match="label 1 is pass, not status"):
        passes.observe((status, t), 1.0)
    with pytest.raises(KeyError, match="no registered family has a label"):
        pm.LabelValue("no_such_label", "x")
    with pytest.raises(pm.LabelError, match="exploded"):
        pm.LabelValue("status", "exploded")
    assert str(by_name) == "py-by-name"
    assert by_name.retire() and not by_name.retire()
    assert str(by_name) == "__retired__"
    assert not status.retire()
