import { basename, dirname, isAbsolute, relative, sep } from 'node:path';
import type { Manifest, ManifestItem } from '../manifest.js';
import { Thumbnails } from '../thumbnails.js';
import { fileUrl, membersByCluster, type ReportContext } from './context.js';
import { escapeHtml, formatBytes, formatCount, formatDistance, plural, relativeHref, shellQuote, wrappedPath } from './html.js';
import type { ReportPoint } from './scatter.js';

/** A duplicate group: a cluster of two or more pictures, the kept one first. */
export interface ImageGroup {
  /** 1-based, in page order: the `group` column of the decision files (duplicates.csv) numbers groups the same way. */
  readonly number: number;
  /** The manifest's cluster id. */
  readonly id: number;
  /** Item indices: the kept picture, then the others by distance to it (closest first), then by path. */
  readonly members: readonly number[];
  /**
   * A run --against an earlier one: the earlier picture (absolute path) every member duplicates.
   * That one is kept and not among `members`, which are all duplicates.
   */
  readonly keptElsewhere?: string;
}

/** The members of a group that are duplicates: all but the kept first one, or all when the kept picture is an earlier run's. */
export function duplicatesOf(group: ImageGroup): readonly number[] {
  return group.keptElsewhere === undefined ? group.members.slice(1) : group.members;
}

/** An image run read for its decisions. */
export interface ImageRunPlan {
  /** Largest first; equal sizes by their smallest path, as the decision files list them. */
  readonly groups: readonly ImageGroup[];
  /** Pictures with no duplicate, in path order: clusters of one, and those --noise drop left out (cluster -1). */
  readonly singles: readonly number[];
  /** Every picture of a group but the kept one. */
  readonly duplicates: readonly number[];
}

/** Code-unit order, as the decision files sort paths: the same on every machine and locale. */
function byPath(first: string, second: string): number {
  return first < second ? -1 : first > second ? 1 : 0;
}

export function planImageRun(manifest: Manifest): ImageRunPlan {
  const inputFolder = inputFolderOf(manifest);
  const pathOf = (index: number) => displayPathOf(manifest.items[index], inputFolder);
  const representativeOf = new Map(manifest.clusters.map((cluster) => [cluster.id, cluster.representative]));
  const unordered: Array<{ id: number; members: number[]; firstPath: string; keptElsewhere?: string }> = [];
  const singles: number[] = [];
  for (const [id, members] of membersByCluster(manifest)) {
    const keptElsewhere = members.map((member) => manifest.items[member].duplicateOf).find((path) => path !== undefined);
    if (keptElsewhere === undefined && (id < 0 || members.length === 1)) singles.push(...members);
    else {
      const ordered = keptElsewhere === undefined ? orderMembers(manifest.items, members, representativeOf.get(id), pathOf) : orderByDistance(manifest.items, members, pathOf);
      const firstPath = ordered.map(pathOf).reduce((smallest, path) => (byPath(path, smallest) < 0 ? path : smallest));
      unordered.push({ id, members: ordered, firstPath, ...(keptElsewhere === undefined ? {} : { keptElsewhere }) });
    }
  }
  // Sizes count the kept picture, an earlier run's too, as the decision files' groupSize does.
  const sizeOf = (group: { members: number[]; keptElsewhere?: string }) => group.members.length + (group.keptElsewhere === undefined ? 0 : 1);
  unordered.sort((first, second) => sizeOf(second) - sizeOf(first) || byPath(first.firstPath, second.firstPath) || first.id - second.id);
  const groups = unordered.map(({ firstPath: _firstPath, ...group }, position) => ({ number: position + 1, ...group }));
  singles.sort((first, second) => byPath(pathOf(first), pathOf(second)) || first - second);
  return { groups, singles, duplicates: groups.flatMap(duplicatesOf) };
}

