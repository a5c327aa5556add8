"""Latent-space widgets: the picture follows the controls, and interpolation does what the
maths says. Tiny untrained generators keep this fast; the widgets are driven directly
(no kernel needed: ``static=False`` forces the interactive form)."""

import keras
import numpy as np
import pytest

from gancourse import models, widgets
from gancourse.errors import ModelError
from gancourse.widgets import lerp, slerp

LATENT = 16


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    return models.dcgan_generator(latent_dim=LATENT, width=16)


@pytest.fixture(scope="module")
def conditional_generator():
    keras.utils.set_random_seed(1)
    return models.cgan_dcgan_generator(latent_dim=LATENT, width=16, embed_dim=8)


@pytest.fixture
def explorer(generator):
    return widgets.latent_explorer(generator, k=4, seed=3, static=False)


def test_explorer_has_sliders_and_a_png(explorer):
    assert len(explorer.sliders) == 4
    assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert explorer.class_dropdown is None
    assert "seed 3" in explorer.seed_label.value
    assert repr(explorer) == "LatentExplorer(4 sliders, seed 3)"


def test_moving_a_slider_changes_the_picture_and_reset_restores_it(explorer):
    start, z_start = explorer.image.value, explorer.z.copy()
    explorer.sliders[0].value = 2.5
    assert explorer.image.value != start
    # z moved by 2.5 along the first (unit) direction
    np.testing.assert_allclose(np.linalg.norm(explorer.z - z_start), 2.5, rtol=1e-5)
    explorer.sliders[2].value = -1.0
    explorer.reset_button.click()
    assert all(s.value == 0.0 for s in explorer.sliders)
    assert explorer.image.value == start
    np.testing.assert_array_equal(explorer.z, z_start)


def test_randomise_draws_a_new_base_vector(explorer):
    start, z_start = explorer.image.value, explorer.z.copy()
    explorer.sliders[1].value = 1.0
    explorer.randomise_button.click()
    assert explorer.image.value != start
    assert not np.allclose(explorer.z, z_start)
    assert "seed 4" in explorer.seed_label.value
    assert all(s.value == 0.0 for s in explorer.sliders)


def test_principal_directions_are_orthonormal(generator):
    d = widgets.principal_directions(generator, k=5, probes=4)
    assert d.shape == (5, LATENT)
    np.testing.assert_allclose(d @ d.T, np.eye(5), atol=1e-4)


def test_principal_directions_find_the_strongest_coordinates():
    # a linear "generator" whose latent coordinates change the picture by 1, 0.1, 3 and 0.5:
    # the principal directions must be coordinates 2, 0, 3, 1 in that order
    strength = np.array([1.0, 0.1, 3.0, 0.5])
    rows = np.linalg.qr(np.random.default_rng(0).standard_normal((16, 4)))[0].T  # orthonormal
    z = keras.Input((4,))
    dense = keras.layers.Dense(16, use_bias=False)
    g = keras.Model(z, keras.layers.Reshape((4, 4, 1))(dense(z)))
    dense.set_weights([(strength[:, None] * rows).astype("float32")])
    d = widgets.principal_directions(g, k=4, probes=2)
    np.testing.assert_allclose(np.abs(d), np.eye(4)[[2, 0, 3, 1]], atol=1e-3)


def test_chosen_dimensions_move_only_those_coordinates(generator):
    e = widgets.latent_explorer(generator, dims=[2, 7], static=False)
    assert [s.description for s in e.sliders] == ["z[2]", "z[7]"]
    before = e.z.copy()
    e.sliders[1].value = 1.5
    changed = np.flatnonzero(~np.isclose(e.z, before))
    assert changed.tolist() == [7]
    with pytest.raises(ModelError, match="dims"):
        widgets.latent_explorer(generator, dims=[LATENT], static=False)


