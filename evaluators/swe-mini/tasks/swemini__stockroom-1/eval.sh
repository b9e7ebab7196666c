#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout ef9ef65c6924b8bdf0a3f8cdbdb1d3a534607023 -- tests/test_stockroom.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_stockroom.py b/tests/test_stockroom.py
index 0aaed4e..e32fd91 100644
--- a/tests/test_stockroom.py
+++ b/tests/test_stockroom.py
@@ -26,3 +26,38 @@ def test_validation(kw):
 
 def test_to_dict():
     assert make().to_dict()["sku"] == "A1"
+
+
+import json
+
+from stockroom import load, save
+
+
+def test_save_and_load_round_trip(tmp_path):
+    items = [make(), make(sku="B2", name="nut", price=Decimal("0.05"), quantity=100)]
+    save(items, tmp_path / "inv.json")
+    loaded = load(tmp_path / "inv.json")
+    assert loaded == items
+    assert isinstance(loaded[0].price, Decimal) and isinstance(loaded[0].added, dt.date)
+    assert sum(i.value for i in loaded) == Decimal("5.50")
+
+
+def test_saved_json_is_plain(tmp_path):
+    save([make()], tmp_path / "inv.json")
+    data = json.loads((tmp_path / "inv.json").read_text())
+    assert data == [{"sku": "A1", "name": "bolt", "price": "0.10", "quantity": 5,
+                     "added": "2024-01-02"}]
+
+
+@pytest.mark.parametrize("entry, field", [
+    ({"sku": "A1", "name": "x", "price": "abc"}, "price"),
+    ({"sku": "A1", "name": "x", "price": "1", "quantity": "3"}, "quantity"),
+    ({"sku": "A1", "name": "x", "price": "1", "added": "yesterday"}, "added"),
+    ({"sku": "A1", "name": "x"}, "price"),
+    ({"sku": "A1", "name": "x", "price": "1", "colour": "red"}, "colour"),
+], ids=["price", "quantity", "added", "missing", "unknown"])
+def test_load_rejects_bad_entries(tmp_path, entry, field):
+    (tmp_path / "inv.json").write_text(json.dumps([make().to_dict(), entry]))
+    with pytest.raises(ValidationError) as exc:
+        load(tmp_path / "inv.json")
+    assert "item 1" in str(exc.value) and field in str(exc.value)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout ef9ef65c6924b8bdf0a3f8cdbdb1d3a534607023 -- tests/test_stockroom.py
