"""Every Python package of the source tree is listed for installation (an editable install hides
a missing one; a wheel would not have it)."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def test_every_package_directory_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapped = {name: ROOT / folder for name, folder in config["package-dir"].items()}
    found = set()
    for name, folder in mapped.items():
        for init in folder.rglob("__init__.py"):
            relative = init.parent.relative_to(folder)
            if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                continue
            sub = ".".join((name, *relative.parts)) if relative.parts else name
            if not any(sub.startswith(other + ".") and other != name for other in mapped if other != name):
                found.add(sub)
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
