// A trainer adapter that trains nothing: it writes each submitted collection,
// converted to ART trajectory groups, as a JSON lines dataset (one group per
// line) into a directory, for training elsewhere. Same validation, the same
// job semantics and events as the ART adapter, so a host can swap one for
// the other by changing the config's _type alone.
#pragma once

#include <string>

#include "adapter/job_adapter.h"
#include "nat/collection_plan.h"

namespace nat {

struct ExportConfig {
  std::string output_dir = "./.tmp/nat/finetuning/jsonl_export";
  ValidationMode validation = ValidationMode::Compat;
  int max_json_depth = 128;
};

ExportConfig parse_export_config(std::string_view json_text);
const char *export_config_schema();

class JsonlExportAdapter : public JobAdapter {
 public:
  static constexpr const char *kType = "jsonl_export_trainer_adapter";
  static constexpr const char *kBackend = "jsonl-export";

  explicit JsonlExportAdapter(ExportConfig config);
  ~JsonlExportAdapter() override;

  void initialize(std::string_view run_config_json) override;
  bool is_healthy() override;
  std::string submit(std::string_view collection_json) override;
  std::string convert(std::string_view collection_json) override;
  std::string resubmit(const std::string &spool_path) override;

 protected:
  nlohmann::json trainer_config_summary() const override;

 private:
  ExportConfig config_;
};

}  // namespace nat
