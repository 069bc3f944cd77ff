"""One service, many processes, with a real gunicorn: four workers that all
call install_exporter on one address with one shared directory, one
/metrics for the whole service, scraped over HTTP and parsed by
prometheus_client's parser (not ours).

The app is tests/apps/gunicorn_app.py: each GET /compile records one
compilation and one duration and answers with the worker's pid."""

import collections
import http.client
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytest.importorskip(
    "gunicorn",
    reason="gunicorn is not installed (pip install gunicorn; .ci/run installs it): "
    "the shared-directory tests need a real pre-fork server",
)

APPS = pathlib.Path(__file__).parent / "apps"
WORKERS = 4
REQUESTS = 400
CLIENTS = 8
COMPILATIONS = 'photon_compilations_total{model_type="resnet50",status="success",target="mzi-64x64"}'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=5.0):
    """(status, body) of one GET on a connection of its own (no keep-alive)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def children(pid):
    """The direct children of `pid` (gunicorn's workers of its master)."""
    out = set()
    for task in pathlib.Path(f"/proc/{pid}/task").glob("*"):
        try:
            out.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return out


def alive(pid):
    """Running, not a zombie waiting to be reaped."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def listening_ports(pids):
    """{port: {pid, ...}} of the TCP sockets in LISTEN that these processes hold."""
    listening = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = pathlib.Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                listening[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    ports = {}
    for pid in pids:
        try:
            fds = list(pathlib.Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inode = link[len("socket:[") : -1]
                if inode in listening:
                    ports.setdefault(listening[inode], set()).add(pid)
    return ports


class Service:
    """A gunicorn master and its workers in a process group of their own."""

    def __init__(self, tmp_path, *, preload=False, via_env=False, args=()):
        self.app_port, self.metrics_port = free_port(), free_port()
        self.dir = tmp_path / "shared"
        self.log_path = tmp_path / "gunicorn.log"
        env = dict(os.environ)
        env.pop("PHOTON_METRICS_SHARED_DIR", None)
        env.pop("PHOTON_TEST_SHARED_DIR", None)
        env["PHOTON_TEST_METRICS_LISTEN"] = f"127.0.0.1:{self.metrics_port}"
        if via_env:
            env["PHOTON_METRICS_SHARED_DIR"] = str(self.dir)
        else:
            env["PHOTON_TEST_SHARED_DIR"] = str(self.dir)
        cmd = [
            sys.executable, "-m", "gunicorn",
            "--workers", str(WORKERS),
            "--bind", f"127.0.0.1:{self.app_port}",
            "--chdir", str(APPS),
            "--log-level", "info",
            *(["--preload"] if preload else []),
            *args,
            "gunicorn_app:app",
        ]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.master = self.proc.pid
        self.other_requests = collections.Counter()  # by pid, besides the load

    def stop(self):
        try:
            os.killpg(self.master, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self.log.close()

    def log_text(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def workers(self):
        return children(self.master)

    def wait_ready(self, timeout=20.0):
        """Until the app answers and /metrics answers."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"gunicorn exited:\n{self.log_text()}"
            try:
                status, body = get(self.app_port, "/ready", timeout=1)
                if status == 200:
                    # gunicorn counts it towards the worker's --max-requests.
                    self.other_requests[int(body)] += 1
                    if self.scrape_once(1):
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn not ready:\n{self.log_text()}"
            time.sleep(0.05)

    def scrape_once(self, timeout=5.0):
        status, body = get(self.metrics_port, "/metrics", timeout=timeout)
        assert status == 200
        return body

    def scrape(self, timeout=15.0):
        """The service's exposition, retried until the listener answers
        (a worker that took the listener over binds it a moment later)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.scrape_once()
            except OSError:
                assert time.monotonic() < deadline, f"/metrics never answered:\n{self.log_text()}"
                time.sleep(0.05)


@pytest.fixture
def start(tmp_path):
    started = []

    def start(**kwargs):
        service = Service(tmp_path, **kwargs)
        started.append(service)
        service.wait_ready()
        return service

    yield start
    for service in started:
        service.stop()


def samples(text):
    """{'name{label="v",...}': value} over every sample, labels sorted."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


def compiled(s):
    return {
        "compilations": s.get(COMPILATIONS, 0),
        "count": s.get('photon_compilation_duration_seconds_count{model_size="large",target="mzi-64x64"}', 0),
        "inf": s.get('photon_compilation_duration_seconds_bucket{le="+Inf",model_size="large",target="mzi-64x64"}', 0),
    }


def drive(port, n=REQUESTS, clients=CLIENTS, on_progress=None, path="/compile"):
    """n GETs of `path` from `clients` threads, one connection each.
    Returns [(pid or None, time answered)]: None for a request that failed."""
    results, lock, issued = [], threading.Lock(), [0]

    def client():
        while True:
            with lock:
                if issued[0] >= n:
                    return
                issued[0] += 1
            try:
                status, body = get(port, path, timeout=10)
                pid = int(body) if status == 200 else None
            except (OSError, http.client.HTTPException, ValueError):
                pid = None
            with lock:
                results.append((pid, time.monotonic()))
                done = len(results)
            if on_progress:
                on_progress(done)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def assert_one_listener(service, holder=None):
    """Only the app's port and the one given to install_exporter listen;
    with `holder`, only that process holds the /metrics socket."""
    pids = {service.master} | service.workers()
    ports = listening_ports(pids)
    assert set(ports) == {service.app_port, service.metrics_port}, ports
    if holder == "one worker":
        assert len(ports[service.metrics_port]) == 1 and service.master not in ports[service.metrics_port], ports
    # A worker whose install failed would have logged its ExporterError.
    assert "Address already in use" not in service.log_text()


def assert_whole_service(service, results):
    answered = [pid for pid, _ in results if pid is not None]
    assert len(answered) == REQUESTS, f"{REQUESTS - len(answered)} requests failed"
    s = samples(service.scrape())
    assert compiled(s) == {"compilations": REQUESTS, "count": REQUESTS, "inf": REQUESTS}
    # Gauges combine per family: the session gauge is the sum over live
    # workers (each answering worker set 1)...
    assert s["photon_active_sessions"] == len(set(answered))
    # ... and a device's temperature is the latest set, whichever worker set
    # it, as of the workers' publications (Merge::Last): each set here is
    # followed by a scrape, which makes every worker publish.
    for celsius in (20.5, 21.5, 22.5, 23.5, 24.5, 77.25):
        assert get(service.app_port, f"/temperature?c={celsius}")[0] == 200
        s = samples(service.scrape())
        assert s['photon_device_temperature_celsius{device_id="chip-0"}'] == celsius
    assert compiled(s)["compilations"] == REQUESTS


@pytest.mark.parametrize("via_env", [False, True], ids=["shared_dir", "env"])
def test_four_workers_serve_one_metrics_without_preload(start, via_env):
    service = start(via_env=via_env)
    results = drive(service.app_port)
    assert len({pid for pid, _ in results}) > 1, "one worker answered everything"
    assert_whole_service(service, results)
    assert_one_listener(service, holder="one worker")


def test_four_workers_serve_one_metrics_with_preload(start):
    service = start(preload=True, via_env=True)
    results = drive(service.app_port)
    assert service.master not in {pid for pid, _ in results}
    assert_whole_service(service, results)
    # The master installed, so it serves /metrics (its forked workers hold
    # copies of the listening socket they never accept on).
    assert_one_listener(service)
    assert service.master in listening_ports({service.master})[service.metrics_port]


def test_a_killed_worker_loses_at_most_what_it_answered_and_scrapes_never_go_back(start):
    service = start()
    # Kill the worker that serves /metrics: the others must take over.
    holders = listening_ports(service.workers()).get(service.metrics_port, set())
    assert len(holders) == 1, holders
    (victim,) = holders

    scraped, stop = [], threading.Event()

    def scraper():
        while not stop.is_set():
            try:
                scraped.append(compiled(samples(service.scrape_once(timeout=2)))["compilations"])
            except (OSError, http.client.HTTPException):
                pass  # between the kill and the takeover
            stop.wait(0.1)

    killed_at = []

    def on_progress(done):
        if done == REQUESTS // 2 and not killed_at:
            os.kill(victim, signal.SIGKILL)
            killed_at.append(time.monotonic())

    watcher = threading.Thread(target=scraper)
    watcher.start()
    try:
        # 20 ms of work a request: the load lasts about two seconds, long
        # enough for a scrape every 100 ms to see it grow.
        results = drive(service.app_port, on_progress=on_progress, path="/compile?ms=20")
    finally:
        stop.set()
        watcher.join()
    assert killed_at

    completed = sum(1 for pid, _ in results if pid is not None)
    by_victim = sum(1 for pid, _ in results if pid == victim)
    final = compiled(samples(service.scrape()))
    lost = completed - final["compilations"]
    # What the killed worker answered in the publication interval (1 s)
    # before its death: all a SIGKILL may take.
    last_interval = sum(1 for pid, t in results if pid == victim and t > killed_at[0] - 1.0)
    report = (
        f"completed {completed}, scraped {final}, answered by the killed worker {by_victim} "
        f"({last_interval} in its last second), lost {lost}, scrapes during the load {len(scraped)}"
    )
    print(report)
    assert len(scraped) >= 5, report
    assert all(a <= b for a, b in zip(scraped, scraped[1:])), f"a scrape went back: {scraped}"
    assert scraped[-1] <= final["compilations"], report
    assert final["compilations"] <= completed, report
    assert 0 <= lost <= by_victim, report
    assert lost <= last_interval, report
    assert final["count"] == final["inf"] and completed - by_victim <= final["count"] <= completed, report
    assert service.metrics_port in listening_ports(service.workers()), "nobody took /metrics over"
    assert "Address already in use" not in service.log_text()


@pytest.mark.parametrize("preload", [False, True], ids=["import_in_workers", "preload"])
def test_restarted_workers_are_all_counted_and_leave_no_files(start, preload):
    # With jitter 0 the four workers reach 20 requests together: for a
    # moment none of them runs (without --preload the master is not one of
    # the service's processes).
    service = start(preload=preload, args=["--max-requests", "20", "--max-requests-jitter", "0"])
    results = drive(service.app_port)
    answered = [pid for pid, _ in results if pid is not None]
    assert len(answered) == REQUESTS
    assert len(set(answered)) >= REQUESTS // 20, "workers were not restarted"
    # Until the workers that reached --max-requests are gone (reaped) and
    # their successors run: then a scrape folds every exited worker.
    served = collections.Counter(answered) + service.other_requests
    deadline = time.monotonic() + 15
    while True:
        workers = service.workers()
        running = {pid for pid in workers if alive(pid)}
        gone = all(not os.path.exists(f"/proc/{pid}") for pid, n in served.items() if n >= 20)
        if gone and running == workers and len(workers) == WORKERS:
            break
        assert time.monotonic() < deadline, f"workers did not settle: {sorted(workers)}"
        time.sleep(0.05)
    s = samples(service.scrape())
    assert compiled(s) == {"compilations": REQUESTS, "count": REQUESTS, "inf": REQUESTS}

    fixed = {"exited", "control", "fold.lock", "listener.lock"}

    def unexpected():
        names = {p.name for p in service.dir.iterdir()}
        live = {n for n in names if n.endswith(".live") and n[: -len(".live")].isdigit()}
        dead = {n for n in live if not alive(int(n[: -len(".live")]))}
        return names - live - fixed, dead, names

    # A publication writes `.<pid>.tmp` and renames it at once; a file still
    # there a moment later is a leak.
    first_other, first_dead, _ = unexpected()
    if first_other or first_dead:
        time.sleep(0.3)
    other, dead, names = unexpected()
    assert not (first_other & other), f"unexpected files: {sorted(names)}"
    assert not (first_dead & dead), f"files of dead processes: {sorted(dead)}"
    assert fixed <= names, sorted(names)
    assert "Address already in use" not in service.log_text()
