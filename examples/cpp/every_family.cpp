// Every family of the catalog through the table-driven C ABI
// (photon_family_*), and one through the typed C++ wrapper: what keeps the
// bindings from drifting from the catalog. A family added to the catalog is
// recorded here without a line of this file changing.
//
//   every_family ADDR      # serves /metrics on ADDR, records, prints each family
//
// Prints "listening on PORT", then "recorded NAME KIND" per family, then
// "done"; serves until stdin closes.
#include "photon_metrics.hpp"

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: every_family ADDR" << std::endl;
        return 2;
    }
    try {
        photon::exporter::install(argv[1], {});
        std::cout << "listening on " << photon::exporter::port() << std::endl;

        // All zeros is a valid label set of every family: each closed
        // label's first value, each open label's __overflow__.
        const std::uint32_t zeros[3] = {0, 0, 0};
        const std::uint32_t count = photon_family_count();
        for (std::uint32_t i = 0; i < count; ++i) {
            PhotonFamily f{};
            photon::detail::check(photon_family_at(i, &f));
            PhotonKind kind = 0;
            std::size_t labels = 0;
            photon::detail::check(photon_family_shape(f, &kind, &labels));
            PhotonCode code = PHOTON_OK;
            const char* word = "";
            switch (kind) {
                case PHOTON_KIND_COUNTER:
                    code = photon_family_add(f, zeros, labels, 3);
                    word = "counter";
                    break;
                case PHOTON_KIND_GAUGE:
                    code = photon_family_set(f, zeros, labels, 7.0);
                    word = "gauge";
                    break;
                default:
                    code = photon_family_observe(f, zeros, labels, 0.25);
                    word = "histogram";
                    break;
            }
            photon::detail::check(code);
            std::cout << "recorded " << photon::detail::family_name(f) << " " << word << std::endl;
        }

        // The typed wrapper: its label types are checked against the family.
        const auto pass = photon::Pass::make("canonicalize");
        const auto target = photon::Target::make("mzi-64x64");
        photon::Family<photon::Pass, photon::Target> passes("photon_pass_duration_seconds");
        photon::detail::check(passes.observe(pass, target, 0.002));
        photon::detail::check(passes.observe(pass, target, 0.004));
        // A kind mismatch records nothing and says so.
        if (passes.inc(pass, target) != PHOTON_ERR_INVALID_ENUM) {
            std::cerr << "inc on a histogram was not refused" << std::endl;
            return 1;
        }
        // Any label by its name: a label added to the catalog needs no class.
        const photon::LabelValue by_name("pass", "cse-by-name");
        photon::Family<photon::LabelValue, photon::Target> passes_by_name(
            "photon_pass_duration_seconds");
        photon::detail::check(passes_by_name.observe(by_name, target, 0.003));
        const photon::LabelValue closed("status", "cancelled");
        photon::Family<photon::Target, photon::LabelValue, photon::LabelValue> compilations(
            "photon_compilations_total");
        const photon::LabelValue model("model_type", "resnet-by-name");
        photon::detail::check(compilations.inc(target, closed, model));
        // A value of another label is refused at the record.
        if (passes_by_name.observe(model, target, 0.003) != PHOTON_ERR_INVALID_HANDLE) {
            std::cerr << "a model_type value was accepted as a pass" << std::endl;
            return 1;
        }
        if (!by_name.retire() || by_name.retire()) {
            std::cerr << "retire by name did not retire exactly once" << std::endl;
            return 1;
        }
        int refused = 0;
        try {
            photon::LabelValue nothing("no_such_label", "x");
        } catch (const photon::Error& e) {
            std::cout << "refused: " << e.what() << std::endl;
            ++refused;
        }
        try {
            photon::Family<photon::Target, photon::Pass> swapped("photon_pass_duration_seconds");
        } catch (const photon::Error& e) {
            std::cout << "refused: " << e.what() << std::endl;
            ++refused;
        }
        try {
            photon::Family<photon::Target> missing("photon_no_such_family_total");
        } catch (const photon::UnknownFamilyError& e) {
            // Its own code and class: a typo in a name is no label error.
            if (e.code() != PHOTON_ERR_UNKNOWN_FAMILY) {
                std::cerr << "unknown family refused with code " << e.code() << std::endl;
                return 1;
            }
            std::cout << "refused: " << e.what() << std::endl;
            ++refused;
        }
        try {
            photon::Family<photon::Target> fewer("photon_pass_duration_seconds");
        } catch (const photon::Error& e) {
            std::cout << "refused: " << e.what() << std::endl;
            ++refused;
        }
        if (refused != 4) {
            std::cerr << "a wrong Family<> was accepted" << std::endl;
            return 1;
        }
        std::cout << "done" << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "every_family: " << e.what() << std::endl;
        return 1;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    return 0;
}
