#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 5dd4c0e7f6a2d2a9237f84f12d19efd07999893f -- tests/test_core.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_core.py b/tests/test_core.py
index 14d0fb7..1b19dad 100644
--- a/tests/test_core.py
+++ b/tests/test_core.py
@@ -22,3 +22,22 @@ def test_format_all_units():
 def test_format_negative():
     with pytest.raises(ValueError):
         format_duration(-1)
+
+
+@pytest.mark.parametrize("seconds, text", [(3600, "1h"), (90, "1m 30s"), (86405, "1d 5s"),
+                                           (0, "0s"), (59, "59s")],
+                         ids=["hour", "minute-second", "day-second", "zero", "seconds"])
+def test_format_leaves_out_zero_units(seconds, text):
+    assert format_duration(seconds) == text
+
+
+@pytest.mark.parametrize("text, seconds", [("1h 30m", 5400), (" 2d 4h ", 187200),
+                                           ("1H30M", 5400), ("10 s", 10)],
+                         ids=["space-between", "padded", "upper-case", "space-before-unit"])
+def test_parse_spaces_and_case(text, seconds):
+    assert parse_duration(text) == seconds
+
+
+def test_round_trip():
+    for seconds in (1, 59, 60, 61, 3599, 3600, 3661, 86399, 86400, 90061, 10**6):
+        assert parse_duration(format_duration(seconds)) == seconds
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 5dd4c0e7f6a2d2a9237f84f12d19efd07999893f -- tests/test_core.py
