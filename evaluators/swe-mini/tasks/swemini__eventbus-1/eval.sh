#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout f04163db2c68d92b3dd76b71a0bb7fe757925034 -- tests/test_bus.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_bus.py b/tests/test_bus.py
index aeb8fe8..4ede281 100644
--- a/tests/test_bus.py
+++ b/tests/test_bus.py
@@ -34,3 +34,34 @@ def test_once_runs_once():
 
 def test_unsubscribing_unknown_handler_is_harmless():
     EventBus().unsubscribe("nothing", print)
+
+
+def test_once_handler_does_not_skip_the_next_one():
+    bus, seen = EventBus(), []
+    bus.once("e", lambda p: seen.append("once"))
+    bus.subscribe("e", lambda p: seen.append("always"))
+    assert bus.publish("e") == 2
+    assert seen == ["once", "always"]
+
+
+def test_several_handlers_removing_themselves():
+    bus, seen = EventBus(), []
+    for name in "abc":
+        bus.once("e", lambda p, name=name: seen.append(name))
+    bus.publish("e")
+    assert seen == ["a", "b", "c"]
+    assert bus.publish("e") == 0
+
+
+def test_handler_added_during_publish_waits_for_the_next_one():
+    bus, seen = EventBus(), []
+
+    def first(payload):
+        seen.append(("first", payload))
+        if payload == 1:
+            bus.subscribe("e", lambda p: seen.append(("late", p)))
+
+    bus.subscribe("e", first)
+    assert bus.publish("e", 1) == 1
+    assert bus.publish("e", 2) == 2
+    assert seen == [("first", 1), ("first", 2), ("late", 2)]
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout f04163db2c68d92b3dd76b71a0bb7fe757925034 -- tests/test_bus.py
