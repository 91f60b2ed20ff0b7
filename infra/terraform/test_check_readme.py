"""Unit tests of check_readme.py: it passes a matching README and fails on a missing or stale row.

    python3 -m unittest discover -s infra/terraform -p 'test_check_readme.py'
"""

import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import check_readme  # noqa: E402

TF = textwrap.dedent(
    """\
    variable "image" {
      type = string
    }

    variable "cpu" {
      type    = number
      default = 16
    }

    # variable "commented_out" {}

    output "container_definition" {
      value = {}
    }
    """
)

README = textwrap.dedent(
    """\
    # module

    Mentions `not_an_input` in prose, which is not a table row.

    ## Inputs

    | input | default | what |
    |---|---|---|
    | `image` | (required) | the image; `also_not_a_name` in another column |
    | `cpu` | `16` | CPU units |

    ## Outputs

    | output | what |
    |---|---|
    | `container_definition` | the definition |

    ## Notes

    | `ignored_table_name` | a table outside the two sections |
    """
)


class CheckReadmeTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self._tmp.name)
        (self.dir / "variables.tf").write_text(TF, encoding="utf-8")

    def tearDown(self):
        self._tmp.cleanup()

    def write_readme(self, text):
        (self.dir / "README.md").write_text(text, encoding="utf-8")

    def test_matching_readme_passes(self):
        self.write_readme(README)
        self.assertEqual(check_readme.check(self.dir), [])

    def test_missing_input_row_fails(self):
        self.write_readme(README.replace("| `cpu` | `16` | CPU units |\n", ""))
        problems = check_readme.check(self.dir)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn('variable "cpu" is missing from the ## Inputs table', problems[0])

    def test_stale_input_row_fails(self):
        # A variable renamed in the .tf file but not in the README: its old row is stale and the
        # new name is missing.
        (self.dir / "variables.tf").write_text(TF.replace('"cpu"', '"cpu_units"'), encoding="utf-8")
        self.write_readme(README)
        problems = check_readme.check(self.dir)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn('variable "cpu_units" is missing', problems[0])
        self.assertIn('names "cpu", which is not a variable', problems[1])

    def test_stale_row_alone_fails(self):
        self.write_readme(README.replace("| `cpu` |", "| `cpu` / `memory` |"))
        problems = check_readme.check(self.dir)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn('names "memory", which is not a variable', problems[0])

    def test_missing_and_stale_output_rows_fail(self):
        self.write_readme(README.replace("`container_definition` | the definition", "`definition` | renamed"))
        problems = check_readme.check(self.dir)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn('output "container_definition" is missing from the ## Outputs table', problems[0])
        self.assertIn('names "definition", which is not an output', problems[1])

    def test_missing_readme_fails(self):
        self.assertEqual(len(check_readme.check(self.dir)), 1)

    def test_command_line_exit_status(self):
        script = Path(check_readme.__file__)
        self.write_readme(README)
        ok = subprocess.run([sys.executable, script, self.dir], capture_output=True, text=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.write_readme(README.replace("| `image` | (required) |", "| `img` | (required) |"))
        bad = subprocess.run([sys.executable, script, self.dir], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 1)
        self.assertIn('variable "image" is missing', bad.stderr)
        self.assertIn('names "img"', bad.stderr)


if __name__ == "__main__":
    unittest.main()
