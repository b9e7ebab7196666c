#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout a8b75de1961209563201db2e33112c8fb1cb8581 -- tests/test_ops.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_ops.py b/tests/test_ops.py
index 42069fb..b240277 100644
--- a/tests/test_ops.py
+++ b/tests/test_ops.py
@@ -29,3 +29,21 @@ def test_identity_is_neutral():
 def test_matmul_shape_mismatch():
     with pytest.raises(ShapeError):
         matmul([[1, 2]], [[1, 2]])
+
+
+def test_transpose_rectangular():
+    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]
+    assert transpose([[1], [2], [3]]) == [[1, 2, 3]]
+
+
+def test_transpose_empty_and_ragged():
+    assert transpose([]) == []
+    with pytest.raises(ShapeError):
+        transpose([[1, 2], [3]])
+
+
+def test_matmul_rectangular():
+    a = [[1, 2, 3], [4, 5, 6]]          # 2x3
+    b = [[7, 8], [9, 10], [11, 12]]     # 3x2
+    assert matmul(a, b) == [[58, 64], [139, 154]]
+    assert matmul(b, a) == [[39, 54, 69], [49, 68, 87], [59, 82, 105]]
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout a8b75de1961209563201db2e33112c8fb1cb8581 -- tests/test_ops.py
