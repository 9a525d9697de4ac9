"""Make untrusted text from the Hub safe to show: control and bidi characters become visible escapes.

Markup is handled by the UI (it renders such text as plain `Content`, never parses it); this module
removes what a terminal itself would act on: ESC sequences, carriage returns, bells, bidi overrides.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and the bidi embedding/override/isolate marks
# that can make a file name or id read differently from what it is; and lone surrogates, which is how Python
# spells the undecodable bytes of a file name (surrogateescape) and which no terminal encoding can write.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: object, *, single_line: bool = False) -> str:
    """Return `text` with every terminal control character shown as a literal escape such as `\\x1b`.

    With `single_line`, newlines and tabs are shown as `\\n` and `\\t` too, for table cells and ids.
    """
    value = text if isinstance(text, str) else str(text)
    value = _UNSAFE.sub(_escape, value)
    if single_line:
        value = value.replace("\n", "\\n").replace("\t", "\\t")
    return value
