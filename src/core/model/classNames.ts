/**
 * Class names a user brings with their own model: a `labels.txt` (one name per line, in the
 * order of the model's outputs, as torchvision and most model zoos ship them) or a JSON list
 * (`["airplane", "automobile", …]`), chosen or dropped together with the .onnx or model.json,
 * or given to the CLI with `--labels FILE`.
 *
 * Logit i is class i: the names must number exactly the model's classes, else every name
 * after the first missing or extra line would sit on the wrong class. A mismatch is refused
 * with one line naming the file. Duplicate names are allowed: ImageNet's own list has two
 * "crane" (a bird and a machine) and two "maillot" classes.
 */
import { LabError } from '../types';
import { escapeControl, quoteName } from '../text';

/** Most classes a list may name: far above ImageNet-21k's 21,841; past it the file is not a class list. */
export const MAX_CLASS_NAMES = 100_000;
/** Longest class name: names are legends and axis labels, and a 1 MB "name" is not one. */
export const MAX_CLASS_NAME_LENGTH = 200;
/** Largest class-list file: ImageNet-21k's 21,841 names take well under 1 MB. */
export const MAX_CLASS_LIST_BYTES = 8 * 2 ** 20;

/** A file that may hold class names, as chosen or dropped (bytes as read). */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array | ArrayBuffer;
}

const asBytes = (b: Uint8Array | ArrayBuffer) => (b instanceof Uint8Array ? b : new Uint8Array(b));

/**
 * Whether a file chosen with a model is its class names: any `.txt`, or a `.json` whose text
 * starts with `[` (a JSON list; a tfjs model.json and a zoo card.json are objects). Only the
 * first non-blank byte is read, so weight-sized files cost nothing.
 */
export function isClassNamesFile(file: NamedBytes): boolean {
  const name = file.name.toLowerCase();
  if (name.endsWith('.txt')) return true;
  if (!name.endsWith('.json')) return false;
  const b = asBytes(file.bytes);
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // UTF-8 byte-order mark
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return b[i] === 0x5b; // '['
}

/**
 * Split the files chosen together into the class-names file (if any) and the model's own
 * files. Two class-name files are refused: which one names the classes would be a guess.
 */
export function splitClassNamesFile<F extends NamedBytes>(files: F[]): { classNames: F | null; model: F[] } {
  const lists = files.filter(isClassNamesFile);
  if (lists.length > 1) {
    throw new LabError(`${lists.length} class-name files were given (${lists.map((f) => quoteName(f.name)).join(', ')}); give one labels.txt or JSON list with the model`);
  }
  return { classNames: lists[0] ?? null, model: files.filter((f) => f !== lists[0]) };
}

/**
 * Parse class names from a file's text (`fileName` as the user gave it: messages name it). `.json`: a list of strings. Anything else: one name
 * per line (CR LF or LF), surrounding blanks trimmed, trailing empty lines ignored; an empty
 * line before the last name is refused, since it would shift every later name by one.
 * Every problem is one line starting with the file's name.
 */
export function parseClassNames(fileName: string, text: string): string[] {
  const file = escapeControl(fileName);
  const body = text.replace(/^\uFEFF/, '');
  let names: string[];
  if (/\.json$/i.test(fileName)) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      throw new LabError(`${file}: not valid JSON (${((e as Error).message ?? String(e)).split('\n')[0]}); a class list is ["name 0", "name 1", …]`);
    }
    if (!Array.isArray(value)) throw new LabError(`${file}: a class list must be a JSON list of names, ["name 0", "name 1", …]`);
    const bad = value.findIndex((v) => typeof v !== 'string');
    if (bad >= 0) throw new LabError(`${file}: entry ${bad} is ${quoteName(value[bad])}, not a string; a class list is ["name 0", "name 1", …]`);
    names = (value as string[]).map((s) => s.trim());
    const empty = names.findIndex((s) => s === '');
    if (empty >= 0) throw new LabError(`${file}: entry ${empty} is an empty name`);
  } else {
    const lines = body.split(/\r?\n/).map((s) => s.trim());
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    const empty = lines.findIndex((s) => s === '');
    if (empty >= 0) throw new LabError(`${file}: line ${empty + 1} is empty; give one class name per line, in the order of the model's outputs`);
    names = lines;
  }
  if (names.length === 0) throw new LabError(`${file}: no class names (expected one per line, or a JSON list)`);
  if (names.length > MAX_CLASS_NAMES) throw new LabError(`${file}: ${names.length} class names, more than the ${MAX_CLASS_NAMES.toLocaleString('en')} a class list may hold`);
  const long = names.findIndex((s) => s.length > MAX_CLASS_NAME_LENGTH);
  if (long >= 0) throw new LabError(`${file}: class ${long} has a name of ${names[long].length} characters, more than ${MAX_CLASS_NAME_LENGTH}`);
  return names;
}

/** Refuse names that do not number the model's classes: name i must be logit i. */
export function checkClassNames(fileName: string, names: readonly string[], numClasses: number): void {
  if (names.length !== numClasses) {
    const s = names.length === 1 ? '' : 's';
    throw new LabError(`${escapeControl(fileName)}: ${names.length} class name${s}, but the model has ${numClasses} classes; give one name per class, in the order of the model's outputs`);
  }
}

/** The names in one file's bytes (UTF-8), parsed: read before the model loads, so a bad list fails fast. */
export function readClassNames(file: NamedBytes): string[] {
  const bytes = asBytes(file.bytes);
  // Checked before decoding: a huge file would become a string twice its size first.
  if (bytes.byteLength > MAX_CLASS_LIST_BYTES) {
    throw new LabError(`${escapeControl(file.name)}: ${bytes.byteLength.toLocaleString('en')} bytes, more than the ${MAX_CLASS_LIST_BYTES / 2 ** 20} MB a class list may take`);
  }
  return parseClassNames(file.name, new TextDecoder('utf-8').decode(bytes));
}

/** Read and check in one step: the names for a model of `numClasses` classes, from one file's bytes. */
export function classNamesFor(file: NamedBytes, numClasses: number): string[] {
  const names = readClassNames(file);
  checkClassNames(file.name, names, numClasses);
  return names;
}

/**
 * The data as the model names it: with the model's own class names when it has them (label i
 * is the model's class i, which checkInputCompatibility has checked by count), else unchanged.
 * Analyses that read class names (collision classes by name, per-class summaries) then use
 * the names the user gave, in the lab and in the CLI alike.
 */
export function namedByModel<D extends { classNames: string[] }>(data: D, model: { classNames?: string[] | null }): D {
  const names = model.classNames;
  if (!names || names.length !== data.classNames.length) return data;
  return { ...data, classNames: [...names] };
}
