// Generation of the event stream (see event_stream.hpp and README.md for the semantics).
//
// Determinism: every random value comes from a splitmix64 stream keyed by (seed, purpose tag,
// user / session / batch index), and every stream is always consumed in full, whatever batch range
// is being written. Sizes are allocated globally up front (users -> sessions -> events) so the
// event count is exact and each event has a stable ordinal, which its event_id is derived from.
#include "event_stream.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace incmodel::eventgen {
namespace {

// Stream tags: each purpose gets its own independent family of streams.
enum Tag : uint64_t {
    kUserWeightTag = 1,
    kSessionWeightTag,
    kUserTag,
    kPlanTag,
    kEmitTag,
    kEtlTag,
    kEventIdTag,
    kSessionIdTag,
    kUserIdTag,
    kNetworkIdTag,
};

constexpr int64_t kMillis = 1000;
constexpr int64_t kSeconds = kMicrosPerSecond;
constexpr int64_t kMinutes = kMicrosPerMinute;
// Upper bound of collector_tstamp - (event time) (send delay + network delay), kept free at the
// end of the span so no event's collector time falls past the last batch.
constexpr int64_t kMaxDelay = 10 * kSeconds;
// Share of a session's extra events given to "long" sessions.
constexpr double kLongSessionChance = 0.05;
constexpr double kLongSessionFactor = 4.0;
// Share of users with a user_id.
constexpr double kIdentifiedUserChance = 0.3;
// Share of follow-up page views that keep the previous page as referrer.
constexpr double kInternalReferrerChance = 0.8;
// Event type mix requested for the whole stream (page_view, page_ping, struct, transaction).
constexpr double kTypeShare[kEventTypeCount] = {0.45, 0.40, 0.12, 0.03};

// Splits an integer amount over a sequence of weights in proportion, exactly (the shares sum to
// the amount) and deterministically (rounding on cumulative sums, so a share depends only on the
// weights before it). Used to give users their sessions and sessions their events.
class Splitter {
  public:
    // `total` must be the sum of all weights that will be passed to Take, in the same order.
    Splitter(double total, int64_t amount) : total_(total), amount_(amount) {}

    // The share of the next weight; `last` makes the final share absorb any rounding remainder.
    int64_t Take(double weight, bool last) {
        cumulative_ += weight;
        int64_t target = amount_;
        if (!last && total_ > 0) {
            target = std::min(amount_, static_cast<int64_t>(std::floor(
                                           cumulative_ / total_ * static_cast<double>(amount_))));
        }
        target = std::max(target, taken_);
        const int64_t share = target - taken_;
        taken_ = target;
        return share;
    }

  private:
    double total_;
    int64_t amount_;
    double cumulative_ = 0;
    int64_t taken_ = 0;
};

// A random version-4 uuid whose low 62 bits are a bijection of `index`, so ids are unique for
// distinct indices under one seed.
Id128 UniqueUuid(uint64_t seed, uint64_t tag, uint64_t index) {
    Id128 id;
    id.hi = (Key(seed, tag, index) & ~uint64_t{0xf000}) | 0x4000;
    id.lo = (uint64_t{1} << 63) | Permute62(index, Key(seed, tag, ~uint64_t{0}));
    return id;
}

}  // namespace

std::string ValidateOptions(const Options &o) {
    if (o.events < 0) return "--events must be >= 0";
    if (o.events > (int64_t{1} << 40)) return "--events is too large";
    if (o.users < 0) return "--users must be >= 0";
    if (!(o.session_events >= 1) || o.session_events > 1e9) return "--session-events must be >= 1";
    if (o.batches < 1 || o.batches > 1000000) return "--batches must be in [1, 1000000]";
    if (!(o.days > 0) || o.days > 3650) return "--days must be in (0, 3650]";
    const double span = o.days * static_cast<double>(kMicrosPerDay);
    if (span / o.batches < 60.0 * kMicrosPerSecond) {
        return "each batch must cover at least 60 seconds (increase --days or lower --batches)";
    }
    const int64_t year2000 = 10957 * kMicrosPerDay, year9000 = 2556119 * kMicrosPerDay;
    if (o.start < -year2000 || o.start > year9000) return "--start must be between 1940 and 9000";
    for (auto [value, name] : {std::pair{o.late_fraction, "--late-fraction"},
                               std::pair{o.dup_fraction, "--dup-fraction"},
                               std::pair{o.null_session_fraction, "--null-session-fraction"}}) {
        if (!(value >= 0 && value <= 1)) return std::string(name) + " must be in [0, 1]";
    }
    if (o.max_late_batches < 1) return "--max-late-batches must be >= 1";
    const int to = o.batch_to < 0 ? o.batches - 1 : o.batch_to;
    if (o.batch_from < 0 || o.batch_from > to || to >= o.batches) {
        return "--batch-from/--batch-to must satisfy 0 <= from <= to < --batches";
    }
    return "";
}

