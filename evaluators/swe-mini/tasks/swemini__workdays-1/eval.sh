#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 570a5379c72db36893b6c660d3ab3b6a9cc2a051 -- tests/test_days.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_days.py b/tests/test_days.py
index 1924975..9f8bf54 100644
--- a/tests/test_days.py
+++ b/tests/test_days.py
@@ -26,3 +26,20 @@ def test_add_within_week():
 
 def test_add_over_weekend():
     assert add_business_days(FRI, 1) == dt.date(2024, 3, 11)
+
+
+def test_add_skips_holidays():
+    good_friday, easter_monday = dt.date(2024, 3, 29), dt.date(2024, 4, 1)
+    thursday = dt.date(2024, 3, 28)
+    assert add_business_days(thursday, 1, holidays=[good_friday, easter_monday]) == dt.date(2024, 4, 2)
+
+
+def test_add_negative_goes_back():
+    assert add_business_days(MON, -1) == dt.date(2024, 3, 1)
+    assert add_business_days(FRI, -5) == dt.date(2024, 3, 1)
+    assert add_business_days(MON, -1, holidays=[dt.date(2024, 3, 1)]) == dt.date(2024, 2, 29)
+
+
+def test_add_zero_is_identity():
+    saturday = dt.date(2024, 3, 9)
+    assert add_business_days(saturday, 0) == saturday
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 570a5379c72db36893b6c660d3ab3b6a9cc2a051 -- tests/test_days.py
