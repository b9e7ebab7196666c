#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 585598c1717848d48188b604edd5665e40c9f991 -- tests/test_settings.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_settings.py b/tests/test_settings.py
index 88465cb..60b0180 100644
--- a/tests/test_settings.py
+++ b/tests/test_settings.py
@@ -34,3 +34,24 @@ def test_workers_must_be_positive():
 
 def test_debug_on():
     assert from_env({"APP_DEBUG": "1"}).debug is True
+
+
+@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off",
+                                 pytest.param(" OFF ", id="OFF-with-spaces")])
+def test_debug_off_words(raw):
+    assert from_env({"APP_DEBUG": raw}).debug is False
+
+
+@pytest.mark.parametrize("raw", ["1", "true", "YES", "on"])
+def test_debug_on_words(raw):
+    assert from_env({"APP_DEBUG": raw}).debug is True
+
+
+def test_debug_garbage_is_an_error():
+    with pytest.raises(ConfigError, match="APP_DEBUG"):
+        from_env({"APP_DEBUG": "maybe"})
+
+
+def test_highest_port_is_valid():
+    assert ServerConfig(port=65535).port == 65535
+    assert from_env({"APP_PORT": "65535"}).port == 65535
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 585598c1717848d48188b604edd5665e40c9f991 -- tests/test_settings.py
