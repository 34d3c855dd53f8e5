// Unit tests of the event generator: determinism, exact sizes, the requested fractions, the
// batch / lateness / duplicate semantics, identifier formats and COPY encoding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "copy_escape.hpp"
#include "event_stream.hpp"
#include "row_writer.hpp"
#include "timestamp.hpp"

namespace incmodel::eventgen {
namespace {

// Keeps a copy of every row (term pointers stay valid while the EventStream lives).
class CollectingSink : public EventSink {
  public:
    void Consume(const Event &event) override { events.push_back(event); }
    std::vector<Event> events;
};

// Runs the generator and returns its formatted output.
std::string Render(const Options &options, Format format = Format::kText) {
    EventStream stream(options);
    RowWriter writer(format, nullptr);
    stream.Generate(writer);
    writer.Flush();
    return writer.text();
}

// Splits on a single character, keeping empty pieces.
std::vector<std::string> Split(const std::string &text, char separator) {
    std::vector<std::string> parts;
    size_t begin = 0;
    for (;;) {
        size_t end = text.find(separator, begin);
        if (end == std::string::npos) {
            parts.push_back(text.substr(begin));
            return parts;
        }
        parts.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
}

// Output lines without the final empty piece after the last newline.
std::vector<std::string> Lines(const std::string &text) {
    std::vector<std::string> lines = Split(text, '\n');
    EXPECT_FALSE(lines.empty());
    EXPECT_TRUE(lines.back().empty()) << "output must end with a newline";
    lines.pop_back();
    return lines;
}

// Reverses COPY TEXT escaping of one field (what PostgreSQL does on input).
std::string UnescapeText(const std::string &field) {
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] != '\\' || i + 1 == field.size()) {
            out += field[i];
            continue;
        }
        char c = field[++i];
        out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
    }
    return out;
}

// Parses one CSV record into fields; `quoted` tells which fields were quoted (unquoted empty =
// NULL in PostgreSQL). Returns the number of characters consumed including the newline.
size_t ParseCsvRecord(const std::string &text, size_t pos, std::vector<std::string> *fields,
                      std::vector<bool> *quoted) {
    fields->clear();
    quoted->clear();
    std::string field;
    bool in_quotes = false, was_quoted = false;
    size_t i = pos;
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (in_quotes) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                in_quotes = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            in_quotes = was_quoted = true;
        } else if (c == ',' || c == '\n') {
            fields->push_back(field);
            quoted->push_back(was_quoted);
            field.clear();
            was_quoted = false;
            if (c == '\n') return i + 1 - pos;
        } else {
            field += c;
        }
    }
    ADD_FAILURE() << "unterminated CSV record";
    return i - pos;
}

// Default options with a test-sized event count.
Options Small(int64_t events = 20000) {
    Options o;
    o.events = events;
    return o;
}

// Index of each column in the output (mirrors the CREATE TABLE).
enum Col {
    kAppId,
    kPlatform,
    kEtl,
    kCollector,
    kCreated,
    kSent,
    kDerived,
    kLoad,
    kEvent,
    kEventName,
    kEventId,
    kDomainUserid,
    kDomainSessionid,
    kDomainSessionidx,
    kUserId,
    kNetworkUserid,
    kPageUrl,
    kPageTitle,
    kPageReferrer,
    kRefrMedium,
    kGeoCountry,
    kBrFamily,
    kOsFamily,
    kDvceType,
    kTrTotal,
    kNumCols
};

bool IsLowerHex(const std::string &s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsCanonicalUuid(const std::string &s) {
    if (s.size() != 36) return false;
    for (size_t i : {8u, 13u, 18u, 23u}) {
        if (s[i] != '-') return false;
    }
    std::string hex = s;
    hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
    return hex.size() == 32 && IsLowerHex(hex);
}

TEST(Determinism, SameSeedGivesIdenticalBytes) {
    Options o = Small();
    const std::string a = Render(o);
    const std::string b = Render(o);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a, b);
    // Generating twice from one stream object also repeats itself.
    EventStream stream(o);
    RowWriter w1(Format::kText, nullptr), w2(Format::kText, nullptr);
    stream.Generate(w1);
    stream.Generate(w2);
    w1.Flush();
    w2.Flush();
    EXPECT_EQ(w1.text(), a);
    EXPECT_EQ(w2.text(), a);
}

