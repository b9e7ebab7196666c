"""Text from agents, made safe for a terminal: one function, used by every command.

Anything an agent wrote (summaries, logs, reasons, diffs, task output) may
carry escape sequences that a terminal obeys: clear the screen, set the
window title, write the clipboard (OSC 52), make hyperlinks (OSC 8), move the
cursor to overwrite a score, or C1 controls (U+0080-U+009F) that some
terminals read as ESC sequences. :func:`clean` removes all of them (CSI, OSC
up to BEL or ST, DCS/SOS/PM/APC strings, any other ESC sequence, every C0
and C1 control but newline and tab, DEL, and the Unicode bidi overrides that
reorder what is shown). :func:`markup` also escapes rich markup, for text
that is interpolated into a ``console.print`` string.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.markup import escape

# String sequences (ESC ] / P / X / ^ / _ and their C1 forms) run to BEL or ST (ESC \ or U+009C);
# an unterminated one is removed to the end of the text.
_STRING_SEQ = re.compile(r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)", re.S)
_CSI = re.compile(r"(?:\x1b\[|\x9b)[\x20-\x3f]*[\x40-\x7e]?")
_ESC = re.compile(r"\x1b[\x20-\x2f]*[\x30-\x7e]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """``str(text)`` with every terminal control and escape sequence removed (newline, tab kept)."""
    s = str(text)
    if not _CONTROLS.search(s):
        return s
    s = _STRING_SEQ.sub("", s)
    s = _CSI.sub("", s)
    s = _ESC.sub("", s)
    return _CONTROLS.sub("", s.replace("\r\n", "\n"))


def markup(text: object) -> str:
    """:func:`clean`, then rich-markup escaped: for agent text inside a ``console.print`` string."""
    return escape(clean(text))


class SafeConsole(Console):
    """A rich Console whose ``print`` cleans every plain string it is given (see :func:`clean`).

    Our own markup survives (clean leaves ``[...]`` alone); agent text placed
    inside a markup string still needs :func:`markup` where it is interpolated.
    """

    def print(self, *objects, **kwargs) -> None:  # noqa: A003 - rich's name
        super().print(*(clean(o) if isinstance(o, str) else o for o in objects), **kwargs)


def for_terminal(text: str, stream) -> str:
    """``text`` unchanged for a pipe or file, cleaned when ``stream`` is a terminal."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return clean(text) if tty else text
