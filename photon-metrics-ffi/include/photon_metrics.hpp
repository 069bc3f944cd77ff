// photon_metrics.hpp: the photon-metrics catalog from C++17, header-only,
// over the C ABI in photon_metrics.h (link libphoton_metrics_ffi.a).
//
//   photon::exporter::install("0.0.0.0:8080", {{"service", "mlir-passes"}});
//   const auto target = photon::Target::make("mzi-64x64");      // throws photon::LabelError
//   const auto model = photon::ModelType::make("resnet50");
//   {
//       photon::CompileTimer timer(target, model, 25'600'000, "lower-to-photonic");
//       run_pass();          // an exception leaving the scope records status="error"
//   }                        // a normal exit records status="success"
//
// Label values are interned once into handles (cheap to copy, no strings on
// the hot path). Record helpers are noexcept: with handles made by this
// header they cannot fail. Errors of the calls that can fail are exceptions
// (photon::Error, photon::LabelError), or photon::Result from the try_
// variants when exceptions are off the table.
#ifndef PHOTON_METRICS_HPP
#define PHOTON_METRICS_HPP

#include "photon_metrics.h"

#include <cstdint>
#include <exception>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace photon {

/// A failed photon call: the code and the library's message.
class Error : public std::runtime_error {
public:
    Error(PhotonCode code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    PhotonCode code() const noexcept { return code_; }

private:
    PhotonCode code_;
};

/// An invalid label value (empty, or longer than 128 bytes).
class LabelError : public Error {
public:
    using Error::Error;
};

/// No family has the name a photon::Family was constructed with
/// (code PHOTON_ERR_UNKNOWN_FAMILY).
class UnknownFamilyError : public Error {
public:
    using Error::Error;
};

namespace detail {
inline std::string last_message(PhotonCode code) {
    return std::string(photon_code_name(code)) + ": " + photon_last_error_message();
}

inline void check(PhotonCode code) {
    if (code == PHOTON_OK) return;
    if (code == PHOTON_ERR_INVALID_LABEL) throw LabelError(code, last_message(code));
    if (code == PHOTON_ERR_UNKNOWN_FAMILY) throw UnknownFamilyError(code, last_message(code));
    throw Error(code, last_message(code));
}
}  // namespace detail

/// An expected-style result for code that does not use exceptions.
template <class T>
class Result {
public:
    static Result ok(T value) { return Result(std::move(value), PHOTON_OK, {}); }
    static Result error(PhotonCode code) {
        return Result(T{}, code, detail::last_message(code));
    }
    explicit operator bool() const noexcept { return code_ == PHOTON_OK; }
    const T& value() const {
        if (code_ != PHOTON_OK) detail::check(code_);
        return value_;
    }
    PhotonCode code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }

private:
    Result(T value, PhotonCode code, std::string message)
        : value_(std::move(value)), code_(code), message_(std::move(message)) {}
    T value_;
    PhotonCode code_;
    std::string message_;
};

#define PHOTON_OPEN_LABEL(Name, Handle, new_fn, retire_fn)                           \
    /** An interned open label value. */                                              \
    class Name {                                                                      \
    public:                                                                           \
        Name() noexcept : handle_{0} {}                                               \
        /** Validates and interns `value`; throws LabelError. */                     \
        static Name make(std::string_view value) {                                    \
            Name out;                                                                 \
            detail::check(new_fn(value.data(), value.size(), &out.handle_));          \
            return out;                                                               \
        }                                                                             \
        /** As make(), without exceptions. */                                         \
        static Result<Name> try_make(std::string_view value) noexcept {               \
            Name out;                                                                 \
            const PhotonCode code = new_fn(value.data(), value.size(), &out.handle_); \
            if (code != PHOTON_OK) return Result<Name>::error(code);                  \
            return Result<Name>::ok(out);                                             \
        }                                                                             \
        Handle handle() const noexcept { return handle_; }                            \
        /** Whether the label's cap folded this value into __overflow__. */           \
        bool is_overflow() const noexcept { return handle_.slot == 0; }              \
        /** Retires the value: its series leave every family and its slot is   */    \
        /** freed. false: nothing to retire (already retired, __overflow__).   */    \
        /** Copies kept afterwards record nothing. Throws Error on a bad handle. */  \
        bool retire() const {                                                         \
            bool retired = false;                                                     \
            detail::check(retire_fn(handle_, &retired));                              \
            return retired;                                                           \
        }                                                                             \
                                                                                      \
    private:                                                                          \
        Handle handle_;                                                               \
    };

