"""How the code is put together: Whoosh's internals behind one seam, and no
import cycles between errkb's modules."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "errkb"
SEAM = "whoosh_seam.py"
#: Whoosh modules whose public names are fine anywhere; the codec's are not.
PRIVATE_MODULES = ("whoosh.codec",)


def private_whoosh_uses(path: Path) -> list[str]:
    """Imports of private Whoosh names or of its codec, in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
            module = node.module or ""
            if module.startswith(PRIVATE_MODULES) or any(part.startswith("_") for part in module.split(".")):
                found.append(f"from {module} import ...")
            found.extend(f"{module}.{alias.name}" for alias in node.names if alias.name.startswith("_"))
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if alias.name.startswith(PRIVATE_MODULES))
    return found


def test_only_the_seam_imports_private_whoosh_names() -> None:
    offenders = {path.name: uses for path in sorted(SRC.glob("*.py"))
                 if path.name != SEAM and (uses := private_whoosh_uses(path))}
    assert offenders == {}
    assert private_whoosh_uses(SRC / SEAM)  # the check does see them where they are


def errkb_imports(path: Path) -> set[str]:
    """errkb modules one module imports (at any level of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("errkb."):
            found.add((node.module or "").split(".")[1])
    return found - {"__version__"}


def test_errkb_modules_import_each_other_without_cycles() -> None:
    graph = {path.stem: errkb_imports(path) for path in SRC.glob("*.py")}
    graph["__init__"] = set()  # the package root only names `__version__` and lazy attributes
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", " -> ".join([*trail, module])
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            visit(other, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        visit(module, [])
