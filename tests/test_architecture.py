"""The house rules, checked on every run: the core imports no chat platform and no adapter,
adapters never reach the store or a database session, botbuilder stays in the Teams adapter,
and every adapter is a plugin the core finds by entry point.

Imports are read with `ast` from every .py file, so every form counts: `import x`,
`from x import y`, relative imports, imports inside functions or under `if TYPE_CHECKING:`, and
`importlib.import_module("x")` / `__import__("x")` with a literal name. A failure lists each
offending import as file:line: statement.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAT_PLATFORMS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiosmtplib")
BOT_FRAMEWORK = ("botbuilder", "botframework")
DATABASE = ("bot.store", "sqlalchemy", "sqlmodel")
ADAPTER_GROUP = "nosurprises.adapters"
ADAPTERS = {"console", "email", "slack", "teams"}


@dataclass(frozen=True)
class Import:
    file: str  # relative to the repository, e.g. bot/service.py
    line: int
    statement: str  # as written
    modules: tuple[str, ...]  # what it imports, absolute: `from a import b` gives a and a.b

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.statement}"

    def reaches(self, *packages: str) -> bool:
        return any(
            module == package or module.startswith(package + ".")
            for module in self.modules
            for package in packages
        )


def _module_of(path: Path) -> tuple[str, bool]:
    """The dotted name of a source file, and whether it is a package's __init__."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _absolute(path: Path, module: str | None, level: int) -> str:
    """The absolute name of `from <level dots><module> import …` written in `path`."""
    if not level:
        return module or ""
    name, is_package = _module_of(path)
    package = name.split(".") if is_package else name.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def _dynamic_import(node: ast.Call) -> str | None:
    """The literal module name of `importlib.import_module("x")` or `__import__("x")`."""
    function = node.func
    name = (
        function.attr
        if isinstance(function, ast.Attribute)
        else function.id
        if isinstance(function, ast.Name)
        else None
    )
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports_in(path: Path, source: str | None = None) -> Iterator[Import]:
    """Every import in the file `path` (or in `source`, read as if it were that file)."""
    source = path.read_text(encoding="utf-8") if source is None else source
    where = path.relative_to(ROOT).as_posix()
    for node in ast.walk(ast.parse(source, filename=where)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(path, node.module, node.level)
            names = [f"{base}.{alias.name}" if base else alias.name for alias in node.names]
            modules = [base, *names] if base else names
        elif isinstance(node, ast.Call) and (dynamic := _dynamic_import(node)):
            modules = [dynamic]
        if modules:
            statement = " ".join((ast.get_source_segment(source, node) or "").split())
            yield Import(where, node.lineno, statement, tuple(modules))


def imports_under(*folders: str) -> list[Import]:
    found: list[Import] = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            found.extend(imports_in(path))
    return found


def _report(offending: list[Import], rule: str) -> str:
    return f"{rule}:\n" + "\n".join(f"  {found}" for found in offending)


# --- the import rules ---------------------------------------------------------------------------


def test_the_reader_sees_every_form_of_import() -> None:
    """The rules below are only as good as the reader: check it on a file of every form."""
    sample = ROOT / "bot" / "sample.py"  # never written: the source is given
    source = (
        "from __future__ import annotations\n"
        "import slack_sdk.web, os\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from botbuilder.core import TurnContext\n"
        "def later():\n"
        "    from adapters import teams\n"
        "    import importlib\n"
        "    return importlib.import_module('slack_bolt')\n"
        "from .store import models\n"
        "from . import store\n"
        "from .. import adapters\n"
    )
    found = list(imports_in(sample, source))
    seen = {(i.line, m) for i in found for m in i.modules}
    assert {
        (2, "slack_sdk.web"),
        (2, "os"),
        (5, "botbuilder.core"),
        (7, "adapters.teams"),
        (9, "slack_bolt"),
        (10, "bot.store.models"),
        (11, "bot.store"),
        (12, "adapters"),
    } <= seen
    assert str(next(i for i in found if i.line == 5)) == (
        "bot/sample.py:5: from botbuilder.core import TurnContext"
    )


def test_the_core_imports_no_adapter_and_no_chat_platform() -> None:
    offending = [i for i in imports_under("bot") if i.reaches("adapters", *CHAT_PLATFORMS)]
    assert not offending, _report(
        offending, "bot/ imports an adapter or a chat platform's SDK (the core must not)"
    )


def test_adapters_never_reach_the_store_or_open_a_database_session() -> None:
    offending = [i for i in imports_under("adapters") if i.reaches(*DATABASE)]
    assert not offending, _report(
        offending, "adapters/ imports the store or a database library (go through bot.service)"
    )


def test_botbuilder_is_imported_only_by_the_teams_adapter() -> None:
    offending = [
        i
        for i in imports_under("bot", "adapters")
        if i.reaches(*BOT_FRAMEWORK) and not i.file.startswith("adapters/teams/")
    ]
    assert not offending, _report(
        offending, "botbuilder/botframework imported outside adapters/teams/"
    )


# --- adapters are plugins -----------------------------------------------------------------------


def test_each_adapter_is_registered_as_an_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    registered = project.get("entry-points", {}).get(ADAPTER_GROUP, {})
    assert set(registered) == ADAPTERS, (
        f"pyproject.toml [project.entry-points.{ADAPTER_GROUP!r}] names {sorted(registered)}, "
        f"expected {sorted(ADAPTERS)}"
    )
    for name, target in registered.items():
        module = target.partition(":")[0]
        assert module == f"adapters.{name}" or module.startswith(f"adapters.{name}."), (
            f"entry point {name} = {target!r} is not in adapters/{name}"
        )
    installed = {e.name: e.value for e in entry_points(group=ADAPTER_GROUP)}
    assert installed == registered, (
        f"the installed entry points {installed} differ from pyproject.toml's {registered}: "
        "reinstall the project (make does it when pyproject.toml changes)"
    )


def test_the_core_finds_every_adapter_through_its_entry_point() -> None:
    from bot.delivery.plugins import installed_adapters

    plugins = installed_adapters()
    assert set(plugins) == ADAPTERS
    assert [c.name for c in plugins["teams"].commands] == ["teams-package"]


def test_loading_the_plugins_imports_no_platform_sdk() -> None:
    """`--help` and `status` stay light: the SDKs load only when an adapter is built."""
    code = (
        "import sys; from bot.delivery.plugins import installed_adapters; installed_adapters();"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {CHAT_PLATFORMS!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
