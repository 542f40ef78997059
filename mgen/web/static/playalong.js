// Play along (call and response), for MIDI models: a phrase played on the on-screen keys or a
// MIDI keyboard (Web MIDI) is sent, once PAUSE_MS pass with no key down, as the `phrase` of a
// stream (POST api/stream); the server reads its tempo from the playing and the model answers
// at that tempo; the answer's own notes play (live.js). window.mgenAlong keeps the phrases.
"use strict";

const PAUSE_MS = 1000;
const LOWEST = 48;  // C3: the on-screen keys span two octaves from here
const KEYS = 25;
const BLACK = new Set([1, 3, 6, 8, 10]);

const along = { notes: [], held: new Map(), t0: null, timer: null, sent: [], inputs: [] };
window.mgenAlong = along;

function nowSeconds() {
  return performance.now() / 1000;
}

function pressKey(pitch, velocity = 90) {
  if ($("along").hidden) return;
  clearTimeout(along.timer);
  const now = nowSeconds();
  if (along.t0 === null) along.t0 = now;
  along.held.set(pitch, { start: now - along.t0, velocity });
  window.mgenSynth.keyOn(pitch, velocity);
  markKey(pitch, true);
}

function releaseKey(pitch) {
  const down = along.held.get(pitch);
  if (!down) return;
  along.held.delete(pitch);
  window.mgenSynth.keyOff(pitch);
  markKey(pitch, false);
  const end = Math.max(nowSeconds() - along.t0, down.start + 0.01);
  along.notes.push([pitch, down.start, end, down.velocity]);
  $("along-info").textContent = `phrase: ${along.notes.length} note(s); the model answers after a pause`;
  if (along.held.size === 0) along.timer = setTimeout(answerPhrase, PAUSE_MS);
}

// The phrase so far, sent; the keys are free for the next one at once.
async function answerPhrase() {
  if (!along.notes.length || along.held.size) return;
  const phrase = along.notes;
  along.notes = [];
  along.t0 = null;
  along.sent.push(phrase);
  const body = { ...settings(), num_samples: 1, primer: "", phrase };
  showError("");
  $("along-info").textContent = `answering a phrase of ${phrase.length} note(s)...`;
  try {
    await window.mgenStream.streamSample(body, true);
    const live = window.mgenLive;
    const bpm = live.phrase ? ` at ${live.phrase.bpm} bpm` : "";
    $("along-info").textContent = `answered ${phrase.length} note(s)${bpm} with ${live.answered} notes; play again`;
  } catch (e) {
    showError(e.message);
    $("along-info").textContent = "";
  }
}

// Web MIDI: every input's note-ons and note-offs play the keys.
function onMidiMessage(event) {
  const [status, note, velocity] = event.data;
  const command = status & 0xf0;
  if (command === 0x90 && velocity > 0) pressKey(note, velocity);
  else if (command === 0x80 || (command === 0x90 && velocity === 0)) releaseKey(note);
}

async function connectMidi() {
  if (!navigator.requestMIDIAccess) {
    $("midi-info").textContent = "this browser has no Web MIDI: play the keys below";
    return;
  }
  try {
    const access = await navigator.requestMIDIAccess();
    const listen = () => {
      along.inputs = [...access.inputs.values()];
      for (const input of along.inputs) input.onmidimessage = onMidiMessage;
      $("midi-info").textContent = along.inputs.length
        ? `listening to ${along.inputs.map((i) => i.name).join(", ")}`
        : "no MIDI keyboard connected: play the keys below";
    };
    access.onstatechange = listen;
    listen();
  } catch (e) {
    $("midi-info").textContent = `MIDI not allowed (${e.message || e}): play the keys below`;
  }
}

function markKey(pitch, down) {
  const key = document.querySelector(`#along-keys [data-pitch="${pitch}"]`);
  if (key) key.classList.toggle("down", down);
}

// Two octaves of keys: a white key per natural, black keys between.
function buildKeys() {
  const box = $("along-keys");
  let white = 0;
  for (let pitch = LOWEST; pitch < LOWEST + KEYS; pitch++) {
    const black = BLACK.has(pitch % 12);
    const key = element("button", black ? "key black" : "key white");
    key.type = "button";
    key.dataset.pitch = pitch;
    key.title = `MIDI ${pitch}`;
    key.style.left = `${(black ? white - 0.3 : white) * 100 / 15}%`;
    if (!black) white += 1;
    key.addEventListener("pointerdown", (e) => { e.preventDefault(); pressKey(pitch); });
    for (const up of ["pointerup", "pointerleave"]) key.addEventListener(up, () => releaseKey(pitch));
    box.appendChild(key);
  }
}

// Play along is offered for MIDI models only (their tokenizers read a played phrase).
function showAlong() {
  const m = state.models.find((x) => x.name === $("model").value);
  $("along").hidden = !(m && String(m.tokenizer).startsWith("midi"));
}

function setUpAlong() {
  buildKeys();
  $("connect-midi").addEventListener("click", connectMidi);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAlong);
else setUpAlong();

window.mgenPlayAlong = { pressKey, releaseKey, onMidiMessage, connectMidi, answerPhrase, showAlong };
