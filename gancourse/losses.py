"""GAN losses, all computed from discriminator *logits* (numerically stable).

- minimax (saturating):      G minimises  E[log(1 - D(G(z)))]        (Goodfellow et al. 2014)
- non-saturating:             G minimises -E[log D(G(z))]              (same paper, the fix)
- Wasserstein:                critic maximises E[f(x)] - E[f(G(z))]    (Arjovsky et al. 2017)
- gradient penalty:           lambda * E[(||grad f(x_hat)|| - 1)^2]   (Gulrajani et al. 2017)
- hinge:                      D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))],
                              G minimises -E[D(G(z))]     (Lim & Ye 2017; SAGAN, BigGAN)
- R1 penalty:                 gamma/2 * E[||grad D(x)||^2] on real data (Mescheder et al. 2018)
- InfoGAN information term:   -log Q(c | G(z, c)), bounds I(c; G(z, c))  (Chen et al. 2016)
- pix2pix generator:          non-saturating GAN term + lambda * E|y - G(x)|  (Isola et al. 2017)
- least squares (LSGAN):      D minimises E[(D(y) - 1)^2] + E[D(G(x))^2],
                              G minimises E[(D(G(x)) - 1)^2]    (Mao et al. 2017; CycleGAN)
- cycle consistency:          E|F(G(x)) - x| + E|G(F(y)) - y|   (Zhu et al. 2017)
- identity:                   E|F(x) - x| + E|G(y) - y|         (Zhu et al. 2017, after Taigman)

Label tricks for the discriminator: one-sided label smoothing (real targets 1 - s) and
noisy labels (a fraction of targets flipped).
"""

from __future__ import annotations

import math

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

from .errors import ModelError  # noqa: E402
from .runs import LOSSES  # noqa: E402

GENERATOR_LOSSES = ("non-saturating", "minimax")
#: The losses :class:`gancourse.GAN` can train with (``GAN.compile(loss=...)``).
GAN_LOSSES = LOSSES


def discriminator_loss(real_logits, fake_logits, label_smoothing=0.0, label_noise=0.0, seed=None):
    """Binary cross-entropy of D on real (target 1) and fake (target 0) logits.

    ``label_smoothing`` s: real targets become 1 - s (one-sided: fakes stay 0).
    ``label_noise`` p: each target is flipped to the other class with probability p.
    """
    real_t = ops.ones_like(real_logits) * (1.0 - label_smoothing)
    fake_t = ops.zeros_like(fake_logits)
    if label_noise:
        real_t = _flip(real_t, 1.0 - real_t, label_noise, seed)
        fake_t = _flip(fake_t, ops.ones_like(fake_t), label_noise, seed)
    return _bce(real_t, real_logits) + _bce(fake_t, fake_logits)


def generator_loss(fake_logits, kind="non-saturating"):
    """Generator loss from D's logits on generated images.

    ``"minimax"``: mean log(1 - D(G(z))) = mean(-softplus(logit)); its gradient vanishes
    when D confidently rejects the fakes (early training). ``"non-saturating"``:
    -mean log D(G(z)) = mean(softplus(-logit)); strong gradient exactly then.
    """
    fake_logits = ops.cast(fake_logits, "float32")
    if kind == "non-saturating":
        return ops.mean(ops.softplus(-fake_logits))
    if kind == "minimax":
        return ops.mean(-ops.softplus(fake_logits))
    raise ModelError(
        f"generator loss must be one of {GENERATOR_LOSSES}, not {kind!r} "
        f"(the hinge loss has its own functions: hinge_generator_loss)"
    )


def critic_loss(real_scores, fake_scores):
    """Wasserstein critic loss E[f(G(z))] - E[f(x)] (minimised, so the critic maximises the gap)."""
    return ops.mean(ops.cast(fake_scores, "float32")) - ops.mean(ops.cast(real_scores, "float32"))


def wasserstein_generator_loss(fake_scores):
    """Wasserstein generator loss -E[f(G(z))]."""
    return -ops.mean(ops.cast(fake_scores, "float32"))


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge loss of D: mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))) (Lim & Ye 2017,
    "Geometric GAN"; used by SAGAN and BigGAN). D stops being pushed on a sample once it
    scores it beyond the margin (real above +1, fake below -1), so it spends its capacity on
    the samples it still gets wrong instead of growing its logits without bound."""
    real_logits = ops.cast(real_logits, "float32")
    fake_logits = ops.cast(fake_logits, "float32")
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """Generator side of the hinge loss: -mean(D(G(z))) (no margin, as in SAGAN/BigGAN)."""
    return -ops.mean(ops.cast(fake_logits, "float32"))


def information_terms(q, codes, categories):
    """The two parts of InfoGAN's variational bound on the mutual information I(c; G(z, c))
    (Chen et al. 2016, eq. 5), as batch means to *minimise*, in nats:

    - the cross-entropy -log Q(c_cat | x) of the categorical code, whose one-hot value is
      ``codes[:, :categories]``, from Q's logits ``q[:, :categories]``;
    - the negative log-likelihood of the continuous codes ``codes[:, categories:]`` under
      Gaussians with means ``q[:, categories:]`` and unit variance, summed over the codes:
      sum_j 0.5 (c_j - mu_j)^2 + 0.5 log(2 pi).

    ``codes`` is the latent vector without its noise part. Minimising them raises the bound
    L_I = H(c) - (cross-entropy + NLL), where H(c) is a constant of the code distribution.
    """
    q = ops.cast(q, "float32")
    codes = ops.cast(codes, "float32")
    onehot, values = codes[:, :categories], codes[:, categories:]
    log_q = ops.log_softmax(q[:, :categories], axis=-1)
    cross_entropy = ops.mean(-ops.sum(onehot * log_q, axis=-1))
    means = q[:, categories:]
    nll = 0.5 * ops.square(values - means) + 0.5 * math.log(2.0 * math.pi)
    return cross_entropy, ops.mean(ops.sum(nll, axis=-1))


def r1_penalty(discriminator, real, labels=None):
    """R1 regulariser E[||grad_x D(x)||^2] at the *real* data (Mescheder, Geiger & Nowozin
    2018, "Which training methods for GANs do actually converge?"). Multiply by gamma/2 and
    add it to D's loss: it makes D flat on the data, which damps the oscillation around the
    equilibrium that makes plain GAN training fail to converge. Unlike the WGAN-GP penalty
    it needs no fake samples and no interpolates. Differentiable (double backprop), so it
    can be computed inside D's gradient tape."""
    real = ops.cast(real, "float32")
    with tf.GradientTape() as tape:
        tape.watch(real)
        logits = discriminator([real, labels] if labels is not None else real, training=True)
        if isinstance(logits, (list, tuple)):  # several heads (InfoGAN): the real/fake score
            logits = logits[0]
        total = ops.sum(ops.cast(logits, "float32"))
    grads = tape.gradient(total, real)
    return ops.mean(ops.sum(ops.square(grads), axis=list(range(1, len(real.shape)))))


