import type { Scene } from '../../core/scenes.js';
import type { Manifest, ManifestTransition } from '../manifest.js';
import { formatTimecode } from '../sceneExports.js';
import { contactSheetFileName } from '../contactSheets.js';
import { membersByCluster, type ReportContext } from './context.js';
import { escapeHtml, formatClock, formatCount, formatDuration, plural, relativeHref } from './html.js';
import type { ReportPoint } from './scatter.js';

/** A video run read scene by scene. */
export interface VideoRunPlan {
  readonly scenes: readonly Scene[];
  /** The length the axis spans, in seconds. */
  readonly duration: number;
  /** Items of each scene (0-based scene index), in frame order. */
  readonly itemsByScene: ReadonlyMap<number, number[]>;
  /** Dropped candidates of each scene, as indices into `manifest.dropped`. */
  readonly droppedByScene: ReadonlyMap<number, number[]>;
  /** The written keyframes: representatives with a frame. */
  readonly keyframes: readonly number[];
  /** Cluster id to its representative's item index. */
  readonly representativeOf: ReadonlyMap<number, number>;
  readonly transitions: readonly ManifestTransition[];
}

export function planVideoRun(manifest: Manifest): VideoRunPlan {
  const scenes = manifest.scenes ?? [];
  const itemsByScene = new Map<number, number[]>();
  manifest.items.forEach((item, index) => {
    if (item.scene === undefined) return;
    const list = itemsByScene.get(item.scene);
    if (list) list.push(index);
    else itemsByScene.set(item.scene, [index]);
  });
  for (const list of itemsByScene.values()) list.sort((first, second) => (manifest.items[first].frame ?? 0) - (manifest.items[second].frame ?? 0));
  const droppedByScene = new Map<number, number[]>();
  manifest.dropped.forEach((entry, index) => {
    if (entry.scene === undefined) return;
    const list = droppedByScene.get(entry.scene);
    if (list) list.push(index);
    else droppedByScene.set(entry.scene, [index]);
  });
  const inputDuration = typeof manifest.input.duration === 'number' ? manifest.input.duration : 0;
  const duration = Math.max(scenes.at(-1)?.endTime ?? 0, inputDuration, 1e-6);
  return {
    scenes,
    duration,
    itemsByScene,
    droppedByScene,
    keyframes: manifest.items.flatMap((item, index) => (item.representative && item.frame !== undefined ? [index] : [])),
    representativeOf: new Map(manifest.clusters.map((cluster) => [cluster.id, cluster.representative])),
    transitions: [...(manifest.transitions ?? [])].sort((first, second) => first.startFrame - second.startFrame),
  };
}

/** The items whose thumbnails the page embeds: every keyframe, and the clusters' shown members when the run is small enough. */
export function videoPicturesToEmbed(manifest: Manifest, plan: VideoRunPlan, maxMembersShown: number, allCandidates: boolean, budget: number): number[] {
  const chosen = new Set(plan.keyframes);
  if (allCandidates) {
    for (const [, members] of membersByCluster(manifest)) {
      for (const member of members.slice(0, maxMembersShown)) {
        if (chosen.size >= budget) break;
        chosen.add(member);
      }
    }
  }
  return [...chosen].sort((first, second) => first - second);
}

export function videoRunFacts(manifest: Manifest, plan: VideoRunPlan): string[] {
  const input = manifest.input;
  const fps = typeof input.fps === 'number' ? input.fps : undefined;
  return [
    formatDuration(plan.duration),
    ...(fps ? [`${Number(fps.toFixed(3))} fps`] : []),
    ...(typeof input.width === 'number' && typeof input.height === 'number' ? [`${input.width}×${input.height}`] : []),
    plural(plan.scenes.length, 'scene'),
    plural(manifest.items.length, 'candidate frame'),
    plural(plan.keyframes.length, 'keyframe'),
    ...(manifest.dropped.length > 0 ? [`${plural(manifest.dropped.length, 'candidate')} dropped as ${manifest.dropped.length === 1 ? 'a technical frame' : 'technical frames'}`] : []),
    ...(manifest.transitions ? [plural(manifest.transitions.length, 'gradual transition')] : []),
  ];
}

