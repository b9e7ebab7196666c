#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 55d38b2c6151ca51a0fe3cf7a187d1d1b322cba6 -- tests/test_cache.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_cache.py b/tests/test_cache.py
index e62a792..71286f5 100644
--- a/tests/test_cache.py
+++ b/tests/test_cache.py
@@ -39,3 +39,31 @@ def test_cache_clear():
 def test_wraps_keeps_name():
     square, _ = counted()
     assert square.__name__ == "square"
+
+
+def test_keyword_arguments_are_part_of_the_key():
+    square, calls = counted()
+    assert square(3) == 9
+    assert square(3, offset=1) == 10
+    assert square(3, offset=2) == 11
+    assert len(calls) == 3
+
+
+def test_keyword_order_does_not_matter():
+    @memoize
+    def f(a=0, b=0):
+        return a - b
+
+    assert f(a=5, b=1) == 4
+    assert f(b=1, a=5) == 4
+    assert f.cache_info() == CacheInfo(hits=1, misses=1, size=1)
+
+
+def test_unhashable_arguments_call_through():
+    @memoize
+    def total(values):
+        return sum(values)
+
+    assert total([1, 2, 3]) == 6
+    assert total([1, 2]) == 3
+    assert total.cache_info() == CacheInfo(hits=0, misses=2, size=0)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 55d38b2c6151ca51a0fe3cf7a187d1d1b322cba6 -- tests/test_cache.py
