"""photon-metrics from Python: the same metric catalog, typed labels, caps and
/metrics endpoint as the Rust library (which records for it).

    import photon_metrics as pm

    port = pm.install_exporter("0.0.0.0:8080", {"service": "photon-runtime"})
    target, model = pm.Target("mzi-64x64"), pm.ModelType("resnet50")

    with pm.compile_timer(target, model, parameters=25_600_000):
        compile_model()          # an exception records status="error"

    @pm.instrument_compile(target, model, parameters=25_600_000)
    def lower(graph): ...       # counted, timed, classified on every call
"""

import functools
import inspect
import multiprocessing.util as _mp_util

from ._native import (  # noqa: F401  (the public API)
    CompileTimer,
    DeviceId,
    DeviceType,
    ErrorKind,
    ExporterError,
    Family,
    InferenceTimerContext,
    LabelError,
    LabelValue,
    Location,
    MemoryStat,
    ModelType,
    OpenLabel,
    Pass,
    PhotonError,
    Status,
    Target,
    compile_timer,
    inference_timer,
    install_exporter,
    publish_shared,
    observe_compilation_duration,
    observe_inference_latency,
    observe_pass_duration,
    record_cache_hit,
    record_cache_miss,
    record_compilation,
    record_compilation_error,
    record_ops,
    record_pass_failure,
    record_runtime_error,
    render,
    set_active_devices,
    set_active_sessions,
    set_calibration_drift,
    set_device_status,
    set_label_cap,
    set_label_idle_expiry,
    set_memory_limit,
    set_memory_usage,
    set_optical_power_mw,
    set_queue_depth,
    set_temperature_celsius,
    set_throughput,
)



class _PublishAtExit:
    """Kept alive at module level: multiprocessing holds after-fork hooks
    by a weak reference to an object."""


_PUBLISH_AT_EXIT = _PublishAtExit()


def _publish_at_multiprocessing_exit(_hook):
    # A multiprocessing worker ends with os._exit, which runs no atexit
    # handler; its finalizers run first (multiprocessing.util's exit
    # function), so one publishes the worker's records to the service's
    # shared directory (a no-op without one). Registered after the fork by
    # multiprocessing itself: it clears the finalizers it inherited, so one
    # registered by os.register_at_fork would be gone before the end.
    _mp_util.Finalize(None, publish_shared, exitpriority=0)


_mp_util.register_after_fork(_PUBLISH_AT_EXIT, _publish_at_multiprocessing_exit)


def instrument_compile(target, model_type, parameters=0):
    """Decorates a function as one compilation per call: a return records
    status="success", an exception records status="error" with error_kind =
    the exception's class name, and is re-raised; a cancelled coroutine
    (asyncio.CancelledError) records status="cancelled". Labels are checked
    when the decorator is applied.

    Coroutine functions are timed to their completion; generator and async
    generator functions from the first item to exhaustion (an exception
    raised mid-iteration is an error; closing the generator early records
    status="cancelled"), not just the creation of the generator."""
    if not isinstance(target, Target):
        raise TypeError(f"target must be a photon_metrics.Target, not {type(target).__name__}")
    if not isinstance(model_type, ModelType):
        raise TypeError(
            f"model_type must be a photon_metrics.ModelType, not {type(model_type).__name__}"
        )

    def timer():
        return compile_timer(target, model_type, parameters)

    def decorate(func):
        if inspect.isasyncgenfunction(func):

            # By hand, not `async for`: that would drop what asend() sends
            # and what athrow() throws.
            @functools.wraps(func)
            async def async_gen_wrapper(*args, **kwargs):
                with timer():
                    agen = func(*args, **kwargs)
                    try:
                        value = await agen.asend(None)
                    except StopAsyncIteration:
                        return
                    while True:
                        try:
                            sent = yield value
                        except GeneratorExit:
                            await agen.aclose()
                            raise
                        except BaseException as exc:  # thrown in by athrow()
                            step = agen.athrow(exc)
                        else:
                            step = agen.asend(sent)
                        try:
                            value = await step
                        except StopAsyncIteration:
                            return

            return async_gen_wrapper

        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                with timer():
                    # `yield from` forwards send(), throw() and close(), and
                    # the generator's return value.
                    return (yield from func(*args, **kwargs))

            return gen_wrapper

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args, **kwargs):
                with timer():
                    return await func(*args, **kwargs)

            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with timer():
                return func(*args, **kwargs)

        return wrapper

    return decorate
