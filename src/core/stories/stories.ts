/**
 * Guided stories (issue #24): one per seed finding, each a list of steps. A step is data: the
 * lab state it sets (a partial of the lab's URL parameters, on top of its story's base), what it
 * runs, two or three sentences whose `{numbers}` are computed live from those runs
 * (numbers.ts), and the chart element the text points at. Budgets are small on purpose: a step
 * must finish in seconds to a minute on WASM on a 2-core machine, so the numbers are this
 * lab's quick estimates, not the papers' full settings (the views' presets are those).
 *
 * Adding a story: README "Teacher mode". stories.test.ts checks every step against the
 * parameter schemas through the lab's URL code, and every placeholder against LIVE_NUMBERS.
 */
import type { LabPatch } from '../analyses/lab';
import type { StoryRun } from './numbers';

/** The chart element a step's text points at: a `data-testid`, optionally one layer's cell of it. */
export interface StoryHighlight {
  testid: string;
  /** A layer name or a `{placeholder}` naming one (the cell with `data-layer` of that name). */
  layer?: string;
}

export interface StoryStep {
  title: string;
  /** Lab state on top of the story's base (groups of the lab's parameters, as the URL holds them). */
  state: LabPatch;
  /** What the step computes; the slice runs whenever the setup changes. */
  runs: StoryRun[];
  /** Two or three sentences with `{placeholders}` from LIVE_NUMBERS. */
  text: string;
  highlight: StoryHighlight;
}

export interface Story {
  id: string;
  title: string;
  /** The finding it reproduces and where it was published. */
  source: string;
  /** State every step starts from (the step's own state is applied on top). */
  base: LabPatch;
  steps: StoryStep[];
}

/** The zoo's MNIST small CNN twins: standard training and PGD-AT L∞ 0.3. */
const MNIST_PAIR = { setup: { model: 'mnist-small-st', data: 'mnist-test' }, lab: { compare: 'mnist-small-pgd-linf' } };

/**
 * Small t-SNE budget: 100 images (200 points), 300 iterations (the first 250 exaggerated, as
 * openTSNE), one cold start. Seconds per layer on WASM; the view's preset runs the paper's 300 × 750 × 3.
 */
const TSNE_SMALL = { n: 100, iterations: 300, seeds: 1 };
/** APGD-CE at 20 iterations (the paper: 100): on the standard model it already reaches 0% robust at 0.3. */
const APGD_SMALL = { attack: 'apgd-ce', norm: 'linf', eps: 0.3, steps: 20, restarts: 1 } as const;

