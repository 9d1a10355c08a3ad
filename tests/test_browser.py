"""A real browser on the parity-export admin screen: JupyterLab + headless Debian Chromium.

JupyterLab serves a throwaway project (notebooks/parity_export.ipynb, a seeded DuckDB demo
tenant) on a free loopback port behind a token. Playwright drives /usr/bin/chromium (test tools
cannot download their own browser here): open the notebook, run all cells, click Export, see
the download link; then pick an inverted window, click Export, see the error toast. The page
is saved to test-artifacts/ as screenshots (-ok.png after the export, -error.png with the
toast). Skips only when no Chromium is installed.
"""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).is_file()),
    None,
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-extensions",
]

pytestmark = [
    pytest.mark.browser,
    # CI installs Chromium and sets MO_REQUIRE_BROWSER=1: there a missing browser fails the run.
    pytest.mark.skipif(
        CHROMIUM is None and os.environ.get("MO_REQUIRE_BROWSER") != "1",
        reason="no Chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed(url: str) -> None:
    import mo

    mo.create_tenant("demo", name="Harbour Kitchen", db_url=url)
    with (
        mo.LocalClient("demo", db_url=url) as client,
        (ROOT / "demo" / "ingredients.csv").open(newline="") as f,
    ):
        for row in csv.DictReader(f):
            client.add_ingredient(
                row["name"],
                unit=row["unit"],
                category=row["category"] or None,
                density=row["density"] or None,
                yield_pct=row["yield_pct"] or None,
            )
        client.import_price_list(
            ROOT / "demo" / "supplier_freshco.csv",
            supplier="FreshCo",
            idempotency_key="browser-freshco",
        )


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "parity_export.ipynb", project / "notebooks")
    (project / "pyproject.toml").write_text("")  # marks the project folder for relative paths
    return project


def _wait_until_up(base: str, token: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within 90 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """(base URL, token, project folder) of a JupyterLab server started for this test."""
    project = _project(tmp_path)
    db = tmp_path / "demo.duckdb"
    _seed(f"duckdb:///{db}")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "MO_DB_URL": f"duckdb:///{db}",
        "MO_TENANT": "demo",
        "MO_API_MODE": "local",
        "MO_PROJECT_DIR": str(project),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    for name in ("MO_HEADLESS", "MO_LOUD_ERRORS"):
        env.pop(name, None)
    # No "official Jupyter news?" prompt over the page (and no fetch from the internet).
    notification = (
        tmp_path
        / "settings"
        / "@jupyterlab"
        / "apputils-extension"
        / "notification.jupyterlab-settings"
    )
    notification.parent.mkdir(parents=True)
    notification.write_text('{"fetchNews": "false", "checkForUpdates": false}')
    log = tmp_path / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={project}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root; the server is loopback-only
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command, cwd=project, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, token, proc, log)
        yield base, token, project
    finally:
        # SIGINT twice is JupyterLab's own "shut down now": it stops its kernels first.
        for _ in range(2):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                time.sleep(0.5)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_parity_export_screen_in_a_real_browser(lab: tuple[str, str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, token, project = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400}, accept_downloads=True)
            page.goto(f"{base}/lab/tree/notebooks/parity_export.ipynb?token={token}")
            _run_all_cells(page)
            export = page.locator(".widget-button", has_text="Export")
            expect(export).to_be_visible(timeout=120_000)

            export.click()
            link = page.locator("a.mo-download").first
            expect(link).to_be_visible(timeout=60_000)
            assert link.get_attribute("download", timeout=5_000).startswith("events-demo-")
            [exported] = list((project / "var" / "exports").glob("events-demo-*.csv"))
            assert "import.completed" in exported.read_text()
            with page.expect_download(timeout=60_000) as download:
                link.click()  # the link JupyterLab resolved against the notebook's folder
            assert Path(download.value.path()).read_bytes() == exported.read_bytes()
            expect(page.locator(".mo-toast-success")).to_contain_text("Exported")
            page.screenshot(path=str(ARTIFACTS / "browser-parity-export-ok.png"), full_page=True)

            pickers = page.locator(".widget-datepicker input[type='date']")
            pickers.nth(0).fill((date.today() + timedelta(days=5)).isoformat())
            pickers.nth(1).fill((date.today() - timedelta(days=5)).isoformat())
            pickers.nth(1).dispatch_event("change")
            export.click()
            toast = page.locator(".mo-toast-error")
            expect(toast).to_be_visible(timeout=60_000)
            expect(toast).to_contain_text("validation_error")
            expect(toast).to_contain_text("since must be before until")
            page.screenshot(path=str(ARTIFACTS / "browser-parity-export-error.png"), full_page=True)
        except Exception:
            page.screenshot(
                path=str(ARTIFACTS / "browser-parity-export-failure.png"), full_page=True
            )
            raise
        finally:
            browser.close()


def _run_all_cells(page: object) -> None:
    """Wait for the notebook and its kernel, then Run All through JupyterLab's own command."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=120_000,
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.kernelDisplayStatus === 'idle'",
        timeout=120_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
