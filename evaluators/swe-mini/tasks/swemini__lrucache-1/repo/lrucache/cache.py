"""A least-recently-used cache with a fixed capacity."""

from collections import OrderedDict


class LRUCache:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._data = OrderedDict()
        self.evictions = 0

    def __len__(self):
        return len(self._data)

    def __contains__(self, key):
        """Membership test; does not count as a use."""
        return key in self._data

    def get(self, key, default=None):
        """The value for ``key`` (a use of ``key``), or ``default``."""
        return self._data.get(key, default)

    def put(self, key, value):
        """Store ``key``; evicts the least recently used entry when full."""
        self._data[key] = value
        if len(self._data) > self.capacity:
            self._data.popitem(last=False)
            self.evictions += 1

    def keys(self):
        """Keys from least to most recently used."""
        return list(self._data)