const adversarialExample: Story = {
  id: 'adversarial-example',
  title: 'What an adversarial example is',
  source: 'no paper needed: from one image to a whole layer (Szegedy et al. 2014; Goodfellow et al. 2015)',
  base: { setup: { model: 'mnist-small-st', data: 'mnist-test', n: 16 }, lab: { compare: '' }, view: { layers: [] }, attack: { attack: 'fgsm', norm: 'linf', eps: 0.1 } },
  steps: [
    {
      title: 'A small push on every pixel',
      state: { lab: { view: 'slice' } },
      runs: ['slice'],
      text: 'Each card shows a handwritten digit, the same digit after FGSM moved every pixel by at most ε = {sliceEps}, and that change magnified. The network reads {sliceCleanAcc} of the clean digits correctly, and {sliceRobustAcc} of the changed ones: the attack fooled it on {sliceFooled} of {sliceCount}.',
      highlight: { testid: 'image-strip' },
    },
    {
      title: 'Inside the network',
      state: { lab: { view: 'slice' } },
      runs: ['slice'],
      text: 'Follow the change into the network: at {sliceFirstLayer} the representation moves by {sliceFirstShift} of its own size, at {sliceMaxShiftLayer} by {sliceMaxShift}. A change you can barely see at the input becomes a large one inside.',
      highlight: { testid: 'layer-chart' },
    },
    {
      title: 'Many small steps instead of one',
      state: { lab: { view: 'slice' }, attack: { attack: 'pgd', steps: 10 } },
      runs: ['slice'],
      text: 'FGSM takes one step of size ε; PGD takes ten smaller ones inside the same ε ball and follows the gradient as it turns. At ε = {sliceEps} it leaves {sliceRobustAcc} of the digits read correctly, and the largest layer shift is {sliceMaxShift}.',
      highlight: { testid: 'robust-acc' },
    },
    {
      title: 'A larger ball',
      state: { lab: { view: 'slice' }, attack: { attack: 'pgd', steps: 10, eps: 0.3 } },
      runs: ['slice'],
      text: 'At ε = {sliceEps}, the radius MNIST defences are measured at, the perturbation is visible, yet a person still reads every digit. The network keeps {sliceRobustAcc}; drag ε to watch the layers respond.',
      highlight: { testid: 'eps-slider' },
    },
    {
      title: 'Robustness over ε',
      state: { lab: { view: 'curve' }, attack: { attack: 'pgd', steps: 10, eps: 0.3 }, curve: { n: 30 } },
      runs: ['curve'],
      text: 'One point per ε: robust accuracy on 30 images under the same PGD. Half of the correctly read digits are lost by ε = {curveHalfEps}, and at ε = {curveLastEps} {curveLastAcc} remain.',
      highlight: { testid: 'curve-chart' },
    },
    {
      title: 'A network trained against it',
      state: { lab: { view: 'slice', compare: 'mnist-small-pgd-linf' }, attack: { attack: 'pgd', steps: 10, eps: 0.3 } },
      runs: ['slice'],
      text: 'Its twin, trained on PGD examples at ε = 0.3 (Madry et al. 2018), keeps {sliceRobustAccB} at ε = {sliceEps}, against {sliceRobustAcc} for the standard network. Its largest layer shift is {sliceMaxShiftB} (dashed line), against {sliceMaxShift}.',
      highlight: { testid: 'layer-chart' },
    },
    {
      title: 'From one image to a whole layer',
      state: { lab: { view: 'tsne' }, attack: APGD_SMALL, tsne: { ...TSNE_SMALL, model: 'a' } },
      runs: ['tsne-a'],
      text: 'Every dot is an image as one layer sees it, filled clean, hollow attacked, a faint line joining each pair. At {tsneFirstLayerA} {tsneFirstOverlapA} of the pairs stay together; at {tsneLastLayerA} {tsneLastOverlapA}: the attacked images have moved into other classes.',
      highlight: { testid: 'tsne-overlap-chart' },
    },
  ],
};

const tsneOverlap: Story = {
  id: 'tsne',
  title: 'Where clean and adversarial representations part (t-SNE overlap)',
  source: 'Valentim et al. 2024, layerwise t-SNE of clean and adversarial activations (arXiv 2406.14073)',
  base: { ...MNIST_PAIR, view: { layers: [] }, attack: APGD_SMALL, tsne: TSNE_SMALL },
  steps: [
    {
      title: 'One t-SNE per layer',
      state: { lab: { view: 'tsne' }, tsne: { model: 'a' } },
      runs: ['tsne-a'],
      text: 'One joint t-SNE per layer of the standard network: 100 clean digits (filled) and their APGD-CE versions at ε = 0.3 (hollow). The overlap counts the clean digits whose attacked partner stays nearer than any digit of another class: {tsneFirstOverlapA} at {tsneFirstLayerA}.',
      highlight: { testid: 'tsne-overlap-chart' },
    },
    {
      title: 'Where they part',
      state: { lab: { view: 'tsne' }, tsne: { model: 'a' } },
      runs: ['tsne-a'],
      text: 'The overlap falls most at {tsneDropLayerA}, from {tsneDropFromA} to {tsneDropToA}: there the attacked digits leave their clean partners. By {tsneLastLayerA} {tsneLastOverlapA} remain, and robust accuracy is {tsneRobustAccA}.',
      highlight: { testid: 'tsne-cell', layer: '{tsneDropLayerA}' },
    },
    {
      title: 'The adversarially trained twin',
      state: { lab: { view: 'tsne' }, tsne: { model: 'b' } },
      runs: ['tsne-a', 'tsne-b'],
      text: 'The same digits through the PGD-trained twin: its overlap never falls below {tsneMinOverlapB} and ends at {tsneLastOverlapB} at {tsneLastLayerB}, against {tsneLastOverlapA} for the standard network. Robust accuracy: {tsneRobustAccB} against {tsneRobustAccA}.',
      highlight: { testid: 'tsne-overlap-chart' },
    },
    {
      title: 'An L2 attack',
      state: { lab: { view: 'tsne' }, attack: { norm: 'l2', eps: 2 }, tsne: { model: 'a' } },
      runs: ['tsne-a'],
      text: 'Now an L2 attack of radius 2 instead of the L∞ one: the standard network\'s largest fall is at {tsneDropLayerA} ({tsneDropFromA} → {tsneDropToA}). At the last layer {tsneLastOverlapA} of the pairs remain, with robust accuracy {tsneRobustAccA}.',
      highlight: { testid: 'tsne-cell', layer: '{tsneDropLayerA}' },
    },
  ],
};

