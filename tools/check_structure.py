#!/usr/bin/env python3
"""Structural checks over the `mgen` package, run by CI (standard library only).

1. No module is over 400 lines.
2. No function or method is over 40 lines, counted from its `def` line to its last line. Not
   counted: functions whose body (after the docstring) is a single `return` or assignment of a
   literal table (a dict, list, tuple or set display); and in `mgen/cli/`, where typer commands
   declare their options in the signature, only the body (first statement after the docstring
   to the end) counts.
3. No import cycle among mgen modules. Every `import` / `from ... import` counts, at module
   level or inside functions, except under `if TYPE_CHECKING:`. `from mgen.core.contracts import
   registry` is an edge to the submodule `mgen.core.contracts.registry`; a name that is not a
   submodule is an edge to the package it comes from (its `__init__`).
4. Layers (docs/architecture.md): the plugins sit on top. Nothing in mgen.core, mgen.formats,
   mgen.evaluate or mgen.web imports mgen.plugins or names it at all (not even in a docstring);
   mgen.formats imports nothing of mgen but itself and mgen.core.contracts' errors, io and config.
5. `mgen --help` and `mgen plugins` each start in under 0.5 s of CPU time (user and system,
   median of 3 runs after a warm-up) and neither imports torch. `--no-timing` skips this check.

Prints one line per violation and exits 1, or prints a summary of the figures and exits 0.
"""

from __future__ import annotations

import argparse
import ast
import re
import resource
import statistics
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mgen"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40
MAX_START_SECONDS = 0.5
TIMED_COMMANDS = ("--help", "plugins")


@dataclass
class Module:
    name: str  # dotted, e.g. "mgen.core.contracts.registry"
    path: Path
    tree: ast.Module
    n_lines: int
    is_package: bool
    rel: str  # path as printed, e.g. "mgen/core/contracts/registry.py"


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


# -- loading ----------------------------------------------------------------------------------


def load_modules(package: Path = PACKAGE) -> dict[str, Module]:
    """Every module under `package`, keyed by its dotted name."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        rel = path.relative_to(package.parent).as_posix()
        modules[name] = Module(name, path, tree, len(text.splitlines()), is_package, rel)
    return modules


# -- checks 1 and 2: sizes ----------------------------------------------------------------------


def check_module_sizes(modules: dict[str, Module], report: Report) -> None:
    for m in modules.values():
        if m.n_lines > MAX_MODULE_LINES:
            report.violations.append(
                f"{m.rel}: module has {m.n_lines} lines (max {MAX_MODULE_LINES})"
            )
    biggest = max(modules.values(), key=lambda m: m.n_lines)
    report.figures.append(
        f"{len(modules)} modules, largest {biggest.rel} ({biggest.n_lines} lines)"
    )


def _body_after_docstring(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    body = fn.body
    first = body[0]
    value = first.value if isinstance(first, ast.Expr) else None
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return body[1:]
    return body


def is_declarative_table(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A body that only returns or assigns one literal dict/list/tuple/set display."""
    body = _body_after_docstring(fn)
    if len(body) != 1:
        return False
    stmt = body[0]
    if not isinstance(stmt, (ast.Return, ast.Assign, ast.AnnAssign)):
        return False
    return isinstance(stmt.value, (ast.Dict, ast.List, ast.Tuple, ast.Set))


def counted_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef, body_only: bool) -> int:
    """Lines from the `def` (or, with `body_only`, the first statement after the docstring)
    to the function's last line."""
    assert fn.end_lineno is not None
    if not body_only:
        return fn.end_lineno - fn.lineno + 1
    body = _body_after_docstring(fn)
    if not body:
        return 0
    first = body[0]
    decorators = getattr(first, "decorator_list", [])
    start = min([first.lineno, *(d.lineno for d in decorators)])
    return fn.end_lineno - start + 1


