// Formats events as PostgreSQL COPY rows (text or CSV) into a large buffer and writes it to a
// FILE* (or keeps it in memory for tests). This is where the generator spends most of its time,
// so it avoids iostreams, locales and per-field allocation.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "copy_escape.hpp"
#include "event.hpp"

namespace incmodel::eventgen {

// Column names of atomic.events in output order (for the CSV header and documentation).
extern const char *const kColumnNames[];
extern const int kColumnCount;

class RowWriter : public EventSink {
  public:
    // Writes to `out` (not owned); with out == nullptr rows accumulate in text() instead.
    RowWriter(Format format, std::FILE *out);
    ~RowWriter() override;
    RowWriter(const RowWriter &) = delete;
    RowWriter &operator=(const RowWriter &) = delete;

    // Writes the CSV header line (column names).
    void WriteHeader();
    // Formats one row.
    void Consume(const Event &event) override;
    // Pushes buffered bytes to the FILE* and fflush()es it. Returns false if any write failed.
    bool Flush();

    // In-memory mode: everything written so far (call Flush first).
    const std::string &text() const { return memory_; }

  private:
    // Makes room for at least one more row by emptying the buffer.
    void Drain();

    std::FILE *out_;
    const std::string Term::*encoded_;  // &Term::text or &Term::csv
    char delimiter_;
    std::string null_;
    std::vector<char> buffer_;
    size_t used_ = 0;
    bool failed_ = false;
    std::string memory_;
};

}  // namespace incmodel::eventgen
