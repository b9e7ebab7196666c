#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout aef7f36267be64bfa45e1960d67d2c428fbc3d33 -- tests/test_path.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_path.py b/tests/test_path.py
index 188e140..e385ab8 100644
--- a/tests/test_path.py
+++ b/tests/test_path.py
@@ -27,3 +27,19 @@ def test_missing_key_raises_without_default():
 def test_empty_path():
     with pytest.raises(PathError):
         get_path(DATA, "")
+
+
+def test_multi_digit_index():
+    assert get_path(DATA, "items[10].name") == "item10"
+    assert get_path(DATA, "items[11]") == {"name": "item11"}
+
+
+def test_negative_index():
+    assert get_path(DATA, "items[-1].name") == "item11"
+    assert get_path(DATA, "user.tags[-2]") == "x"
+
+
+def test_index_out_of_range():
+    assert get_path(DATA, "user.tags[5]", default="none") == "none"
+    with pytest.raises(IndexError):
+        get_path(DATA, "user.tags[5]")
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout aef7f36267be64bfa45e1960d67d2c428fbc3d33 -- tests/test_path.py
