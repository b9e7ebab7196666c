#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 9939a933a68ff975d1459606d4e3f34ccc373ebb -- tests/test_logscan.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_logscan.py b/tests/test_logscan.py
index f5aa45d..2803612 100644
--- a/tests/test_logscan.py
+++ b/tests/test_logscan.py
@@ -37,3 +37,31 @@ def test_level_warning_and_above():
 def test_since():
     start = parse_line("2024-03-01T10:05:00Z INFO x").time
     assert [r.level for r in since(records(), start)] == ["WARNING", "DEBUG"]
+
+
+def test_levels_are_ordered_by_severity():
+    lines = ["2024-03-01T10:00:00Z ERROR db down", "2024-03-01T10:01:00Z CRITICAL out of memory",
+             "2024-03-01T10:02:00Z INFO retrying"]
+    recs = [parse_line(line) for line in lines]
+    assert [r.level for r in by_level(recs, "WARNING")] == ["ERROR", "CRITICAL"]
+    assert [r.level for r in by_level(recs, "info")] == ["ERROR", "CRITICAL", "INFO"]
+    assert [r.level for r in by_level(recs, "CRITICAL")] == ["CRITICAL"]
+
+
+def test_unknown_minimum_level():
+    with pytest.raises(ValueError):
+        by_level(records(), "LOUD")
+
+
+def test_offsets_are_understood_and_normalised_to_utc():
+    r = parse_line("2024-03-01T12:30:00+02:00 INFO from Berlin")
+    assert r.time == dt.datetime(2024, 3, 1, 10, 30, tzinfo=dt.timezone.utc)
+    assert r.time.utcoffset() == dt.timedelta(0)
+
+
+def test_since_across_time_zones():
+    recs = [parse_line("2024-03-01T10:00:00Z INFO a"),
+            parse_line("2024-03-01T11:30:00+01:00 INFO b"),
+            parse_line("2024-03-01T10:01:00-00:30 INFO c")]
+    start = dt.datetime(2024, 3, 1, 10, 30, tzinfo=dt.timezone.utc)
+    assert [r.message for r in since(recs, start)] == ["b", "c"]
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 9939a933a68ff975d1459606d4e3f34ccc373ebb -- tests/test_logscan.py
