#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 5037e15faaa5a89336f04feda131085c7d73cd1a -- tests/test_sort.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_sort.py b/tests/test_sort.py
index a9a2039..0ae2471 100644
--- a/tests/test_sort.py
+++ b/tests/test_sort.py
@@ -20,3 +20,28 @@ def test_independent_nodes_are_sorted():
 
 def test_empty_graph():
     assert toposort({}) == []
+
+
+import pytest
+
+from depgraph import CycleError
+
+
+def test_cycle_raises():
+    with pytest.raises(CycleError) as exc:
+        toposort({"a": ["b"], "b": ["c"], "c": ["a"], "x": []})
+    assert exc.value.nodes == ["a", "b", "c"]
+
+
+def test_self_dependency_is_a_cycle():
+    with pytest.raises(CycleError) as exc:
+        toposort({"a": ["a"]})
+    assert exc.value.nodes == ["a"]
+
+
+def test_cycle_error_names_only_the_cycle():
+    graph = {"app": ["lib"], "lib": ["util"], "util": ["lib"], "base": []}
+    with pytest.raises(CycleError) as exc:
+        toposort(graph)
+    assert exc.value.nodes == ["lib", "util"]
+    assert "lib" in str(exc.value) and "util" in str(exc.value)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 5037e15faaa5a89336f04feda131085c7d73cd1a -- tests/test_sort.py
