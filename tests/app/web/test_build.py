"""frontend-dist/ is what scripts/build-frontend makes of frontend/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.web.build import OUTPUT, SOURCE, BuildRefused, build_frontend


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_committed_dist_matches_a_fresh_build(tmp_path):
    build_frontend(SOURCE, tmp_path / "dist")
    fresh, committed = tree(tmp_path / "dist"), tree(OUTPUT)
    assert sorted(fresh) == sorted(committed), "run scripts/build-frontend"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert stale == [], "run scripts/build-frontend"


def test_pages_point_into_the_hashed_folder(tmp_path):
    digest = build_frontend(SOURCE, tmp_path / "dist")
    page = (tmp_path / "dist" / "index.html").read_text()
    assert f'src="/assets/{digest}/chat/main.js"' in page
    assert 'href="/assets/styles' not in page


def test_a_changed_asset_moves_to_a_new_folder(tmp_path):
    source = tmp_path / "frontend"
    (source / "assets").mkdir(parents=True)
    (source / "assets" / "app.js").write_text("export const a = 1;\n")
    (source / "index.html").write_text('<script src="/assets/app.js"></script>')
    first = build_frontend(source, tmp_path / "dist")
    (source / "assets" / "app.js").write_text("export const a = 2;\n")
    second = build_frontend(source, tmp_path / "dist")

    assert first != second
    assert [p.name for p in (tmp_path / "dist" / "assets").iterdir()] == [second]


def test_pages_in_folders_are_built_beside_the_top_level_ones(tmp_path):
    digest = build_frontend(SOURCE, tmp_path / "dist")
    page = (tmp_path / "dist" / "admin" / "index.html").read_text()
    assert f'src="/assets/{digest}/admin/main.js"' in page
    assert 'href="/assets/styles' not in page


@pytest.mark.parametrize("planted", ["link", "dotfile"])
def test_links_and_hidden_files_are_refused_and_nothing_is_written(tmp_path, planted):
    source = tmp_path / "frontend"
    shutil.copytree(SOURCE, source)
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the web")
    if planted == "link":
        (source / "assets" / "notes.txt").symlink_to(outside)
    else:
        (source / "assets" / ".notes.swp").write_text("editor state")

    with pytest.raises(BuildRefused):
        build_frontend(source, tmp_path / "dist")

    assert not (tmp_path / "dist").exists()
