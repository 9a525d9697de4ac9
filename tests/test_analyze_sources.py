"""Analysis inputs from paths: files by extension, folders recursively and sorted, and every bad path a problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftui.analyze.sources import InputProblem, collect_inputs, modality_of_path, text_inputs


def _tree(root: Path) -> Path:
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / ".hidden").mkdir()
    (root / "a" / "notes.txt").write_text("first line\n\n  \nsecond line  \n", encoding="utf-8")
    (root / "a" / "cat.PNG").write_bytes(b"not decoded here")
    (root / "b" / "clip.wav").write_bytes(b"")
    (root / "b" / "song.flac").write_bytes(b"x")
    (root / "b" / "model.bin").write_bytes(b"x")  # not analysed: skipped inside a folder
    (root / ".hidden" / "secret.txt").write_text("hidden", encoding="utf-8")
    (root / ".dot.jpg").write_bytes(b"x")
    (root / "z.md").write_text("# Title", encoding="utf-8")
    return root


def test_folder_is_walked_sorted_by_extension_skipping_hidden(tmp_path: Path) -> None:
    root = _tree(tmp_path / "data")
    collected = collect_inputs([root])
    assert collected.problems == ()
    found = [(item.modality, Path(item.origin.split(":")[0]).relative_to(root).as_posix()) for item in collected.inputs]
    assert found == [
        ("image", "a/cat.PNG"),
        ("text", "a/notes.txt"),
        ("text", "a/notes.txt"),
        ("audio", "b/clip.wav"),
        ("audio", "b/song.flac"),
        ("text", "z.md"),
    ]
    texts = [item for item in collected.inputs if item.modality == "text"]
    assert [item.value for item in texts] == ["first line", "second line", "# Title"]
    assert texts[0].origin.endswith("notes.txt:1") and texts[1].origin.endswith("notes.txt:4")
    # Media are not decoded here: the value is the path, decoded in the job.
    image = collected.inputs[0]
    assert image.value == str(root / "a" / "cat.PNG") and image.origin == image.value


def test_text_file_as_one_item(tmp_path: Path) -> None:
    path = tmp_path / "review.txt"
    path.write_text("\ufeffGreat film.\nLoved it.\n", encoding="utf-8")
    collected = collect_inputs([path], text_mode="file")
    [item] = collected.inputs
    assert item.value == "Great film.\nLoved it." and item.origin == str(path)
    with pytest.raises(ValueError, match="text_mode"):
        collect_inputs([path], text_mode="words")


def test_every_bad_path_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    empty_folder = tmp_path / "empty"
    empty_folder.mkdir()
    (empty_folder / "weights.bin").write_bytes(b"x")
    unknown = tmp_path / "table.xlsx"
    unknown.write_bytes(b"x")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n", encoding="utf-8")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    broken = tmp_path / "broken.png"
    broken.symlink_to(tmp_path / "gone.png")
    good = tmp_path / "ok.txt"
    good.write_text("fine", encoding="utf-8")
    missing = tmp_path / "missing.jpg"

    collected = collect_inputs([missing, empty_folder, unknown, blank, latin, broken, good])
    assert [item.value for item in collected.inputs] == ["fine"]
    problems = {Path(p.path).name: p.message for p in collected.problems}
    assert problems == {
        "missing.jpg": "does not exist",
        "empty": "is a folder with no text, image or audio files hftui can analyse",
        "table.xlsx": problems["table.xlsx"],
        "blank.txt": "has no text",
        "latin.txt": "is not UTF-8 text",
        "broken.png": "is a broken link",
    }
    assert problems["table.xlsx"].startswith("is not a file type hftui analyses") and ".wav" in problems["table.xlsx"]
    assert all(isinstance(p, InputProblem) for p in collected.problems)


def test_a_path_is_kept_as_typed_in_origins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pics").mkdir()
    Path("pics/dog.jpeg").write_bytes(b"x")
    collected = collect_inputs(["pics/dog.jpeg", "pics"])
    assert [item.origin for item in collected.inputs] == ["pics/dog.jpeg", "pics/dog.jpeg"]


def test_typed_text_and_modalities() -> None:
    items = text_inputs(["good", "  ", "", "bad"])
    assert [(item.origin, item.value) for item in items] == [("typed 1", "good"), ("typed 2", "bad")]
    assert text_inputs(["x"], origin="pasted")[0].origin == "pasted 1"
    assert modality_of_path("a/B.JPG") == "image"
    assert modality_of_path("x.ogg") == "audio"
    assert modality_of_path("x.text") == "text"
    assert modality_of_path("x.csv") is None
    assert modality_of_path("noext") is None
