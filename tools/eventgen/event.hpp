// The in-memory form of one generated atomic.events row, plus the sink interface that receives
// rows. Values are kept unformatted (integers, pointers to vocabulary terms) so tests can inspect
// them and the row writer can format them without allocating.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "copy_escape.hpp"

namespace incmodel::eventgen {

// A fixed text value from a vocabulary, stored with its COPY-escaped forms so formatting a row is
// a memcpy. Pointers to terms stay valid for the lifetime of the Vocabulary that owns them.
struct Term {
    // Precomputes both escaped encodings of `value`.
    explicit Term(std::string value)
        : raw(std::move(value)), text(EscapeText(raw)), csv(EscapeCsv(raw)) {}

    // The encoding to write for the given output format.
    const std::string &Encoded(Format format) const { return format == Format::kText ? text : csv; }

    std::string raw;
    std::string text;
    std::string csv;
};

// A 128-bit identifier; formatted as 8-4-4-4-12 lowercase hex (uuid) or 32 plain hex digits.
struct Id128 {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const Id128 &o) const { return hi == o.hi && lo == o.lo; }
    bool operator!=(const Id128 &o) const { return !(*this == o); }
};

constexpr int kUuidChars = 36;
constexpr int kHex128Chars = 32;

// Writes `id` as a canonical lowercase uuid (36 chars) and returns the end pointer.
char *WriteUuid(char *out, Id128 id);
// Writes `id` as 32 lowercase hex digits and returns the end pointer.
char *WriteHex128(char *out, Id128 id);
// String forms of the two writers, for tests.
std::string UuidString(Id128 id);
std::string Hex128String(Id128 id);

// The event types in atomic.events.event / event_name.
enum class EventType : uint8_t { kPageView, kPagePing, kStruct, kTransaction };
constexpr int kEventTypeCount = 4;

// One output row. Nullable text columns are null pointers; nullable numbers use the sentinel
// documented on the field. The trailing "generation metadata" is not written; it exists so tests
// and --stats can check the semantics (lateness, duplicates, batches) directly.
struct Event {
    const Term *app_id = nullptr;
    const Term *platform = nullptr;
    int64_t etl_tstamp = 0;  // microseconds since 1970-01-01 (all timestamps)
    int64_t collector_tstamp = 0;
    int64_t dvce_created_tstamp = 0;
    int64_t dvce_sent_tstamp = 0;
    int64_t derived_tstamp = 0;
    int64_t load_tstamp = 0;
    EventType type = EventType::kPageView;
    const Term *event = nullptr;  // also written as event_name
    Id128 event_id;
    bool has_domain_userid = false;
    Id128 domain_userid;
    bool has_domain_sessionid = false;  // domain_sessionidx is NULL together with the session id
    Id128 domain_sessionid;
    int32_t domain_sessionidx = 0;
    int64_t user_id = -1;  // written as 'user_<n>'; -1 = NULL
    Id128 network_userid;
    const Term *page_url = nullptr;
    const Term *page_title = nullptr;
    const Term *page_referrer = nullptr;
    const Term *refr_medium = nullptr;
    const Term *geo_country = nullptr;
    const Term *br_family = nullptr;
    const Term *os_family = nullptr;
    const Term *dvce_type = nullptr;
    int64_t tr_total_cents = -1;  // -1 = NULL

    // Generation metadata.
    int batch = 0;            // index of the batch (etl_tstamp) this row is loaded in
    int natural_batch = 0;    // batch whose collector-time range contains collector_tstamp
    bool late = false;        // batch > natural_batch
    bool duplicate = false;   // second copy of an event (same event_id as the preceding copy)
    int64_t user = 0;         // user index, 0-based
    int64_t session = 0;      // global session index, 0-based
    int64_t ordinal = 0;      // distinct-event index, 0-based; duplicates share it
    int32_t event_index = 0;  // position within the session, 0-based
};

// Receives generated rows, in generation order, filtered to the requested batch range.
class EventSink {
  public:
    virtual ~EventSink() = default;
    // Called once per emitted row; the reference is only valid during the call.
    virtual void Consume(const Event &event) = 0;
};

}  // namespace incmodel::eventgen