EventStream::EventStream(const Options &options) : options_(options) {
    if (std::string error = ValidateOptions(options); !error.empty()) {
        throw std::invalid_argument(error);
    }
    const int64_t n = options_.events;
    if (n > 0) {
        users_ = options_.users > 0 ? options_.users : std::max<int64_t>(1, n / 60);
        users_ = std::min(users_, n);
        sessions_ = std::llround(static_cast<double>(n) / options_.session_events);
        sessions_ = std::clamp(sessions_, users_, n);
    }
    span_ = std::llround(options_.days * static_cast<double>(kMicrosPerDay));
    batch_to_ = options_.batch_to < 0 ? options_.batches - 1 : options_.batch_to;

    // Events in the last batch cannot arrive later, so the others are made late a little more
    // often; with events spread evenly over time that keeps the overall share at late_fraction.
    // The same holds for the half of duplicates that should land in a later batch.
    const int b = options_.batches;
    late_probability_ = b > 1 ? std::min(1.0, options_.late_fraction * b / (b - 1)) : 0.0;
    later_duplicate_probability_ = b > 1 ? std::min(1.0, 0.5 * b / (b - 1)) : 0.0;

    // The first event of a session is always a page view, so later events get fewer page views to
    // keep the overall mix at kTypeShare.
    const double first = n > 0 ? static_cast<double>(sessions_) / static_cast<double>(n) : 0;
    const double page_view = first < 1 ? std::max(0.0, (kTypeShare[0] - first) / (1 - first)) : 0;
    const double rest = kTypeShare[1] + kTypeShare[2] + kTypeShare[3];
    double cumulative = page_view;
    type_cdf_[0] = cumulative;
    for (int t = 1; t < kEventTypeCount; ++t) {
        cumulative += (1 - page_view) * kTypeShare[t] / rest;
        type_cdf_[t] = cumulative;
    }
    type_cdf_[kEventTypeCount - 1] = 2.0;  // guard against rounding

    // etl_tstamp: a few minutes after the batch closes; the jitter is capped at half a batch so the
    // values stay strictly increasing and load_tstamp ranges of batches never overlap.
    etl_.resize(static_cast<size_t>(b));
    for (int i = 0; i < b; ++i) {
        const int64_t length = BatchStart(i + 1) - BatchStart(i);
        Rng rng(Key(options_.seed, kEtlTag, static_cast<uint64_t>(i)));
        const int64_t jitter = std::min<int64_t>(5 * kMinutes, length / 2);
        etl_[static_cast<size_t>(i)] =
            BatchStart(i + 1) + 2 * kMinutes + static_cast<int64_t>(rng.Below(jitter));
    }
}

int64_t EventStream::BatchStart(int batch) const {
    const int64_t b = options_.batches;
    return options_.start + (span_ / b) * batch + (span_ % b) * batch / b;
}

int EventStream::BatchOf(int64_t t) const {
    const int last = options_.batches - 1;
    const int64_t step = std::max<int64_t>(1, span_ / options_.batches);
    int64_t guess = (t - options_.start) / step;
    int b = static_cast<int>(std::clamp<int64_t>(guess, 0, last));
    while (b > 0 && BatchStart(b) > t) --b;
    while (b < last && BatchStart(b + 1) <= t) ++b;
    return b;
}

