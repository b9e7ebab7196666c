#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 217e85e2646e97fd82bd24c587aefd988bbbf2b6 -- tests/test_parser.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_parser.py b/tests/test_parser.py
index fee3d52..0336ba8 100644
--- a/tests/test_parser.py
+++ b/tests/test_parser.py
@@ -32,3 +32,16 @@ def test_custom_separator():
 def test_format_round_trip():
     pairs = {"host": "db.local", "port": "5432"}
     assert parse_kv(format_kv(pairs)) == pairs
+
+
+def test_value_may_contain_equals():
+    assert parse_kv("token=YWJj==; user=bob") == {"token": "YWJj==", "user": "bob"}
+
+
+def test_quoted_value_may_contain_separator():
+    assert parse_kv('name="a;b"; x=1') == {"name": "a;b", "x": "1"}
+
+
+def test_unterminated_quote_is_a_parse_error():
+    with pytest.raises(ParseError):
+        parse_kv('name="a=b; x=1')
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 217e85e2646e97fd82bd24c587aefd988bbbf2b6 -- tests/test_parser.py
