"""Attacks used for adversarial training and evaluation (PyTorch, NCHW, inputs in [0,1]).

All attacks maximise the cross-entropy of the logits (TRADES: the KL divergence to the
clean prediction) inside an L-inf or L2 ball, and keep inputs clipped to [0, 1].

- PGD (Madry et al. 2018, "Towards deep learning models resistant to adversarial
  attacks"): random start in the ball, then `steps` steps of size `step_size` along
  sign(grad) (L-inf) or grad/||grad||_2 (L2), each followed by projection.
- FGSM with random start (Wong et al. 2020, "Fast is better than free"): one PGD step
  of size 1.25*eps from a uniform random start.
- N-FGSM (de Jorge et al. 2022, "Make some noise: reliable and efficient single-step
  adversarial training"): one FGSM step of size eps from a uniform start of radius 2*eps,
  and no projection back onto the eps-ball. Same cost as FGSM-RS, without its catastrophic
  overfitting (single-step examples that stop being adversarial).
- TRADES inner maximisation (Zhang et al. 2019): PGD on KL(f(x) || f(x')), started
  at x + 0.001*N(0, 1).
"""
import torch
import torch.nn.functional as F


def _l2_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def project(delta: torch.Tensor, norm: str, eps: float) -> torch.Tensor:
    if norm == 'linf':
        return delta.clamp(-eps, eps)
    n = _l2_norm(delta)
    return delta * torch.clamp(eps / n, max=1.0)


def random_start(x: torch.Tensor, norm: str, eps: float) -> torch.Tensor:
    if norm == 'linf':
        delta = torch.empty_like(x).uniform_(-eps, eps)
    else:
        # uniform in the L2 ball: gaussian direction, radius eps * U^(1/d)
        d = x[0].numel()
        g = torch.randn_like(x)
        r = torch.rand(x.shape[0], device=x.device).pow(1.0 / d).view(-1, *([1] * (x.dim() - 1)))
        delta = g / _l2_norm(g) * r * eps
    return (x + delta).clamp(0, 1) - x


def _step(delta, grad, norm, step_size):
    if norm == 'linf':
        return delta + step_size * grad.sign()
    return delta + step_size * grad / _l2_norm(grad)


def pgd(model, x, y, norm: str, eps: float, steps: int, step_size: float, rand_init: bool = True):
    """Untargeted PGD on cross-entropy. Returns x_adv (detached). The model's train/eval
    mode is left as the caller set it."""
    delta = random_start(x, norm, eps) if rand_init else torch.zeros_like(x)
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x + delta), y)
        grad, = torch.autograd.grad(loss, delta)
        delta = _step(delta.detach(), grad, norm, step_size)
        delta = (x + project(delta, norm, eps)).clamp(0, 1) - x
    return (x + delta).detach()


def fgsm_rs(model, x, y, norm: str, eps: float, step_size: float):
    """FGSM with random start (Wong et al. 2020); step_size is usually 1.25*eps."""
    return pgd(model, x, y, norm, eps, 1, step_size, rand_init=True)


def n_fgsm(model, x, y, norm: str, eps: float, step_size: float, noise: float = 2.0):
    """N-FGSM: x + eta + step_size * sign(grad) with eta ~ U[-noise*eps, noise*eps] (L-inf) or
    uniform in the L2 ball of radius noise*eps; only the image box [0, 1] is enforced."""
    eta = random_start(x, norm, noise * eps)
    eta.requires_grad_(True)
    loss = F.cross_entropy(model(x + eta), y)
    grad, = torch.autograd.grad(loss, eta)
    delta = _step(eta.detach(), grad, norm, step_size)
    return (x + delta).clamp(0, 1).detach()


def trades_adv(model, x, norm: str, eps: float, steps: int, step_size: float):
    """TRADES inner maximisation of KL(p(x) || p(x')). Zhang et al. run it with the
    model in eval mode; so do we (the caller switches back to train)."""
    with torch.no_grad():
        p_clean = F.softmax(model(x), dim=1)
    x_adv = (x + 0.001 * torch.randn_like(x)).clamp(0, 1)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.kl_div(F.log_softmax(model(x_adv), dim=1), p_clean, reduction='sum')
        grad, = torch.autograd.grad(loss, x_adv)
        delta = _step(x_adv.detach() - x, grad, norm, step_size)
        x_adv = (x + project(delta, norm, eps)).clamp(0, 1)
    return x_adv.detach()