TEST(Determinism, DifferentSeedGivesDifferentOutput) {
    Options o = Small();
    Options p = o;
    p.seed = 2;
    const std::string a = Render(o);
    const std::string b = Render(p);
    EXPECT_NE(a, b);
    // Not just a reordering: event ids differ.
    std::set<std::string> ids_a, ids_b;
    for (const std::string &line : Lines(a)) ids_a.insert(Split(line, '\t')[kEventId]);
    for (const std::string &line : Lines(b)) ids_b.insert(Split(line, '\t')[kEventId]);
    std::vector<std::string> common;
    std::set_intersection(ids_a.begin(), ids_a.end(), ids_b.begin(), ids_b.end(),
                          std::back_inserter(common));
    EXPECT_TRUE(common.empty());
}

TEST(Sizes, DistinctEventsUsersAndRowsAreExact) {
    for (int64_t events : {1, 7, 1000, 54321}) {
        Options o = Small(events);
        o.users = events >= 1000 ? 123 : 0;
        EventStream stream(o);
        CollectingSink sink;
        stream.Generate(sink);
        std::set<int64_t> ordinals, users, sessions;
        std::set<std::string> domain_userids, event_ids;
        int64_t duplicates = 0;
        for (const Event &e : sink.events) {
            ordinals.insert(e.ordinal);
            users.insert(e.user);
            sessions.insert(e.session);
            if (!e.duplicate) event_ids.insert(UuidString(e.event_id));
            duplicates += e.duplicate;
        }
        EXPECT_EQ(static_cast<int64_t>(ordinals.size()), events);
        EXPECT_EQ(static_cast<int64_t>(event_ids.size()), events);
        EXPECT_EQ(*ordinals.rbegin(), events - 1);
        EXPECT_EQ(static_cast<int64_t>(users.size()), stream.user_count());
        EXPECT_EQ(static_cast<int64_t>(sessions.size()), stream.session_count());
        if (events >= 1000) {
            EXPECT_EQ(stream.user_count(), 123);
        }
        EXPECT_EQ(static_cast<int64_t>(sink.events.size()), events + duplicates);
        EXPECT_EQ(stream.stats().rows, static_cast<int64_t>(sink.events.size()));
        EXPECT_EQ(stream.stats().emitted_rows, static_cast<int64_t>(sink.events.size()));
        EXPECT_EQ(stream.stats().duplicate_rows, duplicates);
    }
}

TEST(Sizes, DefaultUsersAndSessions) {
    Options o = Small(60000);
    EventStream stream(o);
    EXPECT_EQ(stream.user_count(), 1000);
    EXPECT_EQ(stream.session_count(), 3000);
    o.events = 0;
    EXPECT_EQ(Render(o), "");
}

TEST(Sizes, EveryLineHasAllColumns) {
    const std::string out = Render(Small(5000));
    const std::vector<std::string> lines = Lines(out);
    int64_t dup_rows;
    {
        EventStream stream(Small(5000));
        CollectingSink sink;
        stream.Generate(sink);
        dup_rows = stream.stats().duplicate_rows;
    }
    EXPECT_EQ(static_cast<int64_t>(lines.size()), 5000 + dup_rows);
    for (const std::string &line : lines) ASSERT_EQ(Split(line, '\t').size(), size_t{kNumCols});
}

