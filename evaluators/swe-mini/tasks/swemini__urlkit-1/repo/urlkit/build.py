"""Build URLs with query strings."""


def build_url(base, params=None):
    """``base`` with ``params`` (a dict) appended as a query string.

    If ``base`` already has a query, the parameters are added to it.
    """
    if not params:
        return base
    query = "&".join(f"{key}={value}" for key, value in params.items())
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}{query}"