// A user's relative activity: how many sessions they get (exponential: most users have a few,
// some have many).
double EventStream::UserWeight(int64_t user) const {
    Rng rng(Key(options_.seed, kUserWeightTag, static_cast<uint64_t>(user)));
    return rng.Exponential(1.0);
}

// A session's relative length: exponential (geometric-like counts) with a few long sessions.
double EventStream::SessionWeight(int64_t session) const {
    Rng rng(Key(options_.seed, kSessionWeightTag, static_cast<uint64_t>(session)));
    const double factor = rng.Chance(kLongSessionChance) ? kLongSessionFactor : 1.0;
    return factor * rng.Exponential(1.0);
}

// Draws the per-user constants (ids, user_id, app, country, device).
EventStream::UserContext EventStream::MakeUser(int64_t user) const {
    const auto u = static_cast<uint64_t>(user);
    Rng rng(Key(options_.seed, kUserTag, u));
    UserContext ctx;
    ctx.user = user;
    ctx.domain_userid.hi = rng.Next();
    ctx.domain_userid.lo =
        (rng.Next() & (uint64_t{3} << 62)) | Permute62(u, Key(options_.seed, kUserIdTag, 0));
    ctx.network_userid = UniqueUuid(options_.seed, kNetworkIdTag, u);
    ctx.user_id = rng.Chance(kIdentifiedUserChance) ? user : -1;
    ctx.app_id = vocab_.SampleAppId(rng);
    ctx.geo_country = vocab_.SampleCountry(rng);
    ctx.device = vocab_.SampleDevice(rng);
    return ctx;
}

// Type of an event that is not the first of its session.
EventType EventStream::SampleType(Rng &rng) const {
    const double u = rng.Uniform();
    int t = 0;
    while (u >= type_cdf_[t]) ++t;
    return static_cast<EventType>(t);
}

// Time between the previous event and one of the given type: page pings are heartbeats every
// 10-30 s, page views follow reading time, struct / transaction events come quickly.
int64_t EventStream::SampleGap(EventType type, Rng &rng) const {
    double micros = 0;
    switch (type) {
        case EventType::kPageView:
            micros = 3.0 * kSeconds + std::min(rng.Exponential(45.0 * kSeconds), 25.0 * kMinutes);
            break;
        case EventType::kPagePing:
            micros = 10.0 * kSeconds + static_cast<double>(rng.Below(20 * kSeconds));
            break;
        case EventType::kStruct:
            micros = 1.0 * kSeconds + std::min(rng.Exponential(15.0 * kSeconds), 10.0 * kMinutes);
            break;
        case EventType::kTransaction:
            micros = 5.0 * kSeconds + std::min(rng.Exponential(30.0 * kSeconds), 10.0 * kMinutes);
            break;
    }
    return static_cast<int64_t>(micros);
}

// Lays out one session's events (types, pages, referrers, relative times) and places it in the
// span. Plans are kept until all of the user's sessions are known, because domain_sessionidx
// numbers a user's sessions by start time.
void EventStream::PlanSession(int64_t session, int64_t event_count, int64_t ordinal_base) {
    Rng rng(Key(options_.seed, kPlanTag, static_cast<uint64_t>(session)));
    SessionPlan plan;
    plan.session = session;
    plan.ordinal_base = ordinal_base;
    plan.first_event = event_plans_.size();
    plan.event_count = static_cast<int32_t>(event_count);
    plan.session_id = UniqueUuid(options_.seed, kSessionIdTag, static_cast<uint64_t>(session));
    plan.skew = -static_cast<int64_t>(rng.Below(2 * kSeconds));

    const Landing landing = vocab_.SampleLanding(rng);
    int64_t offset = 0;
    uint32_t page = 0;
    const Term *referrer = nullptr;
    const Term *medium = nullptr;
    for (int64_t i = 0; i < event_count; ++i) {
        const EventType type = i == 0 ? EventType::kPageView : SampleType(rng);
        if (i > 0) offset += SampleGap(type, rng);
        if (type == EventType::kPageView) {
            const uint32_t previous = page;
            page = vocab_.SamplePage(rng);
            if (i == 0) {
                referrer = landing.referrer;
                medium = landing.medium;
            } else if (rng.Chance(kInternalReferrerChance)) {
                referrer = vocab_.PageUrl(previous);
                medium = vocab_.InternalMedium();
            } else {
                referrer = nullptr;
                medium = nullptr;
            }
        }
        event_plans_.push_back({offset, referrer, medium, page, type});
    }

    // Sessions longer than the span are compressed to fit it (only with tiny --days).
    const int64_t room = span_ - kMaxDelay - 1;
    if (offset > room) {
        __extension__ using I128 = __int128;
        for (size_t i = plan.first_event; i < event_plans_.size(); ++i) {
            event_plans_[i].offset =
                static_cast<int64_t>(static_cast<I128>(event_plans_[i].offset) * room / offset);
        }
        offset = room;
    }
    plan.start =
        options_.start + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(room - offset + 1)));
    session_plans_.push_back(plan);
}