TEST(Fractions, RequestedFractionsAreHonoured) {
    Options o = Small(200000);
    o.late_fraction = 0.05;
    o.dup_fraction = 0.03;
    o.null_session_fraction = 0.02;
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    const Stats &s = stream.stats();
    const double n = static_cast<double>(o.events);
    EXPECT_NEAR(s.late_events / n, 0.05, 0.005);
    EXPECT_NEAR(s.duplicate_rows / n, 0.03, 0.003);
    EXPECT_NEAR(s.null_session_rows / static_cast<double>(s.rows), 0.02, 0.002);
    EXPECT_NEAR(static_cast<double>(s.duplicate_rows_later_batch) / s.duplicate_rows, 0.5, 0.05);

    // Recount from the rows themselves rather than trusting the counters.
    int64_t late = 0, null_session = 0, null_session_and_user = 0;
    for (const Event &e : sink.events) {
        late += !e.duplicate && e.late;
        null_session += !e.has_domain_sessionid;
        null_session_and_user += !e.has_domain_sessionid && !e.has_domain_userid;
        if (e.has_domain_sessionid) {
            EXPECT_TRUE(e.has_domain_userid);
        }
    }
    EXPECT_EQ(late, s.late_events);
    EXPECT_EQ(null_session, s.null_session_rows);
    EXPECT_NEAR(static_cast<double>(null_session_and_user) / null_session, 0.5, 0.08);
}

TEST(Fractions, ZeroFractionsGiveNone) {
    Options o = Small(50000);
    o.late_fraction = o.dup_fraction = o.null_session_fraction = 0;
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    EXPECT_EQ(stream.stats().late_events, 0);
    EXPECT_EQ(stream.stats().duplicate_rows, 0);
    EXPECT_EQ(stream.stats().null_session_rows, 0);
    EXPECT_EQ(static_cast<int64_t>(sink.events.size()), o.events);
}

TEST(Fractions, EventTypeMixAndTransactions) {
    EventStream stream(Small(200000));
    CollectingSink sink;
    stream.Generate(sink);
    int64_t counts[kEventTypeCount] = {};
    for (const Event &e : sink.events) {
        ++counts[static_cast<int>(e.type)];
        EXPECT_EQ(e.type == EventType::kTransaction, e.tr_total_cents >= 0);
        if (e.event_index == 0) {
            EXPECT_EQ(e.type, EventType::kPageView);
        }
        EXPECT_EQ(e.event, stream.vocabulary().EventName(e.type));
    }
    const double n = static_cast<double>(sink.events.size());
    EXPECT_NEAR(counts[0] / n, 0.45, 0.01);
    EXPECT_NEAR(counts[1] / n, 0.40, 0.01);
    EXPECT_NEAR(counts[2] / n, 0.12, 0.01);
    EXPECT_NEAR(counts[3] / n, 0.03, 0.005);
}

TEST(Duplicates, ReuseEventIdOfTheOriginal) {
    Options o = Small(100000);
    o.dup_fraction = 0.05;
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    std::unordered_map<std::string, const Event *> originals;
    for (const Event &e : sink.events) {
        if (!e.duplicate) {
            ASSERT_TRUE(originals.emplace(UuidString(e.event_id), &e).second) << "event_id reused";
        }
    }
    std::unordered_set<std::string> seen_dup;
    int64_t dups = 0, later = 0;
    for (const Event &e : sink.events) {
        if (!e.duplicate) continue;
        ++dups;
        const std::string id = UuidString(e.event_id);
        ASSERT_TRUE(seen_dup.insert(id).second) << "event duplicated more than once";
        auto it = originals.find(id);
        ASSERT_NE(it, originals.end()) << "duplicate without an original";
        const Event &orig = *it->second;
        EXPECT_EQ(orig.ordinal, e.ordinal);
        EXPECT_EQ(orig.derived_tstamp, e.derived_tstamp);
        EXPECT_EQ(orig.dvce_created_tstamp, e.dvce_created_tstamp);
        EXPECT_EQ(orig.page_url, e.page_url);
        EXPECT_GE(e.collector_tstamp, orig.collector_tstamp);
        EXPECT_GE(e.batch, orig.batch);
        EXPECT_LE(e.batch - orig.batch, o.max_late_batches);
        later += e.batch > orig.batch;
    }
    EXPECT_NEAR(static_cast<double>(dups) / o.events, 0.05, 0.004);
    EXPECT_NEAR(static_cast<double>(later) / dups, 0.5, 0.05);

    // The same holds in the text: an event_id appears at most twice, and exactly dups times twice.
    std::unordered_map<std::string, int> id_count;
    for (const std::string &line : Lines(Render(o))) ++id_count[Split(line, '\t')[kEventId]];
    int64_t twice = 0;
    for (const auto &[id, count] : id_count) {
        ASSERT_LE(count, 2);
        twice += count == 2;
    }
    EXPECT_EQ(twice, dups);
}

