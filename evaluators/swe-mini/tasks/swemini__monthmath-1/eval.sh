#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 344c10331040fdb7587986640bdc2f1cd88c1417 -- tests/test_calendar.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_calendar.py b/tests/test_calendar.py
index c1f85b0..f89d54e 100644
--- a/tests/test_calendar.py
+++ b/tests/test_calendar.py
@@ -26,3 +26,14 @@ def test_end_of_month_leap_year():
 
 def test_quarter():
     assert [quarter(dt.date(2024, m, 1)) for m in (1, 3, 4, 9, 10, 12)] == [1, 1, 2, 3, 4, 4]
+
+
+def test_add_months_clamps_to_month_end():
+    assert add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
+    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
+    assert add_months(dt.date(2024, 5, 31), -1) == dt.date(2024, 4, 30)
+
+
+def test_add_months_keeps_time_of_day():
+    when = dt.datetime(2024, 3, 31, 18, 45, 7)
+    assert add_months(when, -1) == dt.datetime(2024, 2, 29, 18, 45, 7)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 344c10331040fdb7587986640bdc2f1cd88c1417 -- tests/test_calendar.py