/**
 * Collisions: 2 images per class of 3 vs 7 (4 cross-class pairs), one projection of m = 5 (the
 * lab's default; the paper sweeps 3–30), two of the medium CNN's layers (after conv2, after
 * conv4) besides the exact input baseline, and Algorithm 1 with γ = 0.8 and at most 60
 * iterations: every pair of the three models became feasible within 41–53 iterations (γ = 0.95
 * needs ~180 before the residual meets τ_feas, so at 40 iterations nothing collided and every
 * layer read like the input). Measured with the CLI on WASM: the standard model reaches chance
 * at ε = 0.75 at both layers, the PGD and TRADES twins at 1.25 (relu_1) and 2 (relu_3).
 * 9–11 s per model on WASM in headless Chromium (step 1: 18 s, step 3 with all three: 39 s),
 * after the WASM conv input gradient became forward convolutions (model/kernel-fixes.ts, ~3×).
 */
const COLLISION_SMALL = { classes: ['3', '7'], perClass: 2, m: 5, projections: 1, iterations: 60, gamma: 0.8, epsList: [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3], extra: [] as string[] };
const MEDIUM_CNN_LAYERS = ['relu_1', 'relu_3'];
/** Steps 3–5 share one setup (so one run): the standard model with its PGD (B) and TRADES (extra) twins. */
const THREE_TRAININGS: LabPatch = { lab: { view: 'collision', compare: 'mnist-medium-pgd-l2' }, collision: { extra: ['mnist-medium-trades-l2'] } };
const collisions: Story = {
  id: 'collisions',
  title: 'Which layers lose robustness (collisions and optimal loss)',
  source: 'Evaluating the Adversarial Robustness of CNNs Layer by Layer, after Bhagoji et al. (NeurIPS 2019, ICML 2021): optimal adversarial loss per layer, standard vs PGD vs TRADES',
  base: { setup: { model: 'mnist-medium-st', data: 'mnist-test' }, lab: { compare: '' }, view: { layers: MEDIUM_CNN_LAYERS }, collision: COLLISION_SMALL },
  steps: [
    {
      title: 'When two digits collide',
      state: { lab: { view: 'collision' } },
      runs: ['collision'],
      text: 'A 3 and a 7 collide at a layer when perturbations of L2 size ε can make that layer see the same thing (read through a random 5-number projection, which can only make collisions easier); then no classifier on top can tell them apart. In pixels, half of our 3–7 pairs need ε = {collisionInputMedianA} to collide.',
      highlight: { testid: 'collision-heatmap' },
    },
    {
      title: 'Layers that lose robustness',
      state: { lab: { view: 'collision' } },
      runs: ['collision'],
      text: 'Inside the standard network the same pairs collide far sooner: median ε = {collisionFirstMedianA} at {collisionFirstLayerA} and {collisionLastMedianA} at {collisionLastLayerA}. The optimal loss of any classifier on {collisionChanceLayerA} reaches chance (ln 2 = 0.69 nats) by ε = {collisionChanceEpsA}.',
      highlight: { testid: 'collision-logloss' },
    },
    {
      title: 'PGD adversarial training',
      state: THREE_TRAININGS,
      runs: ['collision'],
      text: 'The same pairs and projections through the twin trained with PGD at L2 ε = 2 (dashed): at {collisionLastLayerB} half its pairs need ε = {collisionLastMedianB}, {collisionLastRatioB}× the standard network\'s {collisionLastMedianA}. Its optimal loss reaches chance only at ε = {collisionChanceEpsB} ({collisionChanceLayerB}).',
      highlight: { testid: 'collision-logloss' },
    },
    {
      title: 'TRADES',
      state: THREE_TRAININGS,
      runs: ['collision'],
      text: 'TRADES (Zhang et al. 2019, β = 6, same radius; dotted) trades clean for robust loss explicitly. Its median collision needs ε = {collisionFirstMedianExtra} at {collisionFirstLayerExtra} and {collisionLastMedianExtra} at {collisionLastLayerExtra}, against {collisionFirstMedianB} and {collisionLastMedianB} for PGD. Its optimal loss reaches chance at ε = {collisionChanceEpsExtra}.',
      highlight: { testid: 'collision-multiples' },
    },
    {
      title: 'Where robustness is lost',
      state: THREE_TRAININGS,
      runs: ['collision'],
      text: 'Every layer of every network collides long before the pixels ({collisionInputMedianA}), but the standard network\'s layers at the smallest radii: chance at ε = {collisionChanceEpsA}, against {collisionChanceEpsB} (PGD) and {collisionChanceEpsExtra} (TRADES). Four pairs and one projection make this a quick estimate; the view\'s preset runs the paper\'s settings.',
      highlight: { testid: 'collision-heatmap' },
    },
  ],
};