def gradient_penalty(critic, real, fake, labels=None, eps=1e-12, seed=None):
    """WGAN-GP penalty E[(||grad_x f(x_hat)||_2 - 1)^2] at random interpolates
    x_hat = a*x + (1-a)*G(z), with a ~ U(0, 1) drawn *per sample*. ``eps`` keeps the
    square root differentiable when a gradient is exactly zero."""
    real = ops.cast(real, "float32")
    fake = ops.cast(fake, "float32")
    shape = [ops.shape(real)[0]] + [1] * (len(real.shape) - 1)
    alpha = keras.random.uniform(shape, 0.0, 1.0, seed=seed)
    x_hat = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic([x_hat, labels] if labels is not None else x_hat, training=True)
    grads = tape.gradient(scores, x_hat)
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=list(range(1, len(real.shape)))) + eps)
    return ops.mean(ops.square(norms - 1.0))


# --------------------------------------------------------------------------- helpers


def l1_distance(a, b):
    """Mean absolute difference of two batches of images: E|a - b| (the "L1" of pix2pix)."""
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


def pix2pix_generator_loss(fake_logits, target, output, l1_weight=100.0, gan_weight=1.0):
    """The pix2pix generator's objective (Isola et al. 2017, eq. 4): ``gan_weight`` times
    the non-saturating GAN term on D's logits for (input, output) plus ``l1_weight`` (their
    lambda, 100) times the L1 distance from the output to the true target. The GAN term
    pushes towards outputs D takes for real ones (sharp, colourful); the L1 term towards the
    truth pixel by pixel (right on average, hence blurry or brown when several answers are
    plausible)."""
    return gan_weight * generator_loss(fake_logits) + l1_weight * l1_distance(target, output)


def lsgan_discriminator_loss(real_scores, fake_scores):
    """Least-squares GAN loss of D (Mao et al. 2017): E[(D(y) - 1)^2] + E[D(G(x))^2],
    from D's raw scores (no sigmoid). CycleGAN trains with it: the squares keep pushing
    fakes that are already on the right side of the boundary, and its gradients do not
    vanish as the cross-entropy's do."""
    real_scores, fake_scores = ops.cast(real_scores, "float32"), ops.cast(fake_scores, "float32")
    return ops.mean(ops.square(real_scores - 1.0)) + ops.mean(ops.square(fake_scores))


def lsgan_generator_loss(fake_scores):
    """Least-squares GAN loss of G: E[(D(G(x)) - 1)^2] (G wants its fakes scored as real)."""
    return ops.mean(ops.square(ops.cast(fake_scores, "float32") - 1.0))


def cycle_loss(real_a, cycled_a, real_b, cycled_b):
    """Cycle consistency (Zhu et al. 2017, eq. 2): E|F(G(a)) - a| + E|G(F(b)) - b|, from
    each domain's real images and their round trips. Without pairs, nothing else ties an
    output to its input: G could map every a to any plausible b; going there and back
    must give the input again."""
    return l1_distance(real_a, cycled_a) + l1_distance(real_b, cycled_b)


def identity_loss(real_a, same_a, real_b, same_b):
    """Identity loss (Zhu et al. 2017, 5.2, after Taigman et al. 2017): E|F(a) - a| +
    E|G(b) - b|, where ``same_a`` = F(a) is the B->A generator applied to an image that is
    already in A. It asks each generator to leave images of its target domain alone, which
    keeps colours from drifting."""
    return l1_distance(real_a, same_a) + l1_distance(real_b, same_b)


def _bce(targets, logits):
    logits = ops.cast(logits, "float32")
    return ops.mean(ops.binary_crossentropy(ops.cast(targets, "float32"), logits, from_logits=True))


def _flip(targets, flipped, p, seed):
    flip = keras.random.uniform(ops.shape(targets), seed=seed) < p
    return ops.where(flip, flipped, targets)
