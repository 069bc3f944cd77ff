// A compile farm: a parent that installs the exporter, then forks compile
// workers that each record their compilations and exit. With
// PHOTON_METRICS_SHARED_DIR set (the launcher's job), the parent's
// /metrics serves every worker's records, those of workers long gone too.
//
//   PHOTON_METRICS_SHARED_DIR=/dev/shm/compile-farm compile_workers LISTEN WORKERS COMPILES
// Prints "listening on PORT", then "done" once every worker exited, and
// keeps serving until stdin is closed. Odd workers end with _exit() after
// photon::shared::publish(), even ones with exit().
#include "photon_metrics.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

void compile(int worker, int compiles) {
    const auto target = photon::Target::make("mzi-64x64");
    const auto model = photon::ModelType::make("resnet50");
    for (int i = 0; i < compiles; ++i) {
        photon::compiler::record_compilation(target, photon::Status::Success, model);
        photon::compiler::observe_compilation_duration(target, 1000, 0.01 * (1 + (worker + i) % 7));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: compile_workers LISTEN WORKERS COMPILES\n";
        return 2;
    }
    const int workers = std::atoi(argv[2]);
    const int compiles = std::atoi(argv[3]);
    try {
        photon::exporter::install(argv[1]);
    } catch (const photon::Error& e) {
        std::cerr << "cannot serve /metrics: " << e.what() << "\n";
        return 1;
    }
    std::cout << "listening on " << photon::exporter::port() << std::endl;
    std::vector<pid_t> children;
    for (int w = 0; w < workers; ++w) {
        const pid_t pid = fork();
        if (pid < 0) {
            std::cerr << "fork failed\n";
            return 1;
        }
        if (pid == 0) {
            compile(w, compiles);
            if (w % 2 == 1) {
                photon::shared::publish();
                _exit(0);
            }
            std::exit(0);
        }
        children.push_back(pid);
    }
    for (const pid_t pid : children) {
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::cerr << "worker " << pid << " failed\n";
            return 1;
        }
    }
    std::cout << "done" << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    return 0;
}
