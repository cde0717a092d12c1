"""Registers the native components with NAT (entry point group ``nat.components``)."""

from nat.builder.builder import Builder
from nat.cli.register_workflow import register_trainer
from nat.cli.register_workflow import register_trainer_adapter
from nat.cli.register_workflow import register_trajectory_builder

from .adapter import NativeNeMoCustomizerTrainerAdapter
from .adapter import NativeTrainerAdapter
from .config import NativeARTTrainerAdapterConfig
from .config import NativeJsonlExportTrainerAdapterConfig
from .config import NativeNeMoCustomizerTrainerAdapterConfig
from .config import NativeTrainerAdapterConfig
from .config import NativeTrainerConfig
from .config import RecordedTrajectoryBuilderConfig
from .trainer import NativeTrainer
from .trajectory_builder import RecordedTrajectoryBuilder

# The build functions yield the adapter and do not close it afterwards: NAT
# leaves the builder's context before training starts. The native handle
# lives as long as the adapter object (and is closed at process exit).


@register_trainer_adapter(config_type=NativeARTTrainerAdapterConfig)
async def register_native_art_trainer_adapter(config: NativeARTTrainerAdapterConfig, builder: Builder):
    yield NativeTrainerAdapter(config, config.plugin_config())


@register_trainer_adapter(config_type=NativeJsonlExportTrainerAdapterConfig)
async def register_native_jsonl_export_trainer_adapter(config: NativeJsonlExportTrainerAdapterConfig,
                                                       builder: Builder):
    yield NativeTrainerAdapter(config, config.plugin_config())


@register_trainer_adapter(config_type=NativeNeMoCustomizerTrainerAdapterConfig)
async def register_native_nemo_customizer_trainer_adapter(config: NativeNeMoCustomizerTrainerAdapterConfig,
                                                          builder: Builder):
    yield NativeNeMoCustomizerTrainerAdapter(config, config.plugin_config())


@register_trainer_adapter(config_type=NativeTrainerAdapterConfig)
async def register_native_trainer_adapter(config: NativeTrainerAdapterConfig, builder: Builder):
    yield NativeTrainerAdapter(config, config.plugin_config(), plugin=config.plugin, plugin_dirs=config.plugin_dirs)


@register_trajectory_builder(config_type=RecordedTrajectoryBuilderConfig)
async def register_recorded_trajectory_builder(config: RecordedTrajectoryBuilderConfig, builder: Builder):
    yield RecordedTrajectoryBuilder(config)


@register_trainer(config_type=NativeTrainerConfig)
async def register_native_trainer(config: NativeTrainerConfig, builder: Builder):
    yield NativeTrainer(config)
