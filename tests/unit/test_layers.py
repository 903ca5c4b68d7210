"""The structure shows the architecture: each package one idea, every import pointing down.

The package's modules are read as text (nothing is imported), every ``import`` and
``from … import`` is resolved to the package it names, and each rule below lists every
import that breaks it, with the file it is in.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import fieldgate

PACKAGE = Path(fieldgate.__file__).parent

# Top to bottom. A package may import the packages of the layers below its own, never one
# above, nor a peer of its own layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),  # the command; the only importer of the composition root
    ("app",),  # the composition root
    ("http",),  # the ASGI edge
    ("schema",),  # GraphQL: types, extensions, planning, compiled path
    ("resolvers", "demo"),  # rows in and out of the database; the demo data
    ("policy_store", "identity", "documents", "ratelimit", "retention"),
    ("audit",),
    ("crypto",),
    ("observability", "infra"),
    ("authz",),  # the decision engine
    ("models", "settings"),
    ("errors",),
)
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}

# The engine decides over coordinates and plain data: no GraphQL, HTTP, SQL or Redis.
ENGINE_FORBIDS = frozenset(
    {
        "graphql",
        "strawberry",
        "starlette",
        "sqlalchemy",
        "sqlmodel",
        "alembic",
        "asyncpg",
        "aiosqlite",
        "redis",
        "httpx",
        "uvicorn",
    }
)


@dataclass(frozen=True)
class Import:
    """``source`` (a file of package ``importer``) imports module ``target``."""

    importer: str
    source: str
    target: str

    @property
    def target_package(self) -> str | None:
        """The package of ours it names (``None`` for another library or the root)."""
        parts = self.target.split(".")
        if parts[0] != "fieldgate" or len(parts) == 1:
            return None
        return parts[1]

    @property
    def library(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        return f"{self.source}: {self.target}"


def package_of(path: Path, root: Path) -> str:
    """``fieldgate/authz/plans.py`` → ``authz``; ``fieldgate/app.py`` → ``app``."""
    return path.relative_to(root).parts[0].removesuffix(".py")


def module_name(path: Path, root: Path) -> list[str]:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(root: Path) -> list[Import]:
    """Every import in every module below ``root`` (the package folder)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        importer = package_of(path, root)
        source = str(path.relative_to(root.parent))
        module = module_name(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=source)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module if path.name == "__init__.py" else module[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    targets = [".".join([*base, *([node.module] if node.module else [])])]
                else:
                    targets = [node.module or ""]
            else:
                continue
            found.extend(Import(importer, source, target) for target in targets)
    return found


def packages(root: Path) -> set[str]:
    return {
        package_of(path, root)
        for path in root.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and path.name != "__init__.py")
    }


def upward(found: list[Import]) -> list[str]:
    """Imports of a package in the same layer or a higher one."""
    wrong = []
    for edge in found:
        target = edge.target_package
        if target is None or target == edge.importer:
            continue
        if RANK[target] <= RANK[edge.importer]:
            wrong.append(str(edge))
    return wrong


def engine_impurities(found: list[Import]) -> list[str]:
    return [
        str(edge)
        for edge in found
        if edge.importer == "authz"
        and (
            edge.library in ENGINE_FORBIDS or (edge.target_package not in (None, "authz", "errors"))
        )
    ]


def mutual(found: list[Import]) -> list[str]:
    edges = {
        (edge.importer, edge.target_package)
        for edge in found
        if edge.target_package not in (None, edge.importer)
    }
    return sorted(f"{a} <-> {b}" for a, b in edges if a < str(b) and (b, a) in edges)


@pytest.fixture(scope="module")
def found() -> list[Import]:
    return imports_of(PACKAGE)


def test_every_package_has_a_layer() -> None:
    unplaced = packages(PACKAGE) - RANK.keys()
    assert not unplaced, f"place these packages in LAYERS: {sorted(unplaced)}"


def test_imports_point_down(found: list[Import]) -> None:
    wrong = upward(found)
    assert not wrong, "imports of a peer or an upper layer:\n" + "\n".join(wrong)


def test_the_engine_stands_alone(found: list[Import]) -> None:
    wrong = engine_impurities(found)
    assert not wrong, "authz must decide over plain data:\n" + "\n".join(wrong)


def test_models_import_nothing_of_ours(found: list[Import]) -> None:
    wrong = [
        str(e) for e in found if e.importer == "models" and e.target_package not in (None, "models")
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_command_imports_the_composition_root(found: list[Import]) -> None:
    # the root's own modules import one another
    wrong = [
        str(e) for e in found if e.target_package == "app" and e.importer not in ("cli", "app")
    ]
    assert not wrong, "\n".join(wrong)


def test_no_two_packages_import_each_other(found: list[Import]) -> None:
    cycles = mutual(found)
    assert not cycles, "\n".join(cycles)


def test_the_rules_see_a_violation(tmp_path: Path) -> None:
    """The walk itself works: a tree breaking each rule is reported on each."""
    root = tmp_path / "fieldgate"
    for name, body in {
        "authz/plans.py": "from graphql import parse\nfrom ..resolvers import context\n",
        "resolvers/context.py": "from fieldgate.schema import x\n",
        "schema/x.py": "from fieldgate.resolvers.context import y\n",
        "models/users.py": "from fieldgate.errors import E\n",
        "http/view.py": "import fieldgate.app\n",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(body)
    fake = imports_of(root)
    assert engine_impurities(fake) == [
        "fieldgate/authz/plans.py: graphql",
        "fieldgate/authz/plans.py: fieldgate.resolvers",
    ]
    assert "fieldgate/resolvers/context.py: fieldgate.schema" in upward(fake)
    assert "fieldgate/http/view.py: fieldgate.app" in upward(fake)
    assert mutual(fake) == ["resolvers <-> schema"]
