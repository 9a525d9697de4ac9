"""Analysis inputs from paths the user typed: files by extension, folders recursively, and typed text.

Nothing is decoded here: an image or audio input carries its path, and `media.py` decodes it inside the job,
so a corrupt file becomes an error row instead of stopping the whole collection. What cannot become an
input at all (a missing path, a folder without usable files, an unknown extension) is an `InputProblem`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hftui.analyze.inputs import AnalysisInput

TEXT_EXTENSIONS = frozenset({".txt", ".text", ".md"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg"})
TEXT_MODES = ("lines", "file")

# A text file is read whole; beyond this it is surely not a list of sentences typed for analysis.
MAX_TEXT_BYTES = 50_000_000


@dataclass(frozen=True)
class InputProblem:
    """A path that gave no inputs, and why, in a sentence for the user."""

    path: str
    message: str


@dataclass(frozen=True)
class CollectedInputs:
    """The inputs found under some paths, in the order given (folders sorted), and the paths that gave none."""

    inputs: tuple[AnalysisInput, ...]
    problems: tuple[InputProblem, ...]


def modality_of_path(path: str | os.PathLike[str]) -> str | None:
    """The modality a file's extension says, or None when hftui does not analyse such files."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in TEXT_EXTENSIONS:
        return "text"
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in AUDIO_EXTENSIONS:
        return "audio"
    return None


def text_inputs(texts: Iterable[str], origin: str = "typed") -> tuple[AnalysisInput, ...]:
    """Text inputs from typed strings, numbered from 1 in their origin; blank strings are left out."""
    items: list[AnalysisInput] = []
    for text in texts:
        if isinstance(text, str) and text.strip():
            items.append(AnalysisInput("text", f"{origin} {len(items) + 1}", text))
    return tuple(items)


def collect_inputs(paths: Sequence[str | os.PathLike[str]], *, text_mode: str = "lines") -> CollectedInputs:
    """Inputs from files and folders: one per image or audio file, one per non-empty line (or text file).

    Folders are walked recursively in sorted order, skipping hidden files and folders and files of other
    types. Never raises for a bad path; each becomes an `InputProblem`.
    """
    if text_mode not in TEXT_MODES:
        raise ValueError(f"text_mode must be one of {', '.join(TEXT_MODES)}, not {text_mode!r}")
    inputs: list[AnalysisInput] = []
    problems: list[InputProblem] = []
    for raw in paths:
        shown = os.fspath(raw)
        path = Path(shown).expanduser()
        try:
            is_dir = path.is_dir()
            is_file = not is_dir and path.is_file()
        except OSError as error:  # e.g. a name too long for the file system
            problems.append(InputProblem(shown, f"cannot be read: {error.strerror or error}"))
            continue
        if is_dir:
            found = _collect_folder(path, text_mode, problems)
            if not found:
                problems.append(InputProblem(shown, "is a folder with no text, image or audio files hftui can analyse"))
            inputs.extend(found)
        elif is_file:
            modality = modality_of_path(path)
            if modality is None:
                kinds = ", ".join(sorted(TEXT_EXTENSIONS | IMAGE_EXTENSIONS | AUDIO_EXTENSIONS))
                problems.append(InputProblem(shown, f"is not a file type hftui analyses (it takes {kinds})"))
                continue
            inputs.extend(_file_inputs(path, shown, modality, text_mode, problems))
        elif path.is_symlink():
            problems.append(InputProblem(shown, "is a broken link"))
        elif path.exists():
            problems.append(InputProblem(shown, "is not a regular file or folder"))
        else:
            problems.append(InputProblem(shown, "does not exist"))
    return CollectedInputs(tuple(inputs), tuple(problems))


def _collect_folder(folder: Path, text_mode: str, problems: list[InputProblem]) -> list[AnalysisInput]:
    files: list[tuple[tuple[str, ...], Path, str]] = []

    def walk_error(error: OSError) -> None:
        problems.append(InputProblem(str(error.filename or folder), f"cannot be read: {error.strerror or error}"))

    for root, dirs, names in os.walk(folder, onerror=walk_error):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            modality = None if name.startswith(".") else modality_of_path(name)
            if modality is not None:
                path = Path(root) / name
                files.append((path.relative_to(folder).parts, path, modality))
    found: list[AnalysisInput] = []
    # Sorted by path components, so a folder's files come in the order a file manager lists the tree.
    for _, path, modality in sorted(files, key=lambda entry: entry[0]):
        found.extend(_file_inputs(path, str(path), modality, text_mode, problems))
    return found


def _file_inputs(
    path: Path, shown: str, modality: str, text_mode: str, problems: list[InputProblem]
) -> list[AnalysisInput]:
    if modality != "text":
        return [AnalysisInput(modality, shown, str(path))]
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            problems.append(InputProblem(shown, f"is too large to analyse as text ({size // 1_000_000} MB)"))
            return []
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        problems.append(InputProblem(shown, f"cannot be read: {error.strerror or error}"))
        return []
    except UnicodeDecodeError:
        problems.append(InputProblem(shown, "is not UTF-8 text"))
        return []
    if text_mode == "file":
        if not text.strip():
            problems.append(InputProblem(shown, "is empty"))
            return []
        return [AnalysisInput("text", shown, text.strip())]
    items = [
        AnalysisInput("text", f"{shown}:{number}", line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not items:
        problems.append(InputProblem(shown, "has no text"))
    return items
