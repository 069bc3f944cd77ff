// A mixed process: C++ main and a Rust runtime (mixed-runtime/, linked as
// the process's one Rust static library) record into the same families
// through the one exporter installed here.
//
//   photon_mixed LISTEN CPP_COMPILES RUST_COMPILES RUST_CALLS
// Prints "listening on PORT", then "done", and serves until stdin closes.
#include "photon_metrics.hpp"

#include <cstdlib>
#include <iostream>
#include <string>

extern "C" {
int32_t mixed_runtime_compile(uint32_t count);
void mixed_runtime_serve(uint32_t calls);
}

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: photon_mixed LISTEN CPP_COMPILES RUST_COMPILES RUST_CALLS\n";
        return 2;
    }
    photon::exporter::install(argv[1]);
    std::cout << "listening on " << photon::exporter::port() << std::endl;

    const auto target = photon::Target::make("mzi-64x64");
    const auto model = photon::ModelType::make("resnet50");
    for (int i = 0, n = std::atoi(argv[2]); i < n; ++i) {
        photon::compiler::record_compilation(target, photon::Status::Success, model);
    }
    if (mixed_runtime_compile(static_cast<uint32_t>(std::atoi(argv[3]))) != 0) return 1;
    mixed_runtime_serve(static_cast<uint32_t>(std::atoi(argv[4])));
    photon::runtime::record_ops(photon::DeviceType::Simulator, 100, 1.0);
    std::cout << "done" << std::endl;

    std::string line;
    while (std::getline(std::cin, line)) {
    }
    return 0;
}