def test_class_dropdown_changes_the_picture(conditional_generator):
    e = widgets.latent_explorer(conditional_generator, k=3, dataset="fashion_mnist", static=False)
    assert e.class_dropdown is not None
    assert e.class_dropdown.label == "T-shirt/top"
    start = e.image.value
    e.class_dropdown.value = 7
    assert e.class_dropdown.label == "Sneaker"
    assert e.image.value != start
    e.class_dropdown.value = 0
    assert e.image.value == start


def test_conditional_generator_without_names_gets_generic_ones(conditional_generator):
    e = widgets.latent_explorer(conditional_generator, k=2, static=False)
    assert e.class_dropdown.options[3] == ("class 3", 3)


@pytest.mark.parametrize("mode", widgets.MODES)
def test_interpolation_reproduces_the_endpoints(generator, mode):
    w = widgets.interpolate(generator, seeds=(5, 6), mode=mode, static=False)
    assert w.mode_toggle.value == mode
    w.t_slider.value = 0.0
    np.testing.assert_allclose(w.z, w.z0, atol=1e-5)
    at_start = w.image.value
    w.t_slider.value = 1.0
    np.testing.assert_allclose(w.z, w.z1, atol=1e-5)
    at_end = w.image.value
    assert at_start != at_end
    # the endpoints' pictures are the generator's pictures of z0 and z1
    end_png = widgets._png(widgets._run(generator, w.z1[None])[0], w.size)
    assert at_end == end_png


def test_interpolation_widget_updates_strip_on_mode_change(generator):
    w = widgets.interpolate(generator, seeds=(1, 2), steps=6, mode="linear", static=False)
    strip = w.strip.value
    w.mode_toggle.value = "spherical"
    assert w.strip.value != strip
    w.t_slider.value = 0.5
    np.testing.assert_allclose(w.z, slerp(w.z0, w.z1, 0.5), atol=1e-6)


def test_interpolation_with_chosen_endpoints_and_classes(conditional_generator):
    z0, z1 = np.zeros(LATENT), np.ones(LATENT)
    w = widgets.interpolate(conditional_generator, z0=z0, z1=z1, mode="linear", static=False)
    w.t_slider.value = 0.25
    np.testing.assert_allclose(w.z, np.full(LATENT, 0.25), atol=1e-6)
    before = w.image.value
    w.class_dropdown.value = 4
    assert w.image.value != before
    with pytest.raises(ModelError, match="16 numbers"):
        widgets.interpolate(conditional_generator, z0=np.zeros(3), static=False)


def test_lerp_and_slerp_endpoints_and_shapes():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal((2, 100))
    for f in (lerp, slerp):
        np.testing.assert_allclose(f(z0, z1, 0.0), z0, atol=1e-5)
        np.testing.assert_allclose(f(z0, z1, 1.0), z1, atol=1e-5)
        assert f(z0, z1, np.linspace(0, 1, 9)).shape == (9, 100)
    np.testing.assert_allclose(lerp(z0, z1, 0.5), (z0 + z1) / 2, atol=1e-6)


def test_slerp_keeps_the_norm_between_the_endpoints_norms():
    rng = np.random.default_rng(1)
    ts = np.linspace(0, 1, 21)
    shrink = []
    for _ in range(50):
        z0, z1 = rng.standard_normal((2, 100))
        n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
        norms = np.linalg.norm(slerp(z0, z1, ts), axis=1)
        assert np.all(norms >= min(n0, n1) - 1e-4) and np.all(norms <= max(n0, n1) + 1e-4)
        shrink.append(np.linalg.norm(lerp(z0, z1, 0.5)) / ((n0 + n1) / 2))
    # ... while the straight line's midpoint is much shorter: about 1/sqrt(2) of a typical z
    assert 0.6 < np.mean(shrink) < 0.8


def test_slerp_is_the_classic_formula_for_equal_lengths():
    rng = np.random.default_rng(2)
    z0, z1 = rng.standard_normal((2, 50))
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    omega = np.arccos(z0 @ z1 / (np.linalg.norm(z0) * np.linalg.norm(z1)))
    t = 0.3
    classic = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    np.testing.assert_allclose(slerp(z0, z1, t), classic, atol=1e-5)
    # parallel vectors do not divide by zero
    np.testing.assert_allclose(slerp(z0, 2 * z0, 0.5), 1.5 * z0, atol=1e-5)


