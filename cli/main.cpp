// incmodel: the command schedulers and operators run against PostgreSQL (with or without the
// extension) and Amazon Redshift. C++17 + libpq.
//
//   incmodel export  MODEL [--dsn DSN] [--dialect D] [--commit C] [--output FILE]
//   incmodel deploy  [MODEL] --dsn DSN (--from-dsn DSN | --package FILE) [--dialect D]
//                    [--commit C] [--dry-run]
//   incmodel refresh MODEL [--dsn DSN] [--dry-run]
//   incmodel backfill MODEL FROM TO [--dsn DSN] [--dry-run]
//   incmodel maintain [MODEL] [--dsn DSN] [--dry-run]
//   incmodel status  [MODEL] [--dsn DSN]
//
// Exit status: 0 done, 1 failed, 2 usage or a malformed package (nothing executed), 3 skipped
// (another refresh holds the model).
#include <libpq-fe.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/export_format.hpp"
#include "core/redshift_names.hpp"
#include "core/version.hpp"

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitSkipped = 3;
constexpr const char *kLockClass = "1229865806";  // core::kExportLockClass

const char *kUsage = R"(Usage: incmodel COMMAND [MODEL] [OPTIONS]

Commands:
  export MODEL     write the deployable package of MODEL (read from a database that has the
                   extension: --dsn or --from-dsn) to stdout or --output FILE
  deploy [MODEL]   run the ddl, procedure and dispatcher parts of a package in the database of
                   --dsn; the package comes from --package FILE or, for MODEL, from --from-dsn;
                   the whole package is checked first, a malformed one is refused (exit 2)
  refresh MODEL    CALL incmodel.refresh(MODEL), then run the post-commit statements outside any
                   transaction; prints a one-line summary
  backfill MODEL FROM TO
                   rebuild the event days [FROM, TO) of a daily model (the events loaded in
                   [FROM, TO) of an append model) from the rows loaded up to its upper limit, in
                   one transaction, the range manifest unchanged: incmodel.backfill with the
                   extension, else the package's incmodel."backfill_MODEL"; then the post-commit
                   statements, as refresh
  maintain [MODEL] run the VACUUM / ANALYZE statements the thresholds call for (every model
                   without MODEL)
  status [MODEL]   the last run of each model

Options:
  --dsn DSN        connection string of the database to act on (default: the PG* environment)
  --from-dsn DSN   deploy/export: the database with the extension to export the package from
  --package FILE   deploy: a package written by `incmodel export`
  --output FILE    export: write to FILE instead of stdout
  --dialect D      redshift | postgres (export/deploy: the package's; others: the engine's,
                   detected from version() by default)
  --commit C       export/deploy --from-dsn: delete_insert (default: one transaction) | append
                   (DELETE committed by the procedure, rows appended after it: ALTER TABLE
                   APPEND on Redshift; refresh finishes a pending append first)
  --dry-run        print the SQL instead of running it
  --verbose        also print the server's notices
  --help           this text

Exit status: 0 done, 1 failed, 2 usage or a malformed package (nothing executed), 3 skipped
(another refresh holds the model).
)";

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Options {
    std::string command;
    std::vector<std::string> args;
    std::optional<std::string> dsn, from_dsn, package, output, dialect, commit;
    bool dry_run = false, verbose = false, help = false;
};

Options parse_args(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::optional<std::string> inline_value;
        if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
            inline_value = a.substr(a.find('=') + 1);
            a = a.substr(0, a.find('='));
        }
        auto value = [&](const char *name) -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= argc) throw UsageError(std::string(name) + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h")
            o.help = true;
        else if (a == "--dsn")
            o.dsn = value("--dsn");
        else if (a == "--from-dsn")
            o.from_dsn = value("--from-dsn");
        else if (a == "--package")
            o.package = value("--package");
        else if (a == "--output" || a == "-o")
            o.output = value("--output");
        else if (a == "--dialect")
            o.dialect = value("--dialect");
        else if (a == "--commit")
            o.commit = value("--commit");
        else if (a == "--dry-run")
            o.dry_run = true;
        else if (a == "--verbose" || a == "-v")
            o.verbose = true;
        else if (a.rfind("-", 0) == 0 && a.size() > 1)
            throw UsageError("unknown option " + a);
        else if (o.command.empty())
            o.command = a;
        else
            o.args.push_back(a);
    }
    if (o.dialect && *o.dialect != "redshift" && *o.dialect != "postgres")
        throw UsageError("--dialect must be redshift or postgres");
    if (o.commit && *o.commit != "delete_insert" && *o.commit != "append")
        throw UsageError("--commit must be delete_insert or append");
    return o;
}

