#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout a46fbe4a4c182881db7502e3229e1bf02551b9f5 -- tests/test_export.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_export.py b/tests/test_export.py
index fab7706..f9efdba 100644
--- a/tests/test_export.py
+++ b/tests/test_export.py
@@ -17,3 +17,25 @@ def test_csv_header_order():
 
 def test_text_table():
     assert to_text(ROWS, ["name", "age"]) == "name   age\nAda    36\nLinus  28\n"
+
+
+import csv
+import io
+
+
+def parse(text):
+    return list(csv.reader(io.StringIO(text)))
+
+
+def test_csv_field_with_comma_round_trips():
+    text = to_csv([{"name": "Doe, Jane", "city": "Paris"}], ["name", "city"])
+    assert parse(text) == [["name", "city"], ["Doe, Jane", "Paris"]]
+
+
+def test_csv_quotes_and_newlines():
+    rows = [{"note": 'She said "hi"'}, {"note": "two\nlines"}]
+    assert parse(to_csv(rows, ["note"])) == [["note"], ['She said "hi"'], ["two\nlines"]]
+
+
+def test_csv_none_is_empty():
+    assert to_csv([{"name": "Ada", "age": None}], ["name", "age"]) == "name,age\nAda,\n"
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout a46fbe4a4c182881db7502e3229e1bf02551b9f5 -- tests/test_export.py
