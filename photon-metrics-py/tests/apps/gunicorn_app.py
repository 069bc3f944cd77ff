"""A WSGI app as a user writes one for gunicorn: the exporter is installed at
import, so every worker (or, with --preload, the master before it forks)
joins the service the shared directory names.

The tests set PHOTON_TEST_METRICS_LISTEN (photon's /metrics address, the same
for every worker) and either PHOTON_TEST_SHARED_DIR (passed as shared_dir=)
or PHOTON_METRICS_SHARED_DIR (read by install_exporter itself).

GET /compile?ms=20 works 20 ms and records one compilation and its duration
(and, on a worker's first, sets its session gauge to 1); GET /temperature?c=21.5 sets a device's
temperature; any other path records nothing. Every answer's body is the
worker's pid, so a test can count what each worker answered.
"""

import os
import time
from urllib.parse import parse_qs

import photon_metrics as pm

_listen = os.environ["PHOTON_TEST_METRICS_LISTEN"]
_shared_dir = os.environ.get("PHOTON_TEST_SHARED_DIR")
if _shared_dir:
    pm.install_exporter(_listen, shared_dir=_shared_dir)
else:
    pm.install_exporter(_listen)  # PHOTON_METRICS_SHARED_DIR names the directory

TARGET, MODEL = pm.Target("mzi-64x64"), pm.ModelType("resnet50")
DEVICE = pm.DeviceId("chip-0")
PARAMETERS = 25_600_000

# The pid that set its session gauge: with --preload a worker starts with
# the master's globals, so the pid, not a flag, tells a worker's first call.
_session_pid = None


def app(environ, start_response):
    global _session_pid
    path = environ.get("PATH_INFO")
    if path == "/compile":
        if _session_pid != os.getpid():
            pm.set_active_sessions(1)  # one per worker: the service serves the sum
            _session_pid = os.getpid()
        start = time.perf_counter()
        work_ms = parse_qs(environ.get("QUERY_STRING", "")).get("ms")
        if work_ms:
            time.sleep(float(work_ms[0]) / 1000)  # the compilation's work
        pm.record_compilation(TARGET, pm.Status.SUCCESS, MODEL)
        pm.observe_compilation_duration(TARGET, PARAMETERS, time.perf_counter() - start)
    elif path == "/temperature":
        celsius = float(parse_qs(environ.get("QUERY_STRING", ""))["c"][0])
        pm.set_temperature_celsius(DEVICE, celsius)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
