import type { TopLevelSpec } from 'vega-lite';
import type { Projection } from '../plots.js';

/** One point of the report's plot; the fields double as its tooltip. */
export interface ReportPoint {
  readonly item: number;
  /** The cluster (group) id: points of one group light up together on hover. */
  readonly group: number;
  /** kept / duplicate / unique (images), keyframe / candidate (video). */
  readonly role: string;
  /** What tells the point apart for a person: the relative path, or the keyframe's file. */
  readonly file: string;
  /** The page anchor a click on the point jumps to (without `#`). */
  readonly target: string;
  readonly distance?: number;
  readonly frame?: number;
  readonly time?: string;
  readonly scene?: number;
}

export interface ReportScatterOptions {
  /** Title of the group field in tooltips and legend: "group" (images) or "cluster" (video). */
  readonly groupTitle: string;
  /** The role drawn large, as a diamond: "kept" or "keyframe". */
  readonly leadRole: string;
  /** Roles in legend order, with their colour when the plot is coloured by role. */
  readonly roles: ReadonlyArray<readonly [role: string, colour: string]>;
  /**
   * Groups coloured one by one (at most 9, tableau10's first nine; the rest share grey). Empty:
   * colour says the role only. Ten distinguishable colours is the most a legend can offer, so
   * larger runs tell their groups apart by hover (the group lights up) and tooltips instead.
   */
  readonly colouredGroups: readonly number[];
  /** The legend's name for the points of the other groups, when groups are coloured: "unique" (images). */
  readonly otherLabel?: string;
  readonly title: string;
}

const TABLEAU10 = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'];
const OTHER_COLOUR = '#bab0ac';
/** Above this many points the page draws on a canvas: an SVG of 10,000 paths takes seconds to lay out. */
export const SVG_MAX_POINTS = 2000;

/**
 * The vega-lite spec of report.html's scatter plot. Unlike the plot files (plots.ts), whose colour
 * is the cluster, here colour carries what a reader can use at any size: one colour per group
 * only when there are few groups, else the role (kept or duplicate, keyframe or candidate).
 * Hovering a point lights up its whole group and fades the rest, which tells any number of groups
 * apart; the tooltip names the group and the file.
 */
export function buildReportScatterSpec(points: readonly ReportPoint[], projection: Projection, options: ReportScatterOptions): TopLevelSpec {
  const colouredGroups = new Set(options.colouredGroups);
  const byGroup = colouredGroups.size > 0;
  const otherLabel = options.otherLabel ?? 'other';
  const hasOther = byGroup && points.some((point) => !colouredGroups.has(point.group));
  // Only what the plot and its tooltips read: at 10,000 points every field costs 100 KB or more.
  const values = points.map(({ item, ...point }) => ({
    ...point,
    x: roundCoordinate(projection.coordinates[item * 2]),
    y: roundCoordinate(projection.coordinates[item * 2 + 1]),
    ...(byGroup ? { colour: colouredGroups.has(point.group) ? `${options.groupTitle} ${point.group}` : otherLabel } : {}),
  }));
  const colourDomain = byGroup ? [...options.colouredGroups.map((group) => `${options.groupTitle} ${group}`), ...(hasOther ? [otherLabel] : [])] : options.roles.map(([role]) => role);
  const colourRange = byGroup ? [...options.colouredGroups.map((_, index) => TABLEAU10[index % TABLEAU10.length]), ...(hasOther ? [OTHER_COLOUR] : [])] : options.roles.map(([, colour]) => colour);
  const tooltip: Array<{ field: string; type: 'nominal' | 'quantitative'; title: string }> = [
    { field: 'file', type: 'nominal', title: 'file' },
    { field: 'group', type: 'nominal', title: options.groupTitle },
    { field: 'role', type: 'nominal', title: 'role' },
  ];
  if (points.some((point) => point.distance !== undefined)) tooltip.push({ field: 'distance', type: 'quantitative', title: 'distance' });
  if (points.some((point) => point.frame !== undefined)) {
    tooltip.push({ field: 'frame', type: 'quantitative', title: 'frame' }, { field: 'time', type: 'nominal', title: 'time' }, { field: 'scene', type: 'quantitative', title: 'scene' });
  }
  const lead = `datum.role === ${JSON.stringify(options.leadRole)}`;
  const many = points.length > 1000;
  const padding = 16;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title, subtitle: projection.description, anchor: 'start' },
    width: 720,
    height: 480,
    background: 'white',
    data: { values: values as unknown as Record<string, unknown>[] },
    transform: [{ calculate: `${lead} ? 1 : 0`, as: 'lead' }],
    params: [{ name: 'hover', select: { type: 'point', fields: ['group'], on: 'mouseover', clear: 'mouseout' } }],
    mark: { type: 'point', filled: true, stroke: 'black', cursor: 'pointer' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: projection.axisTitles[0], scale: { zero: false, nice: false, padding } },
      y: { field: 'y', type: 'quantitative', title: projection.axisTitles[1], scale: { zero: false, nice: false, padding } },
      color: { field: byGroup ? 'colour' : 'role', type: 'nominal', title: byGroup ? options.groupTitle : 'role', scale: { domain: colourDomain, range: colourRange } },
      shape: { condition: { test: lead, value: 'diamond' }, value: 'circle' },
      size: { condition: { test: lead, value: many ? 70 : 160 }, value: many ? 18 : 50 },
      strokeWidth: { condition: { test: lead, value: many ? 0.5 : 1.5 }, value: 0 },
      opacity: { condition: { param: 'hover', empty: true, value: 0.85 }, value: 0.08 },
      // The lead role last, so kept pictures and keyframes are drawn above the points around them.
      order: { field: 'lead', type: 'quantitative' },
      tooltip,
    },
  } as unknown as TopLevelSpec;
}

function roundCoordinate(value: number): number {
  // Six significant digits keep the page small and stable across platforms' last-bit differences.
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : 0;
}
