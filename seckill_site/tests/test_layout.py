"""The layout holds: imports between top-level packages run one way, and the stock has one owner.

Read from the source with ``ast`` (nothing is imported), tests aside: a test may
reach into whatever it checks.
"""

import ast
import itertools
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lowest first: a package may import only packages below it.
LAYERS = ["plumbing", "sales", "orders", "loadtest", "seckill_site", "bench"]
INVENTORY = "sales/inventory"


def source_files(root: Path = ROOT):
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] not in LAYERS or "tests" in relative.parts:
            continue
        yield relative


def imported_modules(path: Path, names: bool = True) -> set[str]:
    """What the file imports; with ``names``, ``from a import b`` counts as ``a.b`` too (b may be a module)."""
    tree = ast.parse((ROOT / path).read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            if names:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_arrows() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) top-level package -> the files that make that arrow."""
    arrows = defaultdict(list)
    for path in source_files():
        here = path.parts[0]
        for module in sorted(imported_modules(path, names=False)):
            there = module.split(".")[0]
            if there in LAYERS and there != here:
                arrows[here, there].append(f"{path} imports {module}")
    return arrows


def find_cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    """One cycle of the directed graph, as a path that returns to its start, or None."""
    successors = defaultdict(set)
    for a, b in edges:
        successors[a].add(b)
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(successors[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(successors):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({("a", "b"), ("b", "c"), ("c", "a")}) == ["a", "b", "c", "a"]
    assert find_cycle({("a", "b"), ("b", "c"), ("a", "c")}) is None


def test_the_reader_sees_the_arrows():
    """The scan itself works: the arrows the layout is made of are found."""
    arrows = package_arrows()
    for expected in [("orders", "sales"), ("sales", "plumbing"), ("seckill_site", "orders"), ("loadtest", "sales")]:
        assert expected in arrows, f"{expected} not found: the import scan is broken"


def test_no_import_cycle_between_top_level_packages():
    arrows = package_arrows()
    cycle = find_cycle(set(arrows))
    assert cycle is None, (
        "import cycle "
        + " -> ".join(cycle)
        + ":\n"
        + "\n".join(line for a, b in itertools.pairwise(cycle) for line in arrows[a, b])
    )


def test_imports_run_down_the_layers():
    """plumbing <- sales <- orders <- loadtest <- seckill_site <- bench: nothing imports upwards,
    so plumbing knows no app, sales knows no orders, and only bench imports the project package."""
    upward = [
        line
        for (here, there), lines in package_arrows().items()
        if LAYERS.index(there) > LAYERS.index(here)
        for line in lines
    ]
    assert upward == [], "imports against the layers:\n" + "\n".join(upward)


def test_the_load_generator_is_an_app_of_its_own():
    assert not (ROOT / "sales" / "loadtest").exists() and not (ROOT / "orders" / "loadtest").exists()
    assert (ROOT / "loadtest" / "management" / "commands" / "loadtest.py").exists()


def test_only_the_inventory_touches_the_stock_keys_and_scripts():
    """A sale's Redis keys are named, and its Lua scripts called, in ``sales/inventory`` alone."""
    scripts = [p.name for p in (ROOT / INVENTORY / "lua").glob("*.lua")]
    assert scripts, "no Lua scripts found in the inventory"
    outside = []
    for path in source_files():
        inside = path.as_posix().startswith(INVENTORY + "/")
        if inside:
            continue
        text = (ROOT / path).read_text()
        private = {
            m for m in imported_modules(path) if m.startswith(("sales.inventory.keys", "sales.inventory.scripts"))
        }
        if private:
            outside.append(f"{path} imports {sorted(private)}")
        for needle in ("{sale:", "register_script", "EVALSHA", *scripts):
            # the hot path's clients run any script by its keys; they know no sale's
            client = path.as_posix() in ("plumbing/redis_pipe.py", "plumbing/redis_cluster.py")
            if needle in text and not (client and needle != "{sale:"):
                outside.append(f"{path} contains {needle!r}")
    assert outside == [], "\n".join(outside)
