// Deterministic randomness for the event generator: a splitmix64 stream, stateless mixers used to
// derive per-user / per-session keys and unique identifiers, and an alias table for skewed
// (zipf-like) categorical draws. Nothing here depends on global state, so every value the
// generator produces is a pure function of (seed, indices).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace incmodel::eventgen {

// The splitmix64 finaliser: a bijection on 64-bit integers with good avalanche. Used to turn
// structured inputs (seed, stream tag, index) into well-spread keys.
inline uint64_t Mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// Combines a seed, a stream tag and an index into one key; different tags give unrelated keys, so
// the streams for e.g. "session plan" and "session emission" never overlap.
inline uint64_t Key(uint64_t seed, uint64_t tag, uint64_t index) {
    return Mix64(Mix64(seed ^ (tag * 0x9e3779b97f4a7c15ULL)) + index * 0xd1b54a32d192ed03ULL);
}

// A bijection on [0, 2^62): distinct inputs give distinct outputs. Used for the low half of
// generated uuids so event and session ids are unique by construction, not just with high
// probability.
inline uint64_t Permute62(uint64_t x, uint64_t key) {
    constexpr uint64_t kMask = (uint64_t{1} << 62) - 1;
    x = (x ^ key) & kMask;
    x = (x * 0x9e3779b97f4a7c15ULL) & kMask;  // odd multiplier: bijective modulo 2^62
    x ^= x >> 29;
    x = (x * 0xbf58476d1ce4e5b9ULL) & kMask;
    x ^= x >> 32;
    x = (x * 0x94d049bb133111ebULL) & kMask;
    x ^= x >> 29;
    return x;
}

// A fast, seedable pseudo-random stream (splitmix64). Each session gets its own stream keyed by
// its index, which is what keeps --batch-from/--batch-to output identical to a full run.
class Rng {
  public:
    // Starts a stream at the given state; equal states give equal sequences.
    explicit Rng(uint64_t state) : state_(state) {}

    // The next 64 uniformly distributed bits.
    uint64_t Next() {
        state_ += 0x9e3779b97f4a7c15ULL;
        return Mix64(state_);
    }

    // A uniform double in [0, 1) with 53 bits of precision.
    double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

    // A uniform integer in [0, n) (Lemire's multiply-shift; bias is negligible for our n).
    uint64_t Below(uint64_t n) {
        __extension__ using U128 = unsigned __int128;
        return static_cast<uint64_t>((static_cast<U128>(Next()) * n) >> 64);
    }

    // True with probability p.
    bool Chance(double p) { return Uniform() < p; }

    // An exponential variate with the given mean; models waiting times and heavy-ish tails.
    double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }

  private:
    uint64_t state_;
};

// Vose's alias table: O(1) sampling from a fixed discrete distribution. Used for urls, countries,
// device profiles and referrer mediums, which are drawn once per page view / user / session.
class AliasTable {
  public:
    AliasTable() = default;
    // Builds the table from non-negative weights (at least one must be positive).
    explicit AliasTable(const std::vector<double> &weights);

    // Draws an index in [0, size()) with probability proportional to its weight.
    uint32_t Sample(Rng &rng) const {
        uint64_t r = rng.Next();
        __extension__ using U128 = unsigned __int128;
        auto column = static_cast<uint32_t>((static_cast<U128>(r) * prob_.size()) >> 64);
        // The low 32 bits are nearly independent of the column choice (which uses the high bits).
        double coin = static_cast<double>(static_cast<uint32_t>(r)) * 0x1.0p-32;
        return coin < prob_[column] ? column : alias_[column];
    }

    // Number of outcomes.
    size_t size() const { return prob_.size(); }

  private:
    std::vector<double> prob_;
    std::vector<uint32_t> alias_;
};

}  // namespace incmodel::eventgen