def test_static_fallback_without_a_kernel(generator, capsys):
    view = widgets.latent_explorer(generator, k=3)  # no kernel in pytest: static picture
    out = capsys.readouterr().out
    assert "not available" in out and "Rows: pc1, pc2, pc3" in out
    assert view.picture.dtype == np.uint8 and view.png[:4] == b"\x89PNG"
    assert view._repr_png_() == view.png
    strip = widgets.interpolate(generator, steps=5, static=True)
    assert "Top row: linear" in capsys.readouterr().out
    # two rows (linear, spherical) of five frames
    assert strip.picture.shape[1] > 2 * strip.picture.shape[0]


def test_bad_mode_is_a_clear_error(generator):
    with pytest.raises(ModelError, match="spherical"):
        widgets.interpolate(generator, mode="cubic", static=False)


def test_latent_editor_steps_through_guidance():
    keras.utils.set_random_seed(6)
    varied = keras.initializers.RandomNormal(stddev=0.2)
    g = models.dcgan_generator(latent_dim=8, width=8, initializer=varied)
    x = keras.Input((28, 28, 1))
    h = keras.layers.Dense(8, activation="relu", name="features")(keras.layers.Flatten()(x))
    big = keras.initializers.RandomNormal(stddev=3.0)
    c = keras.Model(x, keras.layers.Dense(3, kernel_initializer=big, name="logits")(h))
    e = widgets.latent_editor(g, c, seed=2, target=1, steps=10, static=False)
    assert repr(e) == "LatentEditor(10 steps, seed 2)"
    assert e.image.value[:8] == b"\x89PNG\r\n\x1a\n" and e.step_slider.value == 10
    assert [name for name, _ in e.target_dropdown.options] == ["class 0", "class 1", "class 2"]
    end, text = e.image.value, e.probabilities.value
    assert "class 1" in text and "<- target" in text
    e.step_slider.value = 0
    assert e.image.value != end and e.probabilities.value != text
    np.testing.assert_array_equal(e.z, e.walk.z_start[0])
    e.step_slider.value = 10
    assert e.image.value == end  # the path is kept: the same step, the same picture
    e.target_dropdown.value = 2
    assert e.walk.target[0] == 2 and e.image.value != end
    np.testing.assert_array_equal(e.walk.z_start[0], e.walk.path[0, 0])
    start = e.walk.z_start[0].copy()
    e.randomise_button.click()
    assert e.seed == 3 and not np.allclose(e.walk.z_start[0], start)
    still = widgets.latent_editor(g, c, seed=2, target=1, steps=8, static=True)
    assert isinstance(still, widgets.StaticView)


def test_latent_explorer_draws_infogan_inputs_with_a_valid_code():
    """An InfoGAN generator's base vector carries a one-hot categorical code (from
    ``sampling.sample_inputs``), not ten normal numbers in the code's place."""
    from gancourse import models

    g = models.infogan_generator(noise_dim=8, categories=10, continuous=2, width=8)
    explorer = widgets.latent_explorer(g, k=2, seed=3, static=False)
    code = explorer.base[8:18]
    assert sorted(np.round(code, 6).tolist()) == [0.0] * 9 + [1.0]
    assert np.all(np.abs(explorer.base[18:]) <= 1)


# --------------------------------------------------------------------------- translators


def _upload(widget, content, name):
    """What the browser does when a file is chosen. ipywidgets 8: FileUpload's value becomes
    that file. ipywidgets 7 (Colab's): the front end sends the file's metadata and bytes, then
    bumps a counter, and the widget builds its (read-only) value from them."""
    import datetime

    import ipywidgets

    upload = widget.upload
    if int(ipywidgets.__version__.split(".")[0]) >= 8:
        upload.value = (
            {
                "name": name,
                "type": "image/png",
                "size": len(content),
                "content": memoryview(content),
                "last_modified": datetime.datetime(2026, 1, 1),
            },
        )
    else:
        upload.metadata = [{"name": name, "type": "image/png", "size": len(content)}]
        upload.data = [bytes(content)]
        upload._counter += 1


