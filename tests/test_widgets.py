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
