"""A synchronous in-process event bus."""

from collections import defaultdict


class EventBus:
    def __init__(self):
        self._handlers = defaultdict(list)

    def subscribe(self, event, handler):
        """Call ``handler(payload)`` on every ``publish(event, ...)``; returns an unsubscribe function."""
        self._handlers[event].append(handler)
        return lambda: self.unsubscribe(event, handler)

    def unsubscribe(self, event, handler):
        handlers = self._handlers.get(event, [])
        if handler in handlers:
            handlers.remove(handler)

    def once(self, event, handler):
        """Like subscribe, but the handler is removed after its first call."""
        def wrapper(payload):
            self.unsubscribe(event, wrapper)
            handler(payload)

        return self.subscribe(event, wrapper)

    def publish(self, event, payload=None):
        """Call the event's handlers in subscription order; returns how many were called."""
        called = 0
        for handler in self._handlers.get(event, []):
            handler(payload)
            called += 1
        return called