TEST(Batches, LateEventsAreEarlierThanTheirBatchRange) {
    Options o = Small(100000);
    o.late_fraction = 0.05;
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    int64_t late = 0, late_duplicates = 0;
    for (const Event &e : sink.events) {
        ASSERT_GE(e.batch, 0);
        ASSERT_LT(e.batch, o.batches);
        EXPECT_EQ(e.natural_batch, stream.BatchOf(e.collector_tstamp));
        // Every row, duplicates of late events included, is at most max_late_batches late.
        EXPECT_LE(e.batch - e.natural_batch, o.max_late_batches);
        // No row is ever early: collector time is before the end of the batch it is loaded in.
        EXPECT_LT(e.collector_tstamp, stream.BatchStart(e.batch + 1));
        if (e.late) ++(e.duplicate ? late_duplicates : late);
        if (e.late) {
            EXPECT_LT(e.collector_tstamp, stream.BatchStart(e.batch));
            EXPECT_GE(e.batch - e.natural_batch, 1);
            EXPECT_LE(e.batch - e.natural_batch, o.max_late_batches);
        } else {
            EXPECT_GE(e.collector_tstamp, stream.BatchStart(e.batch));
        }
    }
    EXPECT_EQ(late, stream.stats().late_events);
    EXPECT_NEAR(static_cast<double>(late) / o.events, 0.05, 0.005);

    // Checked on the text too: map each etl_tstamp back to its batch.
    std::map<std::string, int> batch_of_etl;
    for (int b = 0; b < o.batches; ++b) batch_of_etl[FormatTimestamp(stream.EtlTstamp(b))] = b;
    int64_t text_late = 0;
    for (const std::string &line : Lines(Render(o))) {
        const std::vector<std::string> f = Split(line, '\t');
        auto it = batch_of_etl.find(f[kEtl]);
        ASSERT_NE(it, batch_of_etl.end()) << "etl_tstamp is not a batch timestamp: " << f[kEtl];
        const std::string batch_start = FormatTimestamp(stream.BatchStart(it->second));
        text_late += f[kCollector] < batch_start;  // same-width timestamps compare as strings
    }
    EXPECT_EQ(text_late, late + late_duplicates);
}

TEST(Batches, EtlTstampIsOneOfTheBatchTimestamps) {
    Options o = Small(50000);
    o.batches = 25;
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    std::set<int64_t> batch_etls;
    for (int b = 0; b < o.batches; ++b) {
        batch_etls.insert(stream.EtlTstamp(b));
        EXPECT_GT(stream.EtlTstamp(b), stream.BatchStart(b + 1));
        if (b > 0) {
            EXPECT_GT(stream.EtlTstamp(b), stream.EtlTstamp(b - 1) + 30 * kMicrosPerSecond);
        }
    }
    EXPECT_EQ(static_cast<int>(batch_etls.size()), o.batches);
    std::set<int64_t> used;
    for (const Event &e : sink.events) {
        ASSERT_EQ(batch_etls.count(e.etl_tstamp), 1u);
        EXPECT_EQ(e.etl_tstamp, stream.EtlTstamp(e.batch));
        used.insert(e.etl_tstamp);
        EXPECT_GT(e.etl_tstamp, e.collector_tstamp);
        EXPECT_GE(e.load_tstamp, e.etl_tstamp);
        EXPECT_LT(e.load_tstamp, e.etl_tstamp + 30 * kMicrosPerSecond);
    }
    EXPECT_EQ(used, batch_etls);
    // Batch boundaries follow the documented formula.
    EXPECT_EQ(stream.BatchStart(0), o.start);
    EXPECT_EQ(stream.BatchStart(o.batches), o.start + 30 * kMicrosPerDay);
    EXPECT_EQ(stream.BatchStart(5), o.start + 6 * kMicrosPerDay);
}

