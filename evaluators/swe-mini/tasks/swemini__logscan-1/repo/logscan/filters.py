"""Select records."""


def by_level(records, minimum):
    """Records at ``minimum`` level or more severe."""
    minimum = minimum.upper()
    return [r for r in records if r.level >= minimum]


def since(records, start):
    """Records at or after ``start`` (a datetime)."""
    return [r for r in records if r.time >= start]
