import type { Manifest } from '../manifest.js';
import { settingText } from './context.js';
import { escapeHtml } from './html.js';

/** The settings that decide an image run's groups and what is kept, by mode, in the order a reader asks about them. */
const IMAGE_KEYS: Readonly<Record<string, ReadonlyArray<readonly [key: string, label: string]>>> = {
  // Identical pixels: no model, no threshold.
  exact: [
    ['mode', 'mode'],
    ['keep', 'keep'],
  ],
  near: [
    ['mode', 'mode'],
    ['model', 'model'],
    ['metric', 'metric'],
    ['nearAccept', 'same below'],
    ['epsilon', 'checked up to'],
    ['keep', 'keep'],
  ],
  semantic: [
    ['mode', 'mode'],
    ['model', 'model'],
    ['metric', 'metric'],
    ['epsilon', 'epsilon (threshold)'],
    ['minSamples', 'min samples'],
    ['keep', 'keep'],
    ['noise', 'noise'],
  ],
};

/** The settings that decide a video run's scenes and keyframes. */
const VIDEO_KEYS: ReadonlyArray<readonly [key: string, label: string]> = [
  ['detector', 'detector'],
  ['threshold', 'threshold'],
  ['minSceneLen', 'min scene length'],
  ['framesPerScene', 'frames per scene'],
  ['clustering', 'clustering'],
  ['model', 'model'],
  ['metric', 'metric'],
  ['epsilon', 'epsilon'],
  ['minSamples', 'min samples'],
  ['noise', 'noise'],
];

/**
 * The settings line under the title (the ones that decide the result, those the run recorded) and
 * every recorded setting in a collapsed table, so a reader can tell how the page came about and
 * rerun it.
 */
export function renderSettings(manifest: Manifest, video: boolean): string {
  const settings = manifest.settings;
  const modelId = typeof manifest.model.id === 'string' ? manifest.model.id : undefined;
  const mode = typeof settings.mode === 'string' && settings.mode in IMAGE_KEYS ? settings.mode : 'semantic';
  const main = (video ? VIDEO_KEYS : IMAGE_KEYS[mode])
    .map(([key, label]) => {
      const value = key === 'model' ? modelId ?? settings.model : settings[key];
      if (value === undefined || value === null || value === '') return undefined;
      return `<span class="setting"><span class="muted">${escapeHtml(label)}</span> ${escapeHtml(settingText(value))}</span>`;
    })
    .filter((part): part is string => part !== undefined);
  const entries = Object.entries(settings).filter(([, value]) => value !== undefined);
  const table = entries.length === 0
    ? ''
    : `<details class="all-settings"><summary>All ${entries.length} settings</summary><table>${entries
        .map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(settingText(value))}</td></tr>`)
        .join('')}</table></details>`;
  return `<div class="settings">${main.join(' ')}</div>${table}`;
}
