"""One service, many processes, with a multiprocessing pool: workers forked
after install_exporter(shared_dir=...) record and end with os._exit, as
multiprocessing's workers do, which runs no atexit handler. The package's
multiprocessing hook publishes each worker's records first, so the parent's
/metrics counts every one. Run in a process of its own: pytest's process
installed its exporter already."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import multiprocessing, sys
    import photon_metrics as pm
    from prometheus_client.parser import text_string_to_metric_families

    pm.install_exporter(None, shared_dir=sys.argv[1], process_metrics=False)

    def compile_many(n):
        target, model = pm.Target("mzi-64x64"), pm.ModelType("resnet50")
        for _ in range(n):
            pm.record_compilation(target, pm.Status.SUCCESS, model)
        return n

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(4, maxtasksperchild=2) as pool:
            done = sum(pool.map(compile_many, [250] * 16))
            pool.close()
            pool.join()
        total = 0
        for family in text_string_to_metric_families(pm.render()):
            for s in family.samples:
                if s.name == "photon_compilations_total" and s.labels.get("model_type") == "resnet50":
                    total += s.value
        print(done, int(total))
    """
)


def test_a_multiprocessing_pool_is_counted_whole(tmp_path):
    script = tmp_path / "pool.py"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "shared")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    done, scraped = map(int, out.stdout.split())
    assert done == 4000
    # Eight worker processes came and went (two tasks each), all through
    # os._exit: every record is there, once.
    assert scraped == 4000, out.stderr
