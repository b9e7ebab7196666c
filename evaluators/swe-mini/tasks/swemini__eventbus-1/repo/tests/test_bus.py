from eventbus import EventBus


def test_handlers_called_in_order():
    bus, seen = EventBus(), []
    bus.subscribe("e", lambda p: seen.append(("a", p)))
    bus.subscribe("e", lambda p: seen.append(("b", p)))
    assert bus.publish("e", 1) == 2
    assert seen == [("a", 1), ("b", 1)]


def test_unsubscribe_function():
    bus, seen = EventBus(), []
    off = bus.subscribe("e", seen.append)
    off()
    assert bus.publish("e", 1) == 0
    assert seen == []


def test_events_are_independent():
    bus, seen = EventBus(), []
    bus.subscribe("a", seen.append)
    bus.publish("b", 1)
    assert seen == []


def test_once_runs_once():
    bus, seen = EventBus(), []
    bus.once("e", seen.append)
    bus.publish("e", 1)
    bus.publish("e", 2)
    assert seen == [1]


def test_unsubscribing_unknown_handler_is_harmless():
    EventBus().unsubscribe("nothing", print)
