"""Catalogue: every file the project reads, given bad bytes, through the domain functions screens and commands use.

Each case asserts the user-visible outcome: a `SampleError` / `InputProblem` / card problem naming the file,
or a handled result; never another exception. A hang would stop the run (no timed assertions here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hftui.analyze.sources import collect_inputs
from hftui.data.sampler import SampleError, SampleOptions, SampleSource, stream_sample
from hftui.hub.cards.check import check_card
from hftui.hub.cards.text import MAX_CARD_BYTES, read_card
from tests.catalogue.bad_files import BAD_KINDS, png_bytes, write_bad


def _sample(path: Path) -> list[dict[str, object]] | SampleError:
    """The rows the Dataset preview would show for a local file, or the SampleError it would report."""
    try:
        rows: list[dict[str, object]] = []
        for batch in stream_sample(SampleSource("local", str(path)), SampleOptions(n=5, batch_size=5)):
            rows.extend(batch.rows)
        return rows
    except SampleError as error:
        return error


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("kind", BAD_KINDS)
def test_sampler_bad_file_is_an_error_naming_the_file_or_rows(tmp_path: Path, fmt: str, kind: str) -> None:
    path = write_bad(kind, fmt, tmp_path)
    outcome = _sample(path)
    if isinstance(outcome, SampleError):
        assert path.name in outcome.message
        assert outcome.kind in {"empty", "bad_file", "not_found"}
        assert "Traceback" not in outcome.message
    else:
        assert all(isinstance(row, dict) for row in outcome)


def test_sampler_empty_csv_says_empty(tmp_path: Path) -> None:
    outcome = _sample(write_bad("empty", "csv", tmp_path))
    assert isinstance(outcome, SampleError) and outcome.kind == "empty"


def test_sampler_truncated_parquet_says_not_parquet(tmp_path: Path) -> None:
    outcome = _sample(write_bad("truncated", "parquet", tmp_path))
    assert isinstance(outcome, SampleError) and "not a valid Parquet file" in outcome.message


def test_sampler_huge_single_line_jsonl_gives_the_row(tmp_path: Path) -> None:
    outcome = _sample(write_bad("huge-line", "jsonl", tmp_path))
    assert isinstance(outcome, list) and len(outcome) == 1
    assert len(str(outcome[0]["text"])) == 20_000_000


def test_sampler_text_named_png_is_handled(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_text("this is not an image\n")
    outcome = _sample(path)
    if isinstance(outcome, SampleError):
        assert path.name in outcome.message
    else:
        assert len(outcome) <= 1


def test_sampler_unknown_extension_names_it(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_bytes(b"a,b\n1,2\n")
    outcome = _sample(path)
    assert isinstance(outcome, SampleError) and "data.xyz" in outcome.message and "'.xyz'" in outcome.message


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("text_mode", ["lines", "file"])
def test_analyzer_text_file_is_inputs_or_a_problem_naming_it(tmp_path: Path, kind: str, text_mode: str) -> None:
    path = write_bad(kind, "txt", tmp_path)
    collected = collect_inputs([path], text_mode=text_mode)
    if kind in ("empty",):
        assert not collected.inputs
    if kind in ("latin1", "png-named"):
        assert [p.message for p in collected.problems] == ["is not UTF-8 text"]
    for problem in collected.problems:
        assert problem.path == str(path)
    assert collected.inputs or collected.problems


def test_analyzer_text_named_png_is_an_image_input_left_to_the_job(tmp_path: Path) -> None:
    """Decoding happens in the job (a corrupt image is an error row there), so collection keeps the path."""
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    collected = collect_inputs([path])
    assert [(item.modality, item.value) for item in collected.inputs] == [("image", str(path))]


def test_analyzer_png_named_wav_and_folder_with_bad_files(tmp_path: Path) -> None:
    (tmp_path / "clip.wav").write_bytes(png_bytes())
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin.txt").write_bytes("caf\u00e9".encode("latin-1"))
    (tmp_path / "table.csv").write_bytes(b"a,b\n")
    collected = collect_inputs([tmp_path])
    assert [item.modality for item in collected.inputs] == ["audio"]
    messages = {Path(p.path).name: p.message for p in collected.problems}
    assert messages == {"empty.txt": "has no text", "latin.txt": "is not UTF-8 text"}


def test_analyzer_decodes_a_text_file_named_png_as_an_error_row(tmp_path: Path) -> None:
    """The job shows the message on the row of that input (whose source names the file)."""
    from hftui.analyze.media import MediaError, load_image

    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(MediaError, match="is not an image"):
        load_image(str(path))


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_read_card_bad_file_opens_with_a_problem(tmp_path: Path, kind: str) -> None:
    path = write_bad(kind, "md", tmp_path)
    card = read_card(path)
    assert card.problem, "a bad card must say what is wrong"
    if kind == "latin1":
        assert "not valid UTF-8" in card.problem
    if kind == "huge-line":
        assert f"larger than {MAX_CARD_BYTES // 1000} kB" in card.problem
        assert len(card.body) <= MAX_CARD_BYTES


@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("dataset", [False, True])
def test_card_check_bad_file_reports_an_error(tmp_path: Path, kind: str, dataset: bool) -> None:
    path = write_bad(kind, "md", tmp_path)
    problems = check_card(path.read_text(encoding="utf-8", errors="replace"), dataset=dataset)
    if kind == "latin1":
        assert not [p for p in problems if p.field == "card"]  # the metadata block is intact
    else:
        assert any(p.severity == "error" and p.field == "card" for p in problems)
    assert all(p.message for p in problems)


def test_read_card_missing_and_folder(tmp_path: Path) -> None:
    assert "no model card" in (read_card(tmp_path / "README.md").problem or "")
    (tmp_path / "README.md").mkdir()
    assert "could not be read" in (read_card(tmp_path / "README.md").problem or "")


@pytest.mark.parametrize(("fmt", "offset"), [("csv", 14), ("jsonl", 13)])
def test_sampler_latin1_file_says_not_utf8_with_the_byte_offset(tmp_path: Path, fmt: str, offset: int) -> None:
    """Failed before: a Latin-1 CSV was reported as 'invalid JSON at bad-latin1.csv line 1' (the wrong format)."""
    path = write_bad("latin1", fmt, tmp_path)
    outcome = _sample(path)
    assert isinstance(outcome, SampleError)
    assert outcome.message.startswith(f"{path.name} is not UTF-8 text: the byte at offset {offset} ")
    assert "JSON" not in outcome.message


def test_sampler_png_named_csv_is_not_called_json(tmp_path: Path) -> None:
    """Failed before: 'invalid JSON at bad-png-named.csv line 1'."""
    outcome = _sample(write_bad("png-named", "csv", tmp_path))
    assert isinstance(outcome, SampleError) and "JSON" not in outcome.message
    assert "not UTF-8 text: the byte at offset 0" in outcome.message


def test_sampler_non_utf8_byte_past_the_first_chunk_gets_its_file_offset(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"text\n" + b"a" * (3 << 20) + b"\n\xe9t\xc3\n")
    outcome = _sample(path)
    assert isinstance(outcome, SampleError)
    assert f"the byte at offset {5 + (3 << 20) + 1} cannot" in outcome.message
