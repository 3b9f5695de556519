/**
 * The fixed parts of report.html: its style sheet and the script that draws the plot. Kept as
 * TypeScript strings (not .css/.js files) so the compiled package carries them without a copy step.
 */

export const REPORT_STYLE = `
:root { --accent: #ff9800; --ink: #1d1d1f; --muted: #6e6e73; --line: #d2d2d7; --panel: #f5f5f7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: white; }
header, section, footer { padding: 16px 24px; }
header { border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 18px; margin: 8px 0 12px; }
h3 { font-size: 15px; margin: 0 0 8px; }
nav a { margin-right: 16px; }
a { color: #0066cc; }
.muted { color: var(--muted); }
.timeline-wrap { padding: 0 40px; }
.timeline { display: flex; height: 28px; border-radius: 4px; overflow: hidden; border: 1px solid var(--line); }
.timeline a { display: block; min-width: 2px; border-right: 1px solid white; text-decoration: none; color: white; font-size: 11px; padding: 6px 4px; overflow: hidden; white-space: nowrap; }
.timeline a:nth-child(odd) { background: #4e79a7; }
.timeline a:nth-child(even) { background: #76b7b2; }
.timeline-keyframes { position: relative; height: 78px; margin-top: 6px; }
.timeline-keyframes a { position: absolute; top: 0; transform: translateX(-50%); }
.timeline-keyframes img { height: 64px; width: auto; border: 2px solid var(--accent); border-radius: 3px; background: var(--panel); }
.scene { display: grid; grid-template-columns: 220px 1fr; gap: 12px; padding: 10px 0; border-top: 1px solid var(--line); }
.scene:target, .cluster:target { background: #fff4e0; }
.items { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
figure.item { margin: 0; width: 172px; padding: 4px; border: 2px solid transparent; border-radius: 6px; background: var(--panel); }
figure.item img, figure.item .placeholder { display: block; max-width: 160px; max-height: 160px; margin: 0 auto; }
figure.item .placeholder { width: 160px; height: 90px; background: #ccc; color: #555; font-size: 12px; display: flex; align-items: center; justify-content: center; }
figure.item figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; word-break: break-all; }
figure.representative { border-color: var(--accent); }
.badge { display: inline-block; background: var(--accent); color: black; font-size: 11px; font-weight: 600; border-radius: 3px; padding: 0 5px; margin-right: 4px; }
.cluster { padding: 10px 0; border-top: 1px solid var(--line); }
#plot-view { min-height: 200px; overflow-x: auto; }
#plot-view.failed { color: #b00020; }
footer ul { columns: 3 240px; padding-left: 18px; }
`;

/**
 * Draws the compiled vega spec (from the JSON script element `plot-spec`) into `plot-view` with
 * vega's SVG renderer and its built-in tooltips (the point's details as a title), and jumps to the
 * point's cluster on a click. Marks the container `data-rendered` when done, for checks.
 */
export const REPORT_SCRIPT = `
(function () {
  var container = document.getElementById('plot-view');
  var source = document.getElementById('plot-spec');
  if (!container || !source) return;
  try {
    var spec = JSON.parse(source.textContent);
    var view = new vega.View(vega.parse(spec), { renderer: 'svg', container: container, hover: true });
    view.addEventListener('click', function (event, item) {
      if (item && item.datum && typeof item.datum.cluster === 'number') location.hash = 'cluster-' + item.datum.cluster;
    });
    view.runAsync().then(function () {
      container.setAttribute('data-rendered', 'true');
    }, function (error) {
      container.className = 'failed';
      container.textContent = 'The plot could not be drawn: ' + error;
    });
  } catch (error) {
    container.className = 'failed';
    container.textContent = 'The plot could not be drawn: ' + error;
  }
})();
`;
