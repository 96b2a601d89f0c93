import { describe, expect, it } from 'vitest';
import { checkClassNames, classNamesFor, isClassNamesFile, namedByModel, parseClassNames, readClassNames, splitClassNamesFile, MAX_CLASS_LIST_BYTES, MAX_CLASS_NAME_LENGTH } from './classNames';
import { LabError } from '../types';

const bytes = (text: string) => new TextEncoder().encode(text);
/** The message of what `f` throws, which must be one line of a LabError. */
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    const msg = (e as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
  throw new Error('not refused');
};

describe('class names brought with a model', () => {
  it('reads labels.txt one name per line: CR LF, blanks around names and trailing empty lines, a byte-order mark', () => {
    expect(parseClassNames('labels.txt', 'cat\ndog\n')).toEqual(['cat', 'dog']);
    expect(parseClassNames('labels.txt', '\uFEFF  cat \r\ndog\r\n\r\n')).toEqual(['cat', 'dog']);
    expect(parseClassNames('labels.txt', 'sea lion\ngreat white shark')).toEqual(['sea lion', 'great white shark']);
  });

  it('keeps duplicate names (ImageNet lists "crane" twice)', () => {
    expect(parseClassNames('imagenet.txt', 'crane\nkite\ncrane\n')).toEqual(['crane', 'kite', 'crane']);
  });

  it('reads a JSON list of strings', () => {
    expect(parseClassNames('classes.json', '["airplane", " automobile ", "bird"]')).toEqual(['airplane', 'automobile', 'bird']);
  });

  it('refuses what would shift or garble the names, naming the file', () => {
    expect(refusal(() => parseClassNames('labels.txt', 'cat\n\ndog\n'))).toBe("labels.txt: line 2 is empty; give one class name per line, in the order of the model's outputs");
    expect(refusal(() => parseClassNames('labels.txt', '\n \n'))).toMatch(/^labels.txt: no class names/);
    expect(refusal(() => parseClassNames('names.json', '{"0": "cat"}'))).toMatch(/^names.json: a class list must be a JSON list of names/);
    expect(refusal(() => parseClassNames('names.json', '["cat", 3]'))).toMatch(/^names.json: entry 1 is 3, not a string/);
    expect(refusal(() => parseClassNames('names.json', '["cat", ""]'))).toBe('names.json: entry 1 is an empty name');
    expect(refusal(() => parseClassNames('names.json', '["cat",'))).toMatch(/^names.json: not valid JSON \(/);
    expect(refusal(() => parseClassNames('labels.txt', `a\n${'x'.repeat(MAX_CLASS_NAME_LENGTH + 1)}`))).toMatch(/^labels.txt: class 1 has a name of 201 characters/);
    // A control character in the file name is shown escaped, on the same line.
    expect(refusal(() => parseClassNames('bad\nname.txt', ''))).toMatch(/^bad\\x0aname.txt: no class names/);
  });

  it('refuses a count that is not the model\'s class count, in one line naming the file', () => {
    expect(refusal(() => checkClassNames('dir/labels.txt', ['a', 'b', 'c'], 10))).toBe("dir/labels.txt: 3 class names, but the model has 10 classes; give one name per class, in the order of the model's outputs");
    expect(refusal(() => classNamesFor({ name: 'one.json', bytes: bytes('["a"]') }, 2))).toMatch(/^one.json: 1 class name, but the model has 2 classes/);
    expect(classNamesFor({ name: 'labels.txt', bytes: bytes('a\nb\n').buffer as ArrayBuffer }, 2)).toEqual(['a', 'b']);
    expect(refusal(() => readClassNames({ name: 'big.txt', bytes: new Uint8Array(MAX_CLASS_LIST_BYTES + 1) }))).toBe('big.txt: 8,388,609 bytes, more than the 8 MB a class list may take');
  });

  it('tells a class list from the model files chosen with it by name and first byte', () => {
    expect(isClassNamesFile({ name: 'labels.txt', bytes: bytes('cat') })).toBe(true);
    expect(isClassNamesFile({ name: 'folder/CLASSES.TXT', bytes: bytes('cat') })).toBe(true);
    expect(isClassNamesFile({ name: 'classes.json', bytes: bytes('\uFEFF\n  ["cat"]') })).toBe(true);
    expect(isClassNamesFile({ name: 'model.json', bytes: bytes('{"modelTopology": {}}') })).toBe(false);
    expect(isClassNamesFile({ name: 'group1-shard1of1.bin', bytes: bytes('[') })).toBe(false);
    expect(isClassNamesFile({ name: 'net.onnx', bytes: new Uint8Array([0x08, 0x07]) })).toBe(false);
    const files = [
      { name: 'net.onnx', bytes: new Uint8Array(4) },
      { name: 'net.onnx.data', bytes: new Uint8Array(4) },
      { name: 'labels.json', bytes: bytes('["a","b"]') },
    ];
    const split = splitClassNamesFile(files);
    expect(split.classNames?.name).toBe('labels.json');
    expect(split.model.map((f) => f.name)).toEqual(['net.onnx', 'net.onnx.data']);
    expect(splitClassNamesFile(files.slice(0, 2)).classNames).toBeNull();
    expect(refusal(() => splitClassNamesFile([...files, { name: 'labels.txt', bytes: bytes('a') }]))).toMatch(/^2 class-name files were given \("labels.json", "labels.txt"\)/);
  });

  it('names the data by the model when the model brings names, and leaves it alone otherwise', () => {
    const data = { id: 'd', classNames: ['0', '1'] };
    expect(namedByModel(data, { classNames: ['cat', 'dog'] })).toEqual({ id: 'd', classNames: ['cat', 'dog'] });
    expect(namedByModel(data, { classNames: null })).toBe(data);
    expect(namedByModel(data, {})).toBe(data);
    expect(data.classNames).toEqual(['0', '1']);
  });
});
