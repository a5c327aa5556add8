"""Browser tests: JupyterLab in headless Chromium runs the latent explorer of notebook 07, a
slider is moved, and the picture changes; it runs the GAN playground of notebook 01 and plays
it: the step counter and the picture change while a slider still answers, and Pause stops
them; it moves the latent editor's step slider and target (notebook 10) and the translator
explorer's test-image slider (notebook 11), and their pictures follow; and it runs the style
mixing widget, whose crossover slider turns the mix into B's picture, then A's. This proves what the
unit tests cannot: that the widgets render in a real front end, that the kernel <-> browser
round trip works, and that the kernel stays responsive while it trains. (nbval runs the whole
notebooks; here each page holds only its notebook's setup cell and the cells its widget needs,
so the browser waits for no other training.)

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``) and the ``playwright`` pip
package, which drives that system browser (``playwright install`` is never needed).
Skipped when either is missing. Screenshots go to ``test-artifacts/``.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no browser at {CHROMIUM}"),
]
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

#: The notebook the test opens: the course's own notebook 07 (run in fast mode, outputs and
#: saved widget state stripped so that every picture on the page comes from the live kernel),
#: cut to its setup cell and the cells holding these lines (the generator, the explorer).
SOURCE = Path(__file__).resolve().parent.parent / "notebooks" / "07_latent_space.ipynb"
NOTEBOOK = SOURCE.name
EXPLORER_CELLS = ('g = pretrained.load("dcgan-fashion_mnist")', "widgets.latent_explorer(g, k=6")
#: The playground test opens notebook 01 (the GAN playground), prepared the same way.
PLAYGROUND_SOURCE = SOURCE.parent / "01_gan_theory.ipynb"
PLAYGROUND_CELLS = ("pg = playground()",)
#: The latent editor test opens notebook 10, cut to its setup cell and the cell that loads the
#: generator, plus one cell that builds the editor from a random start (in the notebook its start
#: is an inverted real image, which needs the inversion cells before it).
EDITOR_SOURCE = SOURCE.parent / "10_controllable_generation.ipynb"
EDITOR_CELLS = ('g = pretrained.load("dcgan-fashion_mnist")',)
EDITOR_CELL = (
    'editor = widgets.latent_editor(g, "fashion_mnist", seed=0, target="Dress", steps=40)\neditor'
)
#: The translator explorer test opens notebook 11 (pix2pix), cut to its setup cell, the cell that
#: loads the shipped colouriser and the cell that shows its explorer.
TRANSLATOR_SOURCE = SOURCE.parent / "11_pix2pix.ipynb"
TRANSLATOR_NOTEBOOK = TRANSLATOR_SOURCE.name
TRANSLATOR_CELLS = (
    'colouriser = gc.pretrained.load_translator("pix2pix-colorize")',
    "gc.widgets.translator_explorer(colouriser)",
)
TRANSLATOR_EXTRA = ()

#: The style mixing test opens notebook 13 (StyleGAN), cut to its setup cell, the cell of its
#: imports, the cell that loads the shipped StyleGAN generator and the cell that shows the widget.
MIXING_SOURCE = SOURCE.parent / "13_stylegan.ipynb"
MIXING_CELLS = (
    "from gancourse import pretrained, stylegan",
    'G = pretrained.load("stylegan-fashion_mnist")',
    "gc.widgets.style_mixing(G, seed_a=11, seed_b=12)",
)
MIXING_EXTRA = ()
MIXING_NOTEBOOK = "style_mixing.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with a token, a free port and its own config,
    settings and runtime folders; always shut down afterwards. Yields (url, token)."""
    root = tmp_path_factory.mktemp("lab")
    (root / "work").mkdir()
    _write_notebook(root / "work" / NOTEBOOK, SOURCE, EXPLORER_CELLS)
    _write_notebook(root / "work" / PLAYGROUND_SOURCE.name, PLAYGROUND_SOURCE, PLAYGROUND_CELLS)
    _write_notebook(root / "work" / EDITOR_SOURCE.name, EDITOR_SOURCE, EDITOR_CELLS, [EDITOR_CELL])
    _write_notebook(
        root / "work" / TRANSLATOR_NOTEBOOK, TRANSLATOR_SOURCE, TRANSLATOR_CELLS, TRANSLATOR_EXTRA
    )
    _write_notebook(root / "work" / MIXING_NOTEBOOK, MIXING_SOURCE, MIXING_CELLS, MIXING_EXTRA)
    settings = root / "settings"
    settings.mkdir()
    # no "news" / update pop-up covering part of the page, no "select kernel" dialog
    (settings / "overrides.json").write_text(
        json.dumps(
            {
                "@jupyterlab/apputils-extension:notification": {
                    "fetchNews": "false",
                    "checkForUpdates": False,
                },
                # render every cell (JupyterLab 4 otherwise skips cells scrolled out of view)
                "@jupyterlab/notebook-extension:tracker": {
                    "autoStartDefaultKernel": True,
                    "windowingMode": "none",
                },
            }
        )
    )
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(root / "config"),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root / 'work'}",
        f"--LabApp.app_settings_dir={settings}",
        f"--LabApp.user_settings_dir={root / 'user-settings'}",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers often run as root
        cmd.append("--allow-root")
    log = open(root / "jupyterlab.log", "w")
    server = subprocess.Popen(
        cmd,
        cwd=root / "work",
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(
            server, f"{url}/api/status?token={token}", root / "jupyterlab.log", timeout=90
        )
        yield url, token
    finally:
        _stop(server)
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(root / "jupyterlab.log", ARTIFACTS / "browser-jupyterlab.log")


def test_slider_moves_the_picture_in_jupyterlab(lab):
    with _run_all_in_lab(lab, NOTEBOOK, height=900, label="browser") as page:
        image = page.locator(".jp-OutputArea-output img.widget-image").first
        image.wait_for(timeout=120_000)  # kernel start + TensorFlow import + first picture
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        _wait_for_kernel_idle(page, timeout=300_000)  # the page's remaining cells have run
        image.scroll_into_view_if_needed()
        slider = page.locator(".widget-slider").first
        readout = slider.locator(".widget-readout")
        assert readout.inner_text().strip() == "0.00"
        before = image.get_attribute("src")
        page.screenshot(path=str(ARTIFACTS / "browser-before.png"))

        # move the first slider with the keyboard: focus its handle, press "right" a few times
        handle = slider.locator(".noUi-handle")
        handle.click()
        for _ in range(20):
            handle.press("ArrowRight")
        page.wait_for_function(
            "([img, src]) => img.getAttribute('src') !== src",
            arg=[image.element_handle(), before],
            timeout=30_000,
        )
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert float(readout.inner_text()) > 0
        after = image.get_attribute("src")
        page.screenshot(path=str(ARTIFACTS / "browser-after.png"))
        assert after != before

        # and the picture itself differs, not only its URL
        pixels = [image.screenshot()]
        for _ in range(40):
            handle.press("ArrowRight")
        page.wait_for_function(
            "([img, src]) => img.getAttribute('src') !== src",
            arg=[image.element_handle(), after],
            timeout=30_000,
        )
        page.wait_for_timeout(300)
        pixels.append(image.screenshot())
        assert pixels[0] != pixels[1]
        page.screenshot(path=str(ARTIFACTS / "browser-moved-more.png"))


def test_playground_plays_pauses_and_answers_sliders_in_jupyterlab(lab):
    with _run_all_in_lab(lab, PLAYGROUND_SOURCE.name, height=1000, label="playground") as page:
        outputs = page.locator(".jp-OutputArea-output")
        play = outputs.locator("button.jupyter-button", has_text="Play").first
        play.wait_for(timeout=180_000)
        # the whole notebook has run (fast mode): this notebook's kernel is idle, no cell waits
        page.wait_for_function(
            "() => { const panel = document.querySelector("
            "'.jp-NotebookPanel:not(.lm-mod-hidden)');"
            " const s = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');"
            " const prompts = [...panel.querySelectorAll('.jp-InputPrompt')]"
            ".map(p => p.innerText);"
            " return s && s.getAttribute('data-status') === 'idle' && prompts.length > 0"
            " && !prompts.some(t => t.includes('*')); }",
            timeout=300_000,
        )
        widget = play.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")
        status = widget.locator(".widget-html-content", has_text="seed").first
        message = widget.locator(".widget-html-content").last
        image = widget.locator("img.widget-image").first
        slider = widget.locator(".widget-slider", has_text="D learning rate").first
        widget.scroll_into_view_if_needed()
        steps = [_step_of(status.inner_text())]
        sources = [image.get_attribute("src")]
        page.screenshot(path=str(ARTIFACTS / "playground-before.png"))

        play.click()
        for i in range(4):  # the counter and the picture change, again and again
            page.wait_for_function(
                "([el, text]) => el.innerText !== text",
                arg=[status.element_handle(), status.inner_text()],
                timeout=30_000,
            )
            steps.append(_step_of(status.inner_text()))
            sources.append(image.get_attribute("src"))
            if i == 1:  # while it plays, a slider still answers: the kernel reports the change
                handle = slider.locator(".noUi-handle")
                handle.click()
                for _ in range(4):
                    handle.press("ArrowRight")
                page.wait_for_function(
                    "el => el.innerText.includes('d lr is now')",
                    arg=message.element_handle(),
                    timeout=30_000,
                )
        page.screenshot(path=str(ARTIFACTS / "playground-playing.png"))
        assert steps == sorted(steps) and len(set(steps)) == len(steps), steps
        assert len(set(sources)) >= 4

        widget.locator("button.jupyter-button", has_text="Pause").first.click()
        page.wait_for_timeout(1_000)  # the chunk under way ends, its frame is drawn
        paused = (status.inner_text(), image.get_attribute("src"))
        page.wait_for_timeout(2_000)
        assert (status.inner_text(), image.get_attribute("src")) == paused
        page.screenshot(path=str(ARTIFACTS / "playground-paused.png"))


def test_latent_editor_follows_its_step_slider_and_target_in_jupyterlab(lab):
    with _run_all_in_lab(lab, EDITOR_SOURCE.name, height=900, label="editor") as page:
        image = page.locator(".jp-OutputArea-output img.widget-image").first
        image.wait_for(timeout=180_000)  # kernel start, TensorFlow, the first 40-step walk
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        _wait_for_kernel_idle(page, timeout=300_000)
        widget = image.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")
        widget.scroll_into_view_if_needed()
        report = widget.locator(
            ".widget-html-content", has_text="seed"
        ).first  # its <pre> is replaced
        assert "step 40" in report.inner_text()
        assert "Dress" in _target_line(report.inner_text())
        before = (image.get_attribute("src"), report.inner_text())
        page.screenshot(path=str(ARTIFACTS / "editor-before.png"))

        # the step slider back to the start: the picture and the probabilities follow it
        handle = widget.locator(".widget-slider .noUi-handle").first
        handle.click()
        handle.press("Home")
        page.wait_for_function(
            "el => el.innerText.includes('step 0,')", arg=report.element_handle(), timeout=30_000
        )
        page.wait_for_function(
            "([img, src]) => img.getAttribute('src') !== src",
            arg=[image.element_handle(), before[0]],
            timeout=30_000,
        )
        start = (image.get_attribute("src"), report.inner_text())
        assert start[1] != before[1]
        page.screenshot(path=str(ARTIFACTS / "editor-start.png"))

        # another target: the kernel guides the same start again, towards the new class
        widget.locator(".widget-dropdown select").first.select_option(label="Bag")
        page.wait_for_function(
            "el => /Bag.*<- target/.test(el.innerText)", arg=report.element_handle(), timeout=60_000
        )
        for _ in range(40):
            handle.press("ArrowRight")
        page.wait_for_function(
            "el => el.innerText.includes('step 40,')", arg=report.element_handle(), timeout=30_000
        )
        page.wait_for_timeout(300)
        assert image.get_attribute("src") not in (before[0], start[0])
        assert "Bag" in _target_line(report.inner_text())
        page.screenshot(path=str(ARTIFACTS / "editor-bag.png"))


def test_translator_explorer_follows_its_slider_in_jupyterlab(lab):
    with _run_all_in_lab(lab, TRANSLATOR_NOTEBOOK, height=900, label="translator") as page:
        image = page.locator(".jp-OutputArea-output img.widget-image").first
        image.wait_for(timeout=180_000)  # kernel start, TensorFlow, the model, the test images
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        _wait_for_kernel_idle(page, timeout=300_000)
        widget = image.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")
        widget.scroll_into_view_if_needed()
        pictures = widget.locator("img.widget-image")
        assert pictures.count() == 3  # input | translation | truth
        message = widget.locator(".widget-html-content", has_text="test image").first
        assert "test image 0 of" in message.inner_text()
        before = [pictures.nth(i).get_attribute("src") for i in range(3)]
        first = pictures.nth(1).screenshot()
        page.screenshot(path=str(ARTIFACTS / "translator-before.png"))

        # the slider to the last test image: the kernel translates it, all three pictures follow
        handle = widget.locator(".widget-slider .noUi-handle").first
        handle.click()
        handle.press("End")
        page.wait_for_function(
            "el => /test image [1-9][0-9]* of/.test(el.innerText)",
            arg=message.element_handle(),
            timeout=30_000,
        )
        for i in range(3):
            page.wait_for_function(
                "([img, src]) => img.getAttribute('src') !== src && img.complete",
                arg=[pictures.nth(i).element_handle(), before[i]],
                timeout=30_000,
            )
        page.wait_for_timeout(300)
        after = [pictures.nth(i).get_attribute("src") for i in range(3)]
        assert len(set(after)) == 3 and not set(after) & set(before)
        page.screenshot(path=str(ARTIFACTS / "translator-after.png"))
        moved = pictures.nth(1).screenshot()  # the translation itself differs, not only its URL
        assert moved != first

        # back to the first test image: the same translation as at the start
        handle.press("Home")
        page.wait_for_function(
            "el => el.innerText.includes('test image 0 of')",
            arg=message.element_handle(),
            timeout=30_000,
        )
        page.wait_for_function(
            "([img, src]) => img.getAttribute('src') !== src && img.complete",
            arg=[pictures.nth(1).element_handle(), after[1]],
            timeout=30_000,
        )
        page.wait_for_timeout(300)
        assert pictures.nth(1).screenshot() == first


def test_style_mixing_crossover_slider_mixes_the_pictures_in_jupyterlab(lab):
    with _run_all_in_lab(lab, MIXING_NOTEBOOK, height=900, label="mixing") as page:
        images = page.locator(".jp-OutputArea-output img.widget-image")
        images.nth(2).wait_for(timeout=180_000)  # kernel start, TensorFlow, A, B and the mix
        _wait_for_kernel_idle(page, timeout=300_000)
        a, b, mix = (images.nth(i) for i in range(3))
        for image in (a, b, mix):
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
            )
        widget = mix.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")
        widget.scroll_into_view_if_needed()
        slider = widget.locator(".widget-slider", has_text="crossover").first
        readout = slider.locator(".widget-readout")
        assert readout.inner_text().strip() == "4"  # half of the 8 style layers from A
        pictures = {"A": a.screenshot(), "B": b.screenshot()}
        middle = mix.screenshot()
        assert pictures["A"] != pictures["B"] and middle not in pictures.values()
        page.screenshot(path=str(ARTIFACTS / "mixing-before.png"))

        # crossover 0: every style from B, the mix is B's picture; the last: A's picture
        handle = slider.locator(".noUi-handle")
        handle.click()
        for key, value, same in (("Home", "0", "B"), ("End", "8", "A")):
            src = mix.get_attribute("src")
            handle.press(key)
            page.wait_for_function(
                "([img, src]) => img.getAttribute('src') !== src",
                arg=[mix.element_handle(), src],
                timeout=30_000,
            )
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=mix.element_handle()
            )
            page.wait_for_timeout(300)
            assert readout.inner_text().strip() == value
            assert mix.screenshot() == pictures[same], f"crossover {value} is not {same}'s picture"
            page.screenshot(path=str(ARTIFACTS / f"mixing-crossover-{value}.png"))
        assert mix.screenshot() != middle