// A batch after `batch` but at most max_late_batches after `natural` (the batch of the collector
// time) and not past the last batch, chosen uniformly; `batch` itself if there is no such batch.
int EventStream::LaterBatch(int batch, int natural, Rng &rng) const {
    const int64_t limit =
        std::min<int64_t>(options_.batches - 1, int64_t{natural} + options_.max_late_batches);
    if (batch >= limit) return batch;
    return batch + 1 + static_cast<int>(rng.Below(static_cast<uint64_t>(limit - batch)));
}

// Turns a planned session into rows: device/collector timestamps, session-less events, late
// arrival and duplicates.
void EventStream::EmitSession(const UserContext &user, const SessionPlan &plan, int32_t sessionidx,
                              EventSink &sink) {
    Rng rng(Key(options_.seed, kEmitTag, static_cast<uint64_t>(plan.session)));
    const int last_batch = options_.batches - 1;
    Event e;
    e.app_id = user.app_id;
    e.platform = vocab_.Platform();
    e.network_userid = user.network_userid;
    e.user_id = user.user_id;
    e.geo_country = user.geo_country;
    e.br_family = user.device.br_family;
    e.os_family = user.device.os_family;
    e.dvce_type = user.device.dvce_type;
    e.user = user.user;
    e.session = plan.session;

    for (int32_t i = 0; i < plan.event_count; ++i) {
        const EventPlan &ep = event_plans_[plan.first_event + static_cast<size_t>(i)];
        // Snowplow's clocks: the device creates the event (with its clock skew), sends it a little
        // later, the collector receives it after network delay; derived_tstamp =
        // collector - (sent - created) removes the skew.
        const int64_t t = plan.start + ep.offset;
        const auto send_delay = 5 * kMillis + static_cast<int64_t>(rng.Below(3 * kSeconds));
        const auto network_delay = 5 * kMillis + static_cast<int64_t>(rng.Below(300 * kMillis));
        e.dvce_created_tstamp = t + plan.skew;
        e.dvce_sent_tstamp = e.dvce_created_tstamp + send_delay;
        e.collector_tstamp = t + send_delay + network_delay;
        e.derived_tstamp = t + network_delay;

        const bool no_session = rng.Chance(options_.null_session_fraction);
        e.has_domain_sessionid = !no_session;
        e.domain_sessionid = plan.session_id;
        e.domain_sessionidx = sessionidx;
        e.has_domain_userid = !(no_session && rng.Chance(0.5));
        e.domain_userid = user.domain_userid;

        e.natural_batch = BatchOf(e.collector_tstamp);
        e.batch = e.natural_batch;
        if (e.natural_batch < last_batch && rng.Chance(late_probability_)) {
            e.batch = LaterBatch(e.natural_batch, e.natural_batch, rng);
        }
        e.late = e.batch > e.natural_batch;
        e.etl_tstamp = etl_[static_cast<size_t>(e.batch)];
        e.load_tstamp = e.etl_tstamp + kSeconds + static_cast<int64_t>(rng.Below(29 * kSeconds));

        e.type = ep.type;
        e.event = vocab_.EventName(ep.type);
        e.ordinal = plan.ordinal_base + i;
        e.event_index = i;
        e.event_id = UniqueUuid(options_.seed, kEventIdTag, static_cast<uint64_t>(e.ordinal));
        e.page_url = vocab_.PageUrl(ep.page);
        e.page_title = vocab_.PageTitle(ep.page);
        e.page_referrer = ep.referrer;
        e.refr_medium = ep.medium;
        e.tr_total_cents = -1;
        if (ep.type == EventType::kTransaction) {
            e.tr_total_cents = 500 + static_cast<int64_t>(rng.Exponential(6000));
        }
        e.duplicate = false;
        Emit(e, sink);

        if (rng.Chance(options_.dup_fraction)) {
            // A retried send: same event (id, device times, derived time), received a little later,
            // loaded in the same batch or a later one. The collector time stays inside the range of
            // the batch it is loaded in so it never looks early.
            const bool later = e.batch < last_batch && rng.Chance(later_duplicate_probability_);
            const int batch = later ? LaterBatch(e.batch, e.natural_batch, rng) : e.batch;
            if (batch > e.batch) ++stats_.duplicate_rows_later_batch;
            int64_t retry = kMillis + static_cast<int64_t>(rng.Below(5 * kSeconds));
            retry = std::max<int64_t>(
                0, std::min(retry, BatchStart(batch + 1) - 1 - e.collector_tstamp));
            e.collector_tstamp += retry;
            e.dvce_sent_tstamp += retry;
            e.batch = batch;
            e.natural_batch = BatchOf(e.collector_tstamp);
            e.late = e.batch > e.natural_batch;
            e.etl_tstamp = etl_[static_cast<size_t>(batch)];
            e.load_tstamp =
                e.etl_tstamp + kSeconds + static_cast<int64_t>(rng.Below(29 * kSeconds));
            e.duplicate = true;
            Emit(e, sink);
        }
    }
}

