#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 837bc91e148a6e18f228e76a08392eb273893dd4 -- tests/test_cache.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_cache.py b/tests/test_cache.py
index 2c58553..d86dacd 100644
--- a/tests/test_cache.py
+++ b/tests/test_cache.py
@@ -39,3 +39,32 @@ def test_len():
     for k in "abcde":
         c.put(k, k)
     assert len(c) == 3
+
+
+def test_get_counts_as_a_use():
+    c = LRUCache(2)
+    c.put("a", 1)
+    c.put("b", 2)
+    assert c.get("a") == 1
+    c.put("c", 3)
+    assert c.keys() == ["a", "c"]
+    assert "b" not in c
+
+
+def test_updating_a_key_counts_as_a_use():
+    c = LRUCache(2)
+    c.put("a", 1)
+    c.put("b", 2)
+    c.put("a", 10)
+    c.put("c", 3)
+    assert c.get("a") == 10
+    assert "b" not in c
+    assert c.evictions == 1
+
+
+def test_missing_get_changes_nothing():
+    c = LRUCache(2)
+    c.put("a", 1)
+    c.put("b", 2)
+    c.get("nope")
+    assert c.keys() == ["a", "b"]
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 837bc91e148a6e18f228e76a08392eb273893dd4 -- tests/test_cache.py
