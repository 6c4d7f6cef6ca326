"""Static checks of the built HTML: every figure has alt text, every chapter page exists."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from .conftest import chapter_pages


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


@pytest.mark.parametrize("page", chapter_pages(), ids=lambda p: p.stem)
def test_every_image_has_alt_text(html_dir, page):
    assert page.exists(), f"{page.name} was not built"
    parser = _Images()
    parser.feed(page.read_text())
    figures = [img for img in parser.images if "_images/" in (img.get("src") or "")]
    assert figures, "a chapter without a single figure"
    missing = [img.get("src") for img in parser.images if not (img.get("alt") or "").strip()]
    assert not missing, f"images without alt text: {missing}"


def test_proof_map_links_every_statement(html_dir):
    """The proof map is built, and every row's statement is a working link into a chapter."""
    page = html_dir / "book" / "proof_map.html"
    assert page.exists(), "the proof map was not built"
    text = page.read_text()
    links = [chunk.split('"', 1)[0] for chunk in text.split('href="')[1:]]
    targets = [href for href in links if href.startswith(("0", "./0")) and "#" in href]
    assert len(targets) >= 40, f"only {len(targets)} links from the proof map into the chapters"
    for href in targets:
        name, anchor = href.removeprefix("./").split("#", 1)
        chapter = (page.parent / name).read_text()
        assert f'id="{anchor}"' in chapter, f"broken link {href}"
