// The day key of a daily model as a range of one source column. Read from the analyzed tree,
// never from text: the key's expression must be a chain of steps, each a function whose result
// is a monotone function of its one non-constant argument, down to a plain column of the source:
//   exact steps (the calendar day stays the column's): date(timestamp), timestamp(date),
//     date_trunc('day' or finer, timestamp);
//   zone steps (each moves the value by less than a day when every zone involved is offset
//     by less than a day): date(timestamptz), timestamptz(date), timestamptz(timestamp),
//     timestamp(timestamptz), date_trunc(unit, timestamptz[, zone]), timezone(zone, ...).
// The refresh casts the key to date (daily_day()), one more step when it is not a date. Walking
// down from the key: exact steps keep the rows of day D in [D, D + 1) of their argument; a zone
// step widens the range by a day either side, and so does every step below one (a truncation
// under a zone step may have moved its argument by up to a day). slack_days counts those.
#include "pg/analysis/day_range.hpp"

#include <algorithm>
#include <cctype>

#include "pg/boundary/guard.hpp"

extern "C" {
#include "utils/fmgroids.h"
}

namespace incmodel::pg {

namespace {

// A Const of type text (through a binary-compatible relabel), as a C++ string.
std::optional<std::string> text_const(Node *node) {
    while (node != nullptr && IsA(node, RelabelType))
        node = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(node)->arg);
    if (node == nullptr || !IsA(node, Const)) return std::nullopt;
    auto *c = reinterpret_cast<Const *>(node);
    if (c->constisnull || c->consttype != TEXTOID) return std::nullopt;
    const Datum v = c->constvalue;
    char *s = pg_call([v] { return TextDatumGetCString(v); });
    return std::string(s);
}

// date_trunc's units that truncate to a day or less (date_trunc lowercases the unit).
bool day_or_finer(std::string unit) {
    std::transform(unit.begin(), unit.end(), unit.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    for (const char *u : {"day", "days", "hour", "hours", "minute", "minutes", "second", "seconds",
                          "milliseconds", "microseconds"})
        if (unit == u) return true;
    return false;
}

// Whether a zone (a TimeZone setting or a zone argument) is offset from UTC by less than a day
// at every time: a fixed offset checked as such; else a name without digits (a zone of the tz
// database or an abbreviation, all within a day; a POSIX spec such as 'FOO+100BAR' has digits,
// and PostgreSQL accepts offsets up to 167 hours there).
bool zone_within_a_day(const std::string &zone) {
    if (zone.empty()) return false;
    const char *name = zone.c_str();
    pg_tz *tz = pg_call([name] { return pg_tzset(name); });
    long offset = 0;
    if (tz != nullptr && pg_call([tz, &offset] { return pg_get_timezone_offset(tz, &offset); }))
        return offset > -SECS_PER_DAY && offset < SECS_PER_DAY;
    return std::none_of(zone.begin(), zone.end(),
                        [](unsigned char ch) { return std::isdigit(ch) != 0; });
}

}  // namespace

std::optional<core::DayRange> day_range_of(Node *expr, int source_rti, Oid source,
                                           const std::string &timezone) {
    int steps = 0;  // the slack: zone steps and every step below the first of them
    bool zoned = false;
    auto zone_step = [&]() {
        ++steps;
        zoned = true;
    };
    auto exact_step = [&]() {
        if (zoned) ++steps;
    };
    const Oid result = pg_call([expr] { return exprType(expr); });
    if (result == TIMESTAMPTZOID)
        zone_step();  // the refresh's ::date of the key
    else if (result == TIMESTAMPOID)
        exact_step();
    else if (result != DATEOID)
        return std::nullopt;
    Node *node = expr;
    for (int depth = 0; depth < 16 && node != nullptr; ++depth) {
        if (IsA(node, Var)) {
            auto *var = reinterpret_cast<Var *>(node);
            if (var->varno != source_rti || var->varlevelsup != 0 || var->varattno <= 0)
                return std::nullopt;
            core::DayRange r;
            if (var->vartype == DATEOID)
                r.type = "date";
            else if (var->vartype == TIMESTAMPOID)
                r.type = "timestamp without time zone";
            else if (var->vartype == TIMESTAMPTZOID)
                r.type = "timestamp with time zone";
            else
                return std::nullopt;
            if (zoned && !zone_within_a_day(timezone)) return std::nullopt;
            const AttrNumber att = var->varattno;
            r.column = pg_call([source, att] { return get_attname(source, att, false); });
            r.slack_days = steps;
            return r;
        }
        if (!IsA(node, FuncExpr)) return std::nullopt;
        auto *f = reinterpret_cast<FuncExpr *>(node);
        List *args = f->args;
        const int n = list_length(args);
        Node *arg0 = n > 0 ? static_cast<Node *>(linitial(args)) : nullptr;
        Node *arg1 = n > 1 ? static_cast<Node *>(lsecond(args)) : nullptr;
        switch (f->funcid) {
            case F_DATE_TIMESTAMP:
            case F_TIMESTAMP_DATE:
                exact_step();
                node = arg0;
                break;
            case F_DATE_TIMESTAMPTZ:
            case F_TIMESTAMPTZ_DATE:
            case F_TIMESTAMPTZ_TIMESTAMP:
            case F_TIMESTAMP_TIMESTAMPTZ:
                zone_step();
                node = arg0;
                break;
            case F_DATE_TRUNC_TEXT_TIMESTAMP: {
                auto unit = text_const(arg0);
                if (!unit || !day_or_finer(*unit)) return std::nullopt;
                exact_step();
                node = arg1;
                break;
            }
            case F_DATE_TRUNC_TEXT_TIMESTAMPTZ:
            case F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT: {
                auto unit = text_const(arg0);
                if (!unit || !day_or_finer(*unit)) return std::nullopt;
                if (n == 3) {
                    auto zone = text_const(static_cast<Node *>(lthird(args)));
                    if (!zone || !zone_within_a_day(*zone)) return std::nullopt;
                }
                zone_step();
                node = arg1;
                break;
            }
            case F_TIMEZONE_TEXT_TIMESTAMPTZ:
            case F_TIMEZONE_TEXT_TIMESTAMP: {
                auto zone = text_const(arg0);
                if (!zone || !zone_within_a_day(*zone)) return std::nullopt;
                zone_step();
                node = arg1;
                break;
            }
            default:
                return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace incmodel::pg
