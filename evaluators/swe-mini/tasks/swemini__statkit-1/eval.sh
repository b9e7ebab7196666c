#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout bae5e791daf6b0007a207509dcba9eb46ad45b55 -- tests/test_describe.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_describe.py b/tests/test_describe.py
index 5c22da3..cd227fa 100644
--- a/tests/test_describe.py
+++ b/tests/test_describe.py
@@ -25,3 +25,15 @@ def test_percentile_nearest_rank():
 def test_variance_and_stdev():
     assert variance([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(4.571428571)
     assert stdev([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(2.138089935)
+
+
+def test_median_even_count_averages_the_middle_pair():
+    assert median([1, 2, 3, 4]) == 2.5
+    assert median([10, 2, 38, 23, 38, 23]) == 23
+    assert median([4, 1]) == 2.5
+
+
+def test_variance_of_a_single_value_is_a_stats_error():
+    for func in (variance, stdev):
+        with pytest.raises(StatsError, match="at least 2"):
+            func([42])
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout bae5e791daf6b0007a207509dcba9eb46ad45b55 -- tests/test_describe.py
