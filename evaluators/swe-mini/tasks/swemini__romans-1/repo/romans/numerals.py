"""Convert between integers and Roman numerals (1..3999)."""

VALUES = [
    ("M", 1000),
    ("D", 500),
    ("C", 100),
    ("L", 50),
    ("X", 10),
    ("V", 5),
    ("I", 1),
]
SYMBOLS = dict(VALUES)


def to_roman(number):
    if not isinstance(number, int) or not 0 < number < 4000:
        raise ValueError(f"cannot write {number!r} as a Roman numeral")
    out = []
    for symbol, value in VALUES:
        count, number = divmod(number, value)
        out.append(symbol * count)
    return "".join(out)


def from_roman(text):
    text = text.strip().upper()
    if not text or any(ch not in SYMBOLS for ch in text):
        raise ValueError(f"not a Roman numeral: {text!r}")
    return sum(SYMBOLS[ch] for ch in text)
