// The kinds of model, peers behind one dispatch (model_ops.cpp): each has its own file with the
// same operations (refresh, rebuild, explain, pending).
//   batch     batch_model.cpp     manifest of batches + change log; touched keys recomputed
//   time      time_model.cpp      load-time ranges; daily aggregates and append (event-level)
//   features  features_model.cpp  reads another model's target; keys its input touched
#pragma once

#include "pg/catalog/model_catalog.hpp"

namespace incmodel::pg {

enum class ModelKind { batch, time, features };

// A model's kind, from its catalog row.
inline ModelKind kind_of(const ModelRecord &m) {
    if (!m.depends_on.empty()) return ModelKind::features;
    if (m.spec.time) return ModelKind::time;
    return ModelKind::batch;
}

}  // namespace incmodel::pg
