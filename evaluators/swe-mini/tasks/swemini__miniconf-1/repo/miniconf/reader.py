"""Read INI-style configuration text into nested dicts."""


class ParseError(ValueError):
    def __init__(self, lineno, message):
        self.lineno = lineno
        super().__init__(f"line {lineno}: {message}")


def _value(raw):
    return raw.strip()


def loads(text):
    """``{section: {key: value}}`` from INI text; keys are lower-cased."""
    sections = {}
    current = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            if not current:
                raise ParseError(lineno, "empty section name")
            sections.setdefault(current, {})
            continue
        if current is None:
            raise ParseError(lineno, "key outside of any section")
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ParseError(lineno, f"expected 'key = value', got {line!r}")
        sections[current][key.strip().lower()] = _value(value)
    return sections
