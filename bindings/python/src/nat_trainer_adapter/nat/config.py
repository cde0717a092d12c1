"""NAT configs of the native components (``_type`` names of the YAML).

``native_openpipe_art_trainer_adapter`` has the fields of NAT's
``ARTTrainerAdapterConfig`` (``nat.plugins.openpipe.config``) with the same
names, defaults and required keys, so a config switches between NAT's adapter
and the native one by its ``_type`` alone. ART's typed dicts
(``init_args``, ``engine_args``, ``server_config``, ``training``) are plain
mappings here, so that neither ``openpipe-art`` nor its dependencies are
needed; the plugin checks what it uses (numbers given as strings, as YAML
reads ``1e-5``, included) and passes the rest to the server as NAT does.
The optional ``native`` section holds the plugin's own options.

``native_nemo_customizer_trainer_adapter`` is the same for NAT's
``NeMoCustomizerTrainerAdapterConfig`` (``nat.plugins.customizer.dpo``):
its fields, defaults and bounds, served by the native NeMo Customizer plugin,
without ``nvidia-nat-nemo-customizer`` and its ``huggingface-hub<2`` pin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import Field
from pydantic import model_validator

from nat.data_models.finetuning import TrainerAdapterConfig
from nat.data_models.finetuning import TrainerConfig
from nat.data_models.finetuning import TrajectoryBuilderConfig

ART_PLUGIN = "openpipe_art_trainer_adapter"
JSONL_EXPORT_PLUGIN = "jsonl_export_trainer_adapter"
CUSTOMIZER_PLUGIN = "nemo_customizer_trainer_adapter"


class NativeARTBackendConfig(BaseModel):
    """NAT's ``ARTBackendConfig``, field for field."""

    ip: str = Field(description="IP Address of Remote Backend")
    port: int = Field(description="Port for Remote Backend")
    name: str = Field(default="trainer_run", description="Name of the Trainer run.")
    project: str = Field(default="trainer_project", description="Project name for the Trainer run.")
    base_model: str = Field(
        description="Base model to use for the training. This is the model that will be fine-tuned.",
        default="Qwen/Qwen2.5-7B-Instruct")
    api_key: str = Field(description="API key for authenticating with the ART backend.", default="default")
    delete_old_checkpoints: bool = Field(description="Whether to delete old checkpoints after a training epoch",
                                         default=False)
    init_args: dict[str, Any] | None = Field(description="Initialization args for Remote Backend (ART InitArgs)",
                                             default=None)
    engine_args: dict[str, Any] | None = Field(description="Engine args for Remote Backend (ART EngineArgs)",
                                               default=None)
    server_config: dict[str, Any] | None = Field(
        description="Server args for Remote Backend (ART OpenAIServerConfig)", default=None)


class NativeARTTrainerAdapterConfig(TrainerAdapterConfig, name="native_openpipe_art_trainer_adapter"):
    """NAT's ``ARTTrainerAdapterConfig`` served by the native openpipe-art plugin."""

    backend: NativeARTBackendConfig = Field(description="Configuration for the ART backend.")
    training: dict[str, Any] | None = Field(description="Training args for Remote Backend (ART TrainerArgs)",
                                            default=None)
    native: dict[str, Any] | None = Field(
        default=None,
        description="Options of the native plugin (timeouts, retries, dialect, validation, spool_dir, ...); "
        "`nat-trainer info openpipe_art_trainer_adapter` shows their JSON Schema.")

    def plugin_config(self) -> dict[str, Any]:
        """The plugin's config JSON: NAT's fields with the plugin's ``_type``."""
        out = self.model_dump(mode="json", exclude={"type", "reward", "native"})
        out["_type"] = ART_PLUGIN
        if self.native is not None:
            out["native"] = self.native
        return out


