#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout c09f17a5d0fd9dffb59e2afa2a2eb69cd2168b56 -- tests/test_slug.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_slug.py b/tests/test_slug.py
index 7749e25..c853265 100644
--- a/tests/test_slug.py
+++ b/tests/test_slug.py
@@ -19,3 +19,30 @@ def test_leading_and_trailing_junk():
 
 def test_empty():
     assert slugify("!!!") == ""
+
+
+import pytest
+
+
+def test_max_length_cuts_at_a_word_boundary():
+    title = "The quick brown fox jumps over the lazy dog"
+    assert slugify(title, max_length=20) == "the-quick-brown-fox"
+    assert slugify(title, max_length=18) == "the-quick-brown"
+    assert len(slugify(title, max_length=18)) <= 18
+
+
+def test_max_length_longer_than_slug():
+    assert slugify("short title", max_length=100) == "short-title"
+
+
+def test_max_length_hard_cut_of_a_long_first_word():
+    assert slugify("Supercalifragilistic day", max_length=5) == "super"
+
+
+def test_max_length_with_custom_separator():
+    assert slugify("one two three", sep="__", max_length=9) == "one__two"
+
+
+def test_max_length_must_be_positive():
+    with pytest.raises(ValueError):
+        slugify("anything", max_length=0)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout c09f17a5d0fd9dffb59e2afa2a2eb69cd2168b56 -- tests/test_slug.py
