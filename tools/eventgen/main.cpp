// incmodel-eventgen: command-line front end. Parses options, runs the generator and writes COPY
// rows to stdout (summary counters optionally to stderr).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

#include "event_stream.hpp"
#include "row_writer.hpp"
#include "timestamp.hpp"

namespace eg = incmodel::eventgen;

namespace {

constexpr const char *kHelp = R"(Usage: incmodel-eventgen [OPTIONS] > events.tsv

Writes deterministic synthetic Snowplow-like atomic.events rows to stdout in PostgreSQL COPY
format (load with: COPY atomic.events FROM STDIN, or \copy atomic.events FROM 'file').
Columns: app_id, platform, etl_tstamp, collector_tstamp, dvce_created_tstamp, dvce_sent_tstamp,
derived_tstamp, load_tstamp, event, event_name, event_id, domain_userid, domain_sessionid,
domain_sessionidx, user_id, network_userid, page_url, page_title, page_referrer, refr_medium,
geo_country, br_family, os_family, dvce_type, tr_total.

Options (each takes a value as "--opt V" or "--opt=V"):
  --seed N                   PRNG seed; same options and seed give byte-identical output
                             (default 1)
  --events N                 number of distinct events, exact; duplicate rows come on top
                             (default 100000)
  --users N                  number of users (domain_userid); each has >= 1 session
                             (default events/60, at least 1, at most --events)
  --session-events F         mean events per session; lengths vary (exponential-like, 5% of
                             sessions about 4x longer), each session has >= 1 event (default 20)
  --batches N                number of loading batches = distinct etl_tstamp values
                             (default 10); each batch must cover >= 60 s of collector time
  --start TS                 start of collector time, 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]'
                             (default '2026-01-01 00:00:00')
  --days F                   span of collector time in days, fractions allowed (default 30)
  --late-fraction F          share of events loaded in a later batch than their
                             collector_tstamp belongs to (default 0.02)
  --max-late-batches N       a late event (or later-batch duplicate) arrives 1..N batches late,
                             capped at the last batch (default 3)
  --dup-fraction F           share of events written twice with the same event_id; half of the
                             copies land in the same batch, half 1..N batches later (default 0.01)
  --null-session-fraction F  share of rows with NULL domain_sessionid and domain_sessionidx;
                             about half of those also have NULL domain_userid (default 0.005)
  --batch-from I             write only rows whose batch index (0-based) is >= I (default 0)
  --batch-to J               write only rows whose batch index is <= J (default last batch);
                             rows written are identical to the same rows of a full run
  --format text|csv          text = COPY TEXT (tab separated, \N = NULL, backslash escapes);
                             csv = COPY CSV (empty unquoted field = NULL) (default text)
  --header                   write a header line (csv only; use COPY ... (FORMAT csv, HEADER))
  --stats                    print counters (users, sessions, rows, late, duplicates, ...) to
                             stderr when done
  --help                     show this help

Batch b holds collector time [start + b*span/B, start + (b+1)*span/B) and has etl_tstamp a few
minutes after its end; load_tstamp = etl_tstamp + 1..30 s. See tools/eventgen/README.md.
)";

// Everything the command line sets: generator options plus output choices.
struct CommandLine {
    eg::Options options;
    eg::Format format = eg::Format::kText;
    bool header = false;
    bool stats = false;
    bool help = false;
};

// Parses a whole string as a number of type T (integers and doubles), locale-independently.
template <typename T>
bool ParseNumber(std::string_view text, T *value) {
    const char *end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, *value);
    return ec == std::errc() && ptr == end;
}

