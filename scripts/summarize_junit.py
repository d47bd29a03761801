"""Print one closing line for all the test suites of a run: 'tests: N passed, N failed, N skipped'.

    summarize_junit.py FOLDER SUITE...

A suite whose report is missing (it could not even start) counts as one failure.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ElementTree


def main(folder, suites):
    passed = failed = skipped = 0
    for suite in suites:
        if not os.path.exists(os.path.join(folder, suite + '.xml')):
            print('suite %s produced no report: counted as failed' % suite)
            failed += 1
    for path in sorted(glob.glob(folder + '/*.xml')):
        for suite in ElementTree.parse(path).getroot().iter('testsuite'):
            tests = int(suite.get('tests', 0))
            bad = int(suite.get('failures', 0)) + int(suite.get('errors', 0))
            skip = int(suite.get('skipped', 0))
            passed += tests - bad - skip
            failed += bad
            skipped += skip
    print('tests: %d passed, %d failed, %d skipped' % (passed, failed, skipped))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
