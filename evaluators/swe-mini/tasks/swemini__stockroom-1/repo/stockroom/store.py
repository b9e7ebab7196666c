"""Save and load inventories as JSON."""

import json

from .models import Item


def save(items, path):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump([item.to_dict() for item in items], fh, indent=2, default=str)


def load(path):
    with open(path, encoding="utf-8") as fh:
        return [Item.from_dict(data) for data in json.load(fh)]
