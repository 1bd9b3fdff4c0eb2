"""pumps/pdf.py: the only renderer, and what it refuses to fetch."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from pumps import pdf
from pumps.pdf import BASE_URL, RenderRefused, RenderTimeout, StaticOnlyURLFetcher


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/x.png",
        "https://evil.example/static/css/print.css",
        "file:///etc/passwd",
        "https://itbportal-static.invalid/etc/passwd",
        "https://itbportal-static.invalid/static/../../itbportal/settings.py",
        "https://itbportal-static.invalid/static/css/missing.css",
        "data:text/plain,hello",
        "ftp://evil.example/x",
    ],
)
def test_fetcher_refuses_anything_but_the_apps_static_files(url):
    with pytest.raises(RenderRefused):
        StaticOnlyURLFetcher().fetch(url)


def test_fetcher_serves_the_apps_own_stylesheet():
    response = StaticOnlyURLFetcher().fetch(BASE_URL + "static/css/print.css")
    assert b"DejaVu Sans" in response.read()


def test_a_remote_image_in_a_template_is_not_fetched(tmp_path, settings, monkeypatch):
    asked = []
    original = StaticOnlyURLFetcher.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(StaticOnlyURLFetcher, "fetch", spy)
    (tmp_path / "evil.html").write_text(
        '<html lang="en"><title>t</title><img src="http://evil.example/x.png"></html>'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    data = pdf.render_pdf(template="evil.html", context={}, language="en", title="t")
    assert data.startswith(b"%PDF")
    assert asked == ["http://evil.example/x.png"]  # asked, refused by the spied fetcher, not loaded


def test_rendering_past_the_time_limit_stops(tmp_path, settings, monkeypatch):
    (tmp_path / "long.html").write_text(
        '<html lang="en"><title>t</title>' + "<p>words</p>" * 3000 + "</html>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    monkeypatch.setattr(pdf, "RENDER_TIME_LIMIT_SECONDS", 0.001)
    with pytest.raises(RenderTimeout):
        pdf.render_pdf(template="long.html", context={}, language="en", title="t")


def test_nothing_but_pumps_pdf_imports_weasyprint():
    root = Path(settings.BASE_DIR)
    found = subprocess.run(
        ["grep", "-rlE", r"^\s*(import|from) weasyprint", "--include=*.py", "."],
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout.split()
    # The benchmark's baseline renders a one-line page with raw WeasyPrint on purpose.
    skip = ("./.venv", "./var", "./tests/benchmarks/")
    found = [f for f in found if not f.startswith(skip)]
    assert found == ["./pumps/pdf.py"]