function orderMembers(items: readonly ManifestItem[], members: readonly number[], representative: number | undefined, pathOf: (index: number) => string): number[] {
  // The manifest's keep flag wins over the clustering's representative: a keep rule such as
  // "largest" may keep another picture than the medoid.
  const kept = members.find((member) => items[member].keep === true) ?? (representative !== undefined && members.includes(representative) ? representative : members[0]);
  return [kept, ...orderByDistance(items, members.filter((member) => member !== kept), pathOf)];
}

/** Closest to the kept picture first, so that the doubtful ones end the row where the eye lands last; then by path. */
function orderByDistance(items: readonly ManifestItem[], members: readonly number[], pathOf: (index: number) => string): number[] {
  const distanceOf = (member: number) => (typeof items[member].distance === 'number' ? (items[member].distance as number) : Number.POSITIVE_INFINITY);
  return [...members].sort((first, second) => distanceOf(first) - distanceOf(second) || byPath(pathOf(first), pathOf(second)) || first - second);
}

/** The path a person recognises: relative to the input folder ('/' separators), else as recorded. */
export function displayPathOf(item: ManifestItem, inputFolder: string): string {
  if (item.relativePath) return item.relativePath;
  if (item.path === null) return '(no file)';
  if (inputFolder && isAbsolute(item.path) && isAbsolute(inputFolder)) {
    const inside = relative(inputFolder, item.path);
    if (inside && !inside.startsWith('..') && !isAbsolute(inside)) return inside.split(sep).join('/');
  }
  return item.path;
}

function inputFolderOf(manifest: Manifest): string {
  return typeof manifest.input.path === 'string' ? manifest.input.path : '';
}

function sumBytes(items: readonly ManifestItem[], members: readonly number[]): { bytes: number; known: boolean } {
  let bytes = 0;
  let known = members.length > 0;
  for (const member of members) {
    const size = items[member].bytes;
    if (typeof size === 'number') bytes += size;
    else known = false;
  }
  return { bytes, known };
}

/** The picture items to embed: the first groups' shown members, largest groups first, up to `budget`; singles only when everything fits. */
export function imagePicturesToEmbed(plan: ImageRunPlan, maxMembersShown: number, budget: number): { items: number[]; singlesPictured: boolean } {
  const shownMembers = plan.groups.flatMap((group) => group.members.slice(0, maxMembersShown));
  const singlesPictured = shownMembers.length + plan.singles.length <= budget;
  const items = shownMembers.slice(0, budget);
  if (singlesPictured) items.push(...plan.singles);
  return { items, singlesPictured };
}

/**
 * Thumbnails of pictures that could not be read where the manifest's `path` says, read at their
 * `movedTo` instead (a duplicate moved before the report was written).
 */
export async function imagePictureToEmbedFallbacks(manifest: Manifest, outputDirectory: string, missing: readonly number[], size: number): Promise<Map<number, string>> {
  const moved = missing.filter((index) => typeof manifest.items[index].movedTo === 'string');
  const found = new Map<number, string>();
  if (moved.length === 0) return found;
  const atNewPlace = new Thumbnails({ ...manifest, items: manifest.items.map((item) => (item.movedTo === undefined ? item : { ...item, path: item.movedTo })) }, outputDirectory);
  const urls = await atNewPlace.manyDataUrls(moved, size);
  moved.forEach((index, position) => {
    const url = urls[position];
    if (url !== undefined) found.set(index, url);
  });
  return found;
}

/** The facts under the title: counts, and what can be reclaimed. */
export function imageRunFacts(manifest: Manifest, plan: ImageRunPlan): string[] {
  const reclaim = sumBytes(manifest.items, plan.duplicates);
  const decisions = manifest.decisions;
  return [
    plural(manifest.items.length, 'picture'),
    plural(plan.groups.length, 'duplicate group'),
    plural(plan.duplicates.length, 'duplicate'),
    plural(plan.singles.length, 'picture', 'pictures') + ' without a duplicate',
    ...(reclaim.known ? [`${formatBytes(reclaim.bytes)} ${decisions?.moved && !decisions.dryRun ? 'moved' : 'reclaimable'}`] : []),
    ...(manifest.skipped.length > 0 ? [`${plural(manifest.skipped.length, 'file')} skipped`] : []),
  ];
}

