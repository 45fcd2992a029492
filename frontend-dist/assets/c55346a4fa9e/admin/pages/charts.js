// Small line charts of the last hour, drawn as SVG elements (no library,
// no inline style: the colours come from classes in admin.css). Each is a
// <figure> whose caption says the latest values in words, the chart's
// text alternative.
import { formatSeconds } from "./units.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 110;
const PAD = { left: 4, right: 4, top: 16, bottom: 14 };
const HOUR_MS = 3600 * 1000;
// Less than this much history is drawn over this span, not squeezed into
// the right edge of an hour.
const SHORTEST_MS = 60 * 1000;

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text != null) node.textContent = text;
  return node;
}

// `series`: [{label, className, points: [[timeMs, value|null], ...]}];
// `format` writes a value; `caption` is the sentence under the chart.
export function lineChart({ id, title, series, format, caption, now, t }) {
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.id = id;
  const captionId = `${id}-caption`;
  const values = series.flatMap((line) => line.points.map(([, value]) => value)).filter((v) => v != null);
  const top = niceTop(Math.max(0, ...values));
  const span = timeSpan(series, now);
  const start = now - span;
  const x = (at) => PAD.left + ((at - start) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (value) => PAD.top + (1 - value / top) * (HEIGHT - PAD.top - PAD.bottom);

  const drawing = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": captionId, class: "chart-svg",
  });
  drawing.append(
    svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(0), y2: y(0), class: "axis" }),
    svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(top), y2: y(top), class: "grid" }),
    svg("text", { x: PAD.left, y: PAD.top - 4, class: "tick" }, format(top)),
    svg("text", { x: PAD.left, y: HEIGHT - 2, class: "tick" }, t("chartSince", { span: formatSeconds(span / 1000) })),
    svg("text", { x: WIDTH - PAD.right, y: HEIGHT - 2, class: "tick end" }, t("chartNow")),
  );
  for (const line of series) drawing.append(...seriesShapes(line, x, y));

  const heading = document.createElement("h3");
  heading.textContent = title;
  const text = document.createElement("figcaption");
  text.id = captionId;
  text.textContent = caption;
  figure.append(heading, drawing, text);
  return figure;
}

// The last hour, or the time since the oldest sample when that is shorter.
function timeSpan(series, now) {
  const times = series.flatMap((line) => line.points.map(([at]) => at));
  const oldest = Math.min(now, ...times);
  return Math.min(HOUR_MS, Math.max(SHORTEST_MS, now - oldest));
}

// A path broken where a value is missing; a lone point gets a dot, so even
// the first sample shows.
function seriesShapes(line, x, y) {
  const shapes = [];
  let d = "";
  let run = [];
  const flush = () => {
    if (run.length === 1) {
      const [at, value] = run[0];
      shapes.push(svg("circle", { cx: x(at), cy: y(value), r: 2.5, class: `dot ${line.className}` }));
    }
    run = [];
  };
  for (const [at, value] of line.points) {
    if (value == null) {
      flush();
      continue;
    }
    d += `${run.length ? "L" : "M"}${x(at).toFixed(1)} ${y(value).toFixed(1)}`;
    run.push([at, value]);
  }
  flush();
  if (d) shapes.unshift(svg("path", { d, class: `series ${line.className}` }));
  return shapes;
}

// The axis top: the maximum rounded up to 1, 2 or 5 times a power of ten.
function niceTop(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) {
    if (max <= step * power) return step * power;
  }
  return 10 * power;
}
