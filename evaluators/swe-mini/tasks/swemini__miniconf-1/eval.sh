#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout eb5c759c0db8e304e719cacd114433405ffe4d02 -- tests/test_reader.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_reader.py b/tests/test_reader.py
index 420957c..fa90350 100644
--- a/tests/test_reader.py
+++ b/tests/test_reader.py
@@ -38,3 +38,24 @@ def test_missing_equals():
 def test_empty_section_name():
     with pytest.raises(ParseError):
         loads("[ ]")
+
+
+def test_inline_comments_are_stripped():
+    conf = loads("[server]\nport = 8080   # http\nhost = a.org ; primary\n")
+    assert conf["server"] == {"port": "8080", "host": "a.org"}
+
+
+def test_hash_without_preceding_space_is_part_of_the_value():
+    conf = loads("[style]\ncolor = #ff0000\nlink = https://x.org/doc#intro\n")
+    assert conf["style"] == {"color": "#ff0000", "link": "https://x.org/doc#intro"}
+
+
+def test_quoted_values_keep_comment_characters():
+    conf = loads('[a]\nmotto = "eat; sleep # repeat"  # the motto\n')
+    assert conf["a"]["motto"] == "eat; sleep # repeat"
+
+
+def test_unterminated_quote():
+    with pytest.raises(ParseError) as exc:
+        loads('[a]\nname = "open')
+    assert exc.value.lineno == 2
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout eb5c759c0db8e304e719cacd114433405ffe4d02 -- tests/test_reader.py