// ---------------------------------------------------------------------------------------------
// libpq
// ---------------------------------------------------------------------------------------------
struct DbError : std::runtime_error {
    std::string sqlstate;
    DbError(const std::string &m, std::string state)
        : std::runtime_error(m), sqlstate(std::move(state)) {}
};

class Connection {
  public:
    explicit Connection(const std::optional<std::string> &dsn, bool verbose) : verbose_(verbose) {
        conn_ = PQconnectdb(dsn ? dsn->c_str() : "");
        if (PQstatus(conn_) != CONNECTION_OK) {
            std::string msg = PQerrorMessage(conn_);
            PQfinish(conn_);
            conn_ = nullptr;
            throw DbError("could not connect: " + trim(msg), "");
        }
        PQsetNoticeReceiver(conn_, &Connection::on_notice, this);
    }
    ~Connection() {
        if (conn_) PQfinish(conn_);
    }
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    using Rows = std::vector<std::vector<std::optional<std::string>>>;

    // Runs one statement (simple protocol: works for CALL and utility statements on both engines).
    Rows exec(const std::string &sql) {
        std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn_, sql.c_str()), &PQclear);
        ExecStatusType st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            const char *state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
            throw DbError(error_message(r.get()), state ? state : "");
        }
        Rows rows;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            std::vector<std::optional<std::string>> row;
            for (int j = 0; j < PQnfields(r.get()); ++j)
                row.push_back(PQgetisnull(r.get(), i, j)
                                  ? std::nullopt
                                  : std::optional<std::string>(PQgetvalue(r.get(), i, j)));
            rows.push_back(std::move(row));
        }
        return rows;
    }

    std::optional<std::string> scalar(const std::string &sql) {
        Rows r = exec(sql);
        if (r.empty() || r[0].empty()) return std::nullopt;
        return r[0][0];
    }

    std::string literal(const std::string &s) {
        char *l = PQescapeLiteral(conn_, s.c_str(), s.size());
        if (!l) throw DbError(PQerrorMessage(conn_), "");
        std::string out(l);
        PQfreemem(l);
        return out;
    }

    std::string identifier(const std::string &s) {
        char *l = PQescapeIdentifier(conn_, s.c_str(), s.size());
        if (!l) throw DbError(PQerrorMessage(conn_), "");
        std::string out(l);
        PQfreemem(l);
        return out;
    }

    std::vector<std::string> take_notices() { return std::move(notices_); }

    // False once the server went away (terminated, network lost): nothing more can run here.
    bool alive() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

    static std::string trim(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s;
    }

  private:
    // The result's message; when the connection was lost libpq may return no result or one
    // without a message, and the reason is the connection's.
    std::string error_message(const PGresult *r) const {
        std::string msg = r ? trim(PQresultErrorMessage(r)) : "";
        if (msg.empty()) msg = trim(PQerrorMessage(conn_));
        if (PQstatus(conn_) != CONNECTION_OK)
            msg = "connection to the server lost" + (msg.empty() ? "" : ": " + msg);
        return msg.empty() ? "unknown error (libpq reported none)" : msg;
    }

    static void on_notice(void *arg, const PGresult *res) {
        auto *self = static_cast<Connection *>(arg);
        std::string msg = trim(PQresultErrorMessage(res));
        self->notices_.push_back(msg);
        if (self->verbose_) std::cerr << msg << "\n";
    }

    PGconn *conn_ = nullptr;
    bool verbose_;
    std::vector<std::string> notices_;
};

enum class Engine { Redshift, Postgres };

Engine engine_of(Connection &c, const Options &o) {
    if (o.dialect) return *o.dialect == "redshift" ? Engine::Redshift : Engine::Postgres;
    auto v = c.scalar("SELECT version()");
    return v && v->find("Redshift") != std::string::npos ? Engine::Redshift : Engine::Postgres;
}

