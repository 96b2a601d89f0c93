/**
 * Drag and drop: collect dropped files, walking dropped folders, with their paths
 * relative to the drop, and route them: a model.json (plus shards) or an .onnx (plus its .data),
 * with a labels.txt or JSON list of class names if given, loads a model,
 * anything else is data (an image folder, an MNIST IDX pair or CIFAR batches).
 */
import { isClassNamesFile } from '../core/model/classNames';
import { loadImageFiles, loadModelFiles } from './setup';

async function walk(entry: FileSystemEntry, prefix: string, out: Map<File, string>): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.set(file, prefix + entry.name);
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns batches; read until empty.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

export async function filesFromDrop(data: DataTransfer): Promise<Map<File, string>> {
  const out = new Map<File, string>();
  const entries = Array.from(data.items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length) for (const entry of entries) await walk(entry, '', out);
  else for (const f of Array.from(data.files)) out.set(f, f.name);
  return out;
}

export async function handleDrop(data: DataTransfer): Promise<void> {
  const files = await filesFromDrop(data);
  const list = [...files.keys()].filter((f) => !f.name.startsWith('.'));
  // A .json that is a class-name list (it starts with "[") names a model's classes; it is not one.
  const modelJson = async (f: File) => f.name.endsWith('.json') && f.name !== 'card.json' && !isClassNamesFile({ name: f.name, bytes: await f.slice(0, 64).arrayBuffer() });
  const isModel = list.some((f) => /\.onnx$/i.test(f.name)) || (await Promise.all(list.map(modelJson))).some(Boolean);
  if (isModel) await loadModelFiles(list, { arrival: 'dropped' });
  else await loadImageFiles(list, files, 'dropped');
}