/** Logits: 200 images, PGD-10 at ε = 0.3 (the preset: 1,000 images, APGD-CE 100). */
const logits: Story = {
  id: 'logits',
  title: 'Smaller logits under adversarial training',
  source: 'Seguin et al., logit distributions of standard and adversarially trained networks',
  base: { ...MNIST_PAIR, view: { layers: [] }, attack: { attack: 'pgd', norm: 'linf', eps: 0.3, steps: 10 }, logits: { n: 200, underAttack: 1, epochs: 1 } },
  steps: [
    {
      title: 'Max logits',
      state: { lab: { view: 'logits' } },
      runs: ['logits'],
      text: 'The largest logit of each clean image: the standard network averages {logitsMaxMeanA}, its adversarially trained twin {logitsMaxMeanB}. Adversarial training makes a network less confident on clean images.',
      highlight: { testid: 'logits-max' },
    },
    {
      title: 'Logit gaps',
      state: { lab: { view: 'logits' } },
      runs: ['logits'],
      text: 'The gap between the largest and the second logit: {logitsGapMeanA} on average for the standard network, {logitsGapMeanB} for the trained one. A smaller gap means a smaller margin, yet the trained network is the robust one ({logitsRobustAccB} against {logitsRobustAccA} under PGD).',
      highlight: { testid: 'logits-gap' },
    },
    {
      title: 'The gap predicts robustness',
      state: { lab: { view: 'logits' } },
      runs: ['logits'],
      text: 'Within the trained network the gap does predict robustness. Of its images with the smallest clean gaps {logitsLowGapRobustB} survive the attack, of those with the largest {logitsHighGapRobustB}.',
      highlight: { testid: 'logits-bygap' },
    },
    {
      title: 'Over training',
      state: { lab: { view: 'logits' } },
      runs: ['logits'],
      text: 'The zoo keeps snapshots of the standard network: its mean max logit grows from {logitsEpochFirstMaxA} after epoch {logitsEpochFirstA} to {logitsEpochLastMaxA} after epoch {logitsEpochLastA}. Standard training keeps inflating the logits.',
      highlight: { testid: 'ridge-maxLogit' },
    },
  ],
};

/**
 * MFTMA with a small budget: class manifolds of P = 10 classes × M = 10 images, exemplar
 * manifolds of P = 5 images × M = 5 attack runs of 10 APGD-CE steps, n_t = 50, 3 restarts.
 */