export function renderVideoRun(context: ReportContext, plan: VideoRunPlan, allCandidates: boolean): string {
  return [renderTimeline(context, plan), renderSceneTable(context, plan), renderClusters(context, plan, allCandidates)].join('\n');
}

const TICK_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600];
/** At most this many labelled ticks: about 100 px apart on a laptop screen, so none overlap. */
const MAX_TICKS = 10;

function percent(time: number, duration: number): string {
  return `${((Math.min(Math.max(time, 0), duration) / duration) * 100).toFixed(3)}%`;
}

/**
 * The time axis: scenes as segments of one bar (numbered where there is room, scenes without a
 * keyframe pale), gradual transitions hatched over it, keyframes and dropped candidates as marks
 * below, and labelled ticks at a round step. Positions are percentages, so it fits any width
 * without a script, and its height does not grow with the number of scenes.
 */
function renderTimeline(context: ReportContext, plan: VideoRunPlan): string {
  const { manifest } = context;
  const { duration } = plan;
  const step = TICK_STEPS.find((candidate) => duration / candidate <= MAX_TICKS) ?? TICK_STEPS.at(-1)!;
  const decimals = step < 1 ? 1 : 0;
  const hours = duration >= 3600;
  const ticks: string[] = [];
  for (let tick = 0; tick <= duration + 1e-9; tick += step) {
    ticks.push(`<span class="tl-tick" style="left:${percent(tick, duration)}">${formatClock(tick, hours, decimals)}</span>`);
  }
  const withKeyframe = new Set(plan.keyframes.map((item) => manifest.items[item].scene));
  const segments = plan.scenes
    .map((scene, index) => {
      const width = (scene.endTime - scene.startTime) / duration;
      const label = `Scene ${index + 1}: ${formatTimecode(scene.startTime)} to ${formatTimecode(scene.endTime)}${withKeyframe.has(index) ? '' : ', no keyframe'}`;
      // A number needs about 24 px: 2.2% of a 1,100 px bar.
      return `<a class="tl-segment${withKeyframe.has(index) ? '' : ' empty'}${index % 2 === 1 ? ' odd' : ''}" href="#scene-${index + 1}" style="left:${percent(scene.startTime, duration)};width:${(width * 100).toFixed(3)}%" title="${escapeHtml(label)}">${width >= 0.022 ? index + 1 : ''}</a>`;
    })
    .join('');
  const transitions = plan.transitions
    .map((transition) => {
      const label = `${transitionName(transition)}: ${formatTimecode(transition.startTime)} to ${formatTimecode(transition.endTime)}`;
      return `<span class="tl-transition" style="left:${percent(transition.startTime, duration)};width:${(((transition.endTime - transition.startTime) / duration) * 100).toFixed(3)}%" title="${escapeHtml(label)}"></span>`;
    })
    .join('');
  const keyframeMarks = plan.keyframes
    .map((index) => {
      const item = manifest.items[index];
      const label = `Keyframe of scene ${(item.scene ?? 0) + 1}: frame ${item.frame}, ${formatTimecode(item.time ?? 0)}, cluster ${item.cluster}`;
      return `<a class="tl-mark keyframe" href="#scene-${(item.scene ?? 0) + 1}" style="left:${percent(item.time ?? 0, duration)}" title="${escapeHtml(label)}"></a>`;
    })
    .join('');
  const droppedMarks = manifest.dropped
    .filter((entry) => entry.time !== undefined)
    .map((entry) => `<span class="tl-mark dropped" style="left:${percent(entry.time ?? 0, duration)}" title="${escapeHtml(`Dropped (${entry.reason}): frame ${entry.frame ?? '?'}, ${formatTimecode(entry.time ?? 0)}`)}"></span>`)
    .join('');
  const legend = [
    '<span><i class="swatch segment-swatch"></i>scene</span>',
    '<span><i class="swatch empty-swatch"></i>scene without a keyframe</span>',
    ...(plan.transitions.length > 0 ? ['<span><i class="swatch transition-swatch"></i>gradual transition</span>'] : []),
    '<span><i class="swatch keyframe-swatch"></i>keyframe</span>',
    ...(manifest.dropped.length > 0 ? ['<span><i class="swatch dropped-swatch"></i>dropped candidate</span>'] : []),
  ];
  return `<section id="timeline">
<h2>Timeline</h2>
<div class="tl-axis" role="img" aria-label="${escapeHtml(`${plan.scenes.length} scenes over ${formatDuration(duration)}`)}">
<div class="tl-track">${segments}${transitions}</div>
<div class="tl-marks">${keyframeMarks}${droppedMarks}</div>
<div class="tl-ticks">${ticks.join('')}</div>
</div>
<div class="legend muted">${legend.join('')}</div>
</section>`;
}

