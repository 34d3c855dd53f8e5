#include "core/capture_triggers.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace incmodel::core {

std::string create_insert_row_trigger(const std::string &trigger, const std::string &relation,
                                      const std::string &source_literal,
                                      const std::string &column_literal,
                                      const std::string &column) {
    return fmt::format(
        "CREATE TRIGGER {} AFTER INSERT ON {} FOR EACH ROW WHEN "
        "(incmodel.note_source_row({}::pg_catalog.regclass, {}, NEW.{})) EXECUTE FUNCTION "
        "incmodel.log_source_change({})",
        trigger, relation, source_literal, column_literal, column, column_literal);
}

std::string create_insert_statement_trigger(const std::string &trigger, const std::string &relation,
                                            const std::string &column_literal) {
    return fmt::format(
        "CREATE TRIGGER {} AFTER INSERT ON {} FOR EACH STATEMENT EXECUTE FUNCTION "
        "incmodel.log_source_change({})",
        trigger, relation, column_literal);
}

std::string create_modification_row_trigger(const std::string &relation,
                                            const std::string &source_literal) {
    return fmt::format(
        "CREATE TRIGGER {} AFTER UPDATE OR DELETE ON {} FOR EACH ROW WHEN "
        "(incmodel.note_source_modification({}::pg_catalog.regclass)) EXECUTE FUNCTION "
        "incmodel.log_source_modification()",
        kModsTrigger, relation, source_literal);
}

std::vector<std::string> create_relation_capture_triggers(const std::string &relation) {
    std::vector<std::string> out{
        fmt::format("CREATE TRIGGER {} AFTER TRUNCATE ON {} FOR EACH STATEMENT EXECUTE "
                    "FUNCTION incmodel.log_source_modification()",
                    kTruncateTrigger, relation),
        fmt::format("CREATE TRIGGER {} AFTER UPDATE ON {} REFERENCING OLD TABLE AS incmodel_old "
                    "NEW TABLE AS incmodel_new FOR EACH STATEMENT EXECUTE FUNCTION "
                    "incmodel.queue_modified_keys()",
                    kUpdateTrigger, relation),
        fmt::format("CREATE TRIGGER {} AFTER DELETE ON {} REFERENCING OLD TABLE AS incmodel_old "
                    "FOR EACH STATEMENT EXECUTE FUNCTION incmodel.queue_modified_keys()",
                    kDeleteTrigger, relation)};
    for (const char *t : {kTruncateTrigger, kUpdateTrigger, kDeleteTrigger})
        out.push_back(enable_always(relation, t));
    return out;
}

std::string DimensionWatchShape::signature() const {
    std::vector<std::string> numbers;
    for (int a : attnums) numbers.push_back(std::to_string(a));
    return fmt::format("columns={};rows={}", fmt::join(numbers, ","), rows ? 1 : 0);
}

std::vector<std::string> dimension_row_trigger_names(const DimensionWatchShape &shape) {
    if (shape.attnums.empty()) return {kDimensionTrigger};
    return {kDimensionTrigger, kDimensionOldTrigger};
}

std::vector<std::string> create_dimension_row_triggers(const std::string &relation,
                                                       const std::string &relation_literal,
                                                       const DimensionWatchShape &shape) {
    // The signature is digits, '=', ',' and ';': a literal without quoting.
    const std::string function =
        fmt::format("incmodel.log_source_modification('{}')", shape.signature());
    if (shape.attnums.empty())
        return {fmt::format(
            "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} FOR EACH ROW WHEN "
            "(incmodel.note_dimension_change({}::pg_catalog.regclass)) EXECUTE FUNCTION {}",
            kDimensionTrigger, relation, relation_literal, function)};
    std::vector<std::string> numbers, news, olds;
    for (int a : shape.attnums) numbers.push_back(std::to_string(a));
    for (const auto &c : shape.columns) {
        news.push_back("NEW." + c);
        olds.push_back("OLD." + c);
    }
    const auto when = [&](const std::vector<std::string> &values) {
        return fmt::format(
            "incmodel.note_dimension_values({}::pg_catalog.regclass, '{{{}}}'::pg_catalog.int2[], "
            "{})",
            relation_literal, fmt::join(numbers, ","), fmt::join(values, ", "));
    };
    return {fmt::format("CREATE TRIGGER {} AFTER INSERT OR UPDATE ON {} FOR EACH ROW WHEN ({}) "
                        "EXECUTE FUNCTION {}",
                        kDimensionTrigger, relation, when(news), function),
            fmt::format("CREATE TRIGGER {} AFTER UPDATE OR DELETE ON {} FOR EACH ROW WHEN ({}) "
                        "EXECUTE FUNCTION {}",
                        kDimensionOldTrigger, relation, when(olds), function)};
}

std::string create_dimension_truncate_trigger(const std::string &relation) {
    return fmt::format(
        "CREATE TRIGGER {} AFTER TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION "
        "incmodel.log_source_modification()",
        kDimensionTruncateTrigger, relation);
}

std::vector<std::string> create_dimension_statement_triggers(const std::string &relation) {
    return {
        fmt::format("CREATE TRIGGER {} AFTER INSERT ON {} REFERENCING NEW TABLE AS incmodel_new "
                    "FOR EACH STATEMENT EXECUTE FUNCTION incmodel.queue_dimension_values()",
                    kDimensionInsertTrigger, relation),
        fmt::format("CREATE TRIGGER {} AFTER UPDATE ON {} REFERENCING OLD TABLE AS incmodel_old "
                    "NEW TABLE AS incmodel_new FOR EACH STATEMENT EXECUTE FUNCTION "
                    "incmodel.queue_dimension_values()",
                    kDimensionUpdateTrigger, relation),
        fmt::format("CREATE TRIGGER {} AFTER DELETE ON {} REFERENCING OLD TABLE AS incmodel_old "
                    "FOR EACH STATEMENT EXECUTE FUNCTION incmodel.queue_dimension_values()",
                    kDimensionDeleteTrigger, relation),
        enable_always(relation, kDimensionInsertTrigger),
        enable_always(relation, kDimensionUpdateTrigger),
        enable_always(relation, kDimensionDeleteTrigger)};
}

std::string enable_always(const std::string &relation, const std::string &trigger) {
    return fmt::format("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}", relation, trigger);
}

std::string drop_trigger(const std::string &trigger, const std::string &relation) {
    return fmt::format("DROP TRIGGER {} ON {}", trigger, relation);
}

}  // namespace incmodel::core