class NativeDPOHyperparameters(BaseModel):
    """NAT's ``DPOSpecificHyperparameters``."""

    ref_policy_kl_penalty: float = Field(default=0.1, ge=0.0,
                                         description="KL penalty coefficient for reference policy regularization.")
    preference_loss_weight: float = Field(default=1.0, ge=0.0,
                                          description="Scales the contribution of the preference loss")
    preference_average_log_probs: bool = Field(
        default=False, description="Average log probabilities over the sequence length instead of summing them.")
    sft_loss_weight: float = Field(default=0.0, ge=0.0,
                                   description="Scales the contribution of the supervised fine-tuning (SFT) loss.")


class NativeCustomizerHyperparameters(BaseModel):
    """NAT's ``NeMoCustomizerHyperparameters`` (the customization job's ``hyperparameters``)."""

    training_type: Literal["sft", "dpo"] = Field(default="dpo", description="'sft' or 'dpo'.")
    finetuning_type: Literal["lora", "all_weights"] = Field(default="all_weights",
                                                            description="'lora' or 'all_weights'.")
    epochs: int = Field(default=3, ge=1, description="Number of training epochs.")
    batch_size: int = Field(default=4, ge=1, description="Training batch size.")
    learning_rate: float = Field(default=5e-5, gt=0.0, description="Learning rate for optimizer.")
    dpo: NativeDPOHyperparameters = Field(default_factory=NativeDPOHyperparameters,
                                          description="DPO-specific hyperparameters.")


class NativeNIMDeploymentConfig(BaseModel):
    """NAT's ``NIMDeploymentConfig`` (used when ``deploy_on_completion`` is true)."""

    image_name: str = Field(default="nvcr.io/nim/nvidia/nemotron-3.5-lightning-30b-a3b",
                            description="NIM container image name.")
    image_tag: str = Field(default="latest", description="NIM container image tag.")
    gpu: int = Field(default=1, ge=1, description="Number of GPUs for deployment.")
    deployment_name: str | None = Field(default=None,
                                        description="Name for the deployment; None: made from the model name.")
    description: str = Field(default="Fine-tuned model deployment", description="Description for the deployment.")


class NativeNeMoCustomizerTrainerAdapterConfig(TrainerAdapterConfig, name="native_nemo_customizer_trainer_adapter"):
    """NAT's ``NeMoCustomizerTrainerAdapterConfig`` served by the native NeMo Customizer plugin (DPO through NeMo
    Microservices). Differences from NAT's adapter: ``is_healthy`` asks both services, and an empty ``hf_token``
    sends no Authorization header."""

    entity_host: str = Field(description="Base URL for NeMo Entity Store (e.g., https://nmp.example.com).")
    datastore_host: str = Field(description="Base URL for NeMo Datastore (e.g., https://datastore.example.com).")
    hf_token: str = Field(default="", description="HuggingFace token for datastore authentication; may be empty.")
    namespace: str = Field(description="Namespace for organizing resources (datasets, models, deployments).")
    dataset_name: str = Field(default="nat-dpo", description="Name for the training dataset.")
    dataset_output_dir: str | None = Field(
        default=None, description="Directory that keeps the dataset's JSONL files; None: a temporary directory.")
    create_namespace_if_missing: bool = Field(
        default=True, description="Create the namespace in the entity store and the datastore if missing.")
    customization_config: str = Field(
        description="Model configuration of the customization job (e.g. 'meta/llama-3.2-1b-instruct@v1.0.0+A100').")
    hyperparameters: NativeCustomizerHyperparameters = Field(default_factory=NativeCustomizerHyperparameters,
                                                             description="Hyperparameters for the training job.")
    use_full_message_history: bool = Field(
        default=False, description="Prompt as the full message list instead of the last message's content.")
    deploy_on_completion: bool = Field(default=False,
                                       description="Deploy the trained model after the job completes.")
    deployment_config: NativeNIMDeploymentConfig = Field(default_factory=NativeNIMDeploymentConfig,
                                                         description="Configuration of the deployment.")
    poll_interval_seconds: float = Field(default=30.0, gt=0.0,
                                         description="Interval in seconds between job status checks.")
    deployment_timeout_seconds: float = Field(default=1800.0, gt=0.0,
                                              description="Maximum time to wait for the deployment to be ready.")
    max_consecutive_status_failures: int = Field(
        default=3, ge=1, le=10, description="Consecutive failed status checks before the job counts as failed.")
    native: dict[str, Any] | None = Field(
        default=None,
        description="Options of the native plugin (timeouts, retries, spool_dir, ...); "
        "`nat-trainer info nemo_customizer_trainer_adapter` shows their JSON Schema.")

    @model_validator(mode="after")
    def _strip_hosts(self) -> "NativeNeMoCustomizerTrainerAdapterConfig":
        self.entity_host = self.entity_host.rstrip("/")
        self.datastore_host = self.datastore_host.rstrip("/")
        return self

    def plugin_config(self) -> dict[str, Any]:
        """The plugin's config JSON: NAT's fields with the plugin's ``_type``."""
        out = self.model_dump(mode="json", exclude={"type", "reward", "native"})
        out["_type"] = CUSTOMIZER_PLUGIN
        if self.native is not None:
            out["native"] = self.native
        return out


