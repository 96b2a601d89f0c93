/**
 * The seed papers' settings as one-click presets: plain partial parameter sets (serialisable,
 * so a preset is just a URL). Each seed setting is defined on the zoo pair it was published
 * for; where that pair has not shipped yet, the MNIST pair stands in and the button says so.
 */
import type { ParamsPatch } from './store';

export interface Preset {
  label: string;
  params: ParamsPatch;
  /** Zoo models the preset needs; the first shipped variant wins. */
  needs: string[];
  /** Stable short name (test ids, docs), where a view lists several presets side by side. */
  key?: string;
}

/** The zoo's CIFAR-10 ResNet-20 twins: standard training and fast AT (FGSM-RS) L∞ 8/255. */
export const CIFAR_RESNET_PAIR = { setup: { model: 'cifar-resnet20-st', data: 'cifar10-test' }, lab: { compare: 'cifar-resnet20-fast-linf' } };
/** The zoo's CIFAR-10 medium-CNN twins: standard training and PGD-AT L2 0.5. */
export const CIFAR_MEDIUM_PAIR = { setup: { model: 'cifar-medium-st', data: 'cifar10-test' }, lab: { compare: 'cifar-medium-pgd-l2' } };
/** The zoo's MNIST small-CNN twins: standard training and PGD-AT L∞ 0.3. */
export const MNIST_SMALL_PAIR = { setup: { model: 'mnist-small-st', data: 'mnist-test' }, lab: { compare: 'mnist-small-pgd-linf' } };
const pairNeeds = (pair: { setup: { model: string }; lab: { compare: string } }) => [pair.setup.model, pair.lab.compare];

/**
 * ResNet-20's stem and block outputs (names as the exporter writes them from the PyTorch
 * module tree, tools/zoo/models.py), then the pooled features and the logits: the layers the
 * seed plots, instead of every conv/BN/add/ReLU (about 60 taps).
 */
export const RESNET20_BLOCK_OUTPUTS = [
  'relu',
  ...[1, 2, 3].flatMap((stage) => [1, 2, 3].map((block) => `stage${stage}.block${block}.relu_1`)),
  'pool',
  'fc',
];

/** 8/255, the CIFAR-10 L∞ radius of the seeds. */
export const EPS_8_255 = 8 / 255;
/** Gaussian σ ladder of the MFTMA seed (Cohen et al. 2020 setting): 0.0001 … 1.0. */
export const SIGMA_LADDER = [0.0001, 0.001, 0.01, 0.1, 0.3, 1];

/**
 * MFTMA (issue #7). Gaussian: class manifolds (P = 10 classes × M = 50 images) under the σ
 * ladder, on the ST ResNet with its AT twin overlaid. Adversarial: exemplar manifolds of
 * P = 10 images × M = 20 APGD-CE random-start runs inside the 8/255 L∞ ball, ST vs AT (the
 * seed found that the ST network's early layers lose capacity because the radius grows).
 * M = 20 rather than 50 keeps the 2 × 200 attack runs of a ResNet-20 within minutes on a
 * software GPU; raise M on a real one.
 */
export const MFTMA_PRESETS: Record<'gaussian' | 'adversarial', Preset[]> = {
  gaussian: [
    {
      label: 'CIFAR-10 ResNet-20 ST vs AT: class manifolds, Gaussian σ ladder',
      needs: pairNeeds(CIFAR_RESNET_PAIR),
      params: { ...CIFAR_RESNET_PAIR, view: { layers: RESNET20_BLOCK_OUTPUTS }, mftma: { kind: 'class', perturb: 'gaussian', ladder: SIGMA_LADDER, P: 10, M: 50 } },
    },
    {
      label: 'class manifolds, Gaussian σ ladder (MNIST ST vs AT)',
      needs: pairNeeds(MNIST_SMALL_PAIR),
      params: { ...MNIST_SMALL_PAIR, view: { layers: [] }, mftma: { kind: 'class', perturb: 'gaussian', ladder: SIGMA_LADDER, P: 10, M: 20 } },
    },
  ],
  adversarial: [
    {
      label: 'CIFAR-10 ResNet-20 ST vs AT: exemplar manifolds, APGD-CE L∞ 8/255',
      needs: pairNeeds(CIFAR_RESNET_PAIR),
      params: { ...CIFAR_RESNET_PAIR, view: { layers: RESNET20_BLOCK_OUTPUTS }, attack: { norm: 'linf' }, mftma: { kind: 'exemplar', perturb: 'attack', ladder: [EPS_8_255], P: 10, M: 20 } },
    },
    {
      label: 'exemplar manifolds, APGD-CE L∞ 0.3 (MNIST ST vs AT)',
      needs: pairNeeds(MNIST_SMALL_PAIR),
      params: { ...MNIST_SMALL_PAIR, view: { layers: [] }, attack: { norm: 'linf' }, mftma: { kind: 'exemplar', perturb: 'attack', ladder: [0.3], P: 10, M: 10 } },
    },
  ],
};

/**
 * Logit analysis (issue #9; Seguin et al.): ST vs AT CIFAR-10 ResNets, 1,000 test images,
 * clean and under APGD-CE at the AT model's training radius, with the training snapshots.
 */