# --------------------------------------------------------------------------- helpers


def _target_line(text):
    """The editor's probability line marked as the target."""
    return next(line for line in text.splitlines() if "<- target" in line)


@contextlib.contextmanager
def _run_all_in_lab(lab, notebook, height, label):
    """Chromium on ``notebook`` in the JupyterLab server ``lab``, the kernel ready and Run > Run
    All Cells clicked, as a learner would; yields the page. On a failure it keeps a screenshot
    and the notebook's stderr outputs in test-artifacts/ (``<label>-failure.*``); the browser
    is always closed."""
    url, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": height})
            page.set_default_timeout(60_000)
            # a fresh workspace: only this notebook open, not those of earlier tests on the server
            page.goto(f"{url}/lab/tree/{notebook}?reset&token={token}")
            page.locator(".jp-NotebookPanel .jp-Notebook").wait_for()
            _accept_kernel_dialog(page)
            _wait_for_kernel_idle(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            try:
                yield page
            except Exception:
                page.screenshot(path=str(ARTIFACTS / f"{label}-failure.png"))
                stderr = page.locator("[data-mime-type='application/vnd.jupyter.stderr']")
                (ARTIFACTS / f"{label}-failure.txt").write_text(
                    "\n\n".join(stderr.all_inner_texts())
                )
                raise
        finally:
            browser.close()


def _step_of(status_text):
    """The step count shown in the playground's status line ("step 1,240 · seed 0 · ...")."""
    import re

    return int(re.search(r"step ([\d,]+)", status_text).group(1).replace(",", ""))


def _write_notebook(path, source, wanted, extra=()):
    """Copy a notebook's setup cell (its first code cell) and the code cells holding each line
    of ``wanted``, without their stored outputs and without the saved widget state, then the
    code cells ``extra``. With ``source`` None the notebook holds the cells ``extra`` alone."""
    import nbformat

    if source is None:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(text) for text in extra]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, path)
        return
    nb = nbformat.read(source, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    kept = code[:1] + [cell for cell in code[1:] if any(line in cell.source for line in wanted)]
    for line in wanted:
        assert any(line in cell.source for cell in kept), f"{source.name} has no cell with {line!r}"
    for cell in kept:
        cell.outputs, cell.execution_count = [], None
    nb.cells = kept + [nbformat.v4.new_code_cell(text) for text in extra]
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(server, status_url, log_path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"JupyterLab exited with {server.returncode}:\n{Path(log_path).read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(status_url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(
        f"JupyterLab did not answer within {timeout} s:\n{Path(log_path).read_text()[-3000:]}"
    )


def _accept_kernel_dialog(page):
    """Older JupyterLab versions may still ask which kernel to start: take the proposed one."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(timeout=3_000)
    except Exception:  # no dialog: the kernel starts by itself
        return
    dialog.locator("button.jp-mod-accept").click()


def _wait_for_kernel_idle(page, timeout=90_000):
    """Wait until the notebook's kernel has started (the status indicator says idle)."""
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }",
        timeout=timeout,
    )


def _stop(server):
    """Stop the server we started (its whole process group: kernels too), politely first."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass
