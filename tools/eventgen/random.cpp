// Construction of the alias table declared in random.hpp (the only non-inline part of it).
#include "random.hpp"

#include <stdexcept>

namespace incmodel::eventgen {

// Vose's algorithm: split outcomes into "small" and "large" relative to the mean weight and pair
// each small column with a large donor, so sampling needs one column pick and one coin flip.
AliasTable::AliasTable(const std::vector<double> &weights) {
    const size_t n = weights.size();
    double total = 0;
    for (double w : weights) {
        if (!(w >= 0)) throw std::invalid_argument("AliasTable: negative or NaN weight");
        total += w;
    }
    if (n == 0 || !(total > 0)) throw std::invalid_argument("AliasTable: no positive weight");

    prob_.assign(n, 1.0);
    alias_.resize(n);
    std::vector<double> scaled(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
        scaled[i] = weights[i] * static_cast<double>(n) / total;
        alias_[i] = static_cast<uint32_t>(i);
        (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
        uint32_t s = small.back();
        small.pop_back();
        uint32_t l = large.back();
        prob_[s] = scaled[s];
        alias_[s] = l;
        scaled[l] = (scaled[l] + scaled[s]) - 1.0;
        if (scaled[l] < 1.0) {
            large.pop_back();
            small.push_back(l);
        }
    }
    // Whatever remains is (up to rounding) exactly at the mean: always take the column itself.
    for (uint32_t i : small) prob_[i] = 1.0;
    for (uint32_t i : large) prob_[i] = 1.0;
}

}  // namespace incmodel::eventgen
