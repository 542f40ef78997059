// Piano rolls as inline SVG: one bar per note, time across, pitch up, a line at every C.
// Each note is coloured by its track (classes t0..t9, cycling; style.css holds the palette);
// drum hits are short marks on their drum's key.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const PX_PER_SECOND = 60;
const ROW = 5;
const PALETTE = 10;  // track colours in style.css: .t0 .. .t9

function svgElement(name, attrs) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function trackClass(track) {
  return `t${(track || 0) % PALETTE}`;
}

// notes: [[pitch, start s, end s, velocity], ...]; parts (optional): {noteTracks: [track of
// each note], drums: [[note, start, end, velocity, track], ...]}.
function pianoRoll(notes, seconds, parts = {}) {
  const noteTracks = parts.noteTracks || [];
  const drums = parts.drums || [];
  const pitches = notes.map((n) => n[0]).concat(drums.map((d) => d[0]));
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
  notes.forEach(([pitch, start, end], i) => {
    const track = noteTracks[i] || 0;
    svg.appendChild(svgElement("rect", {
      class: `note ${trackClass(track)}`,
      "data-track": track,
      x: (start * PX_PER_SECOND).toFixed(1),
      y: (hi - pitch) * ROW,
      width: Math.max(1.5, (end - start) * PX_PER_SECOND - 1).toFixed(1),
      height: ROW - 1,
      rx: 1,
    }));
  });
  for (const [note, start, , , track] of drums) {
    svg.appendChild(svgElement("rect", {
      class: `note drum ${trackClass(track)}`,
      "data-track": track,
      x: (start * PX_PER_SECOND).toFixed(1),
      y: (hi - note) * ROW,
      width: 3,
      height: ROW - 1,
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

// Dims the notes of the tracks that do not sound (audible: one boolean per track).
function showAudible(svg, audible) {
  for (const rect of svg.querySelectorAll("rect.note")) {
    rect.classList.toggle("muted", audible[Number(rect.dataset.track)] === false);
  }
}

window.mgenRoll = { pianoRoll, movePlayhead, showAudible, trackClass };