/** report.html's body for an image run: the decision list, the groups, the singles, the skipped files. */
export function renderImageRun(context: ReportContext, plan: ImageRunPlan, singlesPictured: boolean, budget: number): string {
  return [renderDecisions(context, plan), renderGroups(context, plan, budget), renderSingles(context, plan, singlesPictured), renderSkipped(context.manifest)].join('\n');
}

function renderDecisions(context: ReportContext, plan: ImageRunPlan): string {
  const { manifest } = context;
  const decisions = manifest.decisions;
  const items = manifest.items;
  const reclaim = sumBytes(items, plan.duplicates);
  const amount = `${plural(plan.duplicates.length, 'duplicate')}${reclaim.known ? ` (${formatBytes(reclaim.bytes)})` : ''}`;
  const moves = plan.duplicates.filter((member) => typeof items[member].movedTo === 'string');
  let sentence: string;
  let lines: string[];
  if (plan.duplicates.length === 0) {
    sentence = 'No duplicates: every picture is unique at these settings, so there is nothing to move or delete.';
    lines = [];
  } else if (decisions?.moveTo !== undefined && moves.length > 0 && !decisions.dryRun) {
    sentence = `Moved ${amount} to ${escapeHtml(decisions.moveTo)}. The commands below put them back where they were.`;
    lines = [`# Puts the ${formatCount(moves.length)} moved duplicates back where they were.`, ...moveCommands(moves.map((member) => [items[member].movedTo as string, items[member].path ?? ''] as const))];
  } else if (decisions?.moveTo !== undefined && moves.length > 0) {
    sentence = `Dry run: ${amount} would be moved to ${escapeHtml(decisions.moveTo)}; nothing was moved. The commands below make those moves.`;
    lines = [`# The ${formatCount(moves.length)} moves --dry-run listed; nothing has been moved yet.`, ...moveCommands(moves.map((member) => [items[member].path ?? '', items[member].movedTo as string] as const))];
  } else {
    sentence = `${amount}: every picture of a group but the kept one. Nothing was moved or deleted. Check the groups below, then copy the list (or run again with --move-duplicates DIR).`;
    lines = [`# ${plural(plan.duplicates.length, 'duplicate')}; the kept picture of each group is not listed.`, ...plan.duplicates.map((member) => `rm -- ${shellQuote(items[member].path ?? '')}`)];
  }
  const links = decisions ? [decisions.csv, decisions.json].filter((file) => file).map((file) => `<a href="${escapeHtml(relativeHref(file))}">${escapeHtml(file)}</a>`) : [];
  return `<section id="decisions">
<h2>Decisions</h2>
<p>${sentence}</p>
${
  lines.length === 0
    ? ''
    : `<div class="copy-block"><textarea id="decision-list" readonly spellcheck="false" wrap="off" rows="${Math.min(10, lines.length + 1)}" aria-label="Commands for a POSIX shell">${escapeHtml(lines.join('\n'))}\n</textarea>
<div><button type="button" data-copy="decision-list">Copy</button> <span class="muted" id="decision-list-status">${plural(lines.length - 1, 'command')} for a POSIX shell (sh, bash, zsh), paths single-quoted</span></div></div>`
}
${links.length > 0 ? `<p class="muted">Every picture's decision, for other tools: ${links.join(' · ')}</p>` : ''}
</section>`;
}

/** `mv -n` (never overwrite) for each pair, each destination folder made (`mkdir -p`) just before the first move into it. */
function moveCommands(pairs: ReadonlyArray<readonly [from: string, to: string]>): string[] {
  const made = new Set<string>();
  const lines: string[] = [];
  for (const [from, to] of pairs) {
    const folder = dirname(to);
    if (folder !== '.' && !made.has(folder)) {
      made.add(folder);
      lines.push(`mkdir -p -- ${shellQuote(folder)}`);
    }
    lines.push(`mv -n -- ${shellQuote(from)} ${shellQuote(to)}`);
  }
  return lines;
}

function renderGroups(context: ReportContext, plan: ImageRunPlan, budget: number): string {
  const { manifest } = context;
  if (plan.groups.length === 0) return '';
  const inputFolder = inputFolderOf(manifest);
  const shownMembers = plan.groups.reduce((total, group) => total + Math.min(group.members.length, context.maxMembersShown), 0);
  const limits = [
    shownMembers > budget
      ? `Thumbnails are embedded for the first ${formatCount(budget)} pictures, to keep this page fast; the others are loaded from their files as you scroll (so those show only while the files are where they were).`
      : '',
    plan.groups.some((group) => group.members.length > context.maxMembersShown) ? `A group shows its first ${formatCount(context.maxMembersShown)} pictures; the move list and the decision files have them all.` : '',
  ].filter(Boolean);
  const rows = plan.groups.map((group) => {
    const shown = group.members.slice(0, context.maxMembersShown);
    const more = group.members.length - shown.length;
    const duplicates = duplicatesOf(group);
    const reclaim = sumBytes(manifest.items, duplicates);
    const facts = [
      ...(group.keptElsewhere === undefined ? [plural(group.members.length, 'picture')] : [`duplicates of ${escapeHtml(group.keptElsewhere)}, an earlier run's picture, which is kept`]),
      plural(duplicates.length, 'duplicate'),
      ...(reclaim.known ? [`${formatBytes(reclaim.bytes)} reclaimable`] : []),
    ];
    return `<div class="group" id="group-${group.number}" data-size="${group.members.length}" data-cluster="${group.id}">
<h3>Group ${formatCount(group.number)} <span class="muted">· ${facts.join(' · ')}</span></h3>
<div class="cards">${shown.map((member, position) => renderCard(context, member, position === 0 && group.keptElsewhere === undefined, inputFolder)).join('')}</div>${
      more > 0 ? `\n<p class="muted">and ${plural(more, 'more picture')} (in the move list and manifest.json)</p>` : ''
    }
</div>`;
  });
  const farNote = context.farDistance === undefined ? '' : ` A distance in red is ¾ of the grouping threshold or more (from ${formatDistance(context.farDistance)}): those duplicates are the most worth a look.`;
  const moveTo = manifest.decisions?.moveTo;
  const moveNote = moveTo === undefined ? '' : ` A duplicate marked ${manifest.decisions?.dryRun ? '“would move”' : '“moved”'} goes to the same relative path in ${escapeHtml(moveTo)} unless its card says where.`;
  return `<section id="groups">
<h2>Duplicate groups <span class="muted">· ${formatCount(plan.groups.length)}, largest first</span></h2>
<p class="muted">The kept picture comes first, framed in orange; the others follow by their distance to it, closest first.${farNote}${manifest.decisions ? ` Groups are numbered as in ${escapeHtml(manifest.decisions.csv)}.` : ''}${moveNote} ${limits.join(' ')}</p>${verificationSentence(manifest)}
<div class="filter"><input type="search" id="filter" placeholder="Filter by path" aria-label="Filter groups and pictures by path"> <span class="muted" id="filter-count"></span></div>
${chunked(plan, rows)}
</section>`;
}