export const LOGITS_PRESETS: Preset[] = [
  {
    label: 'CIFAR-10 ResNet-20 ST vs AT (Seguin et al. figures), APGD-CE L∞ 8/255',
    needs: pairNeeds(CIFAR_RESNET_PAIR),
    params: { ...CIFAR_RESNET_PAIR, view: { layers: [] }, attack: { attack: 'apgd-ce', norm: 'linf', eps: EPS_8_255, steps: 100, restarts: 1 }, logits: { n: 1000, underAttack: 1, epochs: 1 } },
  },
  {
    label: 'MNIST small CNN ST vs AT, APGD-CE L∞ 0.3',
    needs: pairNeeds(MNIST_SMALL_PAIR),
    params: { ...MNIST_SMALL_PAIR, view: { layers: [] }, attack: { attack: 'apgd-ce', norm: 'linf', eps: 0.3, steps: 100, restarts: 1 }, logits: { n: 1000, underAttack: 1, epochs: 1 } },
  },
];

/** The zoo's MNIST medium-CNN trio of the collision seed: standard, PGD-AT L2 2.0, TRADES L2 2.0. */
export const MNIST_MEDIUM_TRIO = { setup: { model: 'mnist-medium-st', data: 'mnist-test' }, lab: { compare: 'mnist-medium-pgd-l2' }, extra: ['mnist-medium-trades-l2'] };

/**
 * Collisions (issue #8; the layer-by-layer extension of Bhagoji et al.): 3 vs 7 on MNIST with
 * m = 10 as the seed, standard vs PGD vs TRADES medium CNNs on the same pairs, and the small-CNN
 * ST/AT pair. CIFAR-10 (cat vs dog, 3 vs 5): the medium-CNN twins of the seed, and the ResNet-20
 * twins at the stem, stage outputs and pooled features, with fewer samples and iterations
 * because a ResNet step costs ~50× an MNIST CNN's on a software GPU. The view offers every
 * preset whose models have shipped. ε is input-space L2 (the seed's distance).
 */
const COLLISION_COMMON: NonNullable<ParamsPatch['collision']> = { extra: [], perClass: 10, m: 10, projections: 3, projection: 'gaussian', mSweep: [], box: 0, iterations: 600 };
const MNIST_EPS = [0.5, 1, 1.5, 2, 2.5, 3, 4, 5];
const CIFAR_EPS = [0.125, 0.25, 0.5, 1, 2, 4, 8];
export const COLLISION_PRESETS: Record<'mnist' | 'cifar', Preset[]> = {
  mnist: [
    {
      key: 'mnist-trio',
      label: 'MNIST medium CNN: ST vs PGD vs TRADES (L2 2.0), 3 vs 7, m = 10',
      needs: [MNIST_MEDIUM_TRIO.setup.model, MNIST_MEDIUM_TRIO.lab.compare, ...MNIST_MEDIUM_TRIO.extra],
      params: { setup: MNIST_MEDIUM_TRIO.setup, lab: MNIST_MEDIUM_TRIO.lab, view: { layers: [] }, collision: { ...COLLISION_COMMON, extra: [...MNIST_MEDIUM_TRIO.extra], classes: ['3', '7'], epsList: MNIST_EPS } },
    },
    {
      key: 'mnist-small',
      label: 'MNIST small CNN: ST vs PGD-AT (L∞ 0.3), 3 vs 7, m = 10',
      needs: pairNeeds(MNIST_SMALL_PAIR),
      params: { ...MNIST_SMALL_PAIR, view: { layers: [] }, collision: { ...COLLISION_COMMON, classes: ['3', '7'], epsList: MNIST_EPS } },
    },
  ],
  cifar: [
    {
      key: 'cifar-medium',
      label: 'CIFAR-10 medium CNN: ST vs PGD-AT (L2 0.5), cat vs dog, m = 10',
      needs: pairNeeds(CIFAR_MEDIUM_PAIR),
      params: { ...CIFAR_MEDIUM_PAIR, view: { layers: [] }, collision: { ...COLLISION_COMMON, classes: ['3', '5'], epsList: CIFAR_EPS } },
    },
    {
      key: 'cifar-resnet',
      label: 'CIFAR-10 ResNet-20 ST vs AT (L∞ 8/255): cat vs dog, m = 10',
      needs: pairNeeds(CIFAR_RESNET_PAIR),
      params: {
        ...CIFAR_RESNET_PAIR,
        view: { layers: ['relu', 'stage1.block3.relu_1', 'stage2.block3.relu_1', 'stage3.block3.relu_1', 'pool'] },
        collision: { ...COLLISION_COMMON, perClass: 5, projections: 2, iterations: 200, classes: ['3', '5'], epsList: CIFAR_EPS },
      },
    },
  ],
};

/** The first preset whose models are all in the zoo, or null. */
export function availablePreset(options: Preset[], zooIds: ReadonlySet<string>): Preset | null {
  return options.find((p) => p.needs.every((id) => zooIds.has(id))) ?? null;
}

/** Every preset whose models are all in the zoo, in the order given (the seed's own setting first). */
export function availablePresets(options: Preset[], zooIds: ReadonlySet<string>): Preset[] {
  return options.filter((p) => p.needs.every((id) => zooIds.has(id)));
}
