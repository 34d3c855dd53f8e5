// Row formatting and buffered output (see row_writer.hpp).
#include "row_writer.hpp"

#include <cstring>

#include "timestamp.hpp"

namespace incmodel::eventgen {

const char *const kColumnNames[] = {"app_id",
                                    "platform",
                                    "etl_tstamp",
                                    "collector_tstamp",
                                    "dvce_created_tstamp",
                                    "dvce_sent_tstamp",
                                    "derived_tstamp",
                                    "load_tstamp",
                                    "event",
                                    "event_name",
                                    "event_id",
                                    "domain_userid",
                                    "domain_sessionid",
                                    "domain_sessionidx",
                                    "user_id",
                                    "network_userid",
                                    "page_url",
                                    "page_title",
                                    "page_referrer",
                                    "refr_medium",
                                    "geo_country",
                                    "br_family",
                                    "os_family",
                                    "dvce_type",
                                    "tr_total"};
const int kColumnCount = static_cast<int>(sizeof(kColumnNames) / sizeof(kColumnNames[0]));

namespace {

constexpr size_t kBufferBytes = 1 << 20;
// Free space guaranteed before formatting a row. Vocabulary terms are a few hundred bytes at most
// (checked by the tests), so a row is far below this.
constexpr size_t kMaxRowBytes = 64 << 10;

// Writes a non-negative integer in decimal.
inline char *PutUnsigned(char *out, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) *out++ = tmp[--n];
    return out;
}

// Copies raw bytes.
inline char *Put(char *out, const std::string &s) {
    std::memcpy(out, s.data(), s.size());
    return out + s.size();
}

}  // namespace

RowWriter::RowWriter(Format format, std::FILE *out)
    : out_(out),
      encoded_(format == Format::kText ? &Term::text : &Term::csv),
      delimiter_(format == Format::kText ? '\t' : ','),
      null_(format == Format::kText ? "\\N" : ""),
      buffer_(kBufferBytes) {}

RowWriter::~RowWriter() {
    Flush();
}

void RowWriter::Drain() {
    if (used_ == 0) return;
    if (out_ == nullptr) {
        memory_.append(buffer_.data(), used_);
    } else if (!failed_ && std::fwrite(buffer_.data(), 1, used_, out_) != used_) {
        failed_ = true;
    }
    used_ = 0;
}

bool RowWriter::Flush() {
    Drain();
    if (out_ != nullptr && !failed_ && std::fflush(out_) != 0) failed_ = true;
    return !failed_;
}

void RowWriter::WriteHeader() {
    std::string line;
    for (int i = 0; i < kColumnCount; ++i) {
        if (i > 0) line += delimiter_;
        line += kColumnNames[i];
    }
    line += '\n';
    if (buffer_.size() - used_ < line.size() + kMaxRowBytes) Drain();
    std::memcpy(buffer_.data() + used_, line.data(), line.size());
    used_ += line.size();
}

void RowWriter::Consume(const Event &e) {
    if (buffer_.size() - used_ < kMaxRowBytes) Drain();
    char *p = buffer_.data() + used_;
    const char d = delimiter_;
    // A nullable vocabulary value followed by the delimiter.
    auto term = [&](const Term *t) {
        p = Put(p, t != nullptr ? t->*encoded_ : null_);
        *p++ = d;
    };
    auto timestamp = [&](int64_t micros) {
        p = WriteTimestamp(p, micros);
        *p++ = d;
    };

    term(e.app_id);
    term(e.platform);
    timestamp(e.etl_tstamp);
    timestamp(e.collector_tstamp);
    timestamp(e.dvce_created_tstamp);
    timestamp(e.dvce_sent_tstamp);
    timestamp(e.derived_tstamp);
    timestamp(e.load_tstamp);
    term(e.event);
    term(e.event);  // event_name
    p = WriteUuid(p, e.event_id);
    *p++ = d;
    if (e.has_domain_userid) {
        p = WriteHex128(p, e.domain_userid);
    } else {
        p = Put(p, null_);
    }
    *p++ = d;
    if (e.has_domain_sessionid) {
        p = WriteUuid(p, e.domain_sessionid);
        *p++ = d;
        p = PutUnsigned(p, static_cast<uint64_t>(e.domain_sessionidx));
    } else {
        p = Put(p, null_);
        *p++ = d;
        p = Put(p, null_);
    }
    *p++ = d;
    if (e.user_id >= 0) {
        std::memcpy(p, "user_", 5);
        p = PutUnsigned(p + 5, static_cast<uint64_t>(e.user_id));
    } else {
        p = Put(p, null_);
    }
    *p++ = d;
    p = WriteUuid(p, e.network_userid);
    *p++ = d;
    term(e.page_url);
    term(e.page_title);
    term(e.page_referrer);
    term(e.refr_medium);
    term(e.geo_country);
    term(e.br_family);
    term(e.os_family);
    term(e.dvce_type);
    if (e.tr_total_cents >= 0) {
        const auto cents = static_cast<uint64_t>(e.tr_total_cents);
        p = PutUnsigned(p, cents / 100);
        *p++ = '.';
        *p++ = static_cast<char>('0' + cents % 100 / 10);
        *p++ = static_cast<char>('0' + cents % 10);
    } else {
        p = Put(p, null_);
    }
    *p++ = '\n';
    used_ = static_cast<size_t>(p - buffer_.data());
}

}  // namespace incmodel::eventgen
