/**
 * Model cards under the model picker. For an imported .onnx file (OnnxModelCard): what the
 * lab read from the graph, so a user can check it understood their export: the declared input
 * and the images it feeds, the normalisation found as Sub/Div constants at the graph's start
 * (attacks then still work in [0, 1] pixels), the classes and their names, the parameters and
 * which nodes can be tapped.
 *
 * The zoo model's card (public/models/<id>/card.json) under the model picker: how it was
 * trained (method, ε, steps, β, epochs, seed), its clean and PGD accuracy from training, and the
 * attack suite run by tools/zoo/attack-cards.ts (FGSM, PGD-40, APGD-CE and the AA-style
 * sequence per norm, with the spec's ordering checks), so a user sees how far to trust a
 * "robust" model before looking inside it.
 */
import { useEffect, useState } from 'react';
import { useLab } from '../store';
import type { ModelSummary } from '../../../workers/lab.worker';

const BASE = import.meta.env.BASE_URL;

interface SuiteRow {
  attack: string;
  norm: string;
  eps: number;
  steps: number;
  n: number;
  robustAccuracy: number;
}

export interface ZooCard {
  label?: string;
  parameterCount?: number;
  /** How the shards store the weights ('float16': tfjs float16 weight quantization). */
  weightsDtype?: string;
  training?: { method: string; norm?: string | null; eps?: number | null; steps?: number | null; beta?: number | null; epochs?: number };
  seed?: number;
  cleanAccuracy?: number;
  cleanAccuracyN?: number;
  robustAccuracy?: { attack: string; norm: string; eps: number; steps: number; n: number; accuracy: number }[];
  belowFloor?: boolean;
  command?: string;
  epoch?: number;
  snapshotOf?: string;
  attackSuite?: { backend: string; date: string; results: SuiteRow[]; sanityProblems: string[]; warnings?: string[] };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const normName = (n: string) => (n === 'linf' ? 'L∞' : 'L2');

/** One line on how the model was trained. */
export function trainingLine(card: ZooCard): string {
  if (card.snapshotOf) return `snapshot of ${card.snapshotOf} after epoch ${card.epoch}`;
  const t = card.training;
  if (!t) return '';
  const method = t.method === 'standard' ? 'standard training' : t.method === 'fast' ? 'fast AT (FGSM-RS)' : t.method === 'nfgsm' ? 'fast AT (N-FGSM)' : t.method === 'trades' ? 'TRADES' : 'PGD-AT';
  const threat = t.norm && t.eps ? ` ${normName(t.norm)} ε=${+t.eps.toFixed(4)}` : '';
  const steps = t.steps ? `, ${t.steps} steps` : '';
  const beta = t.beta ? `, β=${t.beta}` : '';
  return `${method}${threat}${steps}${beta}, ${t.epochs} epochs, seed ${card.seed}`;
}

/**
 * The attack suite as one row per norm at the evaluation ε (the largest ε of that norm; the
 * smaller ones are the PGD-40 ladder): robust accuracy under FGSM, PGD-40, APGD-CE and AA-style.
 */
export function suiteTable(card: ZooCard): { norm: string; eps: number; n: number; fgsm?: number; pgd?: number; apgd?: number; aa?: number; ladder: { eps: number; accuracy: number }[] }[] {
  const rows = card.attackSuite?.results ?? [];
  const out = [];
  for (const norm of ['linf', 'l2']) {
    const mine = rows.filter((r) => r.norm === norm);
    if (!mine.length) continue;
    const eps = Math.max(...mine.map((r) => r.eps));
    const at = (attack: string) => mine.find((r) => r.attack === attack && r.eps === eps)?.robustAccuracy;
    out.push({
      norm,
      eps,
      n: mine[0].n,
      fgsm: at('fgsm'),
      pgd: at('pgd'),
      apgd: at('apgd-ce'),
      aa: at('aa'),
      ladder: mine.filter((r) => r.attack === 'pgd').sort((a, b) => a.eps - b.eps).map((r) => ({ eps: r.eps, accuracy: r.robustAccuracy })),
    });
  }
  return out;
}

export function ModelCard() {
  const id = useLab((s) => s.params.setup.model);
  const inZoo = useLab((s) => s.zoo.some((z) => z.id === id));
  const [card, setCard] = useState<{ id: string; card: ZooCard } | null>(null);
  useEffect(() => {
    if (!inZoo) return;
    let live = true;
    fetch(`${BASE}models/${encodeURIComponent(id)}/card.json`)
      .then((r) => (r.ok ? (r.json() as Promise<ZooCard>) : null))
      .then((c) => live && c && setCard({ id, card: c }))
      .catch(() => undefined); // the card is extra information: without it the lab works as before
    return () => {
      live = false;
    };
  }, [id, inZoo]);
  if (!inZoo || !card || card.id !== id) return null;
  const c = card.card;
  const suite = suiteTable(c);
  return (
    <details className="model-card muted" data-testid="model-card">
      <summary>
        card: clean {c.cleanAccuracy !== undefined ? pct(c.cleanAccuracy) : '?'}
        {c.robustAccuracy?.map((r) => ` · PGD-${r.steps} ${normName(r.norm)} ${+r.eps.toFixed(4)}: ${pct(r.accuracy)}`).join('')}
        {c.belowFloor ? ' · below its floor' : ''}
      </summary>
      <div>{trainingLine(c)}</div>
      {c.parameterCount !== undefined && <div>{c.parameterCount.toLocaleString()} parameters{c.weightsDtype === 'float16' ? ' (stored as float16)' : ''}; clean accuracy on {c.cleanAccuracyN?.toLocaleString() ?? '?'} test images</div>}
      {suite.length > 0 && (
        <table className="suite" data-testid="model-card-suite">
          <thead>
            <tr>
              <th>robust acc.</th>
              <th>FGSM</th>
              <th>PGD-40</th>
              <th>APGD-CE</th>
              <th>AA-style</th>
            </tr>
          </thead>
          <tbody>
            {suite.map((r) => (
              <tr key={r.norm} title={`PGD-40 along ε: ${r.ladder.map((l) => `${+l.eps.toFixed(4)} → ${pct(l.accuracy)}`).join(', ')} (n = ${r.n})`}>
                <td>
                  {normName(r.norm)} {+r.eps.toFixed(4)}
                </td>
                {[r.fgsm, r.pgd, r.apgd, r.aa].map((v, i) => (
                  <td key={i}>{v === undefined ? '—' : pct(v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {c.attackSuite && (
        <div>
          {c.attackSuite.results[0]?.n} test images, {c.attackSuite.backend}, {c.attackSuite.date};{' '}
          {c.attackSuite.sanityProblems.length ? `checks: ${c.attackSuite.sanityProblems.join('; ')}` : 'ordering checks pass (AA-style ≤ APGD-CE ≤ PGD-40 ≤ FGSM, accuracy falls with ε)'}
          {c.attackSuite.warnings?.length ? ` · ${c.attackSuite.warnings.join('; ')}` : ''}
        </div>
      )}
      {c.command && (
        <div>
          reproduce: <code>{c.command}</code>
        </div>
      )}
    </details>
  );
}

const count = (n: number) => n.toLocaleString('en');
const list = (xs: number[], digits: number) => `[${xs.map((x) => x.toFixed(digits)).join(', ')}]`;

/** Ops a user thinks of as layers, first in the tap summary; the rest follow by count. */
const LAYER_OPS = ['Conv', 'Gemm', 'MatMul', 'BatchNormalization', 'Relu', 'Add', 'MaxPool', 'AveragePool', 'GlobalAveragePool'];

/** One row of the ONNX card: a short label and its text. */
export interface CardRow {
  label: string;
  text: string;
}

/**
 * The ONNX card's rows from the worker's model summary (pure: the component only lays them out).
 * Shapes: the file's input is NCHW with a batch entry; the lab feeds NHWC images, H×W×C.
 */
export function onnxCardRows(m: Pick<ModelSummary, 'onnx' | 'inputShape' | 'numClasses' | 'classNames' | 'classNamesFile' | 'layers' | 'parameters' | 'softmaxNote'>): CardRow[] {
  const card = m.onnx;
  if (!card) return [];
  const rows: CardRow[] = [];
  const feeds = m.inputShape.length === 3 ? `${m.inputShape.join('×')} images (H×W×C), [0, 1] pixels` : `flat vectors of ${count(m.inputShape[0])} values (an image flattened in C, H, W order), [0, 1] pixels`;
  rows.push({ label: 'input', text: `${card.inputName} [${card.declaredInput.join('×')}]: the lab feeds ${feeds}` });
  const norm = card.normalisation;
  rows.push({
    label: 'normalisation',
    text: norm
      ? `in the graph (Sub/Div by constants): mean ${list(norm.mean, 4)}, std ${list(norm.std, 4)}; attacks and ε stay in [0, 1] pixel space`
      : 'none found at the start of the graph: the model sees [0, 1] pixels as they are',
  });
  const names = m.classNames;
  const shown = names ? (names.length <= 10 ? names.join(', ') : `${names.slice(0, 8).join(', ')}, …, ${names[names.length - 1]}`) : null;
  rows.push({ label: 'classes', text: `${count(m.numClasses)}${names ? ` named by ${m.classNamesFile ?? 'your list'}: ${shown}` : ' (names from the data)'}${m.softmaxNote ? `; ${m.softmaxNote}` : ''}` });
  // BatchNorm's running mean and variance are weights of the file but not trained parameters
  // (torch folds them into the convolution when it exports an eval() model; opset 17 may keep them).
  const stats = m.layers.reduce((s, l) => s + l.params - l.trainableParams, 0);
  rows.push({ label: 'parameters', text: `${count(card.parameters)} weights in the graph${stats > 0 ? ` (${count(card.parameters - stats)} without the ${count(stats)} BatchNorm running statistics)` : ''}` });
  rows.push({ label: 'tappable nodes', text: tapSummary(m.layers) });
  rows.push({ label: 'file', text: `ONNX opset ${card.opset}${card.producer ? `, written by ${card.producer}` : ''}${card.externalData.length ? `, weights in ${card.externalData.join(', ')}` : ''}` });
  return rows;
}

/** "46 (30 tapped by default): Conv 16, Relu 15, Add 7, …": every computed node can be tapped. */
export function tapSummary(layers: ModelSummary['layers']): string {
  const byOp = new Map<string, number>();
  for (const l of layers) byOp.set(l.className, (byOp.get(l.className) ?? 0) + 1);
  const rank = (op: string) => (LAYER_OPS.includes(op) ? LAYER_OPS.indexOf(op) : LAYER_OPS.length);
  const ops = [...byOp].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const byDefault = layers.filter((l) => l.defaultTap).length;
  return `${count(layers.length)} (${count(byDefault)} tapped by default): ${ops.map(([op, n]) => `${op} ${n}`).join(', ')}`;
}

/** The card of an imported .onnx model: what the importer read from the graph. */
export function OnnxModelCard() {
  const model = useLab((s) => s.model);
  if (!model?.onnx) return null;
  const rows = onnxCardRows(model);
  const norm = model.onnx.normalisation;
  return (
    <details className="model-card muted" data-testid="onnx-card">
      <summary>
        ONNX card: [{model.onnx.declaredInput.join('×')}] · {norm ? 'normalisation in the graph' : 'no normalisation in the graph'} · {model.numClasses} classes · {count(model.onnx.parameters)} params ·{' '}
        {model.layers.length} tappable nodes
      </summary>
      {rows.map((r) => (
        <div key={r.label} data-testid={`onnx-card-${r.label.replace(/ /g, '-')}`}>
          {r.label}: {r.text}
        </div>
      ))}
      <details>
        <summary>every tappable node (name, op, output shape)</summary>
        <ol className="onnx-nodes">
          {model.layers.map((l) => (
            <li key={l.name}>
              {l.name} · {l.className} · [{l.outputShape.join('×')}]{l.defaultTap ? '' : ' · not tapped by default'}
            </li>
          ))}
        </ol>
      </details>
    </details>
  );
}
