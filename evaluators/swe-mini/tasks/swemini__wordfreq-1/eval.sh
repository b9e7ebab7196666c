#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
git checkout 4a62f293d95bb228b0ce3c0790b5cd29972164f6 -- tests/test_cli.py
git apply --verbose - <<'EOF_114329324912'
diff --git a/tests/test_cli.py b/tests/test_cli.py
index 0d4ce9b..d05cec3 100644
--- a/tests/test_cli.py
+++ b/tests/test_cli.py
@@ -41,3 +41,28 @@ def test_min_length(sample):
 def test_needs_an_argument():
     with pytest.raises(SystemExit):
         main([], stdin=io.StringIO(""), stdout=io.StringIO())
+
+
+def test_top_option(sample):
+    code, out = run(["--top", "2", sample])
+    assert code == 0
+    assert [line.split()[1] for line in out.splitlines()] == ["the", "and"]
+
+
+def test_top_must_be_a_positive_number(sample, capsys):
+    for bad in ("zero", "0", "-3"):
+        with pytest.raises(SystemExit) as exc:
+            run(["--top", bad, sample])
+        assert exc.value.code == 2
+    assert "--top" in capsys.readouterr().err
+
+
+def test_dash_reads_standard_input(sample):
+    code, out = run(["--top", "1", "-"], stdin_text="dog dog cat")
+    assert code == 0
+    assert out.split() == ["2", "dog"]
+
+
+def test_files_and_standard_input_together(sample):
+    _, out = run(["--top", "1", sample, "-"], stdin_text="and and")
+    assert out.split() == ["4", "and"]
EOF_114329324912
: '>>>>> Start Test Output'
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider -c /dev/null --rootdir /testbed -o pythonpath=/testbed
: '>>>>> End Test Output'
git checkout 4a62f293d95bb228b0ce3c0790b5cd29972164f6 -- tests/test_cli.py
