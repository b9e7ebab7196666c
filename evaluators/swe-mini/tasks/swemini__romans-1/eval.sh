#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 396708abbb270cf345eae7766ccd2625b06a73b7 -- tests/test_numerals.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_numerals.py b/tests/test_numerals.py
index aef9030..e90b194 100644
--- a/tests/test_numerals.py
+++ b/tests/test_numerals.py
@@ -22,3 +22,22 @@ def test_to_roman_out_of_range(bad):
 def test_from_roman_rejects_junk():
     with pytest.raises(ValueError):
         from_roman("XIZ")
+
+
+@pytest.mark.parametrize("number, text", [(4, "IV"), (9, "IX"), (14, "XIV"), (40, "XL"),
+                                          (90, "XC"), (400, "CD"), (900, "CM"),
+                                          (1994, "MCMXCIV"), (3999, "MMMCMXCIX")])
+def test_subtractive_notation(number, text):
+    assert to_roman(number) == text
+    assert from_roman(text) == number
+
+
+def test_round_trip():
+    for n in range(1, 4000):
+        assert from_roman(to_roman(n)) == n
+
+
+@pytest.mark.parametrize("bad", ["IIII", "VV", "IC", "MMMM"])
+def test_non_canonical_numerals_are_rejected(bad):
+    with pytest.raises(ValueError):
+        from_roman(bad)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 396708abbb270cf345eae7766ccd2625b06a73b7 -- tests/test_numerals.py
