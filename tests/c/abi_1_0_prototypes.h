/* The functions of ABI 1.0 exactly as the 1.0 header declared them, frozen
 * here: tests/c/abi_1_0_caller.c includes this after nat/trainer_adapter.h,
 * so a compiler refuses the build if a 1.0 function's signature changed.
 * Never edit this file: ABI 1.x only adds. */
#ifndef NAT_TRAINER_ADAPTER_ABI_1_0_PROTOTYPES_H
#define NAT_TRAINER_ADAPTER_ABI_1_0_PROTOTYPES_H

NAT_TRAINER_ADAPTER_API uint32_t nat_trainer_adapter_abi_version(void);
NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_plugin_info(void);
NAT_TRAINER_ADAPTER_API int32_t nat_trainer_adapter_error_code(const nat_trainer_adapter_error *error);
NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_error_message(const nat_trainer_adapter_error *error);
NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_error_free(nat_trainer_adapter_error *error);
NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_buffer_data(const nat_trainer_adapter_buffer *buffer);
NAT_TRAINER_ADAPTER_API size_t nat_trainer_adapter_buffer_size(const nat_trainer_adapter_buffer *buffer);
NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_buffer_free(nat_trainer_adapter_buffer *buffer);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_create(
    const char *config_json, size_t config_len, nat_trainer_adapter **out_adapter);
NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_destroy(nat_trainer_adapter *adapter);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_initialize(
    nat_trainer_adapter *adapter, const char *run_config_json, size_t run_config_len);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_is_healthy(
    nat_trainer_adapter *adapter, int32_t *out_healthy);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_submit(
    nat_trainer_adapter *adapter, const char *collection_json, size_t collection_len,
    nat_trainer_adapter_buffer **out_job_ref);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_status(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len,
    nat_trainer_adapter_buffer **out_status);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_wait_until_complete(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len, double poll_interval_s,
    double timeout_s, nat_trainer_adapter_buffer **out_status);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_cancel(nat_trainer_adapter *adapter,
                                                                              const char *job_ref_json,
                                                                              size_t job_ref_len);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_jobs(
    nat_trainer_adapter *adapter, nat_trainer_adapter_buffer **out_jobs);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_next_event(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len, double timeout_s,
    nat_trainer_adapter_buffer **out_event_or_null);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_log_progress(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len, const char *metrics_json,
    size_t metrics_len, const char *output_dir_or_null);
NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_convert(
    nat_trainer_adapter *adapter, const char *collection_json, size_t collection_len,
    nat_trainer_adapter_buffer **out_body);

#endif
