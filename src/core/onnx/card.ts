/**
 * The ONNX model card as rows of text: what the importer read from the graph, so a user can
 * check it understood their export (the declared input and the images the lab feeds it, the
 * normalisation found as Sub/Div constants at the graph's start, the classes and their names,
 * the weights, which nodes can be tapped). One definition for the lab's card
 * (src/ui/components/ModelCard.tsx) and `layerwise info`.
 */
import type { LayerInfo } from '../model/model';
import type { OnnxCard } from './import';

/** What the card reads: a loaded model's facts (the worker's summary has the same fields). */
export interface OnnxCardInput {
  onnx?: OnnxCard;
  inputShape: number[];
  numClasses: number;
  classNames?: string[] | null;
  /** The file the names came from (labels.txt, a .json list). */
  classNamesFile?: string | null;
  layers: LayerInfo[];
  softmaxNote: string | null;
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
 * The ONNX card's rows from a loaded model (or the worker's summary of one). Names come from
 * files: whoever prints the rows to a terminal escapes them (escapeControl).
 * Shapes: the file's input is NCHW with a batch entry; the lab feeds NHWC images, H×W×C.
 */
export function onnxCardRows(m: OnnxCardInput): CardRow[] {
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
export function tapSummary(layers: LayerInfo[]): string {
  const byOp = new Map<string, number>();
  for (const l of layers) byOp.set(l.className, (byOp.get(l.className) ?? 0) + 1);
  const rank = (op: string) => (LAYER_OPS.includes(op) ? LAYER_OPS.indexOf(op) : LAYER_OPS.length);
  const ops = [...byOp].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const byDefault = layers.filter((l) => l.defaultTap).length;
  return `${count(layers.length)} (${count(byDefault)} tapped by default): ${ops.map(([op, n]) => `${op} ${n}`).join(', ')}`;
}
