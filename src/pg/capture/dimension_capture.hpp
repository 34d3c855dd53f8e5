// A change to a relation models read besides their source (a dimension) reaches their keys; see
// dimension_capture.cpp.
#pragma once

namespace incmodel::pg {

// Before commit: queues what the row triggers noted in this transaction for the models that
// watch the noted relations (their values for the models whose routes start from a noted
// column; a full recompute or a 'modify' row for the others, and for the models that need whole
// rows when rows changed where no statement trigger fired), then forgets the notes.
// forget false (a refresh in the changing transaction): the notes stay for the commit, which
// queues them again (what the refresh's step queued may roll back with it; keys queued twice are
// recomputed twice, never lost).
void flush_dimension_notes(bool forget = true);

}  // namespace incmodel::pg
