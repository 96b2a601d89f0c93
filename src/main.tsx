import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { boot } from './ui/setup';
import { installDebugHooks } from './ui/runtime';
import { expandStoryHash } from './ui/story';
import { parseLabHash } from './core/analyses/lab';
import './ui/styles.css';

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
installDebugHooks();
// A link to a story step may name only the step: it opens with that step's whole setup.
expandStoryHash(parseLabHash);
void boot();
