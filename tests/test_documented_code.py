"""Every code block of the README and the documentation site runs, or is checked, as written.

- Python blocks run in a fresh interpreter, from an empty working directory (a block that is a
  pytest module, with ``class Test...``, is run by pytest); each must exit cleanly.
- Shell blocks are checked command by command without running them (they install packages,
  start the demo or run hours of benchmarks): ``make`` targets exist (``make -n``), ``pip
  install`` names extras the package has, ``python -m benchmarks`` arguments parse, and the
  programs named exist in the environment. A command of another kind fails the test until a
  check for it is written here.
- Blocks without a language are layout diagrams; doctest blocks run in ``make docs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re
import shlex
import subprocess
import sys

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "README.md"] + sorted(
    p
    for p in (ROOT / "docs").rglob("*")
    if p.suffix in (".rst", ".md") and "_build" not in p.parts
)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _markdown_blocks(path: Path) -> list[Block]:
    out = []
    for match in re.finditer(r"^```([^\n`]*)\n(.*?)^```", path.read_text(), flags=re.S | re.M):
        language = match[1].strip()
        if language.startswith("{"):  # a MyST directive such as {include}
            continue
        line = path.read_text()[: match.start()].count("\n") + 1
        out.append(Block(path, line, language, match[2]))
    return out


def _rst_blocks(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)\.\. code-block::\s*(\S+)", line)
        if not match:
            continue
        indent = len(match[1])
        body = []
        for following in lines[i + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        text = "\n".join(body).strip("\n")
        margin = min(len(x) - len(x.lstrip()) for x in text.splitlines() if x.strip())
        code = "\n".join(x[margin:] for x in text.splitlines()) + "\n"
        out.append(Block(path, i + 1, match[2], code))
    return out


BLOCKS = [
    b for p in SOURCES for b in (_markdown_blocks(p) if p.suffix == ".md" else _rst_blocks(p))
]
PYTHON = [b for b in BLOCKS if b.language == "python"]
SHELL = [b for b in BLOCKS if b.language in ("bash", "sh", "console")]


def test_every_block_has_a_known_language() -> None:
    unknown = [b.id for b in BLOCKS if b.language not in ("python", "bash", "sh", "", "text")]
    assert unknown == []
    assert len(PYTHON) >= 8 and len(SHELL) >= 5


@pytest.mark.slow
@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.code)
    if re.search(r"^class Test", block.code, flags=re.M):
        script = script.rename(tmp_path / "test_block.py")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    else:
        command = [sys.executable, str(script)]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{block.id}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["optional-dependencies"])


def _check_command(words: list[str]) -> None:
    program, args = words[0], words[1:]
    if program == "make":
        targets = [a for a in args if "=" not in a]
        done = subprocess.run(
            ["make", "-n", *targets], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    elif program == "pip" and args[:1] == ["install"]:
        for spec in args[1:]:
            if spec.startswith("-"):
                continue
            extras = re.findall(r"\[([^\]]*)\]", spec)
            assert extras or spec in (".",), spec
            for name in ",".join(extras).split(","):
                assert name in _extras(), f"no extra {name!r} in pyproject.toml"
    elif program.endswith("python") and args[:2] == ["-m", "benchmarks"]:
        from benchmarks.__main__ import build_parser

        build_parser().parse_args(args[2:])
    elif program.endswith("optuna-dashboard"):
        import optuna_dashboard  # noqa: F401

        assert args and args[0].startswith(("sqlite:///", "postgresql", "mysql"))
    else:
        raise AssertionError(f"no check for the command {shlex.join(words)!r}")


@pytest.mark.parametrize("block", SHELL, ids=[b.id for b in SHELL])
def test_shell_commands_are_valid(block: Block) -> None:
    for line in block.code.splitlines():
        command = line.split(" #")[0].strip()
        if command and not command.startswith("#"):
            _check_command(shlex.split(command))