TEST(Batches, BatchRangeOutputEqualsTheSameRowsOfAFullRun) {
    Options o = Small(30000);
    o.batches = 8;
    o.late_fraction = 0.1;
    o.dup_fraction = 0.05;
    EventStream stream(o);
    std::set<std::string> etl_in_range;
    for (int b = 2; b <= 4; ++b) etl_in_range.insert(FormatTimestamp(stream.EtlTstamp(b)));
    std::string expected;
    for (const std::string &line : Lines(Render(o))) {
        if (etl_in_range.count(Split(line, '\t')[kEtl])) expected += line + "\n";
    }
    Options part = o;
    part.batch_from = 2;
    part.batch_to = 4;
    const std::string got = Render(part);
    EXPECT_FALSE(got.empty());
    EXPECT_EQ(got, expected);

    // All single-batch slices together are the full output (as a multiset of lines).
    std::vector<std::string> all = Lines(Render(o)), pieces;
    for (int b = 0; b < o.batches; ++b) {
        Options one = o;
        one.batch_from = one.batch_to = b;
        for (const std::string &line : Lines(Render(one))) pieces.push_back(line);
    }
    std::sort(all.begin(), all.end());
    std::sort(pieces.begin(), pieces.end());
    EXPECT_EQ(all, pieces);
}

TEST(Sessions, LongSessionsSpanSeveralBatches) {
    Options o = Small(20000);
    o.days = 1;
    o.batches = 48;  // 30-minute batches
    o.session_events = 100;
    o.late_fraction = o.dup_fraction = 0;
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    std::map<int64_t, std::set<int>> batches_of_session;
    for (const Event &e : sink.events) batches_of_session[e.session].insert(e.batch);
    int64_t spanning = 0, three_or_more = 0;
    for (const auto &[session, batches] : batches_of_session) {
        spanning += batches.size() >= 2;
        three_or_more += batches.size() >= 3;
    }
    EXPECT_GT(spanning, static_cast<int64_t>(batches_of_session.size()) / 2);
    EXPECT_GT(three_or_more, 0);
}

TEST(Sessions, DefaultOptionsStillHaveSessionsStraddlingABoundary) {
    Options o = Small(200000);
    o.late_fraction = o.dup_fraction = 0;
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    std::map<int64_t, std::set<int>> batches_of_session;
    for (const Event &e : sink.events) batches_of_session[e.session].insert(e.batch);
    int64_t spanning = 0;
    for (const auto &[session, batches] : batches_of_session) spanning += batches.size() >= 2;
    EXPECT_GT(spanning, 0);
}

