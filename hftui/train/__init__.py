"""Training runs, without Textual.

Before a run: the spec (`spec.py`), read from typed text by the new-run form (`spec_text.py`), checked before
launch (`validate.py`) against the base model's config and head (`base_model.py`) and the LoRA targets
(`lora.py`). The run: started detached (`launch.py`) as a worker process (`worker.py`) that builds and runs the
Trainer (`trainer.py`) on the dataset made ready for it (`data.py`), explains a failure (`failures.py`), samples
the GPU (`gpu.py`), and whose TrainerCallback (`callback.py`) appends to events.jsonl (`events.py`); metrics
(`metrics.py`) and the model card (`card.py`). Reading runs: run folders, their states and the listing
(`runs.py`), whether a worker is alive (`process.py`), following a folder (`follow.py`): an hftui run, a foreign
Trainer output folder (`foreign.py`) or a TensorBoard log dir (`tensorboard.py`); curves and downsampling
(`series.py`), health alerts (`health.py`), watching one run (`watch.py`) and comparing several (`compare.py`).
The full-vs-LoRA comparison (`lora_compare.py`), measured by a short run of each in its own process
(`lora_measure.py`).
"""
