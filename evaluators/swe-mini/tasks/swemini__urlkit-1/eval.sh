#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 5cd16be3ff8d8d597f77ee188bbebcd938e1c736 -- tests/test_build.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_build.py b/tests/test_build.py
index 0932e6d..01f87d8 100644
--- a/tests/test_build.py
+++ b/tests/test_build.py
@@ -12,3 +12,25 @@ def test_simple_params():
 
 def test_existing_query_is_extended():
     assert build_url("https://x.org/s?lang=en", {"q": "dogs"}) == "https://x.org/s?lang=en&q=dogs"
+
+
+def test_values_are_percent_encoded():
+    url = build_url("https://x.org/s", {"q": "fish & chips", "filter": "a=b/c?"})
+    assert url == "https://x.org/s?q=fish%20%26%20chips&filter=a%3Db%2Fc%3F"
+
+
+def test_non_ascii_is_utf8_encoded():
+    assert build_url("https://x.org/s", {"q": "café"}) == "https://x.org/s?q=caf%C3%A9"
+
+
+def test_lists_repeat_the_key():
+    assert build_url("https://x.org/s", {"tag": ["a", "b"], "n": 1}) == "https://x.org/s?tag=a&tag=b&n=1"
+
+
+def test_none_values_are_left_out():
+    assert build_url("https://x.org/s", {"q": "x", "page": None}) == "https://x.org/s?q=x"
+    assert build_url("https://x.org/s", {"page": None}) == "https://x.org/s"
+
+
+def test_fragment_stays_last():
+    assert build_url("https://x.org/doc#intro", {"v": 2}) == "https://x.org/doc?v=2#intro"
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 5cd16be3ff8d8d597f77ee188bbebcd938e1c736 -- tests/test_build.py