PHOTON_OPEN_LABEL(Target, PhotonTarget, photon_target_new, photon_target_retire)
PHOTON_OPEN_LABEL(ModelType, PhotonModelType, photon_model_type_new, photon_model_type_retire)
PHOTON_OPEN_LABEL(ErrorKind, PhotonErrorKind, photon_error_kind_new, photon_error_kind_retire)
PHOTON_OPEN_LABEL(DeviceId, PhotonDeviceId, photon_device_id_new, photon_device_id_retire)
PHOTON_OPEN_LABEL(Location, PhotonLocation, photon_location_new, photon_location_retire)
PHOTON_OPEN_LABEL(Pass, PhotonPass, photon_pass_new, photon_pass_retire)
#undef PHOTON_OPEN_LABEL

/// A compilation's outcome (`status`).
enum class Status : PhotonStatus {
    Success = PHOTON_STATUS_SUCCESS,
    Error = PHOTON_STATUS_ERROR,
    Panic = PHOTON_STATUS_PANIC,
    Cancelled = PHOTON_STATUS_CANCELLED,
};

/// The device technology (`device_type`).
enum class DeviceType : PhotonDeviceType {
    Mzi = PHOTON_DEVICE_TYPE_MZI,
    Microring = PHOTON_DEVICE_TYPE_MICRORING,
    Pcm = PHOTON_DEVICE_TYPE_PCM,
    Hybrid = PHOTON_DEVICE_TYPE_HYBRID,
    Simulator = PHOTON_DEVICE_TYPE_SIMULATOR,
};

/// Which memory figure (`memory`).
enum class MemoryStat : PhotonMemoryStat {
    Current = PHOTON_MEMORY_CURRENT,
    Peak = PHOTON_MEMORY_PEAK,
};

/// An open label, for set_label_cap().
enum class OpenLabel : PhotonOpenLabel {
    Target = PHOTON_LABEL_TARGET,
    ModelType = PHOTON_LABEL_MODEL_TYPE,
    ErrorKind = PHOTON_LABEL_ERROR_KIND,
    DeviceId = PHOTON_LABEL_DEVICE_ID,
    Location = PHOTON_LABEL_LOCATION,
    Pass = PHOTON_LABEL_PASS,
};

/// Sets how many distinct values `label` keeps before new ones become
/// __overflow__. At start-up, before the label's first value; throws Error
/// (PHOTON_ERR_INVALID_CONFIG) once the cap is frozen or out of 1..=4096.
inline void set_label_cap(OpenLabel label, std::size_t cap) {
    detail::check(photon_set_label_cap(static_cast<PhotonOpenLabel>(label), cap));
}

/// Retires values of `label` that went `millis` milliseconds without a
/// record (0: never; default 24 h for model_type, never for the others),
/// checked at each scrape.
inline void set_label_idle_expiry(OpenLabel label, std::uint64_t millis) {
    detail::check(photon_set_label_idle_expiry(static_cast<PhotonOpenLabel>(label), millis));
}

