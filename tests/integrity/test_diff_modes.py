"""check_diff judges a file mode by its octal type bits, whatever its spelling."""

import pytest

from dgm.archive.diffcheck import check_diff

DIFF = "diff --git a/x b/x\n{mode}\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+/etc/passwd\n"


@pytest.mark.parametrize("mode", ["new file mode 120000", "new file mode 0120000", "new file mode 120777",
                                  "new file mode 00120644", "new mode 120000",
                                  "index 1111111..2222222 120000"])
def test_symlink_modes_in_any_spelling_are_refused(mode):
    assert check_diff(DIFF.format(mode=mode)) == "symlinks are not allowed in an agent's code"


@pytest.mark.parametrize("mode, why", [("new file mode 160000", "gitlinks"), ("new file mode 0160000", "gitlinks"),
                                       ("new file mode 040755", "not a regular file"),
                                       ("new file mode 12o000", "unreadable file mode")])
def test_other_non_file_modes_are_refused(mode, why):
    assert why in check_diff(DIFF.format(mode=mode))


@pytest.mark.parametrize("mode", ["new file mode 100644", "new file mode 0100755", "index 1111111..2222222 100644",
                                  "deleted file mode 120000"])
def test_controls_regular_files_and_deleting_a_link_pass(mode):
    diff = DIFF.format(mode=mode)
    if mode.startswith("deleted"):
        diff = "diff --git a/x b/x\ndeleted file mode 120000\n--- a/x\n+++ /dev/null\n@@ -1 +0,0 @@\n-/etc\n"
    assert check_diff(diff) is None
