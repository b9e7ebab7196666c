#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 585ee826b9d241df430977f53c0836aee4f32bc9 -- tests/test_render.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_render.py b/tests/test_render.py
index 4aab965..fa48566 100644
--- a/tests/test_render.py
+++ b/tests/test_render.py
@@ -15,3 +15,28 @@ def test_text_without_placeholders():
 
 def test_values_are_converted_to_text():
     assert render("{{x}}", {"x": None}) == "None"
+
+
+import pytest
+
+from minitemplate import TemplateError
+
+
+def test_spaces_inside_braces():
+    assert render("Hi {{ name }} and {{name }}", {"name": "Bo"}) == "Hi Bo and Bo"
+
+
+def test_dotted_names_look_into_dicts_and_attributes():
+    class User:
+        def __init__(self):
+            self.email = "ada@example.org"
+
+    ctx = {"order": {"id": 7, "total": "9.50"}, "user": User()}
+    assert render("#{{ order.id }}: {{order.total}} -> {{ user.email }}", ctx) == \
+        "#7: 9.50 -> ada@example.org"
+
+
+def test_undefined_variable_names_it():
+    with pytest.raises(TemplateError) as exc:
+        render("Dear {{ customer.name }}", {"customer": {}})
+    assert "customer.name" in str(exc.value)
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 585ee826b9d241df430977f53c0836aee4f32bc9 -- tests/test_render.py