TEST(Sessions, StructureIsConsistent) {
    Options o = Small(50000);
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    std::map<int64_t, std::map<int32_t, std::pair<int64_t, std::string>>> sessions_of_user;
    std::map<int64_t, std::string> userid_of_user;
    std::map<std::string, int64_t> session_of_id;
    std::map<int64_t, int64_t> first_time_of_session;
    std::map<int64_t, int64_t> length_of_session;
    for (const Event &e : sink.events) {
        const std::string uid = Hex128String(e.domain_userid);
        auto [it, inserted] = userid_of_user.emplace(e.user, uid);
        EXPECT_EQ(it->second, uid) << "domain_userid must be constant per user";
        const std::string sid = UuidString(e.domain_sessionid);
        auto [sit, sinserted] = session_of_id.emplace(sid, e.session);
        EXPECT_EQ(sit->second, e.session) << "domain_sessionid must be unique per session";
        auto &entry = sessions_of_user[e.user][e.domain_sessionidx];
        if (e.event_index == 0 && !e.duplicate) entry = {e.derived_tstamp, sid};
        EXPECT_GE(e.domain_sessionidx, 1);
        if (!e.duplicate) ++length_of_session[e.session];
        // Clocks: created <= derived < collector, created < sent < collector.
        EXPECT_LE(e.dvce_created_tstamp, e.derived_tstamp);
        EXPECT_LT(e.derived_tstamp, e.collector_tstamp);
        EXPECT_LT(e.dvce_created_tstamp, e.dvce_sent_tstamp);
        EXPECT_LT(e.dvce_sent_tstamp, e.collector_tstamp);
        EXPECT_LT(e.collector_tstamp - e.derived_tstamp, 10 * kMicrosPerSecond);
        EXPECT_GE(e.collector_tstamp, o.start);
        EXPECT_LT(e.collector_tstamp, stream.BatchStart(o.batches));
    }
    // domain_sessionidx numbers each user's sessions 1..k in start-time order.
    for (const auto &[user, sessions] : sessions_of_user) {
        int32_t expected = 1;
        for (const auto &[idx, start_and_id] : sessions) {
            EXPECT_EQ(idx, expected);
            if (expected > 1) {
                // First derived_tstamps are start + network delay (< 0.3 s), so order holds up to
                // that.
                EXPECT_GE(start_and_id.first, sessions.at(expected - 1).first - kMicrosPerSecond);
            }
            ++expected;
        }
    }
    std::set<int64_t> identified_users, all_users;
    for (const Event &e : sink.events) {
        all_users.insert(e.user);
        if (e.user_id >= 0) {
            EXPECT_EQ(e.user_id, e.user);
            identified_users.insert(e.user);
        }
    }
    EXPECT_NEAR(static_cast<double>(identified_users.size()) / all_users.size(), 0.3, 0.06);
    // Session lengths vary and include long ones.
    int64_t longest = 0, singles = 0;
    for (const auto &[session, length] : length_of_session) {
        longest = std::max(longest, length);
        singles += length == 1;
    }
    EXPECT_GT(longest, 5 * o.session_events);
    EXPECT_GT(singles, 0);
}

TEST(Format, IdentifiersAndValues) {
    const std::vector<std::string> lines = Lines(Render(Small(20000)));
    std::set<std::string> urls, mediums, countries;
    int64_t null_referrers = 0;
    for (const std::string &line : lines) {
        const std::vector<std::string> f = Split(line, '\t');
        ASSERT_EQ(f.size(), size_t{kNumCols});
        EXPECT_TRUE(IsCanonicalUuid(f[kEventId])) << f[kEventId];
        EXPECT_EQ(f[kEventId][14], '4');
        EXPECT_TRUE(IsCanonicalUuid(f[kNetworkUserid]));
        if (f[kDomainSessionid] != "\\N") {
            EXPECT_TRUE(IsCanonicalUuid(f[kDomainSessionid]));
            EXPECT_NE(f[kDomainSessionidx], "\\N");
        } else {
            EXPECT_EQ(f[kDomainSessionidx], "\\N");
        }
        if (f[kDomainUserid] != "\\N") {
            EXPECT_EQ(f[kDomainUserid].size(), 32u);
            EXPECT_TRUE(IsLowerHex(f[kDomainUserid]));
        }
        EXPECT_EQ(f[kEvent], f[kEventName]);
        if (f[kUserId] != "\\N") {
            EXPECT_EQ(f[kUserId].rfind("user_", 0), 0u);
        }
        for (int c : {kEtl, kCollector, kCreated, kSent, kDerived, kLoad}) {
            ASSERT_EQ(f[c].size(), 26u);
            auto parsed = ParseTimestamp(f[c]);
            ASSERT_TRUE(parsed.has_value()) << f[c];
            EXPECT_EQ(FormatTimestamp(*parsed), f[c]);
        }
        if (f[kEvent] == "transaction") {
            const std::string &total = f[kTrTotal];
            ASSERT_GE(total.size(), 4u);
            EXPECT_EQ(total[total.size() - 3], '.');
        } else {
            EXPECT_EQ(f[kTrTotal], "\\N");
        }
        urls.insert(f[kPageUrl]);
        mediums.insert(f[kRefrMedium]);
        countries.insert(f[kGeoCountry]);
        null_referrers += f[kPageReferrer] == "\\N";
    }
    EXPECT_GT(urls.size(), 200u);
    EXPECT_EQ(mediums,
              (std::set<std::string>{"\\N", "search", "social", "internal", "unknown", "email"}));
    EXPECT_GT(countries.size(), 20u);
    EXPECT_GT(null_referrers, static_cast<int64_t>(lines.size()) / 20);
}