namespace exporter {
/// Installs the exporter and serves /metrics on `listen` (nullptr:
/// 0.0.0.0:8080, "": no listener, port 0: any free port). Throws Error
/// (PHOTON_ERR_BIND when the port is in use).
inline void install(const char* listen = nullptr,
                    std::initializer_list<std::pair<std::string, std::string>> labels = {}) {
    std::vector<PhotonLabelPair> pairs;
    pairs.reserve(labels.size());
    for (const auto& [name, value] : labels) pairs.push_back({name.c_str(), value.c_str()});
    detail::check(photon_exporter_install(listen, pairs.data(), pairs.size()));
}

/// The port /metrics is served on.
inline std::uint16_t port() {
    std::uint16_t out = 0;
    detail::check(photon_exporter_port(&out));
    return out;
}

/// The exposition (text format 0.0.4), for serving from your own server.
inline std::string render() {
    std::size_t needed = 0;
    detail::check(photon_exporter_render(nullptr, 0, &needed));
    for (;;) {
        std::string buffer(needed, '\0');
        std::size_t again = 0;
        detail::check(photon_exporter_render(buffer.data(), buffer.size(), &again));
        if (again <= buffer.size()) {
            buffer.resize(again - 1);
            return buffer;
        }
        needed = again;  // it grew between the two calls
    }
}
}  // namespace exporter

namespace shared {
/// Publishes this process's records to its service's shared directory
/// (PHOTON_METRICS_SHARED_DIR) now; whether it is one of a service's.
/// Call it before _exit(); exit() publishes by itself.
inline bool publish() {
    bool published = false;
    detail::check(photon_shared_publish(&published));
    return published;
}
}  // namespace shared

namespace traces {
/// Spans over OTLP/gRPC to `otlp_endpoint` (nullptr: OTEL_EXPORTER_OTLP_ENDPOINT).
inline void init(const char* service_name, const char* otlp_endpoint = nullptr) {
    detail::check(photon_traces_init(service_name, otlp_endpoint));
}
/// Flushes and stops trace export.
inline void shutdown() { detail::check(photon_traces_shutdown()); }
}  // namespace traces

// Record helpers: one per family, noexcept (typed handles cannot be invalid).
namespace compiler {
inline void record_compilation(Target t, Status s, ModelType m) noexcept {
    photon_record_compilation(t.handle(), static_cast<PhotonStatus>(s), m.handle());
}
inline void observe_compilation_duration(Target t, std::uint64_t parameters, double seconds) noexcept {
    photon_observe_compilation_duration(t.handle(), parameters, seconds);
}
inline void record_compilation_error(Target t, ErrorKind k) noexcept {
    photon_record_compilation_error(t.handle(), k.handle());
}
inline void record_cache_hit(Target t) noexcept { photon_record_cache_hit(t.handle()); }
inline void record_cache_miss(Target t) noexcept { photon_record_cache_miss(t.handle()); }
inline void set_memory_usage(Target t, MemoryStat s, std::uint64_t bytes) noexcept {
    photon_set_memory_usage(t.handle(), static_cast<PhotonMemoryStat>(s), bytes);
}
inline void set_memory_limit(std::uint64_t bytes) noexcept { photon_set_memory_limit(bytes); }
inline void observe_pass_duration(Pass p, Target t, double seconds) noexcept {
    photon_observe_pass_duration(p.handle(), t.handle(), seconds);
}
inline void record_pass_failure(Pass p, Target t) noexcept { photon_record_pass_failure(p.handle(), t.handle()); }
}  // namespace compiler

namespace hardware {
inline void set_device_status(DeviceId d, DeviceType t, bool up) noexcept {
    photon_set_device_status(d.handle(), static_cast<PhotonDeviceType>(t), up);
}
inline void set_optical_power_mw(DeviceId d, double mw) noexcept { photon_set_optical_power_mw(d.handle(), mw); }
inline void set_temperature_celsius(DeviceId d, double c) noexcept {
    photon_set_temperature_celsius(d.handle(), c);
}
inline void set_calibration_drift(DeviceId d, double drift) noexcept {
    photon_set_calibration_drift(d.handle(), drift);
}
inline void observe_inference_latency(DeviceType t, double seconds) noexcept {
    photon_observe_inference_latency(static_cast<PhotonDeviceType>(t), seconds);
}
inline void set_active_devices(DeviceType t, Location l, std::uint64_t count) noexcept {
    photon_set_active_devices(static_cast<PhotonDeviceType>(t), l.handle(), count);
}
}  // namespace hardware

