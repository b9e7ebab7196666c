"""Parse ``key=value`` pairs separated by semicolons (connection-string style)."""


class ParseError(ValueError):
    """The text is not a valid list of key=value pairs."""


def parse_kv(text, sep=";"):
    """Parse ``text`` into a dict; whitespace around keys and values is ignored."""
    result = {}
    for chunk in text.split(sep):
        chunk = chunk.strip()
        if not chunk:
            continue
        if "=" not in chunk:
            raise ParseError(f"missing '=' in {chunk!r}")
        key, value = chunk.split("=")
        key = key.strip()
        if not key:
            raise ParseError(f"empty key in {chunk!r}")
        result[key] = value.strip()
    return result


def format_kv(pairs, sep=";"):
    """The inverse of :func:`parse_kv` for simple values."""
    return f"{sep} ".join(f"{key}={value}" for key, value in pairs.items())