TEST(Format, CsvCarriesTheSameValues) {
    Options o = Small(5000);
    const std::vector<std::string> text_lines = Lines(Render(o, Format::kText));
    const std::string csv = Render(o, Format::kCsv);
    std::vector<std::string> fields;
    std::vector<bool> quoted;
    size_t pos = 0;
    for (const std::string &line : text_lines) {
        ASSERT_LT(pos, csv.size());
        pos += ParseCsvRecord(csv, pos, &fields, &quoted);
        const std::vector<std::string> tf = Split(line, '\t');
        ASSERT_EQ(fields.size(), tf.size());
        for (size_t i = 0; i < tf.size(); ++i) {
            if (tf[i] == "\\N") {
                EXPECT_TRUE(fields[i].empty() && !quoted[i])
                    << "NULL must be an unquoted empty field";
            } else {
                EXPECT_EQ(fields[i], UnescapeText(tf[i]));
            }
        }
    }
    EXPECT_EQ(pos, csv.size());

    RowWriter header_writer(Format::kCsv, nullptr);
    header_writer.WriteHeader();
    header_writer.Flush();
    EXPECT_EQ(header_writer.text().rfind("app_id,platform,etl_tstamp,", 0), 0u);
    EXPECT_EQ(Split(header_writer.text(), ',').size(), size_t{kNumCols});
}