// Fills `cli` from argv; returns an error message or "" on success.
std::string Parse(int argc, char **argv, CommandLine *cli) {
    eg::Options &o = cli->options;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            cli->help = true;
            continue;
        }
        if (arg == "--header") {
            cli->header = true;
            continue;
        }
        if (arg == "--stats") {
            cli->stats = true;
            continue;
        }
        std::string_view name = arg, value;
        bool has_value = false;
        if (size_t eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            has_value = true;
        }
        if (name.substr(0, 2) != "--") return "unexpected argument '" + std::string(arg) + "'";
        static constexpr std::string_view kValueOptions[] = {"--seed",
                                                             "--events",
                                                             "--users",
                                                             "--session-events",
                                                             "--batches",
                                                             "--start",
                                                             "--days",
                                                             "--late-fraction",
                                                             "--max-late-batches",
                                                             "--dup-fraction",
                                                             "--null-session-fraction",
                                                             "--batch-from",
                                                             "--batch-to",
                                                             "--format"};
        if (std::find(std::begin(kValueOptions), std::end(kValueOptions), name) ==
            std::end(kValueOptions)) {
            return "unknown option " + std::string(name) + " (see --help)";
        }
        if (!has_value) {
            if (i + 1 >= argc) return "option " + std::string(name) + " needs a value";
            value = argv[++i];
        }
        const std::string bad =
            "invalid value '" + std::string(value) + "' for " + std::string(name);
        bool ok = true;
        if (name == "--seed") {
            ok = ParseNumber(value, &o.seed);
        } else if (name == "--events") {
            ok = ParseNumber(value, &o.events);
        } else if (name == "--users") {
            ok = ParseNumber(value, &o.users);
        } else if (name == "--session-events") {
            ok = ParseNumber(value, &o.session_events);
        } else if (name == "--batches") {
            ok = ParseNumber(value, &o.batches);
        } else if (name == "--start") {
            auto ts = eg::ParseTimestamp(value);
            ok = ts.has_value();
            if (ok) o.start = *ts;
        } else if (name == "--days") {
            ok = ParseNumber(value, &o.days);
        } else if (name == "--late-fraction") {
            ok = ParseNumber(value, &o.late_fraction);
        } else if (name == "--max-late-batches") {
            ok = ParseNumber(value, &o.max_late_batches);
        } else if (name == "--dup-fraction") {
            ok = ParseNumber(value, &o.dup_fraction);
        } else if (name == "--null-session-fraction") {
            ok = ParseNumber(value, &o.null_session_fraction);
        } else if (name == "--batch-from") {
            ok = ParseNumber(value, &o.batch_from);
        } else if (name == "--batch-to") {
            ok = ParseNumber(value, &o.batch_to);
        } else if (name == "--format") {
            if (value == "text") {
                cli->format = eg::Format::kText;
            } else if (value == "csv") {
                cli->format = eg::Format::kCsv;
            } else {
                ok = false;
            }
        } else {
            return "unknown option " + std::string(name) + " (see --help)";
        }
        if (!ok) return bad;
    }
    if (cli->header && cli->format != eg::Format::kCsv) return "--header requires --format csv";
    return eg::ValidateOptions(o);
}

// Prints the generator's counters so a test script can see what a run contained.
void PrintStats(const eg::Stats &s) {
    std::fprintf(stderr,
                 "users %lld\nsessions %lld\ndistinct_events %lld\nrows %lld\nlate_events %lld\n"
                 "duplicate_rows %lld\nduplicate_rows_later_batch %lld\nnull_session_rows %lld\n"
                 "emitted_rows %lld\n",
                 static_cast<long long>(s.users), static_cast<long long>(s.sessions),
                 static_cast<long long>(s.distinct_events), static_cast<long long>(s.rows),
                 static_cast<long long>(s.late_events), static_cast<long long>(s.duplicate_rows),
                 static_cast<long long>(s.duplicate_rows_later_batch),
                 static_cast<long long>(s.null_session_rows),
                 static_cast<long long>(s.emitted_rows));
}

}  // namespace

// Exit codes: 0 success, 1 write error, 2 usage error.
int main(int argc, char **argv) {
    CommandLine cli;
    if (std::string error = Parse(argc, argv, &cli); !error.empty()) {
        std::fprintf(stderr, "incmodel-eventgen: %s\n", error.c_str());
        return 2;
    }
    if (cli.help) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    eg::EventStream stream(cli.options);
    eg::RowWriter writer(cli.format, stdout);
    if (cli.header) writer.WriteHeader();
    stream.Generate(writer);
    if (!writer.Flush()) {
        std::fprintf(stderr, "incmodel-eventgen: write error: %s\n", std::strerror(errno));
        return 1;
    }
    if (cli.stats) PrintStats(stream.stats());
    return 0;
}