@pytest.fixture(scope="module")
def pix2pix():
    from gancourse import translation

    keras.utils.set_random_seed(2)
    return translation.build_translator("pix2pix", "colorize")


@pytest.fixture(scope="module")
def cyclegan():
    from gancourse import translation

    keras.utils.set_random_seed(3)
    return translation.build_translator("cyclegan", "mnist-texture")


@pytest.fixture(scope="module")
def colorize_examples():
    from gancourse import data

    return data.translation_examples("colorize", split="test", n=4)


def test_translator_explorer_follows_its_slider(pix2pix, colorize_examples):
    a, b = colorize_examples
    w = widgets.translator_explorer(pix2pix, examples=4, static=False)
    assert repr(w) == "TranslatorExplorer(colorize, 4 test images)"
    assert w.direction_toggle is None and w.index_slider.max == 3
    assert [c.value for c in w.captions] == ["input", "translation G(input)", "truth"]
    assert all(image.value[:8] == b"\x89PNG\r\n\x1a\n" for image in w.images)
    assert "test image 0 of 4" in w.message.value
    start = [image.value for image in w.images]
    w.index_slider.value = 2
    moved = [image.value for image in w.images]
    assert all(x != y for x, y in zip(start, moved))
    # the pictures are the test pair and the model's translation of its input
    np.testing.assert_array_equal(w.source, a[2])
    np.testing.assert_allclose(w.output, pix2pix.translate(a[2:3])[0], atol=1e-6)
    assert moved[2] == widgets._png(b[2], w.size)
    assert "test image 2 of 4" in w.message.value
    w.index_slider.value = 0
    assert [image.value for image in w.images] == start


def test_cyclegan_explorer_shows_the_way_back_in_either_direction(cyclegan):
    from gancourse import data

    a, b = data.translation_examples("mnist-texture", split="test", n=3)
    w = widgets.translator_explorer(cyclegan, examples=3, index=1, static=False)
    assert [value for _, value in w.direction_toggle.options] == ["a2b", "b2a"]
    assert w.captions[2].value == "F(G(a)), back to A"
    there = cyclegan.translate(a[1:2])
    np.testing.assert_array_equal(w.source, a[1])
    assert w.images[2].value == widgets._png(cyclegan.translate(there, "b2a")[0], w.size)
    before = [image.value for image in w.images]
    w.direction_toggle.value = "b2a"
    assert [c.value for c in w.captions] == ["input (B)", "F(b), to A", "G(F(b)), back to B"]
    np.testing.assert_array_equal(w.source, b[1])
    np.testing.assert_allclose(w.output, cyclegan.translate(b[1:2], "b2a")[0], atol=1e-6)
    assert all(x != y for x, y in zip(before, (image.value for image in w.images)))
    w.direction_toggle.value = "a2b"
    assert [image.value for image in w.images] == before


def test_an_uploaded_colour_image_is_greyed_and_kept_as_the_truth(pix2pix):
    from gancourse import viz

    w = widgets.translator_explorer(pix2pix, examples=2, static=False)
    start = [image.value for image in w.images]
    colour = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    _upload(w, viz.png_bytes(colour), "my_cat.png")
    assert "my_cat.png" in w.message.value and "grey version is the input" in w.message.value
    assert w.source.shape == (32, 32, 1)
    luma = colour.astype("float64") @ [0.2989, 0.587, 0.114] / 127.5 - 1.0  # ITU-R 601
    np.testing.assert_allclose(w.source[..., 0], luma, atol=0.01)
    assert w.images[2].value == widgets._png(colour / 127.5 - 1.0, w.size)  # the truth
    assert w.images[0].value != start[0]
    # a grey upload is the input itself, with no truth to show
    grey = colour[..., 0]
    assert w.load_image(viz.png_bytes(grey), "grey.png")
    np.testing.assert_allclose(w.source[..., 0], grey / 127.5 - 1.0, atol=1e-6)
    assert w.captions[2].value == "truth: none for this image"
    w.index_slider.value = 1  # the slider goes back to the test images
    assert "test image 1 of 2" in w.message.value and w.captions[2].value == "truth"