namespace runtime {
inline void set_active_sessions(std::uint64_t count) noexcept { photon_set_active_sessions(count); }
inline void set_queue_depth(std::uint64_t depth) noexcept { photon_set_queue_depth(depth); }
inline void record_ops(DeviceType t, std::uint64_t ops, double seconds) noexcept {
    photon_record_ops(static_cast<PhotonDeviceType>(t), ops, seconds);
}
inline void set_throughput(double ops_per_second) noexcept { photon_set_throughput(ops_per_second); }
inline void record_runtime_error(ErrorKind k) noexcept { photon_record_runtime_error(k.handle()); }
}  // namespace runtime

namespace detail {
/// The kind recorded when a scope ends by an exception nobody classified.
inline ErrorKind exception_kind() noexcept {
    static const ErrorKind kind = [] {
        auto made = ErrorKind::try_make("exception");
        return made ? made.value() : ErrorKind();
    }();
    return kind;
}
}  // namespace detail

/// Times one compilation for its scope. A normal exit records
/// status="success" (or "error" after fail()); an exception leaving the
/// scope records status="error" with error_kind="exception" (unless fail()
/// named the kind). finish() ends it early with any status.
/// Its span is current on the constructing thread until the timer ends, so
/// what the scope records carries the span's trace as an exemplar; like any
/// scope guard, end it on that thread, innermost timer first.
class CompileTimer {
public:
    CompileTimer(Target target, ModelType model, std::uint64_t parameters, const char* span_name = nullptr)
        : exceptions_(std::uncaught_exceptions()) {
        detail::check(photon_compile_start(span_name, target.handle(), model.handle(), parameters, &timer_));
        photon_compile_enter(timer_);
    }
    CompileTimer(const CompileTimer&) = delete;
    CompileTimer& operator=(const CompileTimer&) = delete;
    CompileTimer(CompileTimer&& other) noexcept
        : timer_(std::exchange(other.timer_, nullptr)), exceptions_(other.exceptions_), failed_(other.failed_) {}
    CompileTimer& operator=(CompileTimer&&) = delete;

    ~CompileTimer() {
        if (timer_ == nullptr) return;
        if (std::uncaught_exceptions() > exceptions_) {
            if (!failed_) photon_compile_fail(timer_, detail::exception_kind().handle());
            photon_compile_finish(timer_, PHOTON_STATUS_ERROR);
        } else {
            photon_compile_finish(timer_, failed_ ? PHOTON_STATUS_ERROR : PHOTON_STATUS_SUCCESS);
        }
    }

    /// Records a failure of `kind`; the scope's end records status="error".
    void fail(ErrorKind kind) noexcept {
        if (timer_ == nullptr) return;
        photon_compile_fail(timer_, kind.handle());
        failed_ = true;
    }

    /// Ends the timer now with `status`.
    void finish(Status status) noexcept {
        if (timer_ == nullptr) return;
        photon_compile_finish(std::exchange(timer_, nullptr), static_cast<PhotonStatus>(status));
    }

private:
    PhotonCompileTimer* timer_ = nullptr;
    int exceptions_;
    bool failed_ = false;
};

/// Times one inference call for its scope (photon_active_sessions counts it
/// meanwhile). A normal exit records latency, ops and throughput; fail() or
/// an exception records the latency and a runtime error, no ops
/// (error_kind="exception" for an exception). Its span is current for the
/// scope, as CompileTimer's is.
class InferenceTimer {
public:
    InferenceTimer(DeviceType device, std::uint64_t ops, const char* span_name = nullptr)
        : exceptions_(std::uncaught_exceptions()) {
        detail::check(photon_inference_start(span_name, static_cast<PhotonDeviceType>(device), ops, &timer_));
        photon_inference_enter(timer_);
    }
    InferenceTimer(const InferenceTimer&) = delete;
    InferenceTimer& operator=(const InferenceTimer&) = delete;
    InferenceTimer(InferenceTimer&& other) noexcept
        : timer_(std::exchange(other.timer_, nullptr)), exceptions_(other.exceptions_), failed_(other.failed_) {}
    InferenceTimer& operator=(InferenceTimer&&) = delete;

