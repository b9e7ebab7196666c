#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 805a17686d7dbd5f6e7e0584476996e37b94344e -- tests/test_parser.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_parser.py b/tests/test_parser.py
index a2fb5d0..c298393 100644
--- a/tests/test_parser.py
+++ b/tests/test_parser.py
@@ -21,3 +21,11 @@ def test_syntax_errors(bad):
 def test_division_by_zero():
     with pytest.raises(CalcError):
         evaluate("1 / (2 - 2)")
+
+
+@pytest.mark.parametrize("text, value", [
+    ("10 - 4 - 3", 3), ("8 / 4 / 2", 1.0), ("2 - 3 + 4", 3), ("100 / 10 * 2", 20.0),
+    ("1 - 2 - 3 - 4", -8), ("2 * 3 / 6 * 5", 5.0),
+], ids=["sub-sub", "div-div", "sub-add", "div-mul", "sub-chain", "mul-div-chain"])
+def test_left_associativity(text, value):
+    assert evaluate(text) == value
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 805a17686d7dbd5f6e7e0584476996e37b94344e -- tests/test_parser.py