def test_an_uploaded_grey_digit_goes_to_a_colour_side_as_rgb(cyclegan):
    from gancourse import viz

    w = widgets.translator_explorer(cyclegan, examples=1, static=False)
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255
    _upload(w, viz.png_bytes(digit), "one.png")
    assert "given as RGB" in w.message.value and w.source.shape == (28, 28, 3)
    np.testing.assert_array_equal(w.source[..., 0], w.source[..., 2])
    assert not w.upload.value  # emptied: the same file can be chosen again
    # a JPEG photo on the other side (B -> A)
    import imageio.v3 as iio

    w.direction_toggle.value = "b2a"
    photo = np.random.default_rng(1).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    _upload(w, iio.imwrite("<bytes>", photo, extension=".jpg"), "photo.jpg")
    assert w.message.value.startswith("photo.jpg") and w.source.shape == (28, 28, 3)
    assert w.captions[1].value == "F(b), to A"


@pytest.mark.parametrize(
    "content, says",
    [
        ("wrong size", "is 32 pixels wide and 40 high; this model translates 32x32"),
        (b"not an image", "could not be read as a PNG or JPEG"),
        ("transparent", "transparent pixels"),
    ],
)
def test_a_file_that_does_not_fit_gets_a_message_not_an_exception(pix2pix, content, says):
    from gancourse import viz

    if content == "wrong size":
        content = viz.png_bytes(np.zeros((40, 32, 3), np.uint8))
    elif content == "transparent":
        content = viz.png_bytes(np.zeros((32, 32, 4), np.uint8))
    w = widgets.translator_explorer(pix2pix, examples=2, static=False)
    before = [image.value for image in w.images]
    _upload(w, content, "photo.png")  # no exception
    assert "Not translated" in w.message.value and says in w.message.value, w.message.value
    assert [image.value for image in w.images] == before and w.uploaded is None


def test_translator_explorer_refuses_what_it_cannot_show(pix2pix, generator):
    from gancourse.errors import GancourseError

    for model, says in [
        ("pix2pix", "expects a translator"),
        (generator, "see latent_explorer"),
    ]:
        with pytest.raises(ModelError, match=says):
            widgets.translator_explorer(model, static=False)
    for options, says in [
        ({"index": 5, "examples": 5}, "index 5 is past the 5 test images"),
        ({"index": -1}, "index must be a whole number >= 0"),
        ({"size": 0}, "size must be"),
        ({"examples": 2.5}, "examples must be"),
        ({"dataset": "mnist"}, "built from cifar10"),
    ]:
        with pytest.raises(GancourseError, match=says):
            widgets.translator_explorer(pix2pix, static=False, **options)

    class Anonymous:  # translates, but does not say what it learnt
        def translate(self, images):
            return images

    with pytest.raises(ModelError, match="pass task="):
        widgets.translator_explorer(Anonymous(), static=False)


def test_translator_explorer_static_fallback(cyclegan, capsys):
    view = widgets.translator_explorer(cyclegan, examples=8)  # no kernel in pytest
    out = capsys.readouterr().out
    assert "not available" in out and "way back (A -> B, then B -> A)" in out
    assert isinstance(view, widgets.StaticView) and view.png[:4] == b"\x89PNG"
    assert repr(view) == "StaticView(translations, 8 test images)"


# ---------------------------------------------------------------- StyleGAN: W space, style mixing


@pytest.fixture(scope="module")
def style_generator():
    from gancourse import stylegan

    keras.utils.set_random_seed(4)
    return stylegan.stylegan_generator((28, 28, 1), latent_dim=LATENT, w_dim=32, width=16)


