#!/usr/bin/python3
"""Run the wsgated integration tests.

    WSGATED=./wsgated ECHO_BACKEND=./tests/backends/echo-backend \\
        /usr/bin/python3 tests/integration/run.py [NAME ...]

Without arguments every test_*.py in this directory runs.  A NAME selects
a file ("refusals", "test_refusals" or "test_refusals.py"), a class or a
single test ("test_refusals.Refusals.test_404").  Prints a summary and
exits non-zero if anything failed.
"""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def test_name(arg):
    name = os.path.basename(arg)
    if name.endswith(".py"):
        name = name[:-3]
    if not name.startswith("test_"):
        name = "test_" + name
    return name


class TimingResult(unittest.TextTestResult):
    """Prints how long each test took."""

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def _took(self):
        return " (%.1fs)" % (time.monotonic() - self._t0)

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
        if self.showAll:
            self.stream.writeln("ok" + self._took())
            self.stream.flush()
        elif self.dots:
            super().addSuccess(test)


def main(argv):
    for var in ("WSGATED", "ECHO_BACKEND"):
        if not os.environ.get(var):
            sys.stderr.write("run.py: %s is not set\n" % var)
            return 2
        os.environ[var] = os.path.abspath(os.environ[var])

    loader = unittest.TestLoader()
    if argv:
        suite = unittest.TestSuite()
        for a in argv:
            suite.addTests(loader.loadTestsFromName(test_name(a)))
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)

    t0 = time.monotonic()
    runner = unittest.TextTestRunner(verbosity=2, resultclass=TimingResult,
                                     stream=sys.stdout)
    result = runner.run(suite)
    took = time.monotonic() - t0

    bad = [(t, "FAIL") for t, _ in result.failures] + \
          [(t, "ERROR") for t, _ in result.errors] + \
          [(t, "UNEXPECTED SUCCESS") for t in result.unexpectedSuccesses]
    print("\n" + "=" * 70)
    print("integration: %d run, %d failed, %d errors, %d skipped in %.1fs"
          % (result.testsRun, len(result.failures), len(result.errors),
             len(result.skipped), took))
    for t, what in bad:
        print("  %-6s %s" % (what, t.id()))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
