/**
 * The fixed parts of report.html: its style sheet and its script. Kept as TypeScript strings
 * (not .css/.js files) so the compiled package carries them without a copy step.
 */

export const REPORT_STYLE = `
:root { --accent: #e67e00; --ink: #1d1d1f; --muted: #6e6e73; --line: #d2d2d7; --panel: #f5f5f7; --blue: #4e79a7; --teal: #76b7b2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: white; }
header, section, footer { padding: 12px 24px; }
header { border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 2px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 6px 0 10px; display: inline-block; }
h3 { font-size: 15px; margin: 0 0 6px; }
summary h2 { margin: 4px 0; }
summary { cursor: pointer; }
nav { margin-top: 8px; }
nav a { margin-right: 16px; }
a { color: #0066cc; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
.facts-line { margin: 6px 0; font-size: 15px; }
.facts-line > span { white-space: nowrap; }
.settings { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; }
.setting { white-space: nowrap; }
.all-settings { font-size: 12px; margin-top: 4px; }
.all-settings table { border-collapse: collapse; margin-top: 4px; }
.all-settings th, .all-settings td { text-align: left; padding: 1px 10px 1px 0; vertical-align: top; }
.all-settings th { font-weight: 500; color: var(--muted); }
.path { overflow-wrap: anywhere; }
.badge { display: inline-block; background: var(--accent); color: black; font-size: 11px; font-weight: 600; border-radius: 3px; padding: 0 5px; margin-right: 2px; }
.placeholder { display: flex; align-items: center; justify-content: center; background: #ddd; color: #555; font-size: 11px; text-align: center; }
/* Image runs */
.copy-block textarea { width: 100%; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; white-space: pre; border: 1px solid var(--line); border-radius: 4px; padding: 6px; background: var(--panel); }
.copy-block button { font: inherit; padding: 3px 14px; margin: 4px 0; cursor: pointer; }
.filter { margin: 8px 0; }
.filter input { font: inherit; width: min(420px, 100%); padding: 4px 8px; }
details.block > summary { padding: 8px 0; border-top: 2px solid var(--line); }
details.block > summary h3 { display: inline; }
.group { padding: 10px 0; border-top: 1px solid var(--line); content-visibility: auto; contain-intrinsic-size: auto 250px; }
.group:target { background: #fff4e0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
figure.card { margin: 0; width: 184px; padding: 5px; border: 2px solid transparent; border-radius: 6px; background: var(--panel); }
figure.card.kept { border-color: var(--accent); }
figure.card img, figure.card .placeholder { display: block; width: 170px; height: 128px; object-fit: contain; margin: 0 auto; background: #e8e8ed; }
figure.card figcaption { font-size: 12px; margin-top: 4px; line-height: 1.35; }
figure.card .facts { display: block; color: var(--muted); }
figure.card .action { display: block; color: #8a4b00; }
figure.card .far { color: #b00020; font-weight: 600; }
ol.singles { font-size: 13px; columns: 2 420px; column-gap: 32px; }
ol.singles li { break-inside: avoid; }
/* Video runs */
.tl-axis { position: relative; padding: 0 2px 0; margin: 4px 8px 0; }
.tl-track { position: relative; height: 26px; background: #eee; border-radius: 3px; overflow: hidden; }
.tl-segment { position: absolute; top: 0; bottom: 0; background: var(--blue); border-right: 1px solid white; color: white; font-size: 11px; line-height: 26px; text-align: center; text-decoration: none; overflow: hidden; white-space: nowrap; }
.tl-segment.odd { background: var(--teal); }
.tl-segment.empty { background: repeating-linear-gradient(135deg, #c9c9cf 0 4px, #e3e3e8 4px 8px); color: #555; }
.tl-transition { position: absolute; top: 0; bottom: 0; background: repeating-linear-gradient(45deg, rgba(0,0,0,0.55) 0 2px, rgba(255,255,255,0.2) 2px 5px); pointer-events: auto; }
.tl-marks { position: relative; height: 14px; }
.tl-mark { position: absolute; top: 2px; transform: translateX(-50%); }
.tl-mark.keyframe { width: 0; height: 0; border-left: 5px solid transparent; border-right: 5px solid transparent; border-bottom: 9px solid var(--accent); }
.tl-mark.dropped { width: 6px; height: 6px; top: 4px; border-radius: 50%; background: #888; }
.tl-ticks { position: relative; height: 18px; border-top: 1px solid #999; font-size: 11px; color: var(--muted); font-variant-numeric: tabular-nums; }
.tl-tick { position: absolute; top: 0; transform: translateX(-50%); padding-top: 2px; white-space: nowrap; }
.tl-tick::before { content: ""; position: absolute; left: 50%; top: -1px; height: 5px; border-left: 1px solid #999; }
.tl-tick:first-child { transform: none; }
.tl-tick:first-child::before { left: 0; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; margin: 6px 8px 0; }
.swatch { display: inline-block; width: 14px; height: 10px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
.segment-swatch { background: var(--blue); }
.empty-swatch { background: repeating-linear-gradient(135deg, #c9c9cf 0 3px, #e3e3e8 3px 6px); }
.transition-swatch { background: repeating-linear-gradient(45deg, rgba(0,0,0,0.55) 0 2px, #ddd 2px 5px); }
.keyframe-swatch { background: var(--accent); width: 8px; }
.dropped-swatch { background: #888; width: 8px; border-radius: 50%; }
.scene-table { border-collapse: collapse; width: 100%; font-size: 13px; }
.scene-table th { position: sticky; top: 0; background: white; text-align: left; font-weight: 600; border-bottom: 2px solid var(--line); padding: 4px 8px; z-index: 1; }
.scene-table td { border-bottom: 1px solid var(--line); padding: 3px 8px; vertical-align: middle; }
.scene-table td.number { text-align: right; font-weight: 600; }
.scene-table td.transitions { white-space: nowrap; }
.scene-table td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.scene-table tr:target { background: #fff4e0; }
.scene-table tr.no-keyframe td { background: #fafafa; }
.scene-table .why { color: #8a4b00; }
.thumbs { white-space: nowrap; }
.thumbs a { display: inline-block; }
.thumbs img, .thumbs .placeholder { display: inline-block; height: 40px; width: auto; max-width: 96px; margin-right: 4px; border: 2px solid var(--accent); border-radius: 2px; vertical-align: middle; transition: transform 0.1s; transform-origin: left center; }
.thumbs .placeholder { width: 80px; padding: 0 2px; }
.thumbs img:hover { transform: scale(3.2); position: relative; z-index: 2; box-shadow: 0 2px 10px rgba(0,0,0,0.35); }
.cluster { padding: 8px 0; border-top: 1px solid var(--line); }
.cluster:target { background: #fff4e0; }
.members { display: flex; flex-wrap: wrap; gap: 8px; }
.members figure { margin: 0; padding: 3px; border: 2px solid transparent; border-radius: 4px; background: var(--panel); font-size: 11px; }
.members figure.representative { border-color: var(--accent); }
.members img, .members .placeholder { display: block; height: 64px; width: auto; max-width: 114px; }
.members .placeholder { width: 100px; }
.members figcaption span { white-space: nowrap; }
/* Both */
#plot-view { min-height: 200px; overflow-x: auto; }
#plot-view.failed { color: #b00020; }
footer ul { columns: 3 240px; padding-left: 18px; }
`;