def test_w_space_explorer_moves_w_and_draws_its_synthesis(style_generator):
    from gancourse import stylegan
    from gancourse.sampling import sample_latent

    e = widgets.latent_explorer(style_generator, k=3, seed=2, space="w", static=False)
    assert repr(e) == "LatentExplorer(3 sliders in W, seed 2)"
    assert [s.description for s in e.sliders] == ["pc1", "pc2", "pc3"]
    assert e.psi_slider.value == 1.0 and e.class_dropdown is None
    base = stylegan.mapping(style_generator, sample_latent(1, LATENT, seed=2))[0]
    np.testing.assert_allclose(e.w, base, atol=1e-6)
    np.testing.assert_array_equal(e.z, sample_latent(1, LATENT, seed=2)[0])
    start = e.image.value
    assert start == widgets._png(stylegan.synthesis(style_generator, base[None])[0], e.size)
    e.sliders[0].value = 2.5
    # w moved by 2.5 along the first direction (one standard deviation of the w's per unit)
    np.testing.assert_allclose(e.w - base, 2.5 * e.directions[0], atol=1e-6)
    moved = e.image.value
    assert moved != start
    assert moved == widgets._png(stylegan.synthesis(style_generator, e.w[None])[0], e.size)
    # psi = 0: every w is pulled to the average w, so the sliders no longer change the picture
    e.psi_slider.value = 0.0
    mean = widgets._png(
        stylegan.synthesis(style_generator, stylegan.w_avg(style_generator)[None])[0], e.size
    )
    assert e.image.value == mean
    e.sliders[1].value = -2.0
    assert e.image.value == mean
    e.psi_slider.value = 1.0
    e.reset_button.click()
    assert e.image.value == start
    e.randomise_button.click()
    assert e.seed == 3 and not np.allclose(e.w, base)


def test_w_directions_are_the_principal_axes_of_sampled_ws(style_generator):
    from gancourse import stylegan
    from gancourse.sampling import sample_latent

    d = widgets.principal_directions(style_generator, k=4, seed=0, space="w")
    assert d.shape == (4, 32)
    sigma = np.linalg.norm(d, axis=1)
    unit = d / sigma[:, None]
    np.testing.assert_allclose(unit @ unit.T, np.eye(4), atol=1e-4)
    assert np.all(np.diff(sigma) <= 1e-7)  # strongest first
    # each is one standard deviation of fresh w's along it, and no direction spreads them more
    ws = stylegan.mapping(style_generator, sample_latent(4000, LATENT, seed=99))
    np.testing.assert_allclose((ws @ unit.T).std(axis=0), sigma, rtol=0.1)
    others = np.random.default_rng(0).standard_normal((20, 32))
    others /= np.linalg.norm(others, axis=1, keepdims=True)
    assert (ws @ others.T).std(axis=0).max() < 1.05 * sigma[0]
    e = widgets.latent_explorer(style_generator, dims=[5], space="w", static=False)
    before = e.w.copy()
    e.sliders[0].value = 1.0
    changed = np.flatnonzero(~np.isclose(e.w, before))
    assert changed.tolist() == [5] and e.sliders[0].description == "w[5]"


def test_w_space_explorer_in_z_and_static(style_generator, capsys):
    e = widgets.latent_explorer(style_generator, k=2, probes=2, static=False)
    assert e.psi_slider is None and e.w is None and repr(e).endswith("sliders, seed 0)")
    view = widgets.latent_explorer(style_generator, k=2, space="w", psi=0.7, static=True)
    assert "in W, psi 0.7" in capsys.readouterr().out
    assert view.picture.dtype == np.uint8


def test_w_space_needs_a_stylegan_and_psi_belongs_to_w(generator, style_generator):
    with pytest.raises(ModelError, match="space='w' needs a StyleGAN generator"):
        widgets.latent_explorer(generator, space="w", static=False)
    with pytest.raises(ModelError, match="space must be one of"):
        widgets.latent_explorer(style_generator, space="x", static=False)
    with pytest.raises(ModelError, match="psi is the truncation in W"):
        widgets.latent_explorer(style_generator, psi=0.5, static=False)
    with pytest.raises(ModelError, match="psi must be a number in"):
        widgets.latent_explorer(style_generator, space="w", psi=1.5, static=False)
    with pytest.raises(ModelError, match="coordinates of w in 0..31"):
        widgets.latent_explorer(style_generator, space="w", dims=[32], static=False)


