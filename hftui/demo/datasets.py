"""The demo's small local datasets: short English reviews with sentiment labels, and tiny labelled images.

Written by hftui itself (no third-party text), deterministic, so re-seeding produces identical files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SENTIMENT_CARD = """---
license: cc0-1.0
language:
- en
task_categories:
- text-classification
size_categories:
- n<1K
pretty_name: hftui demo sentiment
tags:
- hftui-demo
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train.jsonl
  - split: test
    path: data/test.jsonl
---

# hftui demo sentiment

Short product and film reviews written for hftui's offline demo, each labelled `0` (negative) or
`1` (positive). {n_train} training rows and {n_test} test rows; columns `text` and `label`.

Use it to try the Datasets preview, the Analyzer's sentiment task, or a first fine-tuning run.
It is far too small to train a useful model: it is a demo.
"""

_SUBJECTS = ["film", "phone", "book", "song", "meal", "hotel", "game", "laptop", "show", "camera"]
_POSITIVE = [
    "loved this {s}",
    "the {s} was wonderful",
    "a great {s}, would recommend",
    "this {s} made my day",
    "excellent {s}, worth every penny",
    "the best {s} I have tried",
]
_NEGATIVE = [
    "hated this {s}",
    "the {s} was terrible",
    "a boring {s}, would not recommend",
    "this {s} ruined my evening",
    "awful {s}, a waste of money",
    "the worst {s} I have tried",
]

IMAGE_LABELS = ("red", "green", "blue")


def sentiment_rows(seed: int = 0) -> list[dict[str, object]]:
    """Every (template, subject) pair once, shuffled with a fixed seed."""
    rows = [
        {"text": template.format(s=subject), "label": label}
        for label, templates in ((1, _POSITIVE), (0, _NEGATIVE))
        for template in templates
        for subject in _SUBJECTS
    ]
    random.Random(seed).shuffle(rows)
    return rows


def write_sentiment_dataset(folder: Path, seed: int = 0) -> Path:
    """Write data/train.jsonl, data/test.jsonl and README.md into `folder`."""
    rows = sentiment_rows(seed)
    split = int(len(rows) * 0.8)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", rows[:split]), ("test", rows[split:])):
        lines = "".join(json.dumps(row) + "\n" for row in part)
        (data / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    card = SENTIMENT_CARD.format(n_train=split, n_test=len(rows) - split)
    (folder / "README.md").write_text(card, encoding="utf-8")
    return folder


def write_colour_images(folder: Path, per_label: int = 4, seed: int = 0) -> Path:
    """An image folder (one sub-folder per label) of 32x32 PNGs tinted by their label's colour."""
    from PIL import Image

    generator = random.Random(seed)
    channels = {"red": 0, "green": 1, "blue": 2}
    for label in IMAGE_LABELS:
        target = folder / "train" / label
        target.mkdir(parents=True, exist_ok=True)
        for index in range(per_label):
            pixel = [generator.randint(0, 90) for _ in range(3)]
            pixel[channels[label]] = generator.randint(160, 255)
            Image.new("RGB", (32, 32), tuple(pixel)).save(target / f"{label}_{index}.png", optimize=False)
    (folder / "README.md").write_text(
        "---\nlicense: cc0-1.0\ntask_categories:\n- image-classification\ntags:\n- hftui-demo\n---\n\n"
        "# hftui demo colours\n\nSolid-colour 32x32 images in an image folder, labelled by their dominant "
        "channel (red, green, blue). Made by hftui for the offline demo.\n",
        encoding="utf-8",
    )
    return folder
