// Piano rolls as inline SVG: one bar per note, time across, pitch up, a line at every C.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const PX_PER_SECOND = 60;
const ROW = 5;

function svgElement(name, attrs) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function pianoRoll(notes, seconds) {
  const pitches = notes.map((n) => n[0]);
  const lo = Math.min(...pitches, 60) - 2;
  const hi = Math.max(...pitches, 72) + 2;
  const width = Math.max(600, Math.ceil(seconds * PX_PER_SECOND) + 20);
  const height = (hi - lo + 1) * ROW;
  const svg = svgElement("svg", { class: "roll", width, height, viewBox: `0 0 ${width} ${height}` });
  svg.appendChild(svgElement("title", {})).textContent = `piano roll: ${notes.length} notes`;
  for (let p = lo; p <= hi; p++) {
    if (p % 12 !== 0) continue;
    const y = (hi - p) * ROW + ROW / 2;
    svg.appendChild(svgElement("line", { class: "c-line", x1: 0, x2: width, y1: y, y2: y }));
  }
  for (const [pitch, start, end] of notes) {
    svg.appendChild(svgElement("rect", {
      class: "note",
      x: (start * PX_PER_SECOND).toFixed(1),
      y: (hi - pitch) * ROW,
      width: Math.max(1.5, (end - start) * PX_PER_SECOND - 1).toFixed(1),
      height: ROW - 1,
      rx: 1,
    }));
  }
  const head = svgElement("line", { class: "playhead", x1: -10, x2: -10, y1: 0, y2: height });
  svg.appendChild(head);
  return svg;
}

function movePlayhead(svg, seconds) {
  const head = svg.querySelector(".playhead");
  const x = seconds === null ? -10 : seconds * PX_PER_SECOND;
  head.setAttribute("x1", x);
  head.setAttribute("x2", x);
}

window.mgenRoll = { pianoRoll, movePlayhead };