/** Near mode: how the candidate pairs were decided, which says how much the feature check did. */
function verificationSentence(manifest: Manifest): string {
  const verification = manifest.decisions?.verification;
  if (!verification) return '';
  const parts = [
    `${plural(verification.acceptedByDistance, 'pair')} joined by distance alone`,
    `${formatCount(verification.verified)} confirmed and ${formatCount(verification.rejected)} rejected by matching local features`,
    ...(verification.unverified > 0 ? [`${formatCount(verification.unverified)} left apart unchecked`] : []),
  ];
  return `\n<p class="muted">Of ${plural(verification.candidatePairs, 'candidate pair')}: ${parts.join(', ')}.</p>`;
}

/** Groups per collapsible block: the first block is open, the others wait for a click (or the filter, or a link into them). */
export const GROUPS_PER_BLOCK = 100;

/**
 * Runs of more than {@link GROUPS_PER_BLOCK} groups come in blocks, each a <details> named by
 * its ranks and group sizes, so a page of 1,500 groups opens at the height of one block and shows
 * at a glance how far the large groups go. The closed blocks hold their groups in a <template>,
 * which the browser parses without building, styling or loading anything from it: the page's
 * script puts a block's groups in place when it opens (a click, the filter, a link into it).
 * Building 1,400 groups nobody has opened yet was a third of the load time at 10,000 pictures.
 */