class NativeJsonlExportTrainerAdapterConfig(TrainerAdapterConfig, name="native_jsonl_export_trainer_adapter"):
    """The JSONL export plugin: every submit writes the converted ART trajectory groups, one per line, to
    ``<output_dir>/<run_id>.<unix ms>.<pid>.<job_id>.jsonl`` (never replacing a file) and trains nothing."""

    output_dir: str = Field(default="./.tmp/nat/finetuning/jsonl_export",
                            description="Directory that receives one <run_id>.<unix ms>.<pid>.<job_id>.jsonl dataset per submit.")
    native: dict[str, Any] | None = Field(default=None, description="Options of the plugin (validation, max_json_depth).")

    def plugin_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"_type": JSONL_EXPORT_PLUGIN, "output_dir": self.output_dir}
        if self.native is not None:
            out["native"] = self.native
        return out


class NativeTrainerAdapterConfig(TrainerAdapterConfig, name="native_trainer_adapter"):
    """Any native trainer adapter plugin: ``plugin`` names it (its ``_type``, as ``nat-trainer list`` shows) or is
    the path of its shared object; ``config`` is the plugin's config."""

    plugin: str = Field(description="Plugin name (e.g. openpipe_art_trainer_adapter, jsonl_export_trainer_adapter) "
                        "or path of a plugin shared object.")
    config: dict[str, Any] = Field(default_factory=dict,
                                   description="The plugin's config (its `_type` defaults to the plugin name).")
    plugin_dirs: list[str] = Field(default_factory=list,
                                   description="Directories searched for the plugin before the default ones.")

    def plugin_config(self) -> dict[str, Any]:
        out = dict(self.config)
        if "_type" not in out and "type" not in out and "/" not in self.plugin and not self.plugin.endswith(".so"):
            out["_type"] = self.plugin
        return out


class RecordedTrajectoryBuilderConfig(TrajectoryBuilderConfig, name="recorded_trajectory_builder"):
    """Replays recorded ``TrajectoryCollection`` JSON files instead of running the workflow: epoch ``i`` uses file
    ``i % len(files)`` (files in the order given; a directory stands for its ``*.json`` files, sorted)."""

    paths: list[Path] = Field(description="TrajectoryCollection JSON files or directories of them.", min_length=1)
    keep_run_id: bool = Field(default=False,
                              description="Keep the run_id recorded in the file instead of the trainer's run_id.")


class NativeTrainerConfig(TrainerConfig, name="native_trainer"):
    """NAT's ``openpipe_art_trainer`` loop (epochs, curriculum learning, progress files) for any trainer adapter,
    without the ``openpipe-art`` package."""

    backend: str = Field(default="openpipe-art",
                         description="Backend name in the statuses the trainer makes up for epochs without a job.")