    ~InferenceTimer() {
        if (timer_ == nullptr) return;
        if (std::uncaught_exceptions() > exceptions_ && !failed_) {
            photon_inference_fail(timer_, detail::exception_kind().handle());
            failed_ = true;
        }
        photon_inference_finish(timer_, !failed_);
    }

    void set_ops(std::uint64_t ops) noexcept {
        if (timer_ != nullptr) photon_inference_set_ops(timer_, ops);
    }

    void fail(ErrorKind kind) noexcept {
        if (timer_ == nullptr) return;
        photon_inference_fail(timer_, kind.handle());
        failed_ = true;
    }

private:
    PhotonInferenceTimer* timer_ = nullptr;
    int exceptions_;
    bool failed_ = false;
};

/// The kind of a family.
enum class Kind : PhotonKind {
    Counter = PHOTON_KIND_COUNTER,
    Gauge = PHOTON_KIND_GAUGE,
    Histogram = PHOTON_KIND_HISTOGRAM,
};

/// A value of any label of a registered family, by the label's name: the
/// catalog's (a label added to it needs no class here) or one the Rust side
/// of the process declared. A closed label's value by its text, an open
/// label's validated and interned under its cap; throws Error otherwise.
/// photon::Family records take it where the family has a label of that
/// name (a value of another label is refused with
/// PHOTON_ERR_INVALID_HANDLE).
///
///     photon::LabelValue tenant("tenant", "acme");
///     photon::Family<photon::LabelValue> requests("app_requests_total");
///     requests.inc(tenant);
///     tenant.retire();
class LabelValue {
public:
    LabelValue(std::string_view label, std::string_view value) : label_(label) {
        detail::check(
            photon_label_value(label.data(), label.size(), value.data(), value.size(), &raw_));
    }

    /// The label's name.
    const std::string& label() const noexcept { return label_; }
    /// The value as photon_family_* records take it.
    std::uint32_t raw() const noexcept { return raw_; }
    /// Retires an open value (its series leave every family); false when
    /// there was nothing to retire. Throws Error for a closed label.
    bool retire() const {
        std::int32_t retired = 0;
        detail::check(photon_label_retire(label_.data(), label_.size(), raw_, &retired));
        return retired != 0;
    }

private:
    std::string label_;
    std::uint32_t raw_ = 0;
};

namespace detail {
/// A label type's exported name and its raw value for photon_family_*.
/// `fits` says whether a value belongs to the family's label of that name
/// (a typed value always does: its type was checked at construction).
template <class L>
struct label_traits;

template <>
struct label_traits<LabelValue> {
    static constexpr std::string_view name = {};  // checked at each record
    static std::uint32_t raw(const LabelValue& v) noexcept { return v.raw(); }
    static bool fits(const LabelValue& v, std::string_view label) noexcept {
        return v.label() == label;
    }
};

#define PHOTON_OPEN_TRAITS(Type, text)                                             \
    template <>                                                                    \
    struct label_traits<Type> {                                                    \
        static constexpr std::string_view name = text;                             \
        static std::uint32_t raw(Type v) noexcept { return v.handle().slot; }      \
        static bool fits(Type, std::string_view) noexcept { return true; }         \
    };
PHOTON_OPEN_TRAITS(Target, "target")
PHOTON_OPEN_TRAITS(ModelType, "model_type")
PHOTON_OPEN_TRAITS(ErrorKind, "error_kind")
PHOTON_OPEN_TRAITS(DeviceId, "device_id")
PHOTON_OPEN_TRAITS(Location, "location")
PHOTON_OPEN_TRAITS(Pass, "pass")
#undef PHOTON_OPEN_TRAITS

#define PHOTON_CLOSED_TRAITS(Type, text)                                                   \
    template <>                                                                            \
    struct label_traits<Type> {                                                            \
        static constexpr std::string_view name = text;                                     \
        static std::uint32_t raw(Type v) noexcept { return static_cast<std::uint32_t>(v); } \
        static bool fits(Type, std::string_view) noexcept { return true; }                  \
    };
PHOTON_CLOSED_TRAITS(Status, "status")
PHOTON_CLOSED_TRAITS(DeviceType, "device_type")
PHOTON_CLOSED_TRAITS(MemoryStat, "memory")
#undef PHOTON_CLOSED_TRAITS

inline std::string_view family_name(PhotonFamily f) {
    const char* name = nullptr;
    std::size_t len = 0;
    check(photon_family_name(f, &name, &len));
    return {name, len};
}
}  // namespace detail

/// Any family by name, typed by its label types: the catalog's (a family
/// added to it needs no wrapper here) or one the Rust side of the process
/// declared. The constructor throws UnknownFamilyError when no family has
/// the name, and checks the label types, in order, against the family's
/// labels, throwing Error when they differ; records then take exactly those
/// types.
///
///     photon::Family<photon::Pass, photon::Target> passes("photon_pass_duration_seconds");
///     passes.observe(pass, target, 0.002);
template <class... Labels>
class Family {
public:
    explicit Family(std::string_view name) {
        detail::check(photon_family_lookup(name.data(), name.size(), &family_));
        PhotonKind kind = 0;
        std::size_t labels = 0;
        detail::check(photon_family_shape(family_, &kind, &labels));
        kind_ = static_cast<Kind>(kind);
        if (labels != sizeof...(Labels)) {
            throw Error(PHOTON_ERR_INVALID_HANDLE,
                        std::string(name) + " takes " + std::to_string(labels) +
                            " labels, not " + std::to_string(sizeof...(Labels)));
        }
        std::size_t i = 0;
        (check_label(name, i++, detail::label_traits<Labels>::name), ...);
    }

    /// Its kind, for the record that fits it (a mismatch records nothing
    /// and returns PHOTON_ERR_INVALID_ENUM).
    Kind kind() const noexcept { return kind_; }
    PhotonFamily handle() const noexcept { return family_; }

    /// Adds 1 to a counter's series.
    PhotonCode inc(Labels... labels) const noexcept { return add(labels..., 1); }
    /// Adds `n` to a counter's series.
    PhotonCode add(Labels... labels, std::uint64_t n) const noexcept {
        if (!fits(labels...)) return PHOTON_ERR_INVALID_HANDLE;
        const std::uint32_t raw[] = {detail::label_traits<Labels>::raw(labels)..., 0};
        return photon_family_add(family_, raw, sizeof...(Labels), n);
    }
    /// Sets a gauge's series to `value`.
    PhotonCode set(Labels... labels, double value) const noexcept {
        if (!fits(labels...)) return PHOTON_ERR_INVALID_HANDLE;
        const std::uint32_t raw[] = {detail::label_traits<Labels>::raw(labels)..., 0};
        return photon_family_set(family_, raw, sizeof...(Labels), value);
    }
    /// Observes `value` in a histogram's series.
    PhotonCode observe(Labels... labels, double value) const noexcept {
        if (!fits(labels...)) return PHOTON_ERR_INVALID_HANDLE;
        const std::uint32_t raw[] = {detail::label_traits<Labels>::raw(labels)..., 0};
        return photon_family_observe(family_, raw, sizeof...(Labels), value);
    }

private:
    /// Whether every value belongs to its label (LabelValue's are checked
    /// here; typed ones were checked by the constructor).
    bool fits(const Labels&... labels) const noexcept {
        std::size_t i = 0;
        return (detail::label_traits<Labels>::fits(labels, names_[i++]) && ... && true);
    }

    void check_label(std::string_view family, std::size_t i, std::string_view expected) {
        const char* name = nullptr;
        std::size_t len = 0;
        detail::check(photon_family_label(family_, i, &name, &len));
        names_[i] = std::string_view(name, len);
        if (expected.empty()) return;  // a LabelValue: checked at each record
        if (std::string_view(name, len) != expected) {
            throw Error(PHOTON_ERR_INVALID_HANDLE,
                        std::string(family) + "'s label " + std::to_string(i + 1) + " is " +
                            std::string(name, len) + ", not " + std::string(expected));
        }
    }

    PhotonFamily family_{};
    Kind kind_ = Kind::Counter;
    std::string_view names_[sizeof...(Labels) + 1] = {};
};

}  // namespace photon

#endif  // PHOTON_METRICS_HPP
