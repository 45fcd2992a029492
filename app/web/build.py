"""Build frontend-dist/ from the hand-written sources in frontend/.

There is no bundler: the sources are ES modules and CSS that browsers load
as they are. The build only makes them cacheable for good:

- everything under `frontend/assets/` is copied to
  `frontend-dist/assets/<hash>/`, where <hash> digests every asset's path and
  content, so relative imports between modules keep working and a changed
  file moves the whole folder to a new URL;
- the HTML pages, at any depth outside `assets/` (`admin/index.html`), are
  copied with each `src="/assets/..."` and `href="/assets/..."` pointed
  into that folder;
- other top-level files (`widget.js`, whose URL sites embed) are copied as
  they are.

Run it as `scripts/build-frontend`; tests/app/web/test_build.py fails when the
committed frontend-dist/ differs from what this would write.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "frontend"
OUTPUT = REPO / "frontend-dist"
DIGEST_LENGTH = 12
ASSET_REFERENCE = re.compile(r'((?:src|href)=")/assets/')


def assets_digest(assets: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in assets.rglob("*") if p.is_file()):
        name = path.relative_to(assets).as_posix().encode()
        content = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(name), name, len(content)))
        digest.update(content)
    return digest.hexdigest()[:DIGEST_LENGTH]


def point_at_assets(html: str, digest: str) -> str:
    return ASSET_REFERENCE.sub(rf"\1/assets/{digest}/", html)


class BuildRefused(Exception):
    """The sources hold something that must not be published."""


def check_sources(source: Path) -> None:
    """Refuse links and dotfiles: a link could publish a file from outside
    the sources (and escape the hash), a dotfile is an editor's or a tool's."""
    for path in sorted(source.rglob("*")):
        name = path.relative_to(source).as_posix()
        if path.is_symlink():
            raise BuildRefused(f"{name} is a link; put the file itself in {source}")
        if path.name.startswith("."):
            raise BuildRefused(f"{name} is hidden; remove it from {source}")


def build_frontend(source: Path = SOURCE, output: Path = OUTPUT) -> str:
    """Write the dist for `source` into `output` (replaced whole); the hash."""
    check_sources(source)
    digest = assets_digest(source / "assets")
    staging = output.with_name(output.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)

    shutil.copytree(source / "assets", staging / "assets" / digest)
    for path in sorted(source.rglob("*.html")):
        name = path.relative_to(source)
        if name.parts[0] != "assets":
            html = point_at_assets(path.read_text(encoding="utf-8"), digest)
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_text(html, encoding="utf-8")
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix != ".html":
            shutil.copyfile(path, staging / path.name)

    shutil.rmtree(output, ignore_errors=True)
    staging.rename(output)
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    options = parser.parse_args(argv)
    try:
        digest = build_frontend(options.source, options.output)
    except BuildRefused as refused:
        print(f"build-frontend: {refused}", file=sys.stderr)
        return 2
    print(f"built {options.output} (assets/{digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
