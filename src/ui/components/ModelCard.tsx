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
import { onnxCardRows } from '../../core/onnx/card';

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
