#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout c762dd2df24d13df3527601a371308d10d0a58dc -- tests/test_paginator.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_paginator.py b/tests/test_paginator.py
index dd4f400..7842b5f 100644
--- a/tests/test_paginator.py
+++ b/tests/test_paginator.py
@@ -35,3 +35,18 @@ def test_per_page_must_be_positive():
 def test_start_index():
     p = Paginator(range(23), per_page=10)
     assert p.page(2).start_index == 11
+
+
+def test_exact_multiple_has_no_empty_last_page():
+    p = Paginator(range(10), per_page=5)
+    assert p.num_pages == 2
+    assert not p.page(2).has_next
+    with pytest.raises(PageNotFound):
+        p.page(3)
+    assert [len(page) for page in p] == [5, 5]
+
+
+def test_end_index_is_the_last_item():
+    p = Paginator(range(23), per_page=10)
+    assert (p.page(1).start_index, p.page(1).end_index) == (1, 10)
+    assert (p.page(3).start_index, p.page(3).end_index) == (21, 23)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout c762dd2df24d13df3527601a371308d10d0a58dc -- tests/test_paginator.py