// A PostgreSQL with the extension installed (rather than a deployed package).
bool has_extension(Connection &c, Engine e) {
    if (e == Engine::Redshift) return false;
    return c.scalar("SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'incmodel'") ==
           std::optional<std::string>("1");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string need_model(const Options &o) {
    if (o.args.size() != 1) throw UsageError(o.command + " needs exactly one MODEL");
    return o.args[0];
}

// ---------------------------------------------------------------------------------------------
// export / deploy
// ---------------------------------------------------------------------------------------------
// commit: --commit, passed only when given (an extension before 0.5.0 has no such argument).
std::vector<incmodel::core::PackageStatement> fetch_package(
    Connection &c, const std::string &model, const std::string &dialect,
    const std::optional<std::string> &commit) {
    auto rows =
        c.exec("SELECT step, part, sql FROM incmodel.export(" + c.literal(model) + ", " +
               c.literal(dialect) + (commit ? ", commit => " + c.literal(*commit) : std::string()) +
               ") ORDER BY step");
    std::vector<incmodel::core::PackageStatement> parts;
    for (auto &r : rows) {
        if (r.size() != 3 || !r[0] || !r[1] || !r[2])
            throw incmodel::core::PackageFormatError("incmodel.export() returned a NULL column");
        parts.push_back({std::stoi(*r[0]), *r[1], *r[2]});
    }
    return parts;
}

int cmd_export(const Options &o) {
    const std::string model = need_model(o);
    const std::string dialect = o.dialect.value_or("redshift");
    Connection c(o.from_dsn ? o.from_dsn : o.dsn, o.verbose);
    std::string text;
    try {
        text = incmodel::core::write_package(model, dialect,
                                             fetch_package(c, model, dialect, o.commit));
    } catch (const incmodel::core::PackageFormatError &e) {
        std::cerr << "incmodel export: refusing to write the package of model \""
                  << incmodel::core::escape_header_text(model) << "\": " << e.what() << "\n";
        return kExitFailed;
    }
    if (o.output) {
        std::ofstream f(*o.output, std::ios::binary);
        f << text;
        if (!f) throw std::runtime_error("could not write " + *o.output);
        std::cerr << "incmodel: wrote the " << dialect << " package of "
                  << incmodel::core::escape_header_text(model) << " to " << *o.output << "\n";
    } else {
        std::cout << text;
    }
    return kExitOk;
}

// The package to deploy, checked whole before anything is sent to the server: from a file
// (parse_package: header, markers, lengths, part order) or from --from-dsn (the same part rules).
// Throws PackageFormatError for a malformed package, UsageError for conflicting arguments.
incmodel::core::Package load_package(const Options &o, std::string &what) {
    if (o.package) {
        std::ifstream f(*o.package, std::ios::binary);
        if (!f) throw std::runtime_error("could not read " + *o.package);
        std::stringstream ss;
        ss << f.rdbuf();
        incmodel::core::Package pkg = incmodel::core::parse_package(ss.str());
        what = *o.package;
        if (o.dialect && *o.dialect != pkg.dialect)
            throw UsageError("--dialect " + *o.dialect + " but " + *o.package + " is a " +
                             pkg.dialect + " package");
        if (o.args.size() > 1 || (o.args.size() == 1 && o.args[0] != pkg.model))
            throw UsageError("MODEL does not match the package's model \"" +
                             incmodel::core::escape_header_text(pkg.model) + "\"");
        return pkg;
    }
    if (o.from_dsn) {
        const std::string model = need_model(o);
        const std::string dialect = o.dialect.value_or("redshift");
        Connection src(o.from_dsn, o.verbose);
        incmodel::core::Package pkg{model, dialect, fetch_package(src, model, dialect, o.commit)};
        incmodel::core::validate_parts(pkg.parts);
        what = "model " + incmodel::core::escape_header_text(model);
        return pkg;
    }
    throw UsageError("deploy needs --package FILE or --from-dsn DSN with a MODEL");
}

int cmd_deploy(const Options &o) {
    incmodel::core::Package pkg;
    std::string what;
    try {
        pkg = load_package(o, what);
    } catch (const incmodel::core::PackageFormatError &e) {
        std::cerr << "incmodel deploy: "
                  << (o.package ? *o.package : std::string("the exported package"))
                  << " is not a valid incmodel package: " << e.what()
                  << "\nNothing was executed. Deploy the file exactly as `incmodel export` "
                     "wrote it (export it again with this version).\n";
        return kExitUsage;
    }
    std::vector<std::string> statements;
    for (const auto &p : pkg.parts)
        if (p.part == "ddl" || p.part == "procedure" || p.part == "dispatcher")
            statements.push_back(p.sql);
    if (o.dry_run) {
        std::cout << "BEGIN;\n";
        for (const auto &s : statements) std::cout << s << ";\n";
        std::cout << "COMMIT;\n";
        return kExitOk;
    }
    auto t0 = std::chrono::steady_clock::now();
    Connection c(o.dsn, o.verbose);
    c.exec("BEGIN");
    try {
        for (const auto &s : statements) c.exec(s);
        c.exec("COMMIT");
    } catch (...) {
        try {
            c.exec("ROLLBACK");
        } catch (...) {
        }
        throw;
    }
    std::printf("deployed %s: %zu statements (%.2f s)\n", what.c_str(), statements.size(),
                seconds_since(t0));
    return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// refresh / maintain / status
// ---------------------------------------------------------------------------------------------
// Runs the statements a post_commit / maintenance query lists, each on its own (autocommit).
std::vector<std::string> run_listed(Connection &c, const std::string &query, bool dry_run) {
    std::vector<std::string> done;
    for (auto &r : c.exec(query)) {
        if (!r[0]) continue;
        if (dry_run) {
            std::cout << *r[0] << ";\n";
        } else {
            c.exec(*r[0]);
        }
        done.push_back(*r[0]);
    }
    return done;
}

std::map<std::string, std::string> parse_run_notice(const std::vector<std::string> &notices) {
    std::map<std::string, std::string> kv;
    for (const auto &n : notices) {
        auto pos = n.find("incmodel-run ");
        if (pos == std::string::npos) continue;
        kv.clear();
        std::istringstream in(n.substr(pos + 13));
        std::string f;
        while (in >> f) {
            auto eq = f.find('=');
            if (eq != std::string::npos) kv[f.substr(0, eq)] = f.substr(eq + 1);
        }
    }
    return kv;
}

int refresh_with_extension(Connection &c, const Options &o, const std::string &model) {
    const std::string call = "CALL incmodel.refresh(" + c.literal(model) + ", skip_locked => true)";
    if (o.dry_run) {
        std::cout << call << ";\n";
        return kExitOk;
    }
    auto t0 = std::chrono::steady_clock::now();
    try {
        c.exec(call);
    } catch (const DbError &e) {
        std::printf("%s: failed (%.2f s): %s\n", model.c_str(), seconds_since(t0), e.what());
        return kExitFailed;
    }
    auto r = c.exec(
        "SELECT outcome, batches, events, keys, rows_deleted, rows_inserted FROM incmodel.runs "
        "WHERE model_name = " +
        c.literal(model) + " ORDER BY run_id DESC LIMIT 1");
    auto v = [&](int i) { return r.empty() || !r[0][i] ? std::string("0") : *r[0][i]; };
    const std::string outcome = r.empty() ? "unknown" : v(0);
    std::printf("%s: %s, %s batches, %s events, %s keys, %s rows deleted, %s inserted (%.2f s)\n",
                model.c_str(), outcome.c_str(), v(1).c_str(), v(2).c_str(), v(3).c_str(),
                v(4).c_str(), v(5).c_str(), seconds_since(t0));
    return outcome == "skipped" ? kExitSkipped : kExitOk;
}

// Another session holds the model: PostgreSQL, the package's advisory lock; Redshift, an
// exclusive lock on the model's manifest (the procedure LOCKs it first), found in pg_class
// (readable by the owner, unlike svv_table_info) by names compared in lower case, as Redshift
// folds them.
bool held_elsewhere(Connection &c, Engine e, const std::string &model) {
    if (e == Engine::Postgres)
        return c.scalar("SELECT pg_try_advisory_lock(" + std::string(kLockClass) + ", hashtext(" +
                        c.literal(model) + "))") != std::optional<std::string>("t");
    return c.scalar(incmodel::core::redshift_lock_probe(c.literal("incmodel"),
                                                        c.literal("manifest_" + model))) !=
           std::optional<std::string>("0");
}

// Appends a failed run to incmodel.run_log: on c, or when c's server went away (the refresh
// rolled back with it) on a new connection. False when neither could record it.
bool record_failed_run(Connection &c, const Options &o, const std::string &model,
                       const std::string &now, const std::string &message) {
    auto insert = [&](Connection &db) {
        db.exec(
            "INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome, message) "
            "VALUES (" +
            db.literal(model) + ", " + now + ", " + now + ", 'failed', " + db.literal(message) +
            ")");
    };
    try {
        if (c.alive()) {
            insert(c);
        } else {
            Connection again(o.dsn, o.verbose);
            insert(again);
        }
        return true;
    } catch (const std::exception &) {
        return false;
    }
}

int cmd_refresh(const Options &o) {
    const std::string model = need_model(o);
    Connection c(o.dsn, o.verbose);
    const Engine e = engine_of(c, o);
    if (has_extension(c, e)) return refresh_with_extension(c, o, model);
    auto reg = c.exec("SELECT target_table, post_commit_sql FROM incmodel.registry WHERE model = " +
                      c.literal(model));
    if (reg.empty()) {
        std::fprintf(stderr, "incmodel: model \"%s\" is not deployed in this database\n",
                     model.c_str());
        return kExitFailed;
    }
    const std::string post_commit = reg[0][1].value_or("");
    const std::string call = "CALL incmodel.refresh(" + c.literal(model) + ")";
    if (o.dry_run) {
        std::cout << call << ";\n-- after the commit, outside any transaction:\n";
        run_listed(c, post_commit, true);
        return kExitOk;
    }
    auto t0 = std::chrono::steady_clock::now();
    const std::string now = e == Engine::Redshift ? "GETDATE()" : "now()";
    if (held_elsewhere(c, e, model)) {
        c.exec("INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome) VALUES (" +
               c.literal(model) + ", " + now + ", " + now + ", 'skipped')");
        std::printf("%s: skipped, another refresh holds the model\n", model.c_str());
        return kExitSkipped;
    }
    int status = kExitOk;
    std::string summary;
    // A DELETE + APPEND package: an append the last run left pending (its post-commit step did
    // not run, or failed) is finished before anything else. The procedure is correct without it
    // (it treats target + staging as the model's rows); this keeps the gap readers see short.
    if (post_commit.find("pending_append") != std::string::npos) {
        try {
            std::vector<std::string> done;
            for (auto &r : c.exec(post_commit))
                if (r[0] && r[0]->rfind("ANALYZE", 0) != 0) {  // the append, not the ANALYZEs
                    c.exec(*r[0]);
                    done.push_back(*r[0]);
                }
            if (!done.empty())
                summary =
                    "pending append finished (" + std::to_string(done.size()) + " statement(s)); ";
        } catch (const DbError &err) {
            std::printf("%s: failed: finishing the pending append: %s (%.2f s)\n", model.c_str(),
                        err.what(), seconds_since(t0));
            if (e == Engine::Postgres && c.alive())
                c.exec("SELECT pg_advisory_unlock(" + std::string(kLockClass) + ", hashtext(" +
                       c.literal(model) + "))");
            return kExitFailed;
        }
    }
    try {
        c.exec(call);
        auto kv = parse_run_notice(c.take_notices());
        summary = model + ": " + summary + (kv.count("outcome") ? kv["outcome"] : "done") + ", " +
                  kv["batches"] + " batches, " + kv["events"] + " events, " + kv["keys"] +
                  " keys, " + kv["deleted"] + " rows deleted, " + kv["inserted"] + " inserted";
    } catch (const DbError &err) {
        status = kExitFailed;
        summary = model + ": failed: " + err.what();
        if (!record_failed_run(c, o, model, now, err.what()))
            summary += " (the failed run could not be recorded in incmodel.run_log)";
    }
    if (e == Engine::Postgres && c.alive())
        c.exec("SELECT pg_advisory_unlock(" + std::string(kLockClass) + ", hashtext(" +
               c.literal(model) + "))");
    if (status == kExitOk) {
        try {
            auto done = run_listed(c, post_commit, false);
            if (!done.empty())
                summary += "; post-commit: " + std::to_string(done.size()) + " statement(s)";
        } catch (const DbError &err) {
            summary += "; post-commit failed: " + std::string(err.what());
            status = kExitFailed;
        }
    }
    std::printf("%s (%.2f s)\n", summary.c_str(), seconds_since(t0));
    return status;
}

// A MODEL that this database does not know: a message and a failure, not an empty success.
int unknown_model(const char *command, const std::string &model) {
    std::fprintf(stderr, "incmodel %s: model \"%s\" is not deployed in this database (see %s)\n",
                 command, model.c_str(),
                 "incmodel.registry, or incmodel.status with the extension");
    return kExitFailed;
}

// The extension's backfill(name, from, to): the rows written, or the failure.
int backfill_with_extension(Connection &c, const Options &o, const std::string &model,
                            const std::string &from, const std::string &to) {
    const std::string call = "SELECT incmodel.backfill(" + c.literal(model) + ", " +
                             c.literal(from) + ", " + c.literal(to) + ")";
    if (o.dry_run) {
        std::cout << call << ";\n";
        return kExitOk;
    }
    auto t0 = std::chrono::steady_clock::now();
    try {
        auto rows = c.scalar(call);
        std::printf("%s: backfill success, %s rows written (%.2f s)\n", model.c_str(),
                    rows.value_or("0").c_str(), seconds_since(t0));
        return kExitOk;
    } catch (const DbError &e) {
        std::printf("%s: backfill failed (%.2f s): %s\n", model.c_str(), seconds_since(t0),
                    e.what());
        return kExitFailed;
    }
}

// `incmodel backfill MODEL FROM TO`: a daily or append package's incmodel."backfill_<model>"
// (or the extension's backfill), run as refresh runs the refresh procedure: skipped (exit 3)
// while another session holds the model, a failure recorded in incmodel.run_log, the post-commit
// statements after the commit.
int cmd_backfill(const Options &o) {
    if (o.args.size() != 3) throw UsageError("backfill needs MODEL FROM TO");
    const std::string &model = o.args[0], &from = o.args[1], &to = o.args[2];
    Connection c(o.dsn, o.verbose);
    const Engine e = engine_of(c, o);
    if (has_extension(c, e)) return backfill_with_extension(c, o, model, from, to);
    auto reg =
        c.exec("SELECT post_commit_sql FROM incmodel.registry WHERE model = " + c.literal(model));
    if (reg.empty()) return unknown_model("backfill", model);
    const std::string post_commit = reg[0][0].value_or("");
    const std::string call = "CALL incmodel." + c.identifier("backfill_" + model) + "(" +
                             c.literal(from) + ", " + c.literal(to) + ")";
    if (o.dry_run) {
        std::cout << call << ";\n-- after the commit, outside any transaction:\n";
        run_listed(c, post_commit, true);
        return kExitOk;
    }
    auto t0 = std::chrono::steady_clock::now();
    const std::string now = e == Engine::Redshift ? "GETDATE()" : "now()";
    if (held_elsewhere(c, e, model)) {
        c.exec("INSERT INTO incmodel.run_log (model, started_at, finished_at, outcome) VALUES (" +
               c.literal(model) + ", " + now + ", " + now + ", 'skipped')");
        std::printf("%s: skipped, another run holds the model\n", model.c_str());
        return kExitSkipped;
    }
    int status = kExitOk;
    std::string summary;
    try {
        c.exec(call);
        auto kv = parse_run_notice(c.take_notices());
        summary = model + ": backfill " + (kv.count("outcome") ? kv["outcome"] : "done") + ", " +
                  kv["keys"] + " keys, " + kv["deleted"] + " rows deleted, " + kv["inserted"] +
                  " inserted";
    } catch (const DbError &err) {
        status = kExitFailed;
        summary = model + ": backfill failed: " + err.what();
        if (err.sqlstate == "42883")
            summary += " (only the packages of daily and append models have a backfill)";
        if (!record_failed_run(c, o, model, now, std::string("backfill: ") + err.what()))
            summary += " (the failed run could not be recorded in incmodel.run_log)";
    }
    if (e == Engine::Postgres && c.alive())
        c.exec("SELECT pg_advisory_unlock(" + std::string(kLockClass) + ", hashtext(" +
               c.literal(model) + "))");
    if (status == kExitOk) {
        try {
            auto done = run_listed(c, post_commit, false);
            if (!done.empty())
                summary += "; post-commit: " + std::to_string(done.size()) + " statement(s)";
        } catch (const DbError &err) {
            summary += "; post-commit failed: " + std::string(err.what());
            status = kExitFailed;
        }
    }
    std::printf("%s (%.2f s)\n", summary.c_str(), seconds_since(t0));
    return status;
}

int cmd_maintain(const Options &o) {
    Connection c(o.dsn, o.verbose);
    const Engine e = engine_of(c, o);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> done;
    if (has_extension(c, e)) {
        if (!o.args.empty() && c.scalar("SELECT count(*) FROM incmodel.status WHERE model = " +
                                        c.literal(o.args[0])) == std::optional<std::string>("0"))
            return unknown_model("maintain", o.args[0]);
        done = run_listed(c, "SELECT * FROM incmodel.maintenance_commands()", o.dry_run);
    } else {
        std::string q = "SELECT model, maintenance_sql FROM incmodel.registry";
        if (!o.args.empty()) q += " WHERE model = " + c.literal(o.args[0]);
        auto models = c.exec(q + " ORDER BY model");
        if (!o.args.empty() && models.empty()) return unknown_model("maintain", o.args[0]);
        for (auto &r : models) {
            auto d = run_listed(c, r[1].value_or("SELECT NULL"), o.dry_run);
            done.insert(done.end(), d.begin(), d.end());
        }
    }
    if (!o.dry_run) {
        for (const auto &s : done) std::printf("%s\n", s.c_str());
        std::printf("maintenance: %zu statement(s) (%.2f s)\n", done.size(), seconds_since(t0));
    }
    return kExitOk;
}

int cmd_status(const Options &o) {
    Connection c(o.dsn, o.verbose);
    const Engine e = engine_of(c, o);
    Connection::Rows rows;
    std::array<const char *, 3> header{};
    std::string filter = o.args.empty() ? "" : c.literal(o.args[0]);
    if (has_extension(c, e)) {
        rows = c.exec(
            "SELECT model, coalesce(last_outcome, '-'), coalesce(last_success::text, '-'), "
            "coalesce(pending_batches::text, '-'), coalesce(pending_events::text, '-') FROM "
            "incmodel.status" +
            (filter.empty() ? "" : " WHERE model = " + filter) + " ORDER BY 1");
        header = {"last success", "pending", "events"};
    } else {
        rows = c.exec(
            "SELECT r.model, COALESCE(l.outcome, '-'), COALESCE(CAST(l.finished_at AS VARCHAR), "
            "'-'), COALESCE(CAST(l.batches AS VARCHAR), '-'), COALESCE(CAST(l.events AS VARCHAR), "
            "'-') FROM incmodel.registry r LEFT JOIN (SELECT model, outcome, finished_at, batches, "
            "events, ROW_NUMBER() OVER (PARTITION BY model ORDER BY started_at DESC) AS rn FROM "
            "incmodel.run_log) l ON l.model = r.model AND l.rn = 1" +
            (filter.empty() ? "" : " WHERE r.model = " + filter) + " ORDER BY 1");
        header = {"finished", "batches", "events"};
    }
    if (!o.args.empty() && rows.empty()) return unknown_model("status", o.args[0]);
    std::printf("%-24s %-10s %-32s %8s %10s\n", "model", "outcome", header[0], header[1],
                header[2]);
    for (auto &r : rows)
        std::printf("%-24s %-10s %-32s %8s %10s\n", r[0]->c_str(), r[1]->c_str(), r[2]->c_str(),
                    r[3]->c_str(), r[4]->c_str());
    return kExitOk;
}

}  // namespace

int main(int argc, char **argv) {
    Options o;
    try {
        o = parse_args(argc, argv);
        if (o.help || o.command == "help") {
            std::cout << kUsage;
            return kExitOk;
        }
        if (o.command == "version" || o.command == "--version") {
            std::cout << "incmodel " << incmodel::core::kVersion << "\n";
            return kExitOk;
        }
        if (o.command == "export") return cmd_export(o);
        if (o.command == "deploy") return cmd_deploy(o);
        if (o.command == "refresh") return cmd_refresh(o);
        if (o.command == "backfill") return cmd_backfill(o);
        if (o.command == "maintain") return cmd_maintain(o);
        if (o.command == "status") return cmd_status(o);
        throw UsageError(o.command.empty() ? "no command given" : "unknown command " + o.command);
    } catch (const UsageError &e) {
        std::cerr << "incmodel: " << e.what() << "\n\n" << kUsage;
        return kExitUsage;
    } catch (const std::exception &e) {
        std::cerr << "incmodel " << o.command << ": " << e.what() << "\n";
        return kExitFailed;
    }
}
