// photon_metrics_mlir.hpp: every pass of an MLIR pass manager counted, timed
// and traced into the photon-metrics catalog. Header-only, on top of the C
// ABI (photon_metrics.h) and its C++ wrapper (photon_metrics.hpp).
//
//   mlir::PassManager pm(&context);
//   pm.addInstrumentation(std::make_unique<photon::mlir::PassMetrics>(target));
//
// or, for metrics without a span per pass run (see "Cost" below),
//   std::make_unique<photon::mlir::PassMetrics>(target, photon::mlir::PassSpans::Off)
//
// Per pass run (one pass on one operation: a function pass on 100 functions
// runs 100 times) it records
//   photon_pass_duration_seconds{pass, target}   the run's wall time,
//   photon_pass_failures_total{pass, target}     when the pass signals failure,
// and opens one span named after the pass (its argument, e.g.
// "canonicalize"; its name when it has none) with the operation it ran on
// (`op`, and `symbol` for a symbol such as a func.func). A nested pipeline
// (`func.func(...)` in a module pipeline) is a span of its own, "func.func
// pipeline", holding its passes' spans; it is not a pass of its own in the
// metrics (its time is its passes'). Top-level passes nest under the span
// current on the thread that runs the pass manager: the compile span of a
// photon::CompileTimer in scope. A failed pass marks its span as an error.
//
// Multithreaded pass managers are handled: MLIR runs nested pipelines on
// worker threads and says on which thread and under which pass they were
// started (PipelineParentInfo); the instrumentation links each worker's
// spans to that parent run. The hot path takes no exclusive lock: each
// thread keeps its own stack of runs, and only nested-pipeline runs (the
// parents other threads look up) go into a shared table. Pass names are the open `pass` label (default
// cap 256; photon::set_label_cap(photon::OpenLabel::Pass, n) at start-up).
// A PassMetrics interns each pass type's value once and keeps it: retire a
// pass value only when that pass will not run again (its plugin unloaded);
// runs through a retired value record nothing and count as stale
// (photon_metrics_stale_records_total{label="pass"}).
// Cost: a span per pass run is what makes "which pass, on which function"
// answerable in a trace, and it is also most of the instrumentation's cost
// (BENCHMARKS.md, "MLIR pass instrumentation"): a function pass on
// thousands of small functions makes thousands of spans. PassSpans::Off
// keeps the metrics (timed here, recorded through the C ABI) and drops the
// spans.
#pragma once

#include "photon_metrics.hpp"

#include <mlir/IR/Operation.h>
#include <mlir/IR/SymbolTable.h>
#include <mlir/Pass/Pass.h>
#include <mlir/Pass/PassInstrumentation.h>
#include <llvm/Support/Threading.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace photon {
namespace mlir {

/// Whether PassMetrics opens a span per pass run (and per nested pipeline).
enum class PassSpans {
    /// A span per pass run, under the compile span and its parent pipeline.
    PerRun,
    /// Metrics only: no spans.
    Off,
};

/// An mlir::PassInstrumentation recording every pass run of the pass manager
/// it is added to, for `target`. Thread-safe; one per pass manager.
class PassMetrics final : public ::mlir::PassInstrumentation {
public:
    explicit PassMetrics(Target target, PassSpans spans = PassSpans::PerRun)
        : target_(target), spans_(spans == PassSpans::PerRun) {}
    PassMetrics(const PassMetrics&) = delete;
    PassMetrics& operator=(const PassMetrics&) = delete;

    void runBeforePipeline(std::optional<::mlir::OperationName>, const PipelineParentInfo& parent) override {
        if (!spans_) return;
        PhotonPassRun* run = nullptr;
        if (parent.parentPass != nullptr) {
            if (parent.parentThreadID == thread_id()) run = innermost(parent.parentPass);
            if (run == nullptr) {
                std::shared_lock<std::shared_mutex> lock(pipelines_mutex_);
                const auto found = pipelines_.find(Key{parent.parentThreadID, parent.parentPass});
                if (found != pipelines_.end()) run = found->second;
            }
        }
        frames().push_back(Frame{this, nullptr, run, Pass(), {}});
    }

    void runAfterPipeline(std::optional<::mlir::OperationName>, const PipelineParentInfo&) override {
        if (spans_) pop(nullptr);
    }

    void runBeforePass(::mlir::Pass* pass, ::mlir::Operation* op) override {
        const bool pipeline = is_pipeline(*pass);
        if (!spans_) {
            if (!pipeline) frames().push_back(Frame{this, pass, nullptr, label_of(*pass).pass, Clock::now()});
            return;
        }
        PhotonPassRun* parent = innermost(nullptr, true);
        Label label;
        if (pipeline) {
            label.name = pipeline_name(*pass);
        } else {
            label = label_of(*pass);
        }
        const PhotonPass handle = label.pass.handle();
        std::string symbol;
        if (auto attr = op->getAttrOfType<::mlir::StringAttr>(::mlir::SymbolTable::getSymbolAttrName())) {
            symbol = attr.getValue().str();
        }
        const std::string op_name = op->getName().getStringRef().str();
        PhotonPassRun* run = nullptr;
        if (photon_pass_run_start(parent, label.name.c_str(), pipeline ? nullptr : &handle, target_.handle(),
                                  op_name.c_str(), symbol.empty() ? nullptr : symbol.c_str(),
                                  &run) != PHOTON_OK) {
            run = nullptr;  // a bad handle: nothing is recorded, the pass runs as usual
        }
        frames().push_back(Frame{this, pass, run, Pass(), {}});
        if (pipeline && run != nullptr) {
            std::unique_lock<std::shared_mutex> lock(pipelines_mutex_);
            pipelines_[Key{thread_id(), pass}] = run;
        }
    }

