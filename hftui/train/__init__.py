"""Training runs, without Textual: a spec (`spec.py`), checked before launch (`validate.py`), started detached
(`launch.py`) as a worker process (`worker.py`) whose TrainerCallback (`callback.py`) appends to events.jsonl
(`events.py`); run folders and their states (`runs.py`), following a run (`follow.py`), curves and downsampling
(`series.py`), health alerts (`health.py`), metrics (`metrics.py`), the model card (`card.py`), LoRA targets
(`lora.py`), the dataset side (`data.py`), GPU samples (`gpu.py`) foreign Trainer output folders (`foreign.py`) and TensorBoard log dirs (`tensorboard.py`), and the
full-vs-LoRA comparison measured by a short run of each (`lora_compare.py`).
"""