TEST(Escaping, TextAndCsvRules) {
    EXPECT_EQ(EscapeText("plain"), "plain");
    EXPECT_EQ(EscapeText("a\tb\\c\nd\re"), "a\\tb\\\\c\\nd\\re");
    EXPECT_EQ(EscapeText("\\N"), "\\\\N");
    EXPECT_EQ(EscapeCsv("plain"), "plain");
    EXPECT_EQ(EscapeCsv(""), "\"\"");
    EXPECT_EQ(EscapeCsv("a,b"), "\"a,b\"");
    EXPECT_EQ(EscapeCsv("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(EscapeCsv("x\ny"), "\"x\ny\"");
    EXPECT_EQ(EscapeCsv("\\."), "\"\\.\"");
    EXPECT_EQ(EscapeCsv("tab\there"), "tab\there");
}

TEST(Escaping, VocabularyTermsAreSafeAndExerciseEscaping) {
    Vocabulary vocab;
    bool saw_tab = false, saw_newline = false, saw_backslash = false, saw_quote = false,
         saw_utf8 = false;
    for (const Term &t : vocab.AllTerms()) {
        EXPECT_FALSE(t.raw.empty());
        EXPECT_LT(t.text.size(), 1024u);
        EXPECT_EQ(t.text.find_first_of("\t\n\r"), std::string::npos) << t.raw;
        EXPECT_EQ(UnescapeText(t.text), t.raw);
        EXPECT_EQ(t.csv, EscapeCsv(t.raw));
        saw_tab |= t.raw.find('\t') != std::string::npos;
        saw_newline |= t.raw.find('\n') != std::string::npos;
        saw_backslash |= t.raw.find('\\') != std::string::npos;
        saw_quote |= t.raw.find('"') != std::string::npos;
        saw_utf8 |= std::any_of(t.raw.begin(), t.raw.end(),
                                [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    }
    EXPECT_TRUE(saw_tab && saw_newline && saw_backslash && saw_quote && saw_utf8);
    EXPECT_GE(vocab.PageCount(), 200u);
    EXPECT_LE(vocab.PageCount(), 500u);
}

TEST(Timestamps, ParseAndFormat) {
    EXPECT_EQ(ParseTimestamp("2026-01-01 00:00:00"), Options{}.start);
    EXPECT_EQ(ParseTimestamp("2026-01-01"), Options{}.start);
    EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:01.5"), 1500000);
    EXPECT_EQ(FormatTimestamp(0), "1970-01-01 00:00:00.000000");
    EXPECT_EQ(FormatTimestamp(-1), "1969-12-31 23:59:59.999999");
    EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2024-02-29 23:59:59.123456")),
              "2024-02-29 23:59:59.123456");
    EXPECT_FALSE(ParseTimestamp("2025-02-29").has_value());
    EXPECT_FALSE(ParseTimestamp("2025-13-01").has_value());
    EXPECT_FALSE(ParseTimestamp("2025-01-01 24:00:00").has_value());
    EXPECT_FALSE(ParseTimestamp("2025-01-01 00:00").has_value());
    EXPECT_FALSE(ParseTimestamp("2025-01-01 00:00:00.").has_value());
    EXPECT_FALSE(ParseTimestamp("yesterday").has_value());
    // Every day of several years round-trips.
    for (int64_t t = *ParseTimestamp("1999-12-25"); t < *ParseTimestamp("2031-01-05");
         t += kMicrosPerDay + 3723000001) {
        ASSERT_EQ(ParseTimestamp(FormatTimestamp(t)), t);
    }
}

TEST(Options, InvalidOptionsAreRejected) {
    EXPECT_EQ(ValidateOptions(Options{}), "");
    auto invalid = [](auto mutate) {
        Options o;
        mutate(o);
        return !ValidateOptions(o).empty();
    };
    EXPECT_TRUE(invalid([](Options &o) { o.events = -1; }));
    EXPECT_TRUE(invalid([](Options &o) { o.session_events = 0.5; }));
    EXPECT_TRUE(invalid([](Options &o) { o.batches = 0; }));
    EXPECT_TRUE(invalid([](Options &o) { o.days = 0; }));
    EXPECT_TRUE(invalid([](Options &o) { o.days = 0.01, o.batches = 1000; }));
    EXPECT_TRUE(invalid([](Options &o) { o.late_fraction = 1.5; }));
    EXPECT_TRUE(invalid([](Options &o) { o.dup_fraction = -0.1; }));
    EXPECT_TRUE(invalid([](Options &o) { o.null_session_fraction = 2; }));
    EXPECT_TRUE(invalid([](Options &o) { o.max_late_batches = 0; }));
    EXPECT_TRUE(invalid([](Options &o) { o.batch_from = 5, o.batch_to = 4; }));
    EXPECT_TRUE(invalid([](Options &o) { o.batch_to = 10; }));
    Options bad;
    bad.batches = 0;
    EXPECT_THROW(EventStream{bad}, std::invalid_argument);
}

TEST(Options, TinySpansAndSingleBatchWork) {
    Options o = Small(3000);
    o.days = 0.05;  // 72 minutes: sessions are compressed to fit
    o.batches = 1;
    o.session_events = 500;
    EventStream stream(o);
    CollectingSink sink;
    stream.Generate(sink);
    EXPECT_EQ(stream.stats().distinct_events, 3000);
    EXPECT_EQ(stream.stats().late_events, 0);
    for (const Event &e : sink.events) {
        ASSERT_EQ(e.batch, 0);
        ASSERT_GE(e.collector_tstamp, o.start);
        ASSERT_LT(e.collector_tstamp, stream.BatchStart(1));
    }
}

}  // namespace
}  // namespace incmodel::eventgen
