// photon_mlir_driver: a small MLIR compiler whose every pass is counted,
// timed and traced by photon-metrics (photon_metrics_mlir.hpp).
//
//   photon_mlir_driver FILE.mlir LISTEN [--no-spans]
//     Serves /metrics on LISTEN (prints "listening on PORT"), parses FILE,
//     runs the pipeline below under a photon::CompileTimer with MLIR's
//     multithreading on, prints "result: success" or "result: failure" and
//     "done", and keeps serving until stdin closes. With
//     OTEL_EXPORTER_OTLP_ENDPOINT set, the compile and every pass run are
//     spans there (flushed at exit); with --no-spans the passes are metrics
//     only (photon::mlir::PassSpans::Off) and the compile is the one span.
//
//   photon_mlir_driver --bench FUNCTIONS ROUNDS
//     The overhead measurement: a generated module of FUNCTIONS functions
//     through the same pipeline, ROUNDS times in each of four setups
//     interleaved (bare; photon's PassMetrics with a span per pass run;
//     PassMetrics with PassSpans::Off; MLIR's own -mlir-timing), printing
//     each setup's median wall and CPU time, its ratio to bare and the cost
//     per pass run. Spans go to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
//
// The pipeline, nested on func.func as a compiler's would be:
//   builtin.module(inline{default-pipeline=},
//                  func.func(canonicalize, cse, sccp, loop-invariant-code-motion,
//                            photon-fail-marked))
// photon-fail-marked is this driver's own pass: it signals failure on a
// function carrying the `photon.fail` attribute (failing.mlir has one).
#include "photon_metrics_mlir.hpp"

#include <mlir/Dialect/Arith/IR/Arith.h>
#include <mlir/Dialect/Func/IR/FuncOps.h>
#include <mlir/Dialect/SCF/IR/SCF.h>
#include <mlir/IR/BuiltinOps.h>
#include <mlir/IR/MLIRContext.h>
#include <mlir/Parser/Parser.h>
#include <mlir/Pass/PassManager.h>
#include <mlir/Pass/PassRegistry.h>
#include <mlir/Support/FileUtilities.h>
#include <mlir/Support/Timing.h>
#include <mlir/Transforms/Passes.h>
#include <llvm/Support/SourceMgr.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// The module pass manager's passes (mlir-opt's
/// `--pass-pipeline="builtin.module(...)"` without the anchor: the pass
/// manager is already on builtin.module, and an anchor here would nest a
/// second one that runs on nested modules, of which there are none).
constexpr const char* kPipeline =
    "inline{default-pipeline=},"
    "func.func(canonicalize,cse,sccp,loop-invariant-code-motion,photon-fail-marked)";

/// Signals failure on a function marked `photon.fail`: a lowering that meets
/// an op it does not support.
struct FailMarkedPass : mlir::PassWrapper<FailMarkedPass, mlir::OperationPass<mlir::func::FuncOp>> {
    MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FailMarkedPass)
    llvm::StringRef getArgument() const override { return "photon-fail-marked"; }
    llvm::StringRef getDescription() const override { return "Fail on functions marked photon.fail"; }
    void runOnOperation() override {
        if (getOperation()->hasAttr("photon.fail")) {
            getOperation().emitError("photon.fail: unsupported on the photonic target");
            signalPassFailure();
        }
    }
};

void load_dialects(mlir::MLIRContext& context) {
    context.loadDialect<mlir::func::FuncDialect, mlir::arith::ArithDialect, mlir::scf::SCFDialect>();
}

mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext& context, const std::string& text) {
    return mlir::parseSourceString<mlir::ModuleOp>(text, &context);
}

/// A pass manager running kPipeline, with photon's instrumentation if
/// `target` is given.
bool build_pipeline(mlir::PassManager& pm, const photon::Target* target,
                    photon::mlir::PassSpans spans = photon::mlir::PassSpans::PerRun) {
    if (mlir::failed(mlir::parsePassPipeline(kPipeline, pm, llvm::errs()))) return false;
    if (target != nullptr) pm.addInstrumentation(std::make_unique<photon::mlir::PassMetrics>(*target, spans));
    return true;
}

std::string read_file(const char* path) {
    std::string error;
    auto file = mlir::openInputFile(path, &error);
    if (!file) {
        std::cerr << "cannot read " << path << ": " << error << "\n";
        std::exit(1);
    }
    return file->getBuffer().str();
}

/// FUNCTIONS functions of arithmetic and loops, each with work for every
/// pass of the pipeline (constants to fold, common subexpressions, an
/// invariant to hoist).
std::string generate(int functions) {
    std::ostringstream out;
    out << "module {\n";
    for (int i = 0; i < functions; ++i) {
        out << "  func.func @kernel_" << i << "(%n: index, %x: f32, %w: f32) -> f32 {\n"
            << "    %c0 = arith.constant 0 : index\n"
            << "    %c1 = arith.constant 1 : index\n"
            << "    %zero = arith.constant 0.0 : f32\n"
            << "    %one = arith.constant 1.0 : f32\n"
            << "    %k = arith.constant " << (i % 7 + 2) << ".0 : f32\n"
            << "    %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {\n"
            << "      %inv = arith.mulf %w, %k : f32\n"
            << "      %a = arith.mulf %x, %inv : f32\n"
            << "      %b = arith.mulf %x, %inv : f32\n"
            << "      %s = arith.addf %a, %b : f32\n"
            << "      %t = arith.mulf %s, %one : f32\n"
            << "      %u = arith.addf %t, %zero : f32\n"
            << "      %next = arith.addf %acc, %u : f32\n"
            << "      scf.yield %next : f32\n"
            << "    }\n"
            << "    return %r : f32\n"
            << "  }\n";
    }
    out << "}\n";
    return out.str();
}

