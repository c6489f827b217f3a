"""The console's structure, as the style guide draws it: widgets never reach for screens,
lazy imports live at the one start-up boundary, and nothing calls Textual's private API."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "console"
#: Front ends of their own (other owners), and the entry point: a boundary by definition.
OTHERS = ("cli", "server", "demo")
#: The start-up boundary (console/lazy.py) and the `vista` entry point.
LAZY_BOUNDARIES = {"lazy.py", "entry.py", "launch.py"}


def _modules() -> list[Path]:
    return [
        p
        for p in sorted(ROOT.rglob("*.py"))
        if p.relative_to(ROOT).parts[0] not in OTHERS and "__pycache__" not in p.parts
    ]


def _imported(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


def test_widgets_never_import_screens_or_the_app() -> None:
    offenders = []
    for path in _modules():
        if path.relative_to(ROOT).parts[0] != "widgets":
            continue
        for name in _imported(ast.parse(path.read_text())):
            if name.startswith(("console.screens", "console.app")):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def _function_local_imports(tree: ast.AST) -> list[int]:
    """Line numbers of imports inside functions, except under `if TYPE_CHECKING:`."""
    found: list[int] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if inside and isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child.lineno)
            visit(child, inside)

    visit(tree, False)
    return found


def test_function_local_imports_only_at_the_named_boundaries() -> None:
    offenders = {}
    for path in _modules():
        if path.name in LAZY_BOUNDARIES and path.parent == ROOT:
            continue
        lines = _function_local_imports(ast.parse(path.read_text()))
        if lines:
            offenders[str(path.relative_to(ROOT))] = lines
    # safe_text.content(): the CLI uses clean() from the same module without loading Textual
    assert offenders == {"safe_text.py": [52]}


def test_no_private_textual_api() -> None:
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Attribute)
                and node.value.attr in ("app", "stylesheet", "screen")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textual._"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}")
        text = path.read_text()
        for private in ("_refresh_truecolor_filter", "_parse_action", "_filters"):
            if private in text:
                offenders.append(f"{path.relative_to(ROOT)}: {private}")
    assert offenders == []


def test_no_type_ignores_for_the_apps_attributes() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in _modules()
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if "type: ignore[attr-defined" in line
    ]
    assert offenders == []