function chunked(plan: ImageRunPlan, rows: readonly string[]): string {
  if (rows.length <= GROUPS_PER_BLOCK) return rows.join('\n');
  const blocks: string[] = [];
  for (let start = 0; start < rows.length; start += GROUPS_PER_BLOCK) {
    const end = Math.min(rows.length, start + GROUPS_PER_BLOCK);
    const largest = plan.groups[start].members.length;
    const smallest = plan.groups[end - 1].members.length;
    const sizes = largest === smallest ? `${largest} pictures each` : `${largest} to ${smallest} pictures each`;
    const groups = rows.slice(start, end).join('\n');
    blocks.push(`<details class="block"${start === 0 ? ' open' : ''}>
<summary><h3>Groups ${formatCount(start + 1)} to ${formatCount(end)} of ${formatCount(rows.length)} <span class="muted">· ${sizes}</span></h3></summary>
${start === 0 ? groups : `<template>${groups}</template>`}
</details>`);
  }
  return blocks.join('\n');
}

function renderCard(context: ReportContext, index: number, kept: boolean, inputFolder: string): string {
  const { manifest } = context;
  const item = manifest.items[index];
  const path = displayPathOf(item, inputFolder);
  const decisions = manifest.decisions;
  const moved = item.movedTo !== undefined && decisions !== undefined && decisions.dryRun !== true;
  // Where the file is now: a picture moved away is found (and opened) at its new place.
  const location = moved ? item.movedTo : item.path ?? undefined;
  const embedded = context.pictureOf.get(index);
  // A picture whose thumbnail could not be made (a file gone or unreadable) would only show a broken image.
  const source = embedded ?? (location !== undefined && !context.tried.has(index) ? fileUrl(location) : undefined);
  // The caption names the picture; the short alt only stands in for the picture itself.
  const alt = escapeHtml(path.slice(path.lastIndexOf('/') + 1));
  const picture = source ? `<img src="${escapeHtml(source)}" alt="${alt}"${embedded ? '' : ' loading="lazy"'}>` : '<span class="placeholder">no picture</span>';
  // Non-breaking spaces keep each fact ("4.27 MB") on one line; lines break between facts.
  const together = (fact: string) => escapeHtml(fact).replace(/ /g, '&nbsp;');
  const distance = kept || typeof item.distance !== 'number' ? undefined : together(`distance ${formatDistance(item.distance)}`);
  const far = distance !== undefined && context.farDistance !== undefined && (item.distance as number) >= context.farDistance;
  const facts = [
    item.width !== undefined && item.height !== undefined ? together(`${item.width}×${item.height}`) : undefined,
    item.bytes !== undefined ? together(formatBytes(item.bytes)) : undefined,
    far ? `<span class="far" title="near the grouping threshold: the pictures most worth a look">${distance}</span>` : distance,
  ].filter((fact): fact is string => fact !== undefined);
  const link = location !== undefined ? fileUrl(location) : undefined;
  return `<figure class="card${kept ? ' kept' : ''}">${link ? `<a href="${escapeHtml(link)}">${picture}</a>` : picture}<figcaption>${
    kept ? '<span class="badge">kept</span> ' : ''
  }<span class="path">${wrappedPath(path)}</span>${facts.length > 0 ? `<span class="facts">${facts.join(' · ')}</span>` : ''}${kept ? '' : actionOf(item, moved, path, decisions?.moveTo)}</figcaption></figure>`;
}

