/**
 * The first screen (issue #24), for a URL with no setup: what the lab shows in one sentence and
 * three ways in. Dismissed once, it stays away (localStorage); a shared URL never shows it.
 * The default lab boots behind it, so "Watch an attack" is a chart already drawn.
 */
import { useState } from 'react';
import { STORIES } from '../../core/stories';
import { firstScreenWanted, goToStep, rememberFirstScreenDismissed } from '../story';

export function FirstScreen() {
  const [open, setOpen] = useState(firstScreenWanted);
  const [panel, setPanel] = useState<'ways' | 'stories' | 'byo'>('ways');
  if (!open) return null;
  const dismiss = () => {
    rememberFirstScreenDismissed();
    setOpen(false);
  };
  return (
    <div className="first-screen" role="dialog" aria-modal="true" aria-labelledby="first-screen-title" data-testid="first-screen">
      <div className="first-screen-card">
        <button type="button" className="first-screen-close" aria-label="Close" data-testid="first-screen-close" onClick={dismiss}>
          ×
        </button>
        <h2 id="first-screen-title">Layerwise</h2>
        <p className="first-screen-lead">
          An adversarial example is an image changed imperceptibly so a network misreads it; this lab shows, layer by layer, where inside the network that change takes hold — all computed on your machine.
        </p>
        {panel === 'ways' && (
          <div className="first-screen-ways">
            <button type="button" data-testid="way-watch" onClick={dismiss}>
              <b>Watch an attack move through a network</b>
              <span>The live demo: a small MNIST network under attack; drag ε and watch every layer respond.</span>
            </button>
            <button type="button" data-testid="way-stories" onClick={() => setPanel('stories')}>
              <b>Reproduce a paper’s finding</b>
              <span>Guided stories, 4–7 steps each, with the numbers computed live on our models.</span>
            </button>
            <button type="button" data-testid="way-byo" onClick={() => setPanel('byo')}>
              <b>Bring your own model</b>
              <span>From PyTorch or tfjs: what files to drop on the page.</span>
            </button>
          </div>
        )}
        {panel === 'stories' && (
          <div>
            <ol className="first-screen-stories" data-testid="story-list">
              {STORIES.map((s) => (
                <li key={s.id}>
                  <button
                    type="button"
                    data-testid={`story-start-${s.id}`}
                    onClick={() => {
                      dismiss();
                      void goToStep(s.id, 0);
                    }}
                  >
                    <b>{s.title}</b>
                    <span>
                      {s.steps.length} steps · {s.source}
                    </span>
                  </button>
                </li>
              ))}
            </ol>
            <button type="button" className="link" onClick={() => setPanel('ways')}>
              ← back
            </button>
          </div>
        )}
        {panel === 'byo' && (
          <div className="first-screen-byo" data-testid="byo-help">
            <p>Drop the files anywhere on the page (or use <i>Load model files</i> in the setup column):</p>
            <ul>
              <li>
                <b>PyTorch</b>: export with <code>torch.onnx.export(model, example_input, 'model.onnx')</code> and drop <code>model.onnx</code> (with its <code>.data</code> file if the export wrote one); or convert with{' '}
                <code>python3 tools/zoo/export.py --module my_net.py:MyNet --state-dict weights.pt --input-shape 1,28,28 --out my-model/</code> and drop everything in <code>my-model/</code>.
              </li>
              <li>
                <b>tfjs</b>: <code>model.json</code> and its weight shards (<code>*.bin</code>), together.
              </li>
              <li>
                <b>Data</b> (optional; MNIST and a CIFAR-10 subset are built in): an image folder with one sub-folder per class, an MNIST IDX pair, or CIFAR-10 binary batches.
              </li>
            </ul>
            <button type="button" data-testid="byo-open" onClick={dismiss}>
              Open the lab
            </button>{' '}
            <button type="button" className="link" onClick={() => setPanel('ways')}>
              ← back
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
