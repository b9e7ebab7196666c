#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 7d39c5a916b4d6ada1f05a3e67c2d4d0f4a7190b -- tests/test_bank.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_bank.py b/tests/test_bank.py
index 46e13fa..6896160 100644
--- a/tests/test_bank.py
+++ b/tests/test_bank.py
@@ -38,3 +38,31 @@ def test_duplicate_account(bank):
 def test_transfer(bank):
     bank.transfer("alice", "bob", 30)
     assert (bank.balance("alice"), bank.balance("bob")) == (70, 30)
+
+
+from minibank import UnknownAccount
+
+
+def test_transfer_to_unknown_account_moves_nothing(bank):
+    with pytest.raises(UnknownAccount):
+        bank.transfer("alice", "bbo", 30)
+    assert bank.balance("alice") == 100
+    assert bank.history == []
+
+
+@pytest.mark.parametrize("call", [
+    lambda b: b.balance("carol"),
+    lambda b: b.deposit("carol", 5),
+    lambda b: b.withdraw("carol", 5),
+    lambda b: b.transfer("carol", "bob", 5),
+], ids=["balance", "deposit", "withdraw", "transfer-from"])
+def test_unknown_account_is_a_bank_error(bank, call):
+    with pytest.raises(UnknownAccount):
+        call(bank)
+    assert issubclass(UnknownAccount, BankError)
+
+
+def test_failed_transfer_leaves_both_balances(bank):
+    with pytest.raises(InsufficientFunds):
+        bank.transfer("bob", "alice", 1)
+    assert (bank.balance("alice"), bank.balance("bob")) == (100, 0)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 7d39c5a916b4d6ada1f05a3e67c2d4d0f4a7190b -- tests/test_bank.py