function transitionName(transition: ManifestTransition): string {
  return transition.colour ? `${transition.type} (${transition.colour})` : transition.type;
}

/** Transitions that end a scene (start inside it and end after it), start it, or lie inside it. */
function sceneTransitions(plan: VideoRunPlan, scene: Scene): string[] {
  const parts: string[] = [];
  for (const transition of plan.transitions) {
    const length = formatDuration(Math.max(0, transition.endTime - transition.startTime));
    const startsInside = transition.startFrame >= scene.startFrame && transition.startFrame < scene.endFrame;
    const endsInside = transition.endFrame > scene.startFrame && transition.endFrame <= scene.endFrame;
    const coversStart = transition.startFrame < scene.startFrame && transition.endFrame > scene.startFrame;
    if (startsInside && endsInside) parts.push(`within: ${transitionName(transition)}, ${length}`);
    else if (startsInside) parts.push(`out: ${transitionName(transition)}, ${length}`);
    else if (coversStart || endsInside) parts.push(`in: ${transitionName(transition)}, ${length}`);
  }
  return parts;
}

function reasonsText(manifest: Manifest, dropped: readonly number[]): string {
  const counts = new Map<string, number>();
  for (const entry of dropped) counts.set(manifest.dropped[entry].reason, (counts.get(manifest.dropped[entry].reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => (count === 1 ? reason : `${reason} ×${count}`)).join(', ');
}

/** Why a scene shows no keyframe, in a sentence with links to the scenes that stand for it. */
function whyNoKeyframe(manifest: Manifest, plan: VideoRunPlan, candidates: readonly number[], dropped: readonly number[]): string {
  const parts: string[] = [];
  const total = candidates.length + dropped.length;
  if (dropped.length > 0) {
    parts.push(
      `${dropped.length === total ? (total === 1 ? 'its candidate was' : `all ${total} candidates were`) : `${plural(dropped.length, 'candidate')} ${dropped.length === 1 ? 'was' : 'were'}`} dropped as ${
        dropped.length === 1 ? 'a technical frame' : 'technical frames'
      } (${escapeHtml(reasonsText(manifest, dropped))})`,
    );
  }
  const byCluster = new Map<number, number>();
  for (const candidate of candidates) byCluster.set(manifest.items[candidate].cluster, (byCluster.get(manifest.items[candidate].cluster) ?? 0) + 1);
  for (const [cluster, count] of byCluster) {
    const subject = count === total ? (count === 1 ? 'its candidate' : `its ${count} candidates`) : plural(count, 'candidate');
    const representative = plan.representativeOf.get(cluster);
    const keyScene = representative === undefined ? undefined : manifest.items[representative].scene;
    if (cluster < 0 || keyScene === undefined) parts.push(`${subject} ${count === 1 ? 'was' : 'were'} unique but left out (--noise drop)`);
    else parts.push(`${subject} ${count === 1 ? 'looks' : 'look'} like <a href="#scene-${keyScene + 1}">scene ${keyScene + 1}</a>'s keyframe (cluster ${cluster})`);
  }
  if (parts.length === 0) return 'No keyframe: no candidate frame was recorded for this scene.';
  const sentence = parts.join('; ');
  return `No keyframe: ${sentence}.`;
}

function renderSceneTable(context: ReportContext, plan: VideoRunPlan): string {
  const { manifest } = context;
  const scenesOfCluster = new Map<number, Set<number>>();
  manifest.items.forEach((item) => {
    if (item.scene === undefined) return;
    const set = scenesOfCluster.get(item.cluster) ?? new Set<number>();
    set.add(item.scene);
    scenesOfCluster.set(item.cluster, set);
  });
  const fps = typeof manifest.input.fps === 'number' ? manifest.input.fps : undefined;
  // Without the field the run did not look for transitions: an empty column would claim there were none.
  const knowsTransitions = manifest.transitions !== undefined;
  const sizeOf = new Map(manifest.clusters.map((cluster) => [cluster.id, cluster.size]));
  const rows = plan.scenes.map((scene, index) => {
    const candidates = plan.itemsByScene.get(index) ?? [];
    const dropped = plan.droppedByScene.get(index) ?? [];
    const keyframes = candidates.filter((candidate) => manifest.items[candidate].representative);
    const frames = scene.endFrame - scene.startFrame;
    const transitions = knowsTransitions ? `<td class="transitions">${sceneTransitions(plan, scene).map((text) => `<div>${escapeHtml(text)}</div>`).join('')}</td>` : '';
    let notes: string;
    if (keyframes.length === 0) {
      notes = `<span class="why">${whyNoKeyframe(manifest, plan, candidates, dropped)}</span>`;
    } else {
      const notesParts = keyframes.map((keyframe) => {
        const cluster = manifest.items[keyframe].cluster;
        const others = [...(scenesOfCluster.get(cluster) ?? [])].filter((other) => other !== index).sort((first, second) => first - second);
        const size = sizeOf.get(cluster) ?? 1;
        return `<a href="#cluster-${cluster}">cluster ${cluster}</a> (${plural(size, 'frame')}${others.length > 0 ? `; also scene${others.length === 1 ? '' : 's'} ${others.map((other) => `<a href="#scene-${other + 1}">${other + 1}</a>`).join(', ')}` : ''})`;
      });
      if (dropped.length > 0) notesParts.push(`${plural(dropped.length, 'candidate')} dropped (${escapeHtml(reasonsText(manifest, dropped))})`);
      notes = notesParts.join('; ');
    }
    const thumbnails = keyframes
      .map((keyframe) => {
        const item = manifest.items[keyframe];
        const picture = context.pictureOf.get(keyframe);
        const label = `frame ${item.frame} · ${formatTimecode(item.time ?? 0)}`;
        const image = picture ? `<img src="${picture}" alt="${escapeHtml(`Keyframe, ${label}`)}" title="${escapeHtml(label)}">` : `<span class="placeholder">${escapeHtml(label)}</span>`;
        return item.path ? `<a href="${escapeHtml(relativeHref(item.path))}">${image}</a>` : image;
      })
      .join('');
    return `<tr id="scene-${index + 1}"${keyframes.length === 0 ? ' class="no-keyframe"' : ''}><td class="number">${index + 1}</td><td class="time" title="frame ${scene.startFrame}">${formatTimecode(scene.startTime)}</td><td class="time" title="frame ${scene.endFrame} (exclusive)">${formatTimecode(scene.endTime)}</td><td class="time" title="${plural(frames, 'frame')}">${escapeHtml(formatDuration(scene.endTime - scene.startTime))}</td>${transitions}<td class="thumbs">${thumbnails}</td><td class="notes">${notes}</td></tr>`;
  });
  const noKeyframe = plan.scenes.length - new Set(plan.keyframes.map((item) => manifest.items[item].scene)).size;
  return `<section id="scenes">
<h2>Scenes <span class="muted">· ${formatCount(plan.scenes.length)}${noKeyframe > 0 ? `, ${formatCount(noKeyframe)} without a keyframe` : ''}</span></h2>
<p class="muted">Times are HH:MM:SS.mmm from the start of the video${fps ? ` (${Number(fps.toFixed(3))} fps)` : ''}; hover a time for its frame number. The end is where the next scene starts.</p>
<table class="scene-table">
<thead><tr><th>#</th><th>Start</th><th>End</th><th>Length</th>${knowsTransitions ? '<th>Transitions</th>' : ''}<th>Keyframes</th><th>Notes</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}

/** Each cluster's members, collapsed: the scene table already shows the keyframes. */
function renderClusters(context: ReportContext, plan: VideoRunPlan, allCandidates: boolean): string {
  const { manifest } = context;
  const byCluster = membersByCluster(manifest);
  const rows = manifest.clusters.map((cluster) => {
    const members = [cluster.representative, ...(byCluster.get(cluster.id) ?? []).filter((member) => member !== cluster.representative)];
    const shown = (allCandidates ? members : members.slice(0, 1)).slice(0, context.maxMembersShown);
    const more = members.length - shown.length;
    const sheet = contactSheetFileName(cluster.id);
    const sheetLink = context.files.has(sheet) ? ` · <a href="${escapeHtml(relativeHref(sheet))}">contact sheet</a>` : '';
    const figures = shown
      .map((member, position) => {
        const item = manifest.items[member];
        const picture = context.pictureOf.get(member);
        const scene = (item.scene ?? 0) + 1;
        const image = picture ? `<img src="${picture}" alt="${escapeHtml(`frame ${item.frame}`)}">` : '<span class="placeholder">no picture</span>';
        return `<figure${position === 0 ? ' class="representative"' : ''}>${item.path ? `<a href="${escapeHtml(relativeHref(item.path))}">${image}</a>` : image}<figcaption><a href="#scene-${scene}">scene ${scene}</a> <span>${formatTimecode(item.time ?? 0)}</span></figcaption></figure>`;
      })
      .join('');
    return `<div class="cluster" id="cluster-${cluster.id}"><h3>Cluster ${cluster.id} <span class="muted">· ${plural(cluster.size, 'frame')}${sheetLink}</span></h3><div class="members">${figures}</div>${
      more > 0 ? `<p class="muted">and ${plural(more, 'more frame')} (see manifest.json)</p>` : ''
    }</div>`;
  });
  if (manifest.clusters.length === 0) return '';
  return `<section id="clusters-section">
<details id="clusters">
<summary><h2>Clusters <span class="muted">· ${formatCount(manifest.clusters.length)}: which candidate frames each keyframe stands for</span></h2></summary>
<p class="muted">Each cluster's keyframe first, framed in orange.${allCandidates ? '' : ' This run has many candidates: only the keyframes are pictured.'}</p>
${rows.join('\n')}
</details>
</section>`;
}

/** The plot's points for a video run: keyframe or candidate, each jumping to its scene. */
export function videoPoints(manifest: Manifest): ReportPoint[] {
  return manifest.items.map((item, index) => ({
    item: index,
    group: item.cluster,
    role: item.representative ? 'keyframe' : 'candidate',
    file: item.path ?? `scene ${(item.scene ?? 0) + 1}, frame ${item.frame ?? '?'} (not written)`,
    target: item.scene === undefined ? `cluster-${item.cluster}` : `scene-${item.scene + 1}`,
    ...(item.frame === undefined ? {} : { frame: item.frame }),
    ...(item.time === undefined ? {} : { time: formatTimecode(item.time) }),
    ...(item.scene === undefined ? {} : { scene: item.scene + 1 }),
  }));
}