// Counts a row and forwards it if its batch is selected.
void EventStream::Emit(const Event &e, EventSink &sink) {
    ++stats_.rows;
    if (e.duplicate) {
        ++stats_.duplicate_rows;
    } else {
        ++stats_.distinct_events;
        if (e.late) ++stats_.late_events;
    }
    if (!e.has_domain_sessionid) ++stats_.null_session_rows;
    if (e.batch >= options_.batch_from && e.batch <= batch_to_) {
        ++stats_.emitted_rows;
        sink.Consume(e);
    }
}

void EventStream::Generate(EventSink &sink) {
    stats_ = Stats{};
    stats_.users = users_;
    stats_.sessions = sessions_;
    if (options_.events == 0) return;

    // Pass 1 and 2 only sum weights, so the splitters of pass 3 can allocate exactly.
    double user_total = 0;
    for (int64_t u = 0; u < users_; ++u) user_total += UserWeight(u);
    double session_total = 0;
    {
        Splitter sessions_of_users(user_total, sessions_ - users_);
        int64_t s = 0;
        for (int64_t u = 0; u < users_; ++u) {
            const int64_t k = 1 + sessions_of_users.Take(UserWeight(u), u == users_ - 1);
            for (int64_t j = 0; j < k; ++j) session_total += SessionWeight(s++);
        }
    }

    Splitter sessions_of_users(user_total, sessions_ - users_);
    Splitter events_of_sessions(session_total, options_.events - sessions_);
    int64_t s = 0;
    int64_t ordinal = 0;
    for (int64_t u = 0; u < users_; ++u) {
        const int64_t k = 1 + sessions_of_users.Take(UserWeight(u), u == users_ - 1);
        session_plans_.clear();
        event_plans_.clear();
        for (int64_t j = 0; j < k; ++j, ++s) {
            const int64_t n = 1 + events_of_sessions.Take(SessionWeight(s), s == sessions_ - 1);
            PlanSession(s, n, ordinal);
            ordinal += n;
        }
        std::sort(session_plans_.begin(), session_plans_.end(),
                  [](const SessionPlan &a, const SessionPlan &b) {
                      return a.start != b.start ? a.start < b.start : a.session < b.session;
                  });
        const UserContext user = MakeUser(u);
        for (size_t rank = 0; rank < session_plans_.size(); ++rank) {
            EmitSession(user, session_plans_[rank], static_cast<int32_t>(rank + 1), sink);
        }
    }
}

}  // namespace incmodel::eventgen
