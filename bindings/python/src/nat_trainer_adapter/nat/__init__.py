"""NAT components of the native trainer adapters (needs nvidia-nat-core).

Registered through the ``nat.components`` entry point
(``nat_trainer_adapter.nat.register``):

- trainer adapters ``native_openpipe_art_trainer_adapter`` (NAT's
  ``ARTTrainerAdapterConfig`` fields), ``native_nemo_customizer_trainer_adapter``
  (NAT's ``NeMoCustomizerTrainerAdapterConfig`` fields), ``native_jsonl_export_trainer_adapter``
  and ``native_trainer_adapter`` (any plugin by name or path);
- trajectory builder ``recorded_trajectory_builder`` (replays recorded
  ``TrajectoryCollection`` files);
- trainer ``native_trainer`` (NAT's epoch loop without openpipe-art).
"""
