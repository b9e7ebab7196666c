#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 108503dc73cde94022ffd025b9effb7ad3db0f53 -- tests/test_money.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_money.py b/tests/test_money.py
index ac58e53..e1598f9 100644
--- a/tests/test_money.py
+++ b/tests/test_money.py
@@ -25,3 +25,21 @@ def test_even_split():
 def test_split_needs_a_part():
     with pytest.raises(ValueError):
         Money(1).split(0)
+
+
+def test_split_keeps_every_cent():
+    assert Money("10.00").split(3) == [Money("3.34"), Money("3.33"), Money("3.33")]
+
+
+@pytest.mark.parametrize("amount, parts", [("10.00", 3), ("0.05", 2), ("100.00", 7),
+                                           ("0.01", 4), ("1234.56", 9)])
+def test_split_sums_to_the_original(amount, parts):
+    shares = Money(amount, "USD").split(parts)
+    assert len(shares) == parts
+    assert sum((s.amount for s in shares), start=Money(0).amount) == Money(amount).amount
+    assert max(s.amount for s in shares) - min(s.amount for s in shares) <= Money("0.01").amount
+    assert all(s.currency == "USD" for s in shares)
+
+
+def test_split_negative_amount():
+    assert Money("-10.00").split(3) == [Money("-3.34"), Money("-3.33"), Money("-3.33")]
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 108503dc73cde94022ffd025b9effb7ad3db0f53 -- tests/test_money.py
