"""The registry's front-matter rules (optunahub-registry's header_confirm.py), for every
package README here."""

from __future__ import annotations

import pathlib

import frontmatter


def check(path: pathlib.Path) -> None:
    post = frontmatter.load(str(path))
    for key in ("author", "title", "description", "license"):
        assert isinstance(post.get(key), str), f"{key} is not a string in {path}"
    assert post["license"] == "MIT License", f"license must be 'MIT License' in {path}"
    for key in ("tags", "optuna_versions"):
        value = post.get(key)
        assert isinstance(value, list), f"{key} is not a list in {path}"
        assert all(isinstance(v, str) for v in value), f"{key} is not strings in {path}"


if __name__ == "__main__":
    for readme in sorted(pathlib.Path("package").glob("*/*/README.md")):
        check(readme)
        print(f"ok {readme}")
