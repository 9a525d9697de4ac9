"""Repo cards (README.md): reading one (`text`), reading its fields (`fields`), the facts a model or dataset
page shows (`model`, `dataset`), the licence catalogue (`licenses`, data in licenses.json) and what a
fine-tune may declare (`derivatives`), drafting (`draft`), checking (`check`) and editing (`edit`) one."""
