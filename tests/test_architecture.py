"""The layers the README describes, checked on the source: no import cycles between modules,
and services (the business rules) never import the web framework or the states and views
built on it, so the REST API and the pages share them as they are."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "orgportal"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, modules: dict[str, Path], *, lazy: bool = False) -> set[str]:
    """The modules of ours that `path` imports at module level, or with `lazy` also inside
    functions (`from a import b` names the module a.b when there is one, else a)."""
    named: set[str] = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree) if lazy else tree.body:
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                named.add(sub if sub in modules else node.module)
    return {name for name in named if name in modules}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                groups.append(sorted([*group, node]))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_orgportal_is_a_regular_package():
    assert (PACKAGE / "__init__.py").is_file()


def test_no_module_imports_itself_through_others():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _cycles(graph) == []


# The function-level imports that close a cycle, each for a reason; a new one fails below.
# Organization API keys act through the same permission layer they extend: permissions and
# the key authentication dispatch ask `organization_keys` about a key's user lazily.
KNOWN_LAZY_CYCLES = {
    ("orgportal.services.accounts", "orgportal.services.organization_keys"),
    ("orgportal.services.api_keys", "orgportal.services.organization_keys"),
    ("orgportal.services.permissions", "orgportal.services.organization_keys"),
}


def test_no_new_lazy_import_closes_a_cycle():
    modules = _modules()
    eager = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    lazy = {name: _imports(path, modules, lazy=True) - {name} for name, path in modules.items()}
    graph = {
        name: eager[name] | {n for n in lazy[name] if (name, n) not in KNOWN_LAZY_CYCLES}
        for name in modules
    }
    assert _cycles(graph) == []


def test_services_never_import_the_web_framework_or_the_pages():
    modules = _modules()
    for name, path in modules.items():
        if not name.startswith("orgportal.services"):
            continue
        tree = ast.parse(path.read_text())
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }  # fmt: skip
        forbidden = {
            m
            for m in imported
            if m.split(".")[0] == "reflex"
            or m.startswith(("orgportal.state", "orgportal.views", "orgportal.pages"))
        }
        assert forbidden == set(), f"{name} imports {forbidden}"
