/**
 * Setup and attack controls, generated from the parameter schemas (one schema per
 * feature gives default, control, validation and URL key). Model and data pickers list
 * the zoo and the built-in data sets; users add their own via file pickers.
 */
import { Fragment, useRef, useState } from 'react';
import { stepSizeNote } from '../../core/attacks/spec';
import { attackSchema, coerce, setupSchema, type ParamDef, type Schema } from '../../core/schema';
import { halfPrecisionUnavailable } from '../../core/precision';
import { applyParams, loadImageFiles, loadModelFiles } from '../setup';
import { plural } from '../text';
import { useLab, type Params, type ParamsPatch } from '../store';

type Group = keyof Params;

/**
 * One generated control: `group` is the feature whose schema the parameter belongs to
 * (setup, attack, or an analysis kind). Its id is `param-<key>` for the setup and attack
 * panels, `param-<group>-<key>` in the views.
 */
export function ParamControl({ group, name, def, onCommit }: { group: Group; name: string; def: ParamDef; onCommit?: (patch: ParamsPatch) => void }) {
  // Subscribe to this parameter only: an ε drag must not re-render every control.
  const value = useLab((s) => (s.params[group] as Record<string, unknown>)[name]);
  const currentData = useLab((s) => s.params.setup.data);
  const zoo = useLab((s) => s.zoo);
  const datasets = useLab((s) => s.datasets);
  const userModel = useLab((s) => s.userModelLabel);
  const activeBackend = useLab((s) => s.backend?.active);
  // Half precision is a WebGL texture format: on WASM and CPU the choice is disabled, with the reason.
  const halfBlocked = group === 'setup' && name === 'precision' && (activeBackend === 'wasm' || activeBackend === 'cpu') ? halfPrecisionUnavailable(activeBackend) : null;
  const id = group === 'setup' || group === 'attack' ? `param-${name}` : `param-${group}-${name}`;
  let options = def.kind === 'select' ? def.options : undefined;
  if (group === 'setup' && name === 'model') {
    options = zoo.map((z) => ({ value: z.id, label: z.label }));
    if (userModel) options = [...options, { value: userModel, label: `${userModel.slice(5)} (your files)` }];
    if (typeof value === 'string' && !options.some((o) => o.value === value) && (value.endsWith('.json') || /\.onnx$/i.test(value))) options = [...options, { value, label: value }];
  }
  if (group === 'setup' && name === 'data') {
    options = datasets.map((d) => ({ value: d.id, label: `${d.name} (${d.n})` }));
    if (currentData === 'user:images') options = [...options, { value: 'user:images', label: 'your images' }];
  }
  const commit = (raw: string) => {
    const { value: v, error } = coerce(def.kind === 'select' && options ? { ...def, options } : def, raw);
    if (error) useLab.getState().set({ error });
    const patch = { [group]: { [name]: v } } as ParamsPatch;
    if (onCommit) onCommit(patch);
    else void applyParams(patch);
  };
  const listText = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v ?? ''));
  return (
    <label className={options ? 'control select' : 'control'} htmlFor={id} title={def.help}>
      <span>{def.label}</span>
      {options ? (
        <select id={id} value={String(value)} onChange={(e) => commit(e.target.value)}>
          {options?.map((o) => (
            <option key={o.value} value={o.value} disabled={halfBlocked !== null && o.value === 'float16'} title={halfBlocked !== null && o.value === 'float16' ? halfBlocked : undefined}>
              {o.label}
              {halfBlocked !== null && o.value === 'float16' ? ` (off: ${activeBackend} computes in float32)` : ''}
            </option>
          ))}
        </select>
      ) : def.kind === 'list' || def.kind === 'numbers' || def.kind === 'text' ? (
        <input
          id={id}
          type="text"
          defaultValue={listText(value)}
          key={listText(value)}
          placeholder={def.kind === 'list' || def.kind === 'numbers' ? 'auto' : ''}
          onBlur={(e) => e.target.value !== listText(value) && commit(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && commit((e.target as HTMLInputElement).value)}
        />
      ) : (
        <input
          id={id}
          type="number"
          defaultValue={String(value)}
          key={String(value)}
          min={def.kind === 'int' || def.kind === 'number' ? def.min : undefined}
          max={def.kind === 'int' || def.kind === 'number' ? def.max : undefined}
          step={def.kind === 'int' || def.kind === 'number' ? def.step : undefined}
          onBlur={(e) => e.target.value !== String(value) && commit(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && commit((e.target as HTMLInputElement).value)}
        />
      )}
    </label>
  );
}

/** A schema's parameters that have a generated control, in schema order. */
export function controlsOf(schema: Schema): [string, ParamDef][] {
  return Object.entries(schema).filter(([, d]) => d.control !== false);
}

export function SetupControls() {
  return (
    <fieldset className="controls">
      <legend>Setup</legend>
      {controlsOf(setupSchema).map(([name, def]) => (
        <ParamControl key={name} group="setup" name={name} def={def} />
      ))}
      <PrecisionNote />
      <CompareControl />
      <CompareFiles />
      <label className="control" title="a tfjs model.json (layers or graph model) or an .onnx file, served from any URL that allows it">
        <span>Model URL</span>
        <input
          type="url"
          placeholder="https://…/model.json or …/model.onnx"
          data-testid="model-url"
          onKeyDown={(e) => {
            const url = (e.target as HTMLInputElement).value.trim();
            if (e.key === 'Enter' && url) void applyParams({ setup: { model: url } });
          }}
        />
      </label>
      <FileButton label="Load model files" title="model.json plus its weight shards, or an .onnx file (with its .data file, if it has one), chosen together; add labels.txt (one class name per line) or a JSON list to name its classes" testId="model-files" accept=".json,.bin,.onnx,.data,.txt" onFiles={(files) => loadModelFiles(files)} />
      <FileButton label="Load data files" title="an MNIST IDX pair (raw or .gz) or CIFAR-10 binary batches" testId="data-files" onFiles={(files) => loadImageFiles(files)} />
      <FileButton label="Load image folder" title="a folder with one sub-folder per class (optional labels.txt)" testId="image-files" directory onFiles={(files) => loadImageFiles(files)} />
    </fieldset>
  );
}

/** One line under the precision choice: what half precision does on the backend running, or why it is off. */
function PrecisionNote() {
  const p = useLab((s) => s.backend?.precision);
  // Nothing to say while float32 is asked for: the menu's disabled option carries WASM's and CPU's reason.
  const text = p?.active === 'float16' ? 'float16 textures on WebGL: half the GPU memory; numbers differ from float32, and a very confident sample gets a zero gradient' : (p?.note ?? null);
  if (!text) return null;
  return (
    <p className="muted precision-note" data-testid="precision-note">
      {text}
    </p>
  );
}

/** What a file input holds, in a few words: "model.json + 1 more file", a folder's name. */
function chosenFilesText(files: File[]): string {
  const folder = (files[0] as File & { webkitRelativePath?: string }).webkitRelativePath?.split('/')[0];
  if (folder) return `${folder}/ (${plural(files.length, 'file')})`;
  return files.length === 1 ? files[0].name : `${files[0].name} + ${plural(files.length - 1, 'more file')}`;
}

/**
 * A file input as a button and the chosen names on their own line: the native input's text
 * ("No file chosen") is truncated in a 290 px side bar ("No …osen"). A refused choice is
 * cleared from the input (`onFiles` resolves false), so the input never shows files that did
 * not load, and choosing the same files again after a fix fires again.
 */
export function FileButton({ label, title, testId, accept, directory, onFiles }: { label: string; title: string; testId: string; accept?: string; directory?: boolean; onFiles: (files: File[]) => Promise<boolean> }) {
  const input = useRef<HTMLInputElement>(null);
  const [chosen, setChosen] = useState('');
  return (
    <div className="control file" title={title}>
      <span>{label}</span>
      <span className="file-pick">
        <button type="button" onClick={() => input.current?.click()} data-testid={`${testId}-button`}>
          {directory ? 'Choose folder…' : 'Choose files…'}
        </button>
        <span className="file-chosen muted" data-testid={`${testId}-chosen`}>
          {chosen || 'none chosen'}
        </span>
        <input
          ref={input}
          type="file"
          hidden
          multiple
          accept={accept}
          data-testid={testId}
          aria-label={label}
          {...(directory ? ({ webkitdirectory: '' } as Record<string, string>) : {})}
          onChange={async (e) => {
            const el = e.currentTarget;
            const files = Array.from(el.files ?? []);
            if (!files.length) return;
            setChosen(chosenFilesText(files));
            if (!(await onFiles(files))) {
              el.value = '';
              setChosen('');
            }
          }}
        />
      </span>
    </div>
  );
}

/** Model B for compare mode: any zoo model, or none. */
export function CompareControl() {
  const compare = useLab((s) => s.params.lab.compare);
  const zoo = useLab((s) => s.zoo);
  const modelA = useLab((s) => s.params.setup.model);
  const dataset = useLab((s) => s.params.setup.data);
  const fits = zoo.filter((z) => z.id !== modelA && z.dataset === dataset);
  return (
    <label className="control select" htmlFor="param-compare" title="a second model B shown next to or over model A in every view (dashed lines, B columns)">
      <span>Compare with</span>
      <select id="param-compare" data-testid="compare" value={compare} onChange={(e) => void applyParams({ lab: { compare: e.target.value } })}>
        <option value="">— none —</option>
        {fits.map((z) => (
          <option key={z.id} value={z.id}>
            {z.label}
          </option>
        ))}
        {compare && !fits.some((z) => z.id === compare) && <option value={compare}>{compare.startsWith('user:') ? `${compare.slice(5)} (your files)` : compare}</option>}
      </select>
    </label>
  );
}

/** Model B from the user's own files (it must fit A's data and classes, like a zoo B). */
export function CompareFiles() {
  return <FileButton label="B from files" title="a second model of your own as model B: model.json plus shards, or an .onnx file" testId="compare-files" accept=".json,.bin,.onnx,.data,.txt" onFiles={(files) => loadModelFiles(files, { which: 'b' })} />;
}

/**
 * Strength presets (issue #5): the step/restart budgets the literature uses. Weak is a quick
 * look; standard is the usual evaluation (PGD-40, APGD-100 as in AutoAttack); strong adds
 * restarts and all 9 targets, the budget of a careful robustness claim (spec attacks.md).
 */
export const ATTACK_PRESETS: Record<'weak' | 'standard' | 'strong', Partial<Params['attack']>> = {
  weak: { steps: 10, restarts: 1, targets: 3, draws: 5 },
  standard: { steps: 40, restarts: 1, targets: 9, draws: 10 },
  strong: { steps: 100, restarts: 5, targets: 9, draws: 50 },
};

function presetOf(p: Params): string {
  for (const [name, preset] of Object.entries(ATTACK_PRESETS)) {
    if (Object.entries(preset).every(([k, v]) => p.attack[k as keyof Params['attack']] === v)) return name;
  }
  return 'custom';
}

/** Which parameters an attack reads; the others are hidden so the form says what matters. */
const ATTACK_PARAMS: Record<string, string[]> = {
  gaussian: ['norm', 'draws'],
  fgsm: ['norm'],
  bim: ['norm', 'steps', 'stepSize'],
  pgd: ['norm', 'steps', 'stepSize'],
  'apgd-ce': ['norm', 'steps', 'restarts'],
  'apgd-dlr': ['norm', 'steps', 'restarts'],
  'apgd-t': ['norm', 'steps', 'targets', 'targetClass'],
  aa: ['norm', 'steps', 'targets'],
  deepfool: ['norm', 'steps'],
  fab: ['norm', 'steps', 'restarts'],
  cw: ['norm', 'steps'],
};

export function AttackControls() {
  const attack = useLab((s) => s.params.attack.attack);
  const preset = useLab((s) => presetOf(s.params));
  const shown = ATTACK_PARAMS[attack] ?? Object.keys(attackSchema);
  return (
    <fieldset className="controls">
      <legend>Attack</legend>
      <label className="control select" htmlFor="attack-preset" title="step, restart and target budgets: weak = quick look, standard = usual evaluation, strong = careful claim">
        <span>Strength</span>
        <select id="attack-preset" data-testid="attack-preset" value={preset} onChange={(e) => e.target.value !== 'custom' && void applyParams({ attack: ATTACK_PRESETS[e.target.value as keyof typeof ATTACK_PRESETS] })}>
          <option value="weak">weak</option>
          <option value="standard">standard</option>
          <option value="strong">strong</option>
          <option value="custom" disabled>
            custom
          </option>
        </select>
      </label>
      {controlsOf(attackSchema)
        .filter(([name]) => name !== 'eps' && (name === 'attack' || shown.includes(name)))
        .map(([name, def]) =>
          name === 'stepSize' ? (
            <Fragment key={name}>
              <ParamControl group="attack" name={name} def={def} />
              <StepSizeNote />
            </Fragment>
          ) : (
            <ParamControl key={name} group="attack" name={name} def={def} />
          ),
        )}
    </fieldset>
  );
}

/** The step size the attack really takes, next to its control ("α auto = 2.5·ε/steps = 0.075"). */
function StepSizeNote() {
  const note = useLab((s) => stepSizeNote(s.params.attack));
  if (!note) return null;
  return (
    <span className="muted control-note" data-testid="step-size-note" title="what the attack uses (core/attacks/spec.ts resolvedStepSize)">
      {note}
    </span>
  );
}

/** Which layers to tap; empty selection in the URL means the model's feature layers. */
export function LayerPicker() {
  const model = useLab((s) => s.model);
  const chosen = useLab((s) => s.params.view.layers);
  // A ResNet-20 has ~70 tappable layers: a filter keeps the list usable (view state only).
  const [filter, setFilter] = useState('');
  if (!model) return null;
  const defaults = model.layers.filter((l) => l.defaultTap).map((l) => l.name);
  const active = new Set(chosen.length ? chosen : defaults);
  const toggle = (name: string) => {
    const next = new Set(active);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    // Keep model order; an empty pick falls back to the defaults.
    const ordered = model.layers.map((l) => l.name).filter((n) => next.has(n));
    const same = ordered.length === defaults.length && ordered.every((n, i) => n === defaults[i]);
    void applyParams({ view: { layers: same ? [] : ordered } });
  };
  const tappable = model.layers.filter((l) => l.className !== 'InputLayer');
  const needle = filter.trim().toLowerCase();
  const shown = needle ? tappable.filter((l) => l.name.toLowerCase().includes(needle) || l.className.toLowerCase().includes(needle) || active.has(l.name)) : tappable;
  return (
    <fieldset className="controls layers" data-testid="layer-picker">
      <legend>
        Layers ({active.size} of {tappable.length})
      </legend>
      {tappable.length > 20 && <input type="search" className="layer-filter" placeholder="filter (e.g. relu, stage2)" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="layer-filter" />}
      <div className="layer-list">
        {shown.map((l) => (
          <label key={l.name} className="layer" title={`${l.className} [${l.outputShape.join('×')}] = ${l.size} floats`}>
            <input type="checkbox" checked={active.has(l.name)} onChange={() => toggle(l.name)} />
            <span className="layer-name">{l.name}</span>
            <span className="muted">{l.className}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
