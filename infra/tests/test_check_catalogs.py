"""check_catalogs.py catches each way an infra copy of the catalog can part from the binary's.

The binary's catalog here is a hand-written stand-in for `metrics --json` (three metrics), so
the expectations do not depend on a build.
"""
import unittest

import check_catalogs as cc

BINARY = {
    "CpuUtilization": ("Percent", "task"),
    "ClockErrorBound": ("Milliseconds", "task"),
    "ContainerRestarts": ("Count", "container"),
}

TF = """
locals {
  metric_names = [
    "CpuUtilization", "ClockErrorBound",
    "ContainerRestarts",
  ]
}
"""

CDK = """
export const METRIC_CATALOG: readonly CatalogMetric[] = [
  { name: "CpuUtilization", unit: U.PERCENT, level: "task" },
  { name: "ClockErrorBound", unit: U.MILLISECONDS, level: "task" },
  { name: "ContainerRestarts", unit: U.COUNT, level: "container" },
];
"""


class CatalogChecks(unittest.TestCase):
    def test_copies_that_agree_pass(self):
        self.assertEqual(cc.terraform_problems(TF, BINARY), [])
        self.assertEqual(cc.cdk_problems(CDK, BINARY), [])

    def test_a_metric_missing_from_the_terraform_copy_fails(self):
        stale = TF.replace('"ClockErrorBound",', "")
        self.assertEqual(cc.terraform_problems(stale, BINARY),
                         ["catalog.tf metric_names: ClockErrorBound is published by the binary "
                          "but missing here"])

    def test_a_name_the_binary_does_not_have_fails(self):
        typo = TF.replace('"ContainerRestarts"', '"ContainerRestart"')
        problems = cc.terraform_problems(typo, BINARY)
        self.assertIn("catalog.tf metric_names: ContainerRestart is not a metric of the binary",
                      problems)
        self.assertEqual(len(problems), 2)

    def test_a_name_listed_twice_fails(self):
        twice = TF.replace('"ContainerRestarts",', '"ContainerRestarts", "CpuUtilization",')
        self.assertEqual(cc.terraform_problems(twice, BINARY),
                         ["catalog.tf: CpuUtilization is listed twice"])

    def test_a_wrong_unit_or_level_in_the_cdk_copy_fails(self):
        wrong_unit = CDK.replace("U.MILLISECONDS", "U.SECONDS")
        self.assertEqual(cc.cdk_problems(wrong_unit, BINARY),
                         ["metric-catalog.ts: ClockErrorBound is Seconds (task), the binary "
                          "publishes Milliseconds (task)"])
        wrong_level = CDK.replace('unit: U.COUNT, level: "container"', 'unit: U.COUNT, level: "task"')
        self.assertEqual(len(cc.cdk_problems(wrong_level, BINARY)), 1)

    def test_a_metric_missing_from_the_cdk_copy_fails(self):
        stale = CDK.replace('  { name: "ClockErrorBound", unit: U.MILLISECONDS, level: "task" },\n', "")
        self.assertEqual(cc.cdk_problems(stale, BINARY),
                         ["metric-catalog.ts: ClockErrorBound is published by the binary but "
                          "missing here"])

    def test_a_file_without_the_list_is_an_error_not_a_pass(self):
        with self.assertRaises(ValueError):
            cc.terraform_names("locals {}")
        with self.assertRaises(ValueError):
            cc.cdk_entries("export const X = [];")


if __name__ == "__main__":
    unittest.main()