def test_style_mixing_crossover_takes_layers_from_a_then_b(style_generator):
    from gancourse import stylegan

    m = widgets.style_mixing(style_generator, seed_a=0, seed_b=1, static=False)
    n_ws = stylegan.num_ws(style_generator)
    assert repr(m) == f"StyleMixer(crossover {n_ws // 2} of {n_ws}, seeds 0 and 1)"
    assert m.crossover_slider.min == 0 and m.crossover_slider.max == n_ws
    a_everywhere = np.repeat(m.w_a[None, None], n_ws, axis=1)
    np.testing.assert_array_equal(m.ws, stylegan.mix(a_everywhere, m.w_b[None], n_ws // 2)[0])
    assert m.image_a.value != m.image_b.value
    middle = m.image_mix.value
    assert middle not in (m.image_a.value, m.image_b.value)
    m.crossover_slider.value = 0  # every layer from B: B's picture
    assert m.image_mix.value == m.image_b.value and "all 8 styles from B" in m.caption.value
    m.crossover_slider.value = n_ws  # every layer from A
    assert m.image_mix.value == m.image_a.value
    m.crossover_slider.value = 2
    assert m.image_mix.value not in (m.image_a.value, m.image_b.value, middle)
    np.testing.assert_array_equal(m.ws[:2], np.stack([m.w_a] * 2))
    np.testing.assert_array_equal(m.ws[2:], np.stack([m.w_b] * (n_ws - 2)))
    assert "styles 0..1 from A, 2..7 from B" in m.caption.value
    # the mix is the synthesis of those styles
    mixed = stylegan.synthesis(style_generator, m.ws[None])[0]
    assert m.image_mix.value == widgets._png(mixed, m.size)


def test_style_mixing_redraws_a_sample_from_its_seed(style_generator):
    m = widgets.style_mixing(style_generator, seed_a=0, seed_b=1, crossover=3, static=False)
    a, b, mix, w_b = m.image_a.value, m.image_b.value, m.image_mix.value, m.w_b.copy()
    m.new_a_button.click()
    assert m.seed_a == 1 and m.image_a.value != a and m.image_mix.value != mix
    assert m.image_b.value == b
    m.seed_b_box.value = 0  # B is now what A was
    assert m.image_b.value == a and not np.allclose(m.w_b, w_b)
    assert repr(m) == "StyleMixer(crossover 3 of 8, seeds 1 and 0)"
    given = widgets.style_mixing(style_generator, w_a=m.w_b, w_b=m.w_a, crossover=0, static=False)
    assert given.image_mix.value == given.image_b.value == m.image_a.value


def test_style_mixing_static_fallback_and_errors(generator, style_generator, capsys):
    view = widgets.style_mixing(style_generator, static=True)
    assert "Crossover 0 ... 8 from left to right" in capsys.readouterr().out
    assert repr(view) == "StaticView(style mixing, crossover 0..8)"
    # one row of nine pictures: the mix at every crossover
    assert view.picture.shape[1] > 8 * view.picture.shape[0]
    with pytest.raises(ModelError, match="style_mixing needs a StyleGAN generator"):
        widgets.style_mixing(generator, static=False)
    for crossover in (-1, 9):
        with pytest.raises(ModelError, match=r"crossover must be in 0..8"):
            widgets.style_mixing(style_generator, crossover=crossover, static=False)
    with pytest.raises(ModelError, match="crossover must be a whole number"):
        widgets.style_mixing(style_generator, crossover=2.5, static=False)
    with pytest.raises(ModelError, match=r"w_a must be one w of this generator, 32 numbers"):
        widgets.style_mixing(style_generator, w_a=np.zeros(31), static=False)
    with pytest.raises(ModelError, match="psi must be a number in"):
        widgets.style_mixing(style_generator, psi=-0.1, static=False)