    void runAfterPass(::mlir::Pass* pass, ::mlir::Operation*) override { end(pass, false); }
    void runAfterPassFailed(::mlir::Pass* pass, ::mlir::Operation*) override { end(pass, true); }

private:
    using Clock = std::chrono::steady_clock;

    /// A pass run (or, with no pass, a pipeline and the run it nests under)
    /// open on this thread, of which instrumentation. With spans, `run`
    /// times it; with PassSpans::Off, it is timed here from `start`.
    struct Frame {
        const PassMetrics* owner;
        const ::mlir::Pass* pass;
        PhotonPassRun* run;
        Pass label;
        Clock::time_point start;
    };

    /// A pass object on a thread: a pass runs one operation at a time (MLIR
    /// clones passes for its worker threads).
    struct Key {
        std::uint64_t thread;
        const ::mlir::Pass* pass;
        bool operator==(const Key& other) const { return thread == other.thread && pass == other.pass; }
    };
    struct KeyHash {
        std::size_t operator()(const Key& key) const noexcept {
            return std::hash<std::uint64_t>()(key.thread) ^ (std::hash<const void*>()(key.pass) << 1);
        }
    };

    /// A pass type's metric name and its interned `pass` value.
    struct Label {
        std::string name;
        Pass pass;
    };

    /// This thread's open runs and pipelines, innermost last.
    static std::vector<Frame>& frames() {
        thread_local std::vector<Frame> stack;
        return stack;
    }

    /// MLIR's thread id (llvm::get_threadid, a system call), once per thread.
    static std::uint64_t thread_id() {
        thread_local const std::uint64_t id = llvm::get_threadid();
        return id;
    }

    /// The run of this instrumentation's innermost frame on this thread for
    /// `pass` (any frame when `any`); nullptr when there is none.
    PhotonPassRun* innermost(const ::mlir::Pass* pass, bool any = false) const {
        const auto& stack = frames();
        for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
            if (it->owner == this && (any || it->pass == pass)) return it->run;
        }
        return nullptr;
    }

    /// Removes this instrumentation's innermost frame for `pass` (nullptr: a
    /// pipeline) and returns it, if there is one.
    std::optional<Frame> pop(const ::mlir::Pass* pass) {
        auto& stack = frames();
        for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
            if (it->owner == this && it->pass == pass) {
                Frame frame = *it;
                stack.erase(std::next(it).base());
                return frame;
            }
        }
        return std::nullopt;
    }

    /// The pass's label, made once per pass type: its argument
    /// ("canonicalize"), or its name when it has none.
    Label label_of(const ::mlir::Pass& pass) {
        const void* type = pass.getTypeID().getAsOpaquePointer();
        {
            std::shared_lock<std::shared_mutex> lock(labels_mutex_);
            const auto found = labels_.find(type);
            if (found != labels_.end()) return found->second;
        }
        Label label;
        label.name = pass.getArgument().str();
        if (label.name.empty()) label.name = pass.getName().str();
        // Past the cap the value is __overflow__ (the span keeps the name).
        auto made = Pass::try_make(label.name);
        if (made) label.pass = made.value();
        std::unique_lock<std::shared_mutex> lock(labels_mutex_);
        labels_[type] = label;
        return label;
    }

    /// Whether `pass` is MLIR's adaptor running a nested pipeline (`func.func(...)`).
    static bool is_pipeline(const ::mlir::Pass& pass) {
        return pass.getName() == "mlir::detail::OpToOpPassAdaptor";
    }

    /// "func.func pipeline" for the adaptor running `func.func(...)`.
    static std::string pipeline_name(::mlir::Pass& adaptor) {
        std::string text;
        llvm::raw_string_ostream os(text);
        adaptor.printAsTextualPipeline(os);
        os.flush();
        const auto paren = text.find('(');
        return (paren == std::string::npos ? text : text.substr(0, paren)) + " pipeline";
    }

    void end(::mlir::Pass* pass, bool failed) {
        const auto frame = pop(pass);
        if (!frame) return;
        if (!spans_) {
            const double seconds = std::chrono::duration<double>(Clock::now() - frame->start).count();
            photon_observe_pass_duration(frame->label.handle(), target_.handle(), seconds);
            if (failed) photon_record_pass_failure(frame->label.handle(), target_.handle());
            return;
        }
        if (frame->run == nullptr) return;
        if (is_pipeline(*pass)) {
            std::unique_lock<std::shared_mutex> lock(pipelines_mutex_);
            pipelines_.erase(Key{thread_id(), pass});
        }
        if (failed) photon_pass_run_fail(frame->run);
        photon_pass_run_finish(frame->run);
    }

    Target target_;
    bool spans_;
    std::shared_mutex pipelines_mutex_;
    /// Open nested-pipeline runs, the parents of other threads' pipelines.
    std::unordered_map<Key, PhotonPassRun*, KeyHash> pipelines_;
    std::shared_mutex labels_mutex_;
    std::unordered_map<const void*, Label> labels_;
};

}  // namespace mlir
}  // namespace photon
