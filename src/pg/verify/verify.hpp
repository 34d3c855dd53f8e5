// incmodel.verify(): compares a model's target with a recomputation of all its keys or a random
// sample of them, as a recorded run of kind 'verify' (outcome 'success' when equal, 'differs'
// otherwise). Read-only on the target; runs under the model lock as the target's owner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pg/boundary/spi_client.hpp"

namespace incmodel::pg {

struct VerifyResult {
    std::int64_t run_id = 0;
    std::int64_t keys_checked = 0;  // distinct keys (unique columns) compared
    std::int64_t missing = 0, extra = 0, differ = 0;
    // Up to kVerifyExamples keys of each kind, as PostgreSQL text[] literals.
    std::string missing_keys = "{}", extra_keys = "{}", differ_keys = "{}";
    std::string summary;  // 'equal' or '3 missing, 1 extra, 2 differ'
};

inline constexpr int kVerifyExamples = 5;

// sample: nullopt checks every key; else the fraction (0, 1] of keys to check.
VerifyResult verify_model(SpiConnection &spi, const std::string &name,
                          std::optional<double> sample);

}  // namespace incmodel::pg
