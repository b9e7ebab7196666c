"""Host-side code shared by dgm's coding suites (swe-mini and humaneval).

Trusted: imported by the suites' scorers, never run inside a sandbox. The
in-sandbox halves are the scripts in ``evaluators/swe-mini/harness/`` (and
``evaluators/humaneval/harness/``), which carry no import of this package.

The suites' scorers are loaded by path (dgm.suites.load_suite), so this
package is loaded by path too, under the module name ``dgm_codingkit``
(see ``load()`` in each scorer).
"""
