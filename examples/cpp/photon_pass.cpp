// A "compiler pass" as photon-mlir-bridge's MLIR passes would record it:
// each pass run is timed with a CompileTimer (one in ten throws, which the
// timer records as status="error"), cache lookups are counted, and one
// pass reports a classified failure. /metrics is served by the library.
//
//   photon_pass LISTEN PASSES    e.g. photon_pass 127.0.0.1:0 100
// Prints "listening on PORT" once serving, then "done" after the passes,
// and keeps serving until stdin is closed. With OTEL_EXPORTER_OTLP_ENDPOINT
// set, each pass is also a span in Jaeger (flushed at exit).
#include "photon_metrics.hpp"

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

namespace {

struct LoweringError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The pass body: every tenth run hits an unsupported op.
void lower_to_photonic(int run) {
    if (run % 10 == 9) throw LoweringError("unsupported op: tosa.custom");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: photon_pass LISTEN PASSES\n";
        return 2;
    }
    const int passes = std::atoi(argv[2]);
    try {
        photon::exporter::install(argv[1], {{"service", "photon-pass"}});
    } catch (const photon::Error& e) {
        std::cerr << "cannot serve /metrics: " << e.what() << "\n";
        return 1;
    }
    std::cout << "listening on " << photon::exporter::port() << std::endl;
    // Spans to OTEL_EXPORTER_OTLP_ENDPOINT when it is set; an unreachable
    // collector costs nothing but dropped spans.
    photon::traces::init("photon-pass");

    const auto target = photon::Target::make("mzi-64x64");
    const auto model = photon::ModelType::make("resnet50");
    const auto shape_mismatch = photon::ErrorKind::make("ShapeMismatch");

    // A label mistake is an exception, not a crash, and records nothing.
    try {
        photon::Target::make("");
    } catch (const photon::LabelError& e) {
        std::cout << "rejected: " << e.what() << std::endl;
    }

    for (int run = 0; run < passes; ++run) {
        try {
            photon::CompileTimer timer(target, model, 25'600'000, "lower-to-photonic");
            if (run % 2 == 0) {
                photon::compiler::record_cache_hit(target);
            } else {
                photon::compiler::record_cache_miss(target);
            }
            lower_to_photonic(run);
        } catch (const LoweringError&) {
            // Recorded by the timer's destructor as status="error".
        }
    }
    {
        photon::CompileTimer timer(target, model, 1'000, "verify-shapes");
        timer.fail(shape_mismatch);  // a classified failure, no exception
    }
    photon::compiler::set_memory_usage(target, photon::MemoryStat::Peak, 3u << 30);

    // The compiled model served ten times on the simulator; the last call
    // loses its device.
    for (int call = 0; call < 10; ++call) {
        try {
            photon::InferenceTimer timer(photon::DeviceType::Simulator, 64, "serve");
            if (call == 9) throw std::runtime_error("device lost");
        } catch (const std::runtime_error&) {
            // Recorded by the timer's destructor as a runtime error.
        }
    }
    // A device that went down and is then decommissioned: retiring it
    // removes its series, so DeviceFailure resolves; a kept copy records nothing.
    const auto gone = photon::DeviceId::make("opu-decommissioned");
    photon::hardware::set_device_status(gone, photon::DeviceType::Mzi, false);
    const auto copy = gone;
    const bool first = gone.retire();
    const bool second = copy.retire();
    photon::hardware::set_temperature_celsius(copy, 90.0);
    std::cout << "retired: " << first << " " << second << std::endl;

    std::cout << "done" << std::endl;

    // Keep serving until the parent closes stdin.
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    photon::traces::shutdown();  // flushes the spans not yet exported
    return 0;
}