/// CPU time of the whole process (every thread), in milliseconds.
double cpu_millis() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int bench(int functions, int rounds) {
    photon::exporter::install("127.0.0.1:0");
    photon::traces::init("photon-mlir-bench");  // OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
    const auto target = photon::Target::make("mzi-64x64");
    const std::string text = generate(functions);
    mlir::DialectRegistry registry;
    mlir::MLIRContext context(registry);
    load_dialects(context);

    // Setup 0: bare; 1: PassMetrics with spans; 2: PassMetrics, metrics
    // only; 3: MLIR's -mlir-timing.
    constexpr int kSetups = 4;
    std::vector<double> millis[kSetups];
    std::vector<double> cpu[kSetups];
    for (int round = 0; round < rounds + 1; ++round) {
        for (int setup = 0; setup < kSetups; ++setup) {
            auto module = parse(context, text);
            if (!module) return 1;
            mlir::PassManager pm(&context);
            if (setup == 3) {
                // As -mlir-timing: its report goes to stderr when the pass manager ends.
                auto timing = std::make_unique<mlir::DefaultTimingManager>();
                timing->setEnabled(true);
                pm.enableTiming(std::move(timing));
            }
            const bool photon = setup == 1 || setup == 2;
            const auto spans = setup == 1 ? photon::mlir::PassSpans::PerRun : photon::mlir::PassSpans::Off;
            if (!build_pipeline(pm, photon ? &target : nullptr, spans)) return 1;
            const auto start = std::chrono::steady_clock::now();
            const double cpu_start = cpu_millis();
            const bool ok = mlir::succeeded(pm.run(*module));
            const auto end = std::chrono::steady_clock::now();
            const double cpu_end = cpu_millis();
            if (!ok) return 1;
            // Round 0 warms caches and the thread pool; it is not counted.
            if (round > 0) {
                millis[setup].push_back(std::chrono::duration<double, std::milli>(end - start).count());
                cpu[setup].push_back(cpu_end - cpu_start);
            }
        }
    }
    const char* names[kSetups] = {"bare", "photon PassMetrics (spans per run)",
                                  "photon PassMetrics (PassSpans::Off)", "MLIR -mlir-timing"};
    double median[kSetups];
    double cpu_median[kSetups];
    for (int setup = 0; setup < kSetups; ++setup) {
        auto& m = millis[setup];
        std::sort(m.begin(), m.end());
        median[setup] = m[m.size() / 2];
        auto& c = cpu[setup];
        std::sort(c.begin(), c.end());
        cpu_median[setup] = c[c.size() / 2];
    }
    const int runs = functions * 5 + 1;
    std::cout << "functions " << functions << ", pass runs per pipeline " << runs << ", rounds " << rounds
              << ", threads " << context.getNumThreads() << "\n";
    for (int setup = 0; setup < kSetups; ++setup) {
        std::cout << names[setup] << ": median " << median[setup] << " ms, " << median[setup] / median[0]
                  << "x bare, " << (median[setup] - median[0]) * 1e6 / runs << " ns per pass run; cpu median "
                  << cpu_median[setup] << " ms, " << (cpu_median[setup] - cpu_median[0]) * 1e6 / runs
                  << " cpu ns per pass run\n";
    }
    photon::traces::shutdown();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    mlir::registerTransformsPasses();
    mlir::PassRegistration<FailMarkedPass>();

    if (argc == 4 && std::string(argv[1]) == "--bench") {
        return bench(std::atoi(argv[2]), std::atoi(argv[3]));
    }
    const bool no_spans = argc == 4 && std::string(argv[3]) == "--no-spans";
    if (argc != 3 && !no_spans) {
        std::cerr << "usage: photon_mlir_driver FILE.mlir LISTEN [--no-spans]\n"
                     "       photon_mlir_driver --bench FUNCTIONS ROUNDS\n";
        return 2;
    }
    try {
        photon::exporter::install(argv[2], {{"service", "photon-mlir-driver"}});
    } catch (const photon::Error& e) {
        std::cerr << "cannot serve /metrics: " << e.what() << "\n";
        return 1;
    }
    std::cout << "listening on " << photon::exporter::port() << std::endl;
    photon::traces::init("photon-mlir-driver");

    const auto target = photon::Target::make("mzi-64x64");
    const auto model = photon::ModelType::make("mlir-module");
    const auto pass_failed = photon::ErrorKind::make("PassFailed");

    mlir::DialectRegistry registry;
    mlir::MLIRContext context(registry);  // multithreaded: function passes run in parallel
    load_dialects(context);
    const std::string text = read_file(argv[1]);
    bool ok = false;
    {
        photon::CompileTimer timer(target, model, text.size(), "compile");
        auto module = parse(context, text);
        if (!module) {
            std::cerr << "cannot parse " << argv[1] << "\n";
            return 1;
        }
        mlir::PassManager pm(&context);
        const auto spans = no_spans ? photon::mlir::PassSpans::Off : photon::mlir::PassSpans::PerRun;
        if (!build_pipeline(pm, &target, spans)) return 1;
        ok = mlir::succeeded(pm.run(*module));
        if (!ok) timer.fail(pass_failed);
    }
    std::cout << "threads: " << context.getNumThreads() << std::endl;
    std::cout << "result: " << (ok ? "success" : "failure") << std::endl;
    std::cout << "done" << std::endl;

    std::string line;
    while (std::getline(std::cin, line)) {
    }
    photon::traces::shutdown();
    return 0;
}
