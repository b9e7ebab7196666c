#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 444883257327ac6e79f386362e17c1a8ccffc217 -- tests/test_retry.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_retry.py b/tests/test_retry.py
index 9349518..a6cc551 100644
--- a/tests/test_retry.py
+++ b/tests/test_retry.py
@@ -45,3 +45,24 @@ def test_keeps_function_name():
 def test_times_must_be_positive():
     with pytest.raises(ValueError):
         retry(times=0)
+
+
+def test_last_exception_is_raised_when_all_attempts_fail():
+    flaky = Flaky(5)
+    with pytest.raises(ConnectionError, match="failure 3"):
+        retry(times=3, sleep=lambda s: None)(flaky)()
+    assert flaky.calls == 3
+
+
+def test_other_exceptions_are_not_retried():
+    flaky = Flaky(1, exc=KeyError)
+    with pytest.raises(KeyError):
+        retry(times=3, exceptions=(ConnectionError,), sleep=lambda s: None)(flaky)()
+    assert flaky.calls == 1
+
+
+def test_no_sleep_after_the_last_attempt():
+    slept = []
+    with pytest.raises(ConnectionError):
+        retry(times=3, delay=1.0, sleep=slept.append)(Flaky(10))()
+    assert slept == [1.0, 1.0]
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 444883257327ac6e79f386362e17c1a8ccffc217 -- tests/test_retry.py