const MFTMA_SMALL = { P: 10, M: 10, nT: 50, nReps: 3, attackSteps: 10 };
const manifolds: Story = {
  id: 'mftma',
  title: 'Manifold capacity under noise and attacks',
  source: 'Cohen et al. 2020 (Nature Communications) and Stephenson et al. 2021 (ICLR): MFTMA of class and exemplar manifolds',
  base: { ...MNIST_PAIR, view: { layers: [] }, attack: { norm: 'linf' }, mftma: MFTMA_SMALL },
  steps: [
    {
      title: 'How separable the classes are',
      state: { lab: { view: 'mftma' }, mftma: { kind: 'class', perturb: 'gaussian', ladder: [0.0001, 0.3] } },
      runs: ['mftma'],
      text: 'Capacity counts how many class manifolds per dimension a linear readout can still separate. The standard network raises it from {mftmaCapFirstA} at {mftmaFirstLayerA} to {mftmaCapLastA} at {mftmaLastLayerA}: depth untangles the classes.',
      highlight: { testid: 'mftma-capacity' },
    },
    {
      title: 'Under Gaussian noise',
      state: { lab: { view: 'mftma' }, mftma: { kind: 'class', perturb: 'gaussian', ladder: [0.0001, 0.3] } },
      runs: ['mftma'],
      text: 'Now Gaussian noise of σ = {mftmaLargestA} is added to every image. The last layer\'s capacity falls to {mftmaCapLastNoisyA} for the standard network and to {mftmaCapLastNoisyB} for the trained one, from {mftmaCapLastA} and {mftmaCapLastB}.',
      highlight: { testid: 'mftma-capacity' },
    },
    {
      title: 'Exemplar manifolds under attack',
      state: { lab: { view: 'mftma' }, mftma: { kind: 'exemplar', perturb: 'attack', ladder: [0.3], P: 5, M: 5 } },
      runs: ['mftma'],
      text: 'Now each manifold is one image and its APGD-CE versions inside the ε = {mftmaLargestA} ball. In the standard network their radius is {mftmaRadiusFirstA} at the first layer and {mftmaRadiusLastA} at the last; in the trained one {mftmaRadiusFirstB} and {mftmaRadiusLastB}.',
      highlight: { testid: 'mftma-radius' },
    },
    {
      title: 'Capacity of the attacked exemplars',
      state: { lab: { view: 'mftma' }, mftma: { kind: 'exemplar', perturb: 'attack', ladder: [0.3], P: 5, M: 5 } },
      runs: ['mftma'],
      text: 'Swollen manifolds are harder to separate. The standard network\'s exemplar capacity is {mftmaCapFirstA} at the first layer and {mftmaCapLastA} at the last, the trained network\'s {mftmaCapFirstB} and {mftmaCapLastB}.',
      highlight: { testid: 'mftma-heatmap' },
    },
  ],
};

/** Layer dependency: 100 images (70 train the probes, 30 score them), PGD-10 at ε = 0.3. */
const dependency: Story = {
  id: 'dependency',
  title: 'What each layer still knows under attack (probes and mutual information)',
  source: 'the subnetwork robustness paper: layer dependency, probes and mutual information per layer',
  base: { ...MNIST_PAIR, view: { layers: [] }, attack: { attack: 'pgd', norm: 'linf', eps: 0.3, steps: 10 }, dependency: { n: 100 } },
  steps: [
    {
      title: 'A probe on every layer',
      state: { lab: { view: 'dependency' } },
      runs: ['dependency'],
      text: 'A linear probe trained on each layer\'s clean activations reads the class from it. At {depLastLayerA} it scores {depProbeCleanLastA} on held-out clean images and {depProbeAdvLastA} on their attacked versions; the gap widens most at {depGapLayerA}.',
      highlight: { testid: 'dependency-probes' },
    },
    {
      title: 'Information about the label',
      state: { lab: { view: 'dependency' } },
      runs: ['dependency'],
      text: 'Mutual information between the last layer and the label: {depLabelMiLastA} nats on clean images, {depLabelMiAdvLastA} under attack (log 10 = 2.30 would be all of it). The attacked activations carry the wrong class, not none.',
      highlight: { testid: 'dependency-mi-label' },
    },
    {
      title: 'How layers depend on each other',
      state: { lab: { view: 'dependency' } },
      runs: ['dependency'],
      text: 'Each layer\'s information about the one before it, given the class: a layer that copies its predecessor faithfully passes an attack on. Robust accuracy on these images: {depRobustAccA}.',
      highlight: { testid: 'dependency-mi-prev' },
    },
    {
      title: 'The trained twin',
      state: { lab: { view: 'dependency' } },
      runs: ['dependency'],
      text: 'The adversarially trained twin\'s last-layer probe keeps {depProbeAdvLastB} under attack ({depProbeCleanLastB} clean). Its label information is {depLabelMiAdvLastB} nats, and its robust accuracy {depRobustAccB} against {depRobustAccA}.',
      highlight: { testid: 'dependency-probes' },
    },
  ],
};

/** Every story, in the order the first screen lists them (the one that needs no paper first). */
export const STORIES: readonly Story[] = [adversarialExample, tsneOverlap, collisions, logits, manifolds, dependency];

export function findStory(id: string): Story | undefined {
  return STORIES.find((s) => s.id === id);
}