def _functions(tree: ast.AST) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method, nested ones included, with its qualified name."""

    def walk(node: ast.AST, prefix: str):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield prefix + child.name, child
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def check_function_sizes(modules: dict[str, Module], report: Report) -> None:
    longest, count = (0, ""), 0
    for m in modules.values():
        body_only = m.name == "mgen.cli" or m.name.startswith("mgen.cli.")
        for qualname, fn in _functions(m.tree):
            count += 1
            if is_declarative_table(fn):
                continue
            n = counted_lines(fn, body_only)
            longest = max(longest, (n, f"{m.rel}:{fn.lineno} {qualname}"))
            if n > MAX_FUNCTION_LINES:
                what = "body has" if body_only else "function has"
                report.violations.append(
                    f"{m.rel}:{fn.lineno}: {qualname}: {what} {n} lines (max {MAX_FUNCTION_LINES})"
                )
    report.figures.append(f"{count} functions, longest counted {longest[0]} lines ({longest[1]})")


# -- check 3: import cycles ---------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement below `node`, skipping the bodies of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.orelse:
                yield from _import_nodes_of(stmt)
        else:
            yield from _import_nodes(child)


def _import_nodes_of(stmt: ast.stmt) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        yield stmt
    else:
        yield from _import_nodes(stmt)


def _from_base(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module a `from X import ...` reads from."""
    if node.level == 0:
        return node.module or ""
    package = module.name.split(".")
    if not module.is_package:
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def imported_modules(module: Module, node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """What one import statement loads, as (dotted name, the module it falls back to when that
    name is not a module): `from a.b import c` loads `a.b.c` if it is a module, else `a.b`."""
    if isinstance(node, ast.Import):
        return [(alias.name, alias.name) for alias in node.names]
    base = _from_base(module, node)
    return [(f"{base}.{alias.name}", base) for alias in node.names]


def _is_mgen(name: str) -> bool:
    return name == "mgen" or name.startswith("mgen.")


def import_graph(modules: dict[str, Module], report: Report) -> dict[str, dict[str, int]]:
    """module -> {imported mgen module: line of the first such import}."""
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for m in modules.values():
        for node in _import_nodes(m.tree):
            for name, base in imported_modules(m, node):
                if not _is_mgen(base):
                    continue
                target = name if name in modules else base
                if target in modules:
                    graph[m.name].setdefault(target, node.lineno)
                else:
                    missing = f"{m.rel}:{node.lineno}: imports {base}, which is not an mgen module"
                    if missing not in report.violations:
                        report.violations.append(missing)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: every strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    components.append(_pop_component(node, stack, on_stack))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def _pop_component(node: str, stack: list[str], on_stack: set[str]) -> list[str]:
    component = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == node:
            return sorted(component)


def shortest_cycle(graph: dict[str, dict[str, int]], start: str, within: set[str]) -> list[str]:
    """A shortest import path from `start` back to itself inside one component."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child == start:
                    return paths[node] + [start]
                if child in within and child not in paths:
                    paths[child] = paths[node] + [child]
                    following.append(child)
        frontier = following
    return [start]


def check_import_cycles(modules: dict[str, Module], report: Report) -> None:
    graph = import_graph(modules, report)
    cycles = 0
    for component in strongly_connected(graph):
        first = component[0]
        if len(component) == 1 and first not in graph[first]:
            continue
        cycles += 1
        members = set(component)
        path = shortest_cycle(graph, first, members)
        where = ", ".join(
            f"{modules[a].rel}:{graph[a][b]}" for a, b in zip(path, path[1:], strict=False)
        )
        report.violations.append(
            f"{modules[first].rel}: import cycle among {len(component)} module(s) "
            f"[{', '.join(component)}], e.g. {' -> '.join(path)} (imports at {where})"
        )
    edges = sum(len(targets) for targets in graph.values())
    report.figures.append(f"import graph: {edges} edges, {cycles} cycle(s)")


# -- check 4: layers ---------------------------------------------------------------------------

BELOW_PLUGINS = ("mgen.core", "mgen.formats", "mgen.evaluate", "mgen.web")
FORMATS_MAY_IMPORT = ("mgen.formats", "mgen.core.contracts.errors", "mgen.core.contracts.io",
                      "mgen.core.contracts.config")  # fmt: skip


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def check_layers(modules: dict[str, Module], report: Report) -> None:
    graph = import_graph(modules, Report())  # its own violations are check 3's
    for m in modules.values():
        if not _within(m.name, BELOW_PLUGINS):
            continue
        for line, text in enumerate(m.path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search("mgen.plugins", text):  # as `grep mgen.plugins` reads it: "." is any
                report.violations.append(f"{m.rel}:{line}: names mgen.plugins below the plugins")
        for target, line in graph[m.name].items():
            allowed = FORMATS_MAY_IMPORT + ("mgen",) if m.name.startswith("mgen.formats") else None
            if allowed and not (_within(target, allowed[:-1]) or target == "mgen"):
                report.violations.append(f"{m.rel}:{line}: mgen.formats imports {target}")
    report.figures.append("layers checked")


# -- check 5: start-up time ---------------------------------------------------------------------

TORCH_PROBE = """import sys
sys.argv = ["mgen", {arg!r}]
import mgen.cli.app as app
try:
    app.main()
except SystemExit:
    pass
print("torch" in sys.modules)
"""


def _run(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """(the child's CPU seconds, user and system, its result). CPU time, not wall time: what
    the command itself costs, the same on a quiet machine and on one shared with a training
    run (where the wall clock also counts the time the child waits for a core)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, done


def _failed(command: str, done: subprocess.CompletedProcess[str]) -> str:
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return f"`mgen {command}` exited with {done.returncode}: {last}"


def time_command(command: str, report: Report) -> None:
    argv = [sys.executable, "-m", "mgen", command]
    _, done = _run(argv)  # warm-up: file system cache, .pyc files
    if done.returncode != 0:
        report.violations.append(_failed(command, done))
        return
    median = statistics.median(_run(argv)[0] for _ in range(3))
    report.figures.append(f"`mgen {command}` {median:.3f} CPU-s")
    if median > MAX_START_SECONDS:
        report.violations.append(
            f"`mgen {command}` takes {median:.3f} CPU-s (median of 3; max {MAX_START_SECONDS} s)"
        )


def check_no_torch(command: str, report: Report) -> None:
    _, done = _run([sys.executable, "-c", TORCH_PROBE.format(arg=command)])
    answer = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode != 0 or answer not in ("True", "False"):
        report.violations.append(_failed(command, done) + " (torch probe)")
    elif answer == "True":
        report.violations.append(f"`mgen {command}` imports torch")


def check_startup(report: Report) -> None:
    for command in TIMED_COMMANDS:
        time_command(command, report)
        check_no_torch(command, report)


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-timing", action="store_true", help="skip the start-up checks")
    args = parser.parse_args(argv)
    report = Report()
    modules = load_modules()
    check_module_sizes(modules, report)
    check_function_sizes(modules, report)
    check_import_cycles(modules, report)
    check_layers(modules, report)
    if not args.no_timing:
        check_startup(report)
    summary = "check_structure: " + "; ".join(report.figures)
    if report.violations:
        print("\n".join(report.violations))
        print(summary, file=sys.stderr)
        return 1
    print(summary + "; all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
