#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 846a8423fed85383615c2e75b2604883ed4daa88 -- tests/test_version.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_version.py b/tests/test_version.py
index f50028c..2fbd088 100644
--- a/tests/test_version.py
+++ b/tests/test_version.py
@@ -25,3 +25,26 @@ def test_single_digit_components():
 
 def test_latest():
     assert latest(["0.1.0", "0.3.1", "0.2.9"]) == "0.3.1"
+
+
+def test_components_compare_as_numbers():
+    assert compare("1.10.0", "1.9.0") == 1
+    assert compare("1.2.10", "1.2.9") == 1
+    assert latest(["1.9.0", "1.10.0", "1.2.0"]) == "1.10.0"
+
+
+def test_prerelease_sorts_before_release():
+    assert compare("1.0.0-rc.1", "1.0.0") == -1
+    assert compare("1.0.0", "1.0.0-alpha") == 1
+
+
+def test_semver_spec_precedence_example():
+    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
+               "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
+    for lower, higher in zip(ordered, ordered[1:]):
+        assert compare(lower, higher) == -1, (lower, higher)
+        assert compare(higher, lower) == 1, (higher, lower)
+
+
+def test_build_metadata_is_ignored():
+    assert compare("1.0.0+build.5", "1.0.0+build.7") == 0
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 846a8423fed85383615c2e75b2604883ed4daa88 -- tests/test_version.py