/**
 * The page's behaviour, all optional (the page reads without a script):
 * - a Copy button copies its text block (`data-copy` names the textarea);
 * - the filter box hides the groups and single pictures whose paths do not contain its text;
 * - a link or hash into a closed <details> opens it;
 * - a block of groups builds its groups (kept in a <template>) when it opens;
 * - the plot is drawn when it comes near the viewport (vega's browser build, kept as inert text
 *   until then, so that a page of 10,000 pictures loads without compiling half a megabyte of
 *   script), with vega's SVG renderer or, for many points, its canvas one; hover lights up a
 *   group, a click jumps to the point's group or scene. Marks `#plot-view` `data-rendered` when
 *   drawn, for checks.
 */
export const REPORT_SCRIPT = `
(function () {
  // A closed block of groups keeps them in a <template> until it opens.
  function unpack(block) {
    var template = block.querySelector(':scope > template');
    if (template) template.replaceWith(template.content);
  }
  function unpackAll() {
    var blocks = document.querySelectorAll('details.block');
    for (var i = 0; i < blocks.length; i++) unpack(blocks[i]);
  }
  document.addEventListener('toggle', function (event) {
    if (event.target.classList && event.target.classList.contains('block') && event.target.open) unpack(event.target);
  }, true);

  function openTarget() {
    var id;
    // A hand-typed hash such as #% is no id of ours, and must not stop the rest of the page's script.
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (error) { return; }
    if (!id) return;
    if (!document.getElementById(id)) {
      var templates = document.querySelectorAll('details.block > template');
      for (var i = 0; i < templates.length; i++) {
        if (templates[i].content.getElementById(id)) { unpack(templates[i].parentElement); break; }
      }
    }
    var target = document.getElementById(id);
    if (!target) return;
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === 'DETAILS' && !node.open) node.open = true;
    }
    reveal(target);
  }
  // Groups off screen are laid out at an estimated height (content-visibility) and take their real
  // one once near the viewport, which moves what was just scrolled to: scroll again once they have.
  function reveal(target) {
    target.scrollIntoView();
    requestAnimationFrame(function () { requestAnimationFrame(function () { target.scrollIntoView(); }); });
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-copy]');
    if (!button) return;
    var area = document.getElementById(button.getAttribute('data-copy'));
    var status = document.getElementById(button.getAttribute('data-copy') + '-status');
    function done(message) { if (status) status.textContent = message; }
    function fallback() {
      area.focus();
      area.select();
      try { done(document.execCommand('copy') ? 'Copied.' : 'Selected: press Ctrl+C (Cmd+C) to copy.'); }
      catch (error) { done('Selected: press Ctrl+C (Cmd+C) to copy.'); }
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(area.value).then(function () { done('Copied.'); }, fallback);
    } else fallback();
  });

  var filter = document.getElementById('filter');
  if (filter) {
    var entries = null;
    var pending = false;
    function index() {
      unpackAll();
      entries = [];
      var groups = document.querySelectorAll('.group, #singles li, #singles figure.card');
      for (var i = 0; i < groups.length; i++) {
        var paths = groups[i].querySelectorAll('.path');
        var text = '';
        for (var j = 0; j < paths.length; j++) text += paths[j].textContent.toLowerCase() + '\\n';
        entries.push({ element: groups[i], text: text });
      }
    }
    function apply() {
      pending = false;
      if (!entries) index();
      var query = filter.value.trim().toLowerCase();
      var shown = 0;
      for (var i = 0; i < entries.length; i++) {
        var match = !query || entries[i].text.indexOf(query) >= 0;
        entries[i].element.hidden = !match;
        if (match) shown++;
      }
      document.getElementById('filter-count').textContent = query ? shown + ' of ' + entries.length + ' groups and single pictures match' : '';
      // Blocks of groups and the singles open where something matches and hide where nothing does.
      var holders = document.querySelectorAll('details.block, #singles-section');
      for (var k = 0; k < holders.length; k++) {
        var any = !query || holders[k].querySelector('.group:not([hidden]), li:not([hidden]), figure.card:not([hidden])') !== null;
        holders[k].hidden = !any;
        var details = holders[k].tagName === 'DETAILS' ? holders[k] : holders[k].querySelector('details');
        if (query && any && details) details.open = true;
      }
    }
    filter.addEventListener('input', function () {
      if (!pending) { pending = true; requestAnimationFrame(apply); }
    });
  }

  var container = document.getElementById('plot-view');
  var source = document.getElementById('plot-spec');
  if (!container || !source) return;
  function fail(error) {
    container.className = 'failed';
    container.textContent = 'The plot could not be drawn: ' + error;
  }
  var drawn = false;
  function draw() {
    if (drawn) return;
    drawn = true;
    try {
      if (typeof vega === 'undefined') {
        var library = document.getElementById('vega-library');
        var script = document.createElement('script');
        script.textContent = library.textContent;
        document.head.appendChild(script);
      }
      var spec = JSON.parse(source.textContent);
      var view = new vega.View(vega.parse(spec), { renderer: container.getAttribute('data-renderer') || 'svg', container: container, hover: true });
      view.addEventListener('click', function (event, item) {
        if (!item || !item.datum || !item.datum.target) return;
        // The same hash again fires no hashchange: go there anyway.
        if (location.hash === '#' + item.datum.target) openTarget();
        else location.hash = item.datum.target;
      });
      view.runAsync().then(function () { container.setAttribute('data-rendered', 'true'); }, fail);
    } catch (error) {
      fail(error);
    }
  }
  if ('IntersectionObserver' in window) {
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) { observer.disconnect(); draw(); }
    }, { rootMargin: '600px 0px' });
    observer.observe(container);
  } else draw();
})();
`;