/** "moved" / "would move", with the destination only where it is not the usual one (the same relative path in the move folder). */
function actionOf(item: ManifestItem, moved: boolean, path: string, moveTo: string | undefined): string {
  if (item.movedTo === undefined) return '';
  const verb = moved ? 'moved' : 'would move';
  const usual = moveTo !== undefined && item.movedTo.replace(/\\/g, '/') === `${moveTo.replace(/\\/g, '/').replace(/\/$/, '')}/${path}`;
  return `<span class="action">${usual ? verb : `${verb} to <span class="path">${wrappedPath(item.movedTo)}</span>`}</span>`;
}

function renderSingles(context: ReportContext, plan: ImageRunPlan, pictured: boolean): string {
  const { manifest } = context;
  if (plan.singles.length === 0) return '';
  const inputFolder = inputFolderOf(manifest);
  const leftOut = plan.singles.filter((member) => manifest.items[member].cluster < 0).length;
  const body = pictured
    ? `<div class="cards">${plan.singles.map((member) => renderCard(context, member, false, inputFolder)).join('')}</div>`
    : `<ol class="singles">${plan.singles
        .map((member) => {
          const item = manifest.items[member];
          const facts = [item.width !== undefined && item.height !== undefined ? `${item.width}×${item.height}` : '', item.bytes !== undefined ? formatBytes(item.bytes) : ''].filter(Boolean);
          return `<li><span class="path">${wrappedPath(displayPathOf(item, inputFolder))}</span>${facts.length > 0 ? ` <span class="muted">${facts.join(' · ')}</span>` : ''}</li>`;
        })
        .join('')}</ol>`;
  return `<section id="singles-section">
<details id="singles">
<summary><h2>${plural(plan.singles.length, 'picture')} without a duplicate</h2></summary>
<p class="muted">Kept as they are.${leftOut > 0 ? ` ${plural(leftOut, 'of them was', 'of them were')} left out of the output folder by --noise drop.` : ''}${pictured ? '' : ' Listed without thumbnails, to keep this page fast.'}</p>
${body}
</details>
</section>`;
}

function renderSkipped(manifest: Manifest): string {
  if (manifest.skipped.length === 0) return '';
  return `<section id="skipped">
<details>
<summary><h2>${plural(manifest.skipped.length, 'file')} could not be read</h2></summary>
<ul>${manifest.skipped.map((entry) => `<li><span class="path">${wrappedPath(entry.path)}</span> <span class="muted">${escapeHtml(entry.reason)}</span></li>`).join('')}</ul>
</details>
</section>`;
}

/** The plot's points for an image run: kept, duplicate or unique, numbered as on the page, each jumping to its group. */
export function imagePoints(manifest: Manifest, plan: ImageRunPlan): ReportPoint[] {
  const inputFolder = inputFolderOf(manifest);
  const kept = new Set(plan.groups.filter((group) => group.keptElsewhere === undefined).map((group) => group.members[0]));
  const numberOf = new Map<number, number>();
  for (const group of plan.groups) for (const member of group.members) numberOf.set(member, group.number);
  // The decision files number each picture without a duplicate as a group of its own, after the groups.
  plan.singles.forEach((member, position) => numberOf.set(member, plan.groups.length + position + 1));
  const grouped = new Set(plan.groups.map((group) => group.id));
  return manifest.items.map((item, index) => {
    const single = !grouped.has(item.cluster);
    return {
      item: index,
      group: numberOf.get(index) ?? 0,
      role: kept.has(index) ? 'kept' : single ? 'unique' : 'duplicate',
      file: item.path === null ? '(no file)' : displayPathOf(item, inputFolder) || basename(item.path),
      target: single ? 'singles' : `group-${numberOf.get(index)}`,
      ...(typeof item.distance === 'number' && !kept.has(index) && !single ? { distance: Number(item.distance.toPrecision(4)) } : {}),
    };
  });
}
