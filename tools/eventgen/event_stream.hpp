// The generator proper: given Options, produces a deterministic stream of Snowplow-like
// atomic.events rows (users -> sessions -> events, spread over loading batches, with late
// arrivals, duplicates and session-less events) and hands each row to an EventSink.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "event.hpp"
#include "random.hpp"
#include "timestamp.hpp"
#include "vocabulary.hpp"

namespace incmodel::eventgen {

// Generation parameters; the CLI maps one option to each field (see README.md).
struct Options {
    uint64_t seed = 1;
    int64_t events = 100000;                // distinct events (duplicate rows come on top)
    int64_t users = 0;                      // 0 = events / 60 (at least 1)
    double session_events = 20;             // mean events per session
    int batches = 10;                       // distinct etl_tstamp values
    int64_t start = 20454 * kMicrosPerDay;  // 2026-01-01 00:00:00
    double days = 30;                       // span of collector time
    double late_fraction = 0.02;
    int max_late_batches = 3;
    double dup_fraction = 0.01;
    double null_session_fraction = 0.005;
    int batch_from = 0;
    int batch_to = -1;  // -1 = last batch
};

// Returns an empty string if the options are usable, otherwise a message naming the bad option.
// The generator's arithmetic relies on these limits, so EventStream rejects invalid options.
std::string ValidateOptions(const Options &options);

// Counters over every generated row, whether or not its batch was selected for output.
struct Stats {
    int64_t users = 0;
    int64_t sessions = 0;
    int64_t distinct_events = 0;
    int64_t rows = 0;            // distinct events + duplicate rows
    int64_t late_events = 0;     // original (non-duplicate) rows loaded after their natural batch
    int64_t duplicate_rows = 0;  // second copies
    int64_t duplicate_rows_later_batch = 0;
    int64_t null_session_rows = 0;
    int64_t emitted_rows = 0;  // rows passed to the sink (batch in [batch_from, batch_to])
};

class EventStream {
  public:
    // Throws std::invalid_argument if ValidateOptions reports a problem.
    explicit EventStream(const Options &options);
    EventStream(const EventStream &) = delete;
    EventStream &operator=(const EventStream &) = delete;

    // Generates the whole stream and passes rows whose batch lies in [batch_from, batch_to] to
    // `sink`. Calling it twice produces the same rows again.
    void Generate(EventSink &sink);

    // Counters of the last Generate call.
    const Stats &stats() const { return stats_; }

    // Batch geometry: batch b holds collector time [BatchStart(b), BatchStart(b + 1)) and is loaded
    // at EtlTstamp(b) (after BatchStart(b + 1), strictly increasing in b).
    int64_t BatchStart(int batch) const;
    int64_t EtlTstamp(int batch) const { return etl_[batch]; }
    // The batch whose collector-time range contains `collector_tstamp` (clamped to the span).
    int BatchOf(int64_t collector_tstamp) const;
    int batch_count() const { return options_.batches; }

    // Sizes implied by the options (exact, known before generating).
    int64_t user_count() const { return users_; }
    int64_t session_count() const { return sessions_; }
    int64_t event_count() const { return options_.events; }

    const Vocabulary &vocabulary() const { return vocab_; }

  private:
    // Per-user constants, drawn once per user.
    struct UserContext {
        int64_t user;
        Id128 domain_userid;
        Id128 network_userid;
        int64_t user_id;
        const Term *app_id;
        const Term *geo_country;
        DeviceProfile device;
    };
    // What must be known about a session before its user's sessions can be numbered by start time.
    struct SessionPlan {
        int64_t session;       // global index
        int64_t ordinal_base;  // ordinal of its first event
        int64_t start;         // time of its first event
        int64_t skew;          // device clock offset (<= 0)
        Id128 session_id;
        size_t first_event;  // index into event_plans_
        int32_t event_count;
    };
    // The shape of one event inside its session (relative time, type, page, referrer).
    struct EventPlan {
        int64_t offset;
        const Term *referrer;
        const Term *medium;
        uint32_t page;
        EventType type;
    };

    double UserWeight(int64_t user) const;
    double SessionWeight(int64_t session) const;
    UserContext MakeUser(int64_t user) const;
    EventType SampleType(Rng &rng) const;
    int64_t SampleGap(EventType type, Rng &rng) const;
    void PlanSession(int64_t session, int64_t event_count, int64_t ordinal_base);
    void EmitSession(const UserContext &user, const SessionPlan &plan, int32_t sessionidx,
                     EventSink &sink);
    void Emit(const Event &event, EventSink &sink);
    int LaterBatch(int batch, int natural, Rng &rng) const;

    Options options_;
    Vocabulary vocab_;
    int64_t users_ = 0;
    int64_t sessions_ = 0;
    int64_t span_ = 0;  // microseconds of collector time
    int batch_to_ = 0;
    double late_probability_ = 0;             // per eligible event (natural batch not the last one)
    double later_duplicate_probability_ = 0;  // per duplicate of an event not in the last batch
    double type_cdf_[kEventTypeCount] = {};   // for events after the first of a session
    std::vector<int64_t> etl_;
    std::vector<SessionPlan> session_plans_;
    std::vector<EventPlan> event_plans_;
    Stats stats_;
};

}  // namespace incmodel::eventgen
